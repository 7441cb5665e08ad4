"""Time one GAN training step of numgan against the same step in PyTorch, on this CPU.

One step: one D step on real + fake (one batch through D), one G step through
a frozen D, Adam (betas 0.5, 0.999) on both, non-saturating loss, float32.
Both libraries run in the same process and the same time window, interleaved
step by step after a warm-up, and the median of the steps is reported. Each
thread count runs in its own process (OpenBLAS / OpenMP threads are fixed when
a process starts), where the single-precision GEMM rate is also measured, so
that the fraction of that rate reached by numgan's step can be reported from
the FLOPs of the matrix products the step really needs.

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

ARCHS = {
    "mnist-mlp": {"z": 100, "g": [256, 512, 1024], "d": [1024, 512, 256], "x": 784, "out": "tanh"},
    "seed": {"z": 100, "g": [128, 256, 512, 1024, 1024, 512, 256, 128, 64, 32], "d": [1024, 512, 256, 128, 64, 32],
             "x": 2, "out": "sigmoid"},
}


def gemm_flops(arch: dict, batch: int) -> float:
    """FLOPs of the matrix products one step needs (2 * rows * fan_in * fan_out each).

    D step: G forward (B rows), D forward (2B), D's dW (2B), D's dx except at its input (2B).
    G step: G forward (B), D forward (B), D's dx (B), G's dW (B), G's dx except at its input (B).
    """
    def layers(sizes):
        return list(zip(sizes[:-1], sizes[1:]))
    g = layers([arch["z"], *arch["g"], arch["x"]])
    d = layers([arch["x"], *arch["d"], 1])
    mac = lambda ls: sum(i * o for i, o in ls)   # noqa: E731
    first = lambda ls: ls[0][0] * ls[0][1]       # noqa: E731
    B = batch
    d_step = B * mac(g) + 2 * B * mac(d) + 2 * B * mac(d) + 2 * B * (mac(d) - first(d))
    g_step = B * mac(g) + B * mac(d) + B * mac(d) + B * mac(g) + B * (mac(g) - first(g))
    return 2.0 * (d_step + g_step)


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


def torch_step(arch: dict, batch: int, gan, seed: int = 0):
    """The same networks (same initial weights) and the same step in PyTorch."""
    import torch
    from torch import nn
    torch.manual_seed(seed)

    def build(net, out=None):
        layers = []
        for layer in net.layers:
            name = type(layer).__name__
            if name == "Dense":
                lin = nn.Linear(layer.in_features, layer.out_features)
                with torch.no_grad():
                    lin.weight.copy_(torch.from_numpy(layer.params["W"].T.copy()))
                    lin.bias.copy_(torch.from_numpy(layer.params["b"].copy()))
                layers.append(lin)
            elif name == "LeakyReLU":
                layers.append(nn.LeakyReLU(layer.alpha))
            elif name == "Tanh":
                layers.append(nn.Tanh())
            elif name == "Sigmoid":
                layers.append(nn.Sigmoid())
        return nn.Sequential(*layers)

    G, D = build(gan.G), build(gan.D)
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
            for _ in range(args.warmup):
                ng()
                pt()
            t_ng, t_pt = [], []
            for _ in range(args.steps):           # interleaved: both see the same machine state
                t = time.perf_counter()
                ng()
                t_ng.append(time.perf_counter() - t)
                t = time.perf_counter()
                pt()
                t_pt.append(time.perf_counter() - t)
            m_ng, m_pt = float(np.median(t_ng)), float(np.median(t_pt))
            flops = gemm_flops(arch, batch)
            rows.append({"arch": name, "batch": batch, "threads": args.threads, "numgan_ms": 1e3 * m_ng,
                         "torch_ms": 1e3 * m_pt, "ratio": m_ng / m_pt, "gemm_gflops": rate / 1e9,
                         "step_gflop": flops / 1e9, "fraction_of_gemm_rate": flops / m_ng / rate})
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
        env = {**os.environ, "OPENBLAS_NUM_THREADS": str(k), "OMP_NUM_THREADS": str(k), "MKL_NUM_THREADS": str(k)}
        cmd = [sys.executable, __file__, "--worker", "--threads", str(k), "--archs", *args.archs,
               "--batches", *map(str, args.batches), "--steps", str(args.steps), "--warmup", str(args.warmup)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        rows += json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{'arch':10s} {'batch':>5s} {'threads':>7s} {'numgan ms':>10s} {'torch ms':>9s} {'ratio':>6s} "
          f"{'GEMM GFLOP/s':>12s} {'% of GEMM rate':>14s}")
    for r in rows:
        print(f"{r['arch']:10s} {r['batch']:5d} {r['threads']:7d} {r['numgan_ms']:10.2f} {r['torch_ms']:9.2f} "
              f"{r['ratio']:6.2f} {r['gemm_gflops']:12.1f} {100 * r['fraction_of_gemm_rate']:13.1f}%")
    import numpy as np
    import torch
    report = {"date": date.today().isoformat(),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                         f"NumPy {np.__version__}, PyTorch {torch.__version__}",
              "steps": args.steps, "quick": args.quick, "rows": rows}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
