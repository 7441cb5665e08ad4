"""Gradient penalties on the discriminator: WGAN-GP and R1.

Both penalise the gradient of D's score with respect to its *input*,
``g_i = dD(x_i)/dx_i`` (one row per sample):

* WGAN-GP (Gulrajani et al., 2017), two-sided, on random interpolates
  ``x_hat = eps * x_real + (1 - eps) * x_fake`` with ``eps ~ U[0, 1]`` per sample::

      P = weight * mean_i (||g_i|| - 1)**2,     dP/dg_i = 2 weight (||g_i|| - 1) g_i / (||g_i|| N)

* R1 (Mescheder et al., 2018, "Which training methods for GANs do actually
  converge?"), on real data::

      P = gamma / 2 * mean_i ||g_i||**2,        dP/dg_i = gamma g_i / N

D is trained on ``loss + P``, so it needs ``dP/dW`` for every weight: ``g`` is
computed by a backward pass, and ``dP/dW`` by differentiating that backward pass
(double backprop). For a chain of layers with inputs ``u_0 = x, u_1, ..., u_K``
and input-gradients ``delta_K = 1``, ``delta_k = dD/du_k``:

1. Sweep forward through the backward pass with ``a_0 = dP/dg``:
   a Dense layer (``delta_k = delta_{k+1} W.T``) adds ``a_k.T @ delta_{k+1}`` to
   ``dP/dW`` and sets ``a_{k+1} = a_k @ W``; an activation
   (``delta_k = delta_{k+1} * f'(u_k)``) sets ``a_{k+1} = a_k * f'(u_k)`` and
   injects ``a_k * delta_{k+1} * f''(u_k)`` as an adjoint of its input ``u_k``.
2. Sweep an ordinary backward pass through the forward pass, starting from the
   injected adjoints (zero at the output), which adds the terms of ``dP/dW``
   and ``dP/db`` that flow through the activations' inputs.

For leaky ReLU ``f'' = 0`` (away from the kink), nothing is injected and step
2 is skipped; for tanh and sigmoid the ``f''`` terms are needed and kept.

Every other linear layer goes through sweep 1 as ``Dense`` does. For a layer
``y = L_W(x) + b`` whose backward is ``delta_k = L_W^T(delta_{k+1})``, the
term is ``d/dW <a_k, L_W^T(delta_{k+1})> = d/dW <L_W(a_k), delta_{k+1}>``: the
layer's own weight gradient for the input ``a_k`` and the output gradient
``delta_{k+1}``; and ``a_{k+1} = L_W(a_k)``, the forward pass without the bias.
So ``Conv2d`` and ``ConvTranspose2d`` run their ``linear_forward`` on ``a_k``
and their ``backward``; ``Reshape`` and ``Flatten`` reshape ``a_k``. Linear
layers inject nothing (their ``delta_k`` does not depend on their input).
``BatchNorm`` is refused: in training mode it couples the samples of a batch,
so ``dD(x_i)/dx_i`` would not be the gradient of one sample's score.

D's input must be flat, ``(N, features)``: a convolutional D starts with
``Reshape``, as :func:`numgan.dcgan.dcgan_discriminator` does.
Derivation: ``docs/gradient-penalty.md``; through convolutions:
``docs/convolution.md#gradient-penalties-through-linear-layers``.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_matrix, check_positive
from .batchnorm import BatchNorm
from .conv import Conv2d, ConvTranspose2d
from .flat import FlatParams
from .layers import Dense
from .network import Sequential
from .reshape import Flatten, Reshape


def _check_penalisable(D: Sequential) -> None:
    """``ValueError`` naming the first ``BatchNorm`` of D: the penalties do not go through it."""
    for i, layer in enumerate(D.layers):
        if isinstance(layer, BatchNorm):
            raise ValueError(
                f"D must have no BatchNorm layer for a gradient penalty, got layer {i}: {layer!r}. BatchNorm "
                f"mixes the samples of a batch (training mode), so dD(x_i)/dx_i is not one sample's gradient "
                f"and its double backprop is not implemented; build D without it (a penalised DCGAN "
                f"discriminator uses none, Gulrajani et al., 2017)")


def input_gradient(D: Sequential, x: np.ndarray) -> tuple[np.ndarray, list, list]:
    """``g = d(sum of D's scores)/dx`` (row i is ``dD(x_i)/dx_i``), with what double backprop needs.

    Returns ``(g, cache, deltas)``: ``cache`` from ``D.forward(x)`` and
    ``deltas[k] = dD/du_k``, the gradient at the input of layer ``k``
    (``deltas[-1]`` is the ones at the output).

    See ``docs/gradient-penalty.md#notation``. ``ValueError`` if D holds a ``BatchNorm``.
    """
    _check_penalisable(D)
    s, cache = D.forward(x)
    deltas = [np.ones_like(s)]
    for layer, c in zip(reversed(D.layers), reversed(cache)):
        deltas.append(layer.backward(deltas[-1], c, param_grads=False)[0])
    deltas.reverse()
    return deltas[0], cache, deltas


def penalty_weight_gradients(D: Sequential, dP_dg: np.ndarray, cache: list, deltas: list) -> FlatParams:
    """``dP/dparams`` of D, given ``dP/dg`` and the results of :func:`input_gradient`.

    The two sweeps of the module docstring. The grads are a ``FlatParams`` laid
    out like ``D.params``, as ``Sequential.backward``'s are.
    """
    grads = D.params.zeros_like()
    injected: dict[int, np.ndarray] = {}
    a = dP_dg
    for k, layer in enumerate(D.layers):                       # sweep 1: through the backward pass
        if isinstance(layer, (Conv2d, ConvTranspose2d)):       # linear: y = L_W(x) + b
            a, c = layer.linear_forward(a)                     # a_{k+1} = L_W(a_k)
            _, g = layer.backward(deltas[k + 1], c, input_grad=False)
            dW = grads[f"{k}.W"]
            dW += g["W"]                                       # d/dW <L_W(a_k), delta_{k+1}>
            continue
        if isinstance(layer, (Reshape, Flatten)):              # linear, no parameters
            a = layer.forward(a)[0]
            continue
        ### BEGIN SOLUTION
        if isinstance(layer, Dense):
            dW = grads[f"{k}.W"]                               # a view into the flat buffer
            dW += a.T @ deltas[k + 1]
            a = a @ layer.params["W"]
        else:
            f2 = layer.second_derivative(cache[k])
            if f2 is not None:
                injected[k] = a * deltas[k + 1] * f2
            a = a * layer.derivative(cache[k])
        ### END SOLUTION
    ### BEGIN SOLUTION
    if injected:                                                # sweep 2: through the forward pass
        top = max(injected)
        u_bar = injected[top]
        for k in range(top - 1, -1, -1):
            u_bar, g = D.layers[k].backward(u_bar, cache[k])
            for name, value in g.items():
                view = grads[f"{k}.{name}"]
                view += value
            if k in injected:
                u_bar = u_bar + injected[k]
    ### END SOLUTION
    return grads


def wgan_gp_penalty(D: Sequential, x_real: np.ndarray, x_fake: np.ndarray, eps: np.ndarray,
                    weight: float = 10.0) -> tuple[float, FlatParams]:
    """WGAN-GP: ``weight * mean_i (||dD/dx(x_hat_i)|| - 1)**2`` and its gradient wrt D's params.

    ``x_hat = eps * x_real + (1 - eps) * x_fake``; ``eps`` (N, 1) holds the
    interpolation coefficients, drawn by the caller (``rng.uniform``) so that a
    test can hold them fixed. See ``docs/gradient-penalty.md#wgan-gp``.
    """
    weight = check_positive(weight, "weight")
    check_matrix(x_real, "x_real", width=D.in_features, dtype=D.dtype)
    check_matrix(x_fake, "x_fake", width=D.in_features, dtype=D.dtype)
    if x_fake.shape != x_real.shape:
        raise ValueError(f"x_fake must have the shape of x_real {x_real.shape}, got {x_fake.shape}")
    if not isinstance(eps, np.ndarray) or eps.shape != (x_real.shape[0], 1):
        raise ValueError(f"eps must be an array of shape ({x_real.shape[0]}, 1), got "
                         f"{eps.shape if isinstance(eps, np.ndarray) else type(eps).__name__}")
    x_hat = eps * x_real + (1 - eps) * x_fake
    g, cache, deltas = input_gradient(D, x_hat.astype(D.dtype, copy=False))
    ### BEGIN SOLUTION
    norm = np.sqrt(np.sum(g * g, axis=1, keepdims=True))
    n = g.shape[0]
    value = weight * float(np.mean((norm - 1) ** 2))
    # at g = 0 the norm has no gradient; dP/dg = 0 there is the usual convention (0 is in the Clarke
    # generalised gradient of (||g|| - 1)**2 at g = 0; docs/gradient-penalty.md)
    safe = np.where(norm > 0, norm, 1)
    dP_dg = (2 * weight / n) * (norm - 1) / safe * g
    ### END SOLUTION
    return value, penalty_weight_gradients(D, dP_dg, cache, deltas)


def r1_penalty(D: Sequential, x_real: np.ndarray, gamma: float = 10.0) -> tuple[float, FlatParams]:
    """R1: ``gamma / 2 * mean_i ||dD/dx(x_i)||**2`` on real data, and its gradient wrt D's params.

    See ``docs/gradient-penalty.md#r1``.
    """
    gamma = check_positive(gamma, "gamma")
    check_matrix(x_real, "x_real", width=D.in_features, dtype=D.dtype)
    g, cache, deltas = input_gradient(D, x_real)
    n = g.shape[0]
    value = 0.5 * gamma * float(np.mean(np.sum(g * g, axis=1)))
    return value, penalty_weight_gradients(D, (gamma / n) * g, cache, deltas)
