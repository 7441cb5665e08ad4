"""Checkpoints of convolutional GANs: an exact roundtrip; crafted specs and buffers refused with one clean ValueError."""
import copy

import numpy as np
import pytest

from numgan import BatchNorm, Conv2d, ConvTranspose2d, Dense, Flatten, LeakyReLU, Reshape, Sequential, Tanh
from numgan.checkpoint import load_checkpoint, load_standardiser, save_checkpoint
from numgan.gan import GAN
from numgan.train import fit

from test_checkpoint_files import contents, rewrite


def conv_gan():
    G = Sequential([Dense(4, 8 * 2 * 2, rng=0), Reshape((8, 2, 2)), BatchNorm(8), LeakyReLU(0.2),
                    ConvTranspose2d(8, 1, 4, 2, 1, rng=1), Tanh(), Flatten()])
    D = Sequential([Reshape((1, 4, 4)), Conv2d(1, 4, 3, 1, 1, rng=2), LeakyReLU(0.2), Conv2d(4, 4, 4, 2, 1, rng=3),
                    LeakyReLU(0.2), Flatten(), Dense(16, 1, rng=4)])
    return GAN(G, D, ema=0.9)


def sampler(n, rng):
    return np.tanh(rng.standard_normal((n, 16), dtype=np.float32))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    gan = conv_gan()
    history = fit(gan, sampler, steps=2, batch_size=6, rng=0, progress=False)
    path = tmp_path_factory.mktemp("conv") / "ck.npz"
    save_checkpoint(path, gan, np.random.default_rng(3), history=history)
    return path, gan


def test_a_conv_gan_roundtrips_exactly(saved):
    path, gan = saved
    loaded, rng = load_checkpoint(path)
    assert loaded.G.spec() == gan.G.spec() and loaded.D.spec() == gan.D.spec()
    for a, b in ((gan.G, loaded.G), (gan.D, loaded.D), (gan.G_ema, loaded.G_ema)):
        np.testing.assert_array_equal(a.flat_params, b.flat_params)
        for k in a.buffers:
            np.testing.assert_array_equal(a.buffers[k], b.buffers[k])
    assert sorted(gan.G.buffers) == ["2.running_mean", "2.running_var"]
    z = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_array_equal(gan.G.eval()(z), loaded.G.eval()(z))
    gan.G.train()
    # and training continues identically from both
    a, b = copy.deepcopy(gan), loaded
    r1, r2 = np.random.default_rng(9), np.random.default_rng(9)
    fit(a, sampler, steps=2, batch_size=6, rng=r1, progress=False)
    fit(b, sampler, steps=2, batch_size=6, rng=r2, progress=False)
    np.testing.assert_array_equal(a.G.flat_params, b.G.flat_params)
    np.testing.assert_array_equal(a.G.buffers["2.running_var"], b.G.buffers["2.running_var"])
    assert load_standardiser(path).dim == 16          # G's output width, through ConvTranspose2d and Flatten


@pytest.mark.parametrize("name, change, match", [
    ("kernel-zero", lambda m, a: m["D"][1].update(kernel_size=0), "D[1] kernel_size must be an integer in [1"),
    ("stride-float", lambda m, a: m["D"][3].update(stride=2.0), "D[3] stride must be an integer"),
    ("padding-negative", lambda m, a: m["G"][4].update(padding=-1), "G[4] padding must be an integer in [0"),
    ("conv-extra-key", lambda m, a: m["D"][1].update(dilation=2), "unknown keys ['dilation']"),
    ("conv-missing-key", lambda m, a: m["D"][1].pop("padding"), "D[1] lacks ['padding']"),
    ("reshape-not-list", lambda m, a: m["D"][0].update(shape="1,4,4"), "D[0] shape must be a list"),
    ("reshape-many-axes", lambda m, a: m["D"][0].update(shape=[1] * 9 + [16]), "D[0] shape must be a list of 1 to 8"),
    ("reshape-zero", lambda m, a: m["D"][0].update(shape=[1, 0, 4]), "D[0] shape[1] must be an integer in [1"),
    ("shapes-do-not-fit", lambda m, a: m["D"][0].update(shape=[4, 2, 2]), "D[1] needs samples of shape (1, H, W)"),
    ("reshape-other-size", lambda m, a: m["G"][1].update(shape=[8, 2, 3]), "G[1] reshapes 32 values per sample"),
    ("huge-kernel", lambda m, a: m["D"][1].update(kernel_size=10 ** 6), "D[1] makes no output"),
    # small weights, a forward pass of gigabytes: refused by arithmetic before anything is built
    ("huge-padding", lambda m, a: m["D"][1].update(padding=10 ** 5), "D[1] needs 360007200036 numbers per sample, over the limit"),
    ("huge-stride", lambda m, a: m["G"][4].update(stride=10 ** 6), "numbers per sample, over the limit of 1048576"),
    ("conv-first", lambda m, a: m["D"].pop(0), "D[0] needs samples of shape (1, H, W) from the layers before it, "
                                                "got an unknown shape"),
    ("bn-eps-zero", lambda m, a: m["G"][2].update(eps=0), "G[2] eps must be a finite number in (0.0"),
    ("bn-momentum", lambda m, a: m["G"][2].update(momentum=2), "G[2] momentum must be a finite number in [0.0"),
    ("bn-features", lambda m, a: m["G"][2].update(num_features=9), "'G/params' must be float32 of shape"),
    ("bn-missing-buffer", lambda m, a: a.pop("G/buffers/2.running_mean"),
     "lacks the arrays ['G/buffers/2.running_mean']"),
    ("ema-missing-buffer", lambda m, a: a.pop("G_ema/buffers/2.running_var"),
     "lacks the arrays ['G_ema/buffers/2.running_var']"),
    ("bn-buffer-shape", lambda m, a: a.update({"G/buffers/2.running_var": np.ones(7, np.float32)}),
     "'G/buffers/2.running_var' must be float32 of shape (8,)"),
    ("bn-buffer-float64", lambda m, a: a.update({"G/buffers/2.running_var": np.ones(8)}),
     "'G/buffers/2.running_var' must be float32"),
    ("bn-negative-variance", lambda m, a: a.update({"G/buffers/2.running_var": -np.ones(8, np.float32)}),
     "negative or NaN variance"),
    ("bn-nan-mean", lambda m, a: a.update({"G/buffers/2.running_mean": np.full(8, np.nan, np.float32)}), "NaN"),
    ("buffer-without-batchnorm", lambda m, a: a.update({"D/buffers/1.running_mean": np.zeros(4, np.float32)}),
     "arrays ['D/buffers/1.running_mean'] that its metadata does not imply"),
])
def test_crafted_conv_files_name_what_is_wrong(saved, tmp_path, name, change, match):
    meta, arrays = contents(saved[0].read_bytes(), tmp_path)
    meta, arrays = copy.deepcopy(meta), dict(arrays)
    change(meta, arrays)
    path = rewrite(tmp_path / f"{name}.npz", arrays, meta)
    with pytest.raises(ValueError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert message.startswith(repr(str(path))) and match in message, message
    assert "\n" not in message
