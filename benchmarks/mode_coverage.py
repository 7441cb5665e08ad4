"""Mode coverage of numgan's GANs on the 2-D ring and grid (the VEEGAN / PacGAN protocol).

Part 1, the targets: the recommended recipe (``numgan.recipes.RECIPES``) on
the ring (8 modes, std 0.01) and the grid (25 modes, std 0.05), over 5 seeds.
Part 2, the comparison: every objective on both mixtures, 3 seeds each, with
and without packing (pack 2), with the same networks, learning rates, moving
average and decay as the recipe.

Each run uses one CPU core (OpenBLAS limited to one thread; ``--jobs`` runs
that many at once) and is evaluated on 2,500 samples: modes covered, the
fraction of high-quality samples (within 3 std of the nearest mean) and the
reverse KL of the generated mode histogram against the uniform one. Wall time
is per run.

    python benchmarks/mode_coverage.py                  # everything (long)
    python benchmarks/mode_coverage.py --part targets   # part 1 only
    python benchmarks/mode_coverage.py --quick          # a smoke test of the script
    python benchmarks/mode_coverage.py --part targets --data ring --set activation=leaky_relu --out /tmp/x.json
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # one core per run, set before numpy loads
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from numgan.data import default_std, mixture  # noqa: E402
from numgan.metrics import mode_coverage  # noqa: E402
from numgan.objectives import OBJECTIVES  # noqa: E402
from numgan.recipes import RECIPES, resolve_recipe  # noqa: E402
from numgan.train import decay_callbacks, fit  # noqa: E402
from overrides import add_set_option  # noqa: E402

COMPARED = [o for o in OBJECTIVES if o != "seed_as_written"]


def run_one(job: dict) -> dict:
    """Train one GAN as ``job`` says and return its metrics and wall time."""
    name, seed = job["data"], job["seed"]
    overrides = {**job.get("overrides", {}), **job.get("options", {})}
    if job.get("steps"):
        overrides["steps"] = job["steps"]
    recipe = resolve_recipe(name, **overrides)
    loop = recipe.loop
    std = default_std(name)
    _, means = mixture(name, 1, rng=0, return_means=True)
    gan = recipe.build_gan(seed)
    steps = loop["steps"]
    callbacks = decay_callbacks(steps, loop["decay_from"])
    start = time.perf_counter()
    fit(gan, lambda n, rng: mixture(name, n, rng=rng), steps, loop["batch_size"], rng=seed, progress=False,
        callbacks=callbacks)
    seconds = time.perf_counter() - start
    m = mode_coverage(gan.sample(2500, rng=10_000 + seed), means, std)
    return {**job, "steps": steps, "modes": m["modes"], "modes_covered": m["modes_covered"],
            "high_quality": m["high_quality"], "reverse_kl": m["reverse_kl"], "seconds": seconds}


def label(options: dict) -> str:
    parts = [options.get("objective", "non_saturating")]
    if options.get("penalty"):
        parts.append(f"+{options['penalty']}")
    if options.get("pack", 1) > 1:
        parts.append(f"pack {options['pack']}")
    return " ".join(parts)


def summarise(results: list[dict]) -> list[dict]:
    """Mean over seeds of each (data, configuration)."""
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault((r["data"], r["label"]), []).append(r)
    rows = []
    for (data, lab), rs in groups.items():
        kl = [r["reverse_kl"] for r in rs]
        rows.append({"data": data, "configuration": lab, "seeds": len(rs), "steps": rs[0]["steps"],
                     "modes": rs[0]["modes"], "modes_covered": float(np.mean([r["modes_covered"] for r in rs])),
                     "high_quality": float(np.mean([r["high_quality"] for r in rs])),
                     "reverse_kl": float(np.mean(kl)) if all(np.isfinite(kl)) else float("inf"),
                     "seconds": float(np.mean([r["seconds"] for r in rs]))})
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| data | configuration | seeds | steps | modes covered | high quality | reverse KL | s per run |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['data']} | {r['configuration']} | {r['seeds']} | {r['steps']} | "
                     f"{r['modes_covered']:.1f} / {r['modes']} | {100 * r['high_quality']:.1f} % | "
                     f"{r['reverse_kl']:.3f} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def jobs_for(part: str, quick: bool, compare_steps: int | None = None, overrides: dict | None = None
             ) -> list[dict]:
    jobs = []
    steps = 200 if quick else None
    if part in ("all", "targets"):
        for data in ("ring", "grid"):
            for seed in range(2 if quick else 5):
                jobs.append({"part": "targets", "data": data, "seed": seed, "steps": steps,
                             "label": "recipe: " + label(RECIPES[data]["gan"]) + (f" with {overrides}" if overrides else ""),
                             "overrides": overrides or {}})
    if part in ("all", "compare"):
        for data in ("ring", "grid"):
            for objective in (COMPARED[:2] if quick else COMPARED):
                for pack in (1, 2):
                    options = {"objective": objective, "penalty": None, "pack": pack}
                    if objective == "wasserstein":
                        options["clip"] = 0.01
                    for seed in range(1 if quick else 3):
                        jobs.append({"part": "compare", "data": data, "seed": seed, "steps": steps or compare_steps,
                                     "options": options, "label": label(options), "overrides": overrides or {}})
    return jobs


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["all", "targets", "compare"], default="all")
    parser.add_argument("--quick", action="store_true", help="tiny runs, to check that the script works")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once, one core each (default 2)")
    parser.add_argument("--compare-steps", type=int,
                        help="steps of each comparison run (default: the recipe's; fewer keeps part 2 short)")
    parser.add_argument("--data", nargs="+", choices=["ring", "grid"], default=["ring", "grid"],
                        help="mixtures to run (default both)")
    parser.add_argument("--out", default="benchmarks/results/mode_coverage.json", help="JSON results file")
    add_set_option(parser)
    args = parser.parse_args(argv)
    jobs = [j for j in jobs_for(args.part, args.quick, args.compare_steps, dict(args.set)) if j["data"] in args.data]
    print(f"{len(jobs)} runs, {args.jobs} at a time")
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for r in pool.map(run_one, jobs):
            results.append(r)
            print(f"  {r['data']:5s} {r['label']:38s} seed {r['seed']}: {r['modes_covered']}/{r['modes']} modes, "
                  f"{100 * r['high_quality']:5.1f} % hq, KL {r['reverse_kl']:.3f}, {r['seconds']:.1f} s", flush=True)
    rows = summarise(results)
    print("\n" + markdown(rows))
    report = {"date": date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, NumPy {np.__version__}", "quick": args.quick,
              "runs": results, "summary": rows}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=float))
    print(f"\nwrote {out}")
    return report


if __name__ == "__main__":
    main()
