"""Probes of the penalty exercises: R1's double backprop and WGAN-GP's ``dP/dg`` (the student's ``numgan.penalties``).

Each builds a small float64 discriminator (an MLP with leaky ReLU or tanh
between its Dense layers) from the inputs' sizes and flat parameters, and
calls ``r1_penalty`` or ``wgan_gp_penalty`` on fixed inputs.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._calls import as_number, pair
from ._parts import run_parts


def _discriminator(inputs: dict[str, np.ndarray], prefix: str, activation: str) -> Any:
    from numgan.network import mlp

    D = mlp([int(s) for s in inputs[f"{prefix}_sizes"]], activation=activation,
            alpha=float(inputs.get("alpha", 0.2)), dtype=np.float64, seed=0)
    D.flat_params[...] = inputs[f"{prefix}_params"]
    return D


def _flat(grads: Any, D: Any, what: str) -> np.ndarray:
    """The flat vector of ``grads`` (a ``FlatParams`` laid out like ``D.params``), copied."""
    flat = getattr(grads, "flat", None)
    if not isinstance(flat, np.ndarray) or flat.ndim != 1 or flat.size != D.n_params:
        raise TypeError(f"{what} must be a FlatParams laid out like D.params ({D.n_params} numbers, e.g. "
                        f"D.params.zeros_like()), got {type(grads).__name__}")
    return flat.copy()


def _r1(D: Any, inputs: dict[str, np.ndarray], prefix: str) -> tuple[np.ndarray, np.ndarray]:
    from numgan.penalties import r1_penalty

    value, grads = pair(r1_penalty(D, inputs[f"{prefix}_x"].copy(), float(inputs["gamma"])), "r1_penalty")
    return as_number(value, "r1_penalty's value"), _flat(grads, D, "r1_penalty's grads")


def _no_second_derivative(cache: Any) -> None:
    """``f'' = 0`` ("None: zero, skip it"), put on an activation so that sweep 1 alone contributes."""
    return None


def _r1_tanh(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["tanh_value"], out["tanh_grads"] = _r1(_discriminator(inputs, "tanh", "tanh"), inputs, "tanh")
    # the same D with f'' reported as zero: what sweep 1 alone gives, so that the f'' terms can be judged apart
    D = _discriminator(inputs, "tanh", "tanh")
    for layer in D.layers:
        if not layer.params:
            layer.second_derivative = _no_second_derivative
    out["tanh_first_sweep_value"], out["tanh_first_sweep_grads"] = _r1(D, inputs, "tanh")
    return out


def _r1_leaky(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    value, grads = _r1(_discriminator(inputs, "leaky", "leaky_relu"), inputs, "leaky")
    return {"leaky_value": value, "leaky_grads": grads}


def r1_penalty(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, Any]:
    """R1 on a leaky-ReLU D (sweep 1 alone) and on a tanh D (both sweeps; and with f'' said to be zero)."""
    return run_parts([("leaky_", lambda: _r1_leaky(inputs)), ("tanh_", lambda: _r1_tanh(inputs))])


def wgan_gp(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, Any]:
    """WGAN-GP with fixed ``eps`` on a leaky-ReLU D, and on the same D with its last weights zero (``g = 0``)."""
    from numgan.penalties import wgan_gp_penalty

    out: dict[str, Any] = {}
    for tag, prefix in (("", "gp"), ("zero_", "gp_zero")):
        D = _discriminator(inputs, prefix, "leaky_relu")
        with np.errstate(all="ignore"):                  # 0/0 at g = 0 would warn: the result is judged
            value, grads = pair(wgan_gp_penalty(D, inputs["x_real"].copy(), inputs["x_fake"].copy(),
                                                inputs["eps"].copy(), float(inputs["weight"])), "wgan_gp_penalty")
        out[f"{tag}value"] = as_number(value, "wgan_gp_penalty's value")
        out[f"{tag}grads"] = _flat(grads, D, "wgan_gp_penalty's grads")
    return out


PROBES = {"r1_penalty": r1_penalty, "wgan_gp": wgan_gp}
