"""Pictures of a GAN at work: samples, D's field with G's gradients, training curves, animations.

Figures are built from ``matplotlib.figure.Figure`` directly, never through
pyplot: no global state, no window, nothing to close, and the same code runs on
a headless machine or in a notebook (a Figure displays itself there). Each
plotting function takes an optional ``ax`` to draw into an existing figure and
returns the Figure; :func:`save_figure` writes it as a PNG.

Colours follow GAN Lab (Kahng et al., 2019): real data green, generated
samples purple, and D's belief that a point is real from purple (fake) to
green (real).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from matplotlib.animation import PillowWriter
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._checks import check_int, check_matrix, check_positive
from .layers import stable_sigmoid
from .network import Sequential
from .objectives import CROSS_ENTROPY, check_objective, generator_loss

REAL_COLOR = "#1b7837"
FAKE_COLOR = "#762a83"
FIELD_CMAP = "PRGn"


def _figure_of(ax: Axes) -> Figure:
    try:
        return ax.get_figure(root=True)  # matplotlib >= 3.10: the top figure, not a subfigure
    except TypeError:
        return ax.figure


def _axes(ax: Axes | None, figsize=(5.5, 5.0)) -> tuple[Figure, Axes]:
    """A new one-axes Figure, or ``ax`` and its figure."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return _figure_of(ax), ax


def _points(x, name: str, dtype=None) -> np.ndarray | None:
    """``x`` checked as an ``(N, 2)`` array of points (None passes through)."""
    if x is None:
        return None
    check_matrix(x, name, width=2, dtype=dtype)
    return x


def _bounds(bounds, *arrays, margin: float = 0.1) -> tuple[float, float, float, float]:
    """``(xmin, xmax, ymin, ymax)``: ``bounds`` checked, or the box around ``arrays`` plus a margin."""
    if bounds is not None:
        b = np.asarray(bounds, dtype=np.float64) if isinstance(bounds, (tuple, list, np.ndarray)) else None
        if b is None or b.shape != (4,) or not np.isfinite(b).all() or b[0] >= b[1] or b[2] >= b[3]:
            raise ValueError(f"bounds must be (xmin, xmax, ymin, ymax) with xmin < xmax and ymin < ymax, "
                             f"got {bounds!r}")
        return tuple(float(v) for v in b)
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


def _scatter(ax: Axes, real, fake, means, size: float = 5.0) -> None:
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
    for handle in getattr(leg, "legend_handles", None) or leg.legendHandles:  # name before 3.7
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


HISTORY_PANELS = (
    ("loss", {"d_loss": ("D loss", "tab:blue"), "g_loss": ("G loss", "tab:orange"),
              "penalty": ("penalty", "tab:gray")}),
    ("mean sigmoid(D)", {"d_real": ("on real", REAL_COLOR), "d_fake": ("on generated", FAKE_COLOR)}),
    ("gradient norm", {"d_grad_norm": ("D grads", "tab:blue"), "g_grad_norm": ("G grads", "tab:orange")}),
)


def _history_arrays(history) -> dict[str, np.ndarray]:
    """The known series of ``history`` as 1-D float arrays of one length (unknown keys ignored)."""
    if not isinstance(history, Mapping):
        raise TypeError(f"history must be a dict of lists, got {type(history).__name__}")
    known = ["step"] + [k for _, series in HISTORY_PANELS for k in series]
    arrays, length = {}, None
    for key in (k for k in known if k in history):
        a = np.asarray(history[key], dtype=np.float64)
        if a.ndim != 1:
            raise ValueError(f"history[{key!r}] must be a list or 1-D array, got shape {a.shape}")
        if length is not None and len(a) != length:
            raise ValueError(f"history[{key!r}] must have the length of the other series ({length}), got {len(a)}")
        arrays[key], length = a, len(a)
    if not set(arrays) - {"step"}:
        raise ValueError(f"history must hold at least one of {known[1:]}, got keys {sorted(history)}")
    return arrays


def plot_history(history: Mapping[str, Sequence[float]], ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Training curves from ``history``: losses, mean D outputs, gradient norms (log scale).

    ``history`` maps keys among "step", "d_loss", "g_loss", "penalty", "d_real",
    "d_fake" (mean ``sigmoid(D)`` on real / generated samples), "d_grad_norm",
    "g_grad_norm" to equal-length lists; other keys are ignored, and a panel
    none of whose keys is present is left out. The x axis is "step" if given,
    else the index. ``ax``: None (a new figure, one panel per row), a sequence
    of Axes with one per panel drawn, or one Axes (only the losses panel is drawn).
    """
    h = _history_arrays(history)
    steps = h.get("step", np.arange(len(next(iter(h.values())))))
    panels = [(name, series) for name, series in HISTORY_PANELS if any(k in h for k in series)]
    if isinstance(ax, Axes):
        panels = panels[:1]
        axes = [ax]
    elif ax is None:
        fig = Figure(figsize=(7.0, 2.4 * len(panels) + 0.4), layout="constrained")
        axes = list(fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0])
    else:
        axes = list(ax)
        if len(axes) != len(panels) or not all(isinstance(a, Axes) for a in axes):
            raise ValueError(f"ax must be None, one Axes or {len(panels)} Axes (one per panel "
                             f"{[p for p, _ in panels]}), got {ax!r}")
    for a, (name, series) in zip(axes, panels):
        for key, (label, color) in series.items():
            if key in h:
                a.plot(steps, h[key], color=color, lw=1.2, label=label)
        if name == "mean sigmoid(D)":
            a.axhline(0.5, color="0.4", lw=0.8, ls="--", label="0.5 (D undecided)")
            a.set_ylim(-0.03, 1.03)
        if name == "gradient norm" and any((h[k] > 0).any() for k in series if k in h):
            a.set_yscale("log")
        a.set_ylabel(name)
        a.grid(alpha=0.3)
        a.legend(loc="best", fontsize="small")
    axes[-1].set_xlabel("step")
    fig = _figure_of(axes[0])
    if ax is None:
        fig.suptitle("training history")
    return fig


def _path(path, name: str = "path") -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or a path, got {type(path).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Write ``fig`` to ``path`` as a PNG (creating the parent folder); return the path."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    dpi = check_int(dpi, "dpi")
    path = _path(path)
    fig.savefig(path, dpi=dpi, format="png")
    return path


def training_gif(snapshots: Sequence[tuple[int, np.ndarray]], path: str | os.PathLike,
                 real: np.ndarray | None = None, means: np.ndarray | None = None,
                 bounds: Sequence[float] | None = None, fps: float = 4) -> Path:
    """Write an animated GIF of generated samples, one frame per ``(step, fake)`` in ``snapshots``.

    ``fake`` is ``(M, 2)``; ``real`` ``(N, 2)`` and ``means`` ``(K, 2)`` are
    drawn in every frame, and the axes stay fixed at ``bounds`` (default: the
    box around all snapshots, ``real`` and ``means``, plus 10 %). Written with
    matplotlib's ``PillowWriter`` at ``fps`` frames per second; returns the path.
    """
    if not isinstance(snapshots, (list, tuple)) or not snapshots:
        raise ValueError(f"snapshots must be a non-empty list of (step, samples) pairs, got {snapshots!r}")
    for i, snap in enumerate(snapshots):
        if not isinstance(snap, (tuple, list)) or len(snap) != 2:
            raise ValueError(f"snapshots[{i}] must be a (step, samples) pair, got {type(snap).__name__}")
        check_int(snap[0], f"snapshots[{i}][0] (step)", minimum=0)
        _points(snap[1], f"snapshots[{i}][1] (samples)")
    real, means = _points(real, "real"), _points(means, "means")
    fps = check_positive(fps, "fps")
    bounds = _bounds(bounds, real, means, *(s for _, s in snapshots))
    fig, ax = _axes(None, figsize=(5.0, 5.0))
    _scatter(ax, real, snapshots[0][1], means)
    moving = ax.collections[1 if real is not None else 0]
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_ylim(bounds[2], bounds[3])
    _legend(ax)
    _plane(ax, None)
    path = _path(path)
    writer = PillowWriter(fps=fps)
    with writer.saving(fig, str(path), dpi=fig.dpi):
        for step, fake in snapshots:
            moving.set_offsets(np.asarray(fake, dtype=np.float64))
            ax.set_title(f"step {int(step)}")
            writer.grab_frame()
    return path


# -- images ------------------------------------------------------------------------------------

def tile_images(images: np.ndarray, shape: tuple[int, int], nrow: int = 10, pad: int = 1) -> np.ndarray:
    """Tile ``images`` ``(N, h*w)`` or ``(N, h, w)`` into one 2-D array, ``nrow`` images per row.

    Values are shown as given (numgan's image GANs output ``[-1, 1]``); the
    padding between images takes the minimum value, and empty cells too.
    """
    h, w = shape
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 2 and images.shape[1] == h * w:
        images = images.reshape(-1, h, w)
    if images.ndim != 3 or images.shape[1:] != (h, w):
        raise ValueError(f"images must have shape (N, {h * w}) or (N, {h}, {w}), got {images.shape}")
    nrow = check_int(nrow, "nrow")
    n = images.shape[0]
    ncol_rows = -(-n // nrow)
    fill = float(images.min()) if n else 0.0
    canvas = np.full((ncol_rows * (h + pad) + pad, nrow * (w + pad) + pad), fill)
    for i, img in enumerate(images):
        r, c = divmod(i, nrow)
        canvas[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = img
    return canvas


def plot_image_grid(images: np.ndarray, shape: tuple[int, int], nrow: int = 10, ax: Axes | None = None,
                    title: str | None = None, value_range: tuple[float, float] = (-1.0, 1.0)) -> Figure:
    """Images ``(N, h*w)`` as a grid, ``nrow`` per row, in grey levels over ``value_range``.

    With a conditional GAN's samples drawn for classes ``0..9`` in turn and
    ``nrow=10``, each column holds one class.
    """
    canvas = tile_images(images, shape, nrow)
    fig, ax = _axes(ax, figsize=(6.0, 6.0 * canvas.shape[0] / canvas.shape[1] + 0.4))
    ax.imshow(canvas, cmap="gray", vmin=value_range[0], vmax=value_range[1], interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return fig


def image_grid_gif(snapshots: Sequence[tuple[int, np.ndarray]], path: str | os.PathLike,
                   shape: tuple[int, int], nrow: int = 10, fps: float = 4,
                   value_range: tuple[float, float] = (-1.0, 1.0)) -> Path:
    """An animated GIF of image grids, one frame per ``(step, images)`` snapshot (fixed noise)."""
    if not isinstance(snapshots, (list, tuple)) or not snapshots:
        raise ValueError(f"snapshots must be a non-empty list of (step, images) pairs, got {snapshots!r}")
    fps = check_positive(fps, "fps")
    first = tile_images(snapshots[0][1], shape, nrow)
    fig, ax = _axes(None, figsize=(5.0, 5.0 * first.shape[0] / first.shape[1] + 0.4))
    im = ax.imshow(first, cmap="gray", vmin=value_range[0], vmax=value_range[1], interpolation="nearest")
    ax.set_axis_off()
    path = _path(path)
    writer = PillowWriter(fps=fps)
    with writer.saving(fig, str(path), dpi=fig.dpi):
        for step, images in snapshots:
            im.set_data(tile_images(images, shape, nrow))
            ax.set_title(f"step {int(step)}")
            writer.grab_frame()
    return path
