"""The ``numgan`` command line.

* ``numgan train``: train a GAN on a 2-D mixture (the 8-mode ring by default,
  with the recommended recipe) and write pictures, metrics and a checkpoint
  into ``runs/<name>/``; ``--data FILE`` trains on the user's own ``.npy``, ``.npz``, ``.csv`` of points or
  folder of grey PNG images, standardised (:mod:`numgan.data.user_files`);
  ``--arch dcgan`` trains the convolutional networks of :mod:`numgan.dcgan` on an image set
  (``numgan.recipes.DCGAN_RECIPES``, below the MLP recipes' quality so far);
* ``numgan sample``: draw samples from a checkpoint into a ``.npy`` or ``.png``;
* ``numgan evaluate``: mode metrics of a checkpoint;
* ``numgan export``: a checkpoint's networks as a ``.safetensors`` or PyTorch ``.pt`` file (``docs/export.md``);
* ``numgan demo``: train a small MLP classifier and print its gradient check.

Every failure ends with one line on stderr, never a traceback: bad options and
files (exit status 2), a diverged run or a system error such as a folder that
cannot be written (1), Ctrl-C (130, after saving the run's checkpoint:
``numgan train ... --resume`` continues it). A run folder that holds a run is
never overwritten: ``--resume`` continues it, ``--force`` starts it over.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any, Callable, NoReturn, TextIO, TypeVar

import numpy as np

from . import __version__
from .checkpoint import load_checkpoint, load_history, load_standardiser, read_checkpoint
from .data import IMAGE_SHAPES, MIXTURES, default_std, load_images, mixture
from .data.standardise import Standardiser
from .data.user_files import UserData, is_data_file, load_data_file, user_recipe
from .gan import GAN, PENALTIES, TrainingDiverged
from .gradcheck import check_network
from .history import History
from .image_evaluation import evaluate_image_gan
from .losses import bce_with_logits
from .metrics import frechet_distance, mode_coverage, precision_recall
from .network import mlp
from .objectives import OBJECTIVES
from .optim import Adam
from .recipes import Recipe, resolve_recipe
from .train import Data, Snapshots, TrainingInterrupted, decay_callbacks, fit
from .viz import (image_grid_gif, plot_field, plot_history, plot_image_grid, plot_samples, save_figure,
                  training_gif)


class UsageError(Exception):
    """A bad option or file: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (``numgan train: error: ...``), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def demo(steps: int = 300, seed: int = 0, out: TextIO = sys.stdout) -> float:
    """Train ``2 -> 16 -> 16 -> 1`` to tell points inside the unit circle from outside.

    Returns the final accuracy on fresh points.
    """
    rng = np.random.default_rng(seed)
    net = mlp([2, 16, 16, 1], seed=rng)
    opt = Adam(net.params, lr=1e-2, betas=(0.9, 0.999))

    def batch(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(-1.5, 1.5, size=(n, 2)).astype(np.float32)
        y = (np.sum(x * x, axis=1, keepdims=True) < 1).astype(np.float32)
        return x, y

    print(f"Training {net}\non 'inside the unit circle?' with Adam, batch 128:", file=out)
    for step in range(1, steps + 1):
        x, y = batch(128)
        logits, cache = net.forward(x)
        loss, dlogits = bce_with_logits(logits, y)
        _, grads = net.backward(dlogits, cache)
        opt.step(grads)
        if step % 50 == 0 or step == 1:
            print(f"  step {step:4d}  loss {loss:.4f}", file=out)
    x, y = batch(2000)
    accuracy = float(np.mean((net(x) > 0) == (y > 0.5)))
    print(f"Accuracy on 2000 fresh points: {accuracy:.3f}\n", file=out)
    report = check_network(net, x[:4].astype(np.float64))
    print("Finite-difference check of every gradient (float64 copy of the trained net):", file=out)
    print(report, file=out)
    print(f"All gradients agree (max relative error {report.max_error:.1e} < {report.tol:g})"
          if report.ok else "SOME GRADIENTS ARE WRONG", file=out)
    return accuracy


# -- numgan train -------------------------------------------------------------------------------

_T = TypeVar("_T")


def _checked(convert: Callable[[str], _T], ok: Callable[[_T], bool], expected: str) -> Callable[[str], _T]:
    """An argparse type: ``convert`` the text, then require ``ok(value)``; one-line errors."""
    def parse(text: str) -> _T:
        value: _T | None
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


_positive_int = _checked(int, lambda v: v >= 1, "a positive integer")
_positive_float = _checked(float, lambda v: bool(np.isfinite(v)) and v > 0, "a positive number")
_fraction = _checked(float, lambda v: 0 <= v <= 1, "a number in [0, 1]")
_seed = _checked(int, lambda v: 0 <= v < 2**63, "a non-negative integer")


def _widths(text: str) -> list[int]:
    try:
        widths = [int(w) for w in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer widths like 64,64,64, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"expected positive layer widths like 64,64,64, got {text!r}")
    return widths


def add_train_parser(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("train", help="train a GAN on a 2-D mixture or images; write pictures, metrics, a checkpoint",
                       description="Train a GAN on a 2-D Gaussian mixture or on images. Every option defaults "
                                   "to the recommended recipe for the chosen data (numgan.recipes).")
    p.add_argument("--data", metavar="NAME|FILE",
                   help="2-D mixtures: ring (8 modes, std 0.01), grid (25 modes, std 0.05), spiral, moons; "
                        "images: digits (8x8, bundled), mnist (5,000 28x28 digits, bundled), fashion "
                        "(Fashion-MNIST IDX files, see --fashion-path) (default ring); or your own data: a .npy, "
                        ".npz (one array) or .csv file of N rows of d numbers, or a folder of same-size grey PNG "
                        "images, standardised for training (samples come back in your units)")
    p.add_argument("--conditional", action="store_true",
                   help="images only: a conditional GAN (labels joined to z and to D's input); "
                        "samples.png then has one row per class")
    p.add_argument("--fashion-path", help="folder of the Fashion-MNIST IDX files "
                                          "(default /usr/share/datasets/fashion-mnist)")
    p.add_argument("--std", type=_positive_float, help="std of each mixture component (default: the mixture's)")
    p.add_argument("--objective", choices=list(OBJECTIVES), help="the GAN objective (default non_saturating)")
    p.add_argument("--penalty", choices=[str(x).lower() for x in PENALTIES],
                   help="gradient penalty on D: none, wgan_gp, r1 (default: r1 for the recipe's objective, "
                        "wgan_gp for wasserstein_gp, else none)")
    p.add_argument("--penalty-weight", type=_positive_float,
                   help="lambda of WGAN-GP or gamma of R1 (default: the recipe's for r1, 10 for wgan_gp)")
    p.add_argument("--penalty-every", type=_positive_int,
                   help="lazy penalty: compute it every k steps with k times the weight (default: the recipe's, "
                        "else 1)")
    p.add_argument("--steps", type=_positive_int, help="training steps (G updates)")
    p.add_argument("--batch-size", type=_positive_int, help="real samples per D step")
    p.add_argument("--g-lr", type=_positive_float, help="Adam learning rate of G")
    p.add_argument("--d-lr", type=_positive_float, help="Adam learning rate of D (TTUR: larger than --g-lr)")
    p.add_argument("--d-steps", type=_positive_int, help="D steps per G step (default: the recipe's, 1)")
    p.add_argument("--hidden", type=_widths,
                   help="hidden layer widths of G, e.g. 64,128,256; D takes them reversed (D mirrors G)")
    p.add_argument("--activation", choices=["leaky_relu", "relu"],
                   help="activation of the hidden layers of G and D (default: the recipe's)")
    p.add_argument("--arch", choices=["mlp", "dcgan"],
                   help="the networks: mlp (dense layers, default) or dcgan (images only: transposed "
                        "convolutions and batch norm in G, strided convolutions in D; numgan.dcgan); the dcgan "
                        "recipes are below the mlp ones' quality so far (docs: results)")
    p.add_argument("--width", type=_positive_int,
                   help="--arch dcgan: channels of G's last and D's first hidden layer (the others have twice "
                        "as many; default: the recipe's)")
    p.add_argument("--z-dim", type=_positive_int, help="dimension of the noise z")
    p.add_argument("--pack", type=_positive_int, help="PacGAN packing degree (default 1: off)")
    p.add_argument("--ema", type=_fraction, help="decay of the moving average of G used for sampling (0: off)")
    p.add_argument("--clip", type=_positive_float,
                   help="clip D's weights to [-clip, clip] (default 0.01 for wasserstein, else off)")
    p.add_argument("--label-smoothing", type=_fraction, help="one-sided: real target 1 - this (default 0)")
    p.add_argument("--instance-noise", type=float, help="std of noise added to D's inputs (default 0)")
    p.add_argument("--decay-from", type=_fraction,
                   help="fraction of the run after which both learning rates decay linearly to 0 (1: never)")
    p.add_argument("--seed", type=_seed, help="random seed (default 0)")
    p.add_argument("--name", help="run name (default <data>-<objective>-seed<seed>)")
    p.add_argument("--out", default="runs", help="folder of runs (default runs)")
    p.add_argument("--snapshots", type=_positive_int, help="frames of training.gif (default 40)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the run in the run folder from its checkpoint, with its own settings "
                            "(the same pictures and metrics at the end as if it had not stopped)")
    again.add_argument("--force", action="store_true",
                       help="delete the run already in the run folder (its checkpoint, metrics and pictures) "
                            "and start over")


#: command-line options that are recipe settings (resolved by numgan.recipes.resolve_recipe)
RECIPE_OPTIONS = ("objective", "penalty", "penalty_weight", "penalty_every", "steps", "batch_size", "g_lr", "d_lr",
                  "d_steps", "hidden", "activation", "z_dim", "pack", "ema", "clip", "label_smoothing",
                  "instance_noise", "decay_from", "arch", "width")


def _check_arch(args: argparse.Namespace) -> str:
    """``--arch`` (``"mlp"`` when left out), refusing the options that do not go with it (one-line errors)."""
    arch = getattr(args, "arch", None) or "mlp"
    if arch != "dcgan":
        if getattr(args, "width", None) is not None:
            raise UsageError(f"--width sets the channels of --arch dcgan; the MLP takes --hidden (got --width "
                             f"{args.width} with --arch mlp)")
        return arch
    if args.data not in IMAGE_SHAPES:
        raise UsageError(f"--arch dcgan is for the image sets {', '.join(sorted(IMAGE_SHAPES))}, got --data "
                         f"{args.data}")
    if args.conditional:
        raise UsageError("--arch dcgan is not conditional yet (its discriminator takes no labels): leave out "
                         "--conditional, or use --arch mlp")
    if args.pack is not None and args.pack > 1:
        raise UsageError(f"--arch dcgan does not pack samples (its discriminator judges one image at a time): "
                         f"leave out --pack {args.pack}")
    for key in ("hidden", "activation"):
        if getattr(args, key) is not None:
            raise UsageError(f"--{key} sets the MLP's layers; --arch dcgan takes --width (its channels) and "
                             f"--z-dim")
    return arch


def resolve_options(args: argparse.Namespace) -> Recipe:
    """The recipe of ``--data`` with the options given on the command line (those left out keep the recipe's)."""
    overrides = {k: getattr(args, k) for k in RECIPE_OPTIONS if getattr(args, k) is not None}
    overrides.pop("arch", None)
    arch = _check_arch(args)
    if overrides.get("penalty") == "none":
        overrides["penalty"] = None
    if "ema" in overrides and overrides["ema"] >= 1:
        raise UsageError(f"--ema must be below 1 (0 turns it off), got {overrides['ema']}")
    if overrides.get("instance_noise", 0) < 0:
        raise UsageError(f"--instance-noise must be >= 0, got {overrides['instance_noise']}")
    if "penalty_every" in overrides and overrides["penalty_every"] > 1 and "penalty" in overrides \
            and overrides["penalty"] is None:
        raise UsageError(f"--penalty-every needs a penalty, got --penalty-every {overrides['penalty_every']} "
                         f"with no penalty")
    try:
        if _is_user_data(args.data):
            if args.conditional:
                raise UsageError("--conditional needs labelled images (digits, mnist, fashion); your own data "
                                 "has no labels")
            return user_recipe(_user_data(args.data), **overrides)
        return resolve_recipe(args.data, conditional=args.conditional, arch=arch, **overrides)
    except ValueError as err:
        message = str(err)
        for key in RECIPE_OPTIONS:                    # name the command-line option, not the Python keyword
            if "_" in key or key == "pack":
                message = re.sub(rf"\b{key}\b=?", f"--{key.replace('_', '-')} ", message).replace("  ", " ")
        raise UsageError(message) from None


def _is_user_data(data: str) -> bool:
    """Whether ``--data`` is the user's own file or folder (a built-in name wins: write ./ring for a file)."""
    if data in MIXTURES or data in IMAGE_SHAPES:
        return False
    if not is_data_file(data) and not os.path.exists(data):
        raise UsageError(f"--data must be one of {sorted(MIXTURES) + sorted(IMAGE_SHAPES)}, or a .npy, .npz or .csv "
                         f"file, or a folder of PNG images, got {data!r}")
    return True


#: the user's data read by the command under way (cleared at the start of ``train`` and ``evaluate``)
_USER_DATA: dict[str, UserData] = {}


def _user_data(data: str) -> UserData:
    """The user's file read once per command (``ValueError``s and a missing file as one-line usage errors)."""
    if data not in _USER_DATA:
        try:
            _USER_DATA[data] = load_data_file(data)
        except (FileNotFoundError, ValueError) as err:
            raise UsageError(f"--data {err}") from None
        except OSError as err:
            raise UsageError(f"--data {data!r}: cannot be read: {_os_error(err)}") from None
    return _USER_DATA[data]


def _user_metrics(fake: np.ndarray, real: np.ndarray, mapping: Standardiser) -> dict[str, Any]:
    """Samples against the data, in the data's units: the mean and std of each feature, and in training units
    the Frechet distance and precision/recall (k = 3) of up to 2,500 rows of each."""
    n = min(2500, len(real), len(fake))
    real_t, fake_t = mapping.forward(real[:n], np.float64), mapping.forward(fake[:n], np.float64)
    precision, recall = precision_recall(real_t, fake_t, k=3) if n > 3 else (float("nan"), float("nan"))
    return {"samples_mean": fake.mean(axis=0).tolist(), "samples_std": fake.std(axis=0).tolist(),
            "data_mean": mapping.shift.tolist(), "data_std": mapping.scale.tolist(),
            "frechet_distance_standardised": frechet_distance(real_t, fake_t),
            "precision": precision, "recall": recall, "n": n}


def _has_frames(snapshots: Snapshots) -> bool:
    """Whether there are frames for training.gif; a resumed run whose snapshots.npz was lost may have none."""
    if not snapshots.frames:
        print("training.gif not written: no snapshot frames (the run's snapshots.npz was missing or damaged "
              "and no step was left to record)")
    return bool(snapshots.frames)


def _grid_noise(gan: GAN, snapshots: Snapshots) -> np.ndarray:
    """The snapshots' fixed noise: drawn as :class:`Snapshots` draws it when no step was left to draw it
    (``--resume`` of a finished run)."""
    if snapshots.z is not None:
        return snapshots.z
    return gan.noise(snapshots.n, np.random.default_rng(snapshots.seed))


class MixtureRun:
    """What ``numgan train`` does that is particular to a 2-D mixture: its data, its pictures, its metrics."""

    def __init__(self, args: argparse.Namespace, recipe: Recipe) -> None:
        self.args, self.recipe = args, recipe
        self.std = args.std or default_std(args.data)
        _, self.means = mixture(args.data, 1, rng=0, return_means=True, std=self.std)
        self.snapshot_n, self.snapshot_labels = 1000, None

    def data(self) -> Data:
        return lambda n, rng: mixture(self.args.data, n, rng=rng, std=self.std)

    def describe(self) -> str:
        return f"{self.args.data} (std {self.std:g})"

    def extra(self) -> dict[str, Any]:
        return {"std": self.std}

    def report(self, gan: GAN, history: History, snapshots: Snapshots, run_dir: Path) -> tuple[dict, str]:
        args, options = self.args, self.recipe.gan
        fake = gan.sample(2500, rng=args.seed + 2)
        real = mixture(args.data, 2500, rng=np.random.default_rng(args.seed + 3), std=self.std)
        metrics = mode_coverage(fake, self.means, self.std)
        save_figure(plot_samples(real, fake, self.means, title=f"{args.data}: step {gan.step}"),
                    run_dir / "samples.png")
        if options.pack == 1:
            save_figure(plot_field(gan.D, fake[:300], options.objective, real=real[:500]), run_dir / "field.png")
        else:
            print("field.png skipped: with --pack > 1, D judges several samples at once, not points of the plane")
        if _has_frames(snapshots):
            training_gif(snapshots.frames, run_dir / "training.gif", real=real[:1000], means=self.means)
        summary = (f"{metrics['modes_covered']}/{metrics['modes']} modes, {100 * metrics['high_quality']:.1f} % "
                   f"high quality, reverse KL {metrics['reverse_kl']:.3f}")
        return _finite(metrics), summary


class ImageRun:
    """What ``numgan train`` does that is particular to images: its data, its sample grid, its metrics."""

    def __init__(self, args: argparse.Namespace, recipe: Recipe) -> None:
        self.args, self.recipe = args, recipe
        self.shape = IMAGE_SHAPES[args.data]
        try:
            self.x, self.y = load_images(args.data, "train", args.fashion_path)
        except FileNotFoundError as err:
            raise UsageError(str(err).replace("\n", " ")) from None
        self.snapshot_n = 100
        self.snapshot_labels = np.repeat(np.arange(10), 10) if args.conditional else None   # row r: class r

    def data(self) -> Data:
        return (self.x, self.y) if self.args.conditional else self.x

    def describe(self) -> str:
        h, w = self.shape
        nets = " DCGAN" if self.recipe.arch == "dcgan" else ""
        return (f"{self.args.data} {h}x{w} ({self.x.shape[0]} training images){nets}"
                f"{' conditional' if self.args.conditional else ''}")

    def extra(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "conditional": self.args.conditional, "fashion_path": self.args.fashion_path}

    def report(self, gan: GAN, history: History, snapshots: Snapshots, run_dir: Path) -> tuple[dict, str]:
        args = self.args
        rows = evaluate_image_gan(gan, args.data, seed=args.seed, fashion_path=args.fashion_path)
        grid = gan.generate(_grid_noise(gan, snapshots), self.snapshot_labels)
        title = f"{args.data}: step {gan.step}" + (" (row r: class r)" if args.conditional else "")
        save_figure(plot_image_grid(grid, self.shape, nrow=10, title=title), run_dir / "samples.png")
        if _has_frames(snapshots):
            image_grid_gif(snapshots.frames, run_dir / "training.gif", self.shape, nrow=10)
        g = rows["gan"]
        summary = (f"classifier score {g['classifier_score']:.2f} (held-out real "
                   f"{rows['held_out']['classifier_score']:.2f}), {g['classes_present']} classes, precision "
                   f"{g['precision']:.2f}, recall {g['recall']:.2f}"
                   + (f", {100 * g['conditional_accuracy']:.1f} % classified as their label"
                      if args.conditional else ""))
        return {"data": args.data, **rows}, summary


class UserRun:
    """What ``numgan train --data FILE`` does for the user's own points or images: standardised training,
    pictures and metrics in the data's units."""

    def __init__(self, args: argparse.Namespace, recipe: Recipe) -> None:
        if args.std is not None:
            raise UsageError("--std is the component std of a built-in mixture; leave it out with your own data")
        self.args, self.recipe = args, recipe
        self.user = _user_data(args.data)
        self.mapping = self.user.standardiser()
        self.images = self.user.kind == "images"
        self.snapshot_n, self.snapshot_labels = (100 if self.images else 1000), None

    def data(self) -> Data:
        return self.user.x

    def describe(self) -> str:
        how = ("pixels [0, 1] -> [-1, 1]" if self.images else "standardised per feature (mean, std)")
        return f"{self.user.describe()}, {how}, {self.user.recipe_name} recipe"

    def extra(self) -> dict[str, Any]:
        return {"data_path": str(Path(self.args.data).resolve()),
                "data_file": {"kind": self.user.kind, "source": self.user.source, "rows": int(self.user.x.shape[0]),
                              "features": int(self.user.x.shape[1]), "recipe": self.user.recipe_name,
                              **({"shape": list(self.user.shape)} if self.user.shape else {})}}

    def report(self, gan: GAN, history: History, snapshots: Snapshots, run_dir: Path) -> tuple[dict, str]:
        real = self.user.x[np.random.default_rng(self.args.seed + 3).permutation(len(self.user.x))[:2500]]
        fake = self.mapping.inverse(gan.sample(2500, rng=self.args.seed + 2))
        frames = [(step, self.mapping.inverse(x)) for step, x in snapshots.frames]
        if self.images:
            assert self.user.shape is not None
            grid = self.mapping.inverse(gan.generate(_grid_noise(gan, snapshots)))
            save_figure(plot_image_grid(grid, self.user.shape, nrow=10, title=f"{self.args.data}: step {gan.step}",
                                        value_range=(0.0, 1.0)), run_dir / "samples.png")
            if _has_frames(snapshots):
                image_grid_gif(frames, run_dir / "training.gif", self.user.shape, nrow=10, value_range=(0.0, 1.0))
        else:
            first_two = "" if real.shape[1] == 2 else " (features 1 and 2)"
            save_figure(plot_samples(real[:, :2], fake[:, :2], title=f"{self.args.data}: step {gan.step}{first_two}"),
                        run_dir / "samples.png")
            if _has_frames(snapshots):
                training_gif([(s, x[:, :2]) for s, x in frames], run_dir / "training.gif", real=real[:1000, :2])
        metrics = _user_metrics(fake, real, self.mapping)
        if metrics["n"] > 3:
            pr = f"precision {metrics['precision']:.2f}, recall {metrics['recall']:.2f}"
        else:   # k-nearest-neighbour radii (k = 3) need at least 4 points
            pr = f"no precision or recall (they need at least 4 data points, the data have {metrics['n']})"
        summary = f"Frechet distance {metrics['frechet_distance_standardised']:.3f} (standardised units), {pr}"
        return _finite(metrics), summary


#: the files ``numgan train`` writes in a run folder (``--force`` deletes these, and nothing else)
RUN_FILES = ("checkpoint.npz", "snapshots.npz", "metrics.json", "samples.png", "field.png", "losses.png",
             "training.gif")
#: the files whose presence means that a run folder holds a run
RUN_MARKS = ("checkpoint.npz", "metrics.json")
#: ``numgan train`` options that are not recipe settings but fix the run (restored by ``--resume``)
RUN_OPTIONS = ("data", "seed", "conditional", "fashion_path", "std", "snapshots")


def resume_command(run_dir: Path) -> str:
    """The command that resumes the run in ``run_dir``."""
    return (f"numgan train --out {shlex.quote(str(run_dir.parent))} --name {shlex.quote(run_dir.name)} "
            f"--resume")


def _given_options(args: argparse.Namespace) -> dict[str, Any]:
    """The recipe options given on the command line, as JSON data (what a checkpoint stores to resume)."""
    return {k: getattr(args, k) for k in RECIPE_OPTIONS if getattr(args, k) is not None}


def _run_dir(args: argparse.Namespace, objective: str) -> Path:
    conditional = "-conditional" if args.conditional else ""
    arch = "-dcgan" if getattr(args, "arch", None) == "dcgan" else ""
    data = Path(args.data).stem if _is_user_data(args.data) else args.data     # points.csv -> points
    run_dir = Path(args.out) / (args.name or f"{data}{arch}{conditional}-{objective}-seed{args.seed}")
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"the run folder {run_dir} is a file, not a folder: choose another --out or --name")
    return run_dir


def _resume_settings(args: argparse.Namespace, run_dir: Path) -> dict[str, Any]:
    """Set ``args`` to the settings of the run in ``run_dir`` (for ``--resume``); return its checkpoint's extra.

    Options given on the command line must be the run's own: a resumed run continues exactly as it started.
    """
    path = run_dir / "checkpoint.npz"
    if not path.is_file():
        raise UsageError(f"--resume: there is no run to resume in {run_dir} (no checkpoint.npz): leave out "
                         f"--resume to start one")
    meta, _ = _read(path)
    extra = meta.get("extra")
    if not isinstance(extra, dict):
        raise UsageError(f"{path} cannot be resumed: its 'extra' metadata must be a JSON object, got "
                         f"{type(extra).__name__}")
    if not isinstance(extra.get("options"), dict) or not all(k in extra for k in ("data", "seed", "loop")):
        raise UsageError(f"{path} cannot be resumed from the command line: it does not record the options of "
                         f"its run (written by an older numgan or by Python): use --force to start over")
    stored = extra["options"]
    for key in RECIPE_OPTIONS:
        given = getattr(args, key)
        if given is not None and json.loads(json.dumps(given)) != stored.get(key):
            run_value = stored.get(key, "the recipe's")
            raise UsageError(f"--resume continues the run with its own settings, but --{key.replace('_', '-')} "
                             f"{given} differs from the run's ({run_value}): leave it out")
    for key in RUN_OPTIONS:
        given, theirs = getattr(args, key), extra.get(key)
        if key == "conditional":
            given = given or None
            theirs = theirs or None
        if given is not None and theirs is not None and given != theirs:
            raise UsageError(f"--resume continues the run with its own settings, but --{key.replace('_', '-')} "
                             f"{given} differs from the run's ({theirs}): leave it out")
    for key in RECIPE_OPTIONS:
        setattr(args, key, stored.get(key))
    args.data, args.seed = extra["data"], extra["seed"]
    args.conditional = bool(extra.get("conditional", False))
    args.fashion_path = extra.get("fashion_path")
    args.std = extra.get("std")
    args.snapshots = extra.get("snapshots", 40)
    return extra


def _start_over(run_dir: Path) -> None:
    """``--force``: delete the files of the run in ``run_dir`` (those ``numgan train`` writes, nothing else)."""
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)
    for tmp in run_dir.glob("*.npz.*.tmp"):        # a save that was cut short
        tmp.unlink(missing_ok=True)


def _read(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    try:
        return read_checkpoint(path)
    except (FileNotFoundError, ValueError) as err:
        raise UsageError(str(err)) from None


def train(args: argparse.Namespace) -> Path:
    """``numgan train``: resolve the recipe, train with checkpoints, then write metrics and pictures.

    A run folder that already holds a run is refused unless ``args.resume`` (continue it, bit for bit) or
    ``args.force`` (delete it and start over).
    """
    resume, force = getattr(args, "resume", False), getattr(args, "force", False)
    _USER_DATA.clear()                             # each command reads the user's file afresh
    if args.seed is None and not resume:
        args.seed = 0
    if args.data is None and not resume:
        args.data = "ring"
    if resume:                                     # the run folder, from the options given, then its settings
        given = argparse.Namespace(**vars(args))
        given.data = args.data or "ring"
        given.seed = 0 if args.seed is None else args.seed
        run_dir = _run_dir(given, resolve_options(given).gan.objective if not args.name else "")
        extra = _resume_settings(args, run_dir)
    recipe = resolve_options(args)
    if args.snapshots is None:
        args.snapshots = 40
    run: MixtureRun | ImageRun | UserRun
    if _is_user_data(args.data):
        run = UserRun(args, recipe)
    else:
        run = ImageRun(args, recipe) if args.data in IMAGE_SHAPES else MixtureRun(args, recipe)
    mapping = run.mapping if isinstance(run, UserRun) else None
    options, loop = recipe.gan, recipe.loop
    if resume:
        if json.loads(json.dumps({"networks": recipe.networks, "loop": loop})) != \
                {"networks": extra.get("networks"), "loop": extra.get("loop")}:
            raise UsageError(f"{run_dir / 'checkpoint.npz'} cannot be resumed: its recipe (networks and loop) "
                             f"differs from what this numgan makes of its options")
    else:
        run_dir = _run_dir(args, options.objective)
        if any((run_dir / name).exists() for name in RUN_MARKS):
            if not force:
                raise UsageError(f"{run_dir} already holds a run: add --resume to continue it from its "
                                 f"checkpoint, or --force to delete it and start over (or choose another --name)")
            _start_over(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create the run folder {run_dir}: {err.strerror or err}") from None
    checkpoint = run_dir / "checkpoint.npz"
    steps = loop["steps"]
    snapshots = Snapshots(every=max(1, steps // args.snapshots), n=run.snapshot_n, seed=args.seed + 1,
                          labels=run.snapshot_labels)
    history: History | None = None
    if resume:
        try:
            gan, rng = load_checkpoint(checkpoint)
            history = load_history(checkpoint)
        except (FileNotFoundError, ValueError, KeyError, TypeError) as err:
            message = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)  # no KeyError quotes
            raise UsageError(f"{checkpoint} cannot be resumed: {message.splitlines()[0] if message else repr(err)}"
                             ) from None
        if gan.config.to_dict() != options.to_dict():
            raise UsageError(f"{checkpoint} cannot be resumed: its GAN options differ from its recipe's")
        stored = _mapping_of(checkpoint)
        if (mapping or Standardiser.identity(gan.data_dim)) != stored:
            raise UsageError(f"{checkpoint} cannot be resumed: the data in {args.data} changed since the run "
                             f"started (its mean and std per feature differ from those the run trains through)")
        try:
            snapshots.load(run_dir / "snapshots.npz", upto=gan.step)
        except (FileNotFoundError, ValueError) as err:
            print(f"training.gif will miss the frames before step {gan.step}: {str(err).splitlines()[0]}")
        print(f"numgan train: resuming {run_dir}/ at step {gan.step} of {steps}", flush=True)
    else:
        try:
            gan = recipe.build_gan(args.seed)
        except MemoryError as err:
            raise UsageError(f"not enough memory for the networks of {_network_options(recipe)} and --z-dim "
                             f"{recipe.networks['z_dim']}: {err}") from None
        rng = np.random.default_rng(args.seed)
    print(f"numgan train: {run.describe()}, {options.objective}, penalty {options.penalty}, {steps} steps of "
          f"batch {loop['batch_size']} -> {run_dir}/", flush=True)
    extra = {"data": args.data, "seed": args.seed, **run.extra(), "networks": recipe.networks, "loop": loop,
             "options": _given_options(args), "snapshots": args.snapshots}
    start = time.perf_counter()
    try:
        history = fit(gan, run.data(), steps, loop["batch_size"], rng=rng, progress=not args.no_progress,
                      callbacks=[snapshots, *decay_callbacks(steps, loop["decay_from"])], history=history,
                      checkpoint_path=checkpoint, checkpoint_every=max(1, steps // 10), checkpoint_extra=extra,
                      before_checkpoint=lambda _: snapshots.save(run_dir / "snapshots.npz"),
                      standardise=mapping or False)
    except MemoryError as err:
        raise UsageError(f"not enough memory to train networks of {_network_options(recipe)} on batches of "
                         f"--batch-size "
                         f"{loop['batch_size']} x --d-steps {options.d_steps}: {err}") from None
    seconds = time.perf_counter() - start
    metrics, summary = run.report(gan, history, snapshots, run_dir)
    metrics.update(seconds=round(seconds, 2), steps=steps,
                   options={**recipe.flat(), **run.extra(), "seed": args.seed})
    with open(run_dir / "metrics.json", "w") as f:
        json.dump(metrics, f, indent=2, default=_plain)
    save_figure(plot_history(history), run_dir / "losses.png")
    print(f"done in {seconds:.1f} s: {summary}")
    print(f"wrote {', '.join(sorted(p.name for p in run_dir.iterdir()))} in {run_dir}/")
    return run_dir


def _network_options(recipe: Recipe) -> str:
    """The option that sizes the recipe's networks, as typed: ``--hidden 64,64`` or ``--arch dcgan --width 32``."""
    if recipe.arch == "dcgan":
        return f"--arch dcgan --width {recipe.networks['width']}"
    return f"--hidden {','.join(map(str, recipe.networks['g_hidden']))}"


def _plain(value: object) -> object:
    """numpy numbers and arrays as JSON numbers and lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _finite(metrics: dict[str, Any]) -> dict[str, Any]:
    """JSON has no inf: an infinite reverse KL (no high-quality sample) is written as null."""
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in metrics.items()}


# -- numgan sample / evaluate --------------------------------------------------------------------

def _load(path: str) -> tuple[GAN, dict[str, Any]]:
    if Path(path).is_dir():
        raise UsageError(f"--checkpoint {path!r} is a directory, not a checkpoint file (give its checkpoint.npz)")
    try:
        gan, _ = load_checkpoint(path)
        meta, _ = read_checkpoint(path)
    except (FileNotFoundError, ValueError, KeyError, TypeError) as err:
        raise UsageError(str(err) or f"{path!r} is not a readable checkpoint ({type(err).__name__})") from None
    extra = meta.get("extra", {})
    if not isinstance(extra, dict):
        raise UsageError(f"{path!r} is not a readable checkpoint: its 'extra' metadata must be a JSON object, "
                         f"got {type(extra).__name__}")
    return gan, extra


def _mapping_of(path: str | os.PathLike) -> Standardiser:
    """The data mapping stored in a checkpoint (the identity for one trained without), as a usage error if bad."""
    try:
        return load_standardiser(path)
    except (FileNotFoundError, ValueError, KeyError, TypeError) as err:
        raise UsageError(str(err) or f"{str(path)!r} is not a readable checkpoint ({type(err).__name__})") from None


def _in_data_units(x: np.ndarray, mapping: Standardiser) -> np.ndarray:
    """Samples of G mapped to the data's units (unchanged, bit for bit, by the identity of older checkpoints)."""
    return x if mapping.is_identity else mapping.inverse(x, x.dtype)


def _samples(gan: GAN, n: int, seed: int, use_ema: bool = True) -> np.ndarray:
    """``gan.sample``, with a one-line error naming ``--n`` when the memory is short."""
    try:
        return gan.sample(n, rng=seed, use_ema=use_ema)
    except MemoryError as err:
        raise UsageError(f"not enough memory for --n {n} samples: {err}") from None


def sample(args: argparse.Namespace) -> Path:
    gan, extra = _load(args.checkpoint)
    x = _in_data_units(_samples(gan, args.n, args.seed, use_ema=not args.raw), _mapping_of(args.checkpoint))
    out = Path(args.out)
    if out.suffix == ".npy":
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(out, x, allow_pickle=False)
    elif out.suffix == ".png" and isinstance(extra.get("data_file"), dict) and extra["data_file"].get("shape"):
        shape = _shape(extra["data_file"]["shape"], x.shape[1], args.checkpoint)
        save_figure(plot_image_grid(x, shape, nrow=10, title=f"{args.n} samples", value_range=(0.0, 1.0)), out)
    elif out.suffix == ".png" and "shape" in extra:
        save_figure(plot_image_grid(x, tuple(extra["shape"]), nrow=10, title=f"{args.n} samples"), out)
    elif out.suffix == ".png":
        if x.shape[1] != 2:
            raise UsageError(f"--out .png draws 2-D samples; these have {x.shape[1]} dimensions: use .npy")
        save_figure(plot_samples(None, x, title=f"{args.n} samples from {args.checkpoint}"), out)
    else:
        raise UsageError(f"--out must end in .npy or .png, got {str(out)!r}")
    print(f"wrote {args.n} samples to {out}")
    return out


def _shape(value: object, features: int, path: str) -> tuple[int, int]:
    """An image shape ``[H, W]`` from a checkpoint's metadata, checked against G's output width."""
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and v > 0 for v in value)
            and value[0] * value[1] == features):
        raise UsageError(f"{path!r}: its data_file shape must be [H, W] with H * W = {features}, got {value!r:.60}")
    return value[0], value[1]


def _evaluate_user_data(args: argparse.Namespace, gan: GAN, extra: dict[str, Any]) -> dict[str, Any]:
    """``numgan evaluate`` of a run on the user's own data: samples in its units against the data file."""
    mapping = _mapping_of(args.checkpoint)
    fake = _in_data_units(_samples(gan, args.n, args.seed), mapping)
    path = args.data or extra.get("data_path") or extra.get("data")
    if not isinstance(path, str):
        raise UsageError("the checkpoint does not say which data it was trained on: give --data")
    real = _user_data(path).x
    if real.shape[1] != fake.shape[1]:
        raise UsageError(f"--data {path!r} has {real.shape[1]} features, the checkpoint's samples "
                         f"{fake.shape[1]}")
    real = real[np.random.default_rng(args.seed + 3).permutation(len(real))[:args.n]]
    metrics = _user_metrics(fake, real, mapping)
    metrics.update(data=path, step=gan.step)
    print(json.dumps(_finite(metrics), indent=2))
    return metrics


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    gan, extra = _load(args.checkpoint)
    _USER_DATA.clear()
    data_file = isinstance(extra.get("data"), str) and isinstance(extra.get("data_file"), dict)
    if data_file or (args.data is not None and _is_user_data(args.data)):
        return _evaluate_user_data(args, gan, extra)
    if extra.get("data") in IMAGE_SHAPES:
        h, w = IMAGE_SHAPES[extra["data"]]
        _check_sample_width(gan, h * w, f"the {h}x{w} images of {extra['data']!r}")
        rows = evaluate_image_gan(gan, extra["data"], seed=args.seed, fashion_path=extra.get("fashion_path"))
        print(json.dumps({"data": extra["data"], "step": gan.step, **rows}, indent=2, default=_plain))
        return rows
    name = args.data or extra.get("data")
    if name is None:
        raise UsageError("the checkpoint does not say which data it was trained on: give --data")
    std = args.std or extra.get("std") or default_std(name)
    _, means = mixture(name, 1, rng=0, return_means=True, std=std)
    _check_sample_width(gan, means.shape[1], f"the points of the mixture {name!r}")
    metrics = mode_coverage(_samples(gan, args.n, args.seed), means, std)
    metrics.update(data=name, std=std, n=args.n, step=gan.step)
    print(json.dumps(_finite(metrics), indent=2))
    return metrics


def _check_sample_width(gan: GAN, width: int, what: str) -> None:
    """A ``UsageError`` unless the checkpoint's G makes samples of ``width`` numbers (``what`` names the data)."""
    if gan.data_dim != width:
        raise UsageError(f"the checkpoint's generator makes samples of {gan.data_dim} numbers, but {what} have "
                         f"{width}: give the --data it was trained on")


# -- numgan export ------------------------------------------------------------------------------

def export(args: argparse.Namespace) -> Path:
    """``numgan export``: G, D (and G_ema) of a checkpoint in PyTorch's names and layouts (:mod:`numgan.export`)."""
    from .export import EXPORT_SUFFIXES, export_checkpoint
    out = Path(args.out)
    if out.suffix not in EXPORT_SUFFIXES:
        raise UsageError(f"--out must end in .safetensors or .pt, got {args.out!r}")
    if Path(args.checkpoint).is_dir():
        raise UsageError(f"--checkpoint {args.checkpoint!r} is a directory, not a checkpoint file (give its "
                         f"checkpoint.npz)")
    try:
        path = export_checkpoint(args.checkpoint, out)
    except ImportError:
        raise UsageError(f"--out {str(out)!r} (a .pt file) needs PyTorch, which is not installed: pip install "
                         f"'numgan[torch]' (a .safetensors file needs only NumPy)") from None
    except (FileNotFoundError, ValueError, TypeError) as err:
        raise UsageError(str(err) or f"{args.checkpoint!r} cannot be exported ({type(err).__name__})") from None
    meta, _ = read_checkpoint(args.checkpoint)
    nets = "G, D and G_ema" if meta["config"].get("ema") is not None else "G and D"
    print(f"wrote {nets} of step {meta['step']} (PyTorch nn.Sequential names and layouts) to {path}")
    return path


def _os_error(err: OSError) -> str:
    """An OSError in words: what went wrong and with which file."""
    what = err.strerror or str(err) or type(err).__name__
    files = [f for f in (err.filename, err.filename2) if f is not None]
    return f"{what}: {' -> '.join(repr(str(f)) for f in files)}" if files else what


def _error(message: str, status: int) -> int:
    print(f"numgan: error: {message.strip().splitlines()[0] if message.strip() else 'unknown error'}",
          file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="numgan", description="GANs from scratch in NumPy.")
    parser.add_argument("--version", action="version", version=f"numgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_train_parser(sub)
    p = sub.add_parser("sample", help="draw samples from a checkpoint into a .npy or .png file")
    p.add_argument("--checkpoint", required=True, help="a checkpoint.npz written by numgan train")
    p.add_argument("--n", type=_positive_int, default=1000, help="number of samples (default 1000)")
    p.add_argument("--out", required=True, help="output file, .npy (the array) or .png (a scatter plot)")
    p.add_argument("--seed", type=_seed, default=0, help="random seed of the noise (default 0)")
    p.add_argument("--raw", action="store_true", help="sample from G itself, not its moving average")
    p = sub.add_parser("evaluate", help="mode coverage of a checkpoint's samples")
    p.add_argument("--checkpoint", required=True, help="a checkpoint.npz written by numgan train")
    p.add_argument("--n", type=_positive_int, default=2500, help="number of samples (default 2500)")
    p.add_argument("--data", metavar="NAME|FILE",
                   help="the mixture, or your data file or folder (default: the checkpoint's)")
    p.add_argument("--std", type=_positive_float, help="component std (default: the checkpoint's)")
    p.add_argument("--seed", type=_seed, default=0, help="random seed of the noise (default 0)")
    p = sub.add_parser("export", help="write a checkpoint's networks as .safetensors or PyTorch .pt",
                       description="Write G, D (and G's moving average) of a checkpoint with PyTorch's "
                                   "nn.Sequential names and layouts (Linear.weight = W.T): a .safetensors file "
                                   "(NumPy only; PyTorch, JAX and others read it) or a .pt file (needs PyTorch: "
                                   "pip install 'numgan[torch]'). See docs/export.md.")
    p.add_argument("--checkpoint", required=True, help="a checkpoint.npz written by numgan train")
    p.add_argument("--out", required=True, help="output file, model.safetensors or model.pt")
    p = sub.add_parser("demo", help="train a small MLP and print its gradient check")
    p.add_argument("--steps", type=_positive_int, default=300, help="training steps (default 300)")
    p.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            train(args)
        elif args.command == "sample":
            sample(args)
        elif args.command == "evaluate":
            evaluate(args)
        elif args.command == "export":
            export(args)
        else:
            demo(args.steps, args.seed)
    except TrainingInterrupted as err:
        if err.checkpoint_path is None or err.saved_step is None:
            print(f"numgan: interrupted after step {err.step}; no checkpoint was saved, so there is nothing to "
                  f"resume", file=sys.stderr)
        else:
            print(f"numgan: interrupted: step {err.saved_step} is saved in {err.checkpoint_path}; resume with: "
                  f"{resume_command(err.checkpoint_path.parent)}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("numgan: interrupted", file=sys.stderr)
        return 130
    except (UsageError, ValueError, TypeError) as err:
        return _error(str(err), 2)
    except TrainingDiverged as err:
        return _error(str(err), 1)
    except MemoryError as err:
        return _error(f"not enough memory: {err}", 1)
    except OSError as err:
        return _error(_os_error(err), 1)
    except Exception as err:        # a bug of numgan: still one line, the traceback on request
        if os.environ.get("NUMGAN_TRACEBACK"):
            raise
        return _error(f"{type(err).__name__}: {err} (a bug in numgan? NUMGAN_TRACEBACK=1 shows the traceback)", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
