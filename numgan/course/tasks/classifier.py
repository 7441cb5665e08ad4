"""Inputs and judgement of the classifier exercise: a few steps of ``train_classifier`` on tiny data.

Training runs in float32 (``train_classifier`` builds a float32 network), so
the final weights are compared with a float32 tolerance: far below what one
step changes (about ``lr``), far above the rounding of an equivalent loop
written in another order.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compare import PartResult, Wrong, close, part
from . import Task

RTOL, ATOL = 1e-4, 1e-5


def _classifier_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    batch, passes = int(rng.integers(3, 6)), int(rng.integers(2, 5))
    n = batch * passes + int(rng.integers(1, batch))          # not a multiple of the batch size...
    d, n_classes = int(rng.integers(5, 10)), int(rng.integers(3, 5))
    steps = int(rng.integers(passes + 3, 2 * passes + 5))     # more than one pass: the permutation is redrawn
    hidden = [int(v) for v in rng.integers(4, 9, size=2)]
    return {"images": rng.uniform(-1, 1, size=(n, d)).astype(np.float32),
            "labels": rng.integers(n_classes, size=n),
            "rows_exact": np.asarray(batch * passes),                  # ...and a run on a multiple of it
            "config": np.array([hidden[0], hidden[1], steps, batch, n_classes, int(rng.integers(2 ** 31))]),
            "lr": np.asarray(round(float(rng.uniform(0.01, 0.05)), 4)),
            "weight_decay": np.asarray(round(float(rng.uniform(0, 1e-3)), 5))}


def _judge_run(got: dict[str, Any], expected: dict[str, np.ndarray], prefix: str, what: str) -> None:
    params = got.get(f"{prefix}params")
    initial = expected[f"{prefix}initial_params"]
    if isinstance(params, np.ndarray) and params.shape == initial.shape and np.array_equal(params, initial):
        raise Wrong(f"{what}: the weights are those of the untrained network: no optimizer step was taken")
    try:
        close(got, f"{prefix}params", expected[f"{prefix}params"], f"{what}: the final weights", rtol=RTOL,
              atol=ATOL, dtype=np.float32)
    except Wrong as err:
        raise Wrong(f"{err} (the batches must be those of the permutations, in order, one Adam step each at "
                    f"the cosine learning rate)") from None
    close(got, f"{prefix}final_batch_loss", expected[f"{prefix}final_batch_loss"],
          f"{what}: info['final_batch_loss'] (the loss of the last batch)", rtol=RTOL, atol=1e-6)


def _judge_classifier(inputs: dict[str, np.ndarray], got: dict[str, Any],
                      expected: dict[str, np.ndarray]) -> list[PartResult]:
    _, _, steps, batch, _, _ = (int(v) for v in inputs["config"])

    def loop() -> None:
        for prefix, rows in (("", inputs["images"].shape[0]), ("exact_", int(inputs["rows_exact"]))):
            what = (f"train_classifier for {steps} steps, batches of {batch} of {rows} images, "
                    f"lr {float(inputs['lr']):g}")
            _judge_run(got, expected, prefix, what)

    return [part("training loop", loop)]


TASKS = {"classifier_training": Task(_classifier_inputs, _judge_classifier)}
