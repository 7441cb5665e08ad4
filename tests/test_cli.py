"""The command line, run as a user would, in a subprocess, on tiny settings."""
import json
import subprocess
import sys

import numpy as np
import pytest


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "numgan.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env={"MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
                                                     "PATH": "/usr/bin:/bin", "PYTHONPATH": _root()})


def _root():
    from pathlib import Path
    return str(Path(__file__).resolve().parents[1])


def test_demo_trains_and_checks_gradients():
    out = run("demo", "--steps", "200")
    assert out.returncode == 0, out.stderr
    accuracy = float(out.stdout.split("Accuracy on 2000 fresh points: ")[1].split()[0])
    assert accuracy > 0.9
    assert "All gradients agree" in out.stdout and "WRONG" not in out.stdout


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """``numgan train`` on tiny settings: the files it writes, and its output."""
    root = tmp_path_factory.mktemp("cli")
    out = run("train", "--steps", "40", "--hidden", "16,16", "--batch-size", "32", "--snapshots", "4",
              "--no-progress", "--out", str(root / "runs"), "--name", "tiny")
    return root / "runs" / "tiny", out


def test_train_writes_every_output(tiny_run):
    run_dir, out = tiny_run
    assert out.returncode == 0, out.stderr
    names = {p.name for p in run_dir.iterdir()}
    assert {"samples.png", "losses.png", "field.png", "training.gif", "metrics.json", "checkpoint.npz"} <= names
    for name in ("samples.png", "losses.png", "field.png"):
        assert (run_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image
    with Image.open(run_dir / "training.gif") as gif:
        assert gif.n_frames >= 4
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["modes"] == 8 and 0 <= metrics["modes_covered"] <= 8
    assert metrics["options"]["steps"] == 40 and metrics["options"]["g_hidden"] == [16, 16]
    assert metrics["options"]["activation"] == "relu"            # the ring recipe's
    assert "modes" in out.stdout and "high quality" in out.stdout


def test_sample_and_evaluate_from_the_checkpoint(tiny_run, tmp_path):
    run_dir, _ = tiny_run
    ck = str(run_dir / "checkpoint.npz")
    out = run("sample", "--checkpoint", ck, "--n", "50", "--out", str(tmp_path / "s.npy"))
    assert out.returncode == 0, out.stderr
    x = np.load(tmp_path / "s.npy", allow_pickle=False)
    assert x.shape == (50, 2) and x.dtype == np.float32
    out = run("sample", "--checkpoint", ck, "--n", "50", "--out", str(tmp_path / "s.png"))
    assert out.returncode == 0 and (tmp_path / "s.png").stat().st_size > 0
    out = run("evaluate", "--checkpoint", ck, "--n", "500")
    assert out.returncode == 0, out.stderr
    metrics = json.loads(out.stdout)
    assert metrics["data"] == "ring" and metrics["step"] == 40 and metrics["n"] == 500


@pytest.mark.parametrize("args, message", [
    (["demo", "--steps", "0"], "argument --steps: expected a positive integer, got '0'"),
    (["train", "--data", "swirl"], "--data must be one of ['grid', 'moons', 'ring', 'spiral', 'digits', 'fashion', "
                                   "'mnist'], or a .npy, .npz or .csv file, or a folder of PNG images, got 'swirl'"),
    (["train", "--objective", "vanilla"], "argument --objective: invalid choice: 'vanilla'"),
    (["train", "--g-lr", "-1"], "argument --g-lr: expected a positive number, got '-1'"),
    (["train", "--hidden", "64,x"], "argument --hidden: expected comma-separated layer widths"),
    (["train", "--pack", "3", "--batch-size", "32"], "--batch-size must be a multiple of --pack 3, got 32"),
    (["train", "--penalty", "none", "--penalty-every", "4"], "--penalty-every needs a penalty, got --penalty-every 4"),
    (["sample", "--checkpoint", "nowhere.npz", "--out", "x.npy"], "checkpoint file 'nowhere.npz' does not exist"),
])
def test_bad_options_give_a_one_line_error(args, message, tmp_path):
    out = run(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("numgan")


def test_activation_option_chooses_the_hidden_layers(tmp_path):
    from numgan.checkpoint import load_checkpoint
    out = run("train", "--steps", "3", "--hidden", "8", "--batch-size", "16", "--snapshots", "1", "--activation",
              "leaky_relu", "--no-progress", "--out", str(tmp_path), "--name", "leaky")
    assert out.returncode == 0, out.stderr
    gan, _ = load_checkpoint(tmp_path / "leaky" / "checkpoint.npz")
    kinds = {type(layer).__name__ for net in (gan.G, gan.D) for layer in net.layers}
    assert "LeakyReLU" in kinds and "ReLU" not in kinds


def test_penalty_every_option_reaches_the_gan(tmp_path):
    from numgan.checkpoint import load_checkpoint
    out = run("train", "--steps", "3", "--hidden", "8", "--batch-size", "16", "--snapshots", "1", "--penalty-every",
              "2", "--no-progress", "--out", str(tmp_path), "--name", "lazy")
    assert out.returncode == 0, out.stderr
    gan, _ = load_checkpoint(tmp_path / "lazy" / "checkpoint.npz")
    assert gan.config.penalty == "r1" and gan.config.penalty_every == 2


def test_sample_refuses_an_unknown_format(tiny_run, tmp_path):
    out = run("sample", "--checkpoint", str(tiny_run[0] / "checkpoint.npz"), "--out", str(tmp_path / "s.csv"))
    assert out.returncode == 2 and "--out must end in .npy or .png" in out.stderr


def test_help_explains_every_option():
    out = run("train", "--help")
    assert out.returncode == 0
    for option in ("--data", "--objective", "--penalty", "--steps", "--batch-size", "--g-lr", "--d-lr",
                   "--hidden", "--activation", "--penalty-every", "--pack", "--ema", "--clip", "--label-smoothing", "--instance-noise", "--seed"):
        assert option in out.stdout


def test_train_on_digits_conditional(tmp_path):
    out = run("train", "--data", "digits", "--conditional", "--steps", "30", "--hidden", "32", "--snapshots", "3",
              "--no-progress", "--out", str(tmp_path), "--name", "d")
    assert out.returncode == 0, out.stderr
    run_dir = tmp_path / "d"
    assert {"samples.png", "losses.png", "training.gif", "metrics.json", "checkpoint.npz"} <= {
        p.name for p in run_dir.iterdir()}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics["gan"]) >= {"classifier_score", "precision", "recall", "frechet_distance",
                                   "conditional_accuracy", "classes_present"}
    assert metrics["held_out"]["classifier_score"] > metrics["gan"]["classifier_score"]
    assert "classified as their label" in out.stdout
    ev = run("evaluate", "--checkpoint", str(run_dir / "checkpoint.npz"))
    assert ev.returncode == 0, ev.stderr
    assert json.loads(ev.stdout)["data"] == "digits"
    png = run("sample", "--checkpoint", str(run_dir / "checkpoint.npz"), "--n", "20", "--out", str(tmp_path / "g.png"))
    assert png.returncode == 0 and (tmp_path / "g.png").stat().st_size > 0


def test_fashion_without_files_says_how_to_get_them(tmp_path):
    out = run("train", "--data", "fashion", "--fashion-path", str(tmp_path), "--steps", "5", "--no-progress")
    assert out.returncode == 2
    assert "apt install dataset-fashion-mnist" in out.stderr and "Traceback" not in out.stderr
