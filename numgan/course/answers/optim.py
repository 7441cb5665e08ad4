"""References of the optimizer exercises: the update formulas of ``docs/adam.md``, step by step."""
from __future__ import annotations

from typing import Any

import numpy as np

LAYOUTS = ("dict", "flat")


def _sgd(p: np.ndarray, grads: np.ndarray, lr: float, mu: float, nesterov: bool) -> np.ndarray:
    """The parameters after each step: v = mu v + g; p -= lr v (or lr (g + mu v) with Nesterov)."""
    v, out = np.zeros_like(p), []
    for g in grads:
        v = mu * v + g
        p = p - lr * (g + mu * v if nesterov else v)
        out.append(p)
    return np.stack(out)


def _adam(p: np.ndarray, grads: np.ndarray, config: np.ndarray) -> dict[str, np.ndarray]:
    """p, m and v after each step of Adam with bias correction and an L2 weight decay."""
    lr, beta1, beta2, eps, decay = (float(c) for c in config)
    m, v = np.zeros_like(p), np.zeros_like(p)
    out: dict[str, list[np.ndarray]] = {"p": [], "m": [], "v": []}
    for t, g in enumerate(grads, start=1):
        g = g + decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        p = p - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
        for name, value in (("p", p), ("m", m), ("v", v)):
            out[name].append(value)
    return {name: np.stack(values) for name, values in out.items()}


def sgd_momentum_expected(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, mu in enumerate(float(m) for m in inputs["momenta"]):
        for nesterov in (False, True) if mu > 0 else (False,):
            for layout in LAYOUTS:
                tag = f"{'nesterov' if nesterov else 'plain'}{i}_{layout}"
                for k in ("W", "b"):
                    out[f"{tag}_p{k}"] = _sgd(inputs[k], inputs[f"g{k}"], float(inputs["lr"]), mu, nesterov)
    return out


def adam_expected(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, config in enumerate(inputs["configs"]):
        for k in ("W", "b"):
            run = _adam(inputs[k], inputs[f"g{k}"], config)
            for layout in LAYOUTS:
                for name, value in run.items():
                    out[f"run{i}_{layout}_{name}{k}"] = value
    return out


ANSWERS = {"sgd_momentum": sgd_momentum_expected, "adam": adam_expected}
