"""One adversarial training step, written as plainly as the maths.

A step of the game (``docs/objectives.md``)::

    for each of d_steps batches of real data x:
        z ~ N(0, I);  fake = G(z)
        s = D(concat(x, fake))                       one pass for real and fake
        L_D, ds_real, ds_fake = discriminator_loss(s_real, s_fake, objective)
        grads_D = D.backward(concat(ds_real, ds_fake)) (+ the gradient penalty's)  -> Adam step on D
    z ~ N(0, I);  fake, cache_G = G.forward(z)
    s_fake, cache_D = D.forward(fake)
    L_G, ds_fake = generator_loss(s_fake, objective)
    dfake, _ = D.backward(ds_fake, cache_D, param_grads=False)   D is frozen: only dx
    grads_G = G.backward(dfake, cache_G)                         -> Adam step on G

The options (:class:`GANConfig`) are those the literature and practitioners
use: separate learning rates (TTUR), several D steps per G step, weight
clipping, WGAN-GP / R1 penalties (lazily, every k steps), one-sided label
smoothing, instance noise, an exponential moving average of G's weights for
sampling, PacGAN packing (D judges ``pack`` samples joined into one) and
class-conditional generation.

The model keeps its networks, its optimizers and its step counter; the
training loop and the record of each step's numbers (the history) are in
:mod:`numgan.train`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from ._checks import check_in_range, check_int, check_labels, check_matrix, check_positive, check_rng
from .flat import FlatParams
from .layers import stable_sigmoid
from .network import Sequential
from .objectives import CROSS_ENTROPY, check_objective, discriminator_loss, generator_loss
from .optim import Adam
from .penalties import r1_penalty, wgan_gp_penalty

PENALTIES = (None, "wgan_gp", "r1")


class TrainingDiverged(FloatingPointError):
    """A loss or gradient became NaN or inf; the weights were not updated with it.

    The message says exactly what of the step was applied. Raised by
    :meth:`GAN.train_step`, which gives ``d_updates_applied`` (how many of the
    step's ``d_steps`` D updates were applied before the bad value; all of them
    when G's update diverged) and ``d_steps``: "2 of the 3 D updates of step 5
    were applied; G was not updated". Raised by a lone
    :meth:`GAN.discriminator_step` or :meth:`GAN.generator_step` (both left
    ``None``) it says that this update was not applied.

    Attributes: ``step``, ``what`` (the name of the bad number), ``value``,
    ``d_updates_applied``, ``d_steps`` and ``g_updated`` (always False).
    """

    def __init__(self, step: int, what: str, value: float, d_updates_applied: int | None = None,
                 d_steps: int | None = None) -> None:
        self.step, self.what, self.value = step, what, value
        self.d_updates_applied, self.d_steps, self.g_updated = d_updates_applied, d_steps, False
        if d_updates_applied is None or d_steps is None:
            player = "G" if what.startswith("g_") else "D"
            applied = f"this {player} update of step {step} was not applied"
        elif d_updates_applied == 0:
            applied = f"no update of step {step} was applied" + (
                f" (0 of the {d_steps} D updates; G was not updated)" if d_steps > 1 else "")
        elif d_steps == 1:
            applied = f"the D update of step {step} was applied; G was not updated"
        else:
            applied = (f"{d_updates_applied} of the {d_steps} D updates of step {step} were applied; "
                       f"G was not updated")
        super().__init__(f"training diverged at step {step}: {what} is {value}; {applied}")


@dataclass(frozen=True)
class GANConfig:
    """The options of a :class:`GAN`, checked once, written once (checkpoints store :meth:`to_dict`).

    * ``objective``: a name from :data:`numgan.objectives.OBJECTIVES`;
    * ``d_steps``: D steps per G step; ``g_lr``, ``d_lr``, ``betas``: Adam for
      each player (``d_lr > g_lr`` is the two time-scale update rule);
    * ``clip``: clip every D parameter to ``[-clip, clip]`` after each D step (WGAN);
    * ``penalty``: ``"wgan_gp"`` or ``"r1"`` with ``penalty_weight`` (lambda or
      gamma); ``objective="wasserstein_gp"`` turns on ``"wgan_gp"``;
      ``penalty_every``: lazy regularisation (Karras et al., 2020, StyleGAN2):
      the penalty is computed on every ``k``-th step only, with weight
      ``k * penalty_weight``, which keeps its average over steps and saves
      the double backprop on the other steps;
    * ``label_smoothing``: real targets ``1 - label_smoothing`` (one-sided);
    * ``instance_noise``: std of Gaussian noise added to every input of D,
      decaying linearly to 0 over ``instance_noise_steps`` steps when given;
    * ``ema``: decay of a moving average of G's weights, used by :meth:`GAN.sample`;
    * ``pack``: PacGAN packing degree ``m`` (1 is a plain GAN);
    * ``n_classes``: a conditional GAN with this many classes (None: unconditional).

    Every option is off by default but the objective and Adam's settings.
    """

    objective: str = "non_saturating"
    d_steps: int = 1
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    clip: float | None = None
    penalty: str | None = None
    penalty_weight: float = 10.0
    penalty_every: int = 1
    label_smoothing: float = 0.0
    instance_noise: float = 0.0
    instance_noise_steps: int | None = None
    ema: float | None = None
    pack: int = 1
    n_classes: int | None = None

    def __post_init__(self) -> None:
        def set_(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        check_objective(self.objective)
        set_("d_steps", check_int(self.d_steps, "d_steps"))
        set_("g_lr", check_positive(self.g_lr, "g_lr"))
        set_("d_lr", check_positive(self.d_lr, "d_lr"))
        if not isinstance(self.betas, (tuple, list)) or len(self.betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {self.betas!r}")
        set_("betas", (check_in_range(self.betas[0], "betas[0]", 0.0, 1.0, high_open=True),
                       check_in_range(self.betas[1], "betas[1]", 0.0, 1.0, high_open=True)))
        if self.clip is not None:
            set_("clip", check_positive(self.clip, "clip"))
        if self.penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {list(PENALTIES)}, got {self.penalty!r}")
        if self.objective == "wasserstein_gp" and self.penalty is None:
            set_("penalty", "wgan_gp")
        set_("penalty_weight", check_positive(self.penalty_weight, "penalty_weight"))
        set_("penalty_every", check_int(self.penalty_every, "penalty_every"))
        if self.penalty_every > 1 and self.penalty is None:
            raise ValueError(f"penalty_every needs a penalty ('wgan_gp' or 'r1'), got penalty_every="
                             f"{self.penalty_every} with penalty=None")
        set_("label_smoothing", check_in_range(self.label_smoothing, "label_smoothing", 0.0, 1.0, high_open=True))
        if self.label_smoothing and self.objective not in CROSS_ENTROPY:
            raise ValueError(f"label_smoothing needs a cross-entropy objective {list(CROSS_ENTROPY)}, "
                             f"got objective={self.objective!r}")
        set_("instance_noise", check_in_range(self.instance_noise, "instance_noise", 0.0, np.inf))
        if self.instance_noise_steps is not None:
            set_("instance_noise_steps", check_int(self.instance_noise_steps, "instance_noise_steps"))
        if self.ema is not None:
            set_("ema", check_in_range(self.ema, "ema", 0.0, 1.0, low_open=True, high_open=True))
        set_("pack", check_int(self.pack, "pack"))
        if self.n_classes is not None:
            set_("n_classes", check_int(self.n_classes, "n_classes", minimum=2))

    def to_dict(self) -> dict[str, Any]:
        """The options as plain JSON-ready data (``betas`` a list)."""
        out = dataclasses.asdict(self)
        out["betas"] = list(self.betas)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "GANConfig":
        """Rebuild from :meth:`to_dict`; an unknown key is a ``ValueError``, a missing one takes its default."""
        if not isinstance(data, Mapping):
            raise TypeError(f"config must be a dict of GAN options, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"config has unknown GAN options {unknown}; known: {sorted(known)}")
        values = dict(data)
        if isinstance(values.get("betas"), list):
            values["betas"] = tuple(values["betas"])
        return cls(**values)


class GAN:
    """A generator, a discriminator, their options and their optimizers.

    ``generator`` maps noise ``(N, z_dim)`` (joined with one-hot labels for a
    conditional GAN) to samples ``(N, d)``; ``discriminator`` maps
    ``(N / pack, pack * d)`` (with the labels) to raw scores ``(N / pack, 1)``.
    Both must share one dtype (float32 for training).

    The options are a :class:`GANConfig`, given as ``config`` or as its
    keywords: ``GAN(G, D, objective="hinge", d_steps=2)`` is
    ``GAN(G, D, GANConfig(objective="hinge", d_steps=2))``.

    Attributes: ``G``, ``D``, ``G_ema`` (the moving average of G, or None),
    ``config``, ``opt_G``, ``opt_D`` (Adam), ``step`` (training steps done),
    ``z_dim``, ``data_dim`` and ``dtype``.
    """

    def __init__(self, generator: Sequential, discriminator: Sequential, config: GANConfig | None = None,
                 **options: Any) -> None:
        if config is None:
            config = GANConfig(**options)
        elif not isinstance(config, GANConfig):
            raise TypeError(f"config must be a GANConfig (or give the options as keywords, e.g. "
                            f"GAN(G, D, objective='hinge')), got {type(config).__name__} {config!r}")
        elif options:
            raise TypeError(f"give the options either as config or as keywords, got both (keywords "
                            f"{sorted(options)})")
        if not isinstance(generator, Sequential):
            raise TypeError(f"generator must be a numgan Sequential, got {type(generator).__name__}")
        if not isinstance(discriminator, Sequential):
            raise TypeError(f"discriminator must be a numgan Sequential, got {type(discriminator).__name__}")
        self.config = config
        self.G, self.D = generator, discriminator
        if self.G.dtype != self.D.dtype:
            raise TypeError(f"generator and discriminator must share one dtype, got "
                            f"{self.G.dtype.name} and {self.D.dtype.name}")
        self.dtype = self.G.dtype
        n_labels, pack = config.n_classes or 0, config.pack
        if self.G.in_features is None or self.G.out_features is None or self.D.in_features is None:
            raise ValueError("generator and discriminator must each hold at least one Dense layer")
        self.z_dim, self.data_dim = self.G.in_features - n_labels, self.G.out_features
        if self.z_dim < 1:
            raise ValueError(f"generator must take z_dim + n_classes inputs with z_dim >= 1, "
                             f"got {self.G.in_features} inputs for n_classes={config.n_classes}")
        if self.D.in_features != pack * (self.data_dim + n_labels):
            raise ValueError(f"discriminator must take pack * (data_dim + n_classes) = {pack} * "
                             f"({self.data_dim} + {n_labels}) = {pack * (self.data_dim + n_labels)} inputs, "
                             f"got {self.D.in_features}")
        if self.D.out_features != 1:
            raise ValueError(f"discriminator must output 1 score per input, got {self.D.out_features}")
        self.G_ema = self.G.copy() if config.ema is not None else None
        self.opt_G = Adam(self.G.params, lr=config.g_lr, betas=config.betas)
        self.opt_D = Adam(self.D.params, lr=config.d_lr, betas=config.betas)
        self.step = 0
        # one gradient buffer per network, reused every step (Sequential.backward's out)
        self._grad_G, self._grad_D = self.G.params.like(), self.D.params.like()

    # -- pieces of the step ------------------------------------------------------------------

    def noise(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``z ~ N(0, I)`` of shape ``(n, z_dim)`` in the model's dtype."""
        return rng.standard_normal((n, self.z_dim), dtype=self.dtype)

    def one_hot(self, labels: np.ndarray) -> np.ndarray:
        """``(N,)`` integer labels -> ``(N, n_classes)`` one-hot rows in the model's dtype."""
        return np.eye(self.config.n_classes or 0, dtype=self.dtype)[labels]

    def _with_labels(self, x: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
        """``x`` with the one-hot labels joined as extra columns (conditional GAN), else ``x``."""
        return x if labels is None else np.concatenate([x, self.one_hot(labels)], axis=1)

    def _packed(self, x: np.ndarray) -> np.ndarray:
        """``(N, w) -> (N / pack, pack * w)``: consecutive samples joined into one input of D."""
        return x.reshape(x.shape[0] // self.config.pack, self.config.pack * x.shape[1])

    def _check_labels(self, labels: np.ndarray | None, n: int) -> np.ndarray | None:
        if self.config.n_classes is None:
            if labels is not None:
                raise ValueError("labels are only for a conditional GAN (n_classes set), got labels")
            return None
        if labels is None:
            raise ValueError(f"labels must be {n} integers for a conditional GAN, got None")
        return check_labels(np.asarray(labels), n, self.config.n_classes)

    def _noise_std(self) -> float:
        std, steps = self.config.instance_noise, self.config.instance_noise_steps
        if not std or steps is None:
            return std
        return std * max(0.0, 1 - self.step / steps)

    def _with_instance_noise(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        std = self._noise_std()
        return x + std * rng.standard_normal(x.shape, dtype=self.dtype) if std > 0 else x

    def _guard(self, **values: float) -> None:
        for what, value in values.items():
            if not np.isfinite(value):
                raise TrainingDiverged(self.step + 1, what, value)

    def penalised_step(self) -> bool:
        """Whether this step computes the gradient penalty (every ``penalty_every``-th step, if any)."""
        return self.config.penalty is not None and self.step % self.config.penalty_every == 0

    def discriminator_loss_gradients(self, x: np.ndarray, labels: np.ndarray | None = None,
                                     out: FlatParams | None = None
                                     ) -> tuple[float, FlatParams, np.ndarray, np.ndarray]:
        """D's loss on ``x`` = real rows then as many fake rows, and its gradients.

        Returns ``(loss, grads, s_real, s_fake)``: ``grads`` with respect to D's
        parameters (into ``out`` when given), the raw scores of the real and
        the fake half. For a conditional GAN both halves carry ``labels``.
        """
        n = x.shape[0] // 2
        pack = self.config.pack
        ### BEGIN SOLUTION
        both = None if labels is None else np.concatenate([labels, labels])
        s, cache = self.D.forward(self._packed(self._with_labels(x, both)))      # one pass for real and fake
        s_real, s_fake = s[: n // pack], s[n // pack:]
        loss, ds_real, ds_fake = discriminator_loss(s_real, s_fake, self.config.objective,
                                                    1 - self.config.label_smoothing)
        _, grads = self.D.backward(np.concatenate([ds_real, ds_fake]), cache, input_grad=False, out=out)
        return loss, grads, s_real, s_fake
        ### END SOLUTION

    def discriminator_gradients(self, x_real: np.ndarray, rng: np.random.Generator,
                                labels: np.ndarray | None = None, out: FlatParams | None = None
                                ) -> tuple[dict[str, float], FlatParams]:
        """D's loss (with the penalty) on a real batch and as many fakes, and its gradients.

        The gradients go into ``out`` when given (the training step reuses
        one), else into a new buffer. For a conditional GAN, ``labels`` are
        the real batch's classes; the fakes are generated for the same
        classes, and D sees each sample with its one-hot label.

        Returns ``(record, grads)``. The record holds ``d_loss`` (the
        objective's loss plus the penalty when this step computes it),
        ``penalty`` (at the weight ``penalty_weight``; NaN on a lazy step that
        does not compute it, 0 without a penalty), ``d_grad_norm`` and the
        mean probabilities ``p_real``, ``p_fake`` (mean ``sigmoid`` of D's
        scores). With ``penalty_every = k > 1`` the penalty's gradient (weight
        ``k * penalty_weight``) is added on the steps where ``self.step`` is a
        multiple of ``k`` only.
        """
        n = x_real.shape[0]
        fake = self.G(self._with_labels(self.noise(n, rng), labels))
        x = self._with_instance_noise(np.concatenate([x_real, fake]), rng)
        loss, grads, s_real, s_fake = self.discriminator_loss_gradients(x, labels, out)
        penalty = 0.0 if self.config.penalty is None else float("nan")
        if self.penalised_step():
            # lazy regularisation: on every k-th step only, with k times the weight (k = penalty_every)
            k = self.config.penalty_every
            scaled, penalty_grads = self._penalty(self._with_labels(x[:n], labels), self._with_labels(x[n:], labels),
                                                  rng, k * self.config.penalty_weight)
            grads.flat += penalty_grads.flat
            penalty = scaled / k
        record = {"d_loss": loss + penalty if self.penalised_step() else loss, "penalty": penalty,
                  "d_grad_norm": float(np.sqrt(np.dot(grads.flat, grads.flat))),
                  "p_real": float(stable_sigmoid(s_real).mean()), "p_fake": float(stable_sigmoid(s_fake).mean())}
        return record, grads

    def discriminator_step(self, x_real: np.ndarray, rng: np.random.Generator,
                           labels: np.ndarray | None = None) -> dict[str, float]:
        """One update of D (then weight clipping, if on); returns the record."""
        record, grads = self.discriminator_gradients(x_real, rng, labels, out=self._grad_D)
        self._guard(d_loss=record["d_loss"], d_grad_norm=record["d_grad_norm"])
        self.opt_D.step(grads)
        if self.config.clip is not None:
            np.clip(self.D.params.flat, -self.config.clip, self.config.clip, out=self.D.params.flat)
        return record

    def _penalty(self, real: np.ndarray, fake: np.ndarray, rng: np.random.Generator, weight: float
                 ) -> tuple[float, FlatParams]:
        real, fake = self._packed(real), self._packed(fake)
        if self.config.penalty == "r1":
            return r1_penalty(self.D, real, weight)
        eps = rng.uniform(size=(real.shape[0], 1)).astype(self.dtype)
        return wgan_gp_penalty(self.D, real, fake, eps, weight)

    def generator_loss_gradients(self, z: np.ndarray, rng: np.random.Generator, labels: np.ndarray | None = None,
                                 out: FlatParams | None = None) -> tuple[float, FlatParams]:
        """G's loss on the fakes ``G(z)`` through a frozen D, and its gradients (into ``out`` if given).

        ``z`` already carries the one-hot ``labels`` of a conditional GAN; D
        sees each fake with its label. ``rng`` draws the instance noise.
        """
        n = z.shape[0]
        ### BEGIN SOLUTION
        fake, cache_G = self.G.forward(z)
        x = self._with_instance_noise(fake, rng)          # additive: d x / d fake = I
        s_fake, cache_D = self.D.forward(self._packed(self._with_labels(x, labels)))
        loss, ds_fake = generator_loss(s_fake, self.config.objective)
        dx, _ = self.D.backward(ds_fake, cache_D, param_grads=False)
        dfake = dx.reshape(n, -1)[:, :self.data_dim]      # the label columns are not G's to change
        _, grads = self.G.backward(np.ascontiguousarray(dfake), cache_G, input_grad=False, out=out)
        return loss, grads
        ### END SOLUTION

    def generator_gradients(self, n: int, rng: np.random.Generator, out: FlatParams | None = None
                            ) -> tuple[dict[str, float], FlatParams]:
        """G's loss on ``n`` fakes through a frozen D, and its gradients (into ``out`` if given).

        For a conditional GAN the fakes' classes are drawn uniformly. Returns
        ``(record, grads)``; the record holds ``g_loss`` and ``g_grad_norm``.
        """
        labels = None if self.config.n_classes is None else rng.integers(self.config.n_classes, size=n)
        loss, grads = self.generator_loss_gradients(self._with_labels(self.noise(n, rng), labels), rng, labels, out)
        return {"g_loss": loss, "g_grad_norm": float(np.sqrt(np.dot(grads.flat, grads.flat)))}, grads

    def generator_step(self, n: int, rng: np.random.Generator) -> dict[str, float]:
        """One update of G (then of its moving average, if on); returns the record."""
        record, grads = self.generator_gradients(n, rng, out=self._grad_G)
        self._guard(g_loss=record["g_loss"], g_grad_norm=record["g_grad_norm"])
        self.opt_G.step(grads)
        if self.G_ema is not None:   # theta_ema = ema * theta_ema + (1 - ema) * theta
            ema = self.config.ema
            assert ema is not None   # G_ema exists only when config.ema is set
            self.G_ema.params.flat += (1 - ema) * (self.G.params.flat - self.G_ema.params.flat)
            for name, value in self.G_ema.buffers.items():     # BatchNorm's running statistics, not averaged
                value[...] = self.G.buffers[name]             # (none in an MLP)
        return record

    # -- the step ------------------------------------------------------------------------------

    def train_step(self, x_real: np.ndarray, rng: np.random.Generator,
                   labels: np.ndarray | None = None) -> dict[str, float]:
        """``d_steps`` D updates then one G update; returns the step's record.

        ``x_real`` holds ``d_steps * batch`` rows of real data, split into
        ``d_steps`` batches (one per D step); ``batch`` must be a multiple of
        ``pack``. A conditional GAN also takes the rows' integer ``labels``.
        The record has ``d_loss`` (with the penalty when computed),
        ``g_loss``, ``p_real`` and ``p_fake`` (mean ``sigmoid`` of D's scores
        on the last D batch), ``d_grad_norm``, ``g_grad_norm`` and ``penalty``
        (see :meth:`discriminator_gradients`).

        A NaN or inf in ``x_real`` is a ``ValueError`` (before any update); a
        NaN or inf loss or gradient is a :class:`TrainingDiverged` that says
        how many of the step's D updates were applied (G's never is).
        """
        check_matrix(x_real, "x_real", width=self.data_dim, dtype=self.dtype)
        if not np.isfinite(x_real).all():   # the input's fault, not training's: say so before any update
            bad = np.argwhere(~np.isfinite(x_real))
            raise ValueError(f"x_real must be finite, got {len(bad)} NaN or inf entries (the first at "
                             f"{tuple(int(i) for i in bad[0])}: {x_real[tuple(bad[0])]})")
        rows, d_steps, pack = x_real.shape[0], self.config.d_steps, self.config.pack
        if rows % d_steps or (rows // d_steps) % pack or rows == 0:
            raise ValueError(f"x_real must have d_steps * batch rows with batch a multiple of pack "
                             f"(d_steps={d_steps}, pack={pack}), got {rows} rows")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        labels = self._check_labels(labels, rows)
        batch = rows // d_steps
        k = 0   # the D updates of this step applied so far, for an exact TrainingDiverged message
        try:
            for k in range(d_steps):
                rows_k = slice(k * batch, (k + 1) * batch)
                record = self.discriminator_step(x_real[rows_k], rng, None if labels is None else labels[rows_k])
            k = d_steps
            record.update(self.generator_step(batch, rng))
        except TrainingDiverged as err:
            raise TrainingDiverged(err.step, err.what, err.value, k, d_steps) from None
        self.step += 1
        return record

    def sample(self, n: int, rng: np.random.Generator | int | None = None, use_ema: bool = True,
               labels: np.ndarray | None = None) -> np.ndarray:
        """``n`` generated samples ``(n, d)``; from the moving average of G when there is one.

        A conditional GAN draws class ``labels[i]`` for row ``i`` (default:
        the classes in turn, ``0, 1, ..., n_classes - 1, 0, 1, ...``).
        """
        check_int(n, "n")
        return self.generate(self.noise(n, check_rng(rng)), labels, use_ema)

    def generate(self, z: np.ndarray, labels: np.ndarray | None = None, use_ema: bool = True) -> np.ndarray:
        """G's samples for given noise ``z`` ``(n, z_dim)`` (and classes ``labels``, if conditional)."""
        check_matrix(z, "z", width=self.z_dim, dtype=self.dtype)
        if self.config.n_classes is not None and labels is None:
            labels = np.arange(z.shape[0]) % self.config.n_classes
        labels = self._check_labels(labels, z.shape[0])
        G = self.G_ema if (use_ema and self.G_ema is not None) else self.G
        return G(self._with_labels(z, labels))

    def __repr__(self) -> str:
        options = {k: v for k, v in self.config.to_dict().items()
                   if v != getattr(GANConfig, k, None) and not (k == "betas" and tuple(v) == (0.5, 0.999))}
        return f"GAN(G={self.G.n_params} params, D={self.D.n_params} params, step={self.step}, options={options})"
