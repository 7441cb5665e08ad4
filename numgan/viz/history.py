"""Training curves: losses, mean D outputs and gradient norms from a training history.

:func:`plot_history` draws the per-step records of :meth:`numgan.gan.GAN.train_step`
as :func:`numgan.train.fit` returns them (a dict of lists, one entry per step),
one panel per group of :data:`HISTORY_PANELS`.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..history import RENAMED_KEYS
from ._figure import FAKE_COLOR, REAL_COLOR, _figure_of

HISTORY_PANELS = (
    ("loss", {"d_loss": ("D loss", "tab:blue"), "g_loss": ("G loss", "tab:orange"),
              "penalty": ("penalty", "tab:gray")}),
    ("mean sigmoid(D)", {"p_real": ("on real", REAL_COLOR), "p_fake": ("on generated", FAKE_COLOR)}),
    ("gradient norm", {"d_grad_norm": ("D grads", "tab:blue"), "g_grad_norm": ("G grads", "tab:orange")}),
)

#: former names of history series, read when the current name is absent: ``{current: former}``
HISTORY_ALIASES = {new: old for old, new in RENAMED_KEYS.items()}

#: series that hold NaN on steps where they were not computed (a lazy penalty); drawn carried forward
CARRIED_FORWARD = ("penalty",)


def _carry_forward(a: np.ndarray) -> np.ndarray:
    """``a`` with each NaN replaced by the last value before it that is not NaN (leading NaNs stay NaN)."""
    last = np.where(np.isnan(a), 0, np.arange(len(a)))
    np.maximum.accumulate(last, out=last)
    return a[last]


def _history_arrays(history: Mapping[str, Sequence[float]]) -> dict[str, np.ndarray]:
    """The known series of ``history`` as 1-D float arrays of one length, under their current names.

    A series missing under its current name is read under its former one
    (:data:`HISTORY_ALIASES`); unknown keys are ignored. The series of
    :data:`CARRIED_FORWARD` have their NaN replaced by the last value computed.
    """
    if not isinstance(history, Mapping):
        raise TypeError(f"history must be a dict of lists, got {type(history).__name__}")
    known = ["step"] + [k for _, series in HISTORY_PANELS for k in series]
    arrays: dict[str, np.ndarray] = {}
    length = None
    for key in known:
        source = key if key in history else HISTORY_ALIASES.get(key)
        if source is None or source not in history:
            continue
        a = np.asarray(history[source], dtype=np.float64)
        if a.ndim != 1:
            raise ValueError(f"history[{source!r}] must be a list or 1-D array, got shape {a.shape}")
        if length is not None and len(a) != length:
            raise ValueError(f"history[{source!r}] must have the length of the other series ({length}), "
                             f"got {len(a)}")
        arrays[key], length = a, len(a)
    if not set(arrays) - {"step"}:
        raise ValueError(f"history must hold at least one of {known[1:] + list(HISTORY_ALIASES.values())}, "
                         f"got keys {sorted(history)}")
    for key in CARRIED_FORWARD:
        if key in arrays:
            arrays[key] = _carry_forward(arrays[key])
    return arrays


def plot_history(history: Mapping[str, Sequence[float]], ax: Axes | Sequence[Axes] | None = None) -> Figure:
    """Training curves from ``history``: losses, mean D outputs, gradient norms (log scale).

    ``history`` maps keys among "step", "d_loss", "g_loss", "penalty", "p_real",
    "p_fake" (mean ``sigmoid(D)`` on real / generated samples), "d_grad_norm",
    "g_grad_norm" to equal-length lists; other keys are ignored, and a panel
    none of whose keys is present is left out. The former names of "p_real"
    and "p_fake", "d_real" and "d_fake", are read too, the new names being
    preferred when a history holds both. The x axis is "step" if given, else
    the index. ``ax``: None (a new figure, one panel per row), a sequence of
    Axes with one per panel drawn, or one Axes (only the losses panel is drawn).

    "penalty" may hold NaN on the steps where a lazy penalty (``penalty_every > 1``)
    was not computed: it is drawn with the last computed value carried forward
    to those steps (NaN before the first computed value are left undrawn).
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
