"""Inputs and judgements of the losses exercises: ``bce_with_logits`` and ``softmax_cross_entropy``."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..compare import PartResult, close, gradients, part, unchanged
from . import Task

Arrays = dict[str, np.ndarray]     # the inputs, or the expected outputs
Got = dict[str, Any]               # what the probe returned (anything)
from .layers import _dtype

#: (case, what the student's code was called on): the probes' cases
BCE_CASES = {"array": "targets an array", "one": "targets = 1.0", "zero": "targets = 0.0",
             "big": "logits of +-1000", "f32": "float32"}
SCE_CASES = {"normal": "ordinary logits", "big": "logits near +-1000", "f32": "float32"}


def _bce_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    shape = tuple(int(v) for v in rng.integers(2, 7, size=2))
    targets = rng.uniform(0, 1, size=shape)
    targets[rng.uniform(size=shape) < 0.3] = 0.0
    targets[rng.uniform(size=shape) < 0.3] = 1.0
    far = [(1000.0, 0.0), (-1000.0, 1.0), (1000.0, 1.0), (-1000.0, 0.0),
           (rng.uniform(40, 900), rng.uniform()), (-rng.uniform(40, 900), rng.uniform())]
    order = rng.permutation(len(far))
    big = np.array([far[i] for i in order]).reshape(2, 3, 2)
    return {"logits": 3 * rng.standard_normal(shape), "targets": targets,
            "big": big[..., 0].copy(), "big_targets": big[..., 1].copy()}


def _sce_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n, c, m = int(rng.integers(3, 9)), int(rng.integers(2, 7)), int(rng.integers(2, 5))
    big = rng.choice([-1000.0, 0.0, 1000.0], size=(m, c)) + rng.uniform(-1, 1, size=(m, c))
    big_labels = rng.integers(0, c, size=m)
    big[0] = 1000.0 + rng.uniform(-1, 1, size=c)
    big[0, big_labels[0]] = -1000.0                       # the label's probability is about exp(-2000)
    return {"logits": 3 * rng.standard_normal((n, c)), "labels": rng.integers(0, c, size=n),
            "big": big, "big_labels": big_labels}


def _judge_loss(cases: dict[str, str], name: str, originals: Callable[[dict[str, np.ndarray], str], np.ndarray]
                ) -> Callable[[Arrays, Got, Arrays], list[PartResult]]:
    """The judge of a loss: its value (and the logits unchanged) and its gradient, on every case."""

    def judge(inputs: Arrays, got: Got, expected: Arrays) -> list[PartResult]:
        def value() -> None:
            for case, how in cases.items():
                tol = 1e-5 if case == "f32" else 1e-9
                close(got, f"loss_{case}", expected[f"loss_{case}"], f"{name}'s loss ({how})", rtol=tol, atol=tol)
                unchanged(got, f"logits_after_{case}", originals(inputs, case), f"{name} ({how}): the array logits")

        def gradient() -> None:
            for case, how in cases.items():
                tol = 1e-5 if case == "f32" else 1e-6
                gradients(got, {f"grad_{case}": expected[f"grad_{case}"]}, f"{name} ({how})", tol,
                          names={f"grad_{case}": "dlogits"})
            _dtype(got, "grad_f32", np.float32, f"{name}'s gradient for float32 logits")

        return [part("value", value), part("gradient", gradient)]

    return judge


def _logits(inputs: dict[str, np.ndarray], case: str) -> np.ndarray:
    """The logits the probe passed in ``case`` (to check that the call left them unchanged)."""
    return inputs["big"] if case == "big" else inputs["logits"].astype(np.float32 if case == "f32" else np.float64)


TASKS = {"bce_with_logits": Task(_bce_inputs, _judge_loss(BCE_CASES, "bce_with_logits", _logits)),
         "softmax_cross_entropy": Task(_sce_inputs, _judge_loss(SCE_CASES, "softmax_cross_entropy", _logits))}
