"""One adversarial training step, written as plainly as the maths.

A step of the game (``docs/objectives.md``)::

    for each of d_steps batches of real data x:
        z ~ N(0, I);  fake = G(z)
        s = D(concat(x, fake))                       one pass for real and fake
        L_D, ds_real, ds_fake = objective.discriminator(s_real, s_fake)
        grads_D = D.backward(ds) (+ the gradient penalty's)  -> Adam step on D
    z ~ N(0, I);  fake, cache_G = G.forward(z)
    s_fake, cache_D = D.forward(fake)
    L_G, ds_fake = objective.generator(s_fake)
    dfake = D.backward(ds_fake, cache_D, param_grads=False)  D is frozen: only dx
    grads_G = G.backward(dfake, cache_G)                     -> Adam step on G

Options the literature and practitioners use: separate learning rates (TTUR),
several D steps per G step, weight clipping, WGAN-GP / R1 penalties, one-sided
label smoothing, instance noise, an exponential moving average of G's weights
for sampling, and PacGAN packing (D judges ``pack`` samples joined into one).
"""
from __future__ import annotations

import numpy as np

from ._checks import check_in_range, check_int, check_matrix, check_positive
from .layers import stable_sigmoid
from .network import Sequential, tiling_buffer
from .objectives import CROSS_ENTROPY, check_objective, discriminator_loss, generator_loss
from .optim import Adam
from .penalties import r1_penalty, wgan_gp_penalty

PENALTIES = (None, "wgan_gp", "r1")


class TrainingDiverged(FloatingPointError):
    """A loss or gradient became NaN or inf; the weights were not updated with it."""

    def __init__(self, step: int, what: str, value: float) -> None:
        self.step = step
        super().__init__(f"training diverged at step {step}: {what} is {value}; "
                         f"the update of step {step} was not applied")


class GAN:
    """A generator, a discriminator, their objective and their optimizers.

    ``generator`` maps noise ``(N, z_dim)`` to samples ``(N, d)``;
    ``discriminator`` maps ``(N / pack, pack * d)`` to raw scores ``(N / pack, 1)``.
    Both must share one dtype (float32 for training).

    Options (each off by default but the objective):

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
    * ``ema``: decay of a moving average of G's weights, used by :meth:`sample`;
    * ``pack``: PacGAN packing degree ``m`` (1 is a plain GAN).
    """

    def __init__(self, generator: Sequential, discriminator: Sequential, objective: str = "non_saturating",
                 d_steps: int = 1, g_lr: float = 2e-4, d_lr: float = 2e-4,
                 betas: tuple[float, float] = (0.5, 0.999), clip: float | None = None,
                 penalty: str | None = None, penalty_weight: float = 10.0, penalty_every: int = 1,
                 label_smoothing: float = 0.0,
                 instance_noise: float = 0.0, instance_noise_steps: int | None = None,
                 ema: float | None = None, pack: int = 1, n_classes: int | None = None) -> None:
        if not isinstance(generator, Sequential):
            raise TypeError(f"generator must be a numgan Sequential, got {type(generator).__name__}")
        if not isinstance(discriminator, Sequential):
            raise TypeError(f"discriminator must be a numgan Sequential, got {type(discriminator).__name__}")
        self.G, self.D = generator, discriminator
        if self.G.dtype != self.D.dtype:
            raise TypeError(f"generator and discriminator must share one dtype, got "
                            f"{self.G.dtype.name} and {self.D.dtype.name}")
        self.dtype = self.G.dtype
        self.objective = check_objective(objective)
        self.pack = check_int(pack, "pack")
        self.n_classes = None if n_classes is None else check_int(n_classes, "n_classes", minimum=2)
        n_labels = self.n_classes or 0
        self.z_dim, self.data_dim = self.G.in_features - n_labels, self.G.out_features
        if self.z_dim < 1:
            raise ValueError(f"generator must take z_dim + n_classes inputs with z_dim >= 1, "
                             f"got {self.G.in_features} inputs for n_classes={n_classes}")
        if self.D.in_features != self.pack * (self.data_dim + n_labels):
            raise ValueError(f"discriminator must take pack * (data_dim + n_classes) = {self.pack} * "
                             f"({self.data_dim} + {n_labels}) = {self.pack * (self.data_dim + n_labels)} inputs, "
                             f"got {self.D.in_features}")
        if self.D.out_features != 1:
            raise ValueError(f"discriminator must output 1 score per input, got {self.D.out_features}")
        self.d_steps = check_int(d_steps, "d_steps")
        self.clip = None if clip is None else check_positive(clip, "clip")
        if penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {list(PENALTIES)}, got {penalty!r}")
        self.penalty = "wgan_gp" if objective == "wasserstein_gp" and penalty is None else penalty
        self.penalty_weight = check_positive(penalty_weight, "penalty_weight")
        self.penalty_every = check_int(penalty_every, "penalty_every")
        if self.penalty_every > 1 and self.penalty is None:
            raise ValueError(f"penalty_every needs a penalty ('wgan_gp' or 'r1'), got penalty_every="
                             f"{penalty_every} with penalty=None")
        self._last_penalty = 0.0   # the penalty's value on the last step that computed it
        self.label_smoothing = check_in_range(label_smoothing, "label_smoothing", 0.0, 1.0, high_open=True)
        if self.label_smoothing and objective not in CROSS_ENTROPY:
            raise ValueError(f"label_smoothing needs a cross-entropy objective {list(CROSS_ENTROPY)}, "
                             f"got objective={objective!r}")
        self.instance_noise = check_in_range(instance_noise, "instance_noise", 0.0, np.inf)
        self.instance_noise_steps = None if instance_noise_steps is None else check_int(
            instance_noise_steps, "instance_noise_steps")
        self.ema = None if ema is None else check_in_range(ema, "ema", 0.0, 1.0, low_open=True, high_open=True)
        self.G_ema = self.G.copy() if self.ema is not None else None
        self.g_lr, self.d_lr, self.betas = g_lr, d_lr, tuple(betas)
        self.opt_G = Adam(self.G.params, lr=g_lr, betas=betas)
        self.opt_D = Adam(self.D.params, lr=d_lr, betas=betas)
        self.step = 0
        self.history: dict[str, list[float]] = {}
        # one gradient buffer per network, reused every step (Sequential.backward's grad_buffer)
        self._grad_G, self._grad_D = np.empty_like(self.G.flat_params), np.empty_like(self.D.flat_params)

    def config(self) -> dict:
        """The options of this GAN as plain data (for checkpoints)."""
        return {"objective": self.objective, "d_steps": self.d_steps, "g_lr": self.g_lr, "d_lr": self.d_lr,
                "betas": list(self.betas), "clip": self.clip, "penalty": self.penalty,
                "penalty_weight": self.penalty_weight, "penalty_every": self.penalty_every,
                "label_smoothing": self.label_smoothing,
                "instance_noise": self.instance_noise, "instance_noise_steps": self.instance_noise_steps,
                "ema": self.ema, "pack": self.pack, "n_classes": self.n_classes}

    # -- pieces of the step ------------------------------------------------------------------

    def noise(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``z ~ N(0, I)`` of shape ``(n, z_dim)`` in the model's dtype."""
        return rng.standard_normal((n, self.z_dim), dtype=self.dtype)

    def one_hot(self, labels: np.ndarray) -> np.ndarray:
        """``(N,)`` integer labels -> ``(N, n_classes)`` one-hot rows in the model's dtype."""
        return np.eye(self.n_classes, dtype=self.dtype)[labels]

    def _with_labels(self, x: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
        """``x`` with the one-hot labels joined as extra columns (conditional GAN), else ``x``."""
        return x if labels is None else np.concatenate([x, self.one_hot(labels)], axis=1)

    def _packed(self, x: np.ndarray) -> np.ndarray:
        """``(N, w) -> (N / pack, pack * w)``: consecutive samples joined into one input of D."""
        return x.reshape(x.shape[0] // self.pack, self.pack * x.shape[1])

    def _check_labels(self, labels, n: int) -> np.ndarray | None:
        if self.n_classes is None:
            if labels is not None:
                raise ValueError("labels are only for a conditional GAN (n_classes set), got labels")
            return None
        labels = np.asarray(labels) if labels is not None else None
        if labels is None or labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be {n} integers for a conditional GAN, got "
                             f"{None if labels is None else f'{labels.dtype.name} array of shape {labels.shape}'}")
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise ValueError(f"labels must lie in [0, {self.n_classes}), got values from {labels.min()} "
                             f"to {labels.max()}")
        return labels

    def _noise_std(self) -> float:
        if not self.instance_noise or self.instance_noise_steps is None:
            return self.instance_noise
        return self.instance_noise * max(0.0, 1 - self.step / self.instance_noise_steps)

    def _with_instance_noise(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        std = self._noise_std()
        return x + std * rng.standard_normal(x.shape, dtype=self.dtype) if std > 0 else x

    def _guard(self, **values: float) -> None:
        for what, value in values.items():
            if not np.isfinite(value):
                raise TrainingDiverged(self.step + 1, what, value)

    def discriminator_gradients(self, x_real: np.ndarray, rng: np.random.Generator,
                                labels: np.ndarray | None = None, grad_buffer: np.ndarray | None = None
                                ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """D's loss (with the penalty) on a real batch and as many fakes, and its gradients.

        The gradients go into ``grad_buffer`` when given (the training step
        reuses one), else into a new array.

        For a conditional GAN, ``labels`` are the real batch's classes; the
        fakes are generated for the same classes, and D sees each sample with
        its one-hot label.

        With ``penalty_every = k > 1`` the penalty's gradient (weight ``k``
        times ``penalty_weight``) is added on the steps where ``self.step`` is
        a multiple of ``k`` only; the record's ``penalty`` is always at the
        weight ``penalty_weight``, measured on the last step that computed it.
        """
        n = x_real.shape[0]
        ### BEGIN SOLUTION
        fake = self.G(self._with_labels(self.noise(n, rng), labels))
        x = self._with_instance_noise(np.concatenate([x_real, fake]), rng)
        both = None if labels is None else np.concatenate([labels, labels])
        s, cache = self.D.forward(self._packed(self._with_labels(x, both)))
        s_real, s_fake = s[: n // self.pack], s[n // self.pack:]
        loss, d_real, d_fake = discriminator_loss(s_real, s_fake, self.objective, 1 - self.label_smoothing)
        _, grads = self.D.backward(np.concatenate([d_real, d_fake]), cache, input_grad=False,
                                   grad_buffer=grad_buffer)
        ### END SOLUTION
        flat = tiling_buffer(grads.values())
        if self.penalty is not None and self.step % self.penalty_every == 0:
            # lazy regularisation: on every k-th step only, with k times the weight (k = penalty_every)
            k = self.penalty_every
            scaled, p_grads = self._penalty(self._with_labels(x[:n], labels),
                                            self._with_labels(x[n:], labels), rng, k * self.penalty_weight)
            flat += tiling_buffer(p_grads.values())
            self._last_penalty = scaled / k
        penalty = self._last_penalty      # 0.0 without a penalty
        record = {"d_loss": loss + penalty, "penalty": penalty, "d_grad_norm": float(np.sqrt(np.dot(flat, flat))),
                  "d_real": float(stable_sigmoid(s_real).mean()), "d_fake": float(stable_sigmoid(s_fake).mean())}
        return record, grads

    def discriminator_step(self, x_real: np.ndarray, rng: np.random.Generator,
                           labels: np.ndarray | None = None) -> dict[str, float]:
        """One update of D (then weight clipping, if on); returns the record."""
        record, grads = self.discriminator_gradients(x_real, rng, labels, grad_buffer=self._grad_D)
        self._guard(d_loss=record["d_loss"], d_grad_norm=record["d_grad_norm"])
        self.opt_D.step(grads)
        if self.clip is not None:
            np.clip(self.D.flat_params, -self.clip, self.clip, out=self.D.flat_params)
        return record

    def _penalty(self, real: np.ndarray, fake: np.ndarray, rng: np.random.Generator, weight: float):
        real, fake = self._packed(real), self._packed(fake)
        if self.penalty == "r1":
            return r1_penalty(self.D, real, weight)
        eps = rng.uniform(size=(real.shape[0], 1)).astype(self.dtype)
        return wgan_gp_penalty(self.D, real, fake, eps, weight)

    def generator_gradients(self, n: int, rng: np.random.Generator, grad_buffer: np.ndarray | None = None
                            ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """G's loss on ``n`` fakes through a frozen D, and its gradients (into ``grad_buffer`` if given).

        For a conditional GAN the fakes' classes are drawn uniformly.
        """
        labels = None if self.n_classes is None else rng.integers(self.n_classes, size=n)
        ### BEGIN SOLUTION
        fake, cache_G = self.G.forward(self._with_labels(self.noise(n, rng), labels))
        x = self._with_instance_noise(fake, rng)          # additive: d x / d fake = I
        s_fake, cache_D = self.D.forward(self._packed(self._with_labels(x, labels)))
        loss, d_fake = generator_loss(s_fake, self.objective)
        dx, _ = self.D.backward(d_fake, cache_D, param_grads=False)
        dfake = dx.reshape(n, -1)[:, :self.data_dim]      # the label columns are not G's to change
        _, grads = self.G.backward(np.ascontiguousarray(dfake), cache_G, input_grad=False,
                                   grad_buffer=grad_buffer)
        ### END SOLUTION
        flat = tiling_buffer(grads.values())
        return {"g_loss": loss, "g_grad_norm": float(np.sqrt(np.dot(flat, flat)))}, grads

    def generator_step(self, n: int, rng: np.random.Generator) -> dict[str, float]:
        """One update of G (then of its moving average, if on); returns the record."""
        record, grads = self.generator_gradients(n, rng, grad_buffer=self._grad_G)
        self._guard(g_loss=record["g_loss"], g_grad_norm=record["g_grad_norm"])
        self.opt_G.step(grads)
        if self.G_ema is not None:   # theta_ema = ema * theta_ema + (1 - ema) * theta
            self.G_ema.flat_params += (1 - self.ema) * (self.G.flat_params - self.G_ema.flat_params)
        return record

    # -- the step ------------------------------------------------------------------------------

    def train_step(self, x_real: np.ndarray, rng: np.random.Generator,
                   labels: np.ndarray | None = None) -> dict[str, float]:
        """``d_steps`` D updates then one G update; returns the step's record.

        ``x_real`` holds ``d_steps * batch`` rows of real data, split into
        ``d_steps`` batches (one per D step); ``batch`` must be a multiple of
        ``pack``. A conditional GAN also takes the rows' integer ``labels``.
        The record has ``d_loss`` (with the penalty), ``g_loss``, ``d_real``
        and ``d_fake`` (mean ``sigmoid`` of D's scores on the last D batch),
        ``d_grad_norm``, ``g_grad_norm`` and ``penalty``.
        """
        check_matrix(x_real, "x_real", width=self.data_dim, dtype=self.dtype)
        rows = x_real.shape[0]
        if rows % self.d_steps or (rows // self.d_steps) % self.pack or rows == 0:
            raise ValueError(f"x_real must have d_steps * batch rows with batch a multiple of pack "
                             f"(d_steps={self.d_steps}, pack={self.pack}), got {rows} rows")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        labels = self._check_labels(labels, rows)
        batch = rows // self.d_steps
        for k in range(self.d_steps):
            rows_k = slice(k * batch, (k + 1) * batch)
            record = self.discriminator_step(x_real[rows_k], rng, None if labels is None else labels[rows_k])
        record.update(self.generator_step(batch, rng))
        self.step += 1
        for key, value in record.items():
            self.history.setdefault(key, []).append(value)
        return record

    def sample(self, n: int, rng: np.random.Generator | int | None = None, use_ema: bool = True,
               labels: np.ndarray | None = None) -> np.ndarray:
        """``n`` generated samples ``(n, d)``; from the moving average of G when there is one.

        A conditional GAN draws class ``labels[i]`` for row ``i`` (default:
        the classes in turn, ``0, 1, ..., n_classes - 1, 0, 1, ...``).
        """
        check_int(n, "n")
        return self.generate(self.noise(n, np.random.default_rng(rng)), labels, use_ema)

    def generate(self, z: np.ndarray, labels: np.ndarray | None = None, use_ema: bool = True) -> np.ndarray:
        """G's samples for given noise ``z`` ``(n, z_dim)`` (and classes ``labels``, if conditional)."""
        check_matrix(z, "z", width=self.z_dim, dtype=self.dtype)
        if self.n_classes is not None and labels is None:
            labels = np.arange(z.shape[0]) % self.n_classes
        labels = self._check_labels(labels, z.shape[0])
        G = self.G_ema if (use_ema and self.G_ema is not None) else self.G
        return G(self._with_labels(z, labels))

    def fit(self, data, steps: int, batch_size: int = 256, rng: np.random.Generator | int | None = None,
            **kwargs) -> dict[str, list[float]]:
        """Train until ``self.step == steps``; see :func:`numgan.train.fit`."""
        from .train import fit
        return fit(self, data, steps, batch_size, rng, **kwargs)
