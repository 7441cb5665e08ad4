"""Sequential, mlp and the seed presets: gradients, the flat buffer, dtypes."""
import numpy as np
import pytest

from numgan import (Dense, LeakyReLU, Sequential, Sigmoid, Tanh, ReLU, Identity, check_network, mlp,
                    seed_discriminator, seed_generator)
from numgan.layers import Layer
from numgan.flat import FlatParams


def six_layer_net(dtype=np.float64):
    rng = np.random.default_rng(0)
    return Sequential([
        Dense(4, 7, dtype=dtype, rng=rng), LeakyReLU(0.2),
        Dense(7, 6, init="glorot", dtype=dtype, rng=rng), Tanh(),
        Dense(6, 5, init="he_uniform", dtype=dtype, rng=rng), ReLU(),
        Dense(5, 5, init="glorot_uniform", dtype=dtype, rng=rng), Identity(),
        Dense(5, 3, dtype=dtype, rng=rng), Sigmoid(),
    ])


def test_sequential_of_mixed_activations_gradients(rng):
    net = six_layer_net()
    report = check_network(net, rng.standard_normal((5, 4)))
    assert [e.name for e in report.entries] == ["x", "0.W", "0.b", "2.W", "2.b", "4.W", "4.b",
                                                "6.W", "6.b", "8.W", "8.b"]
    assert report.ok, str(report)


@pytest.mark.parametrize("out_activation", [None, "sigmoid", "tanh"])
@pytest.mark.parametrize("activation", ["leaky_relu", "relu", "tanh", "sigmoid"])
def test_mlp_gradients(rng, activation, out_activation):
    net = mlp([3, 8, 8, 2], activation, out_activation, dtype=np.float64, seed=1)
    assert check_network(net, rng.standard_normal((4, 3))).ok


def test_seed_generator_gradients(rng):
    G = seed_generator(z_dim=4, out_dim=2, dtype=np.float64, seed=0)
    widths = [layer.out_features for layer in G.layers if isinstance(layer, Dense)]
    assert widths == [128, 256, 512, 1024, 1024, 512, 256, 128, 64, 32, 2]
    assert isinstance(G.layers[-1], Sigmoid)
    report = check_network(G, rng.standard_normal((3, 4)), max_entries=12)
    assert len(report.entries) == 1 + 2 * 11
    assert report.ok, str(report)


def test_seed_discriminator_gradients(rng):
    D = seed_discriminator(in_dim=2, dtype=np.float64, seed=0)
    widths = [layer.out_features for layer in D.layers if isinstance(layer, Dense)]
    assert widths == [1024, 512, 256, 128, 64, 32, 1]
    assert isinstance(D.layers[-1], Dense)  # it returns the logit
    report = check_network(D, rng.standard_normal((3, 2)), max_entries=12)
    assert report.ok, str(report)


def test_params_live_in_one_flat_buffer():
    net = mlp([3, 5, 2], seed=0)
    assert list(net.params) == ["0.W", "0.b", "2.W", "2.b"]
    assert net.n_params == 3 * 5 + 5 + 5 * 2 + 2
    assert isinstance(net.params, FlatParams) and net.params.flat is net.flat_params
    assert np.shares_memory(net.params["2.W"], net.flat_params)
    net.flat_params[:] = 0.5
    assert np.all(net.layers[0].params["W"] == 0.5)  # the layers see the buffer


def test_backward_grads_tile_a_fresh_buffer_each_call(rng):
    net = mlp([3, 5, 2], dtype=np.float64, seed=0)
    x = rng.standard_normal((4, 3))
    y, cache = net.forward(x)
    _, g1 = net.backward(np.ones_like(y), cache)
    _, g2 = net.backward(2 * np.ones_like(y), cache)
    assert isinstance(g1, FlatParams) and g1.same_layout(net.params)
    assert not np.shares_memory(g1.flat, g2.flat)
    np.testing.assert_allclose(g2["0.W"], 2 * g1["0.W"])  # g1 was not overwritten
    assert list(g1) == list(net.params)


def test_flat_params_names_views_of_one_buffer():
    p = FlatParams(np.arange(7.0), {"a": (2, 2), "b": (3,)})
    np.testing.assert_array_equal(p["a"], [[0, 1], [2, 3]])
    p["b"][...] = -1                                  # writing through a name writes the buffer
    np.testing.assert_array_equal(p.flat, [0, 1, 2, 3, -1, -1, -1])
    q = p.zeros_like()
    q.flat += p.flat                                   # one operation on every named array
    np.testing.assert_array_equal(q["a"], p["a"])
    assert q.same_layout(p) and not FlatParams(np.zeros(7), {"b": (3,), "a": (2, 2)}).same_layout(p)
    with pytest.raises(TypeError):
        p["a"] = np.zeros((2, 2))                      # names cannot be rebound
    with pytest.raises(ValueError, match=r"flat must hold 7 numbers"):
        FlatParams(np.zeros(6), {"a": (2, 2), "b": (3,)})


def test_mlp_is_reproducible_from_a_seed():
    a, b = mlp([3, 5, 2], seed=7), mlp([3, 5, 2], seed=7)
    np.testing.assert_array_equal(a.flat_params, b.flat_params)
    assert not np.array_equal(a.flat_params, mlp([3, 5, 2], seed=8).flat_params)


def test_float32_and_float64_nets_from_one_seed_agree():
    a, b = mlp([3, 5, 2], seed=7, dtype=np.float32), mlp([3, 5, 2], seed=7, dtype=np.float64)
    np.testing.assert_allclose(a.flat_params, b.flat_params, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_through_forward_and_backward(rng, dtype):
    net = six_layer_net(dtype)
    x = rng.standard_normal((5, 4)).astype(dtype)
    y, cache = net.forward(x)
    dx, grads = net.backward(np.ones_like(y), cache)
    assert y.dtype == dtype and dx.dtype == dtype
    assert all(g.dtype == dtype for g in grads.values())
    assert all(a.dtype == dtype for c in cache if isinstance(c, np.ndarray) for a in [c])


def test_init_scales(rng):
    net = mlp([1000, 1000, 1000], init="he", alpha=0.0, activation="relu", seed=0, dtype=np.float64)
    assert net.params["0.W"].std() == pytest.approx(np.sqrt(2 / 1000), rel=0.01)
    net = mlp([1000, 1000, 1000], init="glorot_uniform", seed=0, dtype=np.float64)
    W = net.params["0.W"]
    assert W.std() == pytest.approx(np.sqrt(2 / 2000), rel=0.01)
    assert np.abs(W).max() <= np.sqrt(6 / 2000)
    assert np.all(net.params["0.b"] == 0)


def test_astype_copies(rng):
    net = mlp([3, 5, 2], seed=0)
    net64 = net.astype(np.float64)
    assert net64.dtype == np.float64 and net.dtype == np.float32
    net64.flat_params[:] = 0
    assert np.any(net.flat_params != 0)


def test_input_grad_false_skips_dx_and_keeps_the_grads(rng):
    net = six_layer_net()
    x = rng.standard_normal((5, 4))
    y, cache = net.forward(x)
    dy = rng.standard_normal(y.shape)
    dx_full, full = net.backward(dy, cache)
    dx, grads = net.backward(dy, cache, input_grad=False)
    assert dx is None and dx_full.shape == x.shape
    for name in full:
        np.testing.assert_array_equal(grads[name], full[name])
    with pytest.raises(ValueError, match="computes nothing"):
        net.backward(dy, cache, param_grads=False, input_grad=False)


def test_a_layer_returning_new_grad_arrays_is_not_ignored(rng):
    """A custom layer may return fresh arrays rather than fill ``out``: Sequential must use them."""
    class FreshDense(Dense):
        def backward(self, dy, cache, *, param_grads=True, out=None, input_grad=True):
            return super().backward(dy, cache, param_grads=param_grads, input_grad=input_grad)

    net = Sequential([FreshDense(3, 4, dtype=np.float64, rng=0), Tanh(), FreshDense(4, 2, dtype=np.float64, rng=1)])
    assert check_network(net, rng.standard_normal((5, 3))).ok


def test_a_layer_with_the_plain_contract_works_in_a_sequential(rng):
    """``backward(dy, cache, param_grads=True)``, without the optional out / input_grad, is enough."""
    class PlainTanh(Layer):
        def forward(self, x):
            y = np.tanh(x)
            return y, y

        def backward(self, dy, cache, param_grads=True):
            return dy * (1 - cache ** 2), {}

    net = Sequential([Dense(3, 4, dtype=np.float64, rng=0), PlainTanh(), Dense(4, 2, dtype=np.float64, rng=1)])
    assert check_network(net, rng.standard_normal((5, 3))).ok


def test_a_dense_layer_with_the_plain_contract_works_in_a_sequential(rng):
    """A layer with parameters written as ``backward(dy, cache, param_grads=True)``, returning new arrays,
    and one written as ``backward(dy, cache)`` alone: no speed options, no signature probing."""
    class PlainDense(Layer):
        def __init__(self, n_in, n_out, seed):
            super().__init__()
            r = np.random.default_rng(seed)
            self.params = {"W": r.standard_normal((n_in, n_out)), "b": r.standard_normal(n_out)}

        def forward(self, x):
            return x @ self.params["W"] + self.params["b"], x

        def backward(self, dy, cache, param_grads=True):
            grads = {"W": cache.T @ dy, "b": dy.sum(axis=0)} if param_grads else {}
            return dy @ self.params["W"].T, grads

    class TwoArgumentTanh(Layer):
        def forward(self, x):
            y = np.tanh(x)
            return y, y

        def backward(self, dy, cache):
            return dy * (1 - cache ** 2), {}

    net = Sequential([PlainDense(3, 4, 0), TwoArgumentTanh(), PlainDense(4, 2, 1)])
    assert list(net.params) == ["0.W", "0.b", "2.W", "2.b"]
    assert check_network(net, rng.standard_normal((5, 3))).ok
    x = rng.standard_normal((5, 3))
    y, cache = net.forward(x)
    dx, grads = net.backward(np.ones_like(y), cache, param_grads=False)
    assert grads == {} and dx.shape == x.shape


def test_a_layer_returning_the_wrong_grads_is_named(rng):
    class Forgetful(Dense):
        takes_speed_options = False

        def backward(self, dy, cache, *, param_grads=True):
            dx, grads = super().backward(dy, cache, param_grads=param_grads)
            return dx, {"W": grads["W"]} if param_grads else {}

    net = Sequential([Forgetful(3, 2, dtype=np.float64, rng=0)])
    y, cache = net.forward(rng.standard_normal((4, 3)))
    with pytest.raises(ValueError, match=r"layer 0 \(Dense\(3, 2\)\) must return grads for \['W', 'b'\], got \['W'\]"):
        net.backward(np.ones_like(y), cache)


def test_grad_buffer_receives_the_grads(rng):
    net = mlp([3, 5, 2], dtype=np.float64, seed=0)
    y, cache = net.forward(rng.standard_normal((4, 3)))
    buffer = net.params.like()
    _, grads = net.backward(np.ones_like(y), cache, out=buffer)
    assert grads is buffer
    _, fresh = net.backward(np.ones_like(y), cache)
    np.testing.assert_array_equal(buffer.flat, fresh.flat)
    with pytest.raises(ValueError, match=r"out must be a FlatParams laid out like this network's params"):
        net.backward(np.ones_like(y), cache, out=FlatParams(np.empty(32, np.float32), net.params.shapes))


def test_importing_numgan_first_lets_openblas_threads_sleep():
    """numgan sets OPENBLAS_THREAD_TIMEOUT (docs/performance.md) before NumPy loads, unless the user set it."""
    import os
    import subprocess
    import sys
    show = "import os; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}

    def run(code, **extra):
        out = subprocess.run([sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()
    assert run(f"import numgan; {show}") == "4"
    assert run(f"import numgan; {show}", OPENBLAS_THREAD_TIMEOUT="10") == "10"
    assert run(f"import numpy, numgan; {show}") == "None"     # too late to matter: left alone


def test_a_dense_subclass_with_the_plain_contract_is_called_plainly(rng):
    """``takes_speed_options`` goes with the backward it describes: a subclass that rewrites backward to the
    plain contract does not inherit Dense's declaration (and is not handed out= or input_grad=)."""
    class PlainBackwardDense(Dense):
        def backward(self, dy, cache, *, param_grads=True):
            dx, grads = super().backward(dy, cache, param_grads=param_grads)
            return dx, {k: v.copy() for k, v in grads.items()}

    assert Dense.backward_takes_speed_options() and not PlainBackwardDense.backward_takes_speed_options()
    assert not Tanh.backward_takes_speed_options()
    net = Sequential([PlainBackwardDense(3, 4, dtype=np.float64, rng=0), Tanh(), Dense(4, 2, dtype=np.float64, rng=1)])
    assert check_network(net, rng.standard_normal((5, 3))).ok
