"""References of the losses exercises: values from the formulas, gradients by the grader's finite differences."""
from __future__ import annotations

from functools import partial
from typing import Any, Callable

import numpy as np

from numgan.gradcheck import numerical_gradient


def _bce(s: np.ndarray, t: np.ndarray | float) -> float:
    """mean(-t log sigmoid(s) - (1 - t) log(1 - sigmoid(s))) = mean(log(1 + e^s) - t s)."""
    return float(np.mean(np.logaddexp(0, s) - t * s))


def _sce(s: np.ndarray, labels: np.ndarray) -> float:
    """mean(-log softmax(s_n)[y_n]) = mean(logsumexp(s_n) - s_n[y_n]), the row maximum taken out first."""
    top = s.max(axis=1)
    logsumexp = top + np.log(np.exp(s - top[:, None]).sum(axis=1))
    return float(np.mean(logsumexp - s[np.arange(len(labels)), labels]))


def _value_and_gradient(loss: Callable[[np.ndarray], float], s: np.ndarray) -> tuple[float, np.ndarray]:
    s = s.astype(np.float64)
    return loss(s), numerical_gradient(lambda _: loss(s), s)


def bce_with_logits_expected(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    s, t = inputs["logits"], inputs["targets"]
    cases: dict[str, tuple[np.ndarray, np.ndarray | float]] = {
        "array": (s, t), "one": (s, 1.0), "zero": (s, 0.0), "big": (inputs["big"], inputs["big_targets"]),
        "f32": (s, t)}
    out: dict[str, Any] = {}
    for case, (logits, targets) in cases.items():
        out[f"loss_{case}"], out[f"grad_{case}"] = _value_and_gradient(partial(_bce, t=targets), logits)
    return out


def softmax_cross_entropy_expected(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    cases = {"normal": (inputs["logits"], inputs["labels"]), "big": (inputs["big"], inputs["big_labels"]),
             "f32": (inputs["logits"], inputs["labels"])}
    out: dict[str, Any] = {}
    for case, (logits, labels) in cases.items():
        out[f"loss_{case}"], out[f"grad_{case}"] = _value_and_gradient(partial(_sce, labels=labels), logits)
    return out


ANSWERS = {"bce_with_logits": bce_with_logits_expected, "softmax_cross_entropy": softmax_cross_entropy_expected}
