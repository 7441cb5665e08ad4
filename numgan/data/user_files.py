"""Your own data: points from a ``.npy``, ``.npz`` or ``.csv`` file, or a folder of grey PNG images.

:func:`load_data_file` reads one of

* ``.npy``: one array of shape ``(N, d)`` of real numbers (ints or floats);
* ``.npz``: an archive holding exactly one such array (its key is named in
  :attr:`UserData.source`; an archive of several arrays is refused, since
  numgan cannot guess which one to train on);
* ``.csv``: ``N`` rows of ``d`` comma-separated numbers. The first line is a
  header when *none* of its cells is a number (it is then skipped); blank lines
  are skipped; every other cell must be a finite number;
* a folder: every ``*.png`` in it (sorted by name; other files are ignored),
  all of one size ``H x W``, grey (one channel, or RGB(A) with R = G = B and
  an opaque alpha), read with matplotlib as pixel values in ``[0, 1]`` and
  flattened to rows of ``H * W``,

and returns a :class:`UserData`: the rows ``(N, d)`` float32 in the data's own
units (images: ``[0, 1]``), whether they are points or images, and the
:class:`~numgan.data.standardise.Standardiser` they train through (points: the
mean and std of each feature; images: ``[0, 1] -> [-1, 1]``, the range of the
image recipes' tanh output). Every problem (ragged rows, a text cell, NaN or
inf, a single row, a colour image, mixed sizes, an empty folder, an unknown
extension) is one ``ValueError`` naming the file and, where it applies, the
line and column. Nothing is ever unpickled (``allow_pickle=False``).

:func:`user_recipe` picks the recipe: points train with the 2-D recipe (the
grid's) whose widths grow with ``d``; images with the ``digits`` recipe up to
:data:`DIGITS_RECIPE_MAX_PIXELS` pixels (8x8 to 16x16), the ``mnist`` recipe above.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .standardise import Standardiser

if TYPE_CHECKING:                           # numgan.recipes imports numgan.data: imported when called
    from ..recipes import Recipe

#: the file types :func:`load_data_file` reads (and a folder of PNG images)
SUFFIXES = (".npy", ".npz", ".csv")
#: images of at most this many pixels train with the ``digits`` recipe, larger ones with ``mnist``'s
DIGITS_RECIPE_MAX_PIXELS = 256
#: the hidden width of the point recipe is ``min(MAX_WIDTH, max(grid's 128, 4 d))``
MAX_WIDTH = 1024
#: the noise dimension of the point recipe is ``min(MAX_Z_DIM, max(grid's 2, d))``
MAX_Z_DIM = 64


@dataclass(frozen=True)
class UserData:
    """Rows read from a user's file or folder.

    ``x`` ``(N, d)`` float32 in the data's own units (images: pixel values in
    ``[0, 1]``, flattened row by row); ``kind`` ``"points"`` or ``"images"``;
    ``shape`` ``(H, W)`` for images, else None; ``source`` what was read, in words
    (the ``.npz`` key, the number of images).
    """

    x: np.ndarray
    kind: str
    source: str
    shape: tuple[int, int] | None = None

    def standardiser(self) -> Standardiser:
        """Points: per-feature mean and std; images: the pixel range ``[0, 1]`` sent to ``[-1, 1]``."""
        if self.kind == "images":
            return Standardiser.of_range(0.0, 1.0, self.x.shape[1])
        return Standardiser.of_points(self.x)

    @property
    def recipe_name(self) -> str:
        """The recipe it trains with: ``grid`` for points, ``digits`` or ``mnist`` for images (by pixels)."""
        if self.kind == "points":
            return "grid"
        return "digits" if self.x.shape[1] <= DIGITS_RECIPE_MAX_PIXELS else "mnist"

    def describe(self) -> str:
        n, d = self.x.shape
        if self.shape is not None:
            return f"{self.source}: {n} grey {self.shape[0]}x{self.shape[1]} images"
        return f"{self.source}: {n} points of {d} feature{'s' if d > 1 else ''}"


def is_data_file(data: str) -> bool:
    """Whether ``--data`` names a file or folder (anything but a built-in data set's name)."""
    return Path(data).suffix.lower() in SUFFIXES or os.path.isdir(data) or os.sep in data or "/" in data


def load_data_file(path: str | os.PathLike) -> UserData:
    """The rows of a ``.npy``, ``.npz``, ``.csv`` file or a folder of PNG images (module docstring)."""
    path = Path(path)
    if path.is_dir():
        x, shape, source = _read_png_folder(path)
        return UserData(x, "images", source, shape)
    if not path.exists():
        raise FileNotFoundError(f"{str(path)!r}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        x, source = _read_array(path), str(path)
    elif suffix == ".npz":
        x, source = _read_npz(path)
    elif suffix == ".csv":
        x, source = _read_csv(path), str(path)
    else:
        raise ValueError(f"{str(path)!r}: unknown file type {suffix or '(none)'!r}; expected a .npy, .npz or .csv "
                         f"file of shape (N, d), or a folder of PNG images")
    return UserData(_checked_rows(x, str(path)), "points", source)


def _checked_rows(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as ``(N, d)`` float32 of finite numbers with ``N >= 2``, or one ``ValueError`` saying what is wrong."""
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)) \
            or np.issubdtype(x.dtype, np.bool_):
        raise ValueError(f"{name!r}: expected real numbers (ints or floats), got an array of {x.dtype}")
    if x.ndim == 1:
        raise ValueError(f"{name!r}: expected an array of shape (N, d), got a 1-D array of shape {x.shape}; "
                         f"for one feature save x.reshape(-1, 1)")
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"{name!r}: expected an array of shape (N, d), got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(f"{name!r}: expected at least 2 rows to learn from, got {x.shape[0]}")
    with np.errstate(over="ignore"):                    # too large for float32: inf, refused just below
        x32 = x.astype(np.float32)
    bad = ~np.isfinite(x32).all(axis=1)
    if bad.any():
        first = int(np.argmax(bad))
        why = "NaN or inf" if not np.isfinite(x[first]).all() else "values beyond float32's range"
        raise ValueError(f"{name!r}: expected finite numbers, got {why} in {int(bad.sum())} rows (the first: row "
                         f"{first})")
    return x32


def _read_array(path: Path) -> np.ndarray:
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise ValueError(f"{str(path)!r}: not a readable .npy array ({str(err).splitlines()[0][:120]})") from None
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{str(path)!r}: expected a .npy array, got a {type(x).__name__}")
    return x


def _read_npz(path: Path) -> tuple[np.ndarray, str]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            if len(keys) != 1:
                raise ValueError(f"{str(path)!r}: expected an .npz of one array, got {len(keys)} "
                                 f"{[k[:40] for k in keys[:8]]}; save the one to train on alone "
                                 f"(np.savez(file, x=x)) or as a .npy")
            x = archive[keys[0]]
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{str(path)!r}: not a readable .npz archive ({str(err).splitlines()[0][:120]})") from None
    except ValueError as err:
        if str(err).startswith(repr(str(path))):
            raise
        raise ValueError(f"{str(path)!r}: not a readable .npz array ({str(err).splitlines()[0][:120]})") from None
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{str(path)!r}: expected an array, got a {type(x).__name__}")
    return x, f"{path}[{keys[0]!r}]"


def _number(cell: str) -> float | None:
    """The cell as a float, or None when it is not a number."""
    try:
        return float(cell.strip())
    except ValueError:
        return None


def _read_csv(path: Path) -> np.ndarray:
    """Rows of comma-separated numbers; a first line with no number in it is a header."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{str(path)!r}: expected a UTF-8 text file of comma-separated numbers") from None
    rows: list[list[float]] = []
    width = None
    reader = csv.reader(io.StringIO(text))
    try:
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue                                    # a blank line
            values = [_number(c) for c in cells]
            if width is None and not rows and all(v is None for v in values):
                width = len(cells)                          # the header: no cell is a number
                continue
            if width is None:
                width = len(cells)
            if len(cells) != width:
                raise ValueError(f"{str(path)!r} line {reader.line_num}: expected {width} cells like the first "
                                 f"line, got {len(cells)} (ragged rows)")
            for column, (cell, value) in enumerate(zip(cells, values), start=1):
                if value is None:
                    raise ValueError(f"{str(path)!r} line {reader.line_num}, column {column}: expected a number, "
                                     f"got {cell[:40]!r}")
                if not math.isfinite(value):
                    raise ValueError(f"{str(path)!r} line {reader.line_num}, column {column}: expected a finite "
                                     f"number, got {cell.strip()[:40]!r}")
            rows.append([v for v in values if v is not None])   # all of them: a None was refused above
    except csv.Error as err:
        raise ValueError(f"{str(path)!r} line {reader.line_num}: not readable as CSV ({err})") from None
    if not rows:
        raise ValueError(f"{str(path)!r}: expected rows of numbers, got none")
    return np.array(rows, dtype=np.float64)


def _grey(image: np.ndarray, name: str) -> np.ndarray:
    """A grey image ``(H, W)`` in [0, 1] from what matplotlib read, or ``ValueError`` for colour or transparency."""
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"{name!r}: expected a grey image, got an array of shape {image.shape}")
    if image.shape[2] == 4 and not np.all(image[:, :, 3] == 1):
        raise ValueError(f"{name!r}: expected an opaque grey image, got one with transparent pixels")
    rgb = image[:, :, :3]
    if not (np.array_equal(rgb[:, :, 0], rgb[:, :, 1]) and np.array_equal(rgb[:, :, 0], rgb[:, :, 2])):
        raise ValueError(f"{name!r}: expected a grey image, got a colour one (convert it to grey, e.g. "
                         f"PIL's image.convert('L'))")
    return rgb[:, :, 0]


def _read_png_folder(folder: Path) -> tuple[np.ndarray, tuple[int, int], str]:
    from matplotlib import image as mpimg               # matplotlib reads PNG through Pillow

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png" and p.is_file())
    if not files:
        others = sorted({p.suffix.lower() or p.name for p in folder.iterdir()})
        raise ValueError(f"{str(folder)!r}: expected a folder of PNG images, got "
                         f"{'an empty folder' if not others else f'no .png file (only {others[:8]})'}")
    if len(files) < 2:
        raise ValueError(f"{str(folder)!r}: expected at least 2 images to learn from, got 1")
    images, shape = [], None
    for file in files:
        try:
            raw = np.asarray(mpimg.imread(file))
        except MemoryError:
            raise
        except Exception as err:                        # Pillow raises many kinds on a damaged file
            raise ValueError(f"{str(file)!r}: not a readable PNG image ({type(err).__name__}: "
                             f"{str(err).splitlines()[0][:100] if str(err) else ''})") from None
        grey = _grey(raw, str(file))
        if shape is None:
            shape = (int(grey.shape[0]), int(grey.shape[1]))
        elif grey.shape != shape:
            raise ValueError(f"{str(file)!r}: expected every image to be {shape[0]}x{shape[1]} like "
                             f"{files[0].name!r}, got {grey.shape[0]}x{grey.shape[1]} (mixed sizes)")
        images.append(grey.astype(np.float32).reshape(-1))
    assert shape is not None
    x = np.stack(images)
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
        raise ValueError(f"{str(folder)!r}: expected pixel values in [0, 1], got [{x.min()}, {x.max()}]")
    return x, shape, f"{folder}/ ({len(files)} PNG files)"


def user_recipe(data: UserData, **overrides: Any) -> Recipe:
    """The recipe for ``data``: :func:`numgan.recipes.resolve_recipe` of :attr:`UserData.recipe_name`, sized to it.

    Points (``d`` features): the grid recipe with hidden widths
    ``min(1024, max(128, 4 d))`` (128 for ``d <= 32``) and noise dimension
    ``min(64, max(2, d))``, unless ``hidden``/``g_hidden``/``d_hidden`` or ``z_dim``
    are given. Images ``H x W``: the digits recipe up to 256 pixels, else the
    mnist recipe, with ``data_dim = H * W``. ``overrides`` as for ``resolve_recipe``.
    """
    from ..recipes import resolve_recipe            # here: numgan.recipes imports numgan.data

    d = int(data.x.shape[1])
    if data.kind == "points":
        if not {"hidden", "g_hidden", "d_hidden"} & set(overrides):
            width = min(MAX_WIDTH, max(128, 4 * d))
            overrides = {**overrides, "hidden": [width] * 4}
        overrides.setdefault("z_dim", min(MAX_Z_DIM, max(2, d)))
    recipe = resolve_recipe(data.recipe_name, **overrides)
    return dataclasses.replace(recipe, networks={**recipe.networks, "data_dim": d})
