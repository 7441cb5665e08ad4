"""Image GANs: MLP presets for 8x8 and 28x28 images, and the evaluation protocol.

The generator maps ``z`` (and, for a conditional GAN, a one-hot label) to a
flattened image in ``[-1, 1]`` (tanh output); the discriminator maps a
flattened image (and its one-hot label) to a raw score::

    G: z_dim (+ 10) -> g_hidden -> H*W, leaky ReLU 0.2, tanh out
    D: H*W (+ 10)   -> d_hidden -> 1,   leaky ReLU 0.2, logit out

Evaluation (``docs/results.md``) uses a classifier trained on the real
training split (:mod:`numgan.classifier`) and compares three sets of the same
size against the training split: held-out real images (what a perfect
generator would reach), the GAN's samples, and a baseline of Gaussian noise
with the training data's mean and covariance.
"""
from __future__ import annotations

import numpy as np

from .gan import GAN
from .metrics import image_metrics
from .network import mlp

#: image shape of each data set
SHAPES = {"digits": (8, 8), "mnist": (28, 28), "fashion": (28, 28)}

#: the recommended settings per data set (networks, GAN options, loop)
IMAGE_RECIPES: dict[str, dict] = {
    "digits": dict(z_dim=32, g_hidden=[128, 256], d_hidden=[256, 128], steps=40000, batch_size=64,
                   objective="non_saturating", penalty="r1", penalty_weight=1.0, g_lr=3e-3, d_lr=3e-3,
                   ema=0.999, decay_from=0.5),
    "mnist": dict(z_dim=64, g_hidden=[256, 512, 1024], d_hidden=[512, 256], activation="relu", steps=24000,
                  batch_size=64, objective="non_saturating", penalty="r1", penalty_weight=1.0, penalty_every=16,
                  g_lr=1e-3, d_lr=1e-3, ema=0.999, decay_from=0.5),
}
IMAGE_RECIPES["fashion"] = dict(IMAGE_RECIPES["mnist"])

#: keys of an image recipe that are not options of GAN
IMAGE_LOOP_KEYS = ("z_dim", "g_hidden", "d_hidden", "activation", "steps", "batch_size", "decay_from")


def load_images(name: str, split: str = "train", path=None) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, H*W)`` float32 in ``[-1, 1]`` and labels ``(N,)`` int64 of a data set by name."""
    from .data import load_digits, load_fashion_mnist, load_mnist
    if name == "digits":
        x, y = load_digits(split=split, scale="tanh", flatten=True)
    elif name == "mnist":
        x, y = load_mnist(split=split, scale="tanh", flatten=True)
    elif name == "fashion":
        x, y = load_fashion_mnist(path, split=split, scale="tanh", flatten=True)
    else:
        raise ValueError(f"name must be one of {sorted(SHAPES)}, got {name!r}")
    return x, y.astype(np.int64)


def image_gan(name: str, seed: int = 0, conditional: bool = False, n_classes: int = 10,
              dtype=np.float32, **overrides) -> GAN:
    """The recommended GAN for data set ``name`` (see :data:`IMAGE_RECIPES`), drawn from ``seed``.

    ``overrides`` replace recipe entries (networks or GAN options).
    """
    if name not in IMAGE_RECIPES:
        raise ValueError(f"name must be one of {sorted(IMAGE_RECIPES)}, got {name!r}")
    recipe = {**IMAGE_RECIPES[name], **overrides}
    h, w = SHAPES[name]
    c = n_classes if conditional else 0
    rng = np.random.default_rng(seed)
    act = recipe.get("activation", "leaky_relu")
    G = mlp([recipe["z_dim"] + c, *recipe["g_hidden"], h * w], act, "tanh", dtype=dtype, seed=rng)
    pack = recipe.get("pack", 1)
    D = mlp([(h * w + c) * pack, *recipe["d_hidden"], 1], act, None, dtype=dtype, seed=rng)
    options = {k: v for k, v in recipe.items() if k not in IMAGE_LOOP_KEYS}
    return GAN(G, D, n_classes=n_classes if conditional else None, **options)


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


def classifier_for(name: str, path=None):
    """The evaluation classifier of a data set (trained once on its training split, cached)."""
    from . import classifier
    if name == "fashion":
        return classifier.fashion_classifier(path)
    return {"digits": classifier.digits_classifier, "mnist": classifier.mnist_classifier}[name]()


def evaluate_image_gan(gan: GAN, name: str, seed: int = 0, include_baselines: bool = True,
                       fashion_path=None) -> dict:
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
    labels = np.arange(n) % gan.n_classes if gan.n_classes else None
    rows = {"gan": image_metrics(train, gan.sample(n, rng=seed, labels=labels), clf, fake_labels=labels)}
    if include_baselines:
        rows["held_out"] = image_metrics(train, test, clf)
        rows["gaussian"] = image_metrics(train, gaussian_baseline(train, n, seed), clf)
    return rows
