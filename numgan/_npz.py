"""One file format for numgan's saved objects: plain arrays plus JSON metadata in one ``.npz``.

Checkpoints (:mod:`numgan.checkpoint`) and the evaluation classifier
(:mod:`numgan.classifier`) are both written by :func:`write_npz` and read by
:func:`read_npz`; nothing else in the package writes or reads these files.

What the file holds
    A zip archive in NumPy's ``.npz`` layout: one ``<name>.npy`` member per
    array (numbers, booleans or fixed-width strings; never Python objects),
    and a member ``meta.npy``, a 1-D ``uint8`` array holding UTF-8 JSON text.
    The JSON object holds whatever the caller put in (architectures, options,
    the step...) plus four keys written here: ``format`` (which kind of file,
    e.g. ``"numgan-checkpoint"``), ``version`` (an int, bumped when the layout
    changes), ``checksum`` and ``checksum_covers``. Any zip tool or
    ``np.load(path, allow_pickle=False)`` can open the file.

The checksum rule
    ``checksum`` is the SHA-256 (hex) of, in this order: for every array in
    sorted name order, the text ``f"{name}|{a.dtype.str}|{a.shape}"`` followed
    by the array's bytes (C order); then the text ``"meta|"`` followed by the
    canonical JSON of the metadata without its ``checksum`` key
    (``json.dumps(meta, sort_keys=True)``, UTF-8). So any change to an array
    (its values, dtype, shape or name) or to the metadata fails the check.
    Files written this way say ``"checksum_covers": "arrays+meta"``.

    Legacy files: checkpoints of version 1, written before this module, have
    no ``checksum_covers`` key and a checksum of the arrays alone (the same
    text without the ``"meta|"`` part). :func:`read_npz` accepts such a file
    only when its version is one of the ``legacy_versions`` the caller names;
    for any other version a missing ``checksum_covers`` is damage. Their
    metadata is not covered by a checksum, which is why new files do not use
    that rule. (The checksum detects accidents, a truncated copy or a flipped
    byte; anyone can recompute it, so it is no signature.)

The atomic write
    :func:`write_npz` writes to a temporary file in the target's own folder
    (named after the target, ending in ``.tmp``), flushes it to disk, gives it
    the permissions a new file gets under the user's umask, and renames it
    over the target with ``os.replace``. A reader therefore sees the old file
    or the new one, never half of one; if anything fails (an error, Ctrl-C)
    the temporary file is removed and the old file is left as it was.

The hostile-file policy
    Every file read is treated as possibly damaged or crafted. Nothing is ever
    unpickled (arrays of Python objects are refused, ``allow_pickle`` is never
    set). Before anything is decompressed, every member's declared size is
    checked against ``max_bytes`` (each and in total), every member must be
    a plain ``<name>.npy`` and every array header must describe exactly the
    bytes the member holds, so that a small file cannot make the reader
    allocate gigabytes. A missing file raises ``FileNotFoundError``; every
    other problem (a folder, not a zip, truncated, damaged, not JSON, another
    kind of file, an unknown version, a failed checksum) raises one
    ``ValueError`` that names the file and says what is wrong.

    The order of the checks: member names and declared sizes (nothing
    decompressed); the metadata member (at most ``max_meta_bytes``), its
    JSON, format and version; every array's header (dtype, shape, and that
    it describes exactly the member's declared size), read without reading
    the data; then the caller's ``check(meta, headers)``, which compares the
    metadata and the headers with what they imply (a checkpoint checks its
    schema and that every array has exactly the dtype and shape its spec
    implies); only then are the arrays read and the checksum compared. A
    member whose declared size is over 16 MiB and over 200 times its
    compressed size is refused as a zip bomb (numgan stores members
    uncompressed).

Stale temporary files
    A save killed between the temporary file and the rename (SIGKILL,
    SIGTERM, a power cut) leaves ``<name>.<8 characters>.tmp`` beside the
    target. The next :func:`write_npz` or :func:`read_npz` of that target
    removes such files when they match exactly the writer's own pattern, are
    regular files of this user and were last modified over
    :data:`STALE_TMP_SECONDS` ago (so a save in progress elsewhere is left
    alone).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path
import time
from typing import Callable, Collection, Mapping

import numpy as np
import numpy.lib.format as npy_format

from ._checks import check_path

MAX_BYTES = 2 * 1024 ** 3
"""Default limit on the decompressed size of the arrays of one file (each and all together): 2 GiB."""

MAX_META_BYTES = 16 * 1024 ** 2
"""Default limit on the size of the metadata member (its JSON text): 16 MiB."""

STALE_TMP_SECONDS = 60.0
"""A writer's temporary file older than this (last modified) is a leftover of an interrupted save."""

BOMB_RATIO = 200
"""A member declaring over 16 MiB and over this many times its compressed size is refused (zip bomb)."""

Headers = Mapping[str, tuple[np.dtype, tuple[int, ...]]]
"""What :func:`read_npz` passes to ``check``: each array's name -> (dtype, shape), from its header."""

CHECKSUM_COVERS = "arrays+meta"
"""The value of ``meta["checksum_covers"]`` in files written by :func:`write_npz`."""

META = "meta"
_RESERVED = ("format", "version", "checksum", "checksum_covers")
_KINDS = "biufcSU"          # bool, ints, unsigned, floats, complex, bytes and unicode strings
_DAMAGE = (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, TypeError, OSError, EOFError, KeyError,
           IndexError, UnicodeDecodeError, NotImplementedError, RuntimeError, RecursionError, SyntaxError,
           OverflowError, zlib.error, struct.error)


# -- checksums ------------------------------------------------------------------------------------

def _digest(arrays: Mapping[str, np.ndarray], meta_text: str | None) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.tobytes())
    if meta_text is not None:
        h.update(b"meta|")
        h.update(meta_text.encode())
    return h.hexdigest()


def canonical_json(meta: Mapping) -> str:
    """The text the checksum covers: ``meta`` without ``checksum``, ``json.dumps(..., sort_keys=True)``."""
    return json.dumps({k: v for k, v in meta.items() if k != "checksum"}, sort_keys=True)


def checksum(arrays: Mapping[str, np.ndarray], meta: Mapping) -> str:
    """SHA-256 (hex) of every array (name, dtype, shape, bytes) and of the metadata (``"arrays+meta"``)."""
    return _digest(arrays, canonical_json(meta))


def legacy_checksum(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 (hex) of the arrays alone: the rule of version-1 checkpoints (no ``checksum_covers``)."""
    return _digest(arrays, None)


# -- names and dtypes -----------------------------------------------------------------------------

def _bad_name(name: object) -> str | None:
    """Why ``name`` cannot be an array's name (``None`` when it can)."""
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if len(name) > 255 or not name.isprintable() or "\\" in name:
        return "must be at most 255 printable characters, without '\\'"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "must not start or end with '/', hold '//' or have a '.' or '..' part"
    return None


def _bad_dtype(dtype: np.dtype) -> str | None:
    if dtype.hasobject:
        return "holds Python objects, which numgan never loads (that would mean unpickling)"
    if dtype.kind not in _KINDS or dtype.itemsize == 0:
        return f"has dtype {dtype.str!r}; only numbers, booleans and fixed-width strings are stored"
    return None


# -- writing --------------------------------------------------------------------------------------

def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (``/proc/self/status``)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o077)      # elsewhere: set a strict one for an instant (never a looser one), restore
    os.umask(mask)
    return mask


def _temp_prefix(path: Path) -> str:
    return f"{path.name}."


def remove_stale_temps(path: str | os.PathLike, older_than: float = STALE_TMP_SECONDS) -> list[Path]:
    """Remove the temporary files an interrupted :func:`write_npz` of ``path`` left; return them.

    Only names the writer uses (``<name>.<8 letters, digits or _>.tmp`` in the
    target's folder), only regular files owned by this user, only those last
    modified over ``older_than`` seconds ago. Errors (a read-only folder...)
    are ignored: this is housekeeping, never a reason to fail a save or a load.
    """
    path = Path(path)
    pattern = re.compile(re.escape(_temp_prefix(path)) + r"[A-Za-z0-9_]{8}\.tmp")
    removed: list[Path] = []
    now = time.time()
    uid = os.getuid() if hasattr(os, "getuid") else None
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or (uid is not None and st.st_uid != uid):
                continue
            if now - st.st_mtime <= older_than:
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def write_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], meta: Mapping,
              format: str, version: int) -> Path:
    """Write ``arrays`` and ``meta`` to ``path`` (a ``.npz``), atomically; return the path.

    ``arrays`` maps names (``"G/params"``, ``"history/loss_D"``...) to numpy
    arrays of numbers, booleans or fixed-width strings; the name ``"meta"`` is
    taken. ``meta`` is a JSON-ready dict; ``format``, ``version``,
    ``checksum`` and ``checksum_covers`` are added here and must not be in it.
    The parent folder is created. See the module docstring for the layout,
    the checksum and the atomic write.
    """
    path = check_path(path)
    if not isinstance(format, str) or not format:
        raise TypeError(f"format must be a non-empty string, got {format!r}")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise TypeError(f"version must be an integer >= 1, got {version!r}")
    if not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be a dict of name -> numpy array, got {type(arrays).__name__}")
    if not isinstance(meta, Mapping):
        raise TypeError(f"meta must be a dict, got {type(meta).__name__}")
    for name, a in arrays.items():
        why = "is taken by the metadata" if name == META else _bad_name(name)
        if why:
            raise ValueError(f"array name {name!r} {why}")
        if not isinstance(a, np.ndarray):
            raise TypeError(f"arrays[{name!r}] must be a numpy array, got {type(a).__name__}")
        why = _bad_dtype(a.dtype)
        if why:
            raise TypeError(f"arrays[{name!r}] {why}")
    reserved = [k for k in _RESERVED if k in meta]
    if reserved:
        raise ValueError(f"meta must not hold {reserved}: write_npz sets them")
    try:                        # JSON-native (tuples -> lists...), so that reading it back gives the same text
        full = json.loads(json.dumps({**meta, "format": format, "version": version,
                                      "checksum_covers": CHECKSUM_COVERS}))
    except (TypeError, ValueError) as err:
        raise TypeError(f"meta must be JSON-ready (dicts with string keys, lists, str, int, float, bool, "
                        f"None): {err}") from None
    full["checksum"] = checksum(arrays, full)
    text = np.frombuffer(json.dumps(full, sort_keys=True).encode(), dtype=np.uint8)

    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
    mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
                for name, a in [*arrays.items(), (META, text)]:
                    with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                        npy_format.write_array(member, np.asarray(a), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:       # an error or an interrupt: remove the temporary, re-raise the original
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


# -- reading --------------------------------------------------------------------------------------

class _Damaged(Exception):
    """A problem found by our own checks, turned into the ValueError that names the file."""


class _Refused(Exception):
    """A problem whose whole message (file name included) is already written."""


_BOMB_MIN_BYTES = 16 * 1024 ** 2


def _check_members(zf: zipfile.ZipFile, max_bytes: int) -> list[zipfile.ZipInfo]:
    """The ``.npy`` members, after checking names and declared sizes (nothing decompressed yet)."""
    infos = zf.infolist()
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise _Damaged("it holds two members with the same name")
    total = 0
    for info in infos:
        stem = info.filename[:-4] if info.filename.endswith(".npy") else None
        why = "is not a plain <name>.npy" if stem is None else _bad_name(stem)
        if why:
            raise _Damaged(f"member {info.filename[:80]!r} {why}")
        if info.file_size > max_bytes:
            raise _Damaged(f"member {info.filename!r} declares {info.file_size} bytes, over the limit "
                           f"max_bytes={max_bytes}")
        if info.file_size > _BOMB_MIN_BYTES and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
            raise _Damaged(f"member {info.filename!r} declares {info.file_size} bytes compressed into "
                           f"{info.compress_size} (a zip bomb?); numgan stores arrays uncompressed")
        total += info.file_size
    if total > max_bytes:
        raise _Damaged(f"its members declare {total} bytes in all, over the limit max_bytes={max_bytes}")
    if f"{META}.npy" not in names:
        raise _Damaged("it has no 'meta' member (another kind of .npz, or one from an older numgan)")
    return infos


def _read_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[np.dtype, tuple[int, ...]]:
    """An array's dtype and shape from its header alone, checked against the member's declared size."""
    with zf.open(info) as fp:
        version = npy_format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(fp)
        else:
            raise _Damaged(f"member {info.filename!r} has .npy format version {version}, which numgan "
                           f"does not write")
        header = fp.tell()
    why = _bad_dtype(dtype)
    if why:
        raise _Damaged(f"member {info.filename!r} {why}")
    if any(d < 0 for d in shape):
        raise _Damaged(f"member {info.filename!r} declares a negative shape {shape}")
    nbytes = math.prod(shape) * dtype.itemsize
    if header + nbytes != info.file_size:
        raise _Damaged(f"member {info.filename!r} declares an array of shape {shape} ({nbytes} bytes) but "
                       f"holds {info.file_size - header} bytes of data")
    return dtype, tuple(shape)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, header_checked: bool = False) -> np.ndarray:
    """One array, after checking (unless done already) that its header describes exactly the member's bytes."""
    if not header_checked:
        _read_header(zf, info)
    with zf.open(info) as fp:
        return npy_format.read_array(fp, allow_pickle=False)


def _why(err: BaseException) -> str:
    """A short reason from a library's exception, never relaying advice about pickles."""
    text = str(err)
    if "pickle" in text.lower():
        text = "the data cannot be read safely"
    name = "zlib.error" if isinstance(err, zlib.error) else type(err).__name__
    return f"{name}: {text[:200]}"


def read_npz(path: str | os.PathLike, format: str, versions: Collection[int], *,
             legacy_versions: Collection[int] = (), max_bytes: int = MAX_BYTES,
             max_meta_bytes: int = MAX_META_BYTES,
             check: Callable[[dict, Headers], None] | None = None,
             ) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and arrays of a file written by :func:`write_npz`, checked; never unpickles.

    ``format`` is the kind of file expected (``"numgan-checkpoint"``...),
    ``versions`` the versions this code reads, ``legacy_versions`` those of
    them whose files may carry the old arrays-only checksum (no
    ``checksum_covers`` key; see the module docstring). ``max_bytes`` caps
    the decompressed size of the arrays, each and in total;
    ``max_meta_bytes`` that of the metadata. ``check(meta, headers)``, when
    given, is called after the format and version are checked and before
    any array is read, with ``headers`` mapping each array's name to its
    ``(dtype, shape)``; a ``ValueError`` it raises is reported as the file
    being invalid (its message says what is wrong). Returns
    ``(meta, arrays)``: ``meta`` is the JSON object as stored (with
    ``format``, ``version``, ``checksum``...), ``arrays`` maps names (without
    ``.npy``) to arrays, ``"meta"`` excluded.

    Raises ``FileNotFoundError`` if ``path`` does not exist and a
    ``ValueError`` naming the file and the problem for anything else.
    Stale temporary files of an interrupted save of ``path`` are removed
    first (:func:`remove_stale_temps`).
    """
    path = check_path(path)
    what = format.replace("-", " ")
    if not path.exists():
        raise FileNotFoundError(f"{what} file {str(path)!r} does not exist")
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a folder, not a {what} file")
    if not path.is_file():
        raise ValueError(f"{str(path)!r} is not a regular file, so not a {what} file")
    remove_stale_temps(path)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} file {str(path)!r} does not exist") from None
    except OSError as err:                  # permission denied...: not damage, but still one ValueError
        raise ValueError(f"{str(path)!r} cannot be opened: {err.strerror or err}") from None
    try:
        with f, zipfile.ZipFile(f) as zf:
            infos = {info.filename[:-4]: info for info in _check_members(zf, max_bytes)}
            meta_info = infos.pop(META)
            if meta_info.file_size > max_meta_bytes:
                raise _Damaged(f"its 'meta' member declares {meta_info.file_size} bytes, over the limit "
                               f"max_meta_bytes={max_meta_bytes}")
            raw = _read_member(zf, meta_info)
            if raw.dtype != np.uint8 or raw.ndim != 1:
                raise _Damaged(f"its 'meta' member must be a 1-D uint8 array of JSON text, got "
                               f"{raw.dtype.str} {raw.shape}")
            meta = json.loads(raw.tobytes().decode("utf-8"))
            version = _check_kind(path, what, meta, format, versions)
            headers = {name: _read_header(zf, info) for name, info in infos.items()}
            if check is not None:
                try:
                    check(meta, headers)
                except ValueError as err:
                    raise _Refused(f"{str(path)!r} is not a valid {what}: {err}") from None
            arrays = {name: _read_member(zf, info, header_checked=True) for name, info in infos.items()}
        expected = _expected_checksum(path, what, meta, version, arrays, legacy_versions)
    except _Refused as err:
        raise ValueError(str(err)) from None
    except _Damaged as err:
        raise ValueError(f"{str(path)!r} is not a readable {what} (damaged or another kind of file): "
                         f"{err}") from None
    except _DAMAGE as err:      # includes json.JSONDecodeError, a ValueError
        raise ValueError(f"{str(path)!r} is not a readable {what} (truncated, damaged or another kind of "
                         f"file): {_why(err)}") from None
    except MemoryError:
        raise ValueError(f"{str(path)!r} is not a readable {what}: it asks for more memory than there "
                         f"is") from None
    if meta.get("checksum") != expected:
        raise ValueError(f"{str(path)!r} fails its checksum: the file was modified or damaged after it "
                         f"was written")
    return meta, arrays


def _check_kind(path: Path, what: str, meta: object, format: str, versions: Collection[int]) -> int:
    """The file's version, after checking that ``meta`` is an object of the expected format and version."""
    if not isinstance(meta, dict):
        raise _Refused(f"{str(path)!r} is not a readable {what}: its metadata must be a JSON object, "
                       f"got {type(meta).__name__}")
    if meta.get("format") != format:
        raise _Refused(f"{str(path)!r} is not a {what} file (its format is {str(meta.get('format'))[:80]!r}, "
                       f"expected {format!r})")
    version = meta.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version not in versions:
        raise _Refused(f"{str(path)!r} has {what} version {str(version)[:20]}; this numgan reads "
                       f"version{'s' if len(versions) > 1 else ''} {', '.join(map(str, sorted(versions)))}")
    return version


def _expected_checksum(path: Path, what: str, meta: dict, version: int, arrays: Mapping[str, np.ndarray],
                       legacy_versions: Collection[int]) -> str:
    covers = meta.get("checksum_covers")
    if covers == CHECKSUM_COVERS:
        return checksum(arrays, meta)
    if covers is None and "checksum_covers" not in meta and version in legacy_versions:
        return legacy_checksum(arrays)
    if "checksum_covers" not in meta:
        raise _Refused(f"{str(path)!r} fails its checksum: it has no 'checksum_covers', the mark of the "
                       f"old arrays-only checksum, which {what} version {version} files do not use "
                       f"(damaged or modified)")
    raise _Refused(f"{str(path)!r} fails its checksum: unknown checksum rule {str(covers)[:40]!r}")
