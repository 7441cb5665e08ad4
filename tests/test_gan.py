"""The GAN step end to end: finite differences through the real code path, options, errors."""
import numpy as np
import pytest

from numgan import mlp, numerical_gradient, rel_error
from numgan.gan import GAN, TrainingDiverged
from numgan.history import History
from numgan.objectives import OBJECTIVES

TOL = 1e-6


def make_gan(pack=1, activation="leaky_relu", n_classes=None, **kw):
    c = n_classes or 0
    G = mlp([3 + c, 6, 5, 2], activation=activation, out_activation="tanh", dtype=np.float64, seed=1)
    D = mlp([(2 + c) * pack, 7, 6, 1], activation=activation, dtype=np.float64, seed=2)
    return GAN(G, D, pack=pack, n_classes=n_classes, **kw)


def real_batch(n=8, seed=5):
    return np.random.default_rng(seed).standard_normal((n, 2))


def check_d_gradients(gan, x_real, labels=None):
    """d(D loss)/d(every weight of D), the noise (z, eps, instance noise) held fixed by reseeding."""
    record, grads = gan.discriminator_gradients(x_real, np.random.default_rng(0), labels)
    for name, p in gan.D.params.items():
        num = numerical_gradient(
            lambda _: gan.discriminator_gradients(x_real, np.random.default_rng(0), labels)[0]["d_loss"], p)
        assert rel_error(grads[name], num) < TOL, (name, rel_error(grads[name], num))
    return record


def check_g_gradients(gan, n=8):
    """d(G loss)/d(every weight of G) through D, z held fixed."""
    record, grads = gan.generator_gradients(n, np.random.default_rng(0))
    for name, p in gan.G.params.items():
        num = numerical_gradient(lambda _: gan.generator_gradients(n, np.random.default_rng(0))[0]["g_loss"], p)
        assert rel_error(grads[name], num) < TOL, (name, rel_error(grads[name], num))
    return record


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_discriminator_loss_gradients_end_to_end(objective):
    check_d_gradients(make_gan(objective=objective), real_batch())


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_generator_loss_gradients_end_to_end(objective):
    check_g_gradients(make_gan(objective=objective))


@pytest.mark.parametrize("penalty", ["wgan_gp", "r1"])
@pytest.mark.parametrize("activation", ["leaky_relu", "tanh"])
def test_penalised_discriminator_gradients_end_to_end(penalty, activation):
    gan = make_gan(objective="wasserstein" if penalty == "wgan_gp" else "non_saturating",
                   penalty=penalty, activation=activation, penalty_weight=3.0)
    record = check_d_gradients(gan, real_batch())
    assert record["penalty"] > 0


@pytest.mark.parametrize("penalty", ["wgan_gp", "r1"])
def test_lazy_penalty_gradients(penalty):
    """penalty_every=k: on steps that are multiples of k, the gradient of loss + k * penalty; else of the loss."""
    objective = "wasserstein" if penalty == "wgan_gp" else "non_saturating"
    lazy = make_gan(objective=objective, penalty=penalty, penalty_weight=1.5, penalty_every=3)
    heavy = make_gan(objective=objective, penalty=penalty, penalty_weight=4.5)   # 3 * 1.5
    plain = make_gan(objective=objective)
    x = real_batch()

    def d_loss(gan):
        return lambda _: gan.discriminator_gradients(x, np.random.default_rng(0))[0]["d_loss"]

    record, grads = lazy.discriminator_gradients(x, np.random.default_rng(0))       # step 0: penalised
    for name, p in lazy.D.params.items():
        num = numerical_gradient(d_loss(heavy), heavy.D.params[name])
        assert rel_error(grads[name], num) < TOL, (name, rel_error(grads[name], num))
    heavy_record = heavy.discriminator_gradients(x, np.random.default_rng(0))[0]
    np.testing.assert_allclose(record["penalty"], heavy_record["penalty"] / 3, rtol=1e-12)
    assert record["penalty"] > 0

    for step in (1, 2, 4):                                                            # not penalised
        lazy.step = step
        record, grads = lazy.discriminator_gradients(x, np.random.default_rng(0))
        for name, p in lazy.D.params.items():
            num = numerical_gradient(d_loss(plain), plain.D.params[name])
            assert rel_error(grads[name], num) < TOL, (step, name, rel_error(grads[name], num))
        assert np.isnan(record["penalty"])            # not computed on this step, so not recorded
        np.testing.assert_allclose(record["d_loss"], plain.discriminator_gradients(x, np.random.default_rng(0))[0]
                                   ["d_loss"], rtol=1e-12)


def test_lazy_penalty_trains_and_saves_penalty_every():
    gan = make_gan(penalty="r1", penalty_weight=1.0, penalty_every=4)
    rng = np.random.default_rng(0)
    penalties = [gan.train_step(real_batch(seed=s).astype(np.float64), rng)["penalty"] for s in range(9)]
    computed = [k for k, p in enumerate(penalties) if not np.isnan(p)]
    assert computed == [0, 4, 8] and penalties[0] != penalties[4]     # a lazy step records no penalty
    assert gan.config.penalty_every == 4 and gan.config.to_dict()["penalty_every"] == 4


@pytest.mark.parametrize("pack", [2, 4])
def test_packing_gradients_end_to_end(pack):
    gan = make_gan(pack=pack, penalty="wgan_gp", objective="wasserstein")
    check_d_gradients(gan, real_batch(8))
    check_g_gradients(make_gan(pack=pack), n=8)


@pytest.mark.parametrize("options", [{}, {"penalty": "wgan_gp", "objective": "wasserstein"}, {"penalty": "r1"},
                                     {"pack": 2}])
def test_conditional_gradients_end_to_end(options):
    gan = make_gan(n_classes=3, **options)
    labels = np.array([0, 1, 2, 2, 1, 0, 1, 1])
    check_d_gradients(gan, real_batch(), labels)
    check_g_gradients(gan)


def test_conditional_gan_uses_the_labels():
    gan = make_gan(n_classes=3)
    x = real_batch()
    a = gan.discriminator_gradients(x, np.random.default_rng(0), np.zeros(8, int))[0]["d_loss"]
    b = gan.discriminator_gradients(x, np.random.default_rng(0), np.full(8, 2))[0]["d_loss"]
    assert a != b
    by_class = gan.sample(6, rng=0, labels=np.array([0, 0, 1, 1, 2, 2]))
    assert by_class.shape == (6, 2)
    np.testing.assert_array_equal(gan.sample(3, rng=0), gan.sample(3, rng=0, labels=np.array([0, 1, 2])))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\), got maximum 3"):
        gan.train_step(x, np.random.default_rng(0), labels=np.array([0, 1, 2, 3, 0, 0, 0, 0]))
    with pytest.raises(ValueError, match="labels must be 8 integers for a conditional GAN, got None"):
        gan.train_step(x, np.random.default_rng(0))
    with pytest.raises(ValueError, match="labels are only for a conditional GAN"):
        make_gan().train_step(x, np.random.default_rng(0), labels=np.zeros(8, int))


def test_label_smoothing_and_instance_noise_gradients():
    gan = make_gan(label_smoothing=0.1, instance_noise=0.3)
    check_d_gradients(gan, real_batch())
    check_g_gradients(gan)


def test_label_smoothing_changes_the_real_target():
    x = real_batch()
    plain = make_gan().discriminator_gradients(x, np.random.default_rng(0))[0]["d_loss"]
    smooth = make_gan(label_smoothing=0.1).discriminator_gradients(x, np.random.default_rng(0))[0]["d_loss"]
    assert smooth != plain


def test_generator_step_leaves_D_unchanged_and_D_step_leaves_G_unchanged():
    gan = make_gan()
    G0, D0 = gan.G.flat_params.copy(), gan.D.flat_params.copy()
    gan.generator_step(8, np.random.default_rng(0))
    np.testing.assert_array_equal(gan.D.flat_params, D0)
    assert not np.array_equal(gan.G.flat_params, G0)
    G1 = gan.G.flat_params.copy()
    gan.discriminator_step(real_batch(), np.random.default_rng(0))
    np.testing.assert_array_equal(gan.G.flat_params, G1)
    assert not np.array_equal(gan.D.flat_params, D0)


def test_train_step_records_history_and_is_reproducible():
    runs = []
    for _ in range(2):
        gan = make_gan(d_steps=2, ema=0.9)
        rng = np.random.default_rng(3)
        history = History()
        for _ in range(4):
            record = gan.train_step(real_batch(16), rng)
            history(gan, record)
        runs.append((gan.G.flat_params.copy(), gan.G_ema.flat_params.copy(), history))
    assert set(record) == {"d_loss", "g_loss", "p_real", "p_fake", "d_grad_norm", "g_grad_norm", "penalty"}
    assert len(runs[0][2]["g_loss"]) == 4
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]
    assert gan.opt_D.t == 8 and gan.opt_G.t == 4  # two D steps per G step


def test_weight_clipping():
    gan = make_gan(objective="wasserstein", clip=0.01, d_lr=0.1)
    gan.train_step(real_batch(), np.random.default_rng(0))
    assert np.abs(gan.D.flat_params).max() <= 0.01
    assert np.abs(gan.D.flat_params).max() == pytest.approx(0.01)


def test_ema_follows_G():
    gan = make_gan(ema=0.5)
    before = gan.G_ema.flat_params.copy()
    gan.train_step(real_batch(), np.random.default_rng(0))
    np.testing.assert_allclose(gan.G_ema.flat_params, 0.5 * before + 0.5 * gan.G.flat_params)
    assert not np.array_equal(gan.sample(5, 0), gan.sample(5, 0, use_ema=False))


def test_instance_noise_decays_to_zero():
    gan = make_gan(instance_noise=0.5, instance_noise_steps=10)
    assert gan._noise_std() == 0.5
    gan.step = 5
    assert gan._noise_std() == pytest.approx(0.25)
    gan.step = 20
    assert gan._noise_std() == 0.0


def test_divergence_stops_with_the_step_and_keeps_the_weights():
    gan = make_gan()
    rng = np.random.default_rng(0)
    gan.train_step(real_batch(), rng)
    gan.G.params["0.W"][0, 0] = np.nan
    D_before = gan.D.flat_params.copy()
    with pytest.raises(TrainingDiverged, match=r"training diverged at step 2: d_loss is nan"):
        gan.train_step(real_batch(), rng)
    np.testing.assert_array_equal(gan.D.flat_params, D_before)
    assert gan.step == 1


@pytest.mark.parametrize("kwargs, error, message", [
    ({"objective": "vanilla"}, ValueError, r"objective must be one of \['minimax', 'non_saturating'"),
    ({"penalty": "l2"}, ValueError, r"penalty must be one of \[None, 'wgan_gp', 'r1'\], got 'l2'"),
    ({"g_lr": 0}, ValueError, r"lr must be a positive number, got 0"),
    ({"d_steps": 0}, ValueError, r"d_steps must be an integer >= 1, got 0"),
    ({"label_smoothing": 0.1, "objective": "hinge"}, ValueError, r"label_smoothing needs a cross-entropy objective"),
    ({"ema": 1.0}, ValueError, r"ema must be in \(0.0, 1.0\), got 1.0"),
    ({"clip": -1}, ValueError, r"clip must be a positive number, got -1"),
    ({"penalty_every": 0, "penalty": "r1"}, ValueError, r"penalty_every must be an integer >= 1, got 0"),
    ({"penalty_every": 2}, ValueError, r"penalty_every needs a penalty \('wgan_gp' or 'r1'\), got penalty_every=2"),
])
def test_gan_option_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_gan(**kwargs)


def test_gan_shape_errors():
    G = mlp([3, 4, 2], seed=0)
    with pytest.raises(ValueError, match=r"discriminator must take pack \* \(data_dim \+ n_classes\) = 2 \* \(2 \+ 0\) = 4 inputs, got 2"):
        GAN(G, mlp([2, 4, 1], seed=0), pack=2)
    with pytest.raises(TypeError, match="generator and discriminator must share one dtype"):
        GAN(G, mlp([2, 4, 1], seed=0, dtype=np.float64))
    gan = GAN(G, mlp([2, 4, 1], seed=0), d_steps=2)
    with pytest.raises(ValueError, match=r"x_real must have d_steps \* batch rows .* got 5 rows"):
        gan.train_step(np.zeros((5, 2), np.float32), np.random.default_rng(0))
    with pytest.raises(TypeError, match="x_real must have dtype float32"):
        gan.train_step(np.zeros((4, 2)), np.random.default_rng(0))


def test_steps_reuse_one_gradient_buffer_per_network():
    """The training step allocates no parameter-sized gradient arrays: it reuses one per network."""
    gan = make_gan()
    rng = np.random.default_rng(0)
    buffers = (gan._grad_G, gan._grad_D)
    gan.train_step(real_batch(), rng)
    gan.train_step(real_batch(), rng)
    assert gan._grad_G is buffers[0] and gan._grad_D is buffers[1]
    _, grads = gan.discriminator_gradients(real_batch(), rng)        # public calls get fresh arrays
    assert not np.shares_memory(grads["0.W"], gan._grad_D)
