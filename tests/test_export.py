"""The bridge to PyTorch (``numgan.export``): same outputs, same gradients, same GAN step, files others read.

* Every layer type, every recipe's networks and the seed article's presets give the same outputs and
  input gradients in PyTorch: to 1e-12 in float64 (rel_error, numgan's normwise measure), which checks the
  mapping, and in float32 to 1e-6, or to twice numgan's own float32 rounding (against its float64 copy)
  where that is larger: the 1024-wide image generators round to 1.2e-6 in numgan alone.
* One full GAN step, non-saturating with R1 (double backprop), gives the same D and G gradients as PyTorch
  autograd with ``create_graph=True``, and Adam the same weights after it.
* An unmappable layer raises and names itself; the safetensors files round-trip and are read by the
  ``safetensors`` package when it is installed; ``numgan export`` exports a checkpoint of ``numgan train``.

Skipped, with the reason, when PyTorch is not installed (``pip install -e ".[torch]"``); the safetensors
tests that need only NumPy run regardless.
"""
from __future__ import annotations

import copy
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numgan import cli
from numgan.export import (TORCH_MODULES, gan_state_dict, load_safetensors, load_state_dict, safetensors_bytes,
                           save_safetensors, to_state_dict, torch_layers)
from numgan.gan import GAN
from numgan.gradcheck import rel_error
from numgan.layers import Dense, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from numgan.network import Sequential, mlp, seed_discriminator, seed_generator
from numgan.recipes import RECIPES, build_gan, resolve_recipe

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--steps", "3", "--hidden", "16,16", "--batch-size", "32", "--snapshots", "2", "--no-progress"]


def needs_torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed: pip install -e '.[torch]'")


def torch_run(net: Sequential, x: np.ndarray, dy: np.ndarray):
    """``(y, dx, weight grads as numgan names and layouts)`` of ``to_torch(net)`` by autograd, loss ``sum(y * dy)``."""
    torch = needs_torch()
    from numgan.export import to_torch
    module = to_torch(net)
    xt = torch.from_numpy(x).requires_grad_(True)
    y = module(xt)
    (y * torch.from_numpy(dy)).sum().backward()
    grads = {}
    for name, p in module.named_parameters():
        k, kind = name.split(".")
        grads[f"{k}.W" if kind == "weight" else f"{k}.b"] = (p.grad.T if kind == "weight" else p.grad).numpy()
    return y.detach().numpy(), xt.grad.numpy(), grads


def numgan_run(net: Sequential, x: np.ndarray, dy: np.ndarray):
    y, cache = net.forward(x)
    dx, grads = net.backward(dy, cache)
    return y, dx, {k: grads[k].copy() for k in grads}


def assert_same(net: Sequential, batch: int = 16, seed: int = 0):
    """numgan and PyTorch agree on ``y``, ``dx`` and every weight gradient (tolerance in the module docstring)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, net.in_features)).astype(net.dtype)
    dy = rng.standard_normal((batch, net.out_features)).astype(net.dtype)
    ours, theirs = numgan_run(net, x, dy), torch_run(net, x, dy)
    if net.dtype == np.float64:
        tolerances = [1e-12] * 3
    else:                        # numgan's own float32 rounding, measured against its float64 copy
        exact = numgan_run(net.astype(np.float64), x.astype(np.float64), dy.astype(np.float64))
        tolerances = [max(1e-6, 2 * rel_error(a, b)) for a, b in
                      [(ours[0], exact[0]), (ours[1], exact[1])]]
        tolerances.append(max(1e-6, 2 * max(rel_error(ours[2][k], exact[2][k]) for k in ours[2])))
    for what, a, b, tol in [("y", ours[0], theirs[0], tolerances[0]), ("dx", ours[1], theirs[1], tolerances[1])]:
        assert a.dtype == b.dtype == net.dtype
        assert rel_error(a, b) <= tol, f"{what}: rel_error {rel_error(a, b):.2e} > {tol:.1e} for {net}"
    assert set(ours[2]) == set(theirs[2])
    for k in ours[2]:
        assert rel_error(ours[2][k], theirs[2][k]) <= tolerances[2], f"grad {k} of {net}"


# -- layers and networks ------------------------------------------------------------------------------

LAYERS = {
    "Dense": lambda dt: [Dense(5, 4, dtype=dt, rng=0)],
    "LeakyReLU": lambda dt: [Dense(5, 4, dtype=dt, rng=0), LeakyReLU(0.1)],
    "ReLU": lambda dt: [Dense(5, 4, dtype=dt, rng=0), ReLU()],
    "Tanh": lambda dt: [Dense(5, 4, dtype=dt, rng=0), Tanh()],
    "Sigmoid": lambda dt: [Dense(5, 4, dtype=dt, rng=0), Sigmoid()],
    "Identity": lambda dt: [Dense(5, 4, dtype=dt, rng=0), Identity()],
}


def test_every_layer_type_has_a_case():
    """The dense layers here, the convolutional ones in test_export_conv.py."""
    from test_export_conv import conv_nets
    conv = {type(layer).__name__ for net in conv_nets(np.float64).values() for layer in net.layers}
    assert set(LAYERS) | conv == {cls.__name__ for cls in TORCH_MODULES}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer", list(LAYERS))
def test_every_layer_type_gives_the_same_outputs_and_gradients(layer, dtype):
    net = Sequential(LAYERS[layer](dtype))
    net.layers[0].params["b"][...] = np.linspace(-0.5, 0.5, 4)      # a bias that is not zero
    assert_same(net)


def _recipe_networks():
    seen, cases = set(), []
    for data in RECIPES:
        networks = resolve_recipe(data).networks
        key = json.dumps(networks, sort_keys=True)
        if key not in seen:                       # fashion, spiral, moons repeat others' networks
            seen.add(key)
            cases.append(data)
    return cases


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data", _recipe_networks())
def test_the_recipes_networks_give_the_same_outputs_and_gradients(data, dtype):
    gan = resolve_recipe(data).build_gan(seed=3, dtype=dtype)
    for net in (gan.G, gan.D):
        net.params.flat[...] += np.random.default_rng(0).normal(0, 0.01, net.n_params).astype(dtype)  # biases != 0
        assert_same(net)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_seed_presets_give_the_same_outputs_and_gradients(dtype):
    assert_same(seed_generator(100, 2, dtype=dtype, seed=0), batch=8)
    assert_same(seed_discriminator(2, dtype=dtype, seed=1), batch=8)


def test_names_layouts_and_dtypes_are_pytorchs():
    torch = needs_torch()
    from numgan.export import to_torch
    for dtype in (np.float32, np.float64):
        net = mlp([3, 4, 2], "relu", "tanh", dtype=dtype, seed=0)      # Dense, ReLU, Dense, Tanh
        state = to_state_dict(net)
        assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
        np.testing.assert_array_equal(state["0.weight"], net.params["0.W"].T)
        assert state["0.weight"].flags.c_contiguous and state["0.weight"].dtype == dtype
        module = to_torch(net)
        assert [type(m).__name__ for m in module] == ["Linear", "ReLU", "Linear", "Tanh"]
        assert list(module.state_dict()) == list(state)
        assert module[0].weight.dtype == getattr(torch, np.dtype(dtype).name)
        state["0.weight"][...] = 7                  # copies: the network is not changed through them
        assert not (net.params["0.W"] == 7).any()
    leaky = torch_layers(mlp([2, 3, 1], "leaky_relu", alpha=0.3, seed=0))
    assert leaky[1] == {"module": "LeakyReLU", "negative_slope": 0.3}
    assert to_torch(mlp([2, 3, 1], "leaky_relu", alpha=0.3, seed=0))[1].negative_slope == 0.3


def test_load_state_dict_is_the_inverse():
    torch = needs_torch()
    from numgan.export import to_torch
    net = mlp([3, 5, 2], "tanh", dtype=np.float64, seed=0)
    module = to_torch(net)
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(2)
    other = load_state_dict(mlp([3, 5, 2], "tanh", dtype=np.float64, seed=9), module.state_dict())
    np.testing.assert_array_equal(other.params.flat, 2 * net.params.flat)
    with pytest.raises(ValueError, match="state must hold exactly"):
        load_state_dict(net, {"0.weight": np.zeros((5, 3))})
    with pytest.raises(ValueError, match=r"state\['0.weight'\] must have shape \(5, 3\), got \(3, 5\)"):
        load_state_dict(net, {**to_state_dict(net), "0.weight": np.zeros((3, 5))})


class Scaled(Dense):
    """A Dense that computes something else: a subclass is never exported as its parent."""

    def forward(self, x):
        y, cache = super().forward(x)
        return 2 * y, cache


class Softplus(LeakyReLU):
    pass


@pytest.mark.parametrize("layer", [Scaled(3, 2, rng=0), Softplus()])
def test_an_unmappable_layer_raises_and_names_itself(layer):
    net = Sequential([Dense(3, 1, rng=0), ReLU(), layer] if isinstance(layer, Softplus) else [layer, ReLU()])
    index = 2 if isinstance(layer, Softplus) else 0
    with pytest.raises(TypeError, match=rf"layer {index} of the network, .*{type(layer).__name__}.*no PyTorch"):
        to_state_dict(net)
    with pytest.raises(TypeError, match=type(layer).__name__):
        torch_layers(net)
    if isinstance(layer, Softplus):
        gan = GAN(mlp([2, 3, 3], seed=0), net)
        with pytest.raises(TypeError, match="Softplus"):
            gan_state_dict(gan)


def test_to_torch_refuses_what_is_not_a_network():
    needs_torch()
    from numgan.export import to_torch
    with pytest.raises(TypeError, match="net must be a numgan Sequential, got list"):
        to_torch([Dense(2, 2)])


# -- one full GAN step -------------------------------------------------------------------------------

def torch_gan_step(gan: GAN, x_real: np.ndarray, rng: np.random.Generator):
    """The step of ``gan.train_step`` (non-saturating, R1 at ``penalty_weight``) written in PyTorch.

    Returns D's gradients (numgan names and layouts), D's weights after Adam, and G's gradients through the
    updated D. The noise is drawn from a copy of ``rng`` in the order numgan draws it.
    """
    torch = needs_torch()
    import torch.nn.functional as F
    from numgan.export import to_torch
    rng = copy.deepcopy(rng)
    G, D = to_torch(gan.G), to_torch(gan.D)
    n, cfg = x_real.shape[0], gan.config
    opt_D = torch.optim.Adam(D.parameters(), lr=cfg.d_lr, betas=cfg.betas, eps=1e-8)

    def grads_of(module):
        out = {}
        for name, p in module.named_parameters():
            k, kind = name.split(".")
            out[f"{k}.W" if kind == "weight" else f"{k}.b"] = (p.grad.T if kind == "weight" else p.grad).numpy().copy()
        return out

    # D: L_D = E[softplus(-s_r)] + E[softplus(s_f)] + gamma/2 E[||dD/dx(x_r)||^2] (R1, double backprop)
    with torch.no_grad():
        fake = G(torch.from_numpy(gan.noise(n, rng)))
    real = torch.from_numpy(x_real).requires_grad_(True)
    s = D(torch.cat([real, fake]))
    loss = F.softplus(-s[:n]).mean() + F.softplus(s[n:]).mean()
    (g,) = torch.autograd.grad(s[:n].sum(), real, create_graph=True)
    loss = loss + 0.5 * cfg.penalty_weight * (g * g).sum(dim=1).mean()
    opt_D.zero_grad()
    loss.backward()
    d_grads = grads_of(D)
    opt_D.step()
    d_after = {k.replace("weight", "W").replace("bias", "b"): (v.T if k.endswith("weight") else v).numpy()
               for k, v in D.state_dict().items()}
    # G, through the updated D (frozen): L_G = E[softplus(-D(G(z)))]
    D.requires_grad_(False)
    loss_g = F.softplus(-D(G(torch.from_numpy(gan.noise(n, rng))))).mean()
    loss_g.backward()
    return d_grads, d_after, grads_of(G)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh"])
def test_one_gan_step_with_r1_matches_pytorch_autograd(activation, dtype):
    """``tanh`` has ``f'' != 0``, so R1's double backprop injects the second-derivative terms there."""
    gan = build_gan(2, [16, 16], 2, seed=0, activation=activation, dtype=dtype, objective="non_saturating",
                    penalty="r1", penalty_weight=0.7, g_lr=1e-3, d_lr=1e-3)
    gan.D.params.flat[...] += np.random.default_rng(5).normal(0, 0.05, gan.D.n_params).astype(dtype)
    x_real = np.random.default_rng(1).standard_normal((32, 2)).astype(dtype)
    rng = np.random.default_rng(2)
    d_torch, d_after_torch, g_torch = torch_gan_step(gan, x_real, rng)

    record, d_grads = gan.discriminator_gradients(x_real, rng)         # the pieces of gan.train_step
    assert record["penalty"] > 0
    gan.opt_D.step(d_grads)
    _, g_grads = gan.generator_gradients(32, rng)
    tol = 1e-12 if dtype == np.float64 else 2e-6
    for k in d_torch:
        assert rel_error(d_grads[k], d_torch[k]) <= tol, f"D grad {k}: {rel_error(d_grads[k], d_torch[k]):.1e}"
    for k in g_torch:
        assert rel_error(g_grads[k], g_torch[k]) <= tol, f"G grad {k}: {rel_error(g_grads[k], g_torch[k]):.1e}"
    if dtype == np.float64:             # Adam's first step moves each weight by about lr * sign(g): compare
        for k in d_after_torch:
            assert rel_error(gan.D.params[k], d_after_torch[k]) <= 1e-12, k


# -- safetensors ----------------------------------------------------------------------------------

def test_safetensors_layout_is_the_format():
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1.5, -2.0])}
    data = safetensors_bytes(arrays, {"note": "hi"})
    (n,) = struct.unpack("<Q", data[:8])
    assert (8 + n) % 8 == 0                                # the data start 8-byte aligned
    header = json.loads(data[8:8 + n])
    assert header["__metadata__"] == {"note": "hi"}
    assert header["a"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    assert header["b"] == {"dtype": "F64", "shape": [2], "data_offsets": [24, 40]}
    assert data[8 + n:8 + n + 24] == arrays["a"].astype("<f4").tobytes()
    assert len(data) == 8 + n + 40


def test_safetensors_round_trip(tmp_path):
    arrays = {"w": np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32),
              "big_endian": np.arange(5, dtype=">f8"), "i": np.arange(3, dtype=np.int64),
              "scalar": np.array(2.5), "empty": np.zeros((0, 3), np.float32),
              "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3))}
    path = save_safetensors(tmp_path / "m.safetensors", arrays, {"k": "v"})
    back, meta = load_safetensors(path)
    assert meta == {"k": "v"} and list(back) == list(arrays)
    for k in arrays:
        np.testing.assert_array_equal(back[k], arrays[k])
        assert back[k].dtype == arrays[k].dtype.newbyteorder("=")
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]       # no temporary file left


def test_the_safetensors_package_reads_our_files(tmp_path):
    st = pytest.importorskip("safetensors.numpy", reason="the safetensors package is not installed")
    gan = build_gan(2, [8], 2, seed=0, ema=0.9)
    path = save_safetensors(tmp_path / "m.safetensors", gan_state_dict(gan), {"format": "pt"})
    back = st.load_file(str(path))
    for k, v in gan_state_dict(gan).items():
        np.testing.assert_array_equal(back[k], v)


def _file(header: bytes, data: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + data


DAMAGED = {
    "too short": (b"\x01\x02", "fewer than the 8"),
    "header longer than the file": (struct.pack("<Q", 10 ** 12) + b"{}", "exceeds the file"),
    "header a list": (_file(b"[]"), "must be a JSON object"),
    "header not JSON": (_file(b"{x}"), "not JSON text"),
    "header nested too deep": (_file(b"[" * 10 ** 5 + b"]" * 10 ** 5), "not JSON text"),
    "size not the shape's": (_file(b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', bytes(4)),
                             "spans 4 bytes"),
    "unknown dtype": (_file(b'{"a":{"dtype":"O","shape":[1],"data_offsets":[0,4]}}', bytes(4)), "dtype 'O'"),
    "negative shape": (_file(b'{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', bytes(4)), "non-negative"),
    "a gap": (_file(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', bytes(8)), "starts at byte 4"),
    "bytes left over": (_file(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', bytes(9)), "cover 4 bytes"),
    "overlap": (_file(b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                      b'"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', bytes(4)), "starts at byte 0"),
    "metadata not strings": (_file(b'{"__metadata__":{"a":1}}'), "__metadata__"),
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_safetensors_file_is_one_value_error(tmp_path, case):
    bad, message = DAMAGED[case]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(bad)
    with pytest.raises(ValueError, match=message) as err:
        load_safetensors(path)
    assert "bad.safetensors" in str(err.value)


def test_save_safetensors_refuses_bad_input(tmp_path):
    with pytest.raises(TypeError, match="metadata must be a dict of str -> str"):
        save_safetensors(tmp_path / "x.safetensors", {}, {"a": 1})
    with pytest.raises(TypeError, match=r"arrays\['s'\] must have one of the dtypes"):
        save_safetensors(tmp_path / "x.safetensors", {"s": np.array(["text"])})
    with pytest.raises(ValueError, match="__metadata__"):
        save_safetensors(tmp_path / "x.safetensors", {"__metadata__": np.zeros(2)})


# -- checkpoints and the command line ---------------------------------------------------------------

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """The checkpoint of a 3-step ``numgan train`` run of the ring recipe (ReLU, R1, EMA)."""
    root = tmp_path_factory.mktemp("runs")
    assert cli.main(["train", *TINY, "--out", str(root), "--name", "t"]) == 0
    return root / "t" / "checkpoint.npz"


def test_numgan_export_safetensors_has_the_checkpoints_networks(checkpoint, tmp_path, capsys):
    from numgan.checkpoint import load_checkpoint
    out = tmp_path / "model.safetensors"
    assert cli.main(["export", "--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    assert "wrote G, D and G_ema of step 3" in capsys.readouterr().out
    arrays, meta = load_safetensors(out)
    gan, _ = load_checkpoint(checkpoint)
    expected = gan_state_dict(gan)
    assert list(arrays) == list(expected)
    for k in expected:
        np.testing.assert_array_equal(arrays[k], expected[k])
    assert meta["format"] == "pt" and meta["step"] == "3" and json.loads(meta["extra"])["data"] == "ring"
    assert [m["module"] for m in json.loads(meta["G"])] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_an_exported_checkpoint_is_a_pytorch_model_with_the_same_outputs(checkpoint, tmp_path, suffix):
    torch = needs_torch()
    from numgan.checkpoint import load_checkpoint
    from numgan.export import load_torch
    out = tmp_path / f"model{suffix}"
    assert cli.main(["export", "--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    if suffix == ".pt":                      # tensors, strings and dicts only: no code is unpickled
        assert set(torch.load(out, weights_only=True)) == {"G", "D", "G_ema", "metadata"}
    modules, meta = load_torch(out)
    gan, _ = load_checkpoint(checkpoint)
    z = np.random.default_rng(0).standard_normal((64, gan.z_dim)).astype(np.float32)
    for name, net in (("G", gan.G), ("G_ema", gan.G_ema), ("D", gan.D)):
        x = z if name != "D" else gan.sample(64, rng=1)
        with torch.no_grad():
            y = modules[name](torch.from_numpy(x)).numpy()
        assert rel_error(y, net(x)) <= 1e-6, name
    np.testing.assert_array_equal(modules["G_ema"](torch.from_numpy(z)).detach().numpy(),
                                  to_torch_output(gan.G_ema, z))


def to_torch_output(net, x):
    import torch
    from numgan.export import to_torch
    with torch.no_grad():
        return to_torch(net)(torch.from_numpy(x)).numpy()


def test_numgan_export_failures_are_one_line(checkpoint, tmp_path):
    env = {"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "numgan.cli", "export", *args], capture_output=True,
                              text=True, timeout=120, env=env)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    for args, message in [(["--checkpoint", str(checkpoint), "--out", "m.onnx"], "--out must end in .safetensors"),
                          (["--checkpoint", str(checkpoint), "--out", ""], "or .pt, got ''"),
                          (["--checkpoint", str(tmp_path), "--out", "m.pt"], "is a directory"),
                          (["--checkpoint", str(tmp_path / "none.npz"), "--out", "m.pt"], "none.npz"),
                          (["--checkpoint", str(tmp_path / "junk.npz"), "--out", "m.safetensors"], "junk.npz")]:
        proc = run(*args)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert lines[0].startswith("numgan: error:") and message in lines[0], lines[0]


def test_numgan_export_pt_without_torch_says_how_to_install(checkpoint, tmp_path, monkeypatch, capsys):
    import numgan.export
    monkeypatch.setattr(numgan.export.importlib, "import_module",
                        lambda name: (_ for _ in ()).throw(ImportError(name)))
    assert cli.main(["export", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "m.pt")]) == 2
    err = capsys.readouterr().err
    assert "needs PyTorch" in err and "pip install 'numgan[torch]'" in err
    assert not (tmp_path / "m.pt").exists()
    assert cli.main(["export", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "m.safetensors")]) == 0


def test_numgan_imports_no_torch():
    code = "import sys, numgan, numgan.export, numgan.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.stdout.strip() == "False", out.stderr
