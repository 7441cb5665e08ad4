"""The image data sets by name, as the GANs and the command line use them: flat rows in ``[-1, 1]``.

``digits`` (8x8) and ``mnist`` (28x28, 5,000 images) ship with numgan
(:mod:`numgan.data.images`); ``fashion`` (28x28) is read from Fashion-MNIST's
IDX files (:mod:`numgan.data.idx`).
"""
from __future__ import annotations

from os import PathLike

import numpy as np

from .idx import load_fashion_mnist
from .images import load_digits, load_mnist

#: image shape ``(H, W)`` of each data set
IMAGE_SHAPES: dict[str, tuple[int, int]] = {"digits": (8, 8), "mnist": (28, 28), "fashion": (28, 28)}


def load_images(name: str, split: str = "train", path: str | PathLike | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, H*W)`` float32 in ``[-1, 1]`` and labels ``(N,)`` int64 of a data set by name.

    ``path`` is the folder of the Fashion-MNIST files (``fashion`` only).
    """
    if name == "digits":
        x, y = load_digits(split=split, scale="tanh", flatten=True)
    elif name == "mnist":
        x, y = load_mnist(split=split, scale="tanh", flatten=True)
    elif name == "fashion":
        x, y = load_fashion_mnist(path, split=split, scale="tanh", flatten=True)
    else:
        raise ValueError(f"name must be one of {sorted(IMAGE_SHAPES)}, got {name!r}")
    return x, y.astype(np.int64)
