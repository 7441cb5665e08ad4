"""Losses, each returning ``(value, gradient)``.

``value`` is a Python float, the mean over all elements; the gradient has the
shape and dtype of the prediction, ready to be passed to a network's backward.
Derivations: ``docs/backprop.md#binary-cross-entropy-from-logits`` and below.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_in_range, check_labels, check_same_shape, is_real_number
from .layers import stable_sigmoid


def _not_empty(x: np.ndarray, name: str) -> np.ndarray:
    """Raise ``ValueError`` for an array with no element (its mean would be NaN)."""
    if x.size == 0:
        raise ValueError(f"{name} must hold at least one element, got an empty array of shape {x.shape}")
    return x


def _targets_like(targets: np.ndarray | float, logits: np.ndarray, name: str = "targets",
                  probabilities: bool = False, logits_name: str = "logits") -> np.ndarray:
    """Targets as an array of the logits' shape and dtype (a number is broadcast).

    A target is a real number (not a bool or a string) or a floating array of
    the logits' shape; with ``probabilities`` every value must lie in [0, 1]
    (one ``min`` and one ``max`` for an array).
    """
    if not isinstance(targets, np.ndarray):
        if not is_real_number(targets):
            kind = "a number in [0, 1]" if probabilities else "a number"
            raise TypeError(f"{name} must be {kind} or a floating array of the shape of {logits_name} "
                            f"{logits.shape}, got {type(targets).__name__} {targets!r}")
        if probabilities:
            check_in_range(targets, name, 0.0, 1.0)
        return np.full_like(logits, targets)
    targets = as_float_array(targets, name)
    check_same_shape(logits, targets, logits_name, name)
    if probabilities and targets.size:
        low, high = targets.min(), targets.max()
        if not (low >= 0 and high <= 1):   # also False for NaN
            raise ValueError(f"{name} must lie in [0, 1] (probabilities), got values from {low} to {high}")
    return targets.astype(logits.dtype, copy=False)


def bce_with_logits(logits: np.ndarray, targets: np.ndarray | float) -> tuple[float, np.ndarray]:
    """Binary cross-entropy of ``sigmoid(s)`` against ``y``, computed from the logits ``s``.

    Per element::

        l(s, y) = -y log sigmoid(s) - (1 - y) log(1 - sigmoid(s))
                = max(s, 0) - s * y + log1p(exp(-|s|))        (no overflow, exact at |s| = 1000)
        dl/ds   = sigmoid(s) - y

    Returns the mean over all ``n`` elements and ``dL/ds = (sigmoid(s) - y) / n``.
    ``targets`` is an array of the shape of ``logits`` or one number (e.g. 1.0
    for "real"), each in [0, 1]. See ``docs/backprop.md#binary-cross-entropy-from-logits``.
    """
    s = _not_empty(as_float_array(logits, "logits"), "logits")
    y = _targets_like(targets, s, probabilities=True)
    ### BEGIN SOLUTION
    losses = np.maximum(s, 0) - s * y + np.log1p(np.exp(-np.abs(s)))
    n = s.size
    return float(losses.mean()), (stable_sigmoid(s) - y) / n
    ### END SOLUTION


def mse(pred: np.ndarray, target: np.ndarray | float) -> tuple[float, np.ndarray]:
    """Mean squared error ``L = mean((p - t)**2)``; ``dL/dp = 2 (p - t) / n``.

    ``target`` is an array of the shape of ``pred`` or one number
    (``docs/backprop.md#mean-squared-error``).
    """
    p = _not_empty(as_float_array(pred, "pred"), "pred")
    t = _targets_like(target, p, "target", logits_name="pred")
    diff = p - t
    return float(np.mean(diff * diff)), (2 / p.size) * diff


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so that ``exp`` never overflows."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Cross-entropy of ``softmax(logits)`` against integer class ``labels``.

    ``logits`` (N, C), ``labels`` (N,) integers in ``[0, C)``::

        L = -(1/N) sum_i log softmax(s_i)[y_i]
          = (1/N) sum_i (logsumexp(s_i) - s_i[y_i])
        dL/ds_i = (softmax(s_i) - onehot(y_i)) / N

    The gradient uses the whole softmax Jacobian, which collapses to this form
    (``docs/backprop.md#softmax-cross-entropy``).
    """
    s = as_float_array(logits, "logits")
    if s.ndim != 2:
        raise ValueError(f"logits must be 2-D with shape (batch, classes), got shape {s.shape}")
    _not_empty(s, "logits")
    labels = check_labels(np.asarray(labels), s.shape[0], s.shape[1])
    ### BEGIN SOLUTION
    n = s.shape[0]
    rows = np.arange(n)
    z = s - s.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(z).sum(axis=1))
    value = float(np.mean(log_sum - z[rows, labels]))
    grad = softmax(s)
    grad[rows, labels] -= 1
    return value, grad / n
    ### END SOLUTION
