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
    python benchmarks/step_time.py --archs dcgan --batches 64 --threads 1    # the DCGAN case

Architectures: ``mnist-mlp`` (G: 100 -> 256 -> 512 -> 1024 -> 784, tanh out;
D: 784 -> 1024 -> 512 -> 256 -> 1) and ``seed`` (the seed article's presets,
``seed_generator(100, 2)`` and ``seed_discriminator(2)``), leaky ReLU 0.2; and
``dcgan`` (``--archs dcgan``): the MNIST DCGAN recipe's networks
(``numgan.dcgan``, 28 x 28, the width and z_dim of
``numgan.recipes.DCGAN_RECIPES["mnist"]``), exported to PyTorch with its batch
norm layers in training mode, without the recipe's R1 penalty and EMA (the same
plain step as the MLPs).

The profile. For every architecture, "products in the step" is the time spent
inside the matrix products of numgan's own step, measured in separate steps
(interleaved with the others) through a timing shim installed by this
benchmark only (:func:`time_products`: the layers' weights and the gradient
buffers are viewed as an ``ndarray`` subclass whose ``__array_ufunc__`` times
every ``np.matmul``, ``@`` included; the package is not changed). "outside
products" is ``1 - products in the step / step``: the fraction of the step
spent in im2col, col2im, batch norm, activations, losses, the optimizer and
Python. For the DCGAN the products "the step needs" are those the shim
records (their shapes, hence the FLOPs and the GEMMs-alone column); for the
MLPs they are :func:`step_gemms`.
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
    # z and width None: those of the MNIST DCGAN recipe (numgan.recipes.DCGAN_RECIPES["mnist"])
    "dcgan": {"dcgan": True, "z": None, "width": None, "image": (28, 28), "x": 784},
}
DEFAULT_ARCHS = ["mnist-mlp", "seed"]


def resolve_arch(arch: dict) -> dict:
    """``arch`` with the DCGAN recipe's z_dim and width filled in where they are None."""
    if not arch.get("dcgan"):
        return arch
    from numgan.recipes import DCGAN_RECIPES
    networks = DCGAN_RECIPES["mnist"]["networks"]
    return {**arch, "z": arch["z"] or networks["z_dim"], "width": arch["width"] or networks["width"]}


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


def gemms_alone(arch: dict, batch: int, shapes: list[tuple[int, int, int]] | None = None):
    """A function that runs the step's matrix products alone (same shapes, nothing else): the floor of any step.

    ``shapes`` (``(rows, inner, cols)`` each) default to :func:`step_gemms`.
    """
    import numpy as np
    rng = np.random.default_rng(0)
    products = [(rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32),
                 np.empty((m, n), dtype=np.float32)) for m, k, n in (shapes or step_gemms(arch, batch))]

    def run():
        for a, b, c in products:
            np.matmul(a, b, out=c)
    return run


def torch_gemms_alone(arch: dict, batch: int, shapes: list[tuple[int, int, int]] | None = None):
    """The same matrix products as :func:`gemms_alone`, run by PyTorch's BLAS (MKL here): the two BLAS compared."""
    import torch
    gen = torch.Generator().manual_seed(0)
    products = [(torch.randn(m, k, generator=gen), torch.randn(k, n, generator=gen), torch.empty(m, n))
                for m, k, n in (shapes or step_gemms(arch, batch))]

    def run():
        for a, b, c in products:
            torch.matmul(a, b, out=c)
    return run


def numgan_step(arch: dict, batch: int, seed: int = 0):
    import numpy as np

    from numgan import dcgan_discriminator, dcgan_generator, mlp
    from numgan.gan import GAN
    if arch.get("dcgan"):
        G = dcgan_generator(arch["z"], arch["image"], arch["width"], seed=seed)
        D = dcgan_discriminator(arch["image"], arch["width"], seed=seed + 1)
    else:
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


def time_products(gan) -> tuple[list[float], list[tuple[int, int, int]]]:
    """Make every matrix product of ``gan``'s step add its seconds to the returned list's one entry (a shim).

    For this benchmark only: each layer's weight ``W`` and the GAN's two
    gradient buffers are replaced by views (the same memory) of an ``ndarray``
    subclass whose ``__array_ufunc__`` times ``np.matmul``, which ``a @ b``
    calls too, and hands every other operation on to NumPy on plain arrays.
    So every product of a forward (``x @ W``, ``cols @ W2.T``), of an input
    gradient (``dy @ W.T``) and of a weight gradient (``np.matmul(..., out=dW)``)
    is timed where it runs, with its real operands. Also returns the list of
    the products' shapes ``(rows, inner, cols)``, filled as they run. Use
    separate GANs for the shimmed and the plain steps: the shim's dispatch
    costs a little on every operation with those arrays.
    """
    import numpy as np

    from numgan.flat import FlatParams
    spent, shapes = [0.0], []

    def plain(a):
        return a.view(np.ndarray) if isinstance(a, Timed) else a

    class Timed(np.ndarray):
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            inputs = tuple(plain(a) for a in inputs)
            if "out" in kwargs:
                kwargs["out"] = tuple(plain(a) for a in kwargs["out"])
            if ufunc is np.matmul and method == "__call__":
                t = time.perf_counter()
                result = ufunc(*inputs, **kwargs)
                spent[0] += time.perf_counter() - t
                a, b = inputs[0], inputs[1]
                shapes.append((int(np.prod(a.shape[:-1])), int(a.shape[-1]), int(b.shape[-1])))
                return result
            return getattr(ufunc, method)(*inputs, **kwargs)

    for net in (gan.G, gan.D):
        for layer in net.layers:
            if "W" in layer.params:
                layer.params["W"] = layer.params["W"].view(Timed)
    gan._grad_G = FlatParams(gan._grad_G.flat.view(Timed), gan._grad_G.shapes)
    gan._grad_D = FlatParams(gan._grad_D.flat.view(Timed), gan._grad_D.shapes)
    return spent, shapes


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
            arch = resolve_arch(ARCHS[name])
            gan, ng = numgan_step(arch, batch)
            pt = torch_step(arch, batch, gan)
            spent = time_optimizers(gan)
            optimizer_times, product_times = [], []
            shimmed_gan, shimmed = numgan_step(arch, batch)          # the same step, its products timed inside
            in_products, shapes = time_products(shimmed_gan)
            shimmed()                                                 # records the products' shapes once
            recorded = list(shapes)
            if arch.get("dcgan"):                # the products the step really does (conv layers: im2col shapes)
                gemms = gemms_alone(arch, batch, recorded)
                torch_gemms = torch_gemms_alone(arch, batch, recorded)
                flops = float(sum(2 * m * k * n for m, k, n in recorded))
            else:
                gemms, torch_gemms = gemms_alone(arch, batch), torch_gemms_alone(arch, batch)
                flops = gemm_flops(arch, batch)
            times = {ng: [], pt: [], gemms: [], torch_gemms: [], shimmed: []}
            runs = list(times)
            for _ in range(args.warmup):
                for run in runs:
                    run()
            for r in range((args.steps + BLOCK - 1) // BLOCK):   # interleaved: all see the same machine state
                for run in runs[r % 5:] + runs[:r % 5]:          # rotated: each follows each other as often
                    run()                                         # untimed: the previous library's idle
                    for _ in range(BLOCK):                        # threads may still hold a core here
                        spent[0] = in_products[0] = 0.0
                        t = time.perf_counter()
                        run()
                        times[run].append(time.perf_counter() - t)
                        if run is ng:
                            optimizer_times.append(spent[0])
                        elif run is shimmed:
                            product_times.append(in_products[0])
            m_ng, m_pt, alone, torch_alone, _ = (float(np.median(times[run])) for run in runs)
            optimizer = float(np.median(optimizer_times))
            products = float(np.median(product_times))
            rows.append({"arch": name, "batch": batch, "threads": args.threads, "numgan_ms": 1e3 * m_ng,
                         "torch_ms": 1e3 * m_pt, "ratio": m_ng / m_pt, "gemm_gflops": rate / 1e9,
                         "step_gflop": flops / 1e9, "fraction_of_gemm_rate": flops / m_ng / rate,
                         "gemms_alone_ms": 1e3 * alone, "gemms_alone_fraction": flops / alone / rate,
                         "torch_gemms_alone_ms": 1e3 * torch_alone,
                         # the profile: products (timed alone), the optimizers (timed inside the step), the rest
                         "step_over_gemms_alone": m_ng / alone, "optimizer_ms": 1e3 * optimizer,
                         "rest_ms": 1e3 * (m_ng - alone - optimizer),
                         # the lowest numgan / PyTorch ratio any step built on NumPy's BLAS could reach
                         "gemms_alone_over_torch_step": alone / m_pt,
                         # the products timed inside numgan's own step (time_products), and the rest of the step
                         "products_in_step_ms": 1e3 * products, "n_products": len(recorded),
                         "outside_products_fraction": 1 - products / m_ng})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archs", nargs="+", choices=sorted(ARCHS), default=DEFAULT_ARCHS,
                        help="architectures (default mnist-mlp seed; dcgan: the MNIST DCGAN recipe's networks)")
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
        import torch
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
    print("\nprofile of numgan's step (median ms): products = the GEMMs alone, optimizer = both Adam steps "
          "timed inside the step, rest = step - products - optimizer")
    print(f"{'arch':10s} {'batch':>5s} {'threads':>7s} {'step':>7s} {'products':>8s} {'optimizer':>9s} {'rest':>6s} "
          f"{'step / products':>15s} {'products in step':>16s} {'outside products':>16s}")
    for r in rows:
        print(f"{r['arch']:10s} {r['batch']:5d} {r['threads']:7d} {r['numgan_ms']:7.2f} {r['gemms_alone_ms']:8.2f} "
              f"{r['optimizer_ms']:9.2f} {r['rest_ms']:6.2f} {r['step_over_gemms_alone']:15.2f} "
              f"{r['products_in_step_ms']:16.2f} {100 * r['outside_products_fraction']:15.1f}%")
    print("(products in step: the matrix products timed where they run inside numgan's step, by a shim of this "
          "benchmark; outside products = 1 - products in step / step)")
    import numpy as np
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
