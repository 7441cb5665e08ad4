"""Time one GAN training step of numgan against the same step in PyTorch, on this CPU.

One step: one D step on real + fake (one batch through D), one G step through
a frozen D, Adam (betas 0.5, 0.999) on both, non-saturating loss, float32.
Both libraries run in the same process and the same time window, interleaved
in blocks of 3 timed steps after a warm-up, and the median of the steps is
reported. Each block starts with one untimed step: with 2 threads, a library's
worker threads keep spinning on a core for a moment after its last call, and
the first step of the other library after it would pay for that (a cost that
training with one library alone never pays). NumPy's OpenBLAS threads are
told to sleep at once (``OPENBLAS_THREAD_TIMEOUT=4``, as numgan sets it when
it is imported first): left spinning, they slowed numgan's own step down. Each
thread count runs in its own process (OpenBLAS / OpenMP threads are fixed when
a process starts), where the single-precision GEMM rate is also measured, so
that the fraction of that rate reached by numgan's step can be reported from
the FLOPs of the matrix products the step really needs. The column "GEMMs
alone" times those matrix products with nothing else (same shapes, fresh
contiguous operands): the fraction that a step made of nothing but them would
reach, the ceiling for the step. The same products are also timed in PyTorch
(its BLAS is MKL, NumPy's is OpenBLAS), and "NumPy GEMMs / torch step" divides
NumPy's GEMMs-alone time by PyTorch's whole step: the lowest numgan / PyTorch
ratio that any step built on NumPy's matrix products could reach.

    pip install -e ".[bench]"            # PyTorch 2.13.0, CPU
    python benchmarks/step_time.py       # both architectures, batch 64 and 256, 1 and 2 threads
    python benchmarks/step_time.py --quick

Architectures: ``mnist-mlp`` (G: 100 -> 256 -> 512 -> 1024 -> 784, tanh out;
D: 784 -> 1024 -> 512 -> 256 -> 1) and ``seed`` (the seed article's presets,
``seed_generator(100, 2)`` and ``seed_discriminator(2)``), leaky ReLU 0.2.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

#: timed steps in a row per library; each block starts after one untimed step (see :func:`worker`)
BLOCK = 3

#: OpenBLAS's idle-thread spin, log2 of CPU cycles: numgan's setting (``numgan/__init__.py``) unless the
#: caller sets another (``OPENBLAS_THREAD_TIMEOUT=28``, OpenBLAS's default, measures without it)
THREAD_TIMEOUT = os.environ.get("OPENBLAS_THREAD_TIMEOUT", "4")

ARCHS = {
    "mnist-mlp": {"z": 100, "g": [256, 512, 1024], "d": [1024, 512, 256], "x": 784, "out": "tanh"},
    "seed": {"z": 100, "g": [128, 256, 512, 1024, 1024, 512, 256, 128, 64, 32], "d": [1024, 512, 256, 128, 64, 32],
             "x": 2, "out": "sigmoid"},
}


def step_gemms(arch: dict, batch: int) -> list[tuple[int, int, int]]:
    """The matrix products one step needs, as ``(rows, inner, cols)`` of each ``(rows x inner) @ (inner x cols)``.

    D step: G forward (B rows), D forward (2B), D's dW (2B), D's dx except at its input (2B).
    G step: G forward (B), D forward (B), D's dx (B), G's dW (B), G's dx except at its input (B).
    """
    def layers(sizes):
        return list(zip(sizes[:-1], sizes[1:]))
    g = layers([arch["z"], *arch["g"], arch["x"]])
    d = layers([arch["x"], *arch["d"], 1])
    B = batch
    forward = lambda ls, n: [(n, i, o) for i, o in ls]                   # noqa: E731  x @ W
    weights = lambda ls, n: [(i, n, o) for i, o in ls]                   # noqa: E731  x.T @ dy
    inputs = lambda ls, n: [(n, o, i) for i, o in ls]                    # noqa: E731  dy @ W.T
    d_step = forward(g, B) + forward(d, 2 * B) + weights(d, 2 * B) + inputs(d[1:], 2 * B)
    g_step = forward(g, B) + forward(d, B) + inputs(d, B) + weights(g, B) + inputs(g[1:], B)
    return d_step + g_step


def gemm_flops(arch: dict, batch: int) -> float:
    """FLOPs of the matrix products one step needs (2 * rows * inner * cols each, :func:`step_gemms`)."""
    return float(sum(2 * m * k * n for m, k, n in step_gemms(arch, batch)))


def gemms_alone(arch: dict, batch: int):
    """A function that runs the step's matrix products alone (same shapes, nothing else): the floor of any step."""
    import numpy as np
    rng = np.random.default_rng(0)
    products = [(rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32),
                 np.empty((m, n), dtype=np.float32)) for m, k, n in step_gemms(arch, batch)]

    def run():
        for a, b, c in products:
            np.matmul(a, b, out=c)
    return run


def torch_gemms_alone(arch: dict, batch: int):
    """The same matrix products as :func:`gemms_alone`, run by PyTorch's BLAS (MKL here): the two BLAS compared."""
    import torch
    gen = torch.Generator().manual_seed(0)
    products = [(torch.randn(m, k, generator=gen), torch.randn(k, n, generator=gen), torch.empty(m, n))
                for m, k, n in step_gemms(arch, batch)]

    def run():
        for a, b, c in products:
            torch.matmul(a, b, out=c)
    return run


def numgan_step(arch: dict, batch: int, seed: int = 0):
    import numpy as np

    from numgan import mlp
    from numgan.gan import GAN
    G = mlp([arch["z"], *arch["g"], arch["x"]], out_activation=arch["out"], seed=seed)
    D = mlp([arch["x"], *arch["d"], 1], seed=seed + 1)
    gan = GAN(G, D, g_lr=2e-4, d_lr=2e-4, betas=(0.5, 0.999))
    rng = np.random.default_rng(seed)
    real = rng.uniform(-1, 1, (batch, arch["x"])).astype(np.float32)
    return gan, (lambda: gan.train_step(real, rng))


def time_optimizers(gan) -> list[float]:
    """Make ``gan``'s two optimizers add the seconds each ``step`` takes to the returned list's one entry.

    The profile breakdown of a step: its optimizer time, read and reset by the caller after each step.
    """
    spent = [0.0]
    for opt in (gan.opt_G, gan.opt_D):
        def timed(grads, _step=opt.step):
            t = time.perf_counter()
            _step(grads)
            spent[0] += time.perf_counter() - t
        opt.step = timed
    return spent


def torch_step(arch: dict, batch: int, gan, seed: int = 0):
    """The same networks (same initial weights, by :func:`numgan.export.to_torch`) and the same step in PyTorch."""
    import torch
    from torch import nn

    from numgan.export import to_torch
    torch.manual_seed(seed)

    G, D = to_torch(gan.G), to_torch(gan.D)       # every layer mapped, or a TypeError naming it
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real = torch.rand(batch, arch["x"]) * 2 - 1
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def step():
        with torch.no_grad():
            fake = G(torch.randn(batch, arch["z"]))
        s = D(torch.cat([real, fake]))
        loss_d = bce(s[:batch], ones) + bce(s[batch:], zeros)
        opt_D.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_D.step()
        D.requires_grad_(False)                      # D frozen for G's step: no weight gradients
        loss_g = bce(D(G(torch.randn(batch, arch["z"]))), ones)
        opt_G.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_G.step()
        D.requires_grad_(True)
    return step


def gemm_rate(n: int = 1024, reps: int = 20) -> float:
    """Single-precision GEMM rate of NumPy's BLAS, FLOP/s (median of ``reps`` n x n x n products)."""
    import numpy as np
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    c = np.empty_like(a)
    for _ in range(3):
        np.matmul(a, b, out=c)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - t)
    return 2 * n ** 3 / sorted(times)[len(times) // 2]


def worker(args) -> list[dict]:
    """One process, one thread count: every (architecture, batch) case."""
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    rate = gemm_rate()
    rows = []
    for name in args.archs:
        for batch in args.batches:
            arch = ARCHS[name]
            gan, ng = numgan_step(arch, batch)
            pt = torch_step(arch, batch, gan)
            spent = time_optimizers(gan)
            optimizer_times = []
            gemms, torch_gemms = gemms_alone(arch, batch), torch_gemms_alone(arch, batch)
            times = {ng: [], pt: [], gemms: [], torch_gemms: []}
            runs = list(times)
            for _ in range(args.warmup):
                for run in runs:
                    run()
            for r in range((args.steps + BLOCK - 1) // BLOCK):   # interleaved: all see the same machine state
                for run in runs[r % 4:] + runs[:r % 4]:          # rotated: each follows each other as often
                    run()                                         # untimed: the previous library's idle
                    for _ in range(BLOCK):                        # threads may still hold a core here
                        spent[0] = 0.0
                        t = time.perf_counter()
                        run()
                        times[run].append(time.perf_counter() - t)
                        if run is ng:
                            optimizer_times.append(spent[0])
            m_ng, m_pt, alone, torch_alone = (float(np.median(times[run])) for run in runs)
            optimizer = float(np.median(optimizer_times))
            flops = gemm_flops(arch, batch)
            rows.append({"arch": name, "batch": batch, "threads": args.threads, "numgan_ms": 1e3 * m_ng,
                         "torch_ms": 1e3 * m_pt, "ratio": m_ng / m_pt, "gemm_gflops": rate / 1e9,
                         "step_gflop": flops / 1e9, "fraction_of_gemm_rate": flops / m_ng / rate,
                         "gemms_alone_ms": 1e3 * alone, "gemms_alone_fraction": flops / alone / rate,
                         "torch_gemms_alone_ms": 1e3 * torch_alone,
                         # the profile: products (timed alone), the optimizers (timed inside the step), the rest
                         "step_over_gemms_alone": m_ng / alone, "optimizer_ms": 1e3 * optimizer,
                         "rest_ms": 1e3 * (m_ng - alone - optimizer),
                         # the lowest numgan / PyTorch ratio any step built on NumPy's BLAS could reach
                         "gemms_alone_over_torch_step": alone / m_pt})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archs", nargs="+", choices=sorted(ARCHS), default=["mnist-mlp", "seed"])
    parser.add_argument("--batches", nargs="+", type=int, default=[64, 256])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--steps", type=int, default=60, help="timed steps per case (median reported)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="a few steps of batch 16: checks that it runs")
    parser.add_argument("--out", default="benchmarks/results/step_time.json")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.batches, args.steps, args.warmup, args.threads = [16], 3, 1, [1]
    try:
        import torch  # noqa: F401
    except ImportError:
        print("step_time.py compares numgan with PyTorch, which is not installed.\n"
              "Install the optional extra:  pip install -e \".[bench]\"  (torch==2.13.0, CPU build)",
              file=sys.stderr)
        return 2
    if args.worker:
        args.threads = args.threads[0]
        print(json.dumps(worker(args)))
        return 0
    rows = []
    for k in args.threads:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": str(k), "OMP_NUM_THREADS": str(k), "MKL_NUM_THREADS": str(k),
               "OPENBLAS_THREAD_TIMEOUT": THREAD_TIMEOUT}
        cmd = [sys.executable, __file__, "--worker", "--threads", str(k), "--archs", *args.archs,
               "--batches", *map(str, args.batches), "--steps", str(args.steps), "--warmup", str(args.warmup)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        rows += json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{'arch':10s} {'batch':>5s} {'threads':>7s} {'numgan ms':>10s} {'torch ms':>9s} {'ratio':>6s} "
          f"{'GEMM GFLOP/s':>12s} {'% of GEMM rate':>14s} {'GEMMs alone':>11s} {'GEMMs ms: NumPy':>15s} "
          f"{'PyTorch':>7s} {'NumPy GEMMs / torch step':>24s}")
    for r in rows:
        print(f"{r['arch']:10s} {r['batch']:5d} {r['threads']:7d} {r['numgan_ms']:10.2f} {r['torch_ms']:9.2f} "
              f"{r['ratio']:6.2f} {r['gemm_gflops']:12.1f} {100 * r['fraction_of_gemm_rate']:13.1f}% "
              f"{100 * r['gemms_alone_fraction']:10.1f}% {r['gemms_alone_ms']:15.2f} {r['torch_gemms_alone_ms']:7.2f} "
              f"{r['gemms_alone_over_torch_step']:24.2f}")
    print(f"\nprofile of numgan's step (median ms): products = the GEMMs alone, optimizer = both Adam steps "
          f"timed inside the step, rest = step - products - optimizer")
    print(f"{'arch':10s} {'batch':>5s} {'threads':>7s} {'step':>7s} {'products':>8s} {'optimizer':>9s} {'rest':>6s} "
          f"{'step / products':>15s}")
    for r in rows:
        print(f"{r['arch']:10s} {r['batch']:5d} {r['threads']:7d} {r['numgan_ms']:7.2f} {r['gemms_alone_ms']:8.2f} "
              f"{r['optimizer_ms']:9.2f} {r['rest_ms']:6.2f} {r['step_over_gemms_alone']:15.2f}")
    import numpy as np
    import torch
    report = {"date": date.today().isoformat(),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                         f"NumPy {np.__version__}, PyTorch {torch.__version__}",
              "openblas_thread_timeout": THREAD_TIMEOUT, "steps": args.steps, "quick": args.quick, "rows": rows}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
