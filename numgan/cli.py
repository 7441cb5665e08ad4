"""The ``numgan`` command line.

* ``numgan train``: train a GAN on a 2-D mixture (the 8-mode ring by default,
  with the recommended recipe) and write pictures, metrics and a checkpoint
  into ``runs/<name>/``;
* ``numgan sample``: draw samples from a checkpoint into a ``.npy`` or ``.png``;
* ``numgan evaluate``: mode metrics of a checkpoint;
* ``numgan demo``: train a small MLP classifier and print its gradient check.

Bad options end with a one-line error (exit status 2), never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from .checkpoint import load_checkpoint, read_checkpoint
from .data import MIXTURES, default_std, mixture
from .gan import PENALTIES, TrainingDiverged
from .gradcheck import check_network
from .losses import bce_with_logits
from .metrics import mode_coverage
from .network import mlp
from .objectives import OBJECTIVES
from .optim import Adam
from .recipes import RECIPES, build_gan
from .train import Snapshots, decay_callbacks, fit
from .images import IMAGE_RECIPES, SHAPES, evaluate_image_gan, image_gan, load_images
from .viz import (image_grid_gif, plot_field, plot_history, plot_image_grid, plot_samples, save_figure,
                  training_gif)


class UsageError(Exception):
    """A bad option or file: reported in one line, exit status 2."""


def demo(steps: int = 300, seed: int = 0, out=sys.stdout) -> float:
    """Train ``2 -> 16 -> 16 -> 1`` to tell points inside the unit circle from outside.

    Returns the final accuracy on fresh points.
    """
    rng = np.random.default_rng(seed)
    net = mlp([2, 16, 16, 1], seed=rng)
    opt = Adam(net.params, lr=1e-2, betas=(0.9, 0.999))

    def batch(n):
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

def _checked(convert, ok, expected: str):
    """An argparse type: ``convert`` the text, then require ``ok(value)``; one-line errors."""
    def parse(text: str):
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


def _widths(text: str) -> list[int]:
    try:
        widths = [int(w) for w in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer widths like 64,64,64, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"expected positive layer widths like 64,64,64, got {text!r}")
    return widths


def add_train_parser(sub) -> None:
    p = sub.add_parser("train", help="train a GAN on a 2-D mixture or images; write pictures, metrics, a checkpoint",
                       description="Train a GAN on a 2-D Gaussian mixture or on images. Every option defaults "
                                   "to the recommended recipe for the chosen data (numgan.recipes, "
                                   "numgan.images).")
    p.add_argument("--data", choices=sorted(MIXTURES) + sorted(SHAPES), default="ring",
                   help="2-D mixtures: ring (8 modes, std 0.01), grid (25 modes, std 0.05), spiral, moons; "
                        "images: digits (8x8, bundled), mnist (5,000 28x28 digits, bundled), fashion "
                        "(Fashion-MNIST IDX files, see --fashion-path) (default ring)")
    p.add_argument("--conditional", action="store_true",
                   help="images only: a conditional GAN (labels joined to z and to D's input); "
                        "samples.png then has one row per class")
    p.add_argument("--fashion-path", help="folder of the Fashion-MNIST IDX files "
                                          "(default /usr/share/datasets/fashion-mnist)")
    p.add_argument("--std", type=_positive_float, help="std of each mixture component (default: the mixture's)")
    p.add_argument("--objective", choices=OBJECTIVES, help="the GAN objective (default non_saturating)")
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
    p.add_argument("--d-steps", type=_positive_int, default=1, help="D steps per G step (default 1)")
    p.add_argument("--hidden", type=_widths,
                   help="hidden layer widths, e.g. 64,64,64 (2-D: G and D; images: G, and D takes them reversed)")
    p.add_argument("--activation", choices=["leaky_relu", "relu"],
                   help="activation of the hidden layers of G and D (default: the recipe's)")
    p.add_argument("--z-dim", type=_positive_int, help="dimension of the noise z")
    p.add_argument("--pack", type=_positive_int, default=1, help="PacGAN packing degree (default 1: off)")
    p.add_argument("--ema", type=_fraction, help="decay of the moving average of G used for sampling (0: off)")
    p.add_argument("--clip", type=_positive_float,
                   help="clip D's weights to [-clip, clip] (default 0.01 for wasserstein, else off)")
    p.add_argument("--label-smoothing", type=_fraction, default=0.0, help="one-sided: real target 1 - this")
    p.add_argument("--instance-noise", type=float, default=0.0, help="std of noise added to D's inputs")
    p.add_argument("--decay-from", type=_fraction,
                   help="fraction of the run after which both learning rates decay linearly to 0 (1: never)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--name", help="run name (default <data>-<objective>-seed<seed>)")
    p.add_argument("--out", default="runs", help="folder of runs (default runs)")
    p.add_argument("--snapshots", type=_positive_int, default=40, help="frames of training.gif (default 40)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _train_options(args) -> tuple[dict, dict]:
    """The GAN options and the loop settings from the recipe, overridden by the command line."""
    recipe = dict(IMAGE_RECIPES[args.data] if args.data in SHAPES else RECIPES[args.data])
    objective = args.objective or recipe["objective"]
    if args.penalty is not None:
        penalty = None if args.penalty == "none" else args.penalty
    elif objective == recipe["objective"]:
        penalty = recipe.get("penalty")
    else:
        penalty = None
    if objective == "wasserstein_gp" and penalty == "r1":
        raise UsageError("--objective wasserstein_gp uses the WGAN-GP penalty; drop --penalty r1")
    weight = args.penalty_weight or (recipe.get("penalty_weight", 10.0) if penalty == "r1" else 10.0)
    every = args.penalty_every or (recipe.get("penalty_every", 1) if penalty == recipe.get("penalty") else 1)
    if every > 1 and penalty is None:
        raise UsageError(f"--penalty-every needs a penalty, got --penalty-every {every} with no penalty")
    ema = recipe["ema"] if args.ema is None else args.ema
    clip = args.clip if args.clip is not None else (0.01 if objective == "wasserstein" else None)
    if ema >= 1:
        raise UsageError(f"--ema must be below 1 (0 turns it off), got {ema}")
    options = dict(objective=objective, penalty=penalty, penalty_weight=weight, penalty_every=every,
                   g_lr=args.g_lr or recipe["g_lr"], d_lr=args.d_lr or recipe["d_lr"], d_steps=args.d_steps,
                   ema=ema or None, clip=clip, label_smoothing=args.label_smoothing,
                   instance_noise=args.instance_noise, pack=args.pack)
    loop = dict(z_dim=args.z_dim or recipe["z_dim"],
                activation=args.activation or recipe.get("activation", "leaky_relu"),
                steps=args.steps or recipe["steps"], batch_size=args.batch_size or recipe["batch_size"],
                decay_from=recipe["decay_from"] if args.decay_from is None else args.decay_from)
    if args.data in SHAPES:
        loop["g_hidden"] = args.hidden or recipe["g_hidden"]
        loop["d_hidden"] = args.hidden[::-1] if args.hidden else recipe["d_hidden"]
    else:
        loop["hidden"] = args.hidden or recipe["hidden"]
        if args.conditional:
            raise UsageError("--conditional is for image data (digits, mnist, fashion)")
    if loop["batch_size"] % args.pack:
        raise UsageError(f"--batch-size must be a multiple of --pack {args.pack}, got {loop['batch_size']}")
    if args.instance_noise < 0:
        raise UsageError(f"--instance-noise must be >= 0, got {args.instance_noise}")
    return options, loop


def train(args) -> Path:
    options, loop = _train_options(args)
    if args.data in SHAPES:
        return train_images(args, options, loop)
    std = args.std or default_std(args.data)
    name = args.name or f"{args.data}-{options['objective']}-seed{args.seed}"
    run_dir = Path(args.out) / name
    _, means = mixture(args.data, 1, rng=0, return_means=True, std=std)

    def data(n, rng):
        return mixture(args.data, n, rng=rng, std=std)

    gan = build_gan(2, loop["hidden"], loop["z_dim"], args.seed, activation=loop["activation"], **options)
    steps = loop["steps"]
    snapshots = Snapshots(every=max(1, steps // args.snapshots), n=1000, seed=args.seed + 1)
    callbacks = [snapshots, *decay_callbacks(steps, loop["decay_from"])]
    print(f"numgan train: {args.data} (std {std:g}), {options['objective']}, penalty {options['penalty']}, "
          f"{steps} steps of batch {loop['batch_size']} -> {run_dir}/", flush=True)
    start = time.perf_counter()
    fit(gan, data, steps, loop["batch_size"], rng=args.seed, progress=not args.no_progress,
        callbacks=callbacks, checkpoint_path=run_dir / "checkpoint.npz",
        checkpoint_every=max(1, steps // 10),
        checkpoint_extra={"data": args.data, "std": std, "seed": args.seed, **loop})
    seconds = time.perf_counter() - start

    fake = gan.sample(2500, rng=args.seed + 2)
    real = data(2500, np.random.default_rng(args.seed + 3))
    metrics = mode_coverage(fake, means, std)
    metrics["seconds"] = round(seconds, 2)
    metrics["steps"] = steps
    metrics["options"] = {**options, **loop, "data": args.data, "std": std, "seed": args.seed}
    with open(run_dir / "metrics.json", "w") as f:
        json.dump(_finite(metrics), f, indent=2)
    save_figure(plot_samples(real, fake, means, title=f"{args.data}: step {steps}"), run_dir / "samples.png")
    save_figure(plot_history(gan.history), run_dir / "losses.png")
    if options["pack"] == 1:
        save_figure(plot_field(gan.D, fake[:300], options["objective"], real=real[:500]), run_dir / "field.png")
    else:
        print("field.png skipped: with --pack > 1, D judges several samples at once, not points of the plane")
    training_gif(snapshots.frames, run_dir / "training.gif", real=real[:1000], means=means)
    print(f"done in {seconds:.1f} s: {metrics['modes_covered']}/{metrics['modes']} modes, "
          f"{100 * metrics['high_quality']:.1f} % high quality, reverse KL {metrics['reverse_kl']:.3f}")
    print(f"wrote {', '.join(sorted(p.name for p in run_dir.iterdir()))} in {run_dir}/")
    return run_dir


def train_images(args, options: dict, loop: dict) -> Path:
    """``numgan train --data digits|mnist|fashion``: image GAN, sample grid, GIF, curves, metrics."""
    name = args.name or f"{args.data}{'-conditional' if args.conditional else ''}-{options['objective']}-seed{args.seed}"
    run_dir = Path(args.out) / name
    try:
        x, y = load_images(args.data, "train", args.fashion_path)
    except FileNotFoundError as err:
        raise UsageError(str(err).replace("\n", " ")) from None
    shape = SHAPES[args.data]
    gan = image_gan(args.data, args.seed, conditional=args.conditional, **options, **loop)
    steps = loop["steps"]
    grid_labels = np.repeat(np.arange(10), 10) if args.conditional else None   # row r: class r
    snapshots = Snapshots(every=max(1, steps // args.snapshots), n=100, seed=args.seed + 1, labels=grid_labels)
    callbacks = [snapshots, *decay_callbacks(steps, loop["decay_from"])]
    print(f"numgan train: {args.data} {shape[0]}x{shape[1]} ({x.shape[0]} training images), "
          f"{'conditional ' if args.conditional else ''}{options['objective']}, {steps} steps of batch "
          f"{loop['batch_size']} -> {run_dir}/", flush=True)
    start = time.perf_counter()
    fit(gan, (x, y) if args.conditional else x, steps, loop["batch_size"], rng=args.seed,
        progress=not args.no_progress, callbacks=callbacks, checkpoint_path=run_dir / "checkpoint.npz",
        checkpoint_every=max(1, steps // 10),
        checkpoint_extra={"data": args.data, "shape": list(shape), "seed": args.seed,
                          "conditional": args.conditional, "fashion_path": args.fashion_path, **loop})
    seconds = time.perf_counter() - start
    rows = evaluate_image_gan(gan, args.data, seed=args.seed, fashion_path=args.fashion_path)
    metrics = {"data": args.data, "seconds": round(seconds, 2), "steps": steps, **rows,
               "options": {**options, **loop, "conditional": args.conditional, "seed": args.seed}}
    with open(run_dir / "metrics.json", "w") as f:
        json.dump(metrics, f, indent=2, default=_plain)
    grid = gan.generate(snapshots._z, grid_labels)
    title = f"{args.data}: step {steps}" + (" (row r: class r)" if args.conditional else "")
    save_figure(plot_image_grid(grid, shape, nrow=10, title=title), run_dir / "samples.png")
    save_figure(plot_history(gan.history), run_dir / "losses.png")
    image_grid_gif(snapshots.frames, run_dir / "training.gif", shape, nrow=10)
    g = rows["gan"]
    print(f"done in {seconds:.1f} s: classifier score {g['classifier_score']:.2f} "
          f"(held-out real {rows['held_out']['classifier_score']:.2f}), {g['classes_present']} classes, "
          f"precision {g['precision']:.2f}, recall {g['recall']:.2f}"
          + (f", {100 * g['conditional_accuracy']:.1f} % classified as their label" if args.conditional else ""))
    print(f"wrote {', '.join(sorted(p.name for p in run_dir.iterdir()))} in {run_dir}/")
    return run_dir


def _plain(value):
    """numpy numbers and arrays as JSON numbers and lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _finite(metrics: dict) -> dict:
    """JSON has no inf: an infinite reverse KL (no high-quality sample) is written as null."""
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in metrics.items()}


# -- numgan sample / evaluate --------------------------------------------------------------------

def _load(path: str):
    try:
        gan, _ = load_checkpoint(path)
        meta, _ = read_checkpoint(path)
    except (FileNotFoundError, ValueError) as err:
        raise UsageError(str(err)) from None
    return gan, meta.get("extra", {})


def sample(args) -> Path:
    gan, extra = _load(args.checkpoint)
    x = gan.sample(args.n, rng=args.seed, use_ema=not args.raw)
    out = Path(args.out)
    if out.suffix == ".npy":
        out.parent.mkdir(parents=True, exist_ok=True)
        np.save(out, x, allow_pickle=False)
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


def evaluate(args) -> dict:
    gan, extra = _load(args.checkpoint)
    if extra.get("data") in SHAPES:
        rows = evaluate_image_gan(gan, extra["data"], seed=args.seed, fashion_path=extra.get("fashion_path"))
        print(json.dumps({"data": extra["data"], "step": gan.step, **rows}, indent=2, default=_plain))
        return rows
    name = args.data or extra.get("data")
    if name is None:
        raise UsageError("the checkpoint does not say which data it was trained on: give --data")
    std = args.std or extra.get("std") or default_std(name)
    _, means = mixture(name, 1, rng=0, return_means=True, std=std)
    metrics = mode_coverage(gan.sample(args.n, rng=args.seed), means, std)
    metrics.update(data=name, std=std, n=args.n, step=gan.step)
    print(json.dumps(_finite(metrics), indent=2))
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="numgan", description="GANs from scratch in NumPy.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_train_parser(sub)
    p = sub.add_parser("sample", help="draw samples from a checkpoint into a .npy or .png file")
    p.add_argument("--checkpoint", required=True, help="a checkpoint.npz written by numgan train")
    p.add_argument("--n", type=_positive_int, default=1000, help="number of samples (default 1000)")
    p.add_argument("--out", required=True, help="output file, .npy (the array) or .png (a scatter plot)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the noise (default 0)")
    p.add_argument("--raw", action="store_true", help="sample from G itself, not its moving average")
    p = sub.add_parser("evaluate", help="mode coverage of a checkpoint's samples")
    p.add_argument("--checkpoint", required=True, help="a checkpoint.npz written by numgan train")
    p.add_argument("--n", type=_positive_int, default=2500, help="number of samples (default 2500)")
    p.add_argument("--data", choices=sorted(MIXTURES), help="the mixture (default: the checkpoint's)")
    p.add_argument("--std", type=_positive_float, help="component std (default: the checkpoint's)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the noise (default 0)")
    p = sub.add_parser("demo", help="train a small MLP and print its gradient check")
    p.add_argument("--steps", type=_positive_int, default=300, help="training steps (default 300)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            train(args)
        elif args.command == "sample":
            sample(args)
        elif args.command == "evaluate":
            evaluate(args)
        else:
            demo(args.steps, args.seed)
    except (UsageError, ValueError, TypeError) as err:
        parser.error(str(err).splitlines()[0])
    except TrainingDiverged as err:
        print(f"numgan: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
