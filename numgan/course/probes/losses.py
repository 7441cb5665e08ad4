"""Probes of the loss exercises: ``bce_with_logits``, ``softmax_cross_entropy`` (the student's ``numgan.losses``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ._calls import as_array, as_number, pair


def _loss(result: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    value, grad = pair(result, name)
    return as_number(value, f"{name}'s loss"), as_array(grad, f"{name}'s gradient")


def bce_with_logits(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, np.ndarray]:
    """The loss and gradient for array targets, the targets 1.0 and 0.0, |s| = 1000, float32; the logits after."""
    from numgan.losses import bce_with_logits as bce

    s, t = inputs["logits"], inputs["targets"]
    cases: dict[str, tuple[np.ndarray, np.ndarray | float]] = {
        "array": (s, t), "one": (s, 1.0), "zero": (s, 0.0), "big": (inputs["big"], inputs["big_targets"]),
        "f32": (s.astype(np.float32), t.astype(np.float32))}
    out = {}
    for case, (logits, targets) in cases.items():
        logits = logits.copy()
        out[f"loss_{case}"], out[f"grad_{case}"] = _loss(bce(logits, targets), "bce_with_logits")
        out[f"logits_after_{case}"] = logits
    return out


def softmax_cross_entropy(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, np.ndarray]:
    """The loss and gradient on ordinary logits, on logits near +-1000, and in float32; the logits after the call."""
    from numgan.losses import softmax_cross_entropy as sce

    cases = {"normal": inputs["logits"], "big": inputs["big"], "f32": inputs["logits"].astype(np.float32)}
    labels = {"normal": inputs["labels"], "big": inputs["big_labels"], "f32": inputs["labels"]}
    out = {}
    for case, logits in cases.items():
        logits = logits.copy()
        out[f"loss_{case}"], out[f"grad_{case}"] = _loss(sce(logits, labels[case].copy()), "softmax_cross_entropy")
        out[f"logits_after_{case}"] = logits
    return out


PROBES = {"bce_with_logits": bce_with_logits, "softmax_cross_entropy": softmax_cross_entropy}
