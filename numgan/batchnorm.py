"""Batch normalisation (Ioffe and Szegedy, 2015), 1-D ``(N, C)`` and 2-D ``(N, C, H, W)``, statistics per channel.

Training mode normalises with the batch's own statistics, over every axis but
the channel axis 1 (``M`` numbers per channel: ``N`` or ``N*H*W``)::

    mu = mean(x),   var = mean((x - mu)**2)   (biased),   xhat = (x - mu) / sqrt(var + eps)
    y = gamma * xhat + beta

and updates the running estimates by PyTorch's rule (``torch.nn.BatchNorm2d``,
``momentum=0.1``; the unbiased variance ``var * M / (M - 1)`` for the estimate)::

    running_mean <- (1 - momentum) * running_mean + momentum * mu
    running_var  <- (1 - momentum) * running_var  + momentum * var * M / (M - 1)

Evaluation mode uses the running estimates instead: ``y = gamma * (x - running_mean)
/ sqrt(running_var + eps) + beta``, a fixed affine map per channel.

The mode is an attribute, ``training``, set by :meth:`BatchNorm.train` and
:meth:`BatchNorm.eval` (or :meth:`numgan.network.Sequential.train` / ``eval`` for
every layer of a network); the cache records the mode of its forward, so a
backward always matches its forward. Backward in training mode, with
``dxhat = dy * gamma`` and sums over the ``M`` numbers of each channel::

    dx = (M dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)) / (M sqrt(var + eps))
    dgamma = sum(dy * xhat),   dbeta = sum(dy)

(in evaluation mode ``dx = dy * gamma / sqrt(running_var + eps)``).

``gamma`` and ``beta`` are the layer's ``params`` (trained by the optimizer);
``running_mean`` and ``running_var`` are its ``buffers``: state that is not
trained but is saved in checkpoints. Forward in training mode changes the
buffers (only there, never in backward). Derivation: ``docs/convolution.md#batch-normalisation``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ._checks import as_float_array, check_float_dtype, check_in_range, check_int, check_positive
from .layers import Layer


class BatchNorm(Layer):
    """Batch normalisation of ``(N, C)`` or ``(N, C, H, W)``, per channel ``C`` (module docstring).

    Parameters ``gamma`` (ones) and ``beta`` (zeros), both ``(C,)``; buffers
    ``running_mean`` (zeros) and ``running_var`` (ones), ``(C,)``; ``training``
    is True until :meth:`eval` is called. Reference: Ioffe and Szegedy, 2015,
    "Batch normalization: accelerating deep network training by reducing
    internal covariate shift".
    """

    def __init__(self, num_features: int, *, momentum: float = 0.1, eps: float = 1e-5,
                 dtype: npt.DTypeLike = np.float32) -> None:
        super().__init__()
        self.num_features = check_int(num_features, "num_features")
        self.momentum = check_in_range(momentum, "momentum", 0.0, 1.0)
        self.eps = check_positive(eps, "eps")
        dtype = check_float_dtype(dtype, "dtype")
        self.params = {"gamma": np.ones(self.num_features, dtype=dtype),
                       "beta": np.zeros(self.num_features, dtype=dtype)}
        self.buffers: dict[str, np.ndarray] = {"running_mean": np.zeros(self.num_features, dtype=dtype),
                                               "running_var": np.ones(self.num_features, dtype=dtype)}
        self.training = True

    def train(self) -> "BatchNorm":
        """Training mode: batch statistics, running estimates updated. Returns the layer."""
        self.training = True
        return self

    def eval(self) -> "BatchNorm":
        """Evaluation mode: the running estimates, nothing updated. Returns the layer."""
        self.training = False
        return self

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The per-sample output shape: that of the input, ``(C,)`` or ``(C, H, W)``."""
        if len(input_shape) not in (1, 3) or input_shape[0] != self.num_features:
            raise ValueError(f"{self!r} takes samples of shape ({self.num_features},) or "
                             f"({self.num_features}, H, W), got {input_shape}")
        return input_shape

    def _axes_and_shape(self, x: np.ndarray, name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The axes the statistics run over, and the shape a ``(C,)`` vector broadcasts as."""
        as_float_array(x, name)
        if x.ndim not in (2, 4) or x.shape[1] != self.num_features:
            raise ValueError(f"{name} must be (N, {self.num_features}) or (N, {self.num_features}, H, W), "
                             f"got shape {x.shape}")
        if x.dtype != self.params["gamma"].dtype:
            raise TypeError(f"{name} must have dtype {self.params['gamma'].dtype.name} like the layer, "
                            f"got {x.dtype.name}")
        return ((0,), (1, -1)) if x.ndim == 2 else ((0, 2, 3), (1, -1, 1, 1))

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        """``y = gamma * xhat + beta``; the cache is ``(training, xhat, inv_std)``."""
        axes, shape = self._axes_and_shape(x, "x")
        gamma, beta = self.params["gamma"].reshape(shape), self.params["beta"].reshape(shape)
        if self.training:
            m = x.size // self.num_features
            if m < 2:
                raise ValueError(f"x must hold more than 1 value per channel in training mode (the variance "
                                 f"of 1 number is 0), got shape {x.shape}; use eval() or a larger batch")
            mu = x.mean(axis=axes)
            centred = x - mu.reshape(shape)
            var = np.mean(centred * centred, axis=axes)
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm *= 1 - self.momentum
            rm += self.momentum * mu
            rv *= 1 - self.momentum
            rv += self.momentum * var * (m / (m - 1))
        else:
            mu, var = self.buffers["running_mean"], self.buffers["running_var"]
            centred = x - mu.reshape(shape)
        inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)
        xhat = centred * inv_std.reshape(shape)
        return gamma * xhat + beta, (self.training, xhat, inv_std)

    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``dx``, ``dgamma = sum(dy xhat)``, ``dbeta = sum(dy)`` (module docstring), per channel."""
        training, xhat, inv_std = cache
        axes, shape = self._axes_and_shape(dy, "dy")
        if dy.shape != xhat.shape:
            raise ValueError(f"dy must have the shape of the layer's output {xhat.shape}, got {dy.shape}")
        gamma = self.params["gamma"]
        dgamma, dbeta = np.sum(dy * xhat, axis=axes), dy.sum(axis=axes)   # per channel
        dxhat = dy * gamma.reshape(shape)
        if training:
            m = dy.size // self.num_features
            # sum(dxhat) = gamma * dbeta and sum(dxhat * xhat) = gamma * dgamma: no second pass over dy
            sum_dxhat = (gamma * dbeta).reshape(shape)
            sum_dxhat_xhat = (gamma * dgamma).reshape(shape)
            dx = (dxhat - sum_dxhat / m - xhat * (sum_dxhat_xhat / m)) * inv_std.reshape(shape)
        else:
            dx = dxhat * inv_std.reshape(shape)
        if not param_grads:
            return dx, {}
        return dx, {"gamma": dgamma, "beta": dbeta}

    def astype(self, dtype: npt.DTypeLike) -> "BatchNorm":
        """A copy with parameters and buffers of ``dtype``; the copy's buffers are its own."""
        new = super().astype(dtype)
        assert isinstance(new, BatchNorm)
        new.buffers = {k: v.astype(new.params["gamma"].dtype) for k, v in self.buffers.items()}
        return new

    def __repr__(self) -> str:
        return f"BatchNorm({self.num_features}, momentum={self.momentum}, eps={self.eps})"
