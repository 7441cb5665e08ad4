"""Runs are never lost: ``numgan train`` refuses to overwrite a run, resumes one bit for bit, saves on Ctrl-C,
and every failure of the command line is one line on stderr, never a traceback (issue 14)."""
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import default_sigint
from numgan import cli
from numgan._npz import write_npz
from numgan.checkpoint import load_checkpoint, load_history, read_checkpoint
from numgan.data import ring
from numgan.gan import GAN
from numgan.network import mlp
from numgan.train import Snapshots, TrainingInterrupted, fit

ROOT = str(Path(__file__).resolve().parents[1])
ENV = {"MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": ROOT}
TINY = ["--steps", "40", "--hidden", "16,16", "--batch-size", "32", "--snapshots", "8", "--no-progress"]


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "numgan.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=ENV)


def one_line(stderr):
    """The one non-empty line of ``stderr`` (fails if there are more, or a traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


# -- refusing, forcing and resuming ----------------------------------------------------------------

def test_a_run_folder_holding_a_run_is_refused_then_forced(tmp_path):
    args = ["train", *TINY, "--steps", "4", "--out", str(tmp_path), "--name", "r"]
    assert run(*args).returncode == 0
    run_dir = tmp_path / "r"
    before = (run_dir / "checkpoint.npz").read_bytes()
    again = run(*args)
    assert again.returncode == 2
    line = one_line(again.stderr)
    assert str(run_dir) in line and "--resume" in line and "--force" in line
    assert (run_dir / "checkpoint.npz").read_bytes() == before          # nothing touched
    (run_dir / "checkpoint.npz.abc123.tmp").write_bytes(b"half a save")
    (run_dir / "notes.txt").write_text("mine")
    forced = run(*args[:-4], "--steps", "6", "--out", str(tmp_path), "--name", "r", "--force")
    assert forced.returncode == 0, forced.stderr
    assert read_checkpoint(run_dir / "checkpoint.npz")[0]["step"] == 6
    assert json.loads((run_dir / "metrics.json").read_text())["steps"] == 6
    assert not (run_dir / "checkpoint.npz.abc123.tmp").exists()        # the old run's leftovers are gone
    assert (run_dir / "notes.txt").read_text() == "mine"                # what numgan did not write stays


def _interrupt_at(monkeypatch, step, hard):
    """Make ``numgan train`` see a Ctrl-C after ``step``: a SIGINT (``hard=False``: the step finishes and is
    saved) or a KeyboardInterrupt raised inside the step (``hard=True``: the step is lost, not saved)."""
    decay = cli.decay_callbacks

    def interrupter(gan, record):
        if gan.step == step:
            if hard:
                raise KeyboardInterrupt
            signal.raise_signal(signal.SIGINT)
    monkeypatch.setattr(cli, "decay_callbacks", lambda *a: [*decay(*a), interrupter])


def _outputs(run_dir):
    meta, arrays = read_checkpoint(run_dir / "checkpoint.npz")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics.pop("seconds")
    files = {name: (run_dir / name).read_bytes() for name in ("training.gif", "samples.png", "field.png",
                                                              "losses.png", "snapshots.npz")}
    return meta, arrays, metrics, files


@pytest.mark.parametrize("hard, saved", [(False, 13), (True, 12)])
def test_an_interrupted_run_resumed_ends_as_the_uninterrupted_one(tmp_path, monkeypatch, capsys, hard, saved,
                                                                  python_sigint):
    common = ["train", *TINY, "--ema", "0.9", "--out"]         # the ring recipe: R1, decay from step 20, EMA
    assert cli.main([*common, str(tmp_path / "a"), "--name", "r"]) == 0
    with monkeypatch.context() as m:
        _interrupt_at(m, 13, hard)
        assert cli.main([*common, str(tmp_path / "b"), "--name", "r"]) == 130
    err = capsys.readouterr().err
    assert one_line(err) == (f"numgan: interrupted: step {saved} is saved in {tmp_path / 'b' / 'r' / 'checkpoint.npz'};"
                             f" resume with: {cli.resume_command(tmp_path / 'b' / 'r')}")
    assert read_checkpoint(tmp_path / "b" / "r" / "checkpoint.npz")[0]["step"] == saved
    assert not (tmp_path / "b" / "r" / "metrics.json").exists()
    assert cli.main(shlex.split(cli.resume_command(tmp_path / "b" / "r"))[1:] + ["--no-progress"]) == 0
    meta_a, arrays_a, metrics_a, files_a = _outputs(tmp_path / "a" / "r")
    meta_b, arrays_b, metrics_b, files_b = _outputs(tmp_path / "b" / "r")
    assert meta_a == meta_b                                    # step, rng, optimizers, options, checksum
    assert arrays_a.keys() == arrays_b.keys()
    for name in arrays_a:                                      # parameters, EMA, Adam moments, history
        np.testing.assert_array_equal(arrays_a[name], arrays_b[name], err_msg=name)
    assert metrics_a == metrics_b
    for name in files_a:
        assert files_a[name] == files_b[name], name


def test_resume_refuses_other_settings_and_a_missing_run(tmp_path):
    base = ["train", *TINY, "--steps", "4", "--out", str(tmp_path), "--name", "r"]
    assert run(*base).returncode == 0
    other = run(*base, "--g-lr", "0.5", "--resume")
    assert other.returncode == 2 and "--g-lr" in one_line(other.stderr)
    missing = run("train", *TINY, "--out", str(tmp_path), "--name", "none", "--resume")
    assert missing.returncode == 2 and "no run to resume" in one_line(missing.stderr)
    both = run(*base, "--resume", "--force")
    assert both.returncode == 2 and "not allowed with" in one_line(both.stderr)


def test_a_key_error_while_resuming_is_one_line_without_its_quotes(tmp_path, monkeypatch, capsys):
    base = ["train", *TINY, "--steps", "4", "--out", str(tmp_path), "--name", "r"]
    assert cli.main(base) == 0

    def missing(path):
        raise KeyError("the history has no array 'loss_d'")
    monkeypatch.setattr(cli, "load_history", missing)
    capsys.readouterr()
    assert cli.main([*base, "--resume"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.endswith("cannot be resumed: the history has no array 'loss_d'"), line


def test_ctrl_c_saves_the_step_and_says_how_to_resume(tmp_path):
    args = ["train", "--steps", "1000", "--hidden", "16,16", "--batch-size", "32", "--no-progress",
            "--out", str(tmp_path), "--name", "long"]
    proc = subprocess.Popen([sys.executable, "-m", "numgan.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV, preexec_fn=default_sigint)
    checkpoint = tmp_path / "long" / "checkpoint.npz"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    line = one_line(stderr)
    step = read_checkpoint(checkpoint)[0]["step"]
    assert 100 <= step < 1000 and f"step {step} is saved" in line and "--resume" in line
    command = line.split("resume with: ")[1]
    resumed = run(*shlex.split(command)[1:], "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {tmp_path / 'long'}/ at step {step} of 1000" in resumed.stdout
    assert read_checkpoint(checkpoint)[0]["step"] == 1000


# -- one line for every failure ------------------------------------------------------------------

@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """A tiny run's checkpoint, a copy whose ``extra`` is a list and one whose ``extra`` names image data."""
    root = tmp_path_factory.mktemp("runs")
    assert cli.main(["train", *TINY, "--steps", "2", "--out", str(root), "--name", "t"]) == 0
    good = root / "t" / "checkpoint.npz"
    meta, arrays = read_checkpoint(good)
    mine = {k: v for k, v in meta.items() if k not in ("format", "version", "checksum", "checksum_covers")}
    bad = write_npz(root / "extra-list.npz", arrays, {**mine, "extra": [1, 2]}, meta["format"], meta["version"])
    write_npz(root / "other-data.npz", arrays, {**mine, "extra": {**meta["extra"], "data": "digits"}},
              meta["format"], meta["version"])
    return good, bad


CASES = {
    "--out through a file": (["train", *TINY, "--out", "{file}/runs"], "Not a directory"),
    "run folder is a file": (["train", *TINY, "--out", "{dir}", "--name", "file"], "is a file"),
    "unwritable --out": (["train", *TINY, "--out", "{locked}/runs"], "Permission denied"),
    "huge --hidden": (["train", *TINY, "--hidden", "100000,100000", "--out", "{dir}"], "--hidden 100000,100000"),
    "huge --n": (["sample", "--checkpoint", "{good}", "--n", "10000000000", "--out", "{dir}/s.npy"],
                 "--n 10000000000"),
    "huge --n evaluate": (["evaluate", "--checkpoint", "{good}", "--n", "10000000000"], "--n 10000000000"),
    "--seed -1": (["train", "--seed", "-1"], "argument --seed"),
    "sample --seed -1": (["sample", "--checkpoint", "{good}", "--seed", "-1", "--out", "x.npy"], "argument --seed"),
    "--checkpoint a directory": (["sample", "--checkpoint", "{dir}", "--out", "{dir}/s.npy"], "is a directory"),
    "extra not a dict, sample": (["sample", "--checkpoint", "{bad}", "--out", "{dir}/s.png"], "extra"),
    "extra not a dict, evaluate": (["evaluate", "--checkpoint", "{bad}"], "extra"),
    "extra names other data": (["evaluate", "--checkpoint", "{good_dir}/other-data.npz"],
                               "makes samples of 2 numbers, but the 8x8 images of 'digits' have 64"),
    "--out onto a directory": (["sample", "--checkpoint", "{good}", "--out", "{dir}/d.npy"], "Is a directory"),
    "bad option": (["train", "--steps", "0"], "argument --steps"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_failure_is_one_line(case, tmp_path, checkpoints):
    args, message = CASES[case]
    if case == "unwritable --out" and os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "d.npy").mkdir()
    (tmp_path / "locked").mkdir(mode=0o500)
    good, bad = checkpoints
    names = dict(file=tmp_path / "file", dir=tmp_path, locked=tmp_path / "locked", good=good, bad=bad,
                 good_dir=good.parent.parent)
    out = run(*[a.format(**names) for a in args], cwd=tmp_path)
    assert out.returncode != 0
    line = one_line(out.stderr)
    assert line.startswith("numgan") and message in line, line
    assert "does not exist" not in line


# -- fit -------------------------------------------------------------------------------------------

def small_gan():
    return GAN(mlp([2, 8, 2], seed=0), mlp([2, 8, 1], seed=1), g_lr=1e-3, d_lr=1e-3)


def test_fit_names_checkpoint_every_without_a_path_and_a_sampler_of_the_wrong_size():
    data = ring(100, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="checkpoint_every needs a checkpoint_path.*checkpoint_every=5"):
        fit(small_gan(), data, steps=2, batch_size=8, progress=False, checkpoint_every=5)

    def five_rows(n, rng):
        return ring(5, rng=rng)
    with pytest.raises(ValueError, match=r"the data sampler .*five_rows returned 5 rows .* asked for 16"):
        fit(small_gan(), five_rows, steps=2, batch_size=16, progress=False)


def test_fit_saves_the_last_completed_step_on_ctrl_c(tmp_path, python_sigint):
    data = ring(200, rng=np.random.default_rng(0))
    path = tmp_path / "ck.npz"

    def ctrl_c(gan, record):
        if gan.step == 3:
            signal.raise_signal(signal.SIGINT)
    gan = small_gan()
    with pytest.raises(TrainingInterrupted) as info:
        fit(gan, data, steps=10, batch_size=8, rng=0, progress=False, callbacks=[ctrl_c],
            checkpoint_path=path, checkpoint_every=4)
    assert isinstance(info.value, KeyboardInterrupt)
    assert (info.value.step, info.value.saved_step, info.value.checkpoint_path) == (3, 3, path)
    saved, _ = load_checkpoint(path)
    np.testing.assert_array_equal(saved.G.flat_params, gan.G.flat_params)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler      # the handler is put back

    def hard(gan, record):
        if gan.step == 6:
            raise KeyboardInterrupt
    with pytest.raises(TrainingInterrupted) as info:         # mid-step: nothing half-updated is saved
        fit(gan, data, steps=10, batch_size=8, rng=0, progress=False, callbacks=[hard],
            history=load_history(path), checkpoint_path=path, checkpoint_every=4)
    assert (info.value.step, info.value.saved_step) == (5, 4)
    with pytest.raises(KeyboardInterrupt) as plain:          # without a checkpoint: a plain interrupt
        fit(small_gan(), data, steps=10, batch_size=8, rng=0, progress=False, callbacks=[hard])
    assert not isinstance(plain.value, TrainingInterrupted)


def test_snapshots_save_and_load(tmp_path):
    gan = small_gan()
    snaps = Snapshots(every=2, n=4, seed=1)
    fit(gan, ring(100, rng=np.random.default_rng(0)), steps=5, batch_size=8, rng=0, progress=False,
        callbacks=[snaps])
    snaps.save(tmp_path / "s.npz")
    again = Snapshots(every=2, n=4, seed=1)
    again.load(tmp_path / "s.npz", upto=4)
    assert [s for s, _ in again.frames] == [1, 2, 4]
    np.testing.assert_array_equal(again.frames[-1][1], snaps.frames[2][1])
    with pytest.raises(ValueError, match="snapshots taken with"):
        Snapshots(every=3, n=4, seed=1).load(tmp_path / "s.npz", upto=4)
    with pytest.raises(ValueError, match="misses frames"):
        Snapshots(every=2, n=4, seed=1).load(tmp_path / "s.npz", upto=8)


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_resume_without_its_snapshot_frames_still_finishes(tmp_path, damage):
    """A lost or damaged snapshots.npz costs the GIF's frames, never the run."""
    common = ["train", "--steps", "20", "--hidden", "8", "--batch-size", "16", "--snapshots", "2", "--no-progress",
              "--out", str(tmp_path), "--name", "r"]
    assert run(*common).returncode == 0
    frames = tmp_path / "r" / "snapshots.npz"
    if damage == "missing":
        frames.unlink()
    else:
        frames.write_bytes(b"garbage")
    out = run(*common[:-2], "--name", "r", "--resume")
    assert out.returncode == 0, out.stderr
    assert "training.gif not written" in out.stdout and "Traceback" not in out.stderr
