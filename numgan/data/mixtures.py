"""Toy data: 2-D Gaussian mixtures, the standard test beds for mode collapse.

Every mixture has ``K`` means ``mu_1 .. mu_K`` in the plane and draws

    k_i ~ Uniform{1..K},    x_i = mu_{k_i} + std * eps_i,    eps_i ~ N(0, I_2),

so each mode gets ``n / K`` samples on average and a mode's samples lie within
``3 std`` of its mean 98.9 % of the time (the chi distribution with 2 degrees of
freedom). Means are always computed in float64; samples are returned as
``dtype`` (float32 by default, the training dtype).

``ring`` and ``grid`` are the protocols of VEEGAN (Srivastava et al., 2017) and
PacGAN (Lin et al., 2018): 8 modes on the unit circle with std 0.01, and 25
modes on ``{-4, -2, 0, 2, 4}^2`` with std 0.05. ``spiral`` and ``two_moons``
are harder shapes whose defaults keep neighbouring means at least 10 std apart,
so that the 3-std balls of :func:`numgan.metrics.mode_coverage` never overlap.

Randomness comes only from ``rng``: a ``numpy.random.Generator``, an int seed
or None (fresh entropy); the same seed gives the same samples bit for bit.
"""
from __future__ import annotations

import inspect
from typing import Callable, Literal, overload

import numpy as np
import numpy.typing as npt

from .._checks import check_choice, check_float_dtype, check_int, check_positive, check_rng

RngLike = np.random.Generator | int | None
#: a mixture's samples, or ``(samples, means)`` with ``return_means=True``
Samples = np.ndarray | tuple[np.ndarray, np.ndarray]


def as_rng(rng: RngLike) -> np.random.Generator:
    """``rng`` as a Generator: a Generator is used as is, an int seeds a new one, None uses fresh entropy."""
    return check_rng(rng, "rng")


def sample_mixture(n: int, means: np.ndarray, std: float, rng: RngLike = None, dtype: npt.DTypeLike = np.float32
                   ) -> np.ndarray:
    """``n`` samples ``mu_k + std * eps`` of the equal-weight mixture with ``means`` (K, d).

    Draws the modes first (``rng.integers``, shape ``(n,)``), then the noise
    (``rng.standard_normal``, shape ``(n, d)``); returns an ``(n, d)`` array of ``dtype``.
    """
    n = check_int(n, "n")
    std = check_positive(std, "std")
    dtype = check_float_dtype(dtype)
    means = np.asarray(means, dtype=np.float64)
    if means.ndim != 2 or means.shape[0] < 1:
        raise ValueError(f"means must have shape (K, d) with K >= 1, got {means.shape}")
    rng = as_rng(rng)
    k = rng.integers(0, means.shape[0], size=n)
    noise = rng.standard_normal((n, means.shape[1]))
    return (means[k] + std * noise).astype(dtype)


def _finish(n: int, means: np.ndarray, std: float, rng: RngLike, dtype: npt.DTypeLike, return_means: bool
            ) -> Samples:
    samples = sample_mixture(n, means, std, rng, dtype)
    return (samples, means) if return_means else samples


@overload   # for the type checker: samples alone, or (samples, means) with return_means=True
def ring(n: int, modes: int = ..., radius: float = ..., std: float = ..., rng: RngLike = ...,
         dtype: npt.DTypeLike = ..., return_means: Literal[False] = ...) -> np.ndarray: ...


@overload
def ring(n: int, modes: int = ..., radius: float = ..., std: float = ..., rng: RngLike = ...,
         dtype: npt.DTypeLike = ..., *, return_means: Literal[True]) -> tuple[np.ndarray, np.ndarray]: ...


def ring(n: int, modes: int = 8, radius: float = 1.0, std: float = 0.01, rng: RngLike = None,
         dtype: npt.DTypeLike = np.float32, return_means: bool = False) -> Samples:
    """Mixture of ``modes`` Gaussians on a circle: ``mu_k = radius (cos 2 pi k/K, sin 2 pi k/K)``.

    ``k = 0 .. K-1``: the angles are ``2 pi k / K``, never ``np.linspace(0, 2 pi, K)``,
    whose last angle repeats the first and leaves ``K - 1`` distinct modes.
    Returns ``(n, 2)`` samples of ``dtype``, and with ``return_means`` also the
    ``(K, 2)`` float64 means. Defaults: the VEEGAN / PacGAN ring (8 modes, std 0.01).

    See ``docs/mode-collapse.md#the-test-bed-gaussian-mixtures``.
    """
    modes = check_int(modes, "modes")
    radius = check_positive(radius, "radius")
    angles = 2 * np.pi * np.arange(modes) / modes
    means = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return _finish(n, means, std, rng, dtype, return_means)


@overload   # for the type checker: samples alone, or (samples, means) with return_means=True
def grid(n: int, side: int = ..., spacing: float = ..., std: float = ..., rng: RngLike = ...,
         dtype: npt.DTypeLike = ..., return_means: Literal[False] = ...) -> np.ndarray: ...


@overload
def grid(n: int, side: int = ..., spacing: float = ..., std: float = ..., rng: RngLike = ...,
         dtype: npt.DTypeLike = ..., *, return_means: Literal[True]) -> tuple[np.ndarray, np.ndarray]: ...


def grid(n: int, side: int = 5, spacing: float = 2.0, std: float = 0.05, rng: RngLike = None,
         dtype: npt.DTypeLike = np.float32, return_means: bool = False) -> Samples:
    """Mixture of ``side x side`` Gaussians on a square grid centred at the origin.

    The coordinates are ``c_j = spacing (j - (side - 1) / 2)``, ``j = 0 .. side-1``,
    and the means are all pairs ``(c_i, c_j)`` (row-major: ``i`` slow, ``j`` fast).
    Defaults: the VEEGAN / PacGAN grid, 25 modes on ``{-4, -2, 0, 2, 4}^2``, std 0.05.
    Returns ``(n, 2)`` samples of ``dtype``, and with ``return_means`` also the
    ``(side**2, 2)`` float64 means.

    See ``docs/mode-collapse.md#the-test-bed-gaussian-mixtures``.
    """
    side = check_int(side, "side")
    spacing = check_positive(spacing, "spacing")
    c = spacing * (np.arange(side) - (side - 1) / 2)
    means = np.stack(np.meshgrid(c, c, indexing="ij"), axis=-1).reshape(-1, 2)
    return _finish(n, means, std, rng, dtype, return_means)


@overload   # for the type checker: samples alone, or (samples, means) with return_means=True
def spiral(n: int, modes: int = ..., turns: float = ..., radius: float = ..., std: float = ...,
           rng: RngLike = ..., dtype: npt.DTypeLike = ..., return_means: Literal[False] = ...) -> np.ndarray: ...


@overload
def spiral(n: int, modes: int = ..., turns: float = ..., radius: float = ..., std: float = ...,
           rng: RngLike = ..., dtype: npt.DTypeLike = ..., *, return_means: Literal[True]
           ) -> tuple[np.ndarray, np.ndarray]: ...


def spiral(n: int, modes: int = 20, turns: float = 1.5, radius: float = 1.0, std: float = 0.02,
           rng: RngLike = None, dtype: npt.DTypeLike = np.float32, return_means: bool = False) -> Samples:
    """Mixture of ``modes`` Gaussians along an Archimedean spiral ``r = b theta``.

    The angle runs over ``turns`` full turns, ``theta`` from ``pi/2`` to
    ``theta_1 = pi/2 + 2 pi turns``, with ``b = radius / theta_1`` so that the
    outer end lies at distance ``radius`` from the origin (starting at ``pi/2``
    rather than 0 keeps the inner modes off the tight curl at the centre). The
    means sit at equal *arc length* along the curve, whose length from 0 is
    ``s(theta) = b/2 (theta sqrt(1 + theta^2) + asinh(theta))``, so neighbours
    are evenly spaced. Defaults: 20 modes 0.28 apart along the curve (at least
    0.26 in a straight line), successive turns ``2 pi b = 0.57`` apart, std 0.02
    (at least 13 std between neighbouring means). Returns ``(n, 2)`` samples of ``dtype``, and with
    ``return_means`` also the ``(modes, 2)`` float64 means.

    See ``docs/mode-collapse.md#the-test-bed-gaussian-mixtures``.
    """
    modes = check_int(modes, "modes")
    turns = check_positive(turns, "turns")
    radius = check_positive(radius, "radius")
    theta0, theta1 = np.pi / 2, np.pi / 2 + 2 * np.pi * turns
    b = radius / theta1
    theta = np.linspace(theta0, theta1, 4096)
    arc = b / 2 * (theta * np.sqrt(1 + theta ** 2) + np.arcsinh(theta))
    targets = np.linspace(arc[0], arc[-1], modes) if modes > 1 else arc[-1:]
    t = np.interp(targets, arc, theta)  # invert s(theta), which is increasing
    means = b * t[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1)
    return _finish(n, means, std, rng, dtype, return_means)


@overload   # for the type checker: samples alone, or (samples, means) with return_means=True
def two_moons(n: int, modes: int = ..., radius: float = ..., std: float = ..., rng: RngLike = ...,
              dtype: npt.DTypeLike = ..., return_means: Literal[False] = ...) -> np.ndarray: ...


@overload
def two_moons(n: int, modes: int = ..., radius: float = ..., std: float = ..., rng: RngLike = ...,
              dtype: npt.DTypeLike = ..., *, return_means: Literal[True]) -> tuple[np.ndarray, np.ndarray]: ...


def two_moons(n: int, modes: int = 16, radius: float = 1.0, std: float = 0.02, rng: RngLike = None,
              dtype: npt.DTypeLike = np.float32, return_means: bool = False) -> Samples:
    """Mixture of Gaussians along the two interleaved half circles of the two-moons shape.

    ``modes`` must be even: ``m = modes / 2`` means per moon, at angles
    ``t_j = pi (j + 1/2) / m``, ``j = 0 .. m-1``. The upper moon is
    ``radius (cos t, sin t)``, the lower one ``radius (1 - cos t, 1/2 - sin t)``
    (the classic shape of scikit-learn's ``make_moons``), and the whole is
    shifted by ``-radius (1/2, 1/4)`` to be centred at the origin. Defaults:
    16 modes, neighbours ``2 radius sin(pi/16) = 0.39`` apart, the two moons at
    least ``radius / 2`` apart, std 0.02 (at least 19 std between means).
    Returns ``(n, 2)`` samples of ``dtype``, and with ``return_means`` also the
    ``(modes, 2)`` float64 means.

    See ``docs/mode-collapse.md#the-test-bed-gaussian-mixtures``.
    """
    modes = check_int(modes, "modes", minimum=2)
    if modes % 2:
        raise ValueError(f"modes must be even (half of them on each moon), got {modes!r}")
    radius = check_positive(radius, "radius")
    m = modes // 2
    t = np.pi * (np.arange(m) + 0.5) / m
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    means = radius * (np.concatenate([upper, lower]) - np.array([0.5, 0.25]))
    return _finish(n, means, std, rng, dtype, return_means)


#: the mixtures by name, for :func:`mixture` and the command line
MIXTURES: dict[str, Callable[..., Samples]] = {"ring": ring, "grid": grid, "spiral": spiral, "moons": two_moons}


@overload   # for the type checker: samples alone, or (samples, means) with return_means=True
def mixture(name: str, n: int, rng: RngLike = ..., dtype: npt.DTypeLike = ..., return_means: Literal[False] = ...,
            **kwargs: float) -> np.ndarray: ...


@overload
def mixture(name: str, n: int, rng: RngLike = ..., dtype: npt.DTypeLike = ..., *, return_means: Literal[True],
            **kwargs: float) -> tuple[np.ndarray, np.ndarray]: ...


def mixture(name: str, n: int, rng: RngLike = None, dtype: npt.DTypeLike = np.float32, return_means: bool = False,
            **kwargs: float) -> Samples:
    """``n`` samples of the mixture called ``name`` ("ring", "grid", "spiral" or "moons").

    ``kwargs`` go to that mixture's function (e.g. ``modes=``, ``std=``).
    """
    check_choice(name, "name", MIXTURES)
    return MIXTURES[name](n, rng=rng, dtype=dtype, return_means=return_means, **kwargs)


def default_std(name: str) -> float:
    """The default noise ``std`` of the mixture called ``name`` (for :func:`numgan.metrics.mode_coverage`)."""
    check_choice(name, "name", MIXTURES)
    return float(inspect.signature(MIXTURES[name]).parameters["std"].default)
