"""DCGAN presets (Radford et al., 2016): a transposed-convolution generator and a convolutional discriminator.

Both keep numgan's flat interface, so that :class:`numgan.gan.GAN`, the
training loop, checkpoints and penalties work unchanged: the generator maps
noise ``(N, z_dim)`` to images flattened to ``(N, C*H*W)`` in ``[-1, 1]``, and
the discriminator maps flat images ``(N, C*H*W)`` to one raw score each. For a
28 x 28 image and ``width = w``::

    G: z -> Dense(z_dim, 2w*7*7) -> Reshape((2w, 7, 7)) -> BatchNorm -> ReLU
         -> ConvTranspose2d(2w, w, 4, 2, 1) (14 x 14) -> BatchNorm -> ReLU
         -> ConvTranspose2d(w, C, 4, 2, 1) (28 x 28) -> Tanh -> Flatten           (N, C*28*28)
    D: x -> Reshape((C, 28, 28)) -> Conv2d(C, w, 4, 2, 1) (14 x 14) -> LeakyReLU(0.2)
         -> Conv2d(w, 2w, 4, 2, 1) (7 x 7) -> LeakyReLU(0.2) -> Flatten -> Dense(2w*7*7, 1)

An 8 x 8 image uses the same layers from a 2 x 2 start (any ``H`` and ``W``
divisible by 4 work: the start is ``H/4 x W/4``). The choices of the paper
that are kept: strided (transposed) convolutions instead of pooling, kernel 4
with stride 2 and padding 1 (each doubles or halves the size exactly), ReLU in
G, leaky ReLU of slope 0.2 in D, tanh out, BatchNorm in G. The one left out:
BatchNorm in D. numgan's step scores the real and the fake batch in one pass
through D, where batch statistics would mix the two, and the gradient
penalties (R1, WGAN-GP) refuse BatchNorm (:mod:`numgan.penalties`); D keeps
its samples independent instead (Gulrajani et al., 2017, drop it for the same
reason). Weights: He initialisation (``numgan.conv``), biases zero.

G's BatchNorm layers run in training mode (batch statistics) unless
``G.eval()`` is called. The moving average ``GAN.G_ema`` averages G's
parameters and carries G's running statistics (copied after every G step), so
either mode samples it sensibly: ``G_ema.eval()`` makes a sample independent
of the others in its batch.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import numpy.typing as npt

from ._checks import check_int, check_rng
from .batchnorm import BatchNorm
from .conv import Conv2d, ConvTranspose2d
from .layers import Dense, Layer, LeakyReLU, ReLU, Tanh
from .network import Sequential
from .reshape import Flatten, Reshape


def _image_shape(image_shape: Sequence[int]) -> tuple[int, int, int]:
    """``(H, W)`` or ``(C, H, W)`` as ``(C, H, W)``, with ``H`` and ``W`` multiples of 4 (two halvings)."""
    if isinstance(image_shape, (str, bytes)) or not isinstance(image_shape, (tuple, list)) \
            or len(image_shape) not in (2, 3):
        raise ValueError(f"image_shape must be (H, W) or (C, H, W), got {image_shape!r}")
    dims = [check_int(n, f"image_shape[{k}]") for k, n in enumerate(image_shape)]
    c, h, w = dims if len(dims) == 3 else [1, *dims]
    if h % 4 or w % 4:
        raise ValueError(f"image_shape must have a height and width divisible by 4 (two stride-2 steps), "
                         f"got {tuple(image_shape)}")
    return c, h, w


def dcgan_generator(z_dim: int, image_shape: Sequence[int], width: int = 64, *, n_classes: int | None = None,
                    batchnorm: bool = True, dtype: npt.DTypeLike = np.float32,
                    seed: int | np.random.Generator | None = None) -> Sequential:
    """The DCGAN generator (module docstring): ``(N, z_dim [+ n_classes]) -> (N, C*H*W)`` in ``[-1, 1]``.

    ``image_shape`` is ``(H, W)`` (one channel) or ``(C, H, W)``, ``H`` and ``W``
    divisible by 4 (8 x 8 digits, 28 x 28 MNIST); ``width`` the channels of the
    last hidden layer (the one before has ``2 width``). ``n_classes`` adds the
    one-hot label columns of a conditional GAN to the input (numgan's
    conditional G takes ``z`` joined with the labels). ``batchnorm=False``
    leaves out G's BatchNorm layers. Weights drawn from ``seed``.
    """
    z_dim = check_int(z_dim, "z_dim")
    width = check_int(width, "width")
    n_labels = 0 if n_classes is None else check_int(n_classes, "n_classes", minimum=2)
    c, h, w = _image_shape(image_shape)
    rng = check_rng(seed, "seed")
    h0, w0 = h // 4, w // 4

    def norm(channels: int) -> list[Layer]:
        return [BatchNorm(channels, dtype=dtype)] if batchnorm else []

    layers: list[Layer] = [
        Dense(z_dim + n_labels, 2 * width * h0 * w0, dtype=dtype, rng=rng), Reshape((2 * width, h0, w0)),
        *norm(2 * width), ReLU(),
        ConvTranspose2d(2 * width, width, 4, 2, 1, dtype=dtype, rng=rng), *norm(width), ReLU(),
        ConvTranspose2d(width, c, 4, 2, 1, init="glorot", dtype=dtype, rng=rng), Tanh(), Flatten(),
    ]
    return Sequential(layers, dtype=dtype)


def dcgan_discriminator(image_shape: Sequence[int], width: int = 64, *, alpha: float = 0.2,
                        dtype: npt.DTypeLike = np.float32,
                        seed: int | np.random.Generator | None = None) -> Sequential:
    """The DCGAN discriminator (module docstring): flat images ``(N, C*H*W) -> (N, 1)`` raw scores.

    Two stride-2 convolutions (``width`` then ``2 width`` channels, leaky ReLU
    of slope ``alpha``), then a dense layer to one score. No BatchNorm, so
    that the R1 and WGAN-GP penalties apply. Weights drawn from ``seed``.
    """
    width = check_int(width, "width")
    c, h, w = _image_shape(image_shape)
    rng = check_rng(seed, "seed")
    layers: list[Layer] = [
        Reshape((c, h, w)),
        Conv2d(c, width, 4, 2, 1, alpha=alpha, dtype=dtype, rng=rng), LeakyReLU(alpha),
        Conv2d(width, 2 * width, 4, 2, 1, alpha=alpha, dtype=dtype, rng=rng), LeakyReLU(alpha),
        Flatten(), Dense(2 * width * (h // 4) * (w // 4), 1, init="glorot", dtype=dtype, rng=rng),
    ]
    return Sequential(layers, dtype=dtype)
