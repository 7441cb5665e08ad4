"""DCGAN presets: shapes for 8x8 and 28x28, a GAN step with them (plain, penalised), an exact checkpoint roundtrip."""
import numpy as np
import pytest

from numgan import BatchNorm, ConvTranspose2d, dcgan_discriminator, dcgan_generator
from numgan.checkpoint import load_checkpoint, save_checkpoint
from numgan.gan import GAN
from numgan.train import fit


@pytest.mark.parametrize("image_shape, start", [((8, 8), 2), ((28, 28), 7), ((3, 8, 12), 2)])
def test_shapes_stay_flat_at_both_ends(image_shape, start):
    c, h, w = (1, *image_shape) if len(image_shape) == 2 else image_shape
    G = dcgan_generator(16, image_shape, width=4, seed=0)
    D = dcgan_discriminator(image_shape, width=4, seed=1)
    assert G.in_features == 16 and G.out_features == c * h * w
    assert D.in_features == c * h * w and D.out_features == 1
    assert G.sample_shapes()[1] == (8, start, w // 4)
    z = np.random.default_rng(0).standard_normal((5, 16)).astype(np.float32)
    x = G(z)
    assert x.shape == (5, c * h * w) and x.dtype == np.float32 and np.abs(x).max() <= 1
    assert D(x).shape == (5, 1)


def test_options():
    G = dcgan_generator(16, (8, 8), width=4, n_classes=10, batchnorm=False, seed=0)
    assert G.in_features == 26 and not any(isinstance(layer, BatchNorm) for layer in G.layers)
    assert sum(isinstance(layer, ConvTranspose2d) for layer in G.layers) == 2
    np.testing.assert_array_equal(dcgan_generator(4, (8, 8), 4, seed=3).flat_params,
                                  dcgan_generator(4, (8, 8), 4, seed=3).flat_params)
    with pytest.raises(ValueError, match="divisible by 4"):
        dcgan_generator(4, (10, 10))
    with pytest.raises(ValueError, match=r"image_shape must be \(H, W\) or \(C, H, W\)"):
        dcgan_discriminator((28,))
    with pytest.raises(ValueError, match="width"):
        dcgan_discriminator((8, 8), width=0)


def sampler(n, rng):
    return np.tanh(rng.standard_normal((n, 64), dtype=np.float32))


@pytest.mark.parametrize("options", [{}, {"penalty": "r1", "penalty_weight": 1.0},
                                     {"objective": "wasserstein_gp"}], ids=["plain", "r1", "wgan-gp"])
def test_a_gan_step_with_the_presets_updates_both_players(options):
    gan = GAN(dcgan_generator(8, (8, 8), width=4, seed=0), dcgan_discriminator((8, 8), width=4, seed=1), **options)
    g0, d0 = gan.G.flat_params.copy(), gan.D.flat_params.copy()
    rng = np.random.default_rng(0)
    record = gan.train_step(sampler(16, rng), rng)
    assert np.isfinite(list(record.values())).all()
    assert not np.array_equal(g0, gan.G.flat_params) and not np.array_equal(d0, gan.D.flat_params)
    assert gan.sample(4, rng).shape == (4, 64)


def test_a_28x28_step_runs():
    gan = GAN(dcgan_generator(8, (28, 28), width=4, seed=0), dcgan_discriminator((28, 28), width=4, seed=1))
    rng = np.random.default_rng(0)
    record = gan.train_step(np.tanh(rng.standard_normal((8, 784), dtype=np.float32)), rng)
    assert np.isfinite(record["g_loss"]) and np.isfinite(record["d_loss"])


def test_checkpoint_roundtrip_restores_the_presets_exactly(tmp_path):
    gan = GAN(dcgan_generator(8, (8, 8), width=4, seed=0), dcgan_discriminator((8, 8), width=4, seed=1), ema=0.9)
    fit(gan, sampler, steps=2, batch_size=8, rng=0, progress=False)
    path = save_checkpoint(tmp_path / "dcgan.npz", gan, np.random.default_rng(1))
    loaded, _ = load_checkpoint(path)
    for a, b in ((gan.G, loaded.G), (gan.D, loaded.D), (gan.G_ema, loaded.G_ema)):
        assert a.spec() == b.spec()
        np.testing.assert_array_equal(a.flat_params, b.flat_params)
        for k in a.buffers:
            np.testing.assert_array_equal(a.buffers[k], b.buffers[k])
    z = np.random.default_rng(5).standard_normal((4, 8)).astype(np.float32)
    np.testing.assert_array_equal(gan.G(z), loaded.G(z))
    np.testing.assert_array_equal(gan.G.eval()(z), loaded.G.eval()(z))


def test_the_moving_average_of_g_carries_g_s_batch_norm_statistics():
    """The EMA averages parameters; BatchNorm's running statistics are copied, so G_ema.eval() samples sensibly."""
    gan = GAN(dcgan_generator(8, (8, 8), width=4, seed=0), dcgan_discriminator((8, 8), width=4, seed=1), ema=0.9)
    assert gan.G_ema is not None and gan.G.buffers
    rng = np.random.default_rng(0)
    gan.train_step(rng.uniform(-1, 1, (16, 64)).astype(np.float32), rng)
    for name, value in gan.G.buffers.items():
        assert np.array_equal(gan.G_ema.buffers[name], value)
    assert any(not np.allclose(v, 0) and not np.allclose(v, 1) for v in gan.G_ema.buffers.values())


def test_the_d_step_skips_the_first_convolution_s_input_gradient_below_a_reshape(monkeypatch):
    """D = Reshape -> Conv2d -> ...: backward(input_grad=False) asks the convolution for no dx (the Reshape
    below it has no parameters, so that dx would be thrown away), and the grads are those of a full backward."""
    from numgan import Conv2d
    D = dcgan_discriminator((8, 8), width=4, seed=1)
    x = np.random.default_rng(0).uniform(-1, 1, (6, 64)).astype(np.float32)
    s, cache = D.forward(x)
    dy = np.ones_like(s)
    _, full = D.backward(dy, cache)
    asked = []
    original = Conv2d.backward

    def spy(self, dy, cache, **options):
        asked.append(options.get("input_grad", True))
        return original(self, dy, cache, **options)
    monkeypatch.setattr(Conv2d, "backward", spy)
    dx, grads = D.backward(dy, cache, input_grad=False)
    assert dx is None and asked[-1] is False and all(asked[:-1])
    assert np.array_equal(grads.flat, full.flat)


def test_input_grad_false_below_a_layer_without_speed_options_gives_no_dx_and_the_same_grads():
    """[Reshape, BatchNorm, ...]: BatchNorm (the lowest layer with parameters) computes its dx by the plain
    contract; backward(input_grad=False) drops it and returns the grads of a full backward."""
    from numgan import BatchNorm, Conv2d, Dense, Flatten, Reshape, Sequential, Tanh
    net = Sequential([Reshape((1, 4, 4)), BatchNorm(1), Conv2d(1, 2, 3, 1, 1, rng=0), Tanh(), Flatten(),
                      Dense(32, 1, rng=1)])
    x = np.random.default_rng(0).standard_normal((5, 16)).astype(np.float32)
    s, cache = net.forward(x)
    dx_full, full = net.backward(np.ones_like(s), cache)
    dx, grads = net.backward(np.ones_like(s), cache, input_grad=False)
    assert dx is None and dx_full.shape == (5, 16)
    assert np.array_equal(grads.flat, full.flat)
