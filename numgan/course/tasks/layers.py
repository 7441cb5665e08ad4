"""Inputs and judgements of the layer exercises."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compare import PartResult, Wrong, array, close, gradients, part, unchanged
from . import Task

Arrays = dict[str, np.ndarray]     # the inputs, or the expected outputs
Got = dict[str, Any]               # what the probe returned (anything)


def _dense_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n, d_in, d_out = (int(v) for v in rng.integers(3, 8, size=3))
    return {"x": rng.standard_normal((n, d_in)), "W": rng.standard_normal((d_in, d_out)),
            "b": rng.standard_normal(d_out), "dy": rng.standard_normal((n, d_out))}


def _judge_dense_forward(inputs: Arrays, got: Got, expected: Arrays) -> list[PartResult]:
    def forward() -> None:
        for tag, dtype, tol in (("64", np.float64, 1e-10), ("32", np.float32, 1e-5)):
            what = f"Dense.forward(x) in {np.dtype(dtype).name}"
            close(got, f"y{tag}", expected["y"], f"{what}: y", rtol=tol, atol=tol, dtype=dtype)
            unchanged(got, f"x_after{tag}", inputs["x"].astype(dtype), f"{what}: the input x")
            close(got, f"cache{tag}", inputs["x"].astype(dtype), f"{what}: the cache (it must be x)", rtol=0, atol=0)

    return [part("forward", forward)]


def _judge_dense_backward(inputs: Arrays, got: Got, expected: Arrays) -> list[PartResult]:
    def dx() -> None:
        gradients(got, {"dx": expected["dx"]}, "Dense.backward")
        if not bool(got.get("dx_is_none_without_input_grad", False)):
            raise Wrong("Dense.backward(..., input_grad=False) must return None for dx")

    def dW_db() -> None:
        gradients(got, {"dW": expected["dW"], "db": expected["db"]}, "Dense.backward")
        if not bool(got.get("grads_is_out", False)):
            raise Wrong("Dense.backward(..., out=buffers) must write dW and db into out['W'] and out['b'] and "
                        "return out itself as grads")
        gradients(got, {"dW_out": expected["dW"], "db_out": expected["db"]}, "Dense.backward with out=",
                  names={"dW_out": "out['W']", "db_out": "out['b']"})
        if not bool(got.get("no_grads_without_param_grads", False)):
            raise Wrong("Dense.backward(..., param_grads=False) must return an empty dict {} for grads")

    return [part("dx", dx), part("dW and db", dW_db)]


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal-looking numbers at least 0.05 from 0 (where the kink of a leaky ReLU is)."""
    return rng.choice([-1.0, 1.0], size=shape) * (0.05 + np.abs(rng.standard_normal(shape)))


def _shape(rng: np.random.Generator) -> tuple[int, int]:
    n, d = (int(v) for v in rng.integers(3, 8, size=2))
    return n, d


def _leaky_relu_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    shape = _shape(rng)
    alphas = np.array([0.0, 0.2, rng.uniform(0.01, 0.99)])
    x = _away_from_zero(rng, shape)
    return {"alphas": alphas, "x": x, "x2": _away_from_zero(rng, shape), "dy": rng.standard_normal(shape),
            "slopes": np.stack([np.where(x > 0, 1.0, a) for a in alphas])}   # the cache forward returns


def _dtype(got: dict[str, Any], key: str, dtype: type, what: str) -> None:
    value = array(got, key, what)
    if value.dtype != np.dtype(dtype):
        raise Wrong(f"{what} must have dtype {np.dtype(dtype).name} (the input's), got {value.dtype.name}")


def _no_grads(got: dict[str, Any], key: str, what: str) -> None:
    if not bool(got.get(key, False)):
        raise Wrong(f"{what} must return an empty dict {{}} as grads (the layer has no parameters)")


def _judge_leaky_relu(inputs: Arrays, got: Got, expected: Arrays) -> list[PartResult]:
    alphas = [float(a) for a in inputs["alphas"]]

    def forward() -> None:
        for i, alpha in enumerate(alphas):
            for tag, dtype, tol in (("64", np.float64, 1e-12), ("32", np.float32, 1e-6)):
                what = f"LeakyReLU({alpha:.3g}).forward(x) in {np.dtype(dtype).name}"
                close(got, f"y{tag}_{i}", expected[f"y_{i}"], f"{what}: y", rtol=tol, atol=tol, dtype=dtype)
                unchanged(got, f"x_after{tag}_{i}", inputs["x"].astype(dtype), f"{what}: the input x")
                close(got, f"cache{tag}_{i}", inputs["slopes"][i], f"{what}: the cache (the slope, 1 or alpha)",
                      rtol=tol, atol=tol)

    def backward() -> None:
        for i, alpha in enumerate(alphas):
            what = f"LeakyReLU({alpha:.3g}).backward(dy, cache) (two other forwards ran in between)"
            gradients(got, {f"dx_{i}": expected[f"dx_{i}"]}, what, names={f"dx_{i}": "dx"})
            _no_grads(got, f"no_grads_{i}", "LeakyReLU.backward")

    return [part("forward", forward), part("backward", backward)]


def _sigmoid_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    shape = _shape(rng)
    x = rng.uniform(-40, 40, size=shape)
    extremes = [1000.0, -1000.0, rng.uniform(100, 999), -rng.uniform(100, 999), 0.0]
    x.flat[rng.choice(x.size, size=len(extremes), replace=False)] = extremes
    x_back = 3 * rng.standard_normal(shape)
    return {"x": x, "x_back": x_back, "y_back": 1 / (1 + np.exp(-x_back)), "dy": rng.standard_normal(shape)}


def _judge_sigmoid(inputs: Arrays, got: Got, expected: Arrays) -> list[PartResult]:
    def values() -> None:
        for tag, dtype, tol in (("64", np.float64, 1e-12), ("32", np.float32, 1e-6)):
            x = inputs["x"].astype(dtype)
            for key, name in (("s", "stable_sigmoid(x)"), ("y", "Sigmoid.forward(x)")):
                what = f"{name} in {np.dtype(dtype).name}"
                if bool(got.get(f"{key}_overflow{tag}", True)):
                    raise Wrong(f"{what} overflows (or divides by 0) for x from {x.min():.4g} to {x.max():.4g}: "
                                f"exp must never see a large positive number (np.where computes both branches)")
                close(got, f"{key}{tag}", expected["s"], what, rtol=tol, atol=tol, dtype=dtype)
            close(got, f"cache{tag}", expected["s"], f"Sigmoid.forward(x)'s cache in {np.dtype(dtype).name} "
                  f"(it must be y)", rtol=tol, atol=tol)
            unchanged(got, f"x_after{tag}", x, f"Sigmoid.forward(x) in {np.dtype(dtype).name}: the input x")

    def backward() -> None:
        for tag, dtype, tol in (("64", np.float64, 1e-6), ("32", np.float32, 1e-5)):
            what = f"Sigmoid.backward(dy, y) in {np.dtype(dtype).name}"
            gradients(got, {f"dx{tag}": expected["dx"]}, what, tol, names={f"dx{tag}": "dx"})
            _dtype(got, f"dx{tag}", dtype, f"{what}: dx")
            _no_grads(got, f"no_grads{tag}", "Sigmoid.backward")

    return [part("stable values", values), part("backward", backward)]


def _tanh_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    shape = _shape(rng)
    x = 1.5 * rng.standard_normal(shape)
    return {"x": x, "y": np.tanh(x), "dy": rng.standard_normal(shape)}


def _judge_tanh_backward(inputs: Arrays, got: Got, expected: Arrays) -> list[PartResult]:
    def backward() -> None:
        for tag, dtype, tol in (("64", np.float64, 1e-6), ("32", np.float32, 1e-5)):
            what = f"Tanh.backward(dy, y) in {np.dtype(dtype).name}"
            gradients(got, {f"dx{tag}": expected["dx"]}, what, tol, names={f"dx{tag}": "dx"})
            _dtype(got, f"dx{tag}", dtype, f"{what}: dx")
            _no_grads(got, f"no_grads{tag}", "Tanh.backward")

    return [part("backward", backward)]


TASKS = {"dense_forward": Task(_dense_inputs, _judge_dense_forward),
         "dense_backward": Task(_dense_inputs, _judge_dense_backward),
         "leaky_relu": Task(_leaky_relu_inputs, _judge_leaky_relu),
         "sigmoid": Task(_sigmoid_inputs, _judge_sigmoid),
         "tanh_backward": Task(_tanh_inputs, _judge_tanh_backward)}
