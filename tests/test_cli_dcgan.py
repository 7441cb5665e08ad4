"""``numgan train --arch dcgan``: a tiny convolutional run end to end, its refusals, its checkpoint resumed."""
import json
import shlex

import numpy as np
import pytest

from numgan import BatchNorm, Conv2d, ConvTranspose2d, Dense
from numgan import cli
from numgan.checkpoint import load_checkpoint, read_checkpoint
from numgan.recipes import DCGAN_RECIPES, RECIPES, resolve_recipe

from test_cli_runs import _interrupt_at, one_line

TINY = ["train", "--data", "digits", "--arch", "dcgan", "--width", "4", "--steps", "12", "--batch-size", "16",
        "--snapshots", "3", "--no-progress"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("dcgan")
    assert cli.main([*TINY, "--out", str(root)]) == 0
    return root / "digits-dcgan-non_saturating-seed0"


def test_a_tiny_dcgan_run_writes_its_grid_metrics_and_checkpoint(tiny_run):
    for name in ("checkpoint.npz", "metrics.json", "samples.png", "losses.png", "training.gif"):
        assert (tiny_run / name).stat().st_size > 0, name
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert metrics["steps"] == 12 and 1 <= metrics["gan"]["classifier_score"] <= 10
    options = metrics["options"]
    assert options["arch"] == "dcgan" and options["width"] == 4 and options["image_shape"] == [8, 8]
    assert options["betas"] == [0.5, 0.999] and options["penalty"] == "r1"
    gan, _ = load_checkpoint(tiny_run / "checkpoint.npz")          # rebuilt from the file alone
    kinds = [type(layer) for layer in gan.G.layers]
    assert ConvTranspose2d in kinds and BatchNorm in kinds and Conv2d in [type(la) for la in gan.D.layers]
    assert gan.step == 12 and gan.G_ema is not None
    assert gan.G.layers[0].in_features == DCGAN_RECIPES["digits"]["networks"]["z_dim"]
    assert gan.sample(3, rng=0).shape == (3, 64)
    meta, _ = read_checkpoint(tiny_run / "checkpoint.npz")
    assert meta["extra"]["networks"]["arch"] == "dcgan" and meta["extra"]["options"]["arch"] == "dcgan"


def test_sample_draws_a_grid_from_a_dcgan_checkpoint(tiny_run, tmp_path, capsys):
    assert cli.main(["sample", "--checkpoint", str(tiny_run / "checkpoint.npz"), "--n", "20",
                     "--out", str(tmp_path / "s.npy")]) == 0
    x = np.load(tmp_path / "s.npy")
    assert x.shape == (20, 64) and np.abs(x).max() <= 1
    assert cli.main(["sample", "--checkpoint", str(tiny_run / "checkpoint.npz"), "--n", "20",
                     "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0


def test_an_interrupted_dcgan_run_resumed_ends_as_the_uninterrupted_one(tiny_run, tmp_path, monkeypatch, capsys,
                                                                        python_sigint):
    with monkeypatch.context() as m:
        _interrupt_at(m, 7, hard=False)
        assert cli.main([*TINY, "--out", str(tmp_path)]) == 130
    run_dir = tmp_path / tiny_run.name
    assert read_checkpoint(run_dir / "checkpoint.npz")[0]["step"] == 7
    capsys.readouterr()
    # the resume command names no option: --arch dcgan and --width 4 come back from the checkpoint
    assert cli.main(shlex.split(cli.resume_command(run_dir))[1:] + ["--no-progress"]) == 0
    assert "DCGAN" in capsys.readouterr().out
    meta_a, arrays_a = read_checkpoint(tiny_run / "checkpoint.npz")
    meta_b, arrays_b = read_checkpoint(run_dir / "checkpoint.npz")
    assert meta_a == meta_b and arrays_a.keys() == arrays_b.keys()
    assert any(name.startswith("G/buffers/") for name in arrays_a)      # BatchNorm's running statistics
    for name in arrays_a:
        np.testing.assert_array_equal(arrays_a[name], arrays_b[name], err_msg=name)
    metrics = [json.loads((d / "metrics.json").read_text()) for d in (tiny_run, run_dir)]
    for m in metrics:
        m.pop("seconds")
    assert metrics[0] == metrics[1]


def test_resume_refuses_another_arch_and_a_finished_run_resumes(tiny_run, tmp_path, capsys):
    import shutil
    run_dir = tmp_path / "copy"
    shutil.copytree(tiny_run, run_dir)
    resume = ["train", "--out", str(tmp_path), "--name", "copy", "--resume", "--no-progress"]
    assert cli.main([*resume, "--arch", "mlp"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "--arch mlp differs from the run's (dcgan)" in line
    assert cli.main([*resume, "--width", "8"]) == 2
    assert "--width 8 differs" in one_line(capsys.readouterr().err)
    # a finished run resumes to its pictures and metrics again (no step left: the grid's noise is redrawn)
    before = (run_dir / "samples.png").read_bytes()
    assert cli.main(resume) == 0
    assert (run_dir / "samples.png").read_bytes() == before


REFUSED = {
    "conditional": (["--conditional"], "--arch dcgan is not conditional yet"),
    "pack": (["--pack", "2"], "--arch dcgan does not pack samples"),
    "hidden": (["--hidden", "8,8"], "--hidden sets the MLP's layers"),
    "activation": (["--activation", "relu"], "--activation sets the MLP's layers"),
    "mixture": (["--data", "ring"], "--arch dcgan is for the image sets digits, fashion, mnist, got --data ring"),
    "width without dcgan": (["--arch", "mlp", "--width", "8"], "--width sets the channels of --arch dcgan"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_what_dcgan_does_not_do_is_refused_in_one_line(case, tmp_path, capsys):
    extra, message = REFUSED[case]
    assert cli.main([*TINY, "--out", str(tmp_path), *extra]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith("numgan: error: ") and message in line, line
    assert not any(tmp_path.iterdir())                 # nothing written


def test_a_dcgan_on_the_users_own_files_is_refused(tmp_path, capsys):
    np.save(tmp_path / "points.npy", np.zeros((10, 2), np.float32))
    assert cli.main([*TINY, "--data", str(tmp_path / "points.npy"), "--out", str(tmp_path / "runs")]) == 2
    assert "--arch dcgan is for the image sets" in one_line(capsys.readouterr().err)


def test_the_dcgan_recipes():
    mlp = resolve_recipe("digits")
    assert mlp.arch == "mlp" and "arch" not in mlp.networks          # the MLP recipes read as before
    assert mlp.networks == resolve_recipe("digits", arch="mlp").networks
    recipe = resolve_recipe("mnist", arch="dcgan", width=8, steps=5)
    assert recipe.arch == "dcgan" and recipe.loop["steps"] == 5
    assert recipe.networks == {"arch": "dcgan", "z_dim": 64, "width": 8, "out_activation": "tanh", "data_dim": 784,
                               "image_shape": [28, 28]}
    assert recipe.gan.betas == (0.5, 0.999) and recipe.gan.penalty == "r1" and recipe.gan.ema == 0.999
    gan = recipe.build_gan(seed=0)
    assert gan.data_dim == 784 and gan.z_dim == 64
    assert [type(la) for la in gan.D.layers].count(Conv2d) == 2 and isinstance(gan.D.layers[-1], Dense)
    assert gan.D.layers[1].out_channels == 8 and gan.G.layers[-3].in_channels == 8
    np.testing.assert_array_equal(gan.G.flat_params, recipe.build_gan(seed=0).G.flat_params)
    assert gan.sample(2, rng=0).shape == (2, 784)
    assert set(DCGAN_RECIPES) == {name for name in RECIPES if resolve_recipe(name).networks["out_activation"]}
    with pytest.raises(ValueError, match="arch='dcgan' is for image data"):
        resolve_recipe("ring", arch="dcgan")
    with pytest.raises(ValueError, match="not conditional yet"):
        resolve_recipe("digits", arch="dcgan", conditional=True)
    with pytest.raises(ValueError, match="does not pack"):
        resolve_recipe("digits", arch="dcgan", pack=2)
    with pytest.raises(ValueError, match=r"g_hidden, hidden set the MLP's layers"):
        resolve_recipe("digits", arch="dcgan", hidden=[8], g_hidden=[8])
    with pytest.raises(ValueError, match="width sets the channels of arch='dcgan'"):
        resolve_recipe("digits", width=8)
    with pytest.raises(ValueError, match="width must be a positive integer"):
        resolve_recipe("digits", arch="dcgan", width=0)
    with pytest.raises(ValueError, match="width must be a positive integer up to 4096"):   # not NumPy's own error
        resolve_recipe("digits", arch="dcgan", width=10 ** 20)
    with pytest.raises(ValueError, match=r"arch must be one of \['mlp', 'dcgan'\], got 'cnn'"):
        resolve_recipe("digits", arch="cnn")


def test_help_explains_arch_and_width(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())      # argparse wraps the help to the terminal's width
    assert "--arch {mlp,dcgan}" in out and "--width WIDTH" in out and "below the mlp ones' quality so far" in out
