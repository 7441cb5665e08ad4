"""The evaluation protocol of image GANs: classifier-based metrics against reference rows.

Evaluation (``docs/images.md#the-evaluation-protocol``, ``docs/results.md``)
uses a classifier trained on the real training split
(:mod:`numgan.classifier`) and compares three sets of the same size against
the training split: held-out real images (what a perfect generator would
reach), the GAN's samples, and a baseline of Gaussian noise with the training
data's mean and covariance. The image GANs themselves are recipes
(:mod:`numgan.recipes`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import classifier
from .data.image_sets import load_images
from .gan import GAN
from .metrics import image_metrics


def gaussian_baseline(images: np.ndarray, n: int, rng: np.random.Generator | int | None = 0,
                      clip: bool = True) -> np.ndarray:
    """``n`` draws of ``N(mean, covariance)`` of ``images`` ``(N, D)``, clipped to ``[-1, 1]`` (``clip``).

    The simplest generative model that matches the data's first two moments:
    a floor that a GAN must beat.

    See ``docs/images.md#the-evaluation-protocol``.
    """
    x = images.astype(np.float64)
    samples = np.random.default_rng(rng).multivariate_normal(x.mean(axis=0), np.cov(x, rowvar=False), size=n,
                                                             method="eigh")
    return (np.clip(samples, -1, 1) if clip else samples).astype(images.dtype)


def classifier_for(name: str, path: str | Path | None = None) -> classifier.Classifier:
    """The evaluation classifier of a data set (trained once on its training split, cached)."""
    if name == "fashion":
        return classifier.fashion_classifier(path)
    return {"digits": classifier.digits_classifier, "mnist": classifier.mnist_classifier}[name]()


def evaluate_image_gan(gan: GAN, name: str, seed: int = 0, include_baselines: bool = True,
                       fashion_path: str | Path | None = None) -> dict:
    """The classifier-based metrics of ``gan`` on data set ``name``, with the reference rows.

    Every row is measured against the training split on as many samples as the
    test split holds: ``"held_out"`` (the test split itself), ``"gan"`` (its
    samples; for a conditional GAN the classes in turn, with the fraction
    classified as their label) and ``"gaussian"`` (:func:`gaussian_baseline`).

    See ``docs/images.md#the-evaluation-protocol``.
    """
    train, _ = load_images(name, "train", fashion_path)
    test, _ = load_images(name, "test", fashion_path)
    clf = classifier_for(name, fashion_path)
    n = test.shape[0]
    n_classes = gan.config.n_classes
    labels = np.arange(n) % n_classes if n_classes else None
    rows = {"gan": image_metrics(train, gan.sample(n, rng=seed, labels=labels), clf, fake_labels=labels)}
    if include_baselines:
        rows["held_out"] = image_metrics(train, test, clf)
        rows["gaussian"] = image_metrics(train, gaussian_baseline(train, n, seed), clf)
    return rows
