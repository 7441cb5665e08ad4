"""Reshape and Flatten: exact inverses of each other, gradients, errors."""
import numpy as np
import pytest

from numgan import Flatten, Reshape, check_layer
from numgan.network import from_spec, Sequential


def test_reshape_and_flatten_move_no_number(rng):
    x = rng.standard_normal((3, 24))
    y, cache = Reshape((2, 3, 4)).forward(x)
    assert y.shape == (3, 2, 3, 4)
    np.testing.assert_array_equal(y[1, 1, 2], x[1, 12 + 8:12 + 12])          # C order within each sample
    flat, flat_cache = Flatten().forward(y)
    np.testing.assert_array_equal(flat, x)
    dy = rng.standard_normal(y.shape)
    dx, grads = Reshape((2, 3, 4)).backward(dy, cache)
    assert grads == {} and dx.shape == x.shape
    np.testing.assert_array_equal(dx, dy.reshape(3, 24))
    d, _ = Flatten().backward(dx, flat_cache)
    np.testing.assert_array_equal(d, dy)


@pytest.mark.parametrize("layer, shape", [(Reshape((4, 3)), (2, 12)), (Reshape((12,)), (2, 3, 4)),
                                          (Flatten(), (2, 3, 2, 2))])
def test_gradients_by_finite_differences(rng, layer, shape):
    assert check_layer(layer, rng.standard_normal(shape)).ok


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="x must hold 12 numbers per sample"):
        Reshape((3, 4)).forward(np.zeros((2, 10)))
    with pytest.raises(TypeError, match="shape must be a non-empty tuple"):
        Reshape(12)
    with pytest.raises(ValueError, match=r"shape\[1\] must be an integer >= 1"):
        Reshape((3, 0))
    _, cache = Reshape((3, 4)).forward(np.zeros((2, 12)))
    with pytest.raises(ValueError, match="dy must have the shape"):
        Reshape((3, 4)).backward(np.zeros((2, 4, 3)), cache)
    _, cache = Flatten().forward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="dy must have the shape"):
        Flatten().backward(np.zeros((2, 11)), cache)


def test_widths_and_spec():
    net = Sequential([Reshape((1, 4, 3)), Flatten()])
    assert net.in_features == net.out_features == 12
    assert net.spec() == [{"layer": "Reshape", "shape": [1, 4, 3]}, {"layer": "Flatten"}]
    assert from_spec(net.spec()).spec() == net.spec()
