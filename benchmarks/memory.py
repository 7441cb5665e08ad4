"""Memory of numgan's training step: what one step allocates, and whether memory grows.

For each case it trains for ``--steps`` steps and reports:

* the resident set size (RSS, from /proc/self/statm) after the warm-up and at
  the end, and the peak RSS of the process (``ru_maxrss``);
* with ``tracemalloc`` over a few steps, the peak of NumPy allocations within
  one step, next to the size of the step's activations (the arrays a forward
  pass must keep for its backward pass) and of the parameters.

    python benchmarks/memory.py                 # ring recipe 10,000 steps; mnist-mlp 1,000 steps
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from numgan import mlp  # noqa: E402
from numgan.gan import GAN  # noqa: E402
from numgan.recipes import recipe_gan  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def activation_bytes(net, rows: int) -> int:
    """Bytes of the outputs of every layer for ``rows`` samples (what forward keeps for backward)."""
    total, width = 0, net.in_features
    for layer in net.layers:
        width = getattr(layer, "out_features", width)
        total += rows * width * net.dtype.itemsize
    return total


def measure(name: str, gan: GAN, batch: int, steps: int, rng: np.random.Generator) -> dict:
    x = rng.uniform(-1, 1, (batch, gan.data_dim)).astype(gan.dtype)
    for _ in range(20):
        gan.train_step(x, rng)
    start = rss_mb()
    checkpoints = []
    for t in range(steps):
        gan.train_step(x, rng)
        if (t + 1) % max(1, steps // 10) == 0:
            checkpoints.append(round(rss_mb(), 1))
    tracemalloc.start()
    peaks = []
    for _ in range(5):
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        gan.train_step(x, rng)
        peaks.append(tracemalloc.get_traced_memory()[1] - base)
    tracemalloc.stop()
    acts = (activation_bytes(gan.G, batch) + activation_bytes(gan.D, 2 * batch)) / 2**20
    params = (gan.G.flat_params.nbytes + gan.D.flat_params.nbytes) / 2**20
    return {"case": name, "batch": batch, "steps": steps, "rss_after_warmup_mb": round(start, 1),
            "rss_during_mb": checkpoints, "rss_end_mb": round(rss_mb(), 1),
            "rss_growth_mb": round(rss_mb() - start, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "step_peak_alloc_mb": round(max(peaks) / 2**20, 2), "activations_mb": round(acts, 2),
            "params_mb": round(params, 2)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10_000, help="steps of the ring case (default 10,000)")
    parser.add_argument("--mnist-steps", type=int, default=1_000)
    parser.add_argument("--out", default="benchmarks/results/memory.json")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    ring = recipe_gan("ring", seed=0)
    rows = [measure("ring recipe (R1, EMA)", ring, 256, args.steps, rng)]
    G = mlp([100, 256, 512, 1024, 784], out_activation="tanh", seed=0)
    D = mlp([784, 1024, 512, 256, 1], seed=1)
    rows.append(measure("mnist-mlp", GAN(G, D), 64, args.mnist_steps, rng))
    for r in rows:
        print(json.dumps(r))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))
    return {"rows": rows}


if __name__ == "__main__":
    main()
