"""What each speed choice of numgan gains: the mnist-mlp step with one choice undone at a time.

Variants (each undoes one design choice of ``docs/performance.md`` by patching
the package for the duration of its timed steps):

* ``per-parameter Adam``: the optimizer loops over the arrays instead of
  updating the flat buffer at once;
* ``Adam without blocks``: one update of the whole flat buffers instead of
  one per cache-sized block (``Optimizer.block_size``);
* ``Adam with temporaries``: the textbook formula, allocating new arrays;
* ``leaky ReLU via np.where``: the slope mask built with ``np.where``;
* ``dx at D's input``: the D step also computes the gradient for the data;
* ``D's dW in the G step``: the G step also computes D's weight gradients.

One variant is a speed-up numgan does *not* take, measured to size it:

* ``Adam on 2 Python threads``: the flat update split in two halves, one per
  thread, each updated in blocks (NumPy releases the GIL inside its loops). It matters only with 2
  BLAS threads (``OPENBLAS_NUM_THREADS=2 python benchmarks/ablation.py``),
  where the matrix products use both cores and the element-wise work one.

Variants are interleaved in rounds (each round times a few steps of every
variant), and the median over rounds is reported, relative to the current code.

    python benchmarks/ablation.py --batch 64 256
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numgan  # noqa: E402,F401  first, so that it sets OpenBLAS's short idle wait before NumPy loads

import argparse  # noqa: E402
import contextlib  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import numgan.network as network  # noqa: E402
import numgan.optim as optim  # noqa: E402
from numgan import mlp  # noqa: E402
from numgan.gan import GAN  # noqa: E402
from numgan.layers import Dense, LeakyReLU  # noqa: E402


def _per_parameter_adam():
    """Grads handed over as a plain dict of arrays: the optimizer then loops over the arrays."""
    original = optim.Optimizer.step

    def step(self, grads):
        return original(self, dict(grads))
    optim.Optimizer.step = step
    return lambda: setattr(optim.Optimizer, "step", original)


def _adam_with_temporaries():
    original = optim.Adam._update

    def update(self, p, g, state):
        m, v = state["m"], state["v"]
        m[...] = self.beta1 * m + (1 - self.beta1) * g
        v[...] = self.beta2 * v + (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1 ** self.t)
        v_hat = v / (1 - self.beta2 ** self.t)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
    optim.Adam._update = update
    return lambda: setattr(optim.Adam, "_update", original)


def _where_leaky_relu():
    original = LeakyReLU.forward

    def forward(self, x):
        slope = np.where(x > 0, x.dtype.type(1), x.dtype.type(self.alpha))
        return x * slope, slope
    LeakyReLU.forward = forward
    return lambda: setattr(LeakyReLU, "forward", original)


def _dx_at_input():
    original = Dense.backward

    def backward(self, dy, cache, *, param_grads=True, out=None, input_grad=True):
        return original(self, dy, cache, param_grads=param_grads, out=out, input_grad=True)
    Dense.backward = backward
    return lambda: setattr(Dense, "backward", original)


def _d_weight_grads_in_g_step():
    original = network.Sequential.backward

    def backward(self, dy, cache, *, param_grads=True, input_grad=True, out=None):
        return original(self, dy, cache, param_grads=True, input_grad=input_grad, out=out)
    network.Sequential.backward = backward

    def undo():
        network.Sequential.backward = original
    return undo


def _adam_on_two_threads():
    """The blocked update split in two halves of the flat buffers, one per thread, each in blocks."""
    original = optim.Optimizer._update_in_blocks
    pool = ThreadPoolExecutor(2)

    def update_in_blocks(self, p, g, state):
        n = p.size
        if n < 2 * self.block_size or not all(a.flags.c_contiguous for a in (p, g, *state.values())):
            return original(self, p, g, state)
        p, g, state = p.reshape(-1), g.reshape(-1), {k: v.reshape(-1) for k, v in state.items()}
        halves = [slice(0, n // 2), slice(n // 2, n)]

        def half(part):
            alias = copy.copy(self)               # same state, its own half of the scratch array
            if hasattr(self, "_work"):
                alias._work = self._work[part]
            original(alias, p[part], g[part], {k: v[part] for k, v in state.items()})
        list(pool.map(half, halves))
    optim.Optimizer._update_in_blocks = update_in_blocks

    def undo():
        optim.Optimizer._update_in_blocks = original
        pool.shutdown()
    return undo


def _adam_without_blocks():
    """One update of the whole flat buffers (the code before the blocks)."""
    original = optim.Optimizer.block_size
    optim.Optimizer.block_size = 1 << 62
    return lambda: setattr(optim.Optimizer, "block_size", original)


VARIANTS = {
    "current code": lambda: (lambda: None),
    "per-parameter Adam": _per_parameter_adam,
    "Adam with temporaries": _adam_with_temporaries,
    "leaky ReLU via np.where": _where_leaky_relu,
    "dx at D's input": _dx_at_input,
    "D's dW in the G step": _d_weight_grads_in_g_step,
    "Adam without blocks": _adam_without_blocks,
    "Adam on 2 Python threads": _adam_on_two_threads,
}


@contextlib.contextmanager
def variant(name):
    undo = VARIANTS[name]()
    try:
        yield
    finally:
        undo()


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", nargs="+", type=int, default=[64, 256])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--steps", type=int, default=3, help="steps per variant per round")
    parser.add_argument("--out", default="benchmarks/results/ablation.json")
    args = parser.parse_args(argv)
    rows = []
    for batch in args.batch:
        G = mlp([100, 256, 512, 1024, 784], out_activation="tanh", seed=0)
        D = mlp([784, 1024, 512, 256, 1], seed=1)
        gan = GAN(G, D)
        rng = np.random.default_rng(0)
        x = rng.uniform(-1, 1, (batch, 784)).astype(np.float32)
        times = {name: [] for name in VARIANTS}
        for name in VARIANTS:                      # warm-up
            with variant(name):
                gan.train_step(x, rng)
        for _ in range(args.rounds):
            for name in VARIANTS:
                with variant(name):
                    t = time.perf_counter()
                    for _ in range(args.steps):
                        gan.train_step(x, rng)
                    times[name].append((time.perf_counter() - t) / args.steps)
        base = float(np.median(times["current code"]))
        for name, ts in times.items():
            ms = 1e3 * float(np.median(ts))
            rows.append({"batch": batch, "variant": name, "ms_per_step": ms, "vs_current": ms / (1e3 * base)})
            print(f"batch {batch:4d}  {name:26s} {ms:8.2f} ms  {ms / (1e3 * base):5.2f} x")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"threads": os.environ.get("OPENBLAS_NUM_THREADS"), "rows": rows}, indent=2))
    return rows


if __name__ == "__main__":
    main()
