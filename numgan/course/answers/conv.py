"""References of the convolution exercises: the forward from the formula, gradients by finite differences."""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from numgan.gradcheck import numerical_gradient


def _conv_reference(x: np.ndarray, W: np.ndarray, b: np.ndarray, s: int, p: int) -> np.ndarray:
    """y[n, o, i, j] = b[o] + sum_{c,u,v} W[o, c, u, v] xp[n, c, s i + u, s j + v], the formula as one einsum."""
    k = W.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    windows = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::s, ::s]     # (N, C, H_out, W_out, k, k)
    return np.einsum("ncijuv,ocuv->noij", windows, W) + b.reshape(1, -1, 1, 1)


def _config(inputs: dict[str, np.ndarray], i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    _, s, p = (int(v) for v in inputs[f"conf_{i}"])
    return inputs[f"x_{i}"].copy(), inputs[f"W_{i}"].copy(), inputs[f"b_{i}"].copy(), s, p


def conv_forward_expected(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    out = {}
    for i in range(3):
        x, W, b, s, p = _config(inputs, i)
        out[f"y_{i}"] = _conv_reference(x, W, b, s, p)
    return out


def conv_backward_expected(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    out = {}
    for i in range(3):
        x, W, b, s, p = _config(inputs, i)
        dy = inputs[f"dy_{i}"]

        def loss(_: np.ndarray) -> float:                 # L = sum(dy * y): dL/dy = dy
            return float(np.sum(dy * _conv_reference(x, W, b, s, p)))

        out[f"dx_{i}"] = numerical_gradient(loss, x)
        out[f"dW_{i}"] = numerical_gradient(loss, W)
        out[f"db_{i}"] = numerical_gradient(loss, b)
    return out


ANSWERS = {"conv_forward": conv_forward_expected, "conv_backward": conv_backward_expected}
