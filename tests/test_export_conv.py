"""The bridge to PyTorch for convolutional networks: Conv2d, ConvTranspose2d, BatchNorm (1-D and 2-D, training and
evaluation modes, running statistics), Reshape and Flatten, and the DCGAN presets, give the same outputs and
gradients in PyTorch (float64 to 1e-10; float32 to 1e-5, or twice numgan's own float32 rounding where that is
larger: 1.9e-5 measured for the 28x28 generator; a normwise relative error); their state dicts, safetensors and
``.pt`` files carry the running statistics. Skipped without PyTorch, but for the NumPy-only parts."""
from __future__ import annotations

import numpy as np
import pytest

from numgan import BatchNorm, Conv2d, ConvTranspose2d, Dense, Flatten, LeakyReLU, Reshape, Sequential
from numgan import cli, dcgan_discriminator, dcgan_generator
from numgan.checkpoint import save_checkpoint
from numgan.export import (export_gan, gan_state_dict, load_safetensors, load_state_dict, to_state_dict,
                           torch_layers)
from numgan.gan import GAN
from numgan.gradcheck import rel_error

TOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}


def error(a, b):
    """Normwise relative error with a floor of 1 on the norm: the gradient of a bias before a BatchNorm in
    training mode is exactly 0 (the batch mean is subtracted), so both sides are rounding noise there."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1.0))


def needs_torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed: pip install -e '.[torch]'")


def _randomise_batchnorm(net: Sequential, seed: int = 0) -> Sequential:
    """gamma, beta and running statistics away from their initial 1, 0, 0, 1, so that a wrong mapping shows."""
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        if isinstance(layer, BatchNorm):
            c = layer.num_features
            layer.params["gamma"][...] = rng.uniform(0.5, 1.5, c)
            layer.params["beta"][...] = rng.uniform(-0.5, 0.5, c)
            layer.buffers["running_mean"][...] = rng.uniform(-0.5, 0.5, c)
            layer.buffers["running_var"][...] = rng.uniform(0.5, 2.0, c)
    for layer in net.layers:
        if isinstance(layer, (Conv2d, ConvTranspose2d, Dense)):
            layer.params["b"][...] = rng.uniform(-0.3, 0.3, layer.params["b"].shape)
    return net


def _torch_grads(module, net: Sequential) -> dict[str, np.ndarray]:
    """PyTorch's weight gradients under numgan's names and layouts."""
    grads = {}
    for name, p in module.named_parameters():
        k, kind = name.split(".")
        layer = net.layers[int(k)]
        g = p.grad.numpy()
        if isinstance(layer, Dense):
            grads[f"{k}.W" if kind == "weight" else f"{k}.b"] = g.T if kind == "weight" else g
        elif isinstance(layer, BatchNorm):
            grads[f"{k}.gamma" if kind == "weight" else f"{k}.beta"] = g
        else:
            grads[f"{k}.W" if kind == "weight" else f"{k}.b"] = g
    return grads


def assert_same(net: Sequential, batch: int = 6, seed: int = 1, eval_mode: bool = False):
    """y, dx, every weight gradient and the running statistics after the forward agree with PyTorch's."""
    torch = needs_torch()
    from numgan.export import to_torch
    if eval_mode:
        net.eval()
    else:
        net.train()
    module = to_torch(net)
    assert all(m.training == (not eval_mode) for m in module if "BatchNorm" in type(m).__name__)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, net.in_features)).astype(net.dtype)
    y, cache = net.forward(x)
    dy = rng.standard_normal(y.shape).astype(net.dtype)
    dx, grads = net.backward(dy, cache)
    tol = TOL[net.dtype]
    if net.dtype == np.float32:     # or twice numgan's own float32 rounding (against its float64 copy), if larger
        exact = net.astype(np.float64)
        y64, cache64 = exact.forward(x.astype(np.float64))
        dx64, grads64 = exact.backward(dy.astype(np.float64), cache64)
        tol = max(tol, 2 * max(error(y, y64), error(dx, dx64), *(error(grads[k], grads64[k]) for k in grads)))
        assert tol < 1e-4
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = module(xt)
    (yt * torch.from_numpy(dy)).sum().backward()
    assert yt.dtype == getattr(torch, net.dtype.name)
    assert error(y, yt.detach().numpy()) <= tol
    assert error(dx, xt.grad.numpy()) <= tol
    theirs = _torch_grads(module, net)
    assert set(theirs) == set(grads.keys())
    for k, g in theirs.items():
        assert error(grads[k], g) <= tol, (k, error(grads[k], g), tol)
    state = module.state_dict()
    for name, value in net.buffers.items():            # updated alike in training mode, untouched in eval mode
        assert error(value, state[name].numpy()) <= tol, name
    return module


def conv_nets(dtype):
    return {
        "Conv2d": Sequential([Reshape((2, 6, 6)), Conv2d(2, 3, 3, 2, 1, dtype=dtype, rng=0), Flatten()]),
        "Conv2d-unpadded": Sequential([Reshape((2, 5, 5)), Conv2d(2, 3, 2, 1, 0, dtype=dtype, rng=0), Flatten()]),
        "ConvTranspose2d": Sequential([Reshape((3, 3, 3)), ConvTranspose2d(3, 2, 4, 2, 1, dtype=dtype, rng=0),
                                       Flatten()]),
        "BatchNorm2d": Sequential([Reshape((2, 3, 3)), BatchNorm(2, momentum=0.3, eps=1e-3, dtype=dtype),
                                   Flatten()]),
        "BatchNorm1d": Sequential([Dense(5, 4, dtype=dtype, rng=0), BatchNorm(4, dtype=dtype), LeakyReLU(0.2),
                                   Dense(4, 2, dtype=dtype, rng=1)]),
    }


@pytest.mark.parametrize("eval_mode", [False, True], ids=["train", "eval"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(conv_nets(np.float64)))
def test_every_conv_layer_type_gives_the_same_outputs_and_gradients(name, dtype, eval_mode):
    net = _randomise_batchnorm(conv_nets(dtype)[name])
    module = assert_same(net, eval_mode=eval_mode)
    kinds = [type(m).__name__ for m in module]
    assert name.split("-")[0] in kinds


def dcgan(image_shape, dtype):
    G = dcgan_generator(8, image_shape, width=4, dtype=dtype, seed=0)
    D = dcgan_discriminator(image_shape, width=4, dtype=dtype, seed=1)
    return _randomise_batchnorm(G), D


@pytest.mark.parametrize("eval_mode", [False, True], ids=["train", "eval"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("image_shape", [(8, 8), (28, 28)])
def test_the_dcgan_presets_give_the_same_outputs_and_gradients(image_shape, dtype, eval_mode):
    G, D = dcgan(image_shape, dtype)
    module = assert_same(G, eval_mode=eval_mode)
    assert [type(m).__name__ for m in module] == ["Linear", "Unflatten", "BatchNorm2d", "ReLU", "ConvTranspose2d",
                                                  "BatchNorm2d", "ReLU", "ConvTranspose2d", "Tanh", "Flatten"]
    module = assert_same(D)
    assert [type(m).__name__ for m in module] == ["Unflatten", "Conv2d", "LeakyReLU", "Conv2d", "LeakyReLU",
                                                  "Flatten", "Linear"]


def test_a_dcgan_state_dict_has_torch_s_names_and_is_loaded_back():
    torch = needs_torch()
    from numgan.export import to_torch
    G, _ = dcgan((8, 8), np.float64)
    state = to_state_dict(G)
    module = to_torch(G)
    assert list(state) == list(module.state_dict())            # names and order, buffers included
    assert state["2.num_batches_tracked"].dtype == np.int64 and state["2.num_batches_tracked"].shape == ()
    np.testing.assert_array_equal(state["4.weight"], G.params["4.W"])          # ConvTranspose2d: same layout
    np.testing.assert_array_equal(state["2.running_var"], G.buffers["2.running_var"])
    with torch.no_grad():                                      # change everything in PyTorch, then load it back
        for p in module.parameters():
            p.mul_(2)
        for name, b in module.named_buffers():
            if b.is_floating_point():
                b.add_(1)
    other = load_state_dict(dcgan_generator(8, (8, 8), 4, dtype=np.float64, seed=9), module.state_dict())
    np.testing.assert_array_equal(other.params.flat, 2 * G.params.flat)
    for name, value in G.buffers.items():
        np.testing.assert_array_equal(other.buffers[name], value + 1)
    without_counters = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    load_state_dict(other, without_counters)                   # the counter may be left out
    np.testing.assert_array_equal(other.params.flat, G.params.flat)
    with pytest.raises(ValueError, match=r"state\['2.running_mean'\] must have shape \(8,\)"):
        load_state_dict(other, {**state, "2.running_mean": np.zeros(3)})


def test_the_modules_as_json_data():
    G, D = dcgan((8, 8), np.float32)
    layers = torch_layers(G)
    assert layers[1] == {"module": "Unflatten", "unflattened_size": [8, 2, 2]}
    assert layers[2] == {"module": "BatchNorm2d", "num_features": 8, "momentum": 0.1, "eps": 1e-5}
    assert layers[4] == {"module": "ConvTranspose2d", "in_channels": 8, "out_channels": 4, "kernel_size": 4,
                         "stride": 2, "padding": 1}
    assert torch_layers(D)[1]["module"] == "Conv2d"
    # BatchNorm on flat samples is 1-D, also after a Flatten; on images 2-D, also in a network that starts with one
    flat = Sequential([Reshape((1, 4, 4)), Conv2d(1, 2, 3, 1, 1, rng=0), Flatten(), BatchNorm(32), Dense(32, 1, rng=0)])
    assert torch_layers(flat)[3]["module"] == "BatchNorm1d"
    images = Sequential([BatchNorm(1), Conv2d(1, 2, 3, 1, 1, rng=0), BatchNorm(2), Flatten()])
    assert [e["module"] for e in torch_layers(images)] == ["BatchNorm2d", "Conv2d", "BatchNorm2d", "Flatten"]


def test_a_reshape_of_images_is_refused_not_mistranslated():
    net = Sequential([Reshape((1, 4, 4)), Conv2d(1, 2, 3, 1, 1, rng=0), Reshape((4, 2, 4)), Flatten()])
    with pytest.raises(TypeError, match=r"layer 2 of the network, Reshape\(\(4, 2, 4\)\), reshapes samples of "
                                        r"shape \(2, 4, 4\).*nn.Unflatten"):
        to_state_dict(net)


def _gan():
    G, D = dcgan((8, 8), np.float32)
    gan = GAN(G, D, ema=0.9)
    rng = np.random.default_rng(0)
    gan.train_step(rng.uniform(-1, 1, (8, 64)).astype(np.float32), rng)
    return gan


def test_a_dcgan_exports_to_safetensors_and_pt_and_comes_back(tmp_path, capsys):
    gan = _gan()
    path = export_gan(gan, tmp_path / "dc.safetensors")
    arrays, meta = load_safetensors(path)
    assert arrays.keys() == gan_state_dict(gan).keys()
    assert "G.2.running_var" in arrays and "G_ema.5.running_mean" in arrays
    np.testing.assert_array_equal(arrays["G.2.running_var"], gan.G.buffers["2.running_var"])
    # numgan export of a checkpoint
    ck = save_checkpoint(tmp_path / "ck.npz", gan, np.random.default_rng(1))
    assert cli.main(["export", "--checkpoint", str(ck), "--out", str(tmp_path / "ck.safetensors")]) == 0
    assert load_safetensors(tmp_path / "ck.safetensors")[0].keys() == arrays.keys()
    torch = needs_torch()
    from numgan.export import load_torch
    z = np.random.default_rng(3).standard_normal((5, 8)).astype(np.float32)
    for suffix in (".safetensors", ".pt"):
        modules, _ = load_torch(export_gan(gan, tmp_path / f"dc{suffix}"))
        for name, net in (("G", gan.G), ("G_ema", gan.G_ema)):
            net.eval()
            modules[name].eval()
            ours = net(z)
            with torch.no_grad():
                theirs = modules[name](torch.from_numpy(z)).numpy()
            assert rel_error(ours, theirs) <= 1e-5, (suffix, name)
            net.train()
        x = gan.sample(4, rng=0)
        with torch.no_grad():
            assert rel_error(gan.D(x), modules["D"](torch.from_numpy(x)).numpy()) <= 1e-5
