"""Convolution layers, NCHW: ``Conv2d`` and its adjoint ``ConvTranspose2d``, by im2col and one matrix product.

Layout: NCHW, PyTorch's: an image batch ``x`` has shape ``(N, C, H, W)`` and a
weight ``W`` of ``Conv2d`` shape ``(C_out, C_in, k, k)``, so weights and
results compare one to one with ``torch.nn.functional.conv2d``. (Deep-learning
convention: "convolution" is a cross-correlation, the kernel is not flipped.)

Conv2d, for stride ``s`` and zero padding ``p``::

    y[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] * xp[n, c, s*i + u, s*j + v]
    H_out = (H + 2p - k) // s + 1        (the same for the width)

where ``xp`` is ``x`` padded with ``p`` zeros on each side. im2col turns it
into one matrix product: every ``k x k`` window of every channel becomes a row
of ``cols`` (``(N*H_out*W_out, C_in*k*k)``, built from
``numpy.lib.stride_tricks.sliding_window_view``, one copy), and
``y = cols @ W.reshape(C_out, -1).T + b``. The backward pass is read off the
same product::

    dW = dY.T @ cols        dcols = dY @ W2        db = sum of dy over n, i, j

with ``dY`` the gradient ``dy`` laid out as ``(N*H_out*W_out, C_out)``;
``dcols`` is scattered back onto the image (col2im): a loop over the ``k*k``
kernel offsets ``(u, v)``, each one vectorised slice-add
``dxp[:, :, u::s, v::s] += dcols[..., u, v]``. Written out, ``dx`` is the
convolution of ``dy`` (dilated by ``s``) with the flipped kernel; col2im is
the same sum without the zeros. Derivations: ``docs/convolution.md#the-backward-pass``.

ConvTranspose2d is the adjoint (transpose) of Conv2d: its forward is Conv2d's
``dx`` and its backward Conv2d's forward, with the same weights
(Dumoulin and Visin, 2016, "A guide to convolution arithmetic for deep learning").

Both follow the layer contract of :mod:`numgan.layers`, and, like ``Dense``,
declare ``takes_speed_options = True``: ``backward`` also takes ``out=`` (arrays
for the grads) and ``input_grad=False`` (skip ``dx``).
"""
from __future__ import annotations

import math
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from ._checks import check_choice, check_float_dtype, check_int
from .init import INITS, glorot_std, he_std
from .layers import Layer


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """``(size + 2 padding - kernel_size) // stride + 1``: Conv2d's output height (or width)."""
    return (size + 2 * padding - kernel_size) // stride + 1


def conv_transpose_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """``(size - 1) stride - 2 padding + kernel_size``: ConvTranspose2d's output height (or width)."""
    return (size - 1) * stride - 2 * padding + kernel_size


def im2col(xp: np.ndarray, kernel_size: int, stride: int) -> np.ndarray:
    """Every ``k x k`` window of ``xp`` ``(N, C, H, W)`` (already padded) as a row: ``(N*H_out*W_out, C*k*k)``.

    Rows are ordered ``(n, i, j)`` and columns ``(c, u, v)``, so that
    ``cols @ W.reshape(C_out, C*k*k).T`` is the convolution. The windows are a
    view (``sliding_window_view``, then ``[::s, ::s]`` for the stride); the
    reshape makes the one copy.
    """
    n, c = xp.shape[:2]
    k = kernel_size
    ### BEGIN SOLUTION
    windows = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]  # (N, C, Ho, Wo, k, k)
    h_out, w_out = windows.shape[2:4]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h_out * w_out, c * k * k)
    ### END SOLUTION


def col2im(cols: np.ndarray, shape: tuple[int, int, int, int], kernel_size: int, stride: int) -> np.ndarray:
    """The adjoint of :func:`im2col`: add every row of ``cols`` back onto its window; returns ``(N, C, H, W)``.

    ``cols`` is ``(N*H_out*W_out, C*k*k)`` and ``shape`` the padded image's.
    One vectorised slice-add per kernel offset ``(u, v)`` (``k*k`` of them),
    never one per element: windows overlap where ``stride < k``, so the adds
    must accumulate. (The layers call :func:`col2im_t` on the transposed
    columns, which their matrix product gives contiguous.)
    """
    return col2im_t(cols.T, shape, kernel_size, stride)


def col2im_t(cols_t: np.ndarray, shape: tuple[int, int, int, int], kernel_size: int, stride: int) -> np.ndarray:
    """:func:`col2im` of ``cols_t = cols.T`` ``(C*k*k, N*H_out*W_out)``; returns an ``(N, C, H, W)`` view.

    Rows ``(c, u, v)`` and columns ``(n, i, j)``: for each offset ``(u, v)`` the
    slab ``cols_t[(c, u, v), :]`` is a contiguous ``(C, N, H_out, W_out)`` block
    added onto ``out[c, n, u + s i, v + s j]`` (out laid out ``(C, N, H, W)``,
    returned transposed to NCHW without a copy). Memory-friendly: the reads are
    contiguous, only the writes are strided.
    """
    n, c, h, w = shape
    k, s = kernel_size, stride
    h_out, w_out = (h - k) // s + 1, (w - k) // s + 1
    slabs = cols_t.reshape(c, k, k, n, h_out, w_out)          # a view when cols_t is contiguous
    out = np.zeros((c, n, h, w), dtype=cols_t.dtype)
    for u in range(k):
        for v in range(k):
            out[:, :, u:u + s * (h_out - 1) + 1:s, v:v + s * (w_out - 1) + 1:s] += slabs[:, u, v]
    return out.transpose(1, 0, 2, 3)


def _check_images(x: object, name: str, channels: int, dtype: np.dtype) -> np.ndarray:
    """``x`` as a ``(N, channels, H, W)`` array of ``dtype``, else ``TypeError``/``ValueError`` naming ``name``."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape (N, C, H, W), got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name} must be 4-D (N, C, H, W) with C = {channels}, got shape {x.shape}")
    if x.shape[1] != channels:
        raise ValueError(f"{name} must have {channels} channels (axis 1 of N, C, H, W), got shape {x.shape}")
    if x.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype.name} like the layer's weights, got {x.dtype.name}; "
                        f"convert it with {name}.astype(np.{dtype.name})")
    return x


def _draw_kernel(init: str, shape: tuple[int, int, int, int], fan_in: float, fan_out: float, alpha: float,
                 rng: np.random.Generator, dtype: np.dtype) -> np.ndarray:
    """A weight of ``shape`` drawn like :func:`numgan.init.init_weight`, with the fans of a convolution."""
    check_choice(init, "init", INITS)
    std = he_std(fan_in, alpha) if init.startswith("he") else glorot_std(fan_in, fan_out)
    if init.endswith("uniform"):
        limit = math.sqrt(3.0) * std
        w = rng.uniform(-limit, limit, size=shape)
    else:
        w = rng.normal(0.0, std, size=shape)
    return w.astype(dtype)


class _ConvBase(Layer):
    """What Conv2d and ConvTranspose2d share: sizes, checks, the speed-option backward signature."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels")
        self.out_channels = check_int(out_channels, "out_channels")
        self.kernel_size = check_int(kernel_size, "kernel_size")
        self.stride = check_int(stride, "stride")
        self.padding = check_int(padding, "padding", minimum=0)

    def _grad_arrays(self, out: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
        if out is None:
            return {"W": np.empty_like(self.params["W"]), "b": np.empty_like(self.params["b"])}
        return out

    @staticmethod
    def _weight_product(a: np.ndarray, b: np.ndarray, dW: np.ndarray) -> None:
        """``dW = (a @ b)`` reshaped to ``dW``'s shape, written into ``dW`` (directly when it is contiguous)."""
        if dW.flags.c_contiguous:
            np.matmul(a, b, out=dW.reshape(a.shape[0], b.shape[1]))      # a view: the product lands in dW
        else:
            dW[...] = (a @ b).reshape(dW.shape)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The per-sample output shape ``(C_out, H_out, W_out)`` for a per-sample input ``(C_in, H, W)``."""
        raise NotImplementedError

    def linear_forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        """The forward without the bias (the linear part ``x -> W * x``), with its cache."""
        raise NotImplementedError

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        """``y = linear_forward(x) + b`` (the bias once per output channel); the cache is ``linear_forward``'s."""
        y, cache = self.linear_forward(x)
        y += self.params["b"].reshape(-1, 1, 1)
        return y, cache

    def _check_dy(self, dy: np.ndarray, x_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The output shape for an input of ``x_shape``, after checking that ``dy`` has it (and the dtype)."""
        out_shape = (x_shape[0], *self.output_shape(x_shape[1:]))
        _check_images(dy, "dy", self.out_channels, self.params["W"].dtype)
        if dy.shape != out_shape:
            raise ValueError(f"dy must have the shape of the layer's output {out_shape}, got {dy.shape}")
        return out_shape

    def _check_input_shape(self, input_shape: tuple[int, ...]) -> tuple[int, int]:
        if len(input_shape) != 3 or input_shape[0] != self.in_channels:
            raise ValueError(f"{self!r} takes samples of shape ({self.in_channels}, H, W), got {input_shape}")
        return input_shape[1], input_shape[2]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding})")


class Conv2d(_ConvBase):
    """2-D convolution (cross-correlation) ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``, NCHW.

    ``y[n, o, i, j] = b[o] + sum_{c,u,v} W[o, c, u, v] xp[n, c, s i + u, s j + v]`` with ``xp``
    the input zero-padded by ``padding`` on each side; ``H_out = (H + 2p - k) // s + 1``.
    Parameters: ``W`` ``(C_out, C_in, k, k)`` and ``b`` ``(C_out,)``, as in
    ``torch.nn.Conv2d``. Forward by im2col and one matrix product; backward::

        dW = dY.T @ cols,   db = sum over (n, i, j) of dy,   dx = col2im(dY @ W2)  (cropped by p)

    (module docstring; ``docs/convolution.md#im2col-the-forward-pass-as-one-matrix-product``).

    Initialisation: ``W`` by ``init`` ("he" by default, "he_uniform", "glorot",
    "glorot_uniform"; ``alpha`` the leaky slope of the He gain) with the fans of a
    convolution, ``fan_in = C_in k**2`` and ``fan_out = C_out k**2`` (He et al., 2015;
    PyTorch's ``kaiming_normal_`` uses the same fan_in); ``b`` starts at 0.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 *, init: str = "he", alpha: float = 0.0, dtype: npt.DTypeLike = np.float32,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding)
        dtype = check_float_dtype(dtype, "dtype")
        k = self.kernel_size
        rng = np.random.default_rng(rng)
        shape = (self.out_channels, self.in_channels, k, k)
        self.params = {
            "W": _draw_kernel(init, shape, self.in_channels * k * k, self.out_channels * k * k, alpha, rng, dtype),
            "b": np.zeros(self.out_channels, dtype=dtype),
        }

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        h, w = self._check_input_shape(input_shape)
        h_out = conv_output_size(h, self.kernel_size, self.stride, self.padding)
        w_out = conv_output_size(w, self.kernel_size, self.stride, self.padding)
        if h_out < 1 or w_out < 1:
            raise ValueError(f"{self!r} needs H + 2 padding >= kernel_size, got samples of shape {input_shape}")
        return (self.out_channels, h_out, w_out)

    def linear_forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        """The forward without the bias (the linear part ``x -> W * x``), with its cache; used by double backprop."""
        W = self.params["W"]
        x = _check_images(x, "x", self.in_channels, W.dtype)
        n = x.shape[0]
        p, k = self.padding, self.kernel_size
        h_out, w_out = self.output_shape(x.shape[1:])[1:]
        ### BEGIN SOLUTION
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        cols = im2col(xp, k, self.stride)                                   # (N*Ho*Wo, C_in*k*k)
        y = cols @ W.reshape(self.out_channels, -1).T                       # (N*Ho*Wo, C_out)
        y = np.ascontiguousarray(y.reshape(n, h_out, w_out, self.out_channels).transpose(0, 3, 1, 2))
        return y, (cols, x.shape)
        ### END SOLUTION

    takes_speed_options = True   # declared beside the backward it describes (Layer.backward_takes_speed_options)

    @overload
    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True,
                 out: dict[str, np.ndarray] | None = None, input_grad: Literal[True] = True
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]: ...

    @overload
    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True,
                 out: dict[str, np.ndarray] | None = None, input_grad: bool
                 ) -> tuple[np.ndarray | None, dict[str, np.ndarray]]: ...

    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True,
                 out: dict[str, np.ndarray] | None = None, input_grad: bool = True
                 ) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
        """``dx = col2im(dY @ W2)`` cropped by the padding, ``dW = dY.T @ cols``, ``db = dy.sum((0, 2, 3))``.

        ``out`` and ``input_grad`` are the speed options of ``Dense.backward``.
        """
        cols, x_shape = cache
        W = self.params["W"]
        n, _, h, w = x_shape
        p, k, s = self.padding, self.kernel_size, self.stride
        self._check_dy(dy, x_shape)
        ### BEGIN SOLUTION
        dY = dy.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)     # (N*Ho*Wo, C_out)
        dx = None
        if input_grad:
            dcols_t = W.reshape(self.out_channels, -1).T @ dY.T             # (C_in*k*k, N*Ho*Wo) = dcols.T
            dxp = col2im_t(dcols_t, (n, self.in_channels, h + 2 * p, w + 2 * p), k, s)
            dx = np.ascontiguousarray(dxp[:, :, p:p + h, p:p + w])
        if not param_grads:
            return dx, {}
        grads = self._grad_arrays(out)
        self._weight_product(dY.T, cols, grads["W"])
        np.sum(dy, axis=(0, 2, 3), out=grads["b"])
        return dx, grads
        ### END SOLUTION


class ConvTranspose2d(_ConvBase):
    """Transposed convolution ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``, the adjoint of :class:`Conv2d`.

    With the same weight ``W`` ``(C_in, C_out, k, k)`` (PyTorch's layout for
    ``ConvTranspose2d``; it is ``Conv2d(C_out, C_in, k, s, p)``'s weight), the
    map ``x -> y - b`` is the transpose of that Conv2d's linear map:
    ``<conv(u), v> = <u, conv_T(v)>`` for all ``u``, ``v``. So its forward is
    Conv2d's input gradient and its backward Conv2d's forward::

        cols = X @ W.reshape(C_in, C_out k k);   y = col2im(cols) cropped by p,  + b
        H_out = (H - 1) s - 2p + k
        dcols = im2col(dy padded by p);  dx = dcols @ W2.T;  dW = X.T @ dcols;  db = sum of dy

    with ``X`` the input laid out as ``(N H W, C_in)``. A stride ``s`` makes the
    output ``s`` times larger: it is the up-sampling layer of a DCGAN generator
    (``docs/convolution.md#the-transposed-convolution``; Dumoulin and Visin, 2016).

    Initialisation: ``W`` by ``init`` (as :class:`Conv2d`) with the fans of the
    map as it is used, ``fan_in = C_in k**2 / s**2`` (the inputs that reach one
    output, on average) and ``fan_out = C_out k**2 / s**2``; ``b`` starts at 0.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 *, init: str = "he", alpha: float = 0.0, dtype: npt.DTypeLike = np.float32,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding)
        dtype = check_float_dtype(dtype, "dtype")
        k, s = self.kernel_size, self.stride
        rng = np.random.default_rng(rng)
        shape = (self.in_channels, self.out_channels, k, k)
        self.params = {
            "W": _draw_kernel(init, shape, max(1.0, self.in_channels * k * k / s**2),
                              max(1.0, self.out_channels * k * k / s**2), alpha, rng, dtype),
            "b": np.zeros(self.out_channels, dtype=dtype),
        }

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        h, w = self._check_input_shape(input_shape)
        h_out = conv_transpose_output_size(h, self.kernel_size, self.stride, self.padding)
        w_out = conv_transpose_output_size(w, self.kernel_size, self.stride, self.padding)
        if h_out < 1 or w_out < 1:
            raise ValueError(f"{self!r} makes no output from samples of shape {input_shape}: "
                             f"(H - 1) stride - 2 padding + kernel_size < 1")
        return (self.out_channels, h_out, w_out)

    def linear_forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        """The forward without the bias (the linear part), with its cache; used by double backprop."""
        W = self.params["W"]
        x = _check_images(x, "x", self.in_channels, W.dtype)
        n, _, h, w = x.shape
        p, k, s = self.padding, self.kernel_size, self.stride
        h_out, w_out = self.output_shape(x.shape[1:])[1:]
        X = x.transpose(0, 2, 3, 1).reshape(-1, self.in_channels)          # (N*H*W, C_in)
        cols_t = W.reshape(self.in_channels, -1).T @ X.T                    # (C_out*k*k, N*H*W) = cols.T
        full = col2im_t(cols_t, (n, self.out_channels, (h - 1) * s + k, (w - 1) * s + k), k, s)
        y = np.ascontiguousarray(full[:, :, p:p + h_out, p:p + w_out])
        return y, (X, x.shape)

    takes_speed_options = True   # declared beside the backward it describes (Layer.backward_takes_speed_options)

    @overload
    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True,
                 out: dict[str, np.ndarray] | None = None, input_grad: Literal[True] = True
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]: ...

    @overload
    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True,
                 out: dict[str, np.ndarray] | None = None, input_grad: bool
                 ) -> tuple[np.ndarray | None, dict[str, np.ndarray]]: ...

    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True,
                 out: dict[str, np.ndarray] | None = None, input_grad: bool = True
                 ) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
        """``dcols = im2col(pad(dy, p))``, ``dx = dcols @ W2.T``, ``dW = X.T @ dcols``, ``db = dy.sum((0, 2, 3))``.

        ``out`` and ``input_grad`` are the speed options of ``Dense.backward``.
        """
        X, x_shape = cache
        W = self.params["W"]
        n, _, h, w = x_shape
        p, k, s = self.padding, self.kernel_size, self.stride
        out_shape = self._check_dy(dy, x_shape)
        # pad back to the full (uncropped) size; the full size is exactly covered by the H x W windows
        full_h, full_w = (h - 1) * s + k, (w - 1) * s + k
        dfull = np.zeros((n, self.out_channels, full_h, full_w), dtype=dy.dtype) if p else dy
        if p:
            dfull[:, :, p:p + out_shape[2], p:p + out_shape[3]] = dy
        dcols = im2col(dfull, k, s)                                         # (N*H*W, C_out*k*k)
        dx = None
        if input_grad:
            dX = dcols @ W.reshape(self.in_channels, -1).T                  # (N*H*W, C_in)
            dx = np.ascontiguousarray(dX.reshape(n, h, w, self.in_channels).transpose(0, 3, 1, 2))
        if not param_grads:
            return dx, {}
        grads = self._grad_arrays(out)
        self._weight_product(X.T, dcols, grads["W"])
        np.sum(dy, axis=(0, 2, 3), out=grads["b"])
        return dx, grads
