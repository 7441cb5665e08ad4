"""IDX files: exact bytes, round trips, gzip by magic, clear errors, and load_fashion_mnist on small files."""
import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import numgan.data.idx as idx
from numgan.data import load_fashion_mnist, load_idx, save_idx

IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def header(code: int, *shape: int) -> bytes:
    """The IDX header written by hand: two zero bytes, the type code, the dimension count, the sizes."""
    return bytes([0, 0, code, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)


# ---------------------------------------------------------------- the format, byte by byte

def test_reads_a_file_written_by_hand(tmp_path):
    path = tmp_path / "hand"
    path.write_bytes(header(0x08, 2, 3) + bytes([0, 1, 2, 253, 254, 255]))
    x = load_idx(path)
    assert x.dtype == np.uint8 and x.shape == (2, 3)
    assert x.tolist() == [[0, 1, 2], [253, 254, 255]]     # C order: the last index runs fastest


@pytest.mark.parametrize("code, big_endian, values", [
    (0x09, b"\x80\x7f", [-128, 127]),
    (0x0B, b"\x00\x01\xff\xfe", [1, -2]),
    (0x0C, b"\x01\x02\x03\x04\xff\xff\xff\xff", [0x01020304, -1]),
    (0x0D, b"\x3f\x80\x00\x00\xc0\x00\x00\x00", [1.0, -2.0]),
    (0x0E, b"\x3f\xf0\x00\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x00", [1.0, -2.0]),
])
def test_numbers_are_big_endian_both_ways(tmp_path, code, big_endian, values):
    path = tmp_path / "be"
    path.write_bytes(header(code, 2) + big_endian)
    x = load_idx(path)
    assert x.tolist() == values and x.dtype == idx.IDX_TYPES[code].newbyteorder("=")
    assert x.dtype.isnative
    save_idx(tmp_path / "again", x)
    assert (tmp_path / "again").read_bytes() == header(code, 2) + big_endian


@pytest.mark.parametrize("dtype", IDX_DTYPES)
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (1, 2, 1, 3), (0, 28, 28)])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_round_trip(tmp_path, dtype, shape, name):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info is not None:
        x = rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
    else:
        x = (rng.standard_normal(shape) * 1e3).astype(dtype)
    path = save_idx(tmp_path / name, x)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    y = load_idx(path)
    assert y.dtype == np.dtype(dtype) and y.shape == shape and y.flags.writeable
    np.testing.assert_array_equal(y, x)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(arrays(st.sampled_from(IDX_DTYPES), array_shapes(min_dims=1, max_dims=5, min_side=0, max_side=4)),
       st.booleans())
def test_round_trip_any_array(tmp_path_factory, x, gz):
    path = tmp_path_factory.mktemp("idx") / ("x.gz" if gz else "x")
    y = load_idx(save_idx(path, x))
    assert y.dtype == x.dtype and y.shape == x.shape
    np.testing.assert_array_equal(y, x)       # NaNs compare equal here, and their bits survive


def test_gzip_is_detected_by_its_magic_bytes_not_the_name(tmp_path):
    x = np.arange(12, dtype=np.int16).reshape(3, 4)
    save_idx(tmp_path / "x.gz", x)
    save_idx(tmp_path / "y", x)
    (tmp_path / "x.gz").rename(tmp_path / "gzipped-without-suffix")
    (tmp_path / "y").rename(tmp_path / "plain-with-suffix.gz")
    np.testing.assert_array_equal(load_idx(tmp_path / "gzipped-without-suffix"), x)
    np.testing.assert_array_equal(load_idx(str(tmp_path / "plain-with-suffix.gz")), x)


def test_save_accepts_any_byte_order_and_gzip_output_is_reproducible(tmp_path):
    x = np.array([[1, -2, 3]], dtype=">i4")
    a, b = save_idx(tmp_path / "a.gz", x), save_idx(tmp_path / "b.gz", x.astype("<i4"))
    assert a.read_bytes() == b.read_bytes()
    assert gzip.decompress(a.read_bytes()) == header(0x0C, 1, 3) + x.tobytes()


# ---------------------------------------------------------------- errors that say what is wrong

def write(tmp_path, data: bytes, name="bad") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_truncated_data_says_how_much_is_missing(tmp_path):
    path = write(tmp_path, header(0x08, 60000, 28, 28) + bytes(1000))
    with pytest.raises(ValueError, match=r"expected 47040000 bytes of data .* found 1000: the file is truncated"):
        load_idx(path)


def test_truncated_gzip_stream(tmp_path):
    full = save_idx(tmp_path / "x.gz", np.arange(4000, dtype=np.int32)).read_bytes()
    path = write(tmp_path, full[: len(full) // 2])
    with pytest.raises(ValueError, match="gzip stream is truncated or corrupt"):
        load_idx(path)


def test_a_gzipped_file_truncated_inside_the_data(tmp_path):
    path = write(tmp_path, gzip.compress(header(0x0D, 10) + bytes(12)), name="x.gz")
    with pytest.raises(ValueError, match=r"\(gunzipped\): expected 40 bytes of data .* found 12: the file is truncated"):
        load_idx(path)


@pytest.mark.parametrize("data, message", [
    (b"", "0 bytes, too short for the 4-byte IDX magic number"),
    (b"\x00\x00", "2 bytes, too short"),
    (b"\x89PNG\r\n\x1a\n" + bytes(20), "not an IDX file: its magic number must start with two zero bytes, got 89 50 4e 47"),
    (b"hello, world\n", "not an IDX file"),
    (header(0x0A, 2) + bytes(2), "unknown IDX type code 0x0A, expected one of 0x08 \\(uint8\\)"),
    (header(0x08) + bytes(4), "the IDX header gives 0 dimensions, expected at least 1"),
    (header(0x08, 3, 4)[:9], "a header of 2 dimensions needs 12 bytes, found 9: the file is truncated"),
    (header(0x08, 2, 3) + bytes(7), "expected 6 bytes of data .*found 7: 1 bytes follow the data"),
])
def test_foreign_or_damaged_files(tmp_path, data, message):
    with pytest.raises(ValueError, match=message):
        load_idx(write(tmp_path, data))


def test_wrong_dimension_count(tmp_path):
    good = save_idx(tmp_path / "x", np.zeros((4, 5, 6), dtype=np.uint8)).read_bytes()
    fewer = good[:3] + bytes([2]) + good[4:]     # says 2 dims: the third size is read as data
    more = good[:3] + bytes([4]) + good[4:]      # says 4 dims: the first data bytes are read as a size
    with pytest.raises(ValueError, match=r"expected 20 bytes of data \(shape \(4, 5\), uint8\), found 124: "
                                         r"104 bytes follow the data \(a wrong dimension count"):
        load_idx(write(tmp_path, fewer))
    with pytest.raises(ValueError, match=r"expected 0 bytes of data .* found 116"):
        load_idx(write(tmp_path, more))


def test_missing_file_and_bad_path_type(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_idx(tmp_path / "nothing-here")
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got int 3"):
        load_idx(3)


@pytest.mark.parametrize("array, error, message", [
    ([1, 2, 3], TypeError, "array must be a numpy array, got list"),
    (np.zeros(3, dtype=np.int64), TypeError, "IDX dtype .* got int64"),
    (np.zeros(3, dtype=bool), TypeError, "IDX dtype .* got bool"),
    (np.zeros(3, dtype=np.float16), TypeError, "IDX dtype .* got float16"),
    (np.array(5, dtype=np.uint8), ValueError, r"1 to 255 dimensions, got shape \(\)"),
])
def test_save_rejects_what_idx_cannot_hold(tmp_path, array, error, message):
    with pytest.raises(error, match=message):
        save_idx(tmp_path / "x", array)


# ---------------------------------------------------------------- Fashion-MNIST from a folder

def fashion_folder(folder: Path, n_train=6, n_test=4, gz=True) -> dict:
    """Four small Fashion-MNIST-like IDX files (28x28 uint8) in ``folder``; returns what they hold."""
    rng = np.random.default_rng(7)
    held = {}
    for prefix, n in [("train", n_train), ("t10k", n_test)]:
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[0, 0, 0], images[0, 0, 1] = 0, 255
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        save_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
        save_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        held[prefix] = images, labels
    return held


@pytest.mark.parametrize("gz", [True, False])
def test_load_fashion_mnist_from_a_folder(tmp_path, gz):
    held = fashion_folder(tmp_path, gz=gz)
    x, y = load_fashion_mnist(tmp_path)
    assert x.shape == (6, 784) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == -1.0 and x.max() == 1.0
    np.testing.assert_allclose(x, held["train"][0].reshape(6, -1) / 255 * 2 - 1, atol=1e-6)
    np.testing.assert_array_equal(y, held["train"][1])
    x, y = load_fashion_mnist(str(tmp_path), split="test", scale=None, flatten=False)
    assert x.dtype == np.uint8
    np.testing.assert_array_equal(x, held["t10k"][0])
    x, y = load_fashion_mnist(tmp_path, split="all", scale="unit", dtype=np.float64)
    assert x.shape == (10, 784) and x.dtype == np.float64 and x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(y, np.concatenate([held["train"][1], held["t10k"][1]]))


def test_load_fashion_mnist_looks_in_the_debian_folder_by_default(tmp_path, monkeypatch):
    held = fashion_folder(tmp_path)
    monkeypatch.setattr(idx, "FASHION_MNIST_DIR", str(tmp_path))
    _, y = load_fashion_mnist(split="test")
    np.testing.assert_array_equal(y, held["t10k"][1])


def test_the_default_folder_is_where_debian_installs_the_files():
    assert idx.FASHION_MNIST_DIR == "/usr/share/datasets/fashion-mnist"
    assert len(idx.FASHION_MNIST_CLASSES) == 10


def test_missing_files_say_how_to_get_them(tmp_path, monkeypatch):
    hint = r"sudo apt install dataset-fashion-mnist.*pass their folder as path="
    with pytest.raises(FileNotFoundError, match="no train-images-idx3-ubyte.gz .* in " + str(tmp_path) + ".*" + hint):
        load_fashion_mnist(tmp_path)
    monkeypatch.setattr(idx, "FASHION_MNIST_DIR", str(tmp_path / "not-installed"))
    with pytest.raises(FileNotFoundError, match=hint):
        load_fashion_mnist(split="test")
    fashion_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    load_fashion_mnist(tmp_path, split="train")                   # the train files are all there
    with pytest.raises(FileNotFoundError, match="no t10k-labels-idx1-ubyte.gz"):
        load_fashion_mnist(tmp_path, split="test")


def test_load_fashion_mnist_checks_what_the_files_hold(tmp_path):
    fashion_folder(tmp_path)
    save_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(5, dtype=np.uint8))
    with pytest.raises(ValueError, match="holds 6 images but .* 5 labels"):
        load_fashion_mnist(tmp_path)
    save_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.full(6, 10, dtype=np.uint8))
    with pytest.raises(ValueError, match="labels 0..9, got a label 10"):
        load_fashion_mnist(tmp_path)
    save_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((6, 784), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"uint8 images \(N, rows, columns\), got uint8 of shape \(6, 784\)"):
        load_fashion_mnist(tmp_path)
    with pytest.raises(ValueError, match="path must be the folder holding the IDX files"):
        load_fashion_mnist(tmp_path / "train-images-idx3-ubyte.gz")
    with pytest.raises(ValueError, match="split must be one of"):
        load_fashion_mnist(tmp_path, split="validation")
    with pytest.raises(ValueError, match="scale must be one of"):
        load_fashion_mnist(tmp_path, scale="[0, 1]")


@pytest.mark.skipif(not Path(idx.FASHION_MNIST_DIR, "t10k-labels-idx1-ubyte.gz").exists(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_the_real_fashion_mnist_test_set():
    x, y = load_fashion_mnist(split="test", scale=None, flatten=False)
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [1000] * 10
