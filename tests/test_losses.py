"""Losses: finite-difference gradients, exact extreme values, dtypes."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from numgan import bce_with_logits, mse, numerical_gradient, rel_error, softmax_cross_entropy

TOL = 1e-6


def test_bce_with_logits_gradient(rng):
    s = 4 * rng.standard_normal((6, 1))
    y = rng.uniform(0, 1, size=(6, 1))
    _, ds = bce_with_logits(s, y)
    num = numerical_gradient(lambda v: bce_with_logits(v, y)[0], s)
    assert rel_error(ds, num) < TOL


@pytest.mark.parametrize("target", [0.0, 1.0, 0.9])
def test_bce_with_logits_gradient_scalar_target(rng, target):
    s = 4 * rng.standard_normal((5, 2))
    _, ds = bce_with_logits(s, target)
    num = numerical_gradient(lambda v: bce_with_logits(v, target)[0], s)
    assert rel_error(ds, num) < TOL


def test_bce_with_logits_exact_at_1000():
    s = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]])
    y = np.array([[1.0], [1.0], [0.0], [0.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value, ds = bce_with_logits(s, y)
    # per element: 0, 1000, 1000, 0 -> mean 500
    assert value == 500.0
    np.testing.assert_array_equal(ds, np.array([[0.0], [-1.0], [1.0], [0.0]]) / 4)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, (7,), elements=st.floats(-15, 15)), arrays(np.float64, (7,), elements=st.floats(0, 1)))
def test_bce_with_logits_matches_the_naive_formula_where_it_is_safe(s, y):
    p = 1 / (1 + np.exp(-s))
    naive = np.mean(-y * np.log(p) - (1 - y) * np.log1p(-p)) if np.all((p > 0) & (p < 1)) else None
    value, ds = bce_with_logits(s, y)
    if naive is not None:
        assert value == pytest.approx(naive, rel=1e-6, abs=1e-9)
    np.testing.assert_allclose(ds, (p - y) / 7, atol=1e-12)


def test_mse_gradient(rng):
    p, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    value, dp = mse(p, t)
    assert value == pytest.approx(np.mean((p - t) ** 2))
    assert rel_error(dp, numerical_gradient(lambda v: mse(v, t)[0], p)) < TOL
    value0, _ = mse(p, 0.0)
    assert value0 == pytest.approx(np.mean(p ** 2))


def test_softmax_cross_entropy_gradient(rng):
    s = 3 * rng.standard_normal((5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    value, ds = softmax_cross_entropy(s, labels)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    assert value == pytest.approx(-np.mean(logp[np.arange(5), labels]))
    num = numerical_gradient(lambda v: softmax_cross_entropy(v, labels)[0], s)
    assert rel_error(ds, num) < TOL


def test_softmax_cross_entropy_is_stable_for_large_logits():
    s = np.array([[1000.0, 0.0], [0.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, ds = softmax_cross_entropy(s, np.array([0, 0]))
    assert value == pytest.approx(500.0)
    np.testing.assert_allclose(ds, np.array([[0.0, 0.0], [-1.0, 1.0]]) / 2, atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_keep_the_dtype(dtype, rng):
    s = rng.standard_normal((4, 3)).astype(dtype)
    assert bce_with_logits(s, 1.0)[1].dtype == dtype
    assert bce_with_logits(s, np.zeros((4, 3), dtype))[1].dtype == dtype
    assert mse(s, 0.5)[1].dtype == dtype
    assert softmax_cross_entropy(s, np.array([0, 1, 2, 0]))[1].dtype == dtype
