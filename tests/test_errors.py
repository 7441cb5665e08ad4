"""Bad input raises ValueError / TypeError naming the argument, the expected and the received value."""
import numpy as np
import pytest

from numgan import SGD, Adam, Dense, LeakyReLU, Sequential, bce_with_logits, mlp, softmax_cross_entropy
from numgan.init import init_weight


def test_wrong_input_width():
    net = mlp([3, 4, 2], seed=0)
    with pytest.raises(ValueError, match=r"x must have 3 columns, got shape \(5, 4\)"):
        net.forward(np.zeros((5, 4), np.float32))


def test_non_2d_input():
    with pytest.raises(ValueError, match=r"x must be 2-D .* got shape \(3,\)"):
        mlp([3, 4, 2], seed=0).forward(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"x must be 2-D"):
        Dense(3, 2).forward(np.zeros((1, 2, 3), np.float32))


def test_mixed_dtypes_are_refused():
    with pytest.raises(TypeError, match="x must have dtype float32 like the network, got float64"):
        mlp([3, 4, 2], seed=0).forward(np.zeros((2, 3)))


def test_non_array_input():
    with pytest.raises(TypeError, match="x must be a numpy array, got list"):
        mlp([3, 4, 2], seed=0).forward([[1.0, 2.0, 3.0]])


def test_unknown_activation_and_init_names():
    with pytest.raises(ValueError, match=r"activation must be one of .*'leaky_relu'.* got 'swish'"):
        mlp([2, 3, 1], activation="swish")
    with pytest.raises(ValueError, match=r"out_activation must be one of \[None, 'sigmoid', 'tanh'\], got 'relu'"):
        mlp([2, 3, 1], out_activation="relu")
    with pytest.raises(ValueError, match=r"init must be one of .* got 'xavier'"):
        mlp([2, 3, 1], init="xavier")
    with pytest.raises(ValueError, match=r"init must be one of"):
        init_weight("lecun", 2, 3, np.random.default_rng(0))


def test_bad_sizes():
    with pytest.raises(ValueError, match="sizes must list at least"):
        mlp([3])
    with pytest.raises(ValueError, match=r"sizes\[1\] must be an integer >= 1, got 0"):
        mlp([3, 0, 1])
    with pytest.raises(TypeError, match=r"sizes\[1\] must be an integer"):
        mlp([3, 2.5, 1])


@pytest.mark.parametrize("lr", [0, -1e-3, float("nan")])
@pytest.mark.parametrize("cls", [Adam, SGD])
def test_non_positive_learning_rate(cls, lr):
    with pytest.raises(ValueError, match=rf"lr must be a positive number, got {lr!r}"):
        cls(mlp([2, 3, 1], seed=0).params, lr=lr)


def test_bad_betas_and_momentum():
    params = mlp([2, 3, 1], seed=0).params
    with pytest.raises(ValueError, match=r"betas\[0\] must be in \[0.0, 1.0\), got 1.0"):
        Adam(params, betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="betas must be a pair"):
        Adam(params, betas=0.5)
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        SGD(params, lr=0.1, nesterov=True)


def test_grads_that_do_not_match_the_params():
    net = mlp([2, 3, 1], seed=0)
    opt = Adam(net.params)
    good = {k: np.zeros_like(v) for k, v in net.params.items()}
    with pytest.raises(ValueError, match=r"grads must have the keys of params \['0.W', '0.b', '2.W', '2.b'\], got \['0.W'\]"):
        opt.step({"0.W": good["0.W"]})
    with pytest.raises(ValueError, match=r"grads\['0.b'\] must have shape \(3,\), got \(4,\)"):
        opt.step({**good, "0.b": np.zeros(4, np.float32)})
    with pytest.raises(TypeError, match=r"grads\['0.b'\] must have dtype float32, got float64"):
        opt.step({**good, "0.b": np.zeros(3)})
    assert opt.t == 0  # nothing was applied


def test_bad_state_dict():
    opt = Adam(mlp([2, 3, 1], seed=0).params)
    with pytest.raises(ValueError, match="state must have the keys"):
        opt.load_state_dict({"t": 1})


def test_loss_argument_errors():
    with pytest.raises(ValueError, match=r"targets must have the shape of logits \(2, 1\), got \(2,\)"):
        bce_with_logits(np.zeros((2, 1)), np.zeros(2))
    with pytest.raises(TypeError, match="logits must be a floating array"):
        bce_with_logits(np.zeros((2, 1), dtype=int), 1.0)
    with pytest.raises(TypeError, match="labels must be integers, got dtype float64"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\), got maximum 3"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))


def test_layer_argument_errors():
    with pytest.raises(ValueError, match=r"alpha must be in \[0.0, 1.0\], got -0.1"):
        LeakyReLU(-0.1)
    with pytest.raises(TypeError, match="layers must be a non-empty list of numgan Layers"):
        Sequential([])
    with pytest.raises(TypeError, match="all parameters must share one dtype"):
        Sequential([Dense(2, 3, dtype=np.float32), Dense(3, 1, dtype=np.float64)])


def test_backward_with_a_foreign_cache():
    net = mlp([2, 3, 1], seed=0)
    with pytest.raises(ValueError, match="cache must be the list returned by this network's forward"):
        net.backward(np.zeros((1, 1), np.float32), [None])
