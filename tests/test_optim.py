"""SGD and Adam against hand-computed three-step references; state round trips."""
import math

import numpy as np
import pytest

from numgan import SGD, Adam, mlp

GRADS = [np.array([0.5, -1.0]), np.array([0.25, 2.0]), np.array([-1.0, 0.5])]
P0 = np.array([1.0, -2.0])


def scalar_adam(p, grads, lr, b1, b2, eps, wd=0.0):
    """Adam written out with Python floats, one parameter at a time."""
    out = []
    for i in range(len(p)):
        x, m, v = float(p[i]), 0.0, 0.0
        for t, g in enumerate(grads, start=1):
            gi = float(g[i]) + wd * x
            m = b1 * m + (1 - b1) * gi
            v = b2 * v + (1 - b2) * gi * gi
            m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
            x = x - lr * m_hat / (math.sqrt(v_hat) + eps)
        out.append(x)
    return np.array(out)


def run(opt_cls, grads=GRADS, **kw):
    p = P0.copy()
    opt = opt_cls({"p": p}, **kw)
    for g in grads:
        opt.step({"p": g.copy()})
    return p, opt


def test_adam_first_step_moves_each_weight_by_lr():
    # with bias correction, m_hat = g and v_hat = g^2 at t = 1: the step is lr * g / (|g| + eps)
    p, opt = run(Adam, GRADS[:1], lr=0.1)
    np.testing.assert_allclose(p, [1.0 - 0.1, -2.0 + 0.1], rtol=1e-7)
    assert opt.t == 1


def test_adam_three_steps_by_hand():
    # The first weight (p0 = 1, grads 0.5, 0.25, -1), lr = 0.1, betas (0.5, 0.999), eps = 1e-8,
    # worked out step by step:
    #   t  m       v             m_hat    v_hat         p
    #   1  0.25    0.00025       0.5      0.25          1 - 0.1 * 0.5 / 0.5               = 0.900000002
    #   2  0.25    0.00031225    1/3      0.156203...   0.9 - 0.1 * (1/3) / 0.395225...   = 0.815659941...
    #   3  -0.375  0.00131193775 -3/7     0.437750...   0.8157 + 0.1 * (3/7) / 0.661627... = 0.880435331...
    p, opt = run(Adam, lr=0.1, betas=(0.5, 0.999), eps=1e-8)
    assert p[0] == pytest.approx(0.8804353317588723, rel=1e-12)
    assert opt.state_dict()["m.p"][0] == pytest.approx(-0.375)
    assert opt.state_dict()["v.p"][0] == pytest.approx(0.00131193775)
    np.testing.assert_allclose(p, scalar_adam(P0, GRADS, 0.1, 0.5, 0.999, 1e-8), rtol=1e-12)


def test_adam_with_weight_decay_and_eps():
    p, _ = run(Adam, lr=0.01, betas=(0.9, 0.99), eps=1e-3, weight_decay=0.1)
    np.testing.assert_allclose(p, scalar_adam(P0, GRADS, 0.01, 0.9, 0.99, 1e-3, 0.1), rtol=1e-12)


def test_sgd_three_steps_by_hand():
    p, _ = run(SGD, lr=0.1)
    np.testing.assert_allclose(p, P0 - 0.1 * sum(GRADS))
    np.testing.assert_allclose(p, [1.025, -2.15])


def test_sgd_momentum_three_steps_by_hand():
    # v1 = g1, v2 = 0.9 v1 + g2, v3 = 0.9 v2 + g3;  p3 = p0 - lr (v1 + v2 + v3)
    p, _ = run(SGD, lr=0.1, momentum=0.9)
    v1 = GRADS[0]
    v2 = 0.9 * v1 + GRADS[1]
    v3 = 0.9 * v2 + GRADS[2]
    np.testing.assert_allclose(p, P0 - 0.1 * (v1 + v2 + v3))
    np.testing.assert_allclose(p, [1.0 - 0.1 * (0.5 + 0.7 + (-0.37)), -2.0 - 0.1 * (-1.0 + 1.1 + 1.49)])


def test_sgd_nesterov_three_steps_by_hand():
    p, _ = run(SGD, lr=0.1, momentum=0.9, nesterov=True)
    v, expected = np.zeros(2), P0.copy()
    for g in GRADS:
        v = 0.9 * v + g
        expected = expected - 0.1 * (g + 0.9 * v)
    np.testing.assert_allclose(p, expected)


@pytest.mark.parametrize("make", [lambda p: Adam(p, lr=1e-2), lambda p: SGD(p, lr=1e-2, momentum=0.9)])
def test_flat_and_per_array_updates_agree(make, rng):
    """A Sequential's params (one flat buffer) and separate copies take the same steps."""
    net = mlp([3, 4, 2], dtype=np.float64, seed=0)
    separate = {k: v.copy() for k, v in net.params.items()}
    opt_flat, opt_sep = make(net.params), make(separate)
    for _ in range(3):
        y, cache = net.forward(rng.standard_normal((5, 3)))
        _, grads = net.backward(rng.standard_normal(y.shape), cache)
        opt_flat.step(grads)
        opt_sep.step({k: g.copy() for k, g in grads.items()})
    for k in separate:
        np.testing.assert_allclose(net.params[k], separate[k], rtol=1e-12)


@pytest.mark.parametrize("make", [lambda p: Adam(p, lr=1e-2, weight_decay=0.01),
                                  lambda p: SGD(p, lr=1e-2, momentum=0.5, nesterov=True)])
def test_state_dict_round_trip_gives_identical_steps(make):
    a = P0.copy()
    opt_a = make({"p": a})
    for g in GRADS[:2]:
        opt_a.step({"p": g})
    state = opt_a.state_dict()
    assert all(isinstance(v, (int, float, bool, np.ndarray)) for v in state.values())
    b = a.copy()
    opt_b = make({"p": b})
    opt_b.load_state_dict(state)
    opt_a.step({"p": GRADS[2]})
    opt_b.step({"p": GRADS[2]})
    np.testing.assert_array_equal(a, b)
    assert opt_b.t == 3


def test_state_is_per_network():
    n1, n2 = mlp([2, 3, 1], seed=0), mlp([2, 3, 1], seed=0)
    o1, o2 = Adam(n1.params), Adam(n2.params)
    g = {k: np.ones_like(v) for k, v in n1.params.items()}
    o1.step(g)
    assert o2.t == 0 and all(np.all(v == 0) for k, v in o2.state_dict().items() if k.startswith("m."))
    np.testing.assert_array_equal(n2.flat_params, mlp([2, 3, 1], seed=0).flat_params)


def test_float32_updates_stay_float32():
    net = mlp([2, 3, 1], seed=0)
    opt = Adam(net.params)
    opt.step({k: np.ones_like(v) for k, v in net.params.items()})
    assert net.flat_params.dtype == np.float32
    assert all(v.dtype == np.float32 for k, v in opt.state_dict().items() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("make", [
    lambda p: Adam(p, lr=1e-3, betas=(0.5, 0.999)),
    lambda p: Adam(p, lr=1e-3, weight_decay=0.01),
    lambda p: SGD(p, lr=1e-2, momentum=0.9, nesterov=True),
    lambda p: SGD(p, lr=1e-2),
])
@pytest.mark.parametrize("block", [1, 7, 64, 100])
def test_updates_in_blocks_are_bit_identical_to_one_update_of_the_whole_buffers(make, block, rng):
    """The block loop changes where the formulas run, never what they compute (block sizes that cut the
    flat buffer and its arrays at odd places, down to one element)."""
    nets = [mlp([5, 13, 9, 3], seed=3) for _ in range(2)]
    blocked, whole = make(nets[0].params), make(nets[1].params)
    blocked.block_size, whole.block_size = block, 1 << 40
    assert nets[0].params.flat.size > block          # the loop does cut the buffer
    for _ in range(4):
        grads = nets[0].params.like()
        grads.flat[...] = rng.standard_normal(grads.flat.size)
        blocked.step(grads)
        whole.step(grads)
        assert np.array_equal(nets[0].params.flat, nets[1].params.flat)
        for s in blocked.state:
            assert np.array_equal(blocked.state[s].flat, whole.state[s].flat)
    # per-array updates (plain dicts) go through the same loop
    plain = {name: np.asarray(g) for name, g in nets[0].params.like().items()}
    for name in plain:
        plain[name][...] = rng.standard_normal(plain[name].shape)
    blocked.step(plain)
    whole.step(plain)
    assert np.array_equal(nets[0].params.flat, nets[1].params.flat)


def test_a_non_contiguous_parameter_is_updated_in_place_not_through_a_copy():
    W = np.zeros((6, 8), dtype=np.float32)[:, ::2]              # a strided view: its flat form is a copy
    opt = SGD({"W": W}, lr=1.0)
    opt.block_size = 5
    opt.step({"W": np.ones((6, 4), dtype=np.float32)})
    assert np.array_equal(W, -np.ones((6, 4), dtype=np.float32))
