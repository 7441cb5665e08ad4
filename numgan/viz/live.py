"""Watching a 2-D GAN train, GAN Lab style: a figure redrawn during training, and a panel of buttons.

GAN Lab (Kahng et al., 2019) lets one watch both players move, step by step,
with knobs. This module does the same for a numgan GAN on the plane, with the
pictures of :mod:`numgan.viz.plane`:

* :class:`LiveView` is a callback of :func:`numgan.train.fit`: every ``every``
  steps it redraws one figure, the real data (green) against G's samples for
  fixed noise (purple) on the left, D's heat map with G's gradient field
  ``-dL_G/dx`` at the same samples on the right. In Jupyter the picture is
  one output updated in place (an ``IPython.display`` handle); elsewhere only
  ``view.figure`` is redrawn;
* :func:`panel` builds a :class:`LivePanel` with ipywidgets: buttons "D step"
  (exactly one update of D, :meth:`GAN.discriminator_step
  <numgan.gan.GAN.discriminator_step>`), "G step" (one update of G,
  :meth:`GAN.generator_step <numgan.gan.GAN.generator_step>`), "run k steps"
  (``k`` calls of :meth:`GAN.train_step <numgan.gan.GAN.train_step>`) and
  "reset" (the parameters and the random stream of the start); sliders for
  both learning rates and drop-downs for the objective and the penalty. Each
  control calls a method (:meth:`LivePanel.d_step`, :meth:`~LivePanel.g_step`,
  :meth:`~LivePanel.run`, :meth:`~LivePanel.reset`, :meth:`~LivePanel.set_lr`,
  :meth:`~LivePanel.set_objective`, :meth:`~LivePanel.set_penalty`), which is
  all there is when ipywidgets is missing: the figure is then redrawn as a
  plain image.

What to watch: D's heat map follows the samples (it turns purple where they
crowd and stays green where the data has no samples yet), and G's arrows point
up D's slope, towards the green. The arrows are drawn with length proportional
to ``sqrt(|dL_G/dx|)`` (:func:`compress_arrows`), so that the short ones stay
visible next to the longest; their directions are exact.

IPython and ipywidgets are imported only when a picture is shown or a panel
built: ``numgan.viz`` imports without them.
"""
from __future__ import annotations

import base64
import dataclasses
import importlib
import io
from typing import Any, Callable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.quiver import Quiver

from .._checks import check_in_range, check_int, check_matrix, check_positive
from ..gan import GAN, PENALTIES, GANConfig, TrainingDiverged
from ..objectives import CROSS_ENTROPY, OBJECTIVES, check_objective
from ..train import Data, batch_sampler
from .plane import _bounds, plot_field, plot_samples

#: the objectives the panel offers (every row of :data:`numgan.objectives.OBJECTIVES`)
OBJECTIVE_CHOICES = tuple(OBJECTIVES)
#: the largest batch the panel draws per step (a 2-D GAN; a bigger one would only exhaust memory)
MAX_BATCH = 100_000
#: the penalties the panel offers, as the drop-down shows them ("none" is ``penalty=None``)
PENALTY_CHOICES = ("none", "r1", "wgan_gp")


def compress_arrows(ax: Axes, power: float = 0.5) -> None:
    """Redraw the arrows of :func:`plot_field` on ``ax`` with length ``|g|^power``, the longest unchanged.

    A gradient field often spans a factor 10 or more (an untrained D's field
    does), and arrows scaled linearly leave the short ones invisible next to
    the longest. With ``power = 0.5`` an arrow ``1/100`` of the longest is drawn
    ``1/10`` of its length: the order of the lengths and every direction are
    kept, and the legend still gives the longest true length. ``power = 1``
    leaves the arrows as they are.
    """
    power = check_in_range(power, "power", 0.0, 1.0, low_open=True)
    quivers = [c for c in ax.collections if isinstance(c, Quiver)]
    if not quivers:
        raise ValueError("ax holds no arrows: draw them first with plot_field(..., ax=ax)")
    for q in quivers:
        u, v = np.asarray(q.U, np.float64), np.asarray(q.V, np.float64)
        length = np.hypot(u, v)
        longest = float(length.max()) if length.size else 0.0
        if longest > 0:
            ratio = np.where(length > 0, length / longest, 1.0)
            factor = ratio ** (power - 1)          # |g| -> longest * (|g| / longest)^power
            q.set_UVC(u * factor, v * factor)


def _display_module() -> Any | None:
    """``IPython.display`` when running inside IPython (Jupyter's kernel included), else None."""
    try:
        ipython = importlib.import_module("IPython")
    except ImportError:
        return None
    if ipython.get_ipython() is None:
        return None
    return importlib.import_module("IPython.display")


def _check_plane_gan(gan: object) -> GAN:
    """``gan`` if it is an unconditional, unpacked GAN on the plane (what the pictures can show)."""
    if not isinstance(gan, GAN):
        raise TypeError(f"gan must be a numgan GAN, got {type(gan).__name__}")
    if gan.data_dim != 2 or gan.config.pack != 1 or gan.config.n_classes is not None:
        raise ValueError(f"the live view draws a GAN on the plane: data_dim 2, pack 1, no classes; got data_dim "
                         f"{gan.data_dim}, pack {gan.config.pack}, n_classes {gan.config.n_classes}")
    return gan


def _losses(record: dict[str, float]) -> str:
    """``"L_D 1.234, L_G 0.693"`` from the numbers of a step's record that are there."""
    names = {"d_loss": "L_D", "g_loss": "L_G", "p_real": "p_real", "p_fake": "p_fake"}
    return ", ".join(f"{label} {record[key]:.3f}" for key, label in names.items() if key in record)


class LiveView:
    """A callback of :func:`numgan.train.fit` redrawing samples, D's heat map and G's arrows every ``every`` steps.

    ``real`` ``(N, 2)``: the real points drawn in green (a few hundred are
    enough). G's samples come from ``n`` noise vectors drawn once from
    ``seed``, so each purple dot is one ``z`` moving over training. The plane
    is fixed for the whole run: ``bounds`` ``(xmin, xmax, ymin, ymax)``,
    default the box around ``real`` plus 50 % on each side. D's map is
    evaluated on ``resolution x resolution`` points.

    Called as ``view(gan, record)`` after every step (``fit(...,
    callbacks=[view])``), it draws when ``gan.step`` is a multiple of
    ``every``; :meth:`draw` draws now (e.g. step 0, before ``fit``). Each
    drawing redraws ``view.figure`` and, inside IPython with ``show=True``,
    updates the one picture it displayed; ``view.steps_drawn`` lists the steps
    drawn.
    """

    def __init__(self, real: np.ndarray, every: int = 100, n: int = 200, seed: int = 0,
                 bounds: Sequence[float] | None = None, resolution: int = 60, dpi: int = 72,
                 figsize: tuple[float, float] = (9.0, 4.6), show: bool = True) -> None:
        self.real = check_matrix(real, "real", width=2)
        if not np.isfinite(self.real).all():
            raise ValueError("real must be finite, got NaN or inf")
        self.every = check_int(every, "every")
        self.n = check_int(n, "n")
        self.seed = check_int(seed, "seed", minimum=0)
        self.bounds = _bounds(bounds, self.real, margin=0.5)
        self.resolution = check_int(resolution, "resolution", minimum=2)
        self.dpi = check_int(dpi, "dpi")
        self.show = bool(show)
        # fixed margins, not a layout engine: the axes stay put from frame to frame, and drawing is faster
        self.figure = Figure(figsize=figsize, dpi=self.dpi)
        self.steps_drawn: list[int] = []
        self.record: dict[str, float] = {}     # the last step's numbers, for the caption
        self.z: np.ndarray | None = None       # the fixed noise, drawn at the first drawing
        self._handle: Any = None               # IPython's display handle, once shown
        self._png: bytes | None = None         # the PNG of the figure as last drawn

    def __call__(self, gan: GAN, record: dict) -> None:
        self.record = dict(record)
        if gan.step % self.every == 0:
            self.draw(gan, f"step {gan.step}: {_losses(self.record)}" if self.record else None)

    def draw(self, gan: GAN, caption: str | None = None) -> Figure:
        """Redraw the figure for ``gan`` now (with ``caption`` above it, default the step); return it.

        Left: ``real`` and ``G(z)``; right: :func:`plot_field` for D, with the
        arrows of :func:`compress_arrows`. G is the trained generator, not its
        moving average: the arrows move it.
        """
        gan = _check_plane_gan(gan)
        if self.z is None or self.z.shape[1] != gan.z_dim or self.z.dtype != gan.dtype:
            self.z = gan.noise(self.n, np.random.default_rng(self.seed))
        fake = gan.generate(self.z, use_ema=False)
        real = self.real.astype(gan.dtype, copy=False)
        fig = self.figure
        fig.clear()
        left, right = fig.subplots(1, 2, width_ratios=[1.0, 1.25],
                                   gridspec_kw=dict(left=0.07, right=0.98, bottom=0.2, top=0.8, wspace=0.1))
        plot_samples(real, fake, ax=left, title="real (green) and generated (purple)")
        left.set_xlim(self.bounds[0], self.bounds[1])
        left.set_ylim(self.bounds[2], self.bounds[3])
        plot_field(gan.D, fake, gan.config.objective, real=real, bounds=self.bounds, resolution=self.resolution,
                   ax=right, title=f"D and G's arrows ({gan.config.objective})")
        compress_arrows(right)
        fig.suptitle(caption if caption is not None else f"step {gan.step}", fontsize="medium")
        self.steps_drawn.append(gan.step)
        self._png = None
        if self.show:
            self._display()
        return fig

    def png(self) -> bytes:
        """The figure as last drawn, as PNG bytes (at the view's ``dpi``; rendered once per drawing)."""
        if self._png is None:
            buffer = io.BytesIO()
            self.figure.savefig(buffer, format="png", dpi=self.dpi)
            self._png = buffer.getvalue()
        return self._png

    def _display(self) -> None:
        """Show the figure inside IPython: the first time in a new output, then by updating that output."""
        display = _display_module()
        if display is None:
            return
        image = display.Image(data=self.png(), format="png")
        if self._handle is None:
            self._handle = display.display(image, display_id=True)
        else:
            self._handle.update(image)


def options_for(base: GANConfig, objective: str, penalty: str | None, g_lr: float, d_lr: float) -> GANConfig:
    """``base`` with another objective, penalty and learning rates, by the policy of the recipes.

    As :func:`numgan.recipes.resolve_recipe`: a penalty other than ``base``'s
    starts at weight 10, every step (``base``'s own keeps its weight);
    ``base``'s clip is kept with ``base``'s objective only, and
    ``wasserstein`` without one clips D at 0.01;
    ``wasserstein_gp`` takes the WGAN-GP penalty (``penalty="r1"`` is a
    ``ValueError``); label smoothing is kept for the cross-entropy objectives
    only. Everything else (``betas``, ``d_steps``, ``ema``...) is ``base``'s.
    """
    check_objective(objective)
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {list(PENALTIES)}, got {penalty!r}")
    if objective == "wasserstein_gp":
        if penalty == "r1":
            raise ValueError("objective wasserstein_gp uses the WGAN-GP penalty: choose penalty 'wgan_gp' or "
                             "None, got 'r1'")
        penalty = "wgan_gp"
    same_penalty = penalty == base.penalty
    clip: float | None = base.clip if objective == base.objective else None
    if objective == "wasserstein" and clip is None:
        clip = 0.01
    return dataclasses.replace(
        base, objective=objective, penalty=penalty, clip=clip,
        penalty_weight=base.penalty_weight if same_penalty else 10.0,
        penalty_every=base.penalty_every if same_penalty and penalty is not None else 1,
        label_smoothing=base.label_smoothing if objective in CROSS_ENTROPY else 0.0,
        g_lr=check_positive(g_lr, "g_lr"), d_lr=check_positive(d_lr, "d_lr"))


class LivePanel:
    """The state behind :func:`panel`: a GAN on the plane, its data, one :class:`LiveView`, and the actions.

    ``gan`` is trained in place (``panel.gan``; a new :class:`GAN` object over
    the same networks after a change of objective or penalty, and over fresh
    copies of the starting networks after :meth:`reset`). ``data`` is what
    :func:`numgan.train.fit` takes: an ``(N, 2)`` array or a sampler
    ``data(n, rng)``. Every random number comes from one generator seeded with
    ``seed``, so the same clicks after a reset give the same run. ``real``
    (default: 500 points of ``data``) is what the figure shows in green.

    Each action redraws the figure: :meth:`d_step`, :meth:`g_step`,
    :meth:`run` (``k`` steps, redrawing every ``every`` steps on the way when
    given), :meth:`reset`, :meth:`set_lr`, :meth:`set_objective`,
    :meth:`set_penalty`. ``d_updates`` and ``g_updates`` count the updates of
    each player since the start (``gan.step`` counts whole training steps).
    """

    def __init__(self, gan: GAN, data: Data, real: np.ndarray | None = None, k: int = 100, batch_size: int = 128,
                 seed: int = 0, every: int | None = None, resolution: int = 60, dpi: int = 72,
                 show: bool = True) -> None:
        self.gan = _check_plane_gan(gan)
        self._draw_batch = batch_sampler(data, gan.dtype)
        self.k = check_int(k, "k")
        self.batch_size = check_int(batch_size, "batch_size")
        if self.batch_size > MAX_BATCH:
            raise ValueError(f"batch_size must be at most {MAX_BATCH} (points of the plane per step), "
                             f"got {self.batch_size}")
        self.every = None if every is None else check_int(every, "every")
        self.seed = check_int(seed, "seed", minimum=0)
        if real is None:
            real = self._draw_batch(500, np.random.default_rng(self.seed))[0]
            if real.ndim != 2 or real.shape[1] != 2:
                raise ValueError(f"data must give points of the plane, 2 columns, got batches of shape {real.shape}")
        self.view = LiveView(real, every=self.every or self.k, seed=seed, resolution=resolution, dpi=dpi, show=show)
        # the start, restored by reset()
        self._start = (gan.G.copy(), gan.D.copy(), None if gan.G_ema is None else gan.G_ema.copy(), gan.step)
        self._base = gan.config
        self.g_lr, self.d_lr = gan.opt_G.lr, gan.opt_D.lr
        self.rng = np.random.default_rng(seed)
        self.d_updates = self.g_updates = 0
        self.record: dict[str, float] = {}
        self.widgets: dict[str, Any] | None = None   # filled by panel() when ipywidgets is there
        self.box: Any = None
        self._syncing = False                         # True while _sync sets the drop-downs
        self.redraw()

    # -- the actions -----------------------------------------------------------------------------

    def d_step(self) -> dict[str, float]:
        """Exactly one update of D on a fresh real batch and as many fakes; returns its record."""
        x, labels = self._draw_batch(self.batch_size, self.rng)
        record = self.gan.discriminator_step(x, self.rng, labels)
        self.d_updates += 1
        return self._done(record)

    def g_step(self) -> dict[str, float]:
        """Exactly one update of G through the frozen D, on ``batch_size`` fakes; returns its record."""
        record = self.gan.generator_step(self.batch_size, self.rng)
        self.g_updates += 1
        return self._done(record)

    def run(self, k: int | None = None) -> dict[str, float]:
        """``k`` training steps (default the panel's ``k``): each ``d_steps`` D updates then one G update."""
        k = self.k if k is None else check_int(k, "k")
        record: dict[str, float] = {}
        d_steps = self.gan.config.d_steps
        for i in range(k):
            x, labels = self._draw_batch(d_steps * self.batch_size, self.rng)
            record = self.gan.train_step(x, self.rng, labels)
            self.d_updates += d_steps
            self.g_updates += 1
            if self.every is not None and (i + 1) % self.every == 0 and i + 1 < k:
                self.record.update(record)
                self.redraw()
        return self._done(record)

    def reset(self) -> None:
        """Back to the start: the starting parameters, fresh optimizers, the random stream from ``seed``.

        The options chosen (objective, penalty, learning rates) are kept.
        """
        G0, D0, ema0, step0 = self._start
        gan = GAN(G0.copy(), D0.copy(), self._config(self.gan.config.objective, self.gan.config.penalty))
        if gan.G_ema is not None and ema0 is not None:
            gan.G_ema.params.flat[:] = ema0.params.flat
        gan.step = step0
        self.gan = gan
        self.rng = np.random.default_rng(self.seed)
        self.d_updates = self.g_updates = 0
        self.record = {}
        self.redraw()

    def set_lr(self, g_lr: float | None = None, d_lr: float | None = None) -> None:
        """Set G's and/or D's learning rate (Adam's ``lr``, used from the next update; Adam's state is kept)."""
        if g_lr is not None:
            self.g_lr = self.gan.opt_G.lr = check_positive(g_lr, "g_lr")
        if d_lr is not None:
            self.d_lr = self.gan.opt_D.lr = check_positive(d_lr, "d_lr")
        self.redraw()

    def set_objective(self, objective: str) -> None:
        """Train on with ``objective`` (a name of :data:`numgan.objectives.OBJECTIVES`), see :meth:`set_penalty`.

        ``wasserstein_gp`` brings its own penalty: it replaces R1 if that was on.
        """
        penalty = self.gan.config.penalty
        self._rebuild(objective, "wgan_gp" if objective == "wasserstein_gp" and penalty == "r1" else penalty)

    def set_penalty(self, penalty: str | None) -> None:
        """Train on with ``penalty`` (None, "r1" or "wgan_gp"; the options by :func:`options_for`).

        The GAN is rebuilt over the same networks (the weights, G's moving
        average and the step count are kept); Adam starts afresh, as the loss
        it was following has changed.
        """
        self._rebuild(self.gan.config.objective, penalty)

    # -- helpers ---------------------------------------------------------------------------------

    def _config(self, objective: str, penalty: str | None) -> GANConfig:
        return options_for(self._base, objective, penalty, self.g_lr, self.d_lr)

    def _rebuild(self, objective: str, penalty: str | None) -> None:
        old = self.gan
        gan = GAN(old.G, old.D, self._config(objective, penalty))
        if gan.G_ema is not None and old.G_ema is not None:
            gan.G_ema.params.flat[:] = old.G_ema.params.flat
        gan.step = old.step
        self.gan = gan
        self.redraw()

    def _done(self, record: dict[str, float]) -> dict[str, float]:
        self.record.update(record)
        self.redraw()
        return record

    def caption(self) -> str:
        """The line above the figure: the step, the updates of each player, the losses and the options."""
        c = self.gan.config
        penalty = "none" if c.penalty is None else f"{c.penalty} x{c.penalty_weight:g}"
        losses = _losses(self.record)
        return (f"step {self.gan.step} ({self.d_updates} D, {self.g_updates} G updates)"
                f"{': ' + losses if losses else ''}\n"
                f"{c.objective}, penalty {penalty}, lr G {self.g_lr:.1e}, D {self.d_lr:.1e}")

    def redraw(self) -> None:
        """Redraw the figure (and the panel's picture and status line, when there is a panel)."""
        self.view.draw(self.gan, self.caption())
        if self.widgets is not None:
            self.widgets["image"].value = self.view.png()
            self.widgets["status"].value = self.caption().replace("\n", " · ")

    @property
    def figure(self) -> Figure:
        """The figure as last drawn."""
        return self.view.figure

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The widgets (when there are) and the figure as a PNG: a viewer without widgets shows the picture."""
        bundle: dict[str, Any] = {"text/plain": f"LivePanel({self.caption().splitlines()[0]})",
                                  "image/png": base64.b64encode(self.view.png()).decode("ascii")}
        if self.box is not None:
            bundle.update(self.box._repr_mimebundle_())
        return bundle

    # -- the widgets -----------------------------------------------------------------------------

    def build_widgets(self, widgets: Any) -> None:
        """Build the controls with the ``ipywidgets`` module ``widgets`` (what :func:`panel` does)."""
        def lr_slider(description: str, value: float) -> Any:
            exponent = float(np.log10(value))
            return widgets.FloatLogSlider(value=value, base=10, min=min(-5.0, np.floor(exponent)),
                                          max=max(-1.0, np.ceil(exponent)), step=0.1, description=description,
                                          readout_format=".1e", continuous_update=False)

        c = self.gan.config
        w: dict[str, Any] = {
            "D step": widgets.Button(description="D step", tooltip="one update of D"),
            "G step": widgets.Button(description="G step", tooltip="one update of G"),
            "run k steps": widgets.Button(description=f"run {self.k} steps",
                                          tooltip=f"{self.k} training steps (D then G)"),
            "reset": widgets.Button(description="reset", tooltip="the starting parameters"),
            "g_lr": lr_slider("G lr", self.g_lr),
            "d_lr": lr_slider("D lr", self.d_lr),
            "objective": widgets.Dropdown(options=list(OBJECTIVE_CHOICES), value=c.objective,
                                          description="objective"),
            "penalty": widgets.Dropdown(options=list(PENALTY_CHOICES), value=c.penalty or "none",
                                        description="penalty"),
            "status": widgets.HTML(value=""),
            "image": widgets.Image(format="png", value=self.view.png()),
        }
        actions: dict[str, Callable[[], Any]] = {"D step": self.d_step, "G step": self.g_step,
                                                 "run k steps": self.run, "reset": self.reset}
        for name, action in actions.items():
            w[name].on_click(lambda _button, act=action: self._safely(act))
        w["g_lr"].observe(lambda change: self._safely(lambda: self.set_lr(g_lr=change["new"])), names="value")
        w["d_lr"].observe(lambda change: self._safely(lambda: self.set_lr(d_lr=change["new"])), names="value")
        w["objective"].observe(lambda change: self._safely(lambda: self.set_objective(change["new"])), names="value")
        w["penalty"].observe(lambda change: self._safely(
            lambda: self.set_penalty(None if change["new"] == "none" else change["new"])), names="value")
        self.widgets = w
        self.box = widgets.VBox([
            widgets.HBox([w["D step"], w["G step"], w["run k steps"], w["reset"]]),
            widgets.HBox([w["g_lr"], w["d_lr"]]),
            widgets.HBox([w["objective"], w["penalty"]]),
            w["status"], w["image"]])
        w["status"].value = self.caption().replace("\n", " · ")

    def _safely(self, action: Callable[[], Any]) -> None:
        """Run a control's action; a refused option or a diverged step goes to the status line, not a log."""
        if self._syncing:
            return
        try:
            action()
        except (ValueError, TypeError, TrainingDiverged) as err:
            if self.widgets is not None:
                self.widgets["status"].value = f"<b>not done</b>: {err}"
        self._sync()

    def _sync(self) -> None:
        """Set the drop-downs to the options in force (e.g. after a refused or an adjusted choice)."""
        if self.widgets is None:
            return
        self._syncing = True
        try:
            self.widgets["objective"].value = self.gan.config.objective
            self.widgets["penalty"].value = self.gan.config.penalty or "none"
        finally:
            self._syncing = False


def panel(gan: GAN, data: Data, real: np.ndarray | None = None, k: int = 100, batch_size: int = 128,
          seed: int = 0, every: int | None = None, resolution: int = 60, dpi: int = 72) -> LivePanel:
    """A GAN Lab style panel for a GAN on the plane; shown at once inside Jupyter; returns the :class:`LivePanel`.

    Controls: "D step", "G step", "run k steps", "reset", sliders "G lr" and
    "D lr", drop-downs "objective" and "penalty"; under them a status line and
    the figure of :class:`LiveView`, redrawn after each action. The arguments
    are :class:`LivePanel`'s. The panel is displayed with the figure as a
    PNG beside the widgets, so a viewer without widgets (a stored notebook, a
    static page) shows the picture. Without ipywidgets it prints a one-line
    notice and shows the figure as a plain image, redrawn by the methods
    (``p.d_step()``, ``p.run()``...).
    """
    try:
        widgets = importlib.import_module("ipywidgets")
    except ImportError:
        print("numgan.viz.live.panel: ipywidgets is not installed (pip install ipywidgets), so no buttons: "
              "call p.d_step(), p.g_step(), p.run(), p.reset(), p.set_lr(...) and the picture is redrawn")
        return LivePanel(gan, data, real, k, batch_size, seed, every, resolution, dpi, show=True)
    p = LivePanel(gan, data, real, k, batch_size, seed, every, resolution, dpi, show=False)
    p.build_widgets(widgets)
    display = _display_module()
    if display is not None:
        display.display(p._repr_mimebundle_(), raw=True)
    return p
