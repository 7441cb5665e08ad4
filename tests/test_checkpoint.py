"""Checkpoints: resume == uninterrupted, bit for bit; damaged files give clear errors; no pickle."""
import zipfile

import numpy as np
import pytest

from numgan import mlp
from numgan.checkpoint import load_checkpoint, load_history, read_checkpoint, save_checkpoint
from numgan.gan import GAN, GANConfig
from numgan.train import fit


def make_gan():
    G = mlp([3, 8, 2], seed=1)
    D = mlp([4, 8, 1], seed=2)
    return GAN(G, D, objective="wasserstein_gp", ema=0.9, pack=2, d_steps=2, instance_noise=0.1,
               instance_noise_steps=50, g_lr=1e-3, d_lr=2e-3)


def sampler(n, rng):
    return rng.standard_normal((n, 2), dtype=np.float32)


def test_resume_continues_bit_for_bit(tmp_path):
    whole = make_gan()
    whole_history = fit(whole, sampler, steps=12, batch_size=8, rng=np.random.default_rng(7), progress=False)

    first = make_gan()
    rng = np.random.default_rng(7)
    fit(first, sampler, steps=5, batch_size=8, rng=rng, progress=False, checkpoint_path=tmp_path / "ck.npz")
    resumed, rng2 = load_checkpoint(tmp_path / "ck.npz")
    assert resumed.step == 5 and resumed.config == whole.config
    history = fit(resumed, sampler, steps=12, batch_size=8, rng=rng2, progress=False,
                  history=load_history(tmp_path / "ck.npz"))

    np.testing.assert_array_equal(resumed.G.flat_params, whole.G.flat_params)
    np.testing.assert_array_equal(resumed.D.flat_params, whole.D.flat_params)
    np.testing.assert_array_equal(resumed.G_ema.flat_params, whole.G_ema.flat_params)
    assert history == whole_history and history.steps == 12
    assert resumed.opt_D.state_dict()["t"] == whole.opt_D.state_dict()["t"] == 24


def test_checkpoint_every_writes_during_training(tmp_path):
    gan = make_gan()
    fit(gan, sampler, steps=6, batch_size=8, rng=0, progress=False, checkpoint_path=tmp_path / "c.npz",
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
    with pytest.raises(ValueError, match="is not a readable numgan checkpoint.*Python objects"):
        load_checkpoint(path)
    with zipfile.ZipFile(path) as z:
        assert z.namelist() == ["meta.npy"]


def test_every_config_field_survives_a_checkpoint(tmp_path):
    """Each GANConfig option set to a value other than its default is read back (none silently dropped)."""
    non_default = dict(objective="hinge", d_steps=3, g_lr=1e-3, d_lr=3e-3, betas=(0.4, 0.9), clip=0.5,
                       penalty="wgan_gp", penalty_weight=2.5, penalty_every=4, label_smoothing=0.0,
                       instance_noise=0.2, instance_noise_steps=100, ema=0.95, pack=2, n_classes=3)
    cross_entropy = dict(objective="minimax", label_smoothing=0.1)
    fields = {f.name for f in __import__("dataclasses").fields(GANConfig)}
    assert set(non_default) == fields                # a new option must be added to this test
    for options in ({**non_default}, {**non_default, **cross_entropy}):
        config = GANConfig(**options)
        defaults = GANConfig()
        assert all(getattr(config, k) != getattr(defaults, k) for k in fields if options[k] != getattr(defaults, k))
        G, D = mlp([4 + 3, 8, 2], seed=1), mlp([2 * (2 + 3), 8, 1], seed=2)
        path = save_checkpoint(tmp_path / "all.npz", GAN(G, D, config), np.random.default_rng(0))
        loaded, _ = load_checkpoint(path)
        assert loaded.config == config


def test_config_from_dict_rejects_unknown_options():
    with pytest.raises(ValueError, match=r"unknown GAN options \['learning_rate'\]"):
        GANConfig.from_dict({"learning_rate": 0.1})
    assert GANConfig.from_dict(GANConfig(betas=(0.1, 0.2)).to_dict()) == GANConfig(betas=(0.1, 0.2))


def test_a_checkpoint_written_before_the_refactor_still_loads():
    """tests/data/checkpoint_v1.npz was written by numgan 0.1.0 (commit 271c7fb), before GANConfig and History."""
    from pathlib import Path
    path = Path(__file__).parent / "data" / "checkpoint_v1.npz"
    gan, rng = load_checkpoint(path)
    assert gan.config == GANConfig(objective="non_saturating", d_steps=2, g_lr=1e-3, d_lr=2e-3, betas=(0.4, 0.99),
                                   penalty="r1", penalty_weight=0.5, penalty_every=2, label_smoothing=0.1,
                                   instance_noise=0.1, instance_noise_steps=7, ema=0.9, pack=2, n_classes=3)
    assert gan.step == 5
    # the same samples and the same next random numbers as the run that wrote it
    np.testing.assert_array_equal(gan.sample(4, rng=0), np.array(
        [[0.319025, -0.046452824], [0.6429989, -0.78305364], [-0.047547482, -0.027972912],
         [0.10005069, -0.2737765]], dtype=np.float32))
    np.testing.assert_array_equal(rng.integers(0, 1000, 3), [158, 680, 554])
    history = load_history(path)                    # old record names come back under the new ones
    assert set(history) == {"d_loss", "penalty", "d_grad_norm", "p_real", "p_fake", "g_loss", "g_grad_norm"}
    np.testing.assert_allclose(history["p_real"][:2], [0.33599668741226196, 0.5001795291900635], rtol=0)
