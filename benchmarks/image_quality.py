"""Image quality of numgan's GANs, measured with a classifier instead of Inception.

Three experiments, each over 3 seeds with the recommended recipe
(``numgan.recipes.RECIPES``): the 8x8 digits, the 5,000-image MNIST
subset, and the conditional GAN on the digits. ``--arch dcgan`` runs the
DCGAN recipes (``numgan.recipes.DCGAN_RECIPES``) instead, on the digits and
MNIST (not conditional), and writes to ``image_quality_dcgan.json``. Every metric is reported for
three rows side by side, all against the training split and on as many
samples as the test split holds: held-out real images (what a perfect
generator reaches), the trained GAN, and a Gaussian fitted to the data's mean
and covariance (a floor). Wall time is the training time of one run on one
core (OpenBLAS limited to one thread; ``--jobs`` runs that many at once).

    python benchmarks/image_quality.py                 # everything (about 20 minutes on 2 cores)
    python benchmarks/image_quality.py --only digits   # some experiments (the others keep their runs)
    python benchmarks/image_quality.py --quick         # a smoke test of the script
    python benchmarks/image_quality.py --only digits --set steps=30000 --out /tmp/x.json   # explore
    python benchmarks/image_quality.py --arch dcgan --only digits --first-seed 10   # seeds 10, 11, 12
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from numgan.data import load_images  # noqa: E402
from numgan.image_evaluation import evaluate_image_gan  # noqa: E402
from numgan.recipes import ARCHS, resolve_recipe  # noqa: E402
from numgan.train import decay_callbacks, fit  # noqa: E402
from overrides import add_set_option  # noqa: E402

EXPERIMENTS = {"digits": ("digits", False), "mnist": ("mnist", False), "conditional-digits": ("digits", True)}
METRICS = ["classifier_score", "class_reverse_kl", "classes_present", "frechet_distance", "precision", "recall",
           "density", "coverage", "conditional_accuracy"]


def run_one(job: dict) -> dict:
    data, conditional = EXPERIMENTS[job["experiment"]]
    overrides = job.get("overrides", {})
    recipe = resolve_recipe(data, conditional=conditional, arch=job.get("arch", "mlp"), **overrides)
    steps = job.get("steps") or recipe.loop["steps"]
    x, y = load_images(data, "train")
    gan = recipe.build_gan(job["seed"])
    callbacks = decay_callbacks(steps, recipe.loop["decay_from"])
    start = time.perf_counter()
    fit(gan, (x, y) if conditional else x, steps, recipe.loop["batch_size"], rng=job["seed"], progress=False,
        callbacks=callbacks)
    seconds = time.perf_counter() - start
    rows = evaluate_image_gan(gan, data, seed=job["seed"])
    return {**job, "steps": steps, "seconds": seconds, "rows": rows}


def table(experiment: str, runs: list[dict]) -> str:
    names = [m for m in METRICS if m in runs[0]["rows"]["gan"]]
    changed = runs[0].get("overrides")
    arch = runs[0].get("arch", "mlp")
    seeds = ", ".join(str(r["seed"]) for r in runs)
    lines = [f"**{experiment}**{' (DCGAN)' if arch == 'dcgan' else ''}{f' with {changed}' if changed else ''} "
             f"({len(runs)} seeds: {seeds}; {runs[0]['steps']} steps, "
             f"{np.mean([r['seconds'] for r in runs]):.0f} s of training per run)", "",
             "| metric | held-out real | GAN | Gaussian baseline |", "|---|---|---|---|"]
    for m in names:
        cells = []
        for row in ("held_out", "gan", "gaussian"):
            values = [r["rows"][row][m] for r in runs if m in r["rows"][row]]
            cells.append(f"{np.mean(values):.3f}" if values else "n/a")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(EXPERIMENTS),
                        help="run these experiments; the others keep their runs from --out (if it exists)")
    parser.add_argument("--arch", choices=ARCHS, default="mlp",
                        help="the recipes' networks: mlp (default) or dcgan (digits and mnist only)")
    parser.add_argument("--seeds", type=int, default=3, help="how many seeds (default 3)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="the first seed (default 0): seeds first-seed, first-seed + 1, ...")
    parser.add_argument("--quick", action="store_true", help="tiny runs, to check that the script works")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once, one core each (default 2)")
    parser.add_argument("--out", help="the results file (default benchmarks/results/image_quality.json, "
                                       "image_quality_dcgan.json with --arch dcgan)")
    add_set_option(parser)
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.first_seed < 0:
        parser.error(f"--seeds must be at least 1 and --first-seed at least 0, got {args.seeds} and {args.first_seed}")
    conditional = [e for e in EXPERIMENTS if EXPERIMENTS[e][1]]
    if args.arch == "dcgan" and args.only and set(args.only) & set(conditional):
        parser.error(f"--arch dcgan has no conditional recipe: leave out {', '.join(conditional)}")
    experiments = args.only or [e for e in EXPERIMENTS if args.arch == "mlp" or e not in conditional]
    for e in experiments:                       # a bad --set is one line here, not a traceback from a worker
        try:
            resolve_recipe(EXPERIMENTS[e][0], conditional=EXPERIMENTS[e][1], arch=args.arch, **dict(args.set))
        except (ValueError, TypeError) as err:
            parser.error(f"--set: {err}")
    out = Path(args.out or f"benchmarks/results/image_quality{'_dcgan' if args.arch == 'dcgan' else ''}.json")
    seeds = range(args.first_seed, args.first_seed + (1 if args.quick else args.seeds))
    jobs = [{"experiment": e, "arch": args.arch, "seed": s, "steps": 50 if args.quick else None,
             "date": date.today().isoformat(), "overrides": dict(args.set)}
            for e in experiments for s in seeds]
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for r in pool.map(run_one, jobs):
            results.append(r)
            g = r["rows"]["gan"]
            print(f"  {r['experiment']:18s} seed {r['seed']}: score {g['classifier_score']:.2f}, "
                  f"precision {g['precision']:.2f}, recall {g['recall']:.2f}, {r['seconds']:.0f} s", flush=True)
    if args.only and out.exists() and not args.quick:     # keep the runs of the experiments not run now
        kept = [r for r in json.loads(out.read_text())["runs"] if r["experiment"] not in experiments]
        results = [*kept, *results]
    tables = [table(e, runs) for e in EXPERIMENTS if (runs := [r for r in results if r["experiment"] == e])]
    print("\n" + "\n\n".join(tables))
    report = {"date": date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, NumPy {np.__version__}", "quick": args.quick,
              "runs": results, "tables": tables}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=lambda v: v.tolist() if hasattr(v, "tolist") else float(v)))
    print(f"\nwrote {out}")
    return report


if __name__ == "__main__":
    main()
