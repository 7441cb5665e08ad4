"""The training loop: data handling, callbacks, divergence with checkpoints, and that it learns."""
import numpy as np
import pytest

from numgan import mlp
from numgan.data import ring
from numgan.gan import GAN, TrainingDiverged
from numgan.metrics import mode_coverage
from numgan.train import Snapshots, fit


def small_gan(**kw):
    return GAN(mlp([2, 32, 32, 2], seed=0), mlp([2, 32, 32, 1], seed=1), g_lr=2e-3, d_lr=2e-3, **kw)


def test_short_training_on_the_ring_improves_mode_coverage():
    data, means = ring(4000, std=0.05, rng=np.random.default_rng(0), return_means=True)
    gan = small_gan()
    before = mode_coverage(gan.sample(1000, 1), means, std=0.05)
    fit(gan, data, steps=1000, batch_size=128, rng=0, progress=False)
    after = mode_coverage(gan.sample(1000, 1), means, std=0.05)
    assert before["modes_covered"] <= 3 and before["high_quality"] < 0.05
    assert after["modes_covered"] >= 7
    assert after["high_quality"] > before["high_quality"] + 0.2     # 0.30 on this machine after 1,000 steps


def test_same_seed_same_run():
    data = ring(500, rng=np.random.default_rng(0))
    a, b = small_gan(), small_gan()
    history_a = fit(a, data, steps=5, batch_size=16, rng=3, progress=False)
    history_b = fit(b, data, steps=5, batch_size=16, rng=3, progress=False)
    np.testing.assert_array_equal(a.G.flat_params, b.G.flat_params)
    assert history_a == history_b and history_a.steps == 5


def test_callbacks_and_snapshots():
    seen = []
    snaps = Snapshots(every=3, n=10)
    gan = small_gan()
    fit(gan, lambda n, rng: ring(n, rng=rng), steps=7, batch_size=8, rng=0, progress=False,
        callbacks=[lambda g, record: seen.append((g.step, record["g_loss"])), snaps])
    assert [s for s, _ in seen] == list(range(1, 8))
    assert [s for s, _ in snaps.frames] == [1, 3, 6]
    assert snaps.frames[0][1].shape == (10, 2)


def test_data_errors():
    gan = small_gan()
    with pytest.raises(TypeError, match="data must have dtype float32 like the networks, got float64"):
        fit(gan, np.zeros((10, 2)), steps=1, progress=False)
    bad = np.zeros((10, 2), np.float32)
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="data must be finite, got 1 rows with NaN or inf"):
        fit(gan, bad, steps=1, progress=False)
    with pytest.raises(ValueError, match=r"data must have shape \(n_samples, features\)"):
        fit(gan, np.zeros(10, np.float32), steps=1, progress=False)
    with pytest.raises(ValueError, match="the data sampler returned a batch with NaN"):
        fit(gan, lambda n, rng: np.full((n, 2), np.nan, np.float32), steps=1, progress=False)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        fit(gan, np.zeros((10, 2), np.float32), steps=1, batch_size=0, progress=False)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")   # the NaN weights, on purpose
def test_divergence_names_the_last_good_checkpoint(tmp_path):
    gan = small_gan()
    data = ring(500, rng=np.random.default_rng(0))
    rng = np.random.default_rng(0)
    history = fit(gan, data, steps=4, batch_size=16, rng=rng, progress=False, checkpoint_path=tmp_path / "ck.npz",
                  checkpoint_every=2)
    gan.G.params["0.W"][...] = np.inf
    with pytest.raises(TrainingDiverged, match=r"at step 5: .*last good checkpoint is .*ck.npz \(step 4\)"):
        fit(gan, data, steps=8, batch_size=16, rng=rng, progress=False, checkpoint_path=tmp_path / "ck.npz",
            checkpoint_every=2, history=history)


def test_decay_callbacks_follow_the_recipe_fraction():
    from numgan.train import LinearDecay, decay_callbacks
    (decay,) = decay_callbacks(100, 0.5)
    assert isinstance(decay, LinearDecay) and (decay.start, decay.end, decay.final) == (50, 100, 0.0)
    assert decay_callbacks(100, 1.0) == []
