"""Finite-difference tests of every layer's backward (float64, rel. error < 1e-6)."""
import numpy as np
import pytest

from numgan import Dense, Identity, LeakyReLU, ReLU, Sigmoid, Tanh, check_layer
from numgan.layers import stable_sigmoid

from conftest import away_from_kink

TOL = 1e-6


@pytest.mark.parametrize("init", ["he", "he_uniform", "glorot", "glorot_uniform"])
def test_dense_gradients(rng, init):
    layer = Dense(5, 3, init=init, dtype=np.float64, rng=0)
    layer.params["b"][...] = rng.standard_normal(3)  # non-zero bias, so db is exercised fully
    report = check_layer(layer, rng.standard_normal((4, 5)))
    assert [e.name for e in report.entries] == ["x", "W", "b"]
    assert report.ok, str(report)


@pytest.mark.parametrize("layer", [LeakyReLU(0.2), LeakyReLU(0.01), ReLU(), Sigmoid(), Tanh(), Identity()],
                         ids=repr)
def test_activation_gradients(rng, layer):
    x = away_from_kink(3 * rng.standard_normal((6, 4)))
    report = check_layer(layer, x)
    assert report.ok, str(report)


def test_dense_forward_is_affine(rng):
    layer = Dense(3, 2, dtype=np.float64, rng=0)
    W, b = layer.params["W"], layer.params["b"]
    b[...] = [0.5, -1.0]
    x = rng.standard_normal((4, 3))
    y, cache = layer.forward(x)
    np.testing.assert_allclose(y, x @ W + b)
    assert cache is x


def test_dense_backward_by_hand():
    layer = Dense(2, 1, dtype=np.float64, rng=0)
    layer.params["W"][...] = [[2.0], [-3.0]]
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    _, cache = layer.forward(x)
    dx, grads = layer.backward(np.array([[1.0], [10.0]]), cache)
    np.testing.assert_array_equal(dx, [[2.0, -3.0], [20.0, -30.0]])
    np.testing.assert_array_equal(grads["W"], [[31.0], [42.0]])
    np.testing.assert_array_equal(grads["b"], [11.0])


def test_param_grads_false_skips_weight_gradients(rng):
    layer = Dense(3, 2, dtype=np.float64, rng=0)
    x = rng.standard_normal((4, 3))
    _, cache = layer.forward(x)
    dy = rng.standard_normal((4, 2))
    dx_only, grads = layer.backward(dy, cache, param_grads=False)
    dx_full, _ = layer.backward(dy, cache)
    assert grads == {}
    np.testing.assert_array_equal(dx_only, dx_full)


def test_cache_is_not_kept_on_the_layer(rng):
    """Forward on real then on fake, then backward of the real batch: it must use the real batch."""
    layer = Dense(3, 2, dtype=np.float64, rng=0)
    real, fake = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    _, cache_real = layer.forward(real)
    _, cache_fake = layer.forward(fake)
    dy = np.ones((4, 2))
    _, grads_real = layer.backward(dy, cache_real)
    np.testing.assert_allclose(grads_real["W"], real.T @ dy)
    assert set(vars(layer)) == {"params", "in_features", "out_features"}


def test_backward_never_updates_weights(rng):
    layer = Dense(3, 2, dtype=np.float64, rng=0)
    before = {k: v.copy() for k, v in layer.params.items()}
    _, cache = layer.forward(rng.standard_normal((4, 3)))
    layer.backward(rng.standard_normal((4, 2)), cache)
    for k in before:
        np.testing.assert_array_equal(layer.params[k], before[k])


def test_leaky_relu_does_not_touch_its_input():
    x = np.array([[-2.0, 3.0]])
    y, _ = LeakyReLU(0.5).forward(x)
    np.testing.assert_array_equal(x, [[-2.0, 3.0]])
    np.testing.assert_array_equal(y, [[-1.0, 3.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_has_no_overflow_at_1000(dtype):
    x = np.array([[-1000.0, -30.0, 0.0, 30.0, 1000.0]], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is exact enough
        y, cache = Sigmoid().forward(x)
        dx, _ = Sigmoid().backward(np.ones_like(x), cache)
    assert y.dtype == dtype
    np.testing.assert_allclose(y[0, [0, 2, 4]], [0.0, 0.5, 1.0])
    # the tail keeps its relative precision: sigmoid(-30) = exp(-30) / (1 + exp(-30))
    np.testing.assert_allclose(y[0, 1], np.exp(-30.0) / (1 + np.exp(-30.0)), rtol=1e-6)
    assert np.all(np.isfinite(dx))


def test_stable_sigmoid_matches_formula(rng):
    x = 10 * rng.standard_normal(100)
    np.testing.assert_allclose(stable_sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-14)
