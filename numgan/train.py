"""The training loop: batches, history, callbacks, a progress bar, checkpoints, a divergence guard.

::

    history = fit(gan, data, steps=5000, batch_size=256, rng=0)
    history = fit(gan, data, steps=8000, rng=rng, history=history)   # 3,000 steps more, same record

``data`` is an array of real samples ``(N, d)`` (batches drawn uniformly with
replacement), a pair ``(x, labels)`` for a conditional GAN, or a sampler ``data(n, rng) -> (n, d)`` such as
``lambda n, rng: numgan.data.ring(n, rng=rng)``. Every random number (batches,
noise, interpolation coefficients, instance noise) comes from the one ``rng``,
so the same seed gives the same run bit for bit, and a run resumed from a
checkpoint (which stores the rng's state) continues exactly as the
uninterrupted run would.
"""
from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import numpy.typing as npt
from tqdm.auto import tqdm

from ._checks import check_in_range, check_int, check_rng
from ._npz import read_npz, write_npz
from .checkpoint import read_checkpoint, save_checkpoint
from .data.standardise import Standardiser
from .gan import GAN, TrainingDiverged
from .history import History

Callback = Callable[[GAN, dict], None]
#: the format name of the file :meth:`Snapshots.save` writes
SNAPSHOTS_FORMAT = "numgan-snapshots"
#: a batch of real data: ``x`` alone, or the pair ``(x, labels)`` of a conditional GAN
Batch = np.ndarray | tuple[np.ndarray, np.ndarray]
#: what ``fit`` trains on: an array, an ``(x, labels)`` pair, or a sampler ``data(n, rng)`` returning either
Data = Batch | Callable[[int, np.random.Generator], Batch]
#: draws a batch, ``(n, rng) -> (x, labels)`` (labels None when unlabelled)
Draw = Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray | None]]


def batch_sampler(data: Data, dtype: npt.DTypeLike) -> Draw:
    """A function ``(n, rng) -> (x, labels)``: a batch of real data (labels None when unlabelled).

    ``data`` is an array ``(N, d)``, a pair ``(x, labels)`` of arrays (for a
    conditional GAN), or a sampler ``data(n, rng)`` returning either.
    """
    if callable(data):
        name = getattr(data, "__qualname__", None) or type(data).__name__

        def draw(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
            x, labels = _split(data(n, rng))
            if not isinstance(x, np.ndarray) or x.dtype != dtype:
                raise TypeError(f"the data sampler must return {np.dtype(dtype).name} arrays, got "
                                f"{getattr(x, 'dtype', type(x).__name__)}")
            if x.ndim != 2 or x.shape[0] != n:
                raise ValueError(f"the data sampler {name} returned "
                                 f"{x.shape[0] if x.ndim else 0} rows (shape {x.shape}) when asked for {n}: it "
                                 f"must return an array of shape ({n}, features)")
            if labels is not None and (not isinstance(labels, np.ndarray) or labels.shape != (n,)):
                raise ValueError(f"the data sampler {name} returned labels of shape "
                                 f"{getattr(labels, 'shape', type(labels).__name__)} when asked for {n} rows, "
                                 f"expected ({n},)")
            if not np.all(np.isfinite(x)):
                raise ValueError("the data sampler returned a batch with NaN or inf")
            return x, labels
        return draw
    x, labels = _split(data)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"data must be an array of real samples, an (x, labels) pair or a sampler function, "
                        f"got {type(x).__name__}")
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"data must have shape (n_samples, features), got {x.shape}")
    if x.dtype != dtype:
        raise TypeError(f"data must have dtype {np.dtype(dtype).name} like the networks, got {x.dtype.name}; "
                        f"convert it with data.astype(np.{np.dtype(dtype).name})")
    if not np.all(np.isfinite(x)):
        bad = int(np.sum(~np.isfinite(x).all(axis=1)))
        raise ValueError(f"data must be finite, got {bad} rows with NaN or inf")
    if labels is not None and (not isinstance(labels, np.ndarray) or labels.shape != (x.shape[0],)):
        raise ValueError(f"labels must be an array of shape ({x.shape[0]},), got "
                         f"{getattr(labels, 'shape', type(labels).__name__)}")

    def draw_rows(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        rows = rng.integers(0, x.shape[0], size=n)
        return x[rows], None if labels is None else labels[rows]
    return draw_rows


def _split(data: Batch) -> tuple[np.ndarray, np.ndarray | None]:
    """``(x, labels)`` from a pair, or ``(x, None)``."""
    if isinstance(data, tuple):
        if len(data) != 2:
            raise ValueError(f"data must be an (x, labels) pair, got a tuple of {len(data)}")
        return data
    return data, None


def _mapping(standardise: bool | Standardiser, data: Data, gan: GAN) -> Standardiser | None:
    """The :class:`Standardiser` that ``fit(..., standardise=...)`` trains through, or None when off."""
    if isinstance(standardise, Standardiser):
        mapping = standardise
    elif standardise is False:
        return None
    elif standardise is True:
        if callable(data):
            raise ValueError("standardise=True needs the data as an array (its mean and std per feature); for a "
                             "sampler give standardise=Standardiser(shift, scale)")
        x, _ = _split(data)
        if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[0] < 2 \
                or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise ValueError(f"standardise=True needs data of shape (n_samples >= 2, features) of real numbers, "
                             f"got {getattr(x, 'shape', type(x).__name__)} of "
                             f"{getattr(getattr(x, 'dtype', None), 'name', type(x).__name__)}")
        mapping = Standardiser.of_points(x)
    else:
        raise TypeError(f"standardise must be True, False or a numgan Standardiser, got {type(standardise).__name__}")
    if mapping.dim != gan.data_dim:
        raise ValueError(f"standardise maps {mapping.dim} features, but the generator makes {gan.data_dim}")
    return mapping


def _standardised(data: Data, mapping: Standardiser, dtype: npt.DTypeLike) -> Data:
    """``data`` seen through ``mapping.forward`` (an array converted once; a sampler's batches one by one)."""
    if callable(data):
        sampler = data

        def draw(n: int, rng: np.random.Generator) -> Batch:
            x, labels = _split(sampler(n, rng))
            if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != mapping.dim:
                raise ValueError(f"the data sampler must return arrays of shape ({n}, {mapping.dim}), got "
                                 f"{getattr(x, 'shape', type(x).__name__)}")
            y = mapping.forward(x, dtype)
            return y if labels is None else (y, labels)
        return draw
    x, labels = _split(data)
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != mapping.dim:
        raise ValueError(f"data must have shape (n_samples, {mapping.dim}) like the standardise mapping, got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"data must be finite, got {int(np.sum(~np.isfinite(x).all(axis=1)))} rows with NaN or inf")
    y = mapping.forward(x, dtype)
    return y if labels is None else (y, labels)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during :func:`fit`: a ``KeyboardInterrupt`` that says what is on disk.

    ``step`` is the step the GAN had completed, ``saved_step`` the step of
    the checkpoint at ``checkpoint_path`` (``None`` when there is none; equal to
    ``step`` when ``fit`` saved the state it was interrupted at).
    """

    def __init__(self, step: int, checkpoint_path: Path | None, saved_step: int | None) -> None:
        self.step, self.checkpoint_path, self.saved_step = step, checkpoint_path, saved_step
        where = (f"; checkpoint {checkpoint_path} holds step {saved_step}" if saved_step is not None
                 else "; no checkpoint was saved")
        super().__init__(f"training interrupted after step {step}{where}")


@contextmanager
def _deferred_sigint(enabled: bool) -> Iterator[Callable[[], bool]]:
    """While active, a first Ctrl-C only sets a flag (read by the function yielded); a second one interrupts.

    Only in the main thread and only over Python's own SIGINT handler; elsewhere nothing changes and
    the flag stays False.
    """
    pending = [False]
    if not enabled or threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield lambda: pending[0]
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if pending[0]:                      # a second Ctrl-C: stop now (fit saves nothing half-updated)
            raise KeyboardInterrupt
        pending[0] = True

    signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: pending[0]
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def fit(gan: GAN, data: Data, steps: int, batch_size: int = 256, rng: np.random.Generator | int | None = None,
        progress: bool = True, callbacks: Iterable[Callback] = (), history: History | None = None,
        checkpoint_path: str | os.PathLike | None = None, checkpoint_every: int | None = None,
        checkpoint_extra: dict | None = None, before_checkpoint: Callable[[GAN], Any] | None = None, *,
        standardise: bool | Standardiser = False) -> History:
    """Run ``gan.train_step`` until ``gan.step == steps``; return the :class:`History`.

    ``batch_size`` real samples per D step (``d_steps * batch_size`` rows per
    step). The history records every step into ``history`` (a new one by
    default; pass the one a previous call returned, or
    :func:`numgan.checkpoint.load_history`, to continue it). Each callback is
    called as ``callback(gan, record)`` after every step, after the history.
    With ``checkpoint_path``, a checkpoint (with the history) is written every
    ``checkpoint_every`` steps (default: only at the end), each time after
    ``before_checkpoint(gan)`` if given (e.g. to save what a callback kept). A step whose loss or
    gradient is NaN or inf raises :class:`TrainingDiverged`, naming the step
    and the last good checkpoint; ``checkpoint_extra`` is JSON data saved with
    each checkpoint. ``rng`` must be the same Generator object
    across calls (or restored from a checkpoint) for a run to continue exactly.

    Ctrl-C with a ``checkpoint_path`` finishes the step under way, saves a
    checkpoint of it and raises :class:`TrainingInterrupted` (a
    ``KeyboardInterrupt``) saying which step is on disk; a second Ctrl-C stops
    at once, saving nothing half-updated.

    ``standardise`` (off by default: the recipes' data are already centred and
    scaled): ``True`` trains on ``(x - mean) / std`` per feature of the data
    array (:meth:`Standardiser.of_points <numgan.data.standardise.Standardiser.of_points>`);
    a :class:`~numgan.data.standardise.Standardiser` trains on its ``forward(x)``
    (also for a sampler). The data may then be any real dtype. The mapping is
    saved in every checkpoint (:func:`numgan.checkpoint.load_standardiser` reads
    it back); the GAN learns the standardised data, so its samples come back in
    the data's units through ``mapping.inverse(gan.sample(n))``, where
    ``Standardiser.of_points(x)`` recomputes the same mapping from the same ``x``.
    """
    check_int(steps, "steps", minimum=0)
    check_int(batch_size, "batch_size")
    if batch_size % gan.config.pack:
        raise ValueError(f"batch_size must be a multiple of pack={gan.config.pack}, got {batch_size}")
    if checkpoint_every is not None:
        check_int(checkpoint_every, "checkpoint_every")
        if checkpoint_path is None:
            raise ValueError(f"checkpoint_every needs a checkpoint_path to write to, got checkpoint_every="
                             f"{checkpoint_every} with checkpoint_path=None")
    if history is None:
        if gan.step > 0 and checkpoint_path is not None:
            raise ValueError(f"history must be given to continue a run of {gan.step} steps with checkpoints "
                             f"(history=load_history(path) or the History the last fit returned), so that the "
                             f"checkpoints keep the whole history; got history=None")
        history = History()
    elif not isinstance(history, History):
        raise TypeError(f"history must be a numgan History (what fit returns), got {type(history).__name__}")
    elif history.steps != gan.step:
        raise ValueError(f"history must record the {gan.step} steps the GAN has done, got a history of "
                         f"{history.steps} steps")
    rng = check_rng(rng)
    mapping = _mapping(standardise, data, gan)
    if mapping is not None:
        data = _standardised(data, mapping, gan.dtype)
    draw = batch_sampler(data, gan.dtype)
    callbacks = [history, *callbacks]
    path = None if checkpoint_path is None else Path(checkpoint_path)

    def save() -> None:
        assert path is not None
        if before_checkpoint is not None:
            before_checkpoint(gan)
        save_checkpoint(path, gan, rng, checkpoint_extra, history=history, standardiser=mapping)

    saved_step: int | None = None           # the step of the checkpoint this call wrote last
    in_step = False                         # True while the GAN, history or callbacks may be half-updated
    completed = gan.step                    # the last step whose update, callbacks and checkpoint all ran
    bar = tqdm(total=steps, initial=min(gan.step, steps), disable=not progress, desc="training", unit="step")
    try:
        with _deferred_sigint(path is not None) as interrupted:
            while gan.step < steps:
                if interrupted():
                    raise KeyboardInterrupt
                in_step = True
                try:
                    x, labels = draw(gan.config.d_steps * batch_size, rng)
                    record = gan.train_step(x, rng, labels)
                except TrainingDiverged as err:
                    if path is not None and path.is_file():
                        on_disk = read_checkpoint(path)[0]["step"]
                        err.args = (f"{err}; the last good checkpoint is {checkpoint_path} (step {on_disk})",)
                    raise
                for callback in callbacks:
                    callback(gan, record)
                if path is not None and (gan.step == steps or (
                        checkpoint_every is not None and gan.step % checkpoint_every == 0)):
                    save()
                    saved_step = gan.step
                in_step, completed = False, gan.step
                bar.update(1)
                if gan.step % 50 == 0 or gan.step == steps:
                    bar.set_postfix(d_loss=f"{record['d_loss']:.3f}", g_loss=f"{record['g_loss']:.3f}",
                                    refresh=False)
    except KeyboardInterrupt as err:
        if path is None or isinstance(err, TrainingInterrupted):
            raise
        if not in_step and saved_step != gan.step:
            try:
                save()                      # the state after the last completed step: whole and consistent
                saved_step = gan.step
            except KeyboardInterrupt:
                saved_step = None
        if saved_step is None and path.is_file():
            try:
                saved_step = int(read_checkpoint(path)[0]["step"])
            except (OSError, ValueError, KeyError, TypeError):
                saved_step = None
        raise TrainingInterrupted(completed, path, saved_step) from None
    finally:
        bar.close()
    return history


class Snapshots:
    """A callback keeping ``(step, samples)`` every ``every`` steps, from fixed noise.

    The noise is drawn once from its own ``seed``, so snapshots never disturb
    the training rng and show the same ``z`` moving over training. A
    conditional GAN draws the classes ``labels`` (default: in turn).
    """

    def __init__(self, every: int, n: int = 500, seed: int = 0, labels: np.ndarray | None = None) -> None:
        self.every = check_int(every, "every")
        self.n = check_int(n, "n")
        self.seed = seed
        self.labels = labels
        self.frames: list[tuple[int, np.ndarray]] = []
        self.z: np.ndarray | None = None     # the fixed noise, drawn at the first call

    def __call__(self, gan: GAN, record: dict) -> None:
        if self.z is None:
            self.z = gan.noise(self.n, np.random.default_rng(self.seed))
        if gan.step % self.every == 0 or gan.step == 1:
            self.frames.append((gan.step, gan.generate(self.z, self.labels)))

    def steps_upto(self, step: int) -> list[int]:
        """The steps at which this callback keeps a frame, up to ``step``."""
        return [s for s in range(1, step + 1) if s % self.every == 0 or s == 1]

    def save(self, path: str | os.PathLike) -> Path:
        """Write the frames kept so far to ``path`` (a ``.npz``, atomically), to be read back by :meth:`load`."""
        frames = np.stack([x for _, x in self.frames]) if self.frames else np.zeros((0, 0, 0), np.float32)
        steps = np.array([s for s, _ in self.frames], dtype=np.int64)
        return write_npz(path, {"steps": steps, "frames": frames},
                         {"every": self.every, "n": self.n, "seed": self.seed}, SNAPSHOTS_FORMAT, 1)

    def load(self, path: str | os.PathLike, upto: int) -> None:
        """Replace the frames by those saved in ``path`` at steps ``<= upto`` (the step of a resumed run).

        Raises ``ValueError`` if the file was written with other settings or misses a frame.
        """
        meta, arrays = read_npz(path, SNAPSHOTS_FORMAT, versions=(1,))
        mine = {"every": self.every, "n": self.n, "seed": self.seed}
        theirs = {k: meta.get(k) for k in mine}
        if theirs != mine:
            raise ValueError(f"{str(path)!r} holds snapshots taken with {theirs}, not {mine}")
        steps, frames = arrays.get("steps"), arrays.get("frames")
        if steps is None or frames is None or steps.ndim != 1 or len(frames) != len(steps):
            raise ValueError(f"{str(path)!r} is not a readable snapshots file: it needs matching 'steps' and "
                             f"'frames' arrays")
        kept = [(int(s), frames[i]) for i, s in enumerate(steps) if s <= upto]
        if [s for s, _ in kept] != self.steps_upto(upto):
            raise ValueError(f"{str(path)!r} misses frames: it holds steps {[s for s, _ in kept][-3:]}... "
                             f"up to step {upto}, expected {self.steps_upto(upto)[-3:]}")
        self.frames = kept


class LinearDecay:
    """A callback decaying both learning rates linearly to ``final`` x their start over ``[start, end]``.

    After step ``t``: ``lr = lr0 * (1 - (1 - final) * clip((t - start) / (end - start), 0, 1))``,
    with ``lr0`` the GAN's ``g_lr`` and ``d_lr``. Stateless, so a resumed run
    decays exactly as the uninterrupted one. Annealing the step size at the end
    lets the generator settle on the modes instead of circling around them.

    See ``docs/objectives.md#training-options``.
    """

    def __init__(self, start: int, end: int, final: float = 0.0) -> None:
        self.start = check_int(start, "start", minimum=0)
        self.end = check_int(end, "end", minimum=self.start + 1)
        self.final = check_in_range(final, "final", 0.0, 1.0)     # a fraction of the starting rates

    def factor(self, step: int) -> float:
        progress = min(max((step - self.start) / (self.end - self.start), 0.0), 1.0)
        return 1 - (1 - self.final) * progress

    def __call__(self, gan: GAN, record: dict) -> None:
        f = max(self.factor(gan.step), 1e-12)   # Adam's lr must stay positive
        gan.opt_G.lr, gan.opt_D.lr = gan.config.g_lr * f, gan.config.d_lr * f


def decay_callbacks(steps: int, decay_from: float) -> list[LinearDecay]:
    """The recipes' schedule: ``[LinearDecay(int(decay_from * steps), steps)]``, or ``[]`` when ``decay_from >= 1``.

    Both learning rates stay constant for the first ``decay_from`` of the
    ``steps`` and decay linearly to 0 over the rest.
    """
    return [LinearDecay(int(steps * decay_from), steps)] if decay_from < 1 else []
