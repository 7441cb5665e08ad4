"""The 2-D plane: samples, D's output over the plane, and G's gradient field at the generated points.

For the 2-D data of :mod:`numgan.data.mixtures`: :func:`plot_samples` scatters
real and generated points; :func:`discriminator_map` evaluates D on a grid and
:func:`generator_gradient_field` gives ``-dL_G/dx`` at each generated point,
both drawn together by :func:`plot_field`, as in GAN Lab (Kahng et al., 2019).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .._checks import check_int, check_matrix
from ..layers import stable_sigmoid
from ..network import Sequential
from ..objectives import CROSS_ENTROPY, check_objective, generator_loss
from ._figure import FAKE_COLOR, FIELD_CMAP, REAL_COLOR, _axes


def _points(x: np.ndarray | None, name: str, dtype: npt.DTypeLike | None = None) -> np.ndarray | None:
    """``x`` checked as an ``(N, 2)`` array of points (None passes through)."""
    if x is None:
        return None
    check_matrix(x, name, width=2, dtype=dtype)
    return x


def _bounds(bounds: Sequence[float] | None, *arrays: np.ndarray | None, margin: float = 0.1
            ) -> tuple[float, float, float, float]:
    """``(xmin, xmax, ymin, ymax)``: ``bounds`` checked, or the box around ``arrays`` plus a margin."""
    if bounds is not None:
        b = np.asarray(bounds, dtype=np.float64) if isinstance(bounds, (tuple, list, np.ndarray)) else None
        if b is None or b.shape != (4,) or not np.isfinite(b).all() or b[0] >= b[1] or b[2] >= b[3]:
            raise ValueError(f"bounds must be (xmin, xmax, ymin, ymax) with xmin < xmax and ymin < ymax, "
                             f"got {bounds!r}")
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
    pts = np.concatenate([np.asarray(a, np.float64) for a in arrays if a is not None] or [np.zeros((0, 2))])
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        return (-1.0, 1.0, -1.0, 1.0)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = margin * max(float((hi - lo).max()), 1e-3) + 1e-3
    return (lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad)


def _plane(ax: Axes, title: str | None) -> None:
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)


def _scatter(ax: Axes, real: np.ndarray | None, fake: np.ndarray | None, means: np.ndarray | None,
             size: float = 5.0) -> None:
    """Real and generated points (small, translucent) and the means as crosses."""
    if real is not None:
        ax.scatter(real[:, 0], real[:, 1], s=size, c=REAL_COLOR, alpha=0.35, lw=0, label="real")
    if fake is not None:
        edge = {"edgecolors": "white", "linewidths": 0.4} if size > 5 else {"lw": 0}
        ax.scatter(fake[:, 0], fake[:, 1], s=size, c=FAKE_COLOR, alpha=0.7, label="generated", **edge)
    if means is not None:
        ax.scatter(means[:, 0], means[:, 1], s=40, c="black", marker="x", lw=1.2, label="mode means")


def _legend(ax: Axes) -> None:
    """A legend under the axes, out of the data's way, with opaque markers."""
    leg = ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, markerscale=2.0,
                    fontsize="small", frameon=False)
    for handle in getattr(leg, "legend_handles", None) or leg.legendHandles:  # type: ignore[attr-defined]  # < 3.7
        handle.set_alpha(1.0)


def plot_samples(real: np.ndarray | None, fake: np.ndarray | None, means: np.ndarray | None = None,
                 ax: Axes | None = None, title: str | None = None) -> Figure:
    """Scatter plot of real ``(N, 2)`` and generated ``(M, 2)`` samples, mode ``means`` ``(K, 2)`` as crosses.

    Either set of samples may be None (e.g. to show the data alone).
    """
    real, fake = _points(real, "real"), _points(fake, "fake")
    means = _points(means, "means")
    fig, ax = _axes(ax)
    _scatter(ax, real, fake, means)
    _legend(ax)
    _plane(ax, "real and generated samples" if title is None else title)
    return fig


def generator_gradient_field(D: Sequential, fake: np.ndarray, objective: str = "non_saturating") -> np.ndarray:
    """``-dL_G/dx`` at each generated point ``x`` of ``fake`` ``(M, 2)``: where G's loss pushes it.

    Exact, by backpropagation through D (D's weights are left alone):
    ``s = D(fake)``; ``dL_G/ds`` from :func:`numgan.objectives.generator_loss`;
    ``dL_G/dx = D.backward(dL_G/ds)``. Since ``L_G`` is a mean over the batch,
    each row carries a ``1/M``. Returns an ``(M, 2)`` array of D's dtype; a
    generator step moves each sample along its row (times the chain rule
    through G). GAN Lab (Kahng et al., 2019) draws the same arrows.
    """
    if not isinstance(D, Sequential):
        raise TypeError(f"D must be a numgan Sequential, got {type(D).__name__}")
    check_objective(objective)
    check_matrix(fake, "fake", width=D.in_features, dtype=D.dtype)
    s, cache = D.forward(fake)
    if s.shape[1] != 1:
        raise ValueError(f"D must output one score per sample, shape (batch, 1), got {s.shape}")
    _, ds = generator_loss(s, objective)
    dx, _ = D.backward(ds, cache, param_grads=False)
    assert dx is not None  # the input gradient is computed unless asked not to be
    return -dx


def discriminator_map(D: Sequential, bounds: Sequence[float], resolution: int = 100,
                      objective: str = "non_saturating") -> np.ndarray:
    """D's output on a ``resolution x resolution`` grid over ``bounds = (xmin, xmax, ymin, ymax)``.

    Row ``i`` is ``y = ymin + i (ymax - ymin) / (resolution - 1)``, column ``j`` the same in x
    (``imshow(..., origin="lower")`` order). Values are ``sigmoid(s)`` (the
    probability that a point is real) for the cross-entropy objectives
    ``minimax``, ``non_saturating`` and ``seed_as_written``, and the raw score
    ``s`` (a critic's value) for the others. The grid is cast to ``D.dtype``.
    """
    check_objective(objective)
    resolution = check_int(resolution, "resolution", minimum=2)
    x0, x1, y0, y1 = _bounds(bounds)
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(D.dtype)
    s = D(grid).reshape(resolution, resolution)
    return stable_sigmoid(s) if objective in CROSS_ENTROPY else s


def plot_field(D: Sequential, fake: np.ndarray, objective: str = "non_saturating", real: np.ndarray | None = None,
               bounds: Sequence[float] | None = None, resolution: int = 100, ax: Axes | None = None,
               title: str | None = None) -> Figure:
    """D's output over the plane as a heat map, with G's gradient field at the generated points.

    ``D`` maps ``(N, 2)`` to ``(N, 1)`` raw scores; ``fake`` ``(M, 2)`` and
    ``real`` ``(N, 2)`` must be of ``D.dtype``. The heat map is
    :func:`discriminator_map` (``sigmoid(s)`` on [0, 1] for the cross-entropy
    objectives, else the raw score on a range symmetric about 0), with its
    decision boundary (0.5, or score 0) dashed. The arrows are
    :func:`generator_gradient_field`, ``-dL_G/dx``, scaled for display only:
    the longest is 8 % of the plot's larger side and the others keep their
    length relative to it, so vanishing gradients (a saturated minimax
    generator) show as short arrows; the legend gives the longest true length.
    ``bounds`` ``(xmin, xmax, ymin, ymax)`` defaults to the box around the
    points plus 10 %.
    """
    field = generator_gradient_field(D, fake, objective)
    real = _points(real, "real", dtype=D.dtype)
    bounds = _bounds(bounds, fake, real)
    values = discriminator_map(D, bounds, resolution, objective)
    fig, ax = _axes(ax, figsize=(6.5, 5.0))
    if objective in CROSS_ENTROPY:
        vmin, vmax, level, label = 0.0, 1.0, 0.5, "D(x) = sigmoid(score) = P(x is real)"
    else:
        finite = np.abs(values[np.isfinite(values)])
        vmax = max(float(finite.max()), 1e-12) if finite.size else 1.0
        vmin, level, label = -vmax, 0.0, "D(x): raw score (critic value)"
    im = ax.imshow(values, origin="lower", extent=bounds, cmap=FIELD_CMAP, vmin=vmin, vmax=vmax,
                   alpha=0.75, interpolation="bilinear", aspect="equal")
    fig.colorbar(im, ax=ax, label=label, shrink=0.85)
    if np.isfinite(values).any() and np.nanmin(values) < level < np.nanmax(values):
        ax.contour(values, levels=[level], extent=bounds, colors="0.25", linewidths=0.8, linestyles="--")
    _scatter(ax, real, fake, None, size=14.0)
    length = np.sqrt((field.astype(np.float64) ** 2).sum(axis=1))
    longest = float(length.max()) if length.size else 0.0
    scale = 0.08 * max(bounds[1] - bounds[0], bounds[3] - bounds[2]) / longest if longest > 0 else 0.0
    ax.quiver(fake[:, 0], fake[:, 1], field[:, 0] * scale, field[:, 1] * scale, angles="xy",
              scale_units="xy", scale=1, color="black", width=0.004, label=f"$-dL_G/dx$ (longest {longest:.2g})")
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_ylim(bounds[2], bounds[3])
    _legend(ax)
    _plane(ax, f"D and G's gradient field ({objective})" if title is None else title)
    return fig
