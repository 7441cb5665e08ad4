"""References of the layer exercises: values from the formulas, gradients by the grader's finite differences."""
from __future__ import annotations

from functools import partial
from typing import Any, Callable

import numpy as np

from numgan.gradcheck import numerical_gradient


def dense_forward_expected(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    return {"y": inputs["x"] @ inputs["W"] + inputs["b"]}


def dense_backward_expected(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    x, W, b, dy = (inputs[k].copy() for k in ("x", "W", "b", "dy"))

    def loss(_: np.ndarray) -> float:                     # L = sum(dy * y): dL/dy = dy
        return float(np.sum(dy * (x @ W + b)))

    return {"dx": numerical_gradient(loss, x), "dW": numerical_gradient(loss, W), "db": numerical_gradient(loss, b)}


def _leaky(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, x, alpha * x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):                      # exp(1000) = inf gives 1 / inf = 0: right
        return np.asarray(1 / (1 + np.exp(-x)))


def _input_gradient(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dL/dx of L = sum(dy * f(x)) by finite differences: what backward(dy, cache) must return."""
    x = x.astype(np.float64)
    return numerical_gradient(lambda _: float(np.sum(dy * f(x))), x)


def leaky_relu_expected(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, alpha in enumerate(float(a) for a in inputs["alphas"]):
        out[f"y_{i}"] = _leaky(inputs["x"], alpha)
        out[f"dx_{i}"] = _input_gradient(partial(_leaky, alpha=alpha), inputs["x"], inputs["dy"])
    return out


def sigmoid_expected(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    return {"s": _sigmoid(inputs["x"]), "dx": _input_gradient(_sigmoid, inputs["x_back"], inputs["dy"])}


def tanh_backward_expected(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    return {"dx": _input_gradient(np.tanh, inputs["x"], inputs["dy"])}


ANSWERS = {"dense_forward": dense_forward_expected, "dense_backward": dense_backward_expected,
           "leaky_relu": leaky_relu_expected, "sigmoid": sigmoid_expected, "tanh_backward": tanh_backward_expected}
