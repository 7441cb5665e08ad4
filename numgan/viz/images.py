"""Images and animations: image grids, and GIFs of training (2-D samples or image grids).

:func:`tile_images` and :func:`plot_image_grid` lay out flattened images
``(N, h*w)`` as a grid; :func:`image_grid_gif` animates such grids over
training, and :func:`training_gif` the generated 2-D samples.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.animation import PillowWriter
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .._checks import check_int, check_positive
from ._figure import _axes, _path
from .plane import _bounds, _legend, _plane, _points, _scatter


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
    writer = PillowWriter(fps=fps)  # type: ignore[arg-type]  # a float works; the stubs say int
    with writer.saving(fig, str(path), dpi=fig.dpi):
        for step, images in snapshots:
            im.set_data(tile_images(images, shape, nrow))
            ax.set_title(f"step {int(step)}")
            writer.grab_frame()
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
    writer = PillowWriter(fps=fps)  # type: ignore[arg-type]  # a float works; the stubs say int
    with writer.saving(fig, str(path), dpi=fig.dpi):
        for step, fake in snapshots:
            moving.set_offsets(np.asarray(fake, dtype=np.float64))
            ax.set_title(f"step {int(step)}")
            writer.grab_frame()
    return path
