"""Inputs and judgements of the convolution exercises (``Conv2d`` in ``numgan/conv.py``, notebook 10).

Three layer configurations per draw, each with its own sizes (height and
width differ, so that a swap of the two shows): 0 is stride 1 without padding;
1 is stride 2 with padding 1; 2 is stride 2 or 3 without padding, on an image
whose last rows and columns no window reads (their gradient is 0).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compare import PartResult, Wrong, array, close, gradients, part, unchanged
from . import Task

Arrays = dict[str, np.ndarray]
Got = dict[str, Any]

#: the configurations of the forward exercise's parts
FORWARD_PARTS = (("stride 1", (0,)), ("stride 2 and padding", (1, 2)))


def _config(rng: np.random.Generator, i: int) -> tuple[int, int, int, int, int]:
    """``(k, s, p, H, W)`` of configuration ``i`` (see the module docstring)."""
    if i == 0:
        k, s, p = int(rng.integers(2, 4)), 1, 0
        h = int(rng.integers(k + 2, 8))
    elif i == 1:
        k, s, p = int(rng.integers(3, 5)), 2, 1
        h = int(rng.integers(k + 2, 9))
    else:
        k, s, p = 3, int(rng.integers(2, 4)), 0
        h = k + s * int(rng.integers(1, 3)) + int(rng.integers(1, s))    # (H - k) % s != 0: rows left unread
    w = h + int(rng.integers(1, 3))                                        # W != H
    if i == 2:
        w = k + s * int(rng.integers(1, 3)) + int(rng.integers(1, s))
        w = w + s if w == h else w
    return k, s, p, h, w


def _patches(xp: np.ndarray, k: int, s: int) -> np.ndarray:
    """The cache's ``cols``: row ``(n, i, j)`` is the window at ``(s i, s j)`` flattened in ``(c, u, v)`` order."""
    n = xp.shape[0]
    h_out, w_out = (xp.shape[2] - k) // s + 1, (xp.shape[3] - k) // s + 1
    rows = np.empty((n, h_out, w_out, xp.shape[1] * k * k))
    for i in range(h_out):
        for j in range(w_out):
            rows[:, i, j] = xp[:, :, s * i:s * i + k, s * j:s * j + k].reshape(n, -1)
    return rows.reshape(n * h_out * w_out, -1)


def conv_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """For each configuration ``i``: ``conf_i`` = (k, s, p), ``x_i``, ``W_i``, ``b_i``, ``dy_i`` and ``cols_i``."""
    out: dict[str, np.ndarray] = {}
    for i in range(3):
        k, s, p, h, w = _config(rng, i)
        n, c_in, c_out = int(rng.integers(2, 4)), int(rng.integers(2, 4)), int(rng.integers(2, 5))
        x = rng.standard_normal((n, c_in, h, w))
        h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        out[f"conf_{i}"] = np.array([k, s, p])
        out[f"x_{i}"] = x
        out[f"W_{i}"] = rng.standard_normal((c_out, c_in, k, k))
        out[f"b_{i}"] = rng.standard_normal(c_out)
        out[f"dy_{i}"] = rng.standard_normal((n, c_out, h_out, w_out))
        out[f"cols_{i}"] = _patches(np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))), k, s)
    return out


def describe(inputs: Arrays, i: int) -> str:
    """``Conv2d(C_in, C_out, k, stride=s, padding=p) on x (N, C, H, W)`` of configuration ``i``."""
    k, s, p = (int(v) for v in inputs[f"conf_{i}"])
    c_out, c_in = inputs[f"W_{i}"].shape[:2]
    return f"Conv2d({c_in}, {c_out}, {k}, stride={s}, padding={p}) on x of shape {inputs[f'x_{i}'].shape}"


def _judge_conv_forward(inputs: Arrays, got: Got, expected: Arrays) -> list[PartResult]:
    def configs(indices: tuple[int, ...]) -> None:
        for i in indices:
            for tag, dtype, tol in (("64", np.float64, 1e-10), ("32", np.float32, 1e-4)):
                what = f"{describe(inputs, i)} in {np.dtype(dtype).name}"
                close(got, f"y{tag}_{i}", expected[f"y_{i}"], f"{what}: y (forward adds the bias to it)",
                      rtol=tol, atol=tol, dtype=dtype)
                unchanged(got, f"x_after{tag}_{i}", inputs[f"x_{i}"].astype(dtype), f"{what}: the input x")
            what = f"{describe(inputs, i)}: the cache's cols (rows (n, i, j), columns (c, u, v))"
            close(got, f"cols_{i}", inputs[f"cols_{i}"], what, rtol=1e-12, atol=1e-12)
            shape = array(got, f"x_shape_{i}", f"{describe(inputs, i)}: the cache's x.shape")
            if shape.shape != (4,) or tuple(shape) != inputs[f"x_{i}"].shape:
                raise Wrong(f"{describe(inputs, i)}: the cache must be (cols, x.shape), got x.shape "
                            f"{tuple(shape.tolist())}")

    return [part(name, lambda ix=indices: configs(ix)) for name, indices in FORWARD_PARTS]


def _judge_conv_backward(inputs: Arrays, got: Got, expected: Arrays) -> list[PartResult]:
    def dx() -> None:
        for i in range(3):
            gradients(got, {f"dx_{i}": expected[f"dx_{i}"]}, f"Conv2d.backward, {describe(inputs, i)}",
                      names={f"dx_{i}": "dx"})
            if not bool(got.get(f"dx_is_none_without_input_grad_{i}", False)):
                raise Wrong("Conv2d.backward(..., input_grad=False) must return None for dx")

    def grad(key: str, param: str) -> None:
        for i in range(3):
            what = f"Conv2d.backward, {describe(inputs, i)}"
            gradients(got, {f"{key}_{i}": expected[f"{key}_{i}"]}, what, names={f"{key}_{i}": key})
            if not bool(got.get(f"grads_is_out_{i}", False)):
                raise Wrong("Conv2d.backward(..., out=buffers) must write dW and db into out['W'] and out['b'] "
                            "and return out itself as grads")
            gradients(got, {f"{key}_out_{i}": expected[f"{key}_{i}"]}, f"{what}, with out=",
                      names={f"{key}_out_{i}": f"out['{param}']"})
            if not bool(got.get(f"no_grads_without_param_grads_{i}", False)):
                raise Wrong("Conv2d.backward(..., param_grads=False) must return an empty dict {} for grads")

    return [part("dx", dx), part("dW", lambda: grad("dW", "W")), part("db", lambda: grad("db", "b"))]


TASKS = {"conv_forward": Task(conv_inputs, _judge_conv_forward),
         "conv_backward": Task(conv_inputs, _judge_conv_backward)}
