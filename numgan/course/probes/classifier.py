"""Probe of the classifier exercise: a short run of the student's ``numgan.classifier.train_classifier``.

Tiny data and a few steps, with a fixed seed: the weights at the end and the
last batch's loss are the outputs (every step's batch, gradient and Adam update
shows in them).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._calls import as_array, as_number


def _train(inputs: dict[str, np.ndarray], rows: int) -> dict[str, Any]:
    from numgan.classifier import train_classifier

    hidden_1, hidden_2, steps, batch_size, n_classes, seed = (int(v) for v in inputs["config"])
    clf = train_classifier(inputs["images"][:rows].copy(), inputs["labels"][:rows].copy(), hidden=(hidden_1, hidden_2),
                           steps=steps, batch_size=batch_size, lr=float(inputs["lr"]),
                           weight_decay=float(inputs["weight_decay"]), n_classes=n_classes, seed=seed)
    info = getattr(clf, "info", None)
    if not isinstance(info, dict) or "final_batch_loss" not in info:
        raise TypeError("train_classifier must return a Classifier whose info holds 'final_batch_loss'")
    return {"params": as_array(clf.net.flat_params, "the classifier's flat_params").copy(),
            "final_batch_loss": as_number(info["final_batch_loss"], "info['final_batch_loss'] (the last batch's loss)")}


def classifier_training(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, Any]:
    """The final flat parameters and ``info["final_batch_loss"]`` of ``train_classifier``, on all the images
    (a number of rows that is not a multiple of the batch size) and on the first ``rows_exact`` (one that is)."""
    out = _train(inputs, inputs["images"].shape[0])
    out.update({f"exact_{k}": v for k, v in _train(inputs, int(inputs["rows_exact"])).items()})
    return out


PROBES = {"classifier_training": classifier_training}
