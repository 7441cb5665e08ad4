"""Parity with PyTorch (the ``torch`` extra; skipped without it): forward and every gradient, float64, to 1e-10.

numgan's layers are written from the formulas alone; PyTorch is a second, independent implementation of the
same conventions (NCHW, cross-correlation, weight layouts, the running-variance rule), so agreement to
rounding says that numgan's conventions are PyTorch's and that a model can move between the two.
"""
import numpy as np
import pytest

from numgan import BatchNorm, Conv2d, ConvTranspose2d

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOL = 1e-10
CASES = [(3, 1, 0), (3, 1, 1), (4, 2, 1), (3, 2, 0), (1, 1, 0), (2, 3, 1), (5, 2, 2)]


def close(ours, theirs):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    assert ours.shape == theirs.shape
    scale = max(1.0, float(np.abs(theirs).max()))
    assert float(np.abs(ours - theirs).max()) <= TOL * scale, float(np.abs(ours - theirs).max())


def leaf(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def backward_matches(rng, layer, cache, ty, leaves):
    """numgan's backward of a random ``dy`` against autograd's: ``dx`` and each named parameter's grad."""
    dy = rng.standard_normal(tuple(ty.shape))
    (ty * torch.tensor(dy)).sum().backward()
    dx, grads = layer.backward(dy, cache)
    close(dx, leaves["x"].grad)
    for name, tensor in leaves.items():
        if name != "x":
            close(grads[name], tensor.grad)


def random_batchnorm(rng, **options):
    """A float64 BatchNorm of 4 channels with random gamma, beta and running statistics."""
    bn = BatchNorm(4, dtype=np.float64, **options)
    bn.params["gamma"][...] = rng.uniform(0.5, 2, 4)
    bn.params["beta"][...] = rng.standard_normal(4)
    bn.buffers["running_mean"][...] = rng.standard_normal(4)
    bn.buffers["running_var"][...] = rng.uniform(0.5, 2, 4)
    return bn


@pytest.mark.parametrize("k, s, p", CASES)
@pytest.mark.parametrize("cls, torch_fn", [(Conv2d, "conv2d"), (ConvTranspose2d, "conv_transpose2d")])
def test_convolutions_match_pytorch(rng, cls, torch_fn, k, s, p):
    layer = cls(3, 4, k, s, p, dtype=np.float64, rng=0)
    layer.params["b"][...] = rng.standard_normal(4)
    x = rng.standard_normal((2, 3, 7, 6))
    y, cache = layer.forward(x)
    tx, tW, tb = leaf(x), leaf(layer.params["W"]), leaf(layer.params["b"])
    ty = getattr(F, torch_fn)(tx, tW, tb, stride=s, padding=p)
    close(y, ty)
    backward_matches(rng, layer, cache, ty, {"x": tx, "W": tW, "b": tb})


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5, 3)], ids=["1-D", "2-D"])
def test_batchnorm_training_mode_matches_pytorch(rng, shape):
    bn = random_batchnorm(rng, momentum=0.3, eps=1e-4)
    t_mean = torch.tensor(bn.buffers["running_mean"].copy())
    t_var = torch.tensor(bn.buffers["running_var"].copy())
    x = 2 * rng.standard_normal(shape) + 1
    tx, tg, tb = leaf(x), leaf(bn.params["gamma"]), leaf(bn.params["beta"])
    ty = F.batch_norm(tx, t_mean, t_var, tg, tb, training=True, momentum=0.3, eps=1e-4)
    y, cache = bn.forward(x)
    close(y, ty)
    close(bn.buffers["running_mean"], t_mean)                 # PyTorch updates its buffers in place
    close(bn.buffers["running_var"], t_var)
    backward_matches(rng, bn, cache, ty, {"x": tx, "gamma": tg, "beta": tb})


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5, 3)], ids=["1-D", "2-D"])
def test_batchnorm_eval_mode_matches_pytorch(rng, shape):
    bn = random_batchnorm(rng).eval()
    x = rng.standard_normal(shape)
    tx, tg, tb = leaf(x), leaf(bn.params["gamma"]), leaf(bn.params["beta"])
    ty = F.batch_norm(tx, torch.tensor(bn.buffers["running_mean"]), torch.tensor(bn.buffers["running_var"]),
                      tg, tb, training=False, eps=1e-5)
    y, cache = bn.forward(x)
    close(y, ty)
    backward_matches(rng, bn, cache, ty, {"x": tx, "gamma": tg, "beta": tb})


def test_the_modules_agree_with_torch_nn_layers(rng):
    """torch.nn.Conv2d / ConvTranspose2d / BatchNorm2d given numgan's parameters compute the same thing."""
    conv = Conv2d(2, 3, 4, 2, 1, dtype=np.float64, rng=1)
    tconv = torch.nn.Conv2d(2, 3, 4, 2, 1).double()
    up = ConvTranspose2d(3, 2, 4, 2, 1, dtype=np.float64, rng=2)
    tup = torch.nn.ConvTranspose2d(3, 2, 4, 2, 1).double()
    with torch.no_grad():
        for ours, theirs in ((conv, tconv), (up, tup)):
            theirs.weight.copy_(torch.tensor(ours.params["W"]))
            theirs.bias.copy_(torch.tensor(ours.params["b"]))
    x = rng.standard_normal((2, 2, 8, 6))
    y, _ = up.forward(conv.forward(x)[0])
    close(y, tup(tconv(torch.tensor(x))))
