"""References of the penalty exercises: the penalties' values from an input gradient written here, their
gradients with respect to D's parameters by the grader's centred differences of those values.

The input gradient ``g = dD/dx`` of an MLP is the chain of ``W.T`` and the
activations' slopes; with the slopes *frozen* at the current parameters the
same differences give what R1's first sweep alone computes (the terms without
``f''``), so that the second sweep's terms can be judged apart.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from numgan.gradcheck import numerical_gradient

from ..tasks.penalties import pre_activations, unflatten

Slope = Callable[[np.ndarray], np.ndarray]


def leaky_slope(alpha: float) -> Slope:
    """``f'(u)`` of numgan's leaky ReLU: 1 where ``u > 0``, else ``alpha``."""
    return lambda u: np.where(u > 0, 1.0, alpha)


def tanh_slope(u: np.ndarray) -> np.ndarray:
    """``f'(u) = 1 - tanh(u)**2``."""
    return 1 - np.tanh(u) ** 2


def input_gradient(flat: np.ndarray, sizes: list[int], x: np.ndarray, slope: Slope,
                   frozen: list[np.ndarray] | None = None, activation: str = "tanh",
                   alpha: float = 0.2) -> np.ndarray:
    """``g = d(sum of D(x))/dx`` by the chain rule; ``frozen``: use these slopes instead of the current ones."""
    layers = unflatten(flat, sizes)
    slopes = frozen if frozen is not None else [slope(u) for u in pre_activations(flat, sizes, x, activation, alpha)]
    delta = np.ones((x.shape[0], 1))
    for k in range(len(layers) - 1, -1, -1):
        delta = delta @ layers[k][0].T
        if k > 0:
            delta = delta * slopes[k - 1]
    return delta


def _case(inputs: dict[str, np.ndarray], prefix: str) -> tuple[np.ndarray, list[int]]:
    return inputs[f"{prefix}_params"].astype(np.float64), [int(s) for s in inputs[f"{prefix}_sizes"]]


# -- R1 --------------------------------------------------------------------------------------------

def r1_value(g: np.ndarray, gamma: float) -> float:
    """``gamma / 2 * mean_i ||g_i||**2``."""
    return 0.5 * gamma * float(np.mean(np.sum(g * g, axis=1)))


def r1_expected(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    gamma, alpha = float(inputs["gamma"]), float(inputs["alpha"])
    out: dict[str, np.ndarray] = {}
    flat, sizes = _case(inputs, "leaky")
    x = inputs["leaky_x"]
    slope = leaky_slope(alpha)

    def leaky(theta: np.ndarray) -> float:
        return r1_value(input_gradient(theta, sizes, x, slope, activation="leaky_relu", alpha=alpha), gamma)

    out["leaky_value"] = np.asarray(leaky(flat))
    out["leaky_grads"] = numerical_gradient(leaky, flat.copy())

    flat, sizes = _case(inputs, "tanh")
    x = inputs["tanh_x"]
    slopes = [tanh_slope(u) for u in pre_activations(flat, sizes, x, "tanh")]

    def full(theta: np.ndarray) -> float:
        return r1_value(input_gradient(theta, sizes, x, tanh_slope), gamma)

    def first_sweep(theta: np.ndarray) -> float:         # the slopes held at their values: no f'' terms
        return r1_value(input_gradient(theta, sizes, x, tanh_slope, frozen=slopes), gamma)

    out["tanh_value"] = np.asarray(full(flat))
    out["tanh_grads"] = numerical_gradient(full, flat.copy())
    out["tanh_first_sweep_value"] = out["tanh_value"]
    out["tanh_first_sweep_grads"] = numerical_gradient(first_sweep, flat.copy())
    out["tanh_second_sweep_grads"] = out["tanh_grads"] - out["tanh_first_sweep_grads"]
    return out


# -- WGAN-GP -----------------------------------------------------------------------------------------

def wgan_gp_value(g: np.ndarray, weight: float) -> float:
    """``weight * mean_i (||g_i|| - 1)**2``."""
    return weight * float(np.mean((np.sqrt(np.sum(g * g, axis=1)) - 1) ** 2))


def interpolates(inputs: dict[str, np.ndarray]) -> np.ndarray:
    """``x_hat = eps * x_real + (1 - eps) * x_fake``, as ``wgan_gp_penalty`` computes it."""
    eps = inputs["eps"]
    return eps * inputs["x_real"] + (1 - eps) * inputs["x_fake"]


def wgan_gp_expected(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    weight, alpha = float(inputs["weight"]), float(inputs["alpha"])
    x_hat, slope = interpolates(inputs), leaky_slope(alpha)
    out: dict[str, np.ndarray] = {}
    for tag, prefix in (("", "gp"), ("zero_", "gp_zero")):
        flat, sizes = _case(inputs, prefix)

        def value(theta: np.ndarray, sizes: list[int] = sizes) -> float:
            return wgan_gp_value(input_gradient(theta, sizes, x_hat, slope, activation="leaky_relu", alpha=alpha),
                                 weight)

        out[f"{tag}value"] = np.asarray(value(flat))
        out[f"{tag}grads"] = numerical_gradient(value, flat.copy())
    return out


ANSWERS = {"r1_penalty": r1_expected, "wgan_gp": wgan_gp_expected}
