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

import math
import os
import time
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ._checks import check_int, check_labels, check_matrix, check_positive
from ._npz import read_npz, write_npz
from .layers import Dense
from .losses import softmax, softmax_cross_entropy
from .network import Sequential, from_spec, mlp
from .optim import Adam

FORMAT = "numgan-classifier"
VERSION = 2
"""Version 2: written by :func:`numgan._npz.write_npz` (architecture as ``Sequential.spec()`` in the metadata).

Version 1 (before ``numgan._npz``: the sizes, the activation's name and an
unchecked ``info`` as separate arrays) is no longer read: :meth:`Classifier.load`
says so, and the classifier is retrained in seconds by :func:`train_classifier`.
"""
_VERSION_1_MEMBERS = {"format.npy", "sizes.npy", "activation.npy", "alpha.npy", "params.npy", "info.npy"}


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
    def _head(self) -> Dense:
        """The final Dense layer, which gives the logits (``__init__`` checked that there is one)."""
        head = self.net.layers[-1]
        assert isinstance(head, Dense)
        return head

    @property
    def in_features(self) -> int:
        """Input width ``D`` (64 for 8x8 digits, 784 for MNIST)."""
        width = self.net.in_features
        assert width is not None                # there is a Dense layer: the head
        return width

    @property
    def n_classes(self) -> int:
        """Number of classes ``C``."""
        return self._head.out_features

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the weights, which inputs must have (float32 from :func:`train_classifier`)."""
        return self.net.dtype

    @property
    def n_features(self) -> int:
        """Width ``F`` of :meth:`features`."""
        return self._head.in_features

    def _check_x(self, x: np.ndarray) -> np.ndarray:
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
        labels = check_labels(labels, x.shape[0], self.n_classes)
        if x.shape[0] == 0:
            raise ValueError(f"x must hold at least one image, got shape {x.shape}")
        return float(np.mean(self.predict(x) == labels))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the network and ``info`` to ``path`` (``.npz``, atomically, no pickle); return the path.

        One array ``params`` (the network's ``flat_params``) and the metadata
        ``{"net": net.spec(), "dtype": ..., "info": info}``, in the file format
        of :mod:`numgan._npz` (format ``"numgan-classifier"``, version 2, checksummed).
        ``info`` must be JSON-ready.
        """
        meta = {"net": self.net.spec(), "dtype": self.net.dtype.name, "info": self.info}
        return write_npz(path, {"params": self.net.flat_params}, meta, FORMAT, VERSION)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Classifier":
        """Read a classifier written by :meth:`save`: the same weights, so the same predictions.

        Raises ``FileNotFoundError`` for a missing file and ``ValueError``
        naming the file for anything else (damaged, another kind of file, a
        classifier saved by an older numgan, a network that is not a classifier).
        """
        path = Path(path)
        try:
            meta, arrays = read_npz(path, FORMAT, (VERSION,))
        except ValueError:
            if _is_version_1(path):
                raise ValueError(f"{str(path)!r} is a classifier saved by an older numgan (file format "
                                 f"version 1), which this numgan no longer reads: train it again with "
                                 f"train_classifier and save it") from None
            raise
        try:
            if not isinstance(meta.get("info"), dict):
                raise ValueError("its metadata must hold 'info', a JSON object")
            return cls(_rebuild(meta, arrays), meta["info"])
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            raise ValueError(f"{str(path)!r} does not hold a usable numgan classifier: {err}") from None

    def __repr__(self) -> str:
        return f"Classifier({self.net!r})"


def _is_version_1(path: Path) -> bool:
    """Whether ``path`` has the members of a version-1 classifier (names read only, nothing decompressed)."""
    if not path.is_file():                      # a folder, a named pipe...: nothing to open
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            return set(zf.namelist()) == _VERSION_1_MEMBERS
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


#: the layers a classifier file may name (the classifier is an MLP)
_MLP_LAYERS = frozenset({"Dense", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Identity"})


def _rebuild(meta: dict, arrays: dict[str, np.ndarray]) -> Sequential:
    """The network described by ``meta["net"]`` (a ``Sequential.spec()``) with the weights ``params``.

    The Dense layers' sizes are checked against the number of stored weights
    before anything is allocated, so that a crafted spec cannot ask for gigabytes.
    """
    if set(arrays) != {"params"}:
        raise ValueError(f"it must hold one array 'params', got {sorted(arrays)}")
    params = arrays["params"]
    dtype = np.dtype(meta["dtype"]) if meta.get("dtype") in ("float32", "float64") else None
    if dtype is None:
        raise ValueError(f"its dtype must be 'float32' or 'float64', got {str(meta.get('dtype'))[:40]!r}")
    if params.dtype != dtype or params.ndim != 1:
        raise ValueError(f"its params must be a 1-D {dtype.name} array, got {params.dtype.name} {params.shape}")
    spec = meta.get("net")
    if not isinstance(spec, list) or not all(isinstance(entry, dict) for entry in spec):
        raise ValueError("its metadata must describe the network as a list of layers ('net')")
    total = 0
    for k, entry in enumerate(spec):
        if entry.get("layer") not in _MLP_LAYERS:     # a classifier is an MLP: no other layer is allocated
            raise ValueError(f"net[{k}] must name a layer among {sorted(_MLP_LAYERS)}, "
                             f"got {str(entry.get('layer'))[:40]!r}")
        if entry.get("layer") == "Dense":
            sizes = (entry.get("in_features"), entry.get("out_features"))
            if not all(type(n) is int and 1 <= n <= params.size for n in sizes):
                raise ValueError(f"net[{k}] must be a Dense layer of sizes from 1 to {params.size}, got {sizes}")
            total += sizes[0] * sizes[1] + sizes[1]
            if total > params.size:
                raise ValueError(f"net[{k}] is a Dense layer of sizes {sizes}, too large for the "
                                 f"{params.size} parameters stored")
    net = from_spec(spec, dtype)
    if net.flat_params.shape != params.shape:
        raise ValueError(f"its params must have {net.n_params} numbers for the network {net!r}, got {params.size}")
    net.flat_params[...] = params
    return net


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
    labels = check_labels(labels, n)
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
    start = time.perf_counter()
    ### BEGIN SOLUTION
    order, pos = rng.permutation(n), 0
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
    ### END SOLUTION
    info = {"hidden": list(hidden), "steps": steps, "batch_size": batch, "lr": lr,
            "weight_decay": weight_decay, "seed": seed if isinstance(seed, int) else "generator",
            "n_train": n, "final_batch_loss": loss, "train_seconds": time.perf_counter() - start}
    return Classifier(net, info)


def _trained_on(loader: Callable[..., tuple[np.ndarray, np.ndarray]], name: str) -> Classifier:
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
def fashion_classifier(path: str | os.PathLike | None = None) -> Classifier:
    """The classifier of Fashion-MNIST, trained on its 60,000 training images (seed 0), cached per ``path``.

    ``path`` is the folder of the IDX files, None for Debian's
    ``/usr/share/datasets/fashion-mnist`` (see :func:`numgan.data.load_fashion_mnist`).
    ``info["test_accuracy"]`` is its accuracy on the 10,000 test images.
    """
    from .data import load_fashion_mnist

    def loader(split: str, scale: str, flatten: bool) -> tuple[np.ndarray, np.ndarray]:
        return load_fashion_mnist(path, split=split, scale=scale, flatten=flatten)
    return _trained_on(loader, "fashion")
