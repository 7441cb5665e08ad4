"""Finite-difference gradient checks, used by the tests, the notebooks and the course kit.

The numerical gradient uses centred differences,

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2 h),

whose error is O(h**2) for a smooth ``f``; in float64 with ``h = 1e-5`` an
analytic gradient that is right agrees to about 1e-8 or better. Checks run in
float64: float32 has only ~7 digits, too few to tell a right gradient from a
slightly wrong one. See ``docs/backprop.md#checking-gradients``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import numpy as np

from ._checks import check_matrix, check_positive
from .layers import Layer
from .network import Sequential

#: the index of one entry of an array: a tuple of integers (Python's or numpy's)
Index = tuple[int | np.integer, ...]


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5,
                       indices: Iterable[Index] | None = None) -> np.ndarray:
    """Centred-difference gradient of the scalar function ``f`` at ``x``.

    ``f(x)`` is evaluated with one entry of ``x`` moved by ``+h`` and ``-h`` at a
    time; ``x`` is changed in place during the call and restored after each
    entry (so ``f`` may read ``x`` through another reference, e.g. a network's
    weights). ``indices`` (an iterable of index tuples) limits the entries
    computed; the others are left at 0.

    ``x`` must be a floating array (float64 for a meaningful check). An integer
    or bool array is refused with a ``TypeError`` rather than converted: it
    cannot hold ``x + h`` (the step would be truncated, giving nonsense), and a
    float64 copy would not be seen by an ``f`` that reads the original array
    through another reference, as allowed above (the gradient would silently
    be 0). Pass ``x.astype(np.float64)`` instead, and let ``f`` read that array.

    See ``docs/backprop.md#checking-gradients``.
    """
    check_positive(h, "h")
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy array, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must be a floating numpy array (float64) that f reads, got dtype {x.dtype.name}: "
                        f"an integer array cannot hold x + h; pass x.astype(np.float64) instead")
    grad = np.zeros(x.shape, dtype=np.float64)
    entries = np.ndindex(x.shape) if indices is None else indices
    for i in entries:
        old = x[i]
        x[i] = old + h
        f_plus = float(f(x))
        x[i] = old - h
        f_minus = float(f(x))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Relative error ``max|a - b| / max(1e-8, max|a| + max|b|)``.

    Normwise over the array: an elementwise ratio blows up on entries that are
    zero up to rounding (e.g. 1e-12 against 3e-12), where the gradient is right.

    See ``docs/backprop.md#checking-gradients``.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"b must have the shape of a {a.shape}, got {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(1e-8, float(np.abs(a).max() + np.abs(b).max()))
    return float(np.abs(a - b).max() / scale)


@dataclass
class GradCheckEntry:
    """One compared gradient: its name, the relative error and where it is largest."""

    name: str
    rel_error: float
    max_abs_diff: float
    worst_index: tuple[int, ...]
    analytic_at_worst: float
    numerical_at_worst: float


@dataclass
class GradCheckReport:
    """The result of a gradient check: one entry per input or parameter."""

    entries: list[GradCheckEntry] = field(default_factory=list)
    tol: float = 1e-6

    def add(self, name: str, analytic: np.ndarray, numerical: np.ndarray,
            indices: Iterable[Index] | None = None) -> None:
        analytic = np.asarray(analytic, dtype=np.float64)
        if indices is not None:  # compare only the entries that were computed
            idx = tuple(np.array(list(indices)).T)
            analytic, numerical = analytic[idx], numerical[idx]
        diff = np.abs(analytic - numerical)
        worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
        self.entries.append(GradCheckEntry(
            name, rel_error(analytic, numerical), float(diff.max()) if diff.size else 0.0,
            tuple(int(i) for i in worst),
            float(analytic[worst]) if diff.size else 0.0, float(numerical[worst]) if diff.size else 0.0))

    @property
    def max_error(self) -> float:
        """The largest relative error of all entries."""
        return max((e.rel_error for e in self.entries), default=0.0)

    @property
    def ok(self) -> bool:
        """True when every relative error is below ``tol``."""
        return self.max_error < self.tol

    def __getitem__(self, name: str) -> GradCheckEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(f"no gradient named {name!r}; have {[e.name for e in self.entries]}")

    def __str__(self) -> str:
        lines = [f"{'gradient':<12} {'rel. error':>10}  {'worst at':<12} {'analytic':>12} {'numerical':>12}  verdict"]
        for e in self.entries:
            verdict = "ok" if e.rel_error < self.tol else "WRONG"
            lines.append(f"{e.name:<12} {e.rel_error:>10.2e}  {str(e.worst_index):<12} "
                         f"{e.analytic_at_worst:>12.5g} {e.numerical_at_worst:>12.5g}  {verdict}")
        return "\n".join(lines)

    __repr__ = __str__


def _sample_indices(shape: tuple[int, ...], max_entries: int | None, rng: np.random.Generator
                    ) -> list[Index] | None:
    """All indices of ``shape``, or ``max_entries`` of them drawn without repeats."""
    size = int(np.prod(shape))
    if max_entries is None or size <= max_entries:
        return None
    flat = rng.choice(size, size=max_entries, replace=False)
    return [np.unravel_index(int(i), shape) for i in np.sort(flat)]


def _check(model: Layer | Sequential, x: np.ndarray, params: Mapping[str, np.ndarray], seed: int, h: float, tol: float,
           max_entries: int | None) -> GradCheckReport:
    """Check ``model`` (a layer or network) on the loss ``L = sum(y * r)``, ``r`` fixed random."""
    rng = np.random.default_rng(seed)
    y, cache = model.forward(x)
    r = rng.standard_normal(y.shape)

    def loss(_: np.ndarray) -> float:
        return float(np.sum(model.forward(x)[0] * r))

    dx, grads = model.backward(r, cache)
    report = GradCheckReport(tol=tol)
    idx = _sample_indices(x.shape, max_entries, rng)
    report.add("x", dx, numerical_gradient(loss, x, h, idx), idx)
    for name, p in params.items():
        idx = _sample_indices(p.shape, max_entries, rng)
        report.add(name, grads[name], numerical_gradient(loss, p, h, idx), idx)
    return report


def check_layer(layer: Layer, x: np.ndarray, seed: int = 0, h: float = 1e-5, tol: float = 1e-6,
                max_entries: int | None = None) -> GradCheckReport:
    """Compare a layer's ``dx`` and parameter grads with centred differences, in float64.

    The loss is ``L = sum(y * r)`` with ``r`` drawn from ``seed`` so that
    ``dL/dy = r``. A float32 layer is checked through a float64 copy.
    ``max_entries`` limits the entries checked per array (drawn at random).

    See ``docs/backprop.md#checking-gradients``.
    """
    if not isinstance(layer, Layer):
        raise TypeError(f"layer must be a numgan Layer, got {type(layer).__name__}")
    x = np.array(x, dtype=np.float64)
    layer = layer.astype(np.float64)
    return _check(layer, x, layer.params, seed, h, tol, max_entries)


def check_network(net: Sequential, x: np.ndarray, seed: int = 0, h: float = 1e-5, tol: float = 1e-6,
                  max_entries: int | None = None) -> GradCheckReport:
    """Compare a network's ``dx`` and every parameter grad with centred differences, in float64.

    As :func:`check_layer`; a float32 network is checked through a float64
    copy (``net.astype(np.float64)``), the network itself is left unchanged.

    See ``docs/backprop.md#checking-gradients``.
    """
    if not isinstance(net, Sequential):
        raise TypeError(f"net must be a numgan Sequential, got {type(net).__name__}")
    x = np.array(x, dtype=np.float64)
    check_matrix(x, "x", width=net.in_features)
    net = net.astype(np.float64)
    return _check(net, x, net.params, seed, h, tol, max_entries)
