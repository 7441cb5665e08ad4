"""Gradient penalties through convolutions (double backprop): finite differences over every weight of a conv D."""
import numpy as np
import pytest

from numgan import (BatchNorm, Conv2d, ConvTranspose2d, Dense, Flatten, LeakyReLU, Reshape, Sequential, Sigmoid,
                    Tanh, numerical_gradient, rel_error)
from numgan.gan import GAN
from numgan.penalties import input_gradient, r1_penalty, wgan_gp_penalty

TOL = 1e-6


def conv_D():
    """Reshape -> Conv2d -> LeakyReLU -> Conv2d(stride 2) -> Tanh -> Flatten -> Dense, on 6x5 images, float64."""
    D = Sequential([Reshape((1, 6, 5)), Conv2d(1, 3, 3, 1, 1, dtype=np.float64, rng=0), LeakyReLU(0.2),
                    Conv2d(3, 4, 3, 2, 1, dtype=np.float64, rng=1), Tanh(), Flatten(),
                    Dense(4 * 3 * 3, 1, dtype=np.float64, rng=2)])
    rng = np.random.default_rng(7)
    for name in ("1.b", "3.b", "6.b"):                 # non-zero biases: their gradients are exercised too
        D.params[name][...] = 0.3 * rng.standard_normal(D.params[name].shape)
    return D


def transpose_D():
    """A D with a ConvTranspose2d and a sigmoid, so that the transpose's sweep and f'' terms both matter."""
    D = Sequential([Reshape((2, 3, 3)), ConvTranspose2d(2, 3, 4, 2, 1, dtype=np.float64, rng=3), Sigmoid(),
                    Conv2d(3, 2, 3, 2, 0, dtype=np.float64, rng=4), LeakyReLU(0.2), Flatten(),
                    Dense(2 * 2 * 2, 1, dtype=np.float64, rng=5)])
    D.params["1.b"][...] = [0.1, -0.2, 0.3]
    return D


NETS = {"conv": (conv_D, 30), "transpose": (transpose_D, 18)}


def fd_over_weights(D, penalty):
    return {name: numerical_gradient(lambda _: penalty(), p) for name, p in D.params.items()}


@pytest.mark.parametrize("net", NETS)
def test_input_gradient_matches_finite_differences(net, rng):
    make, width = NETS[net]
    D = make()
    x = rng.standard_normal((3, width))
    g, _, deltas = input_gradient(D, x)
    assert g.shape == x.shape and deltas[1].shape == (3, *D.sample_shapes()[0])
    num = numerical_gradient(lambda v: float(D(v).sum()), x)
    assert rel_error(g, num) < TOL


@pytest.mark.parametrize("net", NETS)
def test_r1_value_and_weight_gradients(net, rng):
    make, width = NETS[net]
    D = make()
    x_real = rng.standard_normal((4, width))
    value, grads = r1_penalty(D, x_real, gamma=2.0)
    num_g = numerical_gradient(lambda v: float(D(v).sum()), x_real.copy())
    assert value == pytest.approx(np.mean(np.sum(num_g * num_g, axis=1)), rel=1e-8)   # gamma / 2 = 1
    num = fd_over_weights(D, lambda: r1_penalty(D, x_real, gamma=2.0)[0])
    for name in D.params:
        assert rel_error(grads[name], num[name]) < TOL, (name, rel_error(grads[name], num[name]))


@pytest.mark.parametrize("net", NETS)
def test_wgan_gp_value_and_weight_gradients(net, rng):
    make, width = NETS[net]
    D = make()
    x_real, x_fake = rng.standard_normal((4, width)), rng.standard_normal((4, width))
    eps = rng.uniform(size=(4, 1))
    value, grads = wgan_gp_penalty(D, x_real, x_fake, eps, weight=10.0)
    x_hat = eps * x_real + (1 - eps) * x_fake
    num_g = numerical_gradient(lambda v: float(D(v).sum()), x_hat)
    assert value == pytest.approx(10 * np.mean((np.linalg.norm(num_g, axis=1) - 1) ** 2), rel=1e-8)
    num = fd_over_weights(D, lambda: wgan_gp_penalty(D, x_real, x_fake, eps)[0])
    for name in D.params:
        assert rel_error(grads[name], num[name]) < TOL, (name, rel_error(grads[name], num[name]))


def test_sweep_2_matters_through_convolutions(rng, monkeypatch):
    """Dropping tanh's f'' terms must break the first convolution's weight gradient: the test can fail."""
    D = conv_D()
    x_real = rng.standard_normal((4, 30))
    _, right = r1_penalty(D, x_real)
    num = fd_over_weights(D, lambda: r1_penalty(D, x_real)[0])
    monkeypatch.setattr(D.layers[4], "second_derivative", lambda cache: None)
    _, wrong = r1_penalty(D, x_real)
    assert rel_error(right["1.W"], num["1.W"]) < TOL
    assert rel_error(wrong["1.W"], num["1.W"]) > 1e-3


def test_the_linear_sweep_matters(rng, monkeypatch):
    """Skipping a convolution's own term d/dW <L_W(a), delta> must break its gradient."""
    D = conv_D()
    x_real = rng.standard_normal((4, 30))
    num = fd_over_weights(D, lambda: r1_penalty(D, x_real)[0])
    original = D.layers[3].backward

    def without_weight_grad(dy, cache, **kw):
        dx, g = original(dy, cache, **kw)
        if kw.get("input_grad") is False:              # only the first sweep calls it so
            g = {k: np.zeros_like(v) for k, v in g.items()}
        return dx, g
    monkeypatch.setattr(D.layers[3], "backward", without_weight_grad)
    _, wrong = r1_penalty(D, x_real)
    assert rel_error(wrong["3.W"], num["3.W"]) > 1e-3


def test_batchnorm_in_a_penalised_D_is_refused_by_name(rng):
    D = Sequential([Reshape((1, 4, 4)), Conv2d(1, 2, 3, 1, 1, rng=0), BatchNorm(2), LeakyReLU(), Flatten(),
                    Dense(32, 1, rng=1)])
    x = rng.standard_normal((4, 16)).astype(np.float32)
    for call in (lambda: r1_penalty(D, x), lambda: wgan_gp_penalty(D, x, x, np.full((4, 1), 0.5, np.float32))):
        with pytest.raises(ValueError, match=r"layer 2: BatchNorm\(2"):
            call()


@pytest.mark.parametrize("penalty", ["r1", "wgan_gp"])
def test_a_gan_step_with_a_penalised_conv_D(penalty):
    G = Sequential([Dense(3, 30, rng=0), Tanh()])
    D = Sequential([Reshape((1, 6, 5)), Conv2d(1, 3, 3, 1, 1, rng=1), LeakyReLU(0.2), Conv2d(3, 4, 3, 2, 1, rng=2),
                    LeakyReLU(0.2), Flatten(), Dense(36, 1, rng=3)])
    gan = GAN(G, D, penalty=penalty, objective="wasserstein_gp" if penalty == "wgan_gp" else "non_saturating")
    rng = np.random.default_rng(0)
    before = D.flat_params.copy()
    gan.train_step(rng.standard_normal((8, 30)).astype(np.float32), rng)
    assert np.isfinite(D.flat_params).all() and not np.array_equal(before, D.flat_params)
