"""Weight initialisers: He (Kaiming) and Glorot (Xavier), normal and uniform.

A weight matrix ``W`` of shape ``(fan_in, fan_out)`` is drawn so that the
variance of the activations stays roughly constant from layer to layer:

* He (Kaiming), for (leaky) ReLU nets: ``Var[W] = gain**2 / fan_in`` with
  ``gain = sqrt(2 / (1 + alpha**2))`` where ``alpha`` is the leaky slope
  (He et al., 2015, "Delving deep into rectifiers").
* Glorot (Xavier), for tanh and sigmoid nets: ``Var[W] = 2 / (fan_in + fan_out)``
  (Glorot and Bengio, 2010).

The normal variants draw ``N(0, std**2)``; the uniform ones draw
``U(-limit, limit)`` with ``limit = sqrt(3) * std``, which has the same variance.
Biases start at zero. Numbers are drawn in float64 and then cast, so a float32
and a float64 network built from the same seed hold the same weights up to
rounding. See ``docs/backprop.md#initialisation``.
"""
from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ._checks import check_choice, check_int

INITS = ("he", "he_normal", "he_uniform", "glorot", "glorot_normal", "glorot_uniform")


def he_std(fan_in: float, alpha: float = 0.0) -> float:
    """Standard deviation of He initialisation for a (leaky) ReLU of slope ``alpha``."""
    return math.sqrt(2.0 / ((1.0 + alpha**2) * fan_in))


def glorot_std(fan_in: float, fan_out: float) -> float:
    """Standard deviation of Glorot initialisation."""
    return math.sqrt(2.0 / (fan_in + fan_out))


def init_weight(name: str, fan_in: int, fan_out: int, rng: np.random.Generator,
                dtype: npt.DTypeLike = np.float32, alpha: float = 0.0) -> np.ndarray:
    """Draw a ``(fan_in, fan_out)`` weight matrix with the initialiser ``name``.

    ``name`` is one of ``"he"`` (= ``"he_normal"``), ``"he_uniform"``, ``"glorot"``
    (= ``"glorot_normal"``), ``"glorot_uniform"``; ``alpha`` is the leaky-ReLU
    slope used by the He gain.
    """
    check_choice(name, "init", INITS)
    check_int(fan_in, "fan_in")
    check_int(fan_out, "fan_out")
    std = he_std(fan_in, alpha) if name.startswith("he") else glorot_std(fan_in, fan_out)
    if name.endswith("uniform"):
        limit = math.sqrt(3.0) * std
        w = rng.uniform(-limit, limit, size=(fan_in, fan_out))
    else:
        w = rng.normal(0.0, std, size=(fan_in, fan_out))
    return w.astype(dtype)


def zeros_bias(fan_out: int, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
    """Biases start at zero."""
    return np.zeros(fan_out, dtype=dtype)
