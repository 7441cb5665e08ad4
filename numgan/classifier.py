"""A small image classifier, built from numgan's own parts, to evaluate GANs without Inception.

The Inception Score and the FID measure generated images through a network
trained on real ones (Inception v3 on ImageNet). For 8x8 digits and MNIST the
same idea works with a much smaller network, as TF-GAN's "MNIST Frechet
distance" does: an MLP trained here on the real training split, in seconds, by
the pieces a reader already knows::

    x (N, D) in [-1, 1] -> Dense -> ReLU -> Dense -> ReLU -> Dense -> logits (N, C)
                                                  ^ features (N, F): the last hidden layer
    loss = softmax_cross_entropy(logits, labels)       trained with Adam

``predict_proba`` gives ``p(y|x)`` for the classifier score and the class
histogram; ``features`` gives the last hidden layer's activations, the space
in which :mod:`numgan.metrics` measures the Frechet distance, precision/recall
and density/coverage. Inputs are what the GANs produce: images flattened to
``(N, D)`` float32 and scaled to [-1, 1].
"""
from __future__ import annotations

import json
import math
import time
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from ._checks import check_int, check_matrix, check_positive
from .layers import ACTIVATIONS, Dense
from .losses import softmax, softmax_cross_entropy
from .network import Sequential, mlp
from .optim import Adam

FORMAT = "numgan-classifier"


def _check_labels(labels, n: int, n_classes: int | None = None, name: str = "labels") -> np.ndarray:
    """``labels`` as an int64 vector of length ``n`` with values in ``[0, n_classes)``."""
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of integers, got {type(labels).__name__}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name} must be integers, got dtype {labels.dtype.name}")
    if labels.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one per image, got {labels.shape}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{name} must be >= 0, got minimum {labels.min()}")
    if n_classes is not None and labels.size and labels.max() >= n_classes:
        raise ValueError(f"{name} must lie in [0, {n_classes}), got maximum {labels.max()}")
    return labels.astype(np.int64, copy=False)


class Classifier:
    """An MLP classifier ``net`` (a ``Sequential`` ending in a Dense layer to ``n_classes`` logits).

    Shapes: ``x`` is ``(N, D)`` float32 (images flattened, in [-1, 1]);
    ``logits`` and ``predict_proba`` give ``(N, C)``; ``features`` gives
    ``(N, F)``, the activations entering the last Dense layer.
    ``info`` holds how it was trained (hidden sizes, steps, seed, wall time...).
    """

    def __init__(self, net: Sequential, info: dict | None = None) -> None:
        if not isinstance(net, Sequential):
            raise TypeError(f"net must be a numgan Sequential, got {type(net).__name__}")
        if not isinstance(net.layers[-1], Dense) or len(net.layers) < 3:
            raise ValueError(f"net must have a hidden layer and end in a Dense layer (the logits), got {net!r}")
        self.net = net
        self.info = dict(info or {})

    @property
    def in_features(self) -> int:
        """Input width ``D`` (64 for 8x8 digits, 784 for MNIST)."""
        return self.net.in_features

    @property
    def n_classes(self) -> int:
        """Number of classes ``C``."""
        return self.net.out_features

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the weights, which inputs must have (float32 from :func:`train_classifier`)."""
        return self.net.dtype

    @property
    def n_features(self) -> int:
        """Width ``F`` of :meth:`features`."""
        return self.net.layers[-1].in_features

    def _check_x(self, x) -> np.ndarray:
        return check_matrix(x, "x", width=self.in_features, dtype=self.net.dtype)

    def features(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """The last hidden layer's activations ``(N, F)``: every layer but the final Dense one.

        Computed ``batch_size`` rows at a time, so that any ``N`` fits in memory.
        """
        self._check_x(x)
        batch_size = check_int(batch_size, "batch_size")
        out = np.empty((x.shape[0], self.n_features), dtype=self.net.dtype)
        for start in range(0, x.shape[0], batch_size):
            h = x[start:start + batch_size]
            for layer in self.net.layers[:-1]:
                h, _ = layer.forward(h)
            out[start:start + batch_size] = h
        return out

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The scores ``s = features(x) @ W + b``, ``(N, C)``."""
        h = self.features(x)
        return self.net.layers[-1].forward(h)[0]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """``p(y|x) = softmax(logits(x))``, ``(N, C)``; each row sums to 1.

        See ``docs/images.md#the-evaluation-classifier``.
        """
        return softmax(self.logits(x))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The most likely class ``argmax_y p(y|x)``, ``(N,)`` ints."""
        return np.argmax(self.logits(x), axis=1)

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float:
        """Fraction of ``x`` whose predicted class is ``labels`` ``(N,)``, in [0, 1]."""
        self._check_x(x)
        labels = _check_labels(labels, x.shape[0], self.n_classes)
        if x.shape[0] == 0:
            raise ValueError(f"x must hold at least one image, got shape {x.shape}")
        return float(np.mean(self.predict(x) == labels))

    def save(self, path) -> Path:
        """Write the architecture and weights to ``path`` (``.npz``, no pickle); return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        first_act = self.net.layers[1]
        activation = next(name for name, cls in ACTIVATIONS.items() if type(first_act) is cls)
        sizes = [layer.in_features for layer in self.net.layers if isinstance(layer, Dense)] + [self.n_classes]
        np.savez_compressed(
            path, format=np.array(FORMAT), sizes=np.array(sizes, dtype=np.int64),
            activation=np.array(activation), alpha=np.array(getattr(first_act, "alpha", 0.0)),
            params=self.net.flat_params,
            info=np.frombuffer(json.dumps(self.info).encode(), dtype=np.uint8))
        return path

    @classmethod
    def load(cls, path) -> "Classifier":
        """Read a classifier written by :meth:`save` (``allow_pickle=False``)."""
        with np.load(path, allow_pickle=False) as f:
            if "format" not in f.files or str(f["format"]) != FORMAT:
                raise ValueError(f"path must be a classifier saved by Classifier.save ({FORMAT}), got {str(path)!r}")
            sizes = [int(s) for s in f["sizes"]]
            net = mlp(sizes, str(f["activation"]), alpha=float(f["alpha"]), dtype=f["params"].dtype, seed=0)
            if f["params"].shape != net.flat_params.shape:
                raise ValueError(f"params in {str(path)!r} must have {net.n_params} numbers for sizes {sizes}, "
                                 f"got {f['params'].size}")
            net.flat_params[...] = f["params"]
            info = json.loads(f["info"].tobytes().decode())
        return cls(net, info)

    def __repr__(self) -> str:
        return f"Classifier({self.net!r})"


def train_classifier(images: np.ndarray, labels: np.ndarray, hidden: Sequence[int] = (256, 128),
                     steps: int = 1000, batch_size: int = 128, lr: float = 1e-3,
                     weight_decay: float = 1e-4, n_classes: int | None = None,
                     seed: int | np.random.Generator = 0) -> Classifier:
    """Train an MLP classifier on ``images`` ``(N, D)`` float32 in [-1, 1] and ``labels`` ``(N,)``.

    The network is ``D -> hidden[0] -> ... -> hidden[-1] -> C`` with ReLU between
    the Dense layers (He initialisation). Each step takes a minibatch of
    ``batch_size`` images (a fresh random permutation every epoch), and minimises
    the softmax cross-entropy::

        L = -(1/B) sum_i log softmax(s_i)[y_i],       s_i = net(x_i)

    with Adam (Kingma and Ba, 2015; ``betas = (0.9, 0.999)``, the usual values
    for supervised learning, and an L2 penalty ``weight_decay``), its learning
    rate following a cosine from ``lr`` down to nearly 0 over ``steps``
    (Loshchilov and Hutter, 2017, "SGDR"). Everything random (the weights, the
    batches) comes from ``seed``, so the same call gives the same classifier.
    ``n_classes`` defaults to ``labels.max() + 1``.

    See ``docs/images.md#the-evaluation-classifier``.
    """
    check_matrix(images, "images", dtype=np.float32)
    n = images.shape[0]
    labels = _check_labels(labels, n)
    if n < 2:
        raise ValueError(f"images must hold at least 2 images, got shape {images.shape}")
    n_classes = int(labels.max()) + 1 if n_classes is None else check_int(n_classes, "n_classes", minimum=2)
    if labels.max() >= n_classes:
        raise ValueError(f"labels must lie in [0, n_classes={n_classes}), got maximum {labels.max()}")
    hidden = list(hidden) if not isinstance(hidden, (str, bytes, int)) else hidden
    if not isinstance(hidden, list) or not hidden:
        raise ValueError(f"hidden must be a non-empty list of layer widths, got {hidden!r}")
    steps = check_int(steps, "steps")
    batch_size = check_int(batch_size, "batch_size")
    lr = check_positive(lr, "lr")
    rng = np.random.default_rng(seed)
    net = mlp([images.shape[1], *hidden, n_classes], activation="relu", dtype=np.float32, seed=rng)
    opt = Adam(net.params, lr=lr, betas=(0.9, 0.999), weight_decay=weight_decay)
    batch = min(batch_size, n)
    order, pos = rng.permutation(n), 0
    start = time.perf_counter()
    for t in range(steps):
        if pos + batch > n:
            order, pos = rng.permutation(n), 0
        idx = order[pos:pos + batch]
        pos += batch
        s, cache = net.forward(images[idx])
        loss, ds = softmax_cross_entropy(s, labels[idx])
        _, grads = net.backward(ds, cache)
        opt.lr = lr * 0.5 * (1 + math.cos(math.pi * t / steps))
        opt.step(grads)
    info = {"hidden": list(hidden), "steps": steps, "batch_size": batch, "lr": lr,
            "weight_decay": weight_decay, "seed": seed if isinstance(seed, int) else "generator",
            "n_train": n, "final_batch_loss": loss, "train_seconds": time.perf_counter() - start}
    return Classifier(net, info)


def _trained_on(loader, name: str) -> Classifier:
    images, labels = loader(split="train", scale="tanh", flatten=True)
    clf = train_classifier(images, labels, seed=0)
    test_images, test_labels = loader(split="test", scale="tanh", flatten=True)
    clf.info.update(data=name, test_accuracy=clf.accuracy(test_images, test_labels))
    return clf


@lru_cache(maxsize=None)
def digits_classifier() -> Classifier:
    """The classifier of the 8x8 digits, trained on their training split (seed 0), cached in memory.

    ``info["test_accuracy"]`` is its accuracy on the test split. Do not change
    its weights: every later call returns this same object.
    """
    from .data import load_digits
    return _trained_on(load_digits, "digits")


@lru_cache(maxsize=None)
def mnist_classifier() -> Classifier:
    """The classifier of the 5,000-image MNIST subset, trained on its training split (seed 0), cached.

    ``info["test_accuracy"]`` is its accuracy on the test split. Do not change
    its weights: every later call returns this same object.
    """
    from .data import load_mnist
    return _trained_on(load_mnist, "mnist")


@lru_cache(maxsize=None)
def fashion_classifier(path=None) -> Classifier:
    """The classifier of Fashion-MNIST, trained on its 60,000 training images (seed 0), cached per ``path``.

    ``path`` is the folder of the IDX files, None for Debian's
    ``/usr/share/datasets/fashion-mnist`` (see :func:`numgan.data.load_fashion_mnist`).
    ``info["test_accuracy"]`` is its accuracy on the 10,000 test images.
    """
    from .data import load_fashion_mnist

    def loader(split, scale, flatten):
        return load_fashion_mnist(path, split=split, scale=scale, flatten=flatten)
    return _trained_on(loader, "fashion")
