"""numgan: generative adversarial networks written from scratch in NumPy.

Every layer, backward pass, loss and optimizer is hand-written, vectorised
NumPy, checked against finite differences (:mod:`numgan.gradcheck`).
"""
from .gradcheck import check_layer, check_network, numerical_gradient, rel_error
from .layers import Dense, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from .losses import bce_with_logits, mse, softmax_cross_entropy
from .network import Sequential, mlp, seed_discriminator, seed_generator
from .optim import SGD, Adam

__version__ = "0.1.0"

__all__ = [
    "Dense", "LeakyReLU", "ReLU", "Sigmoid", "Tanh", "Identity",
    "Sequential", "mlp", "seed_generator", "seed_discriminator",
    "SGD", "Adam",
    "bce_with_logits", "mse", "softmax_cross_entropy",
    "numerical_gradient", "rel_error", "check_layer", "check_network",
]
