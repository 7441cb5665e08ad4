"""The gradient checker itself: it must catch wrong gradients, not only pass right ones."""
import numpy as np
import pytest

from numgan import Dense, LeakyReLU, check_layer, check_network, mlp, numerical_gradient, rel_error
from numgan.layers import Layer


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 3.0])
    g = numerical_gradient(lambda v: float(np.sum(v ** 3)), x)
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-9)
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # restored


def test_rel_error_definition():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0, 0.0]), np.array([1.1, 0.0])) == pytest.approx(0.1 / 2.1)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="shape"):
        rel_error(np.zeros(2), np.zeros(3))


class WrongDense(Dense):
    """A dense layer whose bias gradient forgets to sum over the batch (a classic student bug)."""

    def backward(self, dy, cache, *, param_grads=True, out=None, input_grad=True):
        dx, grads = super().backward(dy, cache, param_grads=param_grads, out=out, input_grad=input_grad)
        if param_grads:
            grads["b"][...] = dy[0]
        return dx, grads


class WrongLeakyReLU(LeakyReLU):
    """Backward with slope 1 everywhere."""

    def backward(self, dy, cache, *, param_grads=True):
        return dy, {}


def test_check_layer_catches_a_wrong_bias_gradient(rng):
    report = check_layer(WrongDense(4, 3, dtype=np.float64, rng=0), rng.standard_normal((5, 4)))
    assert not report.ok
    assert report["b"].rel_error > 0.1
    assert report["x"].rel_error < 1e-8 and report["W"].rel_error < 1e-8
    assert "WRONG" in str(report) and str(report).count("WRONG") == 1


def test_check_network_catches_a_wrong_activation(rng):
    from numgan import Sequential
    net = Sequential([Dense(3, 4, dtype=np.float64, rng=0), WrongLeakyReLU(0.2), Dense(4, 2, dtype=np.float64, rng=1)])
    report = check_network(net, rng.standard_normal((6, 3)))
    assert not report.ok
    assert report["0.W"].rel_error > 1e-3
    assert report["2.W"].rel_error < 1e-8  # layers after the bug are still right


def test_check_network_leaves_a_float32_net_unchanged(rng):
    net = mlp([3, 4, 2], seed=0)
    before = net.flat_params.copy()
    report = check_network(net, rng.standard_normal((2, 3)))
    assert report.ok
    assert net.dtype == np.float32
    np.testing.assert_array_equal(net.flat_params, before)


def test_max_entries_limits_the_work(rng):
    calls = []

    class Counting(Layer):
        def forward(self, x):
            calls.append(1)
            return x * x, x

        def backward(self, dy, cache, param_grads=True, out=None, input_grad=True):
            return 2 * cache * dy, {}

    report = check_layer(Counting(), rng.standard_normal((10, 10)), max_entries=7)
    assert report.ok
    assert len(calls) == 1 + 2 * 7
