"""Image quality along one training run: a recipe (with overrides) measured at several of its steps.

Trains one image recipe on one core and, at each step listed in ``--at``, measures the moving
average ``G_ema`` (row ``ema``, when the recipe has one) and ``G`` itself (row ``raw``) with the
protocol of ``benchmarks/image_quality.py`` (as many samples as the test split, against the training
split, numgan's classifier features). The learning-rate schedule is the one of the whole run, so an
evaluation at step 3,000 of a 12,000-step run is not a 3,000-step run. This is the tool the DCGAN
tuning runs of ``docs/results.md`` were measured with::

    python benchmarks/quality_curve.py --data mnist --arch dcgan --steps 12000 --at 3000,6000,9000,12000 \\
        --set ema=0.99 --out /tmp/long.json
    python benchmarks/quality_curve.py --data digits --arch dcgan --steps 2500 --at 1250,2500 --set betas=[0,0.99]

One line of JSON is printed per evaluation; ``--out`` writes the run (settings and evaluations).
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from numgan.data import IMAGE_SHAPES, load_images  # noqa: E402
from numgan.image_evaluation import classifier_for, image_metrics  # noqa: E402
from numgan.recipes import ARCHS, resolve_recipe  # noqa: E402
from numgan.train import decay_callbacks, fit  # noqa: E402
from overrides import add_set_option  # noqa: E402

SHOWN = ("classifier_score", "frechet_distance", "precision", "recall")


def steps_list(text: str) -> list[int]:
    """``"1000,2000"`` as ``[1000, 2000]``: increasing positive step numbers (an argparse ``type``)."""
    try:
        steps = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected steps like 1000,2000,3000, got {text!r}") from None
    if not steps or steps[0] < 1 or any(b <= a for a, b in zip(steps, steps[1:])):
        raise argparse.ArgumentTypeError(f"expected increasing positive steps like 1000,2000, got {text!r}")
    return steps


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=sorted(d for d in IMAGE_SHAPES if d != "fashion"), default="digits")
    parser.add_argument("--arch", choices=ARCHS, default="dcgan")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, help="the run's length (default: the recipe's)")
    parser.add_argument("--at", type=steps_list, help="the steps to measure at, e.g. 1000,2000 (default: the end)")
    parser.add_argument("--out", help="write the run here as JSON")
    add_set_option(parser)
    args = parser.parse_args(argv)
    overrides = dict(args.set)
    try:
        recipe = resolve_recipe(args.data, arch=args.arch, **overrides)
    except (ValueError, TypeError) as err:
        parser.error(f"--set: {err}")
    steps = recipe.loop["steps"] if args.steps is None else args.steps
    at = args.at or [steps]
    if steps < 1 or args.seed < 0 or at[-1] > steps:
        parser.error(f"--steps must be positive, --seed at least 0 and --at within the run's {steps} steps, "
                     f"got --steps {steps}, --seed {args.seed}, --at {at}")
    train, _ = load_images(args.data, "train")
    test, _ = load_images(args.data, "test")
    clf = classifier_for(args.data)
    gan = recipe.build_gan(args.seed)
    rng = np.random.default_rng(args.seed)
    callbacks = decay_callbacks(steps, recipe.loop["decay_from"])
    run = {"date": date.today().isoformat(), "data": args.data, "arch": args.arch, "seed": args.seed,
           "steps": steps, "overrides": overrides, "evals": []}
    seconds = 0.0
    for step in at:
        start = time.perf_counter()
        fit(gan, train, step, recipe.loop["batch_size"], rng=rng, progress=False, callbacks=callbacks)
        seconds += time.perf_counter() - start
        row: dict = {"step": step, "seconds": round(seconds, 1)}
        for name, use_ema in (("ema", True), ("raw", False)):
            if use_ema and gan.G_ema is None:
                continue
            metrics = image_metrics(train, gan.sample(test.shape[0], rng=args.seed, use_ema=use_ema), clf)
            row[name] = {k: round(float(metrics[k]), 3) for k in SHOWN}
        run["evals"].append(row)
        print(json.dumps(row), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(run, indent=1))
    return run


if __name__ == "__main__":
    main()
