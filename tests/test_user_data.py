"""Your own data (issue 16): reading .npy / .npz / .csv / PNG folders, the standardisation, fit's option,
the mapping in the checkpoint (also from hostile files), and `numgan train --data FILE` end to end."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from numgan import mlp
from numgan.checkpoint import STANDARDISE_SCALE, STANDARDISE_SHIFT, load_checkpoint, load_standardiser, \
    read_checkpoint, save_checkpoint
from numgan.cli import main
from numgan.data import Standardiser, UserData, load_data_file
from numgan.data.user_files import user_recipe
from numgan.gan import GAN
from numgan.recipes import resolve_recipe
from numgan.train import fit

from test_checkpoint_files import rewrite


def points(n=300, seed=0):
    return np.random.default_rng(seed).normal([1000.0, 5.0, -3.0], [200.0, 0.1, 1.0], size=(n, 3))


def small_gan(d=3, seed=0, **options):
    return GAN(mlp([2, 8, d], seed=seed), mlp([d, 8, 1], seed=seed + 1), **options)


# -- the standardiser -------------------------------------------------------------------------------

def test_standardiser_of_points_centres_and_scales_each_feature_and_inverts():
    x = points()
    s = Standardiser.of_points(x)
    y = s.forward(x, np.float64)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1, atol=1e-12)
    np.testing.assert_allclose(s.inverse(y, np.float64), x, rtol=1e-12)
    assert s.forward(x).dtype == np.float32 and s.dim == 3 and not s.is_identity


def test_a_constant_feature_is_only_shifted_and_a_range_goes_to_minus_one_one():
    x = np.array([[1.0, 7.0], [2.0, 7.0], [3.0, 7.0]])
    s = Standardiser.of_points(x)
    assert s.scale[1] == 1 and s.shift[1] == 7
    r = Standardiser.of_range(0.0, 1.0, 4)
    np.testing.assert_array_equal(r.forward(np.array([[0.0, 0.5, 1.0, 0.25]]), np.float64), [[-1, 0, 1, -0.5]])
    assert Standardiser.identity(2).is_identity


@pytest.mark.parametrize("shift, scale, match", [
    ([0.0, 1.0], [1.0], "same shape"), ([0.0], [0.0], "positive"), ([np.nan], [1.0], "finite"),
    ([0.0], [-1.0], "positive"), ([], [], "non-empty"), ([[0.0]], [[1.0]], "1-D")])
def test_standardiser_refuses_bad_numbers(shift, scale, match):
    with pytest.raises(ValueError, match=match):
        Standardiser(np.array(shift), np.array(scale))


# -- reading files ------------------------------------------------------------------------------------

def test_npy_npz_and_csv_give_the_same_rows(tmp_path):
    x = points(20)
    np.save(tmp_path / "p.npy", x)
    np.savez(tmp_path / "p.npz", mine=x)
    np.savetxt(tmp_path / "p.csv", x, delimiter=",", header="a,b,c", comments="")
    np.savetxt(tmp_path / "q.csv", x, delimiter=",")
    for name in ("p.npy", "p.npz", "p.csv", "q.csv"):
        data = load_data_file(tmp_path / name)
        assert data.kind == "points" and data.x.dtype == np.float32 and data.x.shape == (20, 3)
        np.testing.assert_allclose(data.x, x.astype(np.float32), rtol=1e-6)
    assert "'mine'" in load_data_file(tmp_path / "p.npz").source


BAD_CSV = {
    "ragged": ("1,2\n3,4\n5\n", r"line 3: expected 2 cells .*ragged"),
    "text": ("1,2\n3,abc\n", r"line 2, column 2: expected a number, got 'abc'"),
    "nan": ("1,2\nnan,4\n", r"line 2, column 1: expected a finite number, got 'nan'"),
    "inf": ("x,y\n1,2\n3,-inf\n", r"line 3, column 2: expected a finite number"),
    "header-half": ("x,1\n1,2\n", r"line 1, column 1: expected a number, got 'x'"),
    "empty-cell": ("1,2\n3,\n", r"line 2, column 2: expected a number, got ''"),
    "one-row": ("x,y\n1,2\n", r"at least 2 rows"),
    "nothing": ("x,y\n\n", r"expected rows of numbers, got none"),
}


@pytest.mark.parametrize("name", BAD_CSV)
def test_bad_csv_files_name_the_line_and_column(tmp_path, name):
    text, match = BAD_CSV[name]
    path = tmp_path / f"{name}.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as info:
        load_data_file(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("array, match", [
    (np.arange(5.0), "1-D array"), (np.zeros((1, 3)), "at least 2 rows"),
    (np.array([[1.0, np.inf], [1, 2]]), "NaN or inf"),
    (np.array([["a", "b"], ["c", "d"]]), "real numbers"), (np.zeros((2, 3, 4)), r"shape \(N, d\)"),
    (np.array([[1e300, 0], [0, 0]]), "beyond float32"), (np.ones((3, 2), bool), "real numbers")])
def test_bad_npy_arrays_are_refused_in_one_line(tmp_path, array, match):
    np.save(tmp_path / "x.npy", array)
    with pytest.raises(ValueError, match=match):
        load_data_file(tmp_path / "x.npy")


def test_npz_of_two_arrays_unknown_extension_pickles_and_garbage_are_refused(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.zeros((3, 2)), b=np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"one array, got 2 \['a', 'b'\]"):
        load_data_file(tmp_path / "two.npz")
    (tmp_path / "x.txt").write_text("1,2\n")
    with pytest.raises(ValueError, match="unknown file type '.txt'"):
        load_data_file(tmp_path / "x.txt")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="not a readable .npy"):
        load_data_file(tmp_path / "obj.npy")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not a zip at all")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_data_file(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError):
        load_data_file(tmp_path / "missing.csv")


def write_pngs(folder, images, cmap="gray"):
    folder.mkdir(exist_ok=True)
    for i, image in enumerate(images):
        if image.ndim == 2:
            mpimg.imsave(folder / f"{i:03d}.png", image, cmap=cmap, vmin=0, vmax=1)
        else:
            mpimg.imsave(folder / f"{i:03d}.png", image)
    return folder


def test_a_folder_of_grey_pngs_reads_as_rows_in_zero_one(tmp_path):
    rng = np.random.default_rng(0)
    images = np.round(rng.uniform(size=(5, 6, 4)) * 255) / 255
    folder = write_pngs(tmp_path / "imgs", images)
    (folder / "notes.txt").write_text("ignored")
    data = load_data_file(folder)
    assert data.kind == "images" and data.shape == (6, 4) and data.x.shape == (5, 24)
    np.testing.assert_allclose(data.x, images.reshape(5, -1), atol=1 / 255)
    assert data.recipe_name == "digits" and data.standardiser() == Standardiser.of_range(0, 1, 24)


def test_bad_image_folders_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="empty folder"):
        load_data_file((tmp_path / "empty").mkdir() or tmp_path / "empty")
    write_pngs(tmp_path / "mixed", [rng.uniform(size=(4, 4)), rng.uniform(size=(5, 4))])
    with pytest.raises(ValueError, match=r"mixed sizes"):
        load_data_file(tmp_path / "mixed")
    write_pngs(tmp_path / "colour", [rng.uniform(size=(4, 4, 3)), rng.uniform(size=(4, 4, 3))])
    with pytest.raises(ValueError, match="colour"):
        load_data_file(tmp_path / "colour")
    write_pngs(tmp_path / "one", [rng.uniform(size=(4, 4))])
    with pytest.raises(ValueError, match="at least 2 images"):
        load_data_file(tmp_path / "one")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (tmp_path / "broken" / "b.png").write_bytes(b"nothing")
    with pytest.raises(ValueError, match="not a readable PNG"):
        load_data_file(tmp_path / "broken")


def test_recipe_widths_follow_d_and_images_pick_the_recipe_by_size():
    x = UserData
    two = user_recipe(x(np.zeros((3, 2), np.float32), "points", "p"))
    assert two.networks == {**resolve_recipe("grid").networks, "g_hidden": [128] * 4, "d_hidden": [128] * 4}
    wide = user_recipe(x(np.zeros((3, 50), np.float32), "points", "p"))
    assert wide.networks["g_hidden"] == [200] * 4 and wide.networks["z_dim"] == 50 and wide.networks["data_dim"] == 50
    assert user_recipe(x(np.zeros((3, 50), np.float32), "points", "p"), hidden=[16]).networks["g_hidden"] == [16]
    big = user_recipe(x(np.zeros((3, 400), np.float32), "images", "f", (20, 20)))
    assert big.data == "mnist" and big.networks["data_dim"] == 400 and big.networks["out_activation"] == "tanh"


# -- fit's option -------------------------------------------------------------------------------------

def test_fit_is_unchanged_without_the_option_and_trains_on_standardised_data_with_it(tmp_path):
    x = points(64).astype(np.float32)
    a, b = small_gan(), small_gan()
    fit(a, x, 5, 16, rng=0, progress=False)
    fit(b, x, 5, 16, rng=0, progress=False, standardise=False)
    np.testing.assert_array_equal(a.G.flat_params, b.G.flat_params)
    c, d = small_gan(), small_gan()
    fit(c, x, 5, 16, rng=0, progress=False, standardise=True, checkpoint_path=tmp_path / "c.npz")
    fit(d, Standardiser.of_points(x).forward(x), 5, 16, rng=0, progress=False)
    np.testing.assert_array_equal(c.G.flat_params, d.G.flat_params)     # the same as standardising by hand
    assert load_standardiser(tmp_path / "c.npz") == Standardiser.of_points(x)
    e = small_gan()
    fit(e, lambda n, rng: x[rng.integers(0, 64, n)].astype(np.float64), 5, 16, rng=0, progress=False,
        standardise=Standardiser.of_points(x))                            # a sampler of any dtype, with a mapping
    with pytest.raises(ValueError, match="needs the data as an array"):
        fit(small_gan(), lambda n, rng: x[:n], 5, 16, rng=0, progress=False, standardise=True)
    with pytest.raises(ValueError, match="maps 2 features, but the generator makes 3"):
        fit(small_gan(), x, 5, 16, rng=0, progress=False, standardise=Standardiser.identity(2))
    with pytest.raises(TypeError, match="standardise must be"):
        fit(small_gan(), x, 5, 16, rng=0, progress=False, standardise="yes")


# -- the mapping in checkpoints, and from hostile files -----------------------------------------------

@pytest.fixture
def mapped(tmp_path):
    gan = small_gan()
    path = tmp_path / "m.npz"
    save_checkpoint(path, gan, np.random.default_rng(0), standardiser=Standardiser.of_points(points()))
    meta, arrays = read_checkpoint(path)
    return {k: v for k, v in meta.items() if k not in ("format", "version", "checksum", "checksum_covers")}, arrays


def test_an_old_checkpoint_loads_as_the_identity(tmp_path):
    path = tmp_path / "old.npz"
    save_checkpoint(path, small_gan(), np.random.default_rng(0))
    assert load_standardiser(path) == Standardiser.identity(3)


@pytest.mark.parametrize("change, match", [
    (lambda a: a.pop(STANDARDISE_SCALE), "without its pair"),
    (lambda a: a.update({STANDARDISE_SHIFT: np.zeros(4)}), r"float64 of shape \(3,\)"),
    (lambda a: a.update({STANDARDISE_SCALE: np.ones(3, np.float32)}), "must be float64"),
    (lambda a: a.update({STANDARDISE_SCALE: np.array([1.0, 0.0, 1.0])}), "scale must be positive"),
    (lambda a: a.update({STANDARDISE_SCALE: np.array([1.0, -2.0, 1.0])}), "scale must be positive"),
    (lambda a: a.update({STANDARDISE_SHIFT: np.array([1.0, np.nan, 1.0])}), "NaN or inf|finite"),
    (lambda a: a.update({STANDARDISE_SHIFT: np.ones((3, 1))}), r"shape \(3,\)"),
])
def test_a_crafted_mapping_is_one_value_error_naming_the_file(mapped, tmp_path, change, match):
    meta, arrays = mapped
    arrays = dict(arrays)
    change(arrays)
    path = rewrite(tmp_path / "bad.npz", arrays, meta)
    with pytest.raises(ValueError, match=match) as info:
        load_standardiser(path)
        load_checkpoint(path)
    assert "bad.npz" in str(info.value)


# -- the command line ------------------------------------------------------------------------------

def test_train_on_a_csv_then_sample_and_evaluate_in_its_units(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.savetxt("pts.csv", points(200), delimiter=",", header="a,b,c", comments="")
    assert main(["train", "--data", "pts.csv", "--steps", "20", "--no-progress", "--hidden", "16,16"]) == 0
    run = tmp_path / "runs" / "pts-non_saturating-seed0"
    assert {"checkpoint.npz", "samples.png", "metrics.json"} <= {p.name for p in run.iterdir()}
    assert main(["sample", "--checkpoint", str(run / "checkpoint.npz"), "--out", "s.npy", "--n", "400"]) == 0
    s = np.load("s.npy")
    assert s.shape == (400, 3) and 500 < s[:, 0].mean() < 1500 and 4 < s[:, 1].mean() < 6   # the data's units
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(run / "checkpoint.npz"), "--n", "100"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["data"].endswith("pts.csv") and len(report["samples_mean"]) == 3
    assert main(["train", "--data", "pts.csv", "--resume"]) == 0                     # nothing left to do
    np.savetxt("pts.csv", points(200, seed=1), delimiter=",")
    capsys.readouterr()
    assert main(["train", "--data", "pts.csv", "--resume"]) == 2
    assert "changed since the run started" in capsys.readouterr().err


def test_three_points_train_and_say_why_there_is_no_precision_or_recall(tmp_path, capsys, monkeypatch):
    """k-nearest-neighbour radii (k = 3) need 4 points: the summary says so instead of printing nan."""
    monkeypatch.chdir(tmp_path)
    np.savetxt("three.csv", points(3), delimiter=",")
    assert main(["train", "--data", "three.csv", "--steps", "5", "--no-progress", "--hidden", "8"]) == 0
    out = capsys.readouterr().out
    assert "no precision or recall (they need at least 4 data points, the data have 3)" in out and "nan" not in out


def test_train_on_a_png_folder_samples_in_zero_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_pngs(tmp_path / "faces", np.random.default_rng(0).uniform(size=(6, 4, 4)))
    assert main(["train", "--data", "faces", "--steps", "5", "--no-progress", "--snapshots", "2"]) == 0
    ck = tmp_path / "runs" / "faces-non_saturating-seed0" / "checkpoint.npz"
    assert load_standardiser(ck) == Standardiser.of_range(0, 1, 16)
    assert main(["sample", "--checkpoint", str(ck), "--out", "s.npy", "--n", "50"]) == 0
    s = np.load("s.npy")
    assert s.min() >= 0 and s.max() <= 1
    assert main(["sample", "--checkpoint", str(ck), "--out", "s.png", "--n", "20"]) == 0


@pytest.mark.parametrize("args, match", [
    (["--data", "nope"], "--data must be one of"),
    (["--data", "x.txt"], "unknown file type"),
    (["--data", "bad.csv"], "line 2, column 1: expected a number"),
    (["--data", "bad.csv", "--conditional"], "--conditional needs labelled images"),
    (["--data", "missing.npy"], "no such file"),
])
def test_train_errors_are_one_line(tmp_path, capsys, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.txt").write_text("1,2\n")
    (tmp_path / "bad.csv").write_text("1,2\nhello,3\n")
    assert main(["train", *args, "--steps", "2", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(match, err), err


def test_the_standardisation_benchmark_runs_quick(tmp_path):
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "standardise.py"
    out = subprocess.run([sys.executable, str(script), "--steps", "3", "--seeds", "1", "--jobs", "1",
                          "--out", str(tmp_path / "s.json")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads((tmp_path / "s.json").read_text())
    assert set(result["summary"]) == {"before", "after"} and len(result["runs"]) == 2
