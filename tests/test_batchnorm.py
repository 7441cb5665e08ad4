"""BatchNorm: finite differences in both modes (1-D and 2-D), the running statistics, the mode, checkpoints."""
import numpy as np
import pytest

from numgan import (BatchNorm, Conv2d, Dense, Flatten, LeakyReLU, Reshape, Sequential, Tanh, check_layer,
                    check_network)
from numgan.checkpoint import load_checkpoint, save_checkpoint
from numgan.gan import GAN
from numgan.network import from_spec
from numgan.train import fit


def randomised(bn, rng):
    """Non-trivial gamma, beta and running statistics, so that every term of the formulas is exercised."""
    c = bn.num_features
    bn.params["gamma"][...] = rng.uniform(0.5, 2.0, c)
    bn.params["beta"][...] = rng.standard_normal(c)
    bn.buffers["running_mean"][...] = rng.standard_normal(c)
    bn.buffers["running_var"][...] = rng.uniform(0.5, 2.0, c)
    return bn


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5, 3)], ids=["1-D", "2-D"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_gradients_by_finite_differences(rng, shape, mode):
    bn = randomised(BatchNorm(4, dtype=np.float64), rng)
    getattr(bn, mode)()
    x = 2 * rng.standard_normal(shape) + 1
    report = check_layer(bn, x)
    assert [e.name for e in report.entries] == ["x", "gamma", "beta"]
    assert report.ok, str(report)


def test_dropping_the_batch_terms_fails_the_check(rng):
    """In training mode dx has the two mean terms; the eval formula alone (a common slip) is caught."""
    bn = randomised(BatchNorm(3, dtype=np.float64), rng)
    x = rng.standard_normal((5, 3))
    _, cache = bn.forward(x)
    training, xhat, inv_std = cache
    assert training
    wrong = (False, xhat, inv_std)
    r = rng.standard_normal(x.shape)
    right_dx, _ = bn.backward(r, cache)
    wrong_dx, _ = bn.backward(r, wrong)
    assert np.abs(right_dx - wrong_dx).max() > 1e-2


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 2)])
def test_training_mode_normalises_per_channel_and_updates_the_running_statistics(rng, shape):
    bn = randomised(BatchNorm(3, momentum=0.25, dtype=np.float64), rng)
    mean0, var0 = bn.buffers["running_mean"].copy(), bn.buffers["running_var"].copy()
    x = 3 * rng.standard_normal(shape) - 2
    y, _ = bn.forward(x)
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    c = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
    gamma, beta = bn.params["gamma"], bn.params["beta"]
    mu, var = x.mean(axis=axes), x.var(axis=axes)                                 # biased variance
    np.testing.assert_allclose(y, gamma.reshape(c) * (x - mu.reshape(c)) / np.sqrt(var.reshape(c) + 1e-5)
                               + beta.reshape(c), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose((y - beta.reshape(c)).mean(axis=axes), 0, atol=1e-12)
    m = x.size // 3
    np.testing.assert_allclose(bn.buffers["running_mean"], 0.75 * mean0 + 0.25 * mu, rtol=1e-12)
    np.testing.assert_allclose(bn.buffers["running_var"], 0.75 * var0 + 0.25 * var * m / (m - 1), rtol=1e-12)


def test_eval_mode_uses_the_running_statistics_and_changes_nothing(rng):
    bn = randomised(BatchNorm(3, dtype=np.float64), rng).eval()
    assert not bn.training
    before = {k: v.copy() for k, v in bn.buffers.items()}
    x = rng.standard_normal((1, 3, 2, 2))                    # one sample is fine in eval mode
    y, _ = bn.forward(x)
    rm, rv = before["running_mean"].reshape(1, 3, 1, 1), before["running_var"].reshape(1, 3, 1, 1)
    expected = bn.params["gamma"].reshape(1, 3, 1, 1) * (x - rm) / np.sqrt(rv + 1e-5) + \
        bn.params["beta"].reshape(1, 3, 1, 1)
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    for k in before:
        np.testing.assert_array_equal(bn.buffers[k], before[k])
    assert bn.train() is bn and bn.training


def test_backward_follows_the_mode_of_its_forward(rng):
    """The cache records the mode: switching to eval between forward and backward changes nothing."""
    bn = randomised(BatchNorm(3, dtype=np.float64), rng)
    x, dy = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    _, cache = bn.forward(x)
    dx_train, _ = bn.backward(dy, cache)
    bn.eval()
    dx_after, _ = bn.backward(dy, cache)
    np.testing.assert_array_equal(dx_train, dx_after)


def test_backward_changes_no_buffer(rng):
    bn = randomised(BatchNorm(3, dtype=np.float64), rng)
    _, cache = bn.forward(rng.standard_normal((5, 3)))
    before = {k: v.copy() for k, v in bn.buffers.items()}
    bn.backward(rng.standard_normal((5, 3)), cache)
    for k in before:
        np.testing.assert_array_equal(bn.buffers[k], before[k])


def test_sequential_train_and_eval_set_every_batchnorm():
    net = Sequential([Dense(3, 4, rng=0), BatchNorm(4), LeakyReLU(), Dense(4, 4, rng=1), BatchNorm(4)])
    assert net.eval() is net
    assert [layer.training for layer in net.layers if isinstance(layer, BatchNorm)] == [False, False]
    net.train()
    assert [layer.training for layer in net.layers if isinstance(layer, BatchNorm)] == [True, True]


def test_buffers_are_not_parameters_and_copies_are_independent(rng):
    net = Sequential([Dense(3, 4, rng=0), BatchNorm(4)])
    assert sorted(net.params) == ["0.W", "0.b", "1.beta", "1.gamma"]
    assert sorted(net.buffers) == ["1.running_mean", "1.running_var"]
    copy = net.copy()
    net.forward(rng.standard_normal((5, 3)).astype(np.float32))        # changes net's running statistics only
    assert not np.array_equal(net.buffers["1.running_mean"], copy.buffers["1.running_mean"])
    np.testing.assert_array_equal(copy.buffers["1.running_mean"], 0)
    assert net.astype(np.float64).buffers["1.running_var"].dtype == np.float64


def test_a_network_with_batchnorm_passes_its_gradient_check(rng):
    net = Sequential([Reshape((2, 4, 4)), Conv2d(2, 3, 3, 1, 1, dtype=np.float64, rng=0),
                      BatchNorm(3, dtype=np.float64), Tanh(), Flatten(), Dense(48, 2, dtype=np.float64, rng=1)])
    report = check_network(net, rng.standard_normal((4, 32)))
    # the conv bias just before BatchNorm has no effect (the mean removes it): its gradient is 0
    np.testing.assert_allclose(net.backward(np.ones((4, 2)), net.forward(rng.standard_normal((4, 32)))[1])[1]["1.b"],
                               0, atol=1e-12)
    assert all(e.rel_error < 1e-6 for e in report.entries if e.name != "1.b"), str(report)
    assert report["1.b"].max_abs_diff < 1e-8


def test_bad_inputs_name_the_argument():
    bn = BatchNorm(3)
    with pytest.raises(ValueError, match=r"x must be \(N, 3\) or \(N, 3, H, W\)"):
        bn.forward(np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn.forward(np.zeros((1, 3), np.float32))
    with pytest.raises(TypeError, match="x must have dtype float32"):
        bn.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(3, momentum=1.5)
    with pytest.raises(ValueError, match="eps"):
        BatchNorm(3, eps=0.0)
    with pytest.raises(ValueError, match="num_features"):
        BatchNorm(0)
    _, cache = bn.forward(np.ones((4, 3), np.float32) * np.arange(4, dtype=np.float32)[:, None])
    with pytest.raises(ValueError, match="dy must"):
        bn.backward(np.zeros((5, 3), np.float32), cache)


def test_float32_stays_float32(rng):
    bn = BatchNorm(3)
    x = rng.standard_normal((4, 3, 2, 2)).astype(np.float32)
    y, cache = bn.forward(x)
    dx, grads = bn.backward(y, cache)
    assert y.dtype == dx.dtype == grads["gamma"].dtype == bn.buffers["running_var"].dtype == np.float32


def test_spec_roundtrip():
    net = Sequential([Dense(3, 4, rng=0), BatchNorm(4, momentum=0.2, eps=1e-3)])
    rebuilt = from_spec(net.spec())
    assert rebuilt.spec() == net.spec() == [{"layer": "Dense", "in_features": 3, "out_features": 4},
                                           {"layer": "BatchNorm", "num_features": 4, "momentum": 0.2, "eps": 1e-3}]


def test_checkpoint_roundtrip_restores_the_running_statistics(tmp_path):
    G = Sequential([Dense(2, 8, rng=0), BatchNorm(8), LeakyReLU(), Dense(8, 2, rng=1)])
    D = Sequential([Dense(2, 8, rng=2), BatchNorm(8), LeakyReLU(), Dense(8, 1, rng=3)])
    gan = GAN(G, D, ema=0.9)

    def sampler(n, rng):
        return rng.standard_normal((n, 2), dtype=np.float32) * 2 + 1

    fit(gan, sampler, steps=3, batch_size=8, rng=0, progress=False)
    assert not np.array_equal(gan.D.buffers["1.running_mean"], 0)
    path = save_checkpoint(tmp_path / "bn.npz", gan, np.random.default_rng(1))
    loaded, _ = load_checkpoint(path)
    for a, b in ((gan.G, loaded.G), (gan.D, loaded.D), (gan.G_ema, loaded.G_ema)):
        assert a.spec() == b.spec()
        np.testing.assert_array_equal(a.flat_params, b.flat_params)
        assert a.buffers.keys() == b.buffers.keys()
        for k in a.buffers:
            np.testing.assert_array_equal(a.buffers[k], b.buffers[k])
    z = np.random.default_rng(2).standard_normal((4, 2)).astype(np.float32)
    np.testing.assert_array_equal(gan.G.eval()(z), loaded.G.eval()(z))
