"""Shared pieces of :mod:`numgan.viz`: colours, new figures and axes, writing files.

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
from typing import cast

from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from .._checks import check_int, check_path

REAL_COLOR = "#1b7837"
FAKE_COLOR = "#762a83"
FIELD_CMAP = "PRGn"


def _figure_of(ax: Axes) -> Figure:
    fig: Figure | SubFigure | None
    try:
        fig = ax.get_figure(root=True)  # matplotlib >= 3.10: the top figure, not a subfigure
    except TypeError:
        fig = ax.figure
    return cast(Figure, fig)  # for mypy only: an Axes drawn on always has a figure


def _axes(ax: Axes | None, figsize: tuple[float, float] = (5.5, 5.0)) -> tuple[Figure, Axes]:
    """A new one-axes Figure, or ``ax`` and its figure."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return _figure_of(ax), ax


def _path(path: str | os.PathLike, name: str = "path") -> Path:
    """``path`` checked (:func:`numgan._checks.check_path`), with its folder made."""
    out = check_path(path, name)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 100) -> Path:
    """Write ``fig`` to ``path`` as a PNG (creating the parent folder); return the path."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    dpi = check_int(dpi, "dpi")
    path = _path(path)
    fig.savefig(path, dpi=dpi, format="png")
    return path
