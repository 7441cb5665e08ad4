"""Probes of the layer exercises: ``Dense``, ``LeakyReLU``, ``Sigmoid``, ``Tanh`` (the student's ``numgan.layers``)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._calls import as_array, pair


def _dense(inputs: dict[str, np.ndarray], dtype: Any) -> Any:
    from numgan.layers import Dense

    W = inputs["W"]
    layer = Dense(W.shape[0], W.shape[1], dtype=dtype, rng=0)
    layer.params["W"][...] = W
    layer.params["b"][...] = inputs["b"]
    return layer


def dense_forward(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, np.ndarray]:
    out = {}
    for tag, dtype in (("64", np.float64), ("32", np.float32)):
        layer = _dense(inputs, dtype)
        x = inputs["x"].astype(dtype)
        y, cache = pair(layer.forward(x), "Dense.forward")
        out[f"y{tag}"] = as_array(y, "Dense.forward's y")
        out[f"x_after{tag}"] = x
        out[f"cache{tag}"] = as_array(cache, "Dense.forward's cache (the input x)")
    return out


def dense_backward(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, np.ndarray]:
    x, dy = inputs["x"], inputs["dy"]
    layer = _dense(inputs, np.float64)
    dx, grads = pair(layer.backward(dy.copy(), x.copy()), "Dense.backward")
    out = {"dx": as_array(dx, "dx"), "dW": as_array(grads["W"], "grads['W']"), "db": as_array(grads["b"], "grads['b']")}
    buffers = {"W": np.full_like(layer.params["W"], np.nan), "b": np.full_like(layer.params["b"], np.nan)}
    dx2, grads2 = pair(layer.backward(dy.copy(), x.copy(), out=buffers, input_grad=False), "Dense.backward")
    out["dx_is_none_without_input_grad"] = np.array(dx2 is None)
    out["grads_is_out"] = np.array(grads2 is buffers)
    out["dW_out"], out["db_out"] = buffers["W"], buffers["b"]
    _, grads3 = pair(layer.backward(dy.copy(), x.copy(), param_grads=False), "Dense.backward")
    out["no_grads_without_param_grads"] = np.array(isinstance(grads3, dict) and not grads3)
    return out


def watched(call: Callable[[], Any]) -> tuple[Any, bool]:
    """``call()`` with NumPy's overflow, divide and invalid errors raised; ``(result, whether one was)``.

    On such an error the call is repeated with them silenced, so that its
    values can still be judged (an underflow to 0 is fine and not counted).
    """
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            return call(), False
    except FloatingPointError:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return call(), True


def _no_grads(grads: Any) -> np.ndarray:
    return np.array(isinstance(grads, dict) and not grads)


def leaky_relu(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, np.ndarray]:
    """Forward in float64 and float32 for each alpha; backward on the formula's slope after two other forwards."""
    from numgan.layers import LeakyReLU

    out = {}
    for i, alpha in enumerate(inputs["alphas"]):
        for tag, dtype in (("64", np.float64), ("32", np.float32)):
            x = inputs["x"].astype(dtype)
            y, cache = pair(LeakyReLU(float(alpha)).forward(x), "LeakyReLU.forward")
            out[f"y{tag}_{i}"] = as_array(y, "LeakyReLU.forward's y")
            out[f"x_after{tag}_{i}"] = x
            out[f"cache{tag}_{i}"] = as_array(cache, "LeakyReLU.forward's cache (the slope)")
        layer = LeakyReLU(float(alpha))
        layer.forward(inputs["x"].copy())             # two forwards before the backward of the first:
        layer.forward(inputs["x2"].copy())            # backward must read the cache, not the layer
        dx, grads = pair(layer.backward(inputs["dy"].copy(), inputs["slopes"][i].copy()), "LeakyReLU.backward")
        out[f"dx_{i}"] = as_array(dx, "LeakyReLU.backward's dx")
        out[f"no_grads_{i}"] = _no_grads(grads)
    return out


def sigmoid(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, np.ndarray]:
    """stable_sigmoid and Sigmoid.forward on x up to |x| = 1000 (overflow noted); backward on the cache y."""
    from numgan.layers import Sigmoid, stable_sigmoid

    out = {}
    for tag, dtype in (("64", np.float64), ("32", np.float32)):
        x = inputs["x"].astype(dtype)
        y, overflow = watched(lambda: stable_sigmoid(x.copy()))
        out[f"s{tag}"], out[f"s_overflow{tag}"] = as_array(y, "stable_sigmoid(x)"), np.array(overflow)
        (y, cache), overflow = watched(lambda: pair(Sigmoid().forward(x), "Sigmoid.forward"))
        out[f"y{tag}"], out[f"y_overflow{tag}"] = as_array(y, "Sigmoid.forward's y"), np.array(overflow)
        out[f"cache{tag}"], out[f"x_after{tag}"] = as_array(cache, "Sigmoid.forward's cache (y)"), x
        layer = Sigmoid()
        layer.forward(-inputs["x_back"].astype(dtype))   # another forward first: backward must read the cache
        dx, grads = pair(layer.backward(inputs["dy"].astype(dtype), inputs["y_back"].astype(dtype)),
                         "Sigmoid.backward")
        out[f"dx{tag}"], out[f"no_grads{tag}"] = as_array(dx, "Sigmoid.backward's dx"), _no_grads(grads)
    return out


def tanh_backward(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, np.ndarray]:
    """Tanh.backward on the cache y = tanh(x), in float64 and float32, after a forward on other data."""
    from numgan.layers import Tanh

    out = {}
    for tag, dtype in (("64", np.float64), ("32", np.float32)):
        layer = Tanh()
        layer.forward(-inputs["x"].astype(dtype))
        dx, grads = pair(layer.backward(inputs["dy"].astype(dtype), inputs["y"].astype(dtype)), "Tanh.backward")
        out[f"dx{tag}"], out[f"no_grads{tag}"] = as_array(dx, "Tanh.backward's dx"), _no_grads(grads)
    return out


PROBES = {"dense_forward": dense_forward, "dense_backward": dense_backward, "leaky_relu": leaky_relu,
          "sigmoid": sigmoid, "tanh_backward": tanh_backward}
