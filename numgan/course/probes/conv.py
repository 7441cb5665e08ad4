"""Probes of the convolution exercises: ``Conv2d.forward`` and ``Conv2d.backward`` (the student's ``numgan.conv``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ._calls import as_array, pair


def _conv(inputs: dict[str, np.ndarray], i: int, dtype: Any) -> Any:
    from numgan.conv import Conv2d

    W = inputs[f"W_{i}"]
    k, s, p = (int(v) for v in inputs[f"conf_{i}"])
    layer = Conv2d(W.shape[1], W.shape[0], k, stride=s, padding=p, dtype=dtype, rng=0)
    layer.params["W"][...] = W
    layer.params["b"][...] = inputs[f"b_{i}"]
    return layer


def conv_forward(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, np.ndarray]:
    """Conv2d.forward in float64 and float32 on each configuration; the cache (cols, x.shape) in float64."""
    out = {}
    for i in range(3):
        for tag, dtype in (("64", np.float64), ("32", np.float32)):
            x = inputs[f"x_{i}"].astype(dtype)
            y, cache = pair(_conv(inputs, i, dtype).forward(x), "Conv2d.forward")
            out[f"y{tag}_{i}"] = as_array(y, "Conv2d.forward's y")
            out[f"x_after{tag}_{i}"] = x
            if tag == "64":
                cols, x_shape = pair(cache, "Conv2d.forward's cache (cols, x.shape)")
                out[f"cols_{i}"] = as_array(cols, "the cache's cols")
                out[f"x_shape_{i}"] = np.array([int(v) for v in x_shape])
    return out


def conv_backward(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, np.ndarray]:
    """Conv2d.backward in float64 on the cache (cols, x.shape) of each configuration, with the speed options."""
    out: dict[str, np.ndarray] = {}
    for i in range(3):
        layer = _conv(inputs, i, np.float64)
        dy, x_shape = inputs[f"dy_{i}"], tuple(int(v) for v in inputs[f"x_{i}"].shape)
        cols = inputs[f"cols_{i}"]
        dx, grads = pair(layer.backward(dy.copy(), (cols.copy(), x_shape)), "Conv2d.backward")
        out[f"dx_{i}"] = as_array(dx, "dx")
        out[f"dW_{i}"] = as_array(grads["W"], "grads['W']")
        out[f"db_{i}"] = as_array(grads["b"], "grads['b']")
        buffers = {"W": np.full_like(layer.params["W"], np.nan), "b": np.full_like(layer.params["b"], np.nan)}
        dx2, grads2 = pair(layer.backward(dy.copy(), (cols.copy(), x_shape), out=buffers, input_grad=False),
                           "Conv2d.backward")
        out[f"dx_is_none_without_input_grad_{i}"] = np.array(dx2 is None)
        out[f"grads_is_out_{i}"] = np.array(grads2 is buffers)
        out[f"dW_out_{i}"], out[f"db_out_{i}"] = buffers["W"], buffers["b"]
        _, grads3 = pair(layer.backward(dy.copy(), (cols.copy(), x_shape), param_grads=False), "Conv2d.backward")
        out[f"no_grads_without_param_grads_{i}"] = np.array(isinstance(grads3, dict) and not grads3)
    return out


PROBES = {"conv_forward": conv_forward, "conv_backward": conv_backward}
