"""Off-centre data, with and without standardisation (issue 16): the grid recipe on seven modes in [1, 6]^2.

The data are what a user's file would hold: 20,000 points (drawn once, seed
100) of seven equal-weight Gaussian modes of std 0.05 (the grid's) at the
fixed centres :data:`CENTRES`, all inside ``[1, 6]^2``, far from the origin
where the generator starts. Each run trains the grid recipe (4x128 leaky-ReLU
MLPs, non-saturating + R1 0.1, EMA 0.99, 20,000 steps of batch 256, decay from
half-way) on that array, once as given ("before": ``fit(...)``) and once with
``fit(..., standardise=True)`` ("after": per-feature mean and std, samples
mapped back to the data's units), and is scored with
:func:`numgan.metrics.mode_coverage` on 2,500 samples in the data's units
(high quality: within 3 std = 0.15 of the nearest centre).

    python benchmarks/standardise.py                     # 3 seeds x before/after, 2 runs at a time
    python benchmarks/standardise.py --steps 200 --seeds 1 --out /tmp/x.json   # a smoke test
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

from numgan.data import sample_mixture  # noqa: E402
from numgan.data.standardise import Standardiser  # noqa: E402
from numgan.metrics import mode_coverage  # noqa: E402
from numgan.recipes import resolve_recipe  # noqa: E402
from numgan.train import decay_callbacks, fit  # noqa: E402

#: the seven modes, inside [1, 6]^2 (rows: bottom, middle, top)
CENTRES = np.array([[1.0, 1.0], [3.5, 1.0], [6.0, 1.0], [2.25, 3.5], [4.75, 3.5], [1.0, 6.0], [6.0, 6.0]])
STD = 0.05
N_POINTS, DATA_SEED = 20_000, 100


def data() -> np.ndarray:
    """The user's file: ``N_POINTS`` rows ``(N, 2)`` float32 of the seven-mode mixture."""
    return sample_mixture(N_POINTS, CENTRES, STD, rng=DATA_SEED)


def run_one(job: dict) -> dict:
    """Train the grid recipe on :func:`data` with standardisation on or off; metrics in the data's units."""
    recipe = resolve_recipe("grid", **({"steps": job["steps"]} if job.get("steps") else {}))
    steps, x, seed = recipe.loop["steps"], data(), job["seed"]
    gan = recipe.build_gan(seed)
    start = time.perf_counter()
    fit(gan, x, steps, recipe.loop["batch_size"], rng=seed, progress=False,
        callbacks=decay_callbacks(steps, recipe.loop["decay_from"]), standardise=job["standardise"])
    seconds = time.perf_counter() - start
    samples = gan.sample(2500, rng=10_000 + seed)
    if job["standardise"]:
        samples = Standardiser.of_points(x).inverse(samples)
    m = mode_coverage(samples, CENTRES, STD)
    return {**job, "steps": steps, "modes_covered": m["modes_covered"], "high_quality": m["high_quality"],
            "reverse_kl": m["reverse_kl"], "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="how many seeds (default 3)")
    parser.add_argument("--first-seed", type=int, default=0, help="the first seed (default 0)")
    parser.add_argument("--steps", type=int, help="training steps (default: the grid recipe's 20,000)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once, one core each (default 2)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "standardise.json"))
    args = parser.parse_args()
    jobs = [{"standardise": s, "seed": seed, "steps": args.steps} for s in (False, True)
            for seed in range(args.first_seed, args.first_seed + args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(run_one, jobs))
    summary = {}
    for s in (False, True):
        rs = [r for r in runs if r["standardise"] is s]
        hq = [100 * r["high_quality"] for r in rs]
        summary["after" if s else "before"] = {
            "high_quality_percent": round(float(np.mean(hq)), 1), "per_seed": [round(h, 1) for h in hq],
            "modes_covered": [r["modes_covered"] for r in rs], "reverse_kl": [r["reverse_kl"] for r in rs],
            "seconds": round(float(np.mean([r["seconds"] for r in rs])), 1)}
        print(f"{'after ' if s else 'before'}: {summary['after' if s else 'before']}", flush=True)
    result = {"date": str(date.today()), "machine": f"{platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} cores, {args.jobs} runs at once", "centres": CENTRES.tolist(), "std": STD,
              "n_points": N_POINTS, "runs": runs, "summary": summary}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
