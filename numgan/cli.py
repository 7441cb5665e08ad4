"""The ``numgan`` command line.

``numgan demo`` trains a small MLP classifier with Adam and prints its
finite-difference gradient check: a one-minute proof that the engine works.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from .gradcheck import check_network
from .losses import bce_with_logits
from .network import mlp
from .optim import Adam


def demo(steps: int = 300, seed: int = 0, out=sys.stdout) -> float:
    """Train ``2 -> 16 -> 16 -> 1`` to tell points inside the unit circle from outside.

    Returns the final accuracy on fresh points.
    """
    rng = np.random.default_rng(seed)
    net = mlp([2, 16, 16, 1], seed=rng)
    opt = Adam(net.params, lr=1e-2, betas=(0.9, 0.999))

    def batch(n):
        x = rng.uniform(-1.5, 1.5, size=(n, 2)).astype(np.float32)
        y = (np.sum(x * x, axis=1, keepdims=True) < 1).astype(np.float32)
        return x, y

    print(f"Training {net}\non 'inside the unit circle?' with Adam, batch 128:", file=out)
    for step in range(1, steps + 1):
        x, y = batch(128)
        logits, cache = net.forward(x)
        loss, dlogits = bce_with_logits(logits, y)
        _, grads = net.backward(dlogits, cache)
        opt.step(grads)
        if step % 50 == 0 or step == 1:
            print(f"  step {step:4d}  loss {loss:.4f}", file=out)
    x, y = batch(2000)
    accuracy = float(np.mean((net(x) > 0) == (y > 0.5)))
    print(f"Accuracy on 2000 fresh points: {accuracy:.3f}\n", file=out)
    report = check_network(net, x[:4].astype(np.float64))
    print("Finite-difference check of every gradient (float64 copy of the trained net):", file=out)
    print(report, file=out)
    print(f"All gradients agree (max relative error {report.max_error:.1e} < {report.tol:g})"
          if report.ok else "SOME GRADIENTS ARE WRONG", file=out)
    return accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="numgan", description="GANs from scratch in NumPy.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("demo", help="train a small MLP and print its gradient check")
    p.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.steps < 1:
            parser.error(f"--steps must be >= 1, got {args.steps}")
        demo(args.steps, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
