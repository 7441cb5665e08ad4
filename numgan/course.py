"""The course kit: a student edition with blanks, and an autograder built on the gradient checks.

The bodies that students write are marked in the package source (and in the
notebooks) with the comment lines that nbgrader uses, ``### BEGIN SOLUTION``
and ``### END SOLUTION``. They are comments, so the package runs as if they
were not there. ``EXERCISES`` below is the one table of the exercises: their
points, where their marked blocks are, the hint a student sees and the check
that grades them. Two commands (``numgan-course``, see ``docs/course.md``)::

    numgan-course make-student OUT     # package, tests, notebooks, docs; blocks -> NotImplementedError
    numgan-course grade DIR            # one subprocess per exercise, with a timeout; a table or --json
    numgan-course list                 # the exercises, their points and hints

Grading runs each exercise's check in a fresh Python process that imports the
student's ``numgan`` from ``DIR`` (and verifies ``numgan.__file__``), so an
exception, a crash or an endless loop fails that exercise only. Each check
uses reference code for the *other* exercises it relies on (a reference
sigmoid under ``bce_with_logits``, a reference BCE under the objectives,
reference dense layers, tanh and the least-squares objective under the GAN
step), so that one mistake costs the points of one exercise.

This module imports only the standard library at the top: the grader loads it
by file path inside the student's process, where ``import numgan`` must find
the student's package.
"""
from __future__ import annotations

import argparse
import ast
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping

if TYPE_CHECKING:                  # numpy and numgan are imported inside the checks, when they run
    import numpy as np
    import numpy.typing as npt

    from .gradcheck import GradCheckReport

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
DEFAULT_TIMEOUT = 60.0


# ---------------------------------------------------------------------------------------------
# Failures that a check reports
# ---------------------------------------------------------------------------------------------

class Failed(AssertionError):
    """A check's verdict "wrong", with what is wrong; ``gradient`` describes the worst gradient."""

    def __init__(self, message: str, gradient: dict | None = None, report: str | None = None) -> None:
        super().__init__(message)
        self.gradient = gradient
        self.report = report


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


def _expect_array(name: str, got: Any, expected: npt.ArrayLike, rtol: float = 1e-10, atol: float = 1e-12,
                  dtype: npt.DTypeLike | None = None) -> None:
    """``got`` is an array of ``expected``'s shape (and ``dtype``) and values, else a message that says where."""
    import numpy as np

    expected = np.asarray(expected)
    _expect(isinstance(got, np.ndarray), f"{name} must be a numpy array, got {type(got).__name__}")
    _expect(got.shape == expected.shape, f"{name} must have shape {expected.shape}, got {got.shape}")
    if dtype is not None:
        _expect(got.dtype == dtype, f"{name} must keep the dtype {np.dtype(dtype).name} of the input, "
                                    f"got {got.dtype.name}")
    with np.errstate(invalid="ignore"):
        diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
        bad = ~(diff <= atol + rtol * np.abs(expected.astype(np.float64)))
    if bad.any():
        where = np.unravel_index(int(np.argmax(np.where(bad, np.nan_to_num(diff, nan=np.inf), -1.0))), diff.shape)
        raise Failed(f"{name} is wrong at {len(np.flatnonzero(bad))} of {bad.size} entries; e.g. at index "
                     f"{tuple(int(i) for i in where)}: yours {float(got[where]):.8g}, expected "
                     f"{float(expected[where]):.8g}")


def _gradient_verdict(report: GradCheckReport, what: str) -> None:
    """Raise ``Failed`` naming every wrong gradient of a ``numgan.gradcheck`` report, worst first."""
    wrong = sorted((e for e in report.entries if not e.rel_error < report.tol), key=lambda e: -e.rel_error)
    if not wrong:
        return
    worst = wrong[0]
    parts = [f"gradient {e.name} is off: rel. error {e.rel_error:.1e}, largest at index {e.worst_index} "
             f"(analytic {e.analytic_at_worst:.6g}, numerical {e.numerical_at_worst:.6g})" for e in wrong[:2]]
    if len(wrong) > 2:
        parts.append(f"also off: {', '.join(e.name for e in wrong[2:])}")
    ok = [e.name for e in report.entries if e.rel_error < report.tol]
    tail = f"; right: {', '.join(ok)}" if ok else ""
    raise Failed(f"{what}: " + "; ".join(parts) + tail,
                 gradient={"name": worst.name, "rel_error": worst.rel_error, "worst_index": list(worst.worst_index),
                           "analytic": worst.analytic_at_worst, "numerical": worst.numerical_at_worst,
                           "wrong": [e.name for e in wrong]},
                 report=str(report))


class _patched:
    """Set attributes for the duration of a ``with`` block (reference code under a check)."""

    def __init__(self, *triples: tuple[object, str, object]) -> None:
        self.triples = triples

    def __enter__(self) -> "_patched":
        self.saved = [(obj, name, getattr(obj, name)) for obj, name, _ in self.triples]
        for obj, name, value in self.triples:
            setattr(obj, name, value)
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        for obj, name, value in reversed(self.saved):
            setattr(obj, name, value)
        return False


# ---------------------------------------------------------------------------------------------
# Reference code the checks stand on (written differently from the package, from the formulas)
# ---------------------------------------------------------------------------------------------

def _ref_sigmoid(x):
    """``1 / (1 + exp(-x))`` as ``exp(-softplus(-x))``: never overflows."""
    import numpy as np

    return np.exp(-np.logaddexp(0, -x)).astype(np.result_type(x, np.float32), copy=False)


def _ref_bce_with_logits(logits, targets):
    """Mean of ``softplus(s) - y s`` and its gradient ``(sigmoid(s) - y) / n``."""
    import numpy as np

    y = np.broadcast_to(np.asarray(targets, dtype=logits.dtype), logits.shape)
    value = float(np.mean(np.logaddexp(0, logits) - logits * y))
    return value, ((_ref_sigmoid(logits) - y) / logits.size).astype(logits.dtype)


def _ref_dense_forward(self, x):
    return x @ self.params["W"] + self.params["b"], x


def _reference_dense_class():
    """A ``Dense`` with its forward and backward written here, from the formulas of ``docs/backprop.md#dense``.

    The GAN step is graded on these, so that a mistake in the student's
    ``Dense`` costs the dense exercises' points only.
    """
    from numgan.layers import Dense

    class ReferenceDense(Dense):
        def forward(self, x):
            return _ref_dense_forward(self, x)

        def backward(self, dy, cache, *, param_grads=True, out=None, input_grad=True):
            grads = {"W": cache.T @ dy, "b": dy.sum(axis=0)} if param_grads else {}
            return (dy @ self.params["W"].T if input_grad else None), grads   # Sequential copies the grads

    return ReferenceDense


# ---------------------------------------------------------------------------------------------
# The checks (each runs in the student's process; ``numgan`` is the student's package)
# ---------------------------------------------------------------------------------------------

def check_dense_forward() -> None:
    """``y = x @ W + b`` in float64 and float32, the input untouched, the cache ``x``."""
    import numpy as np
    from numgan.layers import Dense

    rng = np.random.default_rng(0)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        layer = Dense(4, 3, dtype=dtype, rng=1)
        layer.params["b"][...] = rng.standard_normal(3)
        x = rng.standard_normal((5, 4)).astype(dtype)
        x0 = x.copy()
        y, cache = layer.forward(x)
        _expect_array(f"Dense(4, 3).forward(x) in {np.dtype(dtype).name}", y,
                      x0.astype(np.float64) @ layer.params["W"].astype(np.float64) + layer.params["b"],
                      rtol=tol, atol=tol, dtype=dtype)
        _expect(np.array_equal(x, x0), "forward changed its input x in place: compute y in a new array")
        _expect(isinstance(cache, np.ndarray) and cache.shape == x.shape and np.array_equal(cache, x0),
                f"forward must return (y, x): backward reads its cache as x, got a cache of type "
                f"{type(cache).__name__}")


def check_dense_backward() -> None:
    """``check_layer`` on a float64 ``Dense`` and ``check_network`` through a small net (reference forward)."""
    import numpy as np
    from numgan.gradcheck import check_layer, check_network
    from numgan.layers import Dense, Tanh
    from numgan.network import Sequential

    rng = np.random.default_rng(1)
    with _patched((Dense, "forward", _ref_dense_forward)):
        layer = Dense(4, 3, dtype=np.float64, rng=1)
        layer.params["b"][...] = rng.standard_normal(3)
        x = rng.standard_normal((5, 4))
        _gradient_verdict(check_layer(layer, x), "Dense(4, 3) on a batch of 5")
        net = Sequential([Dense(3, 4, dtype=np.float64, rng=2), Tanh(), Dense(4, 2, dtype=np.float64, rng=3)])
        net.flat_params[...] = rng.standard_normal(net.n_params)
        _gradient_verdict(check_network(net, rng.standard_normal((6, 3))),
                          "Sequential([Dense(3, 4), Tanh(), Dense(4, 2)]) on a batch of 6 (grads written into `out`)")


def _away_from_zero(x: np.ndarray, margin: float = 0.1) -> np.ndarray:
    import numpy as np

    return np.where(np.abs(x) < margin, np.copysign(margin, x), x)


def check_leaky_relu() -> None:
    """Forward against ``where(x > 0, x, alpha x)``, backward by ``check_layer``, no state on the layer."""
    import numpy as np
    from numgan.gradcheck import check_layer
    from numgan.layers import LeakyReLU

    rng = np.random.default_rng(2)
    for alpha in (0.2, 0.0):
        for dtype in (np.float64, np.float32):
            layer = LeakyReLU(alpha)
            x: np.ndarray = _away_from_zero(rng.standard_normal((6, 5))).astype(dtype)
            x0 = x.copy()
            y, _ = layer.forward(x)
            _expect_array(f"LeakyReLU({alpha}).forward(x) in {np.dtype(dtype).name}", y,
                          np.where(x0 > 0, x0, alpha * x0), rtol=1e-6, atol=0, dtype=dtype)
            _expect(np.array_equal(x, x0), "forward changed its input x in place (the np.maximum(x, a*x, x) bug?)")
        x = _away_from_zero(rng.standard_normal((6, 5)))
        _gradient_verdict(check_layer(LeakyReLU(alpha), x), f"LeakyReLU({alpha}) on a (6, 5) batch away from 0")
    layer = LeakyReLU(0.2)
    x1, x2 = _away_from_zero(rng.standard_normal((2, 3, 4)))
    _, cache1 = layer.forward(x1)
    layer.forward(x2)                                   # a second forward must not change what cache1 means
    dy = rng.standard_normal((3, 4))
    dx, _ = layer.backward(dy, cache1)
    _expect_array("backward(dy, cache of the FIRST of two forwards)", dx, dy * np.where(x1 > 0, 1.0, 0.2),
                  rtol=1e-12)


def check_sigmoid() -> None:
    """``stable_sigmoid`` and ``Sigmoid``: values, no overflow at |x| = 1000, dtype, backward by ``check_layer``."""
    import numpy as np
    from numgan.gradcheck import check_layer
    from numgan.layers import Sigmoid, stable_sigmoid

    x = np.linspace(-30, 30, 61)
    _expect_array("stable_sigmoid(x) on [-30, 30]", stable_sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12, atol=1e-300)
    far = np.array([-1000.0, -745.0, -50.0, 0.0, 50.0, 1000.0])
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            y = stable_sigmoid(far)
            y_layer, _ = Sigmoid().forward(far[None, :])
    except FloatingPointError as err:
        raise Failed(f"stable_sigmoid overflows at |x| = 1000 ({err}): exp(-x) for x = -1000 is inf; compute "
                     f"with e = exp(-|x|), which is never above 1") from None
    expected = np.array([0.0, 0.0, 1.9287498479639178e-22, 0.5, 1.0, 1.0])
    _expect_array("stable_sigmoid at x = -1000, -745, -50, 0, 50, 1000", y, expected, rtol=1e-12, atol=1e-300)
    _expect_array("Sigmoid().forward at x = -1000, -745, -50, 0, 50, 1000", y_layer, expected[None, :],
                  rtol=1e-12, atol=1e-300)
    x32 = np.array([[-3.0, 0.5, 20.0]], dtype=np.float32)
    _expect_array("Sigmoid().forward(x) in float32", Sigmoid().forward(x32)[0], 1 / (1 + np.exp(-x32.astype(float))),
                  rtol=1e-6, atol=0, dtype=np.float32)
    x = 3 * np.random.default_rng(3).standard_normal((6, 5))
    _gradient_verdict(check_layer(Sigmoid(), x), "Sigmoid() on a (6, 5) batch")


def check_bce_with_logits() -> None:
    """Value against ``softplus(s) - y s``, gradient by finite differences, exact at s = +-1000 (reference sigmoid)."""
    import numpy as np
    import numgan.losses as losses
    from numgan.gradcheck import GradCheckReport, numerical_gradient

    with _patched((losses, "stable_sigmoid", _ref_sigmoid)):
        rng = np.random.default_rng(4)
        s = 4 * rng.standard_normal((7, 1))
        for name, y in (("targets 1.0", 1.0), ("targets 0.0", 0.0), ("array targets", rng.uniform(size=(7, 1)))):
            value, grad = losses.bce_with_logits(s, y)
            _expect(np.isscalar(value) or np.ndim(value) == 0, f"bce_with_logits must return the loss as one "
                                                               f"number, got {type(value).__name__}")
            expected = float(np.mean(np.logaddexp(0, s) - s * y))
            _expect(abs(float(value) - expected) <= 1e-10 * max(1.0, abs(expected)),
                    f"bce_with_logits(s, {name}) value is {float(value):.15g}, expected the mean of "
                    f"softplus(s) - y s = {expected:.15g}")
            report = GradCheckReport()
            report.add("logits", grad, numerical_gradient(lambda a: losses.bce_with_logits(a, y)[0], s))
            _gradient_verdict(report, f"bce_with_logits(s, {name}), dL/ds against centred differences")
        s = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]])
        y = np.array([[0.0], [1.0], [1.0], [0.0]])
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                value, grad = losses.bce_with_logits(s, y)
        except FloatingPointError as err:
            raise Failed(f"bce_with_logits overflows at |s| = 1000 ({err}): use "
                         f"max(s, 0) - s y + log1p(exp(-|s|)), never log(sigmoid(s))") from None
        _expect(float(value) == 500.0, f"bce_with_logits at s = (1000, -1000, 1000, -1000), y = (0, 1, 1, 0) must "
                                       f"be exactly (1000 + 1000 + 0 + 0) / 4 = 500, got {float(value)!r}")
        _expect_array("dL/ds at s = (1000, -1000, 1000, -1000), y = (0, 1, 1, 0)", grad,
                      np.array([[0.25], [-0.25], [0.0], [0.0]]), rtol=0, atol=1e-15)
        _, grad32 = losses.bce_with_logits(np.array([[20.0], [-3.0]], dtype=np.float32), 0.0)
        _expect(isinstance(grad32, np.ndarray) and grad32.dtype == np.float32,
                f"the gradient must keep the logits' dtype float32, got "
                f"{getattr(grad32, 'dtype', type(grad32).__name__)}")


def _adam_reference(p, grads, lr, betas, eps, weight_decay, correct=True):
    """Adam's parameters after each step, written as the formulas (no bias correction if not ``correct``)."""
    import numpy as np

    (b1, b2), m, v, out = betas, np.zeros_like(p), np.zeros_like(p), []
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if correct else (m, v)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def check_adam() -> None:
    """Three steps against the formulas, per array and through a network's flat buffer, with weight decay."""
    import numpy as np
    from numgan.network import mlp
    from numgan.optim import Adam

    rng = np.random.default_rng(5)
    configs: list[dict[str, Any]] = [dict(lr=0.01, betas=(0.5, 0.999), eps=1e-8, weight_decay=0.0),
               dict(lr=0.05, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.1)]
    for cfg in configs:
        net = mlp([3, 4, 2], dtype=np.float64, seed=6)
        cases = {"separate arrays": {"w": rng.standard_normal((3, 2)), "c": rng.standard_normal(4)},
                 "a network's flat buffer": net.params}
        for label, params in cases.items():
            start = {k: p.copy() for k, p in params.items()}
            grads: list[Mapping[str, np.ndarray]] = [{k: rng.standard_normal(p.shape) for k, p in params.items()}
                                                     for _ in range(3)]
            if label != "separate arrays":                 # grads as views of one buffer, like Sequential's
                flat = [np.concatenate([g[k].ravel() for k in params]) for g in grads]
                grads = [net.params.like(f) for f in flat]
            expected = {k: _adam_reference(start[k], [g[k] for g in grads], **cfg) for k in params}
            uncorrected = {k: _adam_reference(start[k], [g[k] for g in grads], correct=False, **cfg) for k in params}
            opt = Adam(params, lr=cfg["lr"], betas=cfg["betas"], eps=cfg["eps"], weight_decay=cfg["weight_decay"])
            for t in range(3):
                opt.step(grads[t])
                for k, p in params.items():
                    want = expected[k][t]
                    if np.allclose(p, want, rtol=1e-9, atol=1e-12):
                        continue
                    if np.array_equal(p, start[k] if t == 0 else expected[k][t - 1]):
                        raise Failed(f"Adam step {t + 1} ({label}) did not change params[{k!r}]: update the "
                                     f"array p in place (p -= ...), the network holds that array")
                    if np.allclose(p, uncorrected[k][t], rtol=1e-9, atol=1e-12):
                        raise Failed(f"Adam step {t + 1} ({label}) matches Adam WITHOUT bias correction: use "
                                     f"m_hat = m / (1 - beta1**t) and v_hat = v / (1 - beta2**t)")
                    i = np.unravel_index(int(np.argmax(np.abs(p - want))), p.shape)
                    raise Failed(f"Adam step {t + 1} of 3 ({label}, lr={cfg['lr']}, betas={cfg['betas']}, "
                                 f"eps={cfg['eps']}, weight_decay={cfg['weight_decay']}): params[{k!r}] is off by "
                                 f"{float(np.abs(p - want)[i]):.2e} at index {tuple(int(j) for j in i)} "
                                 f"(yours {float(p[i]):.10g}, the formulas give {float(want[i]):.10g})")


def check_non_saturating() -> None:
    """D's and G's non-saturating losses: values, finite differences wrt the scores, no saturation (reference BCE)."""
    import numpy as np
    import numgan.objectives as objectives
    from numgan.gradcheck import GradCheckReport, numerical_gradient

    def softplus(t):
        return np.logaddexp(0, t)

    with _patched((objectives, "bce_with_logits", _ref_bce_with_logits)):
        D_loss, G_loss = objectives.discriminator_loss, objectives.generator_loss
        rng = np.random.default_rng(7)
        s_r, s_f = 2 * rng.standard_normal((6, 1)), 2 * rng.standard_normal((5, 1))
        for target in (1.0, 0.9):
            value, d_r, d_f = D_loss(s_r, s_f, "non_saturating", target)
            expected = float(np.mean(softplus(s_r) - target * s_r) + np.mean(softplus(s_f)))
            _expect(abs(value - expected) <= 1e-10 * max(1, abs(expected)),
                    f"D's loss (real target {target}) is {value:.10g}, expected "
                    f"E[bce(s_r, {target})] + E[softplus(s_f)] = {expected:.10g}")
            report = GradCheckReport()
            report.add("ds_real", d_r, numerical_gradient(lambda a: D_loss(a, s_f, "non_saturating", target)[0], s_r))
            report.add("ds_fake", d_f, numerical_gradient(lambda a: D_loss(s_r, a, "non_saturating", target)[0], s_f))
            _gradient_verdict(report, f"D's loss (real target {target}) against centred differences")
        value, d_f = G_loss(s_f, "non_saturating")
        expected = float(np.mean(softplus(-s_f)))
        _expect(abs(value - expected) <= 1e-10 * max(1, abs(expected)),
                f"G's loss is {value:.10g}, expected -E[log sigmoid(s_f)] = E[softplus(-s_f)] = {expected:.10g}")
        report = GradCheckReport()
        report.add("ds_fake (G)", d_f, numerical_gradient(lambda a: G_loss(a, "non_saturating")[0], s_f))
        _gradient_verdict(report, "G's loss against centred differences")
        _, d_far = G_loss(np.array([[-1000.0], [-30.0]]), "non_saturating")
        _expect_array("G's dL/ds at s_f = (-1000, -30), where D rejects the fakes (it must not saturate: "
                      "(sigmoid(s) - 1) / N)", d_far, np.array([[-0.5], [-0.5]]), rtol=1e-12)


def _tiny_gan(**options):
    """A float64 GAN of reference dense layers and tanh, with the least-squares objective (no exercise in it)."""
    import numpy as np
    from numgan.gan import GAN
    from numgan.layers import Tanh
    from numgan.network import Sequential

    ReferenceDense = _reference_dense_class()
    c, pack = options.get("n_classes") or 0, options.get("pack", 1)

    def net(sizes, out_tanh, seed):
        layers = []
        for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(ReferenceDense(a, b, dtype=np.float64, rng=seed + k))
            if k < len(sizes) - 2 or out_tanh:
                layers.append(Tanh())
        model = Sequential(layers)
        for name, p in model.params.items():
            if name.endswith(".b"):
                p[...] = 0.3 * np.random.default_rng(seed + 10).standard_normal(p.shape)
        return model

    G = net([3 + c, 6, 5, 2], True, 1)
    D = net([(2 + c) * pack, 7, 6, 1], False, 2)
    return GAN(G, D, objective="least_squares", **options)


def _gan_gradients(gan, labels):
    """D's and G's gradients from the student's step against centred differences of their losses."""
    import numpy as np
    from numgan.gradcheck import GradCheckReport, numerical_gradient

    x_real = np.random.default_rng(5).standard_normal((8, 2))
    report = GradCheckReport()
    _, grads = gan.discriminator_gradients(x_real, np.random.default_rng(0), labels)
    for name, p in gan.D.params.items():          # the noise is held fixed by reseeding for every evaluation
        num = numerical_gradient(
            lambda _: gan.discriminator_gradients(x_real, np.random.default_rng(0), labels)[0]["d_loss"], p)
        report.add(f"D {name}", grads[name], num)
    _, grads = gan.generator_gradients(8, np.random.default_rng(0))
    for name, p in gan.G.params.items():
        num = numerical_gradient(lambda _: gan.generator_gradients(8, np.random.default_rng(0))[0]["g_loss"], p)
        report.add(f"G {name}", grads[name], num)
    return report


def check_gan_step() -> None:
    """End-to-end finite differences through ``discriminator_gradients`` and ``generator_gradients``."""
    import numpy as np
    import numgan.gan as gan_module

    steps = {"D": "the D step (discriminator_loss_gradients)", "G": "the G step (generator_loss_gradients)"}
    with _patched((gan_module, "stable_sigmoid", _ref_sigmoid)):
        for what, options, labels in (
                ("tiny float64 GAN (least squares)", {}, None),
                ("tiny conditional GAN with pack=2 and instance noise",
                 dict(pack=2, n_classes=3, instance_noise=0.3), np.array([0, 1, 2, 2, 1, 0, 1, 1]))):
            try:
                _gradient_verdict(_gan_gradients(_tiny_gan(**options), labels),
                                  f"{what}, losses against centred differences")
            except Failed as err:
                if err.gradient is None:                # _gradient_verdict always describes the worst one
                    raise
                wrong = sorted({name.split()[0] for name in err.gradient["wrong"]})
                raise Failed(" and ".join(steps[w] for w in wrong) + " gives wrong gradients. " + str(err),
                             err.gradient, err.report) from None


# ---------------------------------------------------------------------------------------------
# The table of exercises
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Exercise:
    """One graded exercise: where its marked blocks are, the hint students see, and its check."""

    name: str
    points: int
    hint: str                         # formula and docs section, shown in the student edition's raise
    where: tuple[str, ...]            # "path:Class.function" of each function holding a marked block
    check: Callable[[], None]         # raises (Failed or anything) when the student's code is wrong
    block_hints: tuple[tuple[str, str], ...] = ()   # (location, hint) where one block needs its own hint

    def hint_for(self, location: str) -> str:
        """The hint of the blocks in the function at ``location``."""
        return dict(self.block_hints).get(location, self.hint)


EXERCISES: tuple[Exercise, ...] = (
    Exercise("dense_forward", 1,
             "y = x @ W + b, return (y, x): x is the cache; see docs/backprop.md#dense",
             ("numgan/layers.py:Dense.forward",), check_dense_forward),
    Exercise("dense_backward", 2,
             "dx = dy @ W.T (None when input_grad is False), dW = x.T @ dy, db = dy.sum(0); grads go into "
             "out['W'] and out['b'] when out is given, else into new arrays; see docs/backprop.md#dense",
             ("numgan/layers.py:Dense.backward",), check_dense_backward),
    Exercise("leaky_relu", 1,
             "y = x where x > 0 else alpha * x, cache the slope s = 1 or alpha; backward dx = dy * s; "
             "see docs/backprop.md#leaky-relu",
             ("numgan/layers.py:LeakyReLU.forward", "numgan/layers.py:LeakyReLU.backward"), check_leaky_relu),
    Exercise("sigmoid", 2,
             "sigmoid(x) = 1 / (1 + exp(-x)) from e = exp(-|x|): 1 / (1 + e) for x >= 0, e / (1 + e) else; "
             "cache y; backward dx = dy * y * (1 - y); see docs/backprop.md#sigmoid",
             ("numgan/layers.py:stable_sigmoid", "numgan/layers.py:Sigmoid.forward",
              "numgan/layers.py:Sigmoid.backward"), check_sigmoid),
    Exercise("bce_with_logits", 2,
             "l = max(s, 0) - s * y + log1p(exp(-|s|)), return (mean of l, (sigmoid(s) - y) / n); "
             "see docs/backprop.md#binary-cross-entropy-from-logits",
             ("numgan/losses.py:bce_with_logits",), check_bce_with_logits),
    Exercise("adam", 2,
             "m = state['m'], v = state['v']; g += weight_decay * p; m = beta1 m + (1 - beta1) g; "
             "v = beta2 v + (1 - beta2) g**2; p -= lr * m_hat / (sqrt(v_hat) + eps) with "
             "m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t), all in place; see docs/adam.md#adam",
             ("numgan/optim.py:Adam._update",), check_adam),
    Exercise("non_saturating", 2,
             "L_D = bce(s_r, real_target) + bce(s_f, 0) with gradients (ds_r, ds_f); L_G = bce(s_f, 1) "
             "= -E[log sigmoid(s_f)]; use bce_with_logits; see docs/objectives.md#non-saturating",
             ("numgan/objectives.py:cross_entropy_discriminator", "numgan/objectives.py:non_saturating_generator"),
             check_non_saturating),
    Exercise("gan_step", 3,
             "D step: s = D(x) for x = concat(real, fake) in one pass, loss and (ds_real, ds_fake) from "
             "discriminator_loss, grads = D.backward(concat(ds_real, ds_fake)); G step: s_fake = D(G(z)), "
             "ds_fake from generator_loss, dx = D.backward(ds_fake, param_grads=False), grads = G.backward(dx); "
             "see docs/objectives.md#the-game",
             ("numgan/gan.py:GAN.discriminator_loss_gradients", "numgan/gan.py:GAN.generator_loss_gradients"),
             check_gan_step,
             block_hints=(
                 ("numgan/gan.py:GAN.discriminator_loss_gradients",
                  "x holds n real rows then n fake rows; s, cache = D.forward of x (with the labels of both "
                  "halves joined, self._packed) in one pass; s_real, s_fake = its first and last n // pack rows; "
                  "loss, ds_real, ds_fake = discriminator_loss(s_real, s_fake, self.config.objective, "
                  "1 - self.config.label_smoothing); _, grads = D.backward(concat(ds_real, ds_fake), cache, "
                  "input_grad=False, out=out); return (loss, grads, s_real, s_fake); "
                  "see docs/objectives.md#the-game"),
                 ("numgan/gan.py:GAN.generator_loss_gradients",
                  "fake, cache_G = G.forward(z); x = self._with_instance_noise(fake, rng); s_fake, cache_D = "
                  "D.forward of x (with labels, self._packed); loss, ds_fake = generator_loss(s_fake, "
                  "self.config.objective); D is frozen: dx = D.backward(ds_fake, cache_D, param_grads=False); "
                  "_, grads = G.backward(the first data_dim columns of dx reshaped to (n, -1), cache_G, "
                  "input_grad=False, out=out); return (loss, grads); see docs/objectives.md#the-game"))),
)

#: hints for marked cells of the notebooks ("notebook path:function" -> hint); others get a generic hint
NOTEBOOK_HINTS = {
    "notebooks/01_dense_layer_backprop.ipynb:dense_forward":
        "y = x @ W + b, return (y, (x, W)); see docs/backprop.md#dense",
    "notebooks/01_dense_layer_backprop.ipynb:dense_backward":
        "dx = dy @ W.T, dW = x.T @ dy, db = dy.sum(axis=0), return (dx, dW, db); see docs/backprop.md#dense",
}

EXERCISES_BY_NAME = {ex.name: ex for ex in EXERCISES}


def exercise_message(name: str, hint: str) -> str:
    """The text of the ``NotImplementedError`` a student edition raises in place of a solution."""
    return f"Exercise {name}: {hint}"


# ---------------------------------------------------------------------------------------------
# Marked blocks
# ---------------------------------------------------------------------------------------------

class MarkerError(ValueError):
    """Unbalanced markers, a block outside any known exercise, or an exercise without a block."""


@dataclass
class Block:
    """Lines ``begin`` (the BEGIN marker) to ``end`` (the END marker), 0-based, in one file or cell."""

    begin: int
    end: int
    indent: str
    function: str | None = None


def find_blocks(lines: list[str], where: str) -> list[Block]:
    """The marked blocks of a file's (or cell's) lines; ``MarkerError`` when they do not pair up."""
    blocks, open_at = [], None
    for i, line in enumerate(lines):
        text = line.strip()
        if text == BEGIN:
            if open_at is not None:
                raise MarkerError(f"{where}:{i + 1}: {BEGIN} inside the block opened at line {open_at + 1}")
            open_at = i
        elif text == END:
            if open_at is None:
                raise MarkerError(f"{where}:{i + 1}: {END} without a {BEGIN} before it")
            first = lines[open_at]
            blocks.append(Block(open_at, i, first[:len(first) - len(first.lstrip())]))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{where}:{open_at + 1}: {BEGIN} is never closed by {END}")
    return blocks


def _function_spans(source: str) -> list[tuple[int, int, str]]:
    """``(first line, last line, qualified name)`` of every function, 1-based; IPython magics skipped."""
    cleaned = "\n".join("#" + line if line.lstrip().startswith(("%", "!")) else line
                        for line in source.splitlines())
    try:
        tree = ast.parse(cleaned)
    except SyntaxError:
        return []
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                end = child.end_lineno or child.lineno          # end_lineno is always set by ast.parse
                spans.append((child.lineno, end, prefix + child.name))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def locate_blocks(source: str, where: str) -> list[Block]:
    """The blocks of ``source`` with the innermost function holding each."""
    lines = source.splitlines()
    blocks = find_blocks(lines, where)
    spans = _function_spans(source)
    for b in blocks:
        inside = [s for s in spans if s[0] <= b.begin + 1 <= s[1]]
        b.function = max(inside, key=lambda s: s[0])[2] if inside else None
    return blocks


def _exercise_for(location: str) -> Exercise | None:
    for ex in EXERCISES:
        if location in ex.where:
            return ex
    return None


def raise_statement(message: str, indent: str, width: int = 110) -> str:
    """``raise NotImplementedError(message)`` at ``indent``, the message split over lines of at most ``width``."""
    one = f"{indent}raise NotImplementedError({message!r})"
    if len(one) <= width:
        return one
    chunks = textwrap.wrap(message, max(30, width - len(indent) - 8), drop_whitespace=False,
                           break_long_words=False, break_on_hyphens=False)
    inner = "\n".join(f"{indent}    {chunk!r}" for chunk in chunks)
    return f"{indent}raise NotImplementedError(\n{inner})"


def rewrite(source: str, blocks: list[Block], hints: list[str], with_solutions: bool) -> str:
    """``source`` with each block replaced by a raise of its hint (or, ``with_solutions``, its markers dropped)."""
    lines = source.splitlines(keepends=True)
    for b, hint in sorted(zip(blocks, hints), key=lambda bh: -bh[0].begin):
        if with_solutions:
            lines[b.begin:b.end + 1] = lines[b.begin + 1:b.end]
        else:
            ends_with_newline = lines[b.end].endswith("\n")
            lines[b.begin:b.end + 1] = [raise_statement(hint, b.indent) + ("\n" if ends_with_newline else "")]
    return "".join(lines)


# ---------------------------------------------------------------------------------------------
# make-student
# ---------------------------------------------------------------------------------------------

#: what the student edition holds, relative to the repository root (folders copied whole)
STUDENT_FOLDERS = ("numgan", "tests", "notebooks", "docs")
STUDENT_FILES = ("setup.cfg", "pyproject.toml", "README.md", "mkdocs.yml", "LICENSE", "MANIFEST.in", ".gitignore")
#: instructor-only files left out (they test the kit itself, or need what is not copied)
STUDENT_EXCLUDE = ("tests/test_course.py", "tests/test_benchmarks.py")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints", ".pytest_cache")
_TEXT_SUFFIXES = (".py", ".md", ".ipynb", ".cfg", ".toml", ".txt", ".yml", ".yaml", ".rst")


def source_root() -> Path:
    """The repository this module belongs to (it must hold ``setup.cfg`` and ``numgan/``)."""
    return Path(__file__).resolve().parents[1]


def _normal(line: str) -> str:
    """A code line without its trailing comment and with its spaces collapsed (for comparing lines)."""
    return " ".join(re.sub(r"\s+#.*$", "", line).split())


@dataclass
class Edition:
    """What ``make_student`` did."""

    out: Path
    blocks: list[str] = field(default_factory=list)       # "path:line exercise" of each replaced block
    notebook_cells: list[str] = field(default_factory=list)
    scrubbed: list[str] = field(default_factory=list)     # "path:line" of solution lines removed elsewhere


def _package_blocks(root: Path) -> dict[Path, list[tuple[Block, Exercise]]]:
    """Every marked block of the package with its exercise; ``MarkerError`` if the two do not match."""
    found: dict[Path, list[tuple[Block, Exercise]]] = {}
    unknown, seen = [], set()
    for path in sorted((root / "numgan").rglob("*.py")):
        if path.name == "course.py" or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(root).as_posix()
        for b in locate_blocks(path.read_text(encoding="utf-8"), rel):
            location = f"{rel}:{b.function}"
            ex = _exercise_for(location)
            if ex is None:
                unknown.append(f"{rel}:{b.begin + 1} (in {b.function or 'no function'})")
                continue
            seen.add(location)
            found.setdefault(path, []).append((b, ex))
    if not found and not unknown:
        raise MarkerError(f"no {BEGIN} markers in {root / 'numgan'}: is this already a student edition?")
    if unknown:
        raise MarkerError("marked blocks that no exercise of numgan.course.EXERCISES lists in its `where`: "
                          + ", ".join(unknown))
    missing = [f"{ex.name} ({w})" for ex in EXERCISES for w in ex.where if w not in seen]
    if missing:
        raise MarkerError("exercises whose function has no marked block: " + ", ".join(missing))
    return found


def _read_notebook(path: Path) -> Any:
    try:
        import nbformat
    except ImportError:
        raise ValueError(f"reading {path} needs nbformat (pip install nbformat), or pass --no-notebooks") from None
    return nbformat.read(path, as_version=4)


def solution_lines(root: Path, notebooks: bool = True) -> dict[str, str]:
    """Normalised lines of the solutions that appear nowhere else -> the exercise (or notebook function).

    The solutions are the marked blocks of the package and, with
    ``notebooks``, of the notebooks' code cells. Short lines (under 12
    characters, such as ``return y, y``) are left out: they say nothing of a
    solution and occur in any code.
    """
    units: list[tuple[list[str], list[tuple[Block, str]]]] = []
    blocks = _package_blocks(root)
    for path, pairs in blocks.items():
        units.append((path.read_text(encoding="utf-8").splitlines(), [(b, ex.name) for b, ex in pairs]))
    for path in (root / "numgan").rglob("*.py"):
        if path not in blocks and path.name != "course.py" and "__pycache__" not in path.parts:
            units.append((path.read_text(encoding="utf-8").splitlines(), []))
    if notebooks:
        for path in sorted((root / "notebooks").glob("*.ipynb")):
            rel = path.relative_to(root).as_posix()
            for k, cell in enumerate(_read_notebook(path).cells):
                if cell.cell_type == "code":
                    found = locate_blocks(cell.source, f"{rel} cell {k}")
                    units.append((cell.source.splitlines(), [(b, b.function or "notebook") for b in found]))
    inside: dict[str, str] = {}
    outside: set[str] = set()
    for lines, named in units:
        marked = set()
        for b, name in named:
            for i in range(b.begin + 1, b.end):
                marked.add(i)
                text = _normal(lines[i])
                if len(text) >= 12:
                    inside.setdefault(text, name)
        outside.update(_normal(line) for i, line in enumerate(lines) if i not in marked)
    return {text: name for text, name in inside.items() if text not in outside}


def _check_out(out: Path, root: Path, force: bool) -> None:
    out_r, root_r = out.resolve(), root.resolve()
    if out_r == root_r or out_r in root_r.parents:
        raise ValueError(f"OUT must not be the repository or a folder above it, got {out}")
    for folder in STUDENT_FOLDERS:
        if out_r == root_r / folder or (root_r / folder) in out_r.parents:
            raise ValueError(f"OUT must not lie inside the copied folder {folder}/, got {out}")
    if out.exists() and not out.is_dir():
        raise ValueError(f"OUT must be a directory, got the file {out}")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ValueError(f"OUT {out} is not empty; pass --force to replace its content")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _notebook_hint(rel: str, function: str | None) -> str:
    hint = NOTEBOOK_HINTS.get(f"{rel}:{function}")
    if hint is None:
        what = f"the body of {function}" if function else "this cell's missing lines"
        hint = f"write {what}, following the text above this cell"
    return exercise_message(function or "notebook", hint)


def _transform_notebook(path: Path, rel: str, with_solutions: bool, edition: Edition,
                        solutions: dict[str, str]) -> None:
    import nbformat

    nb = _read_notebook(path)
    changed = False
    for k, cell in enumerate(nb.cells):
        blocks = locate_blocks(cell.source, f"{rel} cell {k}") if cell.cell_type == "code" else []
        scrub = [i for i, line in enumerate(cell.source.splitlines()) if _normal(line) in solutions]
        if not blocks and not scrub:
            continue
        changed = True
        if blocks:
            hints = [_notebook_hint(rel, b.function) for b in blocks]
            cell.source = rewrite(cell.source, blocks, hints, with_solutions)
            edition.notebook_cells.append(f"{rel} cell {k}")
        if not with_solutions:
            lines = cell.source.splitlines()
            for i, line in enumerate(lines):
                if _normal(line) in solutions:
                    lines[i] = _scrubbed(line, solutions[_normal(line)])
                    edition.scrubbed.append(f"{rel} cell {k} line {i + 1}")
            cell.source = "\n".join(lines)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
    if changed:
        nbformat.write(nb, path)


def _scrubbed(line: str, exercise: str) -> str:
    indent = line[:len(line) - len(line.lstrip())]
    return f"{indent}...  # left out of the student edition: exercise {exercise}"


def make_student(out: str | Path, source: str | Path | None = None, force: bool = False,
                 with_solutions: bool = False, notebooks: bool = True) -> Edition:
    """Write the student edition of the repository ``source`` into ``out``.

    Copies the package (data files included), the tests, the notebooks, the docs
    and the packaging files; replaces each marked block by a
    ``raise NotImplementedError("Exercise NAME: HINT")`` indented like the block;
    clears the outputs of notebook cells that had blocks; and removes from every
    other copied file each line identical to a solution line (a docs page may
    quote the code). With ``with_solutions`` the blocks keep their code and only
    the marker lines go (an edition to check the grader against).
    """
    root = Path(source) if source is not None else source_root()
    if not (root / "numgan").is_dir() or not (root / "setup.cfg").is_file():
        raise ValueError(f"the source {root} must be a numgan checkout (with numgan/ and setup.cfg); pass --source")
    blocks = _package_blocks(root)
    solutions = {} if with_solutions else solution_lines(root, notebooks)
    out = Path(out)
    _check_out(out, root, force)
    edition = Edition(out)
    for folder in STUDENT_FOLDERS:
        if folder == "notebooks" and not notebooks:
            continue
        if (root / folder).is_dir():
            shutil.copytree(root / folder, out / folder, ignore=_IGNORE)
    for name in STUDENT_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, out / name)
    for rel in STUDENT_EXCLUDE:
        (out / rel).unlink(missing_ok=True)
    for path, pairs in blocks.items():
        rel = path.relative_to(root).as_posix()
        hints = [exercise_message(ex.name, ex.hint_for(f"{rel}:{b.function}")) for b, ex in pairs]
        text = rewrite(path.read_text(encoding="utf-8"), [b for b, _ in pairs], hints, with_solutions)
        (out / rel).write_text(text, encoding="utf-8")
        edition.blocks += [f"{rel}:{b.begin + 1} {ex.name}" for b, ex in pairs]
    done = {path.relative_to(root).as_posix() for path in blocks}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if not path.is_file() or rel in done or path.suffix not in _TEXT_SUFFIXES:
            continue
        if path.suffix == ".ipynb":
            _transform_notebook(path, rel, with_solutions, edition, solutions)
            continue
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        lines = text.splitlines(keepends=True)
        hits = [i for i, line in enumerate(lines) if _normal(line) in solutions]
        for i in hits:
            end = "\n" if lines[i].endswith("\n") else ""
            lines[i] = _scrubbed(lines[i].rstrip("\r\n"), solutions[_normal(lines[i])]) + end
            edition.scrubbed.append(f"{rel}:{i + 1}")
        if hits:
            path.write_text("".join(lines), encoding="utf-8", errors="surrogateescape")
    for path in (out / "numgan").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        compile(text, str(path), "exec")                  # a broken rewrite fails here, not at the student's
        if path.name != "course.py" and (BEGIN in text or END in text):
            raise MarkerError(f"{path}: a marker is left after the rewrite")
    return edition


# ---------------------------------------------------------------------------------------------
# grade
# ---------------------------------------------------------------------------------------------

_CHILD = """
import importlib.util, sys
root, name, result, course = sys.argv[1:5]
sys.path.insert(0, root)
spec = importlib.util.spec_from_file_location("_numgan_course_grader", course)
grader = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = grader
spec.loader.exec_module(grader)
grader._run_in_child(root, name, result)
"""


def _where_raised(err: BaseException, root: Path) -> str:
    """`` (at numgan/layers.py:101, in forward)``: the innermost frame in the student's files."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if _is_under(Path(f.filename), root)]
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {Path(f.filename).resolve().relative_to(root).as_posix()}:{f.lineno}, in {f.name})"


def _is_under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except (ValueError, OSError):
        return False


def _run_in_child(root: str, name: str, result: str) -> None:
    """Run one exercise's check in this (fresh) process and write its verdict as JSON to ``result``."""
    start = time.perf_counter()
    root_path = Path(root).resolve()
    verdict: dict = {"passed": False, "message": "", "gradient": None, "report": None, "numgan_file": None}
    try:
        import numgan

        verdict["numgan_file"] = str(Path(numgan.__file__).resolve())
        if not _is_under(Path(numgan.__file__), root_path / "numgan"):
            raise RuntimeError(f"the grader imported numgan from {numgan.__file__}, not from {root_path}: "
                               f"is {root_path / 'numgan'} a package?")
        EXERCISES_BY_NAME[name].check()
        verdict["passed"] = True
    except Failed as err:
        verdict.update(message=str(err), gradient=err.gradient, report=err.report)
    except BaseException as err:  # noqa: BLE001 - the student's code may raise anything, SystemExit included
        text = str(err).strip() or "(no message)"
        verdict["message"] = f"{type(err).__name__}: {text}{_where_raised(err, root_path)}"
    verdict["seconds"] = round(time.perf_counter() - start, 3)
    tmp = result + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(verdict, fh, default=float)
    os.replace(tmp, result)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)                                           # skip the student's atexit hooks and threads


def student_root(path: str | Path) -> Path:
    """The folder that holds the student's ``numgan/`` package (``path`` itself or, for the package, its parent)."""
    path = Path(path).resolve()
    if (path / "numgan" / "__init__.py").is_file():
        return path
    if path.name == "numgan" and (path / "__init__.py").is_file():
        return path.parent
    raise ValueError(f"{path} holds no numgan package (expected {path / 'numgan' / '__init__.py'})")


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (AttributeError, ProcessLookupError, PermissionError, OSError):
        proc.kill()


def grade_one(root: Path, exercise: Exercise, timeout: float = DEFAULT_TIMEOUT) -> dict:
    """Run one exercise's check in a subprocess on the package in ``root``; its verdict as a dict."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")                         # tiny arrays: threads only cost time
    with tempfile.TemporaryDirectory(prefix="numgan-grade-") as tmp:
        result = Path(tmp) / "result.json"
        cmd = [sys.executable, "-c", _CHILD, str(root), exercise.name, str(result), str(Path(__file__).resolve())]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace",
                                start_new_session=(os.name == "posix"))
        try:
            _, stderr = proc.communicate(timeout=timeout)
            status = None
        except subprocess.TimeoutExpired:
            _kill(proc)
            _, stderr = proc.communicate()
            status = "timeout"
        seconds = round(time.perf_counter() - start, 3)
        verdict = {"passed": False, "message": "", "gradient": None, "report": None, "numgan_file": None}
        if status == "timeout":
            verdict["message"] = (f"timed out after {timeout:g} s and was stopped (an endless loop?); "
                                  f"the other exercises are graded as usual")
        elif result.is_file():
            verdict.update(json.loads(result.read_text(encoding="utf-8")))
            status = "passed" if verdict["passed"] else "failed"
        else:
            status = "crashed"
            tail = " | ".join((stderr or "").strip().splitlines()[-3:])
            verdict["message"] = f"the check's process ended with exit status {proc.returncode} before " \
                                 f"reporting{': ' + tail if tail else ''}"
    verdict.update(exercise=exercise.name, max_points=exercise.points, status=status,
                   points=exercise.points if verdict["passed"] else 0, seconds=seconds)
    return verdict


def select(names: list[str] | None) -> list[Exercise]:
    """The exercises named (all, in table order, when ``names`` is empty); ``ValueError`` for an unknown name."""
    if not names:
        return list(EXERCISES)
    wanted = [n.strip() for name in names for n in name.split(",") if n.strip()]
    if not wanted:
        raise ValueError(f"--exercise must name at least one exercise of {[ex.name for ex in EXERCISES]}, "
                         f"got {names!r}")
    unknown = [n for n in wanted if n not in EXERCISES_BY_NAME]
    if unknown:
        raise ValueError(f"unknown exercise(s) {unknown}; the exercises are {list(EXERCISES_BY_NAME)}")
    return [ex for ex in EXERCISES if ex.name in wanted]


def grade(directory: str | Path, names: list[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
          progress: Callable[[dict], None] | None = None) -> dict:
    """Grade the student's package in ``directory``, one exercise per subprocess; the whole result as a dict."""
    root = student_root(directory)
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    exercises = select(names)
    results = []
    for ex in exercises:
        results.append(grade_one(root, ex, timeout))
        if progress is not None:
            progress(results[-1])
    files = sorted({r["numgan_file"] for r in results if r.get("numgan_file")})
    return {"dir": str(root), "numgan_file": files[0] if len(files) == 1 else (files or None),
            "timeout": timeout, "points": sum(r["points"] for r in results),
            "max_points": sum(r["max_points"] for r in results), "exercises": results}


def format_table(result: dict, reports: bool = True) -> str:
    """The grade as a text table; under a failed gradient, the full gradient-check report."""
    rows = [("exercise", "points", "result", "detail")]
    for r in result["exercises"]:
        rows.append((r["exercise"], f"{r['points']}/{r['max_points']}",
                     {"passed": "passed", "failed": "FAILED", "timeout": "TIMEOUT", "crashed": "CRASHED"}[r["status"]],
                     r["message"]))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    lines = [f"grading {result['dir']} (numgan imported from {result['numgan_file']})", ""]
    for k, (a, b, c, d) in enumerate(rows):
        lines.append(f"{a:<{w0}}  {b:>{w1}}  {c:<{w2}}  {d}".rstrip())
        if k == 0:
            lines.append(f"{'-' * w0}  {'-' * w1}  {'-' * w2}  {'-' * 6}")
        elif reports and result["exercises"][k - 1].get("report"):
            lines += [" " * (w0 + w1 + w2 + 6) + line for line in result["exercises"][k - 1]["report"].splitlines()]
    lines.append(f"{'-' * w0}  {'-' * w1}")
    lines.append(f"{'total':<{w0}}  {result['points']}/{result['max_points']}".rstrip())
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------

def _seconds(text: str) -> float:
    """An argparse type: a finite number of seconds > 0 (one-line error otherwise)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and 0 < value <= 86_400):
        raise argparse.ArgumentTypeError(f"expected a number of seconds in (0, 86400], got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="numgan-course",
        description="The course kit: build the student edition of numgan, and grade a student's package.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("make-student", help="write the student edition (solutions replaced by hints) into OUT")
    p.add_argument("out", metavar="OUT", help="a new or empty directory")
    p.add_argument("--force", action="store_true", help="replace the content of a non-empty OUT")
    p.add_argument("--with-solutions", action="store_true",
                   help="keep the solutions (drop only the markers): an edition to test the grader on")
    p.add_argument("--no-notebooks", action="store_true", help="leave the notebooks out")
    p.add_argument("--source", help="the numgan checkout to build from (default: the one this module is in)")
    p = sub.add_parser("grade", help="grade the numgan package in DIR, one exercise per subprocess")
    p.add_argument("dir", metavar="DIR", help="the folder holding the student's numgan/ (or numgan/ itself)")
    p.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT,
                   help=f"seconds per exercise before it is stopped and failed (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("-e", "--exercise", action="append", metavar="NAME",
                   help="grade only these exercises (repeat, or separate with commas)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    sub.add_parser("list", help="list the exercises, their points, blocks and hints")
    args = parser.parse_args(argv)
    try:
        if args.command == "make-student":
            edition = make_student(args.out, args.source, args.force, args.with_solutions, not args.no_notebooks)
            kind = "solution" if args.with_solutions else "student"
            print(f"wrote the {kind} edition to {edition.out}: {len(edition.blocks)} marked blocks in the package, "
                  f"{len(edition.notebook_cells)} notebook cells")
            for line in edition.blocks + edition.notebook_cells:
                print(f"  {line}")
            if edition.scrubbed:
                print(f"solution lines also removed from: {', '.join(edition.scrubbed)}")
            return 0
        if args.command == "grade":
            show = None if args.json else (lambda r: print(f"  {r['exercise']}: {r['status']} ({r['seconds']:.1f} s)",
                                                           file=sys.stderr, flush=True))
            result = grade(args.dir, args.exercise, args.timeout, show)
            print(json.dumps(result, indent=2) if args.json else format_table(result))
            return 0 if result["points"] == result["max_points"] else 1
        for ex in EXERCISES:
            print(f"{ex.name} ({ex.points} points): {', '.join(ex.where)}\n    {ex.hint}")
        print(f"total: {sum(ex.points for ex in EXERCISES)} points")
        return 0
    except (ValueError, MarkerError, OSError) as err:
        parser.error(str(err))
    return 2


if __name__ == "__main__":
    sys.exit(main())
