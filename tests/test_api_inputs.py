"""No silent acceptance in the API (issue #14, item 5): each bad input raises, naming the argument."""
import json

import numpy as np
import pytest

from numgan import mlp
from numgan._checks import check_in_range, check_int, check_positive
from numgan.checkpoint import read_checkpoint, save_checkpoint
from numgan.gan import GAN, TrainingDiverged
from numgan.gradcheck import numerical_gradient
from numgan.layers import Dense, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from numgan.losses import bce_with_logits, mse, softmax_cross_entropy
from numgan.optim import SGD, Adam


def make_gan(**kw):
    G = mlp([3, 6, 2], out_activation="tanh", dtype=np.float64, seed=1)
    D = mlp([2, 7, 1], dtype=np.float64, seed=2)
    return GAN(G, D, **kw)


# -- numerical_gradient --------------------------------------------------------------------------

@pytest.mark.parametrize("x", [np.array([1, 2, 3]), np.array([1, 2, 3], dtype=np.int8), np.array([True, False])])
def test_numerical_gradient_refuses_integer_and_bool_arrays(x):
    with pytest.raises(TypeError, match=rf"x must be a floating numpy array .*got dtype {x.dtype.name}.*"
                                        r"x\.astype\(np\.float64\)"):
        numerical_gradient(lambda v: float(np.sum(v ** 2)), x)


def test_numerical_gradient_on_the_float64_array_is_right():
    x = np.array([1, 2, 3]).astype(np.float64)
    np.testing.assert_allclose(numerical_gradient(lambda v: float(np.sum(v ** 2)), x), [2, 4, 6], rtol=1e-8)


# -- layers --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.int32, np.int64, bool, "U3"])
def test_dense_refuses_a_non_floating_dtype(dtype):
    with pytest.raises(TypeError, match=r"dtype must be a floating dtype \(float32 or float64\), got"):
        Dense(2, 3, dtype=dtype)


def test_layer_astype_refuses_a_non_floating_dtype():
    with pytest.raises(TypeError, match=r"dtype must be a floating dtype .*got int32"):
        Dense(2, 3, rng=0).astype(np.int32)


@pytest.mark.parametrize("layer", [LeakyReLU(0.2), ReLU(), Sigmoid(), Tanh(), Identity()],
                         ids=lambda layer: type(layer).__name__)
@pytest.mark.parametrize("bad_shape", [(1, 3), (2, 1), (3,), (2, 3, 1)])
def test_activation_backward_refuses_dy_of_another_shape(layer, bad_shape):
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    _, cache = layer.forward(x)
    with pytest.raises(ValueError, match=r"dy must have the shape of the layer's output \(2, 3\), got "
                                         + repr(bad_shape).replace("(", r"\(").replace(")", r"\)")):
        layer.backward(np.ones(bad_shape, np.float32), cache)
    dx, _ = layer.backward(np.ones((2, 3), np.float32), cache)   # the right shape still works
    assert dx.shape == (2, 3)


def test_activation_backward_refuses_a_non_array_dy():
    _, cache = Tanh().forward(np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"dy must be a numpy array .*\(2, 3\), got list"):
        Tanh().backward([[1.0] * 3] * 2, cache)


def test_dense_backward_refuses_dy_with_another_batch():
    layer = Dense(2, 3, rng=0)
    _, cache = layer.forward(np.ones((4, 2), np.float32))
    with pytest.raises(ValueError, match=r"dy must have the shape of the layer's output \(4, 3\), got \(5, 3\)"):
        layer.backward(np.ones((5, 3), np.float32), cache)


# -- losses --------------------------------------------------------------------------------------

S = np.array([[2.0], [-1.0], [0.5]])


@pytest.mark.parametrize("targets", [5.0, -0.5, 1.5, np.nan, np.inf])
def test_bce_refuses_scalar_targets_outside_0_1(targets):
    with pytest.raises(ValueError, match=r"targets must be in \[0\.0, 1\.0\], got"):
        bce_with_logits(S, targets)


@pytest.mark.parametrize("targets", [np.array([[0.0], [1.0], [2.0]]), np.array([[0.0], [-1e-3], [1.0]]),
                                     np.array([[0.0], [np.nan], [1.0]])])
def test_bce_refuses_array_targets_outside_0_1(targets):
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\] \(probabilities\), got values from"):
        bce_with_logits(S, targets)


@pytest.mark.parametrize("targets", ["1", b"1", True, None, [1.0, 0.0, 1.0]])
def test_bce_refuses_targets_that_are_not_numbers(targets):
    with pytest.raises(TypeError, match=r"targets must be a number in \[0, 1\] or a floating array"):
        bce_with_logits(S, targets)


@pytest.mark.parametrize("target", ["1", True, None])
def test_mse_refuses_a_target_that_is_not_a_number(target):
    with pytest.raises(TypeError, match=r"target must be a number or a floating array of the shape of pred"):
        mse(S, target)


def test_losses_accept_numpy_scalars_with_the_same_result():
    assert bce_with_logits(S, np.float32(0.9))[0] == bce_with_logits(S, 0.8999999761581421)[0]
    assert bce_with_logits(S, np.int64(1))[0] == bce_with_logits(S, 1.0)[0]
    assert mse(S, np.float64(3.0))[0] == mse(S, 3.0)[0]
    assert mse(S, -7.0)[0] > 0   # mse targets are any real number


@pytest.mark.parametrize("call, name", [
    (lambda: bce_with_logits(np.zeros((0, 1)), 1.0), "logits"),
    (lambda: bce_with_logits(np.zeros((0, 1)), np.zeros((0, 1))), "logits"),
    (lambda: mse(np.zeros((0, 1)), 0.0), "pred"),
    (lambda: softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, np.int64)), "logits"),
])
def test_losses_refuse_empty_arrays(call, name):
    with pytest.raises(ValueError, match=rf"{name} must hold at least one element, got an empty array of shape"):
        call()


# -- numpy scalars are plain numbers --------------------------------------------------------------

def test_checks_return_plain_python_numbers():
    assert type(check_positive(np.float32(0.5), "x")) is float
    assert type(check_in_range(np.float64(0.5), "x", 0, 1)) is float
    assert type(check_in_range(np.int32(1), "x", 0, 1)) is float
    assert type(check_int(np.int64(3), "n")) is int


def test_optimizers_store_plain_floats():
    net = mlp([2, 3, 1], dtype=np.float32, seed=0)
    adam = Adam(net.params, lr=np.float32(1e-3), betas=(np.float32(0.5), np.float64(0.9)), eps=np.float32(1e-7),
                weight_decay=np.float32(0.0))
    sgd = SGD(net.params, lr=np.float32(0.1), momentum=np.float32(0.5), nesterov=np.bool_(True))
    for opt in (adam, sgd):
        numbers = {k: v for k, v in opt.state_dict().items() if not isinstance(v, np.ndarray)}
        assert all(type(v) in (int, float, bool) for v in numbers.values()), numbers
        json.dumps(numbers)


def test_numpy_scalar_options_are_saved_as_plain_floats(tmp_path):
    gan = make_gan(g_lr=np.float32(1e-3), d_lr=np.float64(2e-3), betas=(np.float32(0.5), np.float32(0.9)),
                   d_steps=np.int64(2), clip=np.float32(0.5), ema=np.float32(0.9))
    rng = np.random.default_rng(0)
    gan.train_step(np.random.default_rng(1).standard_normal((8, 2)), rng)
    path = save_checkpoint(tmp_path / "ck.npz", gan, rng)
    meta, _ = read_checkpoint(path)
    assert meta["config"]["g_lr"] == float(np.float32(1e-3)) and meta["config"]["d_steps"] == 2
    assert meta["opt_G"]["lr"] == float(np.float32(1e-3))


# -- the training step ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_train_step_blames_a_non_finite_batch_not_training(bad):
    gan = make_gan()
    D_before, G_before = gan.D.flat_params.copy(), gan.G.flat_params.copy()
    x = np.random.default_rng(1).standard_normal((8, 2))
    x[5, 1] = bad
    with pytest.raises(ValueError, match=rf"x_real must be finite, got 1 NaN or inf entries \(the first at "
                                         rf"\(5, 1\): {bad}\)"):
        gan.train_step(x, np.random.default_rng(0))
    np.testing.assert_array_equal(gan.D.flat_params, D_before)
    np.testing.assert_array_equal(gan.G.flat_params, G_before)
    assert gan.step == 0


def _diverge_on_call(gan, method, call):
    """Make ``gan.<method>`` report a NaN loss on its ``call``-th call (1-based)."""
    real = getattr(gan, method)
    calls = []

    def wrapped(*args, **kwargs):
        record, grads = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == call:
            record = {**record, "d_loss" if method.startswith("d") else "g_loss": float("nan")}
        return record, grads

    setattr(gan, method, wrapped)


def test_training_diverged_counts_the_d_updates_applied():
    gan = make_gan(d_steps=3)
    rng = np.random.default_rng(0)
    x = np.random.default_rng(1).standard_normal((12, 2))
    reference = make_gan(d_steps=3)   # the same GAN, stepped by hand through the 2 D updates that go through
    ref_rng = np.random.default_rng(0)
    for k in range(2):
        reference.discriminator_step(x[4 * k:4 * (k + 1)], ref_rng)
    G_before = gan.G.flat_params.copy()
    _diverge_on_call(gan, "discriminator_gradients", 3)
    with pytest.raises(TrainingDiverged, match=r"^training diverged at step 1: d_loss is nan; 2 of the 3 D updates "
                                               r"of step 1 were applied; G was not updated$") as info:
        gan.train_step(x, rng)
    assert (info.value.step, info.value.d_updates_applied, info.value.d_steps) == (1, 2, 3)
    np.testing.assert_array_equal(gan.D.flat_params, reference.D.flat_params)
    np.testing.assert_array_equal(gan.G.flat_params, G_before)
    assert (gan.opt_D.t, gan.opt_G.t, gan.step) == (2, 0, 0)


@pytest.mark.parametrize("d_steps, call, method, message", [
    (3, 1, "discriminator_gradients", r"no update of step 1 was applied \(0 of the 3 D updates; G was not updated\)"),
    (3, 1, "generator_gradients", r"3 of the 3 D updates of step 1 were applied; G was not updated"),
    (1, 1, "generator_gradients", r"the D update of step 1 was applied; G was not updated"),
    (1, 1, "discriminator_gradients", r"d_loss is nan; no update of step 1 was applied$"),
])
def test_training_diverged_message_is_exact(d_steps, call, method, message):
    gan = make_gan(d_steps=d_steps)
    _diverge_on_call(gan, method, call)
    with pytest.raises(TrainingDiverged, match=message):
        gan.train_step(np.random.default_rng(1).standard_normal((4 * d_steps, 2)), np.random.default_rng(0))
    applied = d_steps if method == "generator_gradients" else call - 1
    assert (gan.opt_D.t, gan.opt_G.t) == (applied, 0)


def test_a_lone_update_that_diverges_says_it_was_not_applied():
    gan = make_gan()
    _diverge_on_call(gan, "generator_gradients", 1)
    with pytest.raises(TrainingDiverged, match=r"g_loss is nan; this G update of step 1 was not applied$"):
        gan.generator_step(4, np.random.default_rng(0))


@pytest.mark.parametrize("final", [-1.0, float("nan"), 1.5, "0.5"])
def test_linear_decay_refuses_a_final_fraction_outside_0_1(final):
    from numgan.train import LinearDecay
    with pytest.raises((ValueError, TypeError), match="final must be"):
        LinearDecay(0, 10, final=final)
    assert LinearDecay(0, 10, final=np.float32(0.5)).final == 0.5
