"""The optimizers' block size: one Adam (or SGD) step of the mnist-mlp parameters per block size.

``Optimizer.step`` runs the update's element-wise formulas on consecutive
slices of ``block_size`` elements of the flat buffers, so that each slice of
the parameters, gradient, moments and scratch stays in the CPU's cache through
all of the formulas' passes (``docs/performance.md#optimizer-blocks``). This
script times one step of the optimizer on as many parameters as the mnist-mlp
GAN's two networks (G 100-256-512-1024-784 and D 784-1024-512-256-1: 2.94 M,
float32) for each block size, interleaved in rounds (each round times every
size once, in a rotated order) so that all sizes see the same machine, and
reports the median per size relative to one update of the whole buffers.

    python benchmarks/optimizer_blocks.py                       # Adam, sizes 8 K ... 1 M and "whole"
    python benchmarks/optimizer_blocks.py --optimizer sgd --rounds 30
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from numgan.flat import FlatParams  # noqa: E402
from numgan.optim import SGD, Adam, Optimizer  # noqa: E402

#: the parameter shapes of mnist-mlp's G and D (weights and biases)
SIZES = [(100, 256), (256, 512), (512, 1024), (1024, 784), (784, 1024), (1024, 512), (512, 256), (256, 1)]
WHOLE = 1 << 62


def make(optimizer: str, block: int, seed: int = 0) -> tuple[Optimizer, FlatParams]:
    shapes: dict[str, tuple[int, ...]] = {}
    for k, (a, b) in enumerate(SIZES):
        shapes[f"{k}.W"], shapes[f"{k}.b"] = (a, b), (b,)
    rng = np.random.default_rng(seed)
    params, grads = FlatParams.zeros(shapes, np.float32), FlatParams.zeros(shapes, np.float32)
    params.flat[...] = rng.standard_normal(params.flat.size)
    grads.flat[...] = rng.standard_normal(grads.flat.size)
    opt: Optimizer = Adam(params, lr=2e-4, betas=(0.5, 0.999)) if optimizer == "adam" else \
        SGD(params, lr=1e-3, momentum=0.9)
    opt.block_size = block
    return opt, grads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    parser.add_argument("--blocks", nargs="+", type=int,
                        default=[8192, 16384, 32768, 65536, 131072, 262144, 1048576])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--out", default="benchmarks/results/optimizer_blocks.json")
    args = parser.parse_args(argv)
    if any(b < 1 for b in args.blocks):
        parser.error(f"--blocks must be positive, got {args.blocks}")
    cases = {b: make(args.optimizer, b) for b in [*args.blocks, WHOLE]}
    times: dict[int, list[float]] = {b: [] for b in cases}
    order = list(cases)
    for r in range(args.rounds + 3):
        for b in order[r % len(order):] + order[:r % len(order)]:
            opt, grads = cases[b]
            t = time.perf_counter()
            opt.step(grads)
            if r >= 3:                                   # three warm-up rounds
                times[b].append(time.perf_counter() - t)
    whole = float(np.median(times[WHOLE]))
    n = cases[WHOLE][1].flat.size
    rows = []
    print(f"{args.optimizer}, {n / 1e6:.2f} M float32 parameters, median of {args.rounds} rounds")
    print(f"{'block':>9s} {'ms':>7s} {'vs whole':>8s}")
    for b in cases:
        ms = 1e3 * float(np.median(times[b]))
        rows.append({"block": "whole" if b == WHOLE else b, "ms": ms, "ratio": ms / (1e3 * whole),
                     "quartiles_ms": [1e3 * float(q) for q in np.percentile(times[b], [25, 75])]})
        print(f"{rows[-1]['block']!s:>9s} {ms:7.2f} {ms / (1e3 * whole):8.2f}")
    report = {"date": date.today().isoformat(), "optimizer": args.optimizer, "parameters": n,
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                         f"NumPy {np.__version__}", "rounds": args.rounds, "rows": rows}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
