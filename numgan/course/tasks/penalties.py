"""Inputs and judgements of the penalty exercises: R1's double backprop and WGAN-GP's ``dP/dg``.

A leaky-ReLU network is piecewise linear: its input gradient jumps where a
pre-activation crosses 0, and so does the penalty. The inputs are drawn so that
every pre-activation is at least ``MARGIN`` away from 0, far beyond the
grader's finite-difference step, so that the reference differences never
straddle a kink.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compare import PartResult, Wrong, close, gradients, part
from . import Task
from ._parts import flat_gradients, raised

MARGIN = 1e-2


def unflatten(flat: np.ndarray, sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(W, b), ...]`` of an MLP from its flat parameters (``Sequential.params``: ``W`` then ``b`` per layer)."""
    layers, start = [], 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers.append((flat[start:start + a * b].reshape(a, b), flat[start + a * b:start + a * b + b]))
        start += a * b + b
    return layers


def pre_activations(flat: np.ndarray, sizes: list[int], x: np.ndarray, activation: str,
                    alpha: float = 0.2) -> list[np.ndarray]:
    """The inputs ``u_k`` of the hidden activations (``"tanh"`` or ``"leaky_relu"``), first hidden layer first."""
    us, h = [], x
    for W, b in unflatten(flat, sizes)[:-1]:
        u = h @ W + b
        us.append(u)
        h = np.tanh(u) if activation == "tanh" else np.where(u > 0, u, alpha * u)
    return us


def _mlp(rng: np.random.Generator, sizes: list[int]) -> np.ndarray:
    chunks = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        chunks += [rng.standard_normal(a * b) / np.sqrt(a), 0.3 * rng.standard_normal(b)]
    return np.concatenate(chunks)


def _sizes(rng: np.random.Generator) -> list[int]:
    d_in, h1, h2 = (int(v) for v in rng.integers(2, 6, size=3))
    return [d_in, h1 + 1, h2 + 1, 1]


def _leaky_case(rng: np.random.Generator, alpha: float, rows: int,
                make_x: Any) -> tuple[list[int], np.ndarray, Any]:
    """Sizes, parameters and inputs of a leaky-ReLU D whose pre-activations all keep ``MARGIN`` from 0."""
    for _ in range(1000):
        sizes = _sizes(rng)
        flat, x = _mlp(rng, sizes), make_x(rows, sizes[0])
        points = x if isinstance(x, np.ndarray) else x[0]
        if min(float(np.abs(u).min()) for u in pre_activations(flat, sizes, points, "leaky_relu", alpha)) > MARGIN:
            return sizes, flat, x
    raise RuntimeError("no leaky-ReLU discriminator away from its kinks was found")   # never in practice


def _r1_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    alpha = float(rng.choice([0.1, 0.2, 0.3]))
    rows = int(rng.integers(3, 7))
    sizes, flat, x = _leaky_case(rng, alpha, rows, lambda n, d: rng.standard_normal((n, d)))
    t_sizes = _sizes(rng)
    return {"gamma": np.asarray(round(float(rng.uniform(1, 10)), 2)), "alpha": np.asarray(alpha),
            "leaky_sizes": np.array(sizes), "leaky_params": flat, "leaky_x": x,
            "tanh_sizes": np.array(t_sizes), "tanh_params": _mlp(rng, t_sizes),
            "tanh_x": rng.standard_normal((int(rng.integers(3, 7)), t_sizes[0]))}


def _judge_r1(inputs: dict[str, np.ndarray], got: dict[str, Any], expected: dict[str, np.ndarray]) -> list[PartResult]:
    def first() -> None:
        what = "r1_penalty on a leaky-ReLU D (f'' = 0: sweep 1 alone)"
        raised(got, "leaky_", what)
        close(got, "leaky_value", expected["leaky_value"], f"{what}: the value", rtol=1e-8)
        flat_gradients(got, "leaky_grads", expected["leaky_grads"], _sizes_of(inputs, "leaky"), what, "dP/dD")

    def second() -> None:
        what = "r1_penalty on a tanh D"
        raised(got, "tanh_", what)
        close(got, "tanh_value", expected["tanh_value"], f"{what}: the value", rtol=1e-8)
        try:
            flat_gradients(got, "tanh_grads", expected["tanh_grads"], _sizes_of(inputs, "tanh"), what, "dP/dD")
        except Wrong:
            # sweep 1 may be what is wrong (judged in the other part): then judge the f'' terms alone, what
            # the gradients gain when tanh's second_derivative is not reported as zero
            mine = _difference(got, "tanh_grads", "tanh_first_sweep_grads")
            if mine is None:
                raise
            try:
                flat_gradients({"f2": mine}, "f2", expected["tanh_second_sweep_grads"], _sizes_of(inputs, "tanh"),
                               f"{what}: the f'' terms (sweep 2)", "dP/dD (f'')")
            except Wrong as terms:
                raise Wrong(f"{terms} (sweep 2, or the adjoints a * delta * f'' that sweep 1 injects)",
                            terms.report) from None

    return [part("sweep 1 (leaky ReLU D)", first), part("sweep 2, f'' terms (tanh D)", second)]


def _sizes_of(inputs: dict[str, np.ndarray], prefix: str) -> list[int]:
    return [int(v) for v in inputs[f"{prefix}_sizes"]]


def _difference(got: dict[str, Any], a: str, b: str) -> np.ndarray | None:
    x, y = got.get(a), got.get(b)
    if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.shape == y.shape
            and x.dtype.kind == "f" and y.dtype.kind == "f"):
        return None
    with np.errstate(invalid="ignore", over="ignore"):
        return x.astype(np.float64) - y.astype(np.float64)


def _wgan_gp_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    alpha = float(rng.choice([0.1, 0.2, 0.3]))
    rows = int(rng.integers(3, 7))

    def points(n: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        x_real, x_fake = rng.standard_normal((n, d)), rng.standard_normal((n, d))
        eps = rng.uniform(size=(n, 1))
        return eps * x_real + (1 - eps) * x_fake, x_real, x_fake, eps

    sizes, flat, (_, x_real, x_fake, eps) = _leaky_case(rng, alpha, rows, points)
    zero = flat.copy()
    zero[len(zero) - 1 - sizes[-2]:len(zero) - 1] = 0            # the last layer's W (sizes[-2] by 1): g = 0
    return {"weight": np.asarray(round(float(rng.uniform(1, 10)), 2)), "alpha": np.asarray(alpha),
            "gp_sizes": np.array(sizes), "gp_params": flat, "gp_zero_sizes": np.array(sizes), "gp_zero_params": zero,
            "x_real": x_real, "x_fake": x_fake, "eps": eps}


def _judge_wgan_gp(inputs: dict[str, np.ndarray], got: dict[str, Any],
                   expected: dict[str, np.ndarray]) -> list[PartResult]:
    def dp_dg() -> None:
        what = "wgan_gp_penalty with fixed eps"
        close(got, "value", expected["value"], f"{what}: the value P", rtol=1e-8)
        flat_gradients(got, "grads", expected["grads"], _sizes_of(inputs, "gp"), what, "dP/dD")
        what = "wgan_gp_penalty where every g_i = 0 (D's last weights are 0)"
        close(got, "zero_value", expected["zero_value"], f"{what}: the value P", rtol=1e-8)
        try:
            flat_gradients(got, "zero_grads", expected["zero_grads"], _sizes_of(inputs, "gp_zero"), what, "dP/dD")
        except Wrong as err:
            raise Wrong(f"{err}: at g_i = 0 use dP/dg_i = 0 (no division by a zero norm)", err.report) from None

    return [part("dP/dg", dp_dg)]


TASKS = {"r1_penalty": Task(_r1_inputs, _judge_r1), "wgan_gp": Task(_wgan_gp_inputs, _judge_wgan_gp)}
