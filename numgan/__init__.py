"""numgan: generative adversarial networks written from scratch in NumPy.

Every layer, backward pass, loss and optimizer is hand-written, vectorised
NumPy, checked against finite differences (:mod:`numgan.gradcheck`).
"""
import os as _os
import sys as _sys

# OpenBLAS, NumPy's BLAS, keeps its idle worker threads spinning for 2**28 CPU cycles after each
# matrix product; with 2 BLAS threads that slowed a numgan step down by a fifth on our machine
# (docs/performance.md#openblas-worker-threads-that-spin). OpenBLAS reads this setting once, when
# NumPy is imported, so it only takes effect when numgan is imported first; a value the user set wins.
if "numpy" not in _sys.modules:
    _os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")      # 2**4 cycles: sleep at once

from .batchnorm import BatchNorm
from .conv import Conv2d, ConvTranspose2d
from .dcgan import dcgan_discriminator, dcgan_generator
from .gradcheck import check_layer, check_network, numerical_gradient, rel_error
from .layers import Dense, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from .losses import bce_with_logits, mse, softmax_cross_entropy
from .network import Sequential, mlp, seed_discriminator, seed_generator
from .optim import SGD, Adam
from .reshape import Flatten, Reshape

__version__ = "0.4.0"

__all__ = [
    "Dense", "LeakyReLU", "ReLU", "Sigmoid", "Tanh", "Identity",
    "Conv2d", "ConvTranspose2d", "BatchNorm", "Reshape", "Flatten",
    "Sequential", "mlp", "seed_generator", "seed_discriminator", "dcgan_generator", "dcgan_discriminator",
    "SGD", "Adam",
    "bce_with_logits", "mse", "softmax_cross_entropy",
    "numerical_gradient", "rel_error", "check_layer", "check_network",
]
