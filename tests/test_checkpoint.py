"""Checkpoints: resume == uninterrupted, bit for bit; damaged files give clear errors; no pickle."""
import zipfile

import numpy as np
import pytest

from numgan import mlp
from numgan.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from numgan.gan import GAN


def make_gan():
    G = mlp([3, 8, 2], seed=1)
    D = mlp([4, 8, 1], seed=2)
    return GAN(G, D, objective="wasserstein_gp", ema=0.9, pack=2, d_steps=2, instance_noise=0.1,
               instance_noise_steps=50, g_lr=1e-3, d_lr=2e-3)


def sampler(n, rng):
    return rng.standard_normal((n, 2), dtype=np.float32)


def test_resume_continues_bit_for_bit(tmp_path):
    whole = make_gan()
    whole.fit(sampler, steps=12, batch_size=8, rng=np.random.default_rng(7), progress=False)

    first = make_gan()
    rng = np.random.default_rng(7)
    first.fit(sampler, steps=5, batch_size=8, rng=rng, progress=False,
              checkpoint_path=tmp_path / "ck.npz")
    resumed, rng2 = load_checkpoint(tmp_path / "ck.npz")
    assert resumed.step == 5 and resumed.config() == whole.config()
    resumed.fit(sampler, steps=12, batch_size=8, rng=rng2, progress=False)

    np.testing.assert_array_equal(resumed.G.flat_params, whole.G.flat_params)
    np.testing.assert_array_equal(resumed.D.flat_params, whole.D.flat_params)
    np.testing.assert_array_equal(resumed.G_ema.flat_params, whole.G_ema.flat_params)
    assert resumed.history == whole.history
    assert resumed.opt_D.state_dict()["t"] == whole.opt_D.state_dict()["t"] == 24


def test_checkpoint_every_writes_during_training(tmp_path):
    gan = make_gan()
    gan.fit(sampler, steps=6, batch_size=8, rng=0, progress=False, checkpoint_path=tmp_path / "c.npz",
            checkpoint_every=4)
    meta, _ = read_checkpoint(tmp_path / "c.npz")
    assert meta["step"] == 6  # the final one overwrote the one of step 4
    assert not list(tmp_path.glob("*.tmp"))  # written atomically, no leftovers


def test_truncated_file_gives_a_clear_error(tmp_path):
    path = save_checkpoint(tmp_path / "ck.npz", make_gan(), np.random.default_rng(0))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="is not a readable numgan checkpoint"):
        load_checkpoint(path)


def test_tampered_array_fails_the_checksum(tmp_path):
    gan = make_gan()
    path = save_checkpoint(tmp_path / "ck.npz", gan, np.random.default_rng(0))
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["G/params"] = arrays["G/params"] + 1
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="fails its checksum"):
        load_checkpoint(path)


def test_foreign_and_missing_files(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ValueError, match="is not a readable numgan checkpoint"):
        load_checkpoint(other)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="is not a readable numgan checkpoint"):
        load_checkpoint(text)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.npz")


def test_loading_never_unpickles(tmp_path):
    """An object array (which only a pickle can hold) is refused, not executed."""
    path = tmp_path / "evil.npz"
    np.savez(path, meta=np.array([{"format": "numgan-checkpoint"}], dtype=object))
    with pytest.raises(ValueError, match="is not a readable numgan checkpoint.*pickle"):
        load_checkpoint(path)
    with zipfile.ZipFile(path) as z:
        assert z.namelist() == ["meta.npy"]
