"""Inputs and judgements of the optimizer exercises: ``sgd_momentum`` and ``adam``.

The probe records, after every step and for both layouts of the parameters
(a dict of arrays, views of one flat buffer), the arrays the caller holds,
the gradients it passed, and for Adam the state ``m`` and ``v``. Adam's
two parts are judged apart: "moments" compares ``m`` and ``v`` with the
references (with weight decay, whose gradient depends on ``p``, after the
first step only); "bias correction" checks that each step moved ``p`` by
``lr * m_hat / (sqrt(v_hat) + eps)`` computed from the student's own ``m``
and ``v`` (the formula of ``numgan.optim.Adam``'s docstring), so that a
mistake in the moments costs the moments only.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compare import PartResult, Wrong, array, close, part, unchanged
from . import Task

Arrays = dict[str, np.ndarray]     # the inputs, or the expected outputs
Got = dict[str, Any]               # what the probe returned (anything)

LAYOUTS = {"dict": "a dict of arrays", "flat": "views of one flat buffer (FlatParams)"}


def _parameters(rng: np.random.Generator, steps: int) -> dict[str, np.ndarray]:
    a, b = (int(v) for v in rng.integers(2, 6, size=2))
    return {"W": rng.standard_normal((a, b)), "b": rng.standard_normal(b),
            "gW": rng.standard_normal((steps, a, b)), "gb": rng.standard_normal((steps, b))}


def _sgd_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {**_parameters(rng, int(rng.integers(3, 6))), "lr": np.array(rng.uniform(0.01, 0.2)),
            "momenta": np.array([0.0, 0.9, rng.uniform(0.3, 0.8)])}


def _adam_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    def drawn(decay: float) -> list[float]:
        return [rng.uniform(1e-3, 1e-1), rng.uniform(0.6, 0.95), rng.uniform(0.9, 0.999), 10 ** rng.uniform(-4, -2),
                decay]

    configs = np.array([[2e-4, 0.5, 0.999, 1e-8, 0.0],            # lr, beta1, beta2, eps, weight_decay
                        drawn(0.0), drawn(rng.uniform(0.01, 0.1))])
    return {**_parameters(rng, int(rng.integers(4, 7))), "configs": configs}


def _steps(got: dict[str, Any], key: str, expected: np.ndarray, what: str, steps: int | None = None) -> None:
    """``got[key][t]`` against ``expected[t]`` for the first ``steps`` steps (all by default)."""
    value = array(got, key, what)
    if value.shape != expected.shape:
        raise Wrong(f"{what} must have shape {expected.shape}, got {value.shape}")
    for t in range(len(expected) if steps is None else steps):
        close({key: value[t]}, key, expected[t], f"{what} after step {t + 1}", rtol=1e-9, atol=1e-12)


def _in_place(got: dict[str, Any], key: str, start: np.ndarray, what: str) -> None:
    value = array(got, key, what)
    if value.shape[1:] == start.shape and len(value) and np.array_equal(value[0], start):
        raise Wrong(f"{what} did not change at the first step: update the array p in place (p -= ...), "
                    f"the network holds it")


def _grads_unchanged(inputs: dict[str, np.ndarray], got: dict[str, Any], tag: str, name: str) -> None:
    for k in ("W", "b"):
        unchanged(got, f"{tag}_g{k}_after", inputs[f"g{k}"], f"{name}: the gradient array of {k}")


def _judge_sgd(inputs: Arrays, got: Got, expected: Arrays) -> list[PartResult]:
    def runs(kind: str) -> None:
        for key in expected:
            if not key.startswith(kind):
                continue
            tag, k = key[:-3], key[-1]                     # e.g. "plain1_flat", "W" from "plain1_flat_pW"
            i, layout = int(tag[len(kind):].split("_")[0]), tag.split("_")[1]
            mu = float(inputs["momenta"][i])
            what = f"SGD(momentum={mu:.3g}{', nesterov=True' if kind == 'nesterov' else ''}) on " \
                   f"{LAYOUTS[layout]}: {k}"
            _in_place(got, key, inputs[k], what)
            _steps(got, key, expected[key], what)
            _grads_unchanged(inputs, got, tag, f"SGD on {LAYOUTS[layout]}")

    return [part("momentum", lambda: runs("plain")), part("Nesterov", lambda: runs("nesterov"))]


def _adam_step(p: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, config: np.ndarray) -> np.ndarray:
    """``p - lr * m_hat / (sqrt(v_hat) + eps)`` (NaN where ``v < 0``: that entry cannot be judged)."""
    lr, beta1, beta2, eps, _ = (float(c) for c in config)
    with np.errstate(invalid="ignore", over="ignore"):
        return p - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)


def _usable(got: dict[str, Any], key: str, like: np.ndarray) -> np.ndarray:
    value = got.get(key)
    return value if isinstance(value, np.ndarray) and value.shape == like.shape and value.dtype.kind == "f" \
        else like


def _judge_adam(inputs: Arrays, got: Got, expected: Arrays) -> list[PartResult]:
    tags = [(i, layout) for i in range(len(inputs["configs"])) for layout in LAYOUTS]

    def describe(i: int, layout: str) -> str:
        lr, beta1, beta2, eps, decay = (float(c) for c in inputs["configs"][i])
        return (f"Adam(lr={lr:.3g}, betas=({beta1:.3g}, {beta2:.4g}), eps={eps:.2g}, weight_decay={decay:.3g}) "
                f"on {LAYOUTS[layout]}")

    def moments() -> None:
        for i, layout in tags:
            tag = f"run{i}_{layout}"
            # with weight decay g depends on p, so the moments after step 1 depend on the p update: not judged
            steps = 1 if float(inputs["configs"][i][4]) > 0 else None
            for s, name in (("m", "state['m']"), ("v", "state['v']")):
                for k in ("W", "b"):
                    _steps(got, f"{tag}_{s}{k}", expected[f"{tag}_{s}{k}"], f"{describe(i, layout)}: {name} of {k}",
                           steps)
            _grads_unchanged(inputs, got, tag, describe(i, layout))

    def bias_correction() -> None:
        for i, layout in tags:
            tag = f"run{i}_{layout}"
            for k in ("W", "b"):
                key, what = f"{tag}_p{k}", f"{describe(i, layout)}: {k}"
                _in_place(got, key, inputs[k], what)
                p = array(got, key, what)
                if p.shape != expected[key].shape:
                    raise Wrong(f"{what} must have shape {expected[key].shape}, got {p.shape}")
                m, v = (_usable(got, f"{tag}_{s}{k}", expected[f"{tag}_{s}{k}"]) for s in ("m", "v"))
                before = np.concatenate([inputs[k][None], p[:-1]])
                want = np.stack([_adam_step(before[t], m[t], v[t], t + 1, inputs["configs"][i])
                                 for t in range(len(p))])
                judged = np.isfinite(want)
                if not judged[0].any():
                    raise Wrong(f"{what}: cannot be checked, your state['m'] and state['v'] give no usable entry "
                                f"(v < 0 or not finite): fix the moments first")
                for t in range(len(p)):
                    close({key: p[t][judged[t]]}, key, want[t][judged[t]],
                          f"{what} after step {t + 1} (p - lr * m_hat / (sqrt(v_hat) + eps) from your m and v)",
                          rtol=1e-9, atol=1e-12)

    return [part("moments", moments), part("bias correction", bias_correction)]


TASKS = {"sgd_momentum": Task(_sgd_inputs, _judge_sgd), "adam": Task(_adam_inputs, _judge_adam)}
