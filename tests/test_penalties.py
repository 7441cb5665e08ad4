"""Gradient penalties: finite differences over every weight of D, with eps held fixed (float64)."""
import numpy as np
import pytest

from numgan import mlp, numerical_gradient, rel_error
from numgan.penalties import input_gradient, r1_penalty, wgan_gp_penalty

TOL = 1e-6


def make_D(activation):
    return mlp([3, 6, 5, 1], activation=activation, dtype=np.float64, seed=3)


def fd_over_weights(D, penalty):
    """Centred differences of penalty() over every parameter of D."""
    return {name: numerical_gradient(lambda _: penalty(), p) for name, p in D.params.items()}


@pytest.mark.parametrize("activation", ["leaky_relu", "tanh", "sigmoid", "relu"])
def test_input_gradient_matches_finite_differences(activation, rng):
    D = make_D(activation)
    x = rng.standard_normal((4, 3))
    g, _, _ = input_gradient(D, x)
    num = numerical_gradient(lambda v: float(D(v).sum()), x)
    assert rel_error(g, num) < TOL


@pytest.mark.parametrize("activation", ["leaky_relu", "tanh", "sigmoid"])
def test_wgan_gp_weight_gradients(activation, rng):
    D = make_D(activation)
    x_real, x_fake = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    eps = rng.uniform(size=(5, 1))
    value, grads = wgan_gp_penalty(D, x_real, x_fake, eps, weight=10.0)
    assert value > 0
    num = fd_over_weights(D, lambda: wgan_gp_penalty(D, x_real, x_fake, eps)[0])
    for name in D.params:
        assert rel_error(grads[name], num[name]) < TOL, (name, rel_error(grads[name], num[name]))


@pytest.mark.parametrize("activation", ["leaky_relu", "tanh", "sigmoid"])
def test_r1_weight_gradients(activation, rng):
    D = make_D(activation)
    x_real = rng.standard_normal((5, 3))
    value, grads = r1_penalty(D, x_real, gamma=2.0)
    g, _, _ = input_gradient(D, x_real)
    assert value == pytest.approx(np.mean(np.sum(g * g, axis=1)))
    num = fd_over_weights(D, lambda: r1_penalty(D, x_real, gamma=2.0)[0])
    for name in D.params:
        assert rel_error(grads[name], num[name]) < TOL, (name, rel_error(grads[name], num[name]))


def test_smooth_activations_need_the_second_derivative_terms(rng, monkeypatch):
    """Dropping f'' (as if tanh were piecewise linear) must make the check fail: the test can fail."""
    D = make_D("tanh")
    x_real = rng.standard_normal((5, 3))
    _, right = r1_penalty(D, x_real)
    for layer in D.layers:
        if hasattr(layer, "second_derivative") and type(layer).__name__ == "Tanh":
            monkeypatch.setattr(layer, "second_derivative", lambda cache: None)
    _, wrong = r1_penalty(D, x_real)
    num = fd_over_weights(D, lambda: r1_penalty(D, x_real)[0])
    assert rel_error(right["0.W"], num["0.W"]) < TOL
    assert rel_error(wrong["0.W"], num["0.W"]) > 1e-3


def test_wgan_gp_is_zero_for_a_unit_gradient_critic():
    """D(x) = x . w with ||w|| = 1 has ||dD/dx|| = 1 everywhere: no penalty, no gradient... but on b."""
    from numgan import Dense, Sequential
    D = Sequential([Dense(2, 1, dtype=np.float64, rng=0)])
    D.params["0.W"][...] = [[0.6], [0.8]]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 2))
    value, grads = wgan_gp_penalty(D, x, x[::-1].copy(), rng.uniform(size=(4, 1)))
    assert value == pytest.approx(0.0, abs=1e-24)
    np.testing.assert_allclose(grads["0.W"], 0.0, atol=1e-12)


def test_penalty_errors(rng):
    D = make_D("leaky_relu")
    x = rng.standard_normal((4, 3))
    with pytest.raises(ValueError, match=r"eps must be an array of shape \(4, 1\), got \(4,\)"):
        wgan_gp_penalty(D, x, x, rng.uniform(size=4))
    with pytest.raises(ValueError, match="weight must be a positive number"):
        wgan_gp_penalty(D, x, x, rng.uniform(size=(4, 1)), weight=0)
    with pytest.raises(ValueError, match="x_real must have 3 columns"):
        r1_penalty(D, x[:, :2].copy())
