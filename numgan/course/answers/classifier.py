"""Reference of the classifier exercise: the instructor's own ``train_classifier``, run in the grader's process.

Training is deterministic given the seed (the initial weights, every
permutation), so the same call gives the same weights; the instructor's
function is the trusted reference of the whole loop (a formula would be the
loop itself).
"""
from __future__ import annotations

import numpy as np


def _train(inputs: dict[str, np.ndarray], rows: int) -> dict[str, np.ndarray]:
    from numgan.classifier import train_classifier
    from numgan.network import mlp

    hidden_1, hidden_2, steps, batch_size, n_classes, seed = (int(v) for v in inputs["config"])
    images, labels = inputs["images"][:rows].copy(), inputs["labels"][:rows].copy()
    clf = train_classifier(images, labels, hidden=(hidden_1, hidden_2), steps=steps, batch_size=batch_size,
                           lr=float(inputs["lr"]), weight_decay=float(inputs["weight_decay"]), n_classes=n_classes,
                           seed=seed)
    # the weights of the untrained network too (drawn first from the seed), to recognise a loop that never steps
    start = mlp([images.shape[1], hidden_1, hidden_2, n_classes], activation="relu", dtype=np.float32,
                seed=np.random.default_rng(seed))
    return {"params": clf.net.flat_params.copy(), "final_batch_loss": np.asarray(clf.info["final_batch_loss"]),
            "initial_params": start.flat_params.copy()}


def classifier_training_expected(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = _train(inputs, inputs["images"].shape[0])
    out.update({f"exact_{k}": v for k, v in _train(inputs, int(inputs["rows_exact"])).items()})
    return out


ANSWERS = {"classifier_training": classifier_training_expected}
