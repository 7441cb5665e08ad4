"""A run stopped at an odd step and resumed from its checkpoint ends exactly as the uninterrupted run.

Every configuration of the step is resumed: each objective, the penalties every step and lazily every 4
steps, packing, several D steps, a conditional GAN, the moving average of G, instance noise that decays,
and the learning-rate decay. The whole state is compared bit for bit: G, D, G's moving average, both
optimizers (moments, step counters, learning rates), the random generator and the history (NaN where a
lazy step computed no penalty).
"""
import numpy as np
import pytest

from numgan import mlp
from numgan.checkpoint import load_checkpoint, load_history
from numgan.gan import GAN
from numgan.objectives import OBJECTIVES
from numgan.train import decay_callbacks, fit

STEPS, STOP = 13, 7


def make(objective, **options):
    c = options.get("n_classes") or 0
    pack = options.get("pack", 1)
    G = mlp([3 + c, 8, 2], "relu", None, seed=1)
    D = mlp([pack * (2 + c), 8, 1], "tanh" if options.get("penalty") == "wgan_gp" else "leaky_relu", None, seed=2)
    if objective in ("minimax", "non_saturating", "seed_as_written"):
        options.setdefault("label_smoothing", 0.1)
    if objective == "wasserstein":
        options.setdefault("clip", 0.1)
    return GAN(G, D, objective=objective, g_lr=1e-3, d_lr=2e-3, ema=0.9, **options)


def data(conditional):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 2)).astype(np.float32)
    return (x, rng.integers(0, 3, 256)) if conditional else x


CONFIGS = [(objective, {}) for objective in OBJECTIVES] + [
    ("non_saturating", dict(penalty="r1", penalty_weight=0.5)),
    ("non_saturating", dict(penalty="r1", penalty_weight=0.5, penalty_every=4)),
    ("wasserstein_gp", dict(penalty_weight=2.0, penalty_every=4)),
    ("hinge", dict(penalty="wgan_gp", penalty_weight=1.0)),
    ("least_squares", dict(pack=2, d_steps=2)),
    ("non_saturating", dict(n_classes=3, pack=2, penalty="r1", penalty_weight=0.5, penalty_every=4)),
    ("hinge", dict(instance_noise=0.3, instance_noise_steps=10, d_steps=3)),
]


def state(gan, rng, history):
    return {"G": gan.G.flat_params, "D": gan.D.flat_params, "G_ema": gan.G_ema.flat_params,
            **{f"opt_G.{k}": v for k, v in gan.opt_G.state_dict().items()},
            **{f"opt_D.{k}": v for k, v in gan.opt_D.state_dict().items()},
            "step": gan.step, "rng": repr(rng.bit_generator.state),
            **{f"history.{k}": np.asarray(v) for k, v in history.items()}}


@pytest.mark.parametrize("objective, options", CONFIGS, ids=[f"{o}-{sorted(opts.items())}" for o, opts in CONFIGS])
def test_a_resumed_run_ends_bit_for_bit_as_the_uninterrupted_one(tmp_path, objective, options):
    conditional = "n_classes" in options
    whole = make(objective, **dict(options))
    rng_whole = np.random.default_rng(5)
    history_whole = fit(whole, data(conditional), STEPS, batch_size=8, rng=rng_whole, progress=False,
                        callbacks=decay_callbacks(STEPS, 0.5))

    first = make(objective, **dict(options))
    path = tmp_path / "run.npz"
    fit(first, data(conditional), STOP, batch_size=8, rng=np.random.default_rng(5), progress=False,
        callbacks=decay_callbacks(STEPS, 0.5), checkpoint_path=path)
    del first                                            # the process "dies": only the file is left
    resumed, rng = load_checkpoint(path)
    assert resumed.step == STOP
    history = fit(resumed, data(conditional), STEPS, batch_size=8, rng=rng, progress=False,
                  callbacks=decay_callbacks(STEPS, 0.5), history=load_history(path), checkpoint_path=path)

    a, b = state(whole, rng_whole, history_whole), state(resumed, rng, history)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(np.asarray(b[key]), np.asarray(a[key]), err_msg=key)
    if options.get("penalty_every", 1) > 1:             # the lazy steps recorded no penalty, before and after
        assert np.isnan(history["penalty"][1]) and not np.isnan(history["penalty"][8])
    reloaded, _ = load_checkpoint(path)                   # and the final checkpoint holds that state
    np.testing.assert_array_equal(reloaded.G_ema.flat_params, whole.G_ema.flat_params)
