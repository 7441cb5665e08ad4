"""numgan._npz: the one "arrays + JSON metadata" file format: round trip, atomic write, hostile files."""
import hashlib
import io
import json
import os
import struct
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from numgan import _npz
from numgan._npz import CHECKSUM_COVERS, checksum, legacy_checksum, read_npz, write_npz

FORMAT = "numgan-test"


def sample_arrays():
    return {
        "G/params": np.linspace(-1, 1, 12, dtype=np.float32),
        "history/loss": np.array([0.5, 0.25, np.nan, -np.inf]),
        "opt_G/m.0.W": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "big_endian": np.arange(4, dtype=">i4"),
        "flags": np.array([True, False]),
        "names": np.array(["a", "bc"]),
        "scalar": np.array(3, dtype=np.uint8),
        "empty": np.zeros((0, 5), dtype=np.float16),
    }


def small_file(tmp_path, name="f.npz", version=2):
    return write_npz(tmp_path / name, {"w": np.arange(3, dtype=np.float32)}, {"step": 7}, FORMAT, version)


def members(path):
    """Every member's name and raw (decompressed) bytes, in order."""
    with zipfile.ZipFile(path) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def write_members(path, items, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in items:
            zf.writestr(name, data)


def npy_bytes(a):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=False)
    return buf.getvalue()


def meta_bytes(meta):
    return npy_bytes(np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))


def stored_meta(path):
    return json.loads(np.load(io.BytesIO(dict(members(path))["meta.npy"])).tobytes())


def assert_rejected(path, match=None, exc=ValueError, **kw):
    """``read_npz`` raises ``exc`` naming the file, never mentioning pickles; return the message."""
    with pytest.raises(exc) as info:
        read_npz(path, FORMAT, (1, 2), **kw)
    message = str(info.value)
    assert str(path) in message, message
    assert "pickle" not in message.lower(), message
    if match is not None:
        assert match in message, message
    return message


# -- round trip ------------------------------------------------------------------------------------

def test_round_trip_keeps_every_array_and_the_metadata(tmp_path):
    arrays = sample_arrays()
    meta = {"step": 5, "spec": [{"layer": "Dense", "in_features": 3}], "pair": (1, 2), "lr": 1e-3,
            "nan": float("nan"), "unicode": "été"}
    path = write_npz(tmp_path / "sub" / "f.npz", arrays, meta, FORMAT, 2)
    assert path == tmp_path / "sub" / "f.npz" and path.is_file()             # the folder is created
    back_meta, back = read_npz(path, FORMAT, (2,))
    assert set(back) == set(arrays)
    for name, a in arrays.items():
        assert back[name].dtype == a.dtype and back[name].shape == a.shape
        np.testing.assert_array_equal(back[name], a)
    assert back_meta["pair"] == [1, 2] and back_meta["step"] == 5 and back_meta["unicode"] == "été"
    assert np.isnan(back_meta["nan"])
    assert (back_meta["format"], back_meta["version"], back_meta["checksum_covers"]) == (FORMAT, 2, CHECKSUM_COVERS)
    assert back_meta["checksum"] == checksum(arrays, back_meta)
    with np.load(path, allow_pickle=False) as f:                              # any numpy reads it, no pickle
        assert set(f.files) == {*arrays, "meta"}


def test_the_checksum_covers_arrays_and_metadata_as_documented():
    arrays = {"b": np.arange(3.0), "a": np.ones(2, np.float32)}
    meta = {"x": 1, "format": FORMAT, "version": 2, "checksum_covers": CHECKSUM_COVERS}
    h = hashlib.sha256()
    for name in ("a", "b"):
        h.update(f"{name}|{arrays[name].dtype.str}|{arrays[name].shape}".encode() + arrays[name].tobytes())
    assert legacy_checksum(arrays) == h.hexdigest()
    h.update(b"meta|" + json.dumps(meta, sort_keys=True).encode())
    assert checksum(arrays, meta) == checksum(arrays, {**meta, "checksum": "ignored"}) == h.hexdigest()
    assert checksum(arrays, {**meta, "x": 2}) != h.hexdigest()
    assert checksum({**arrays, "a": arrays["a"].astype(np.float64)}, meta) != h.hexdigest()
    assert checksum({**arrays, "a": arrays["a"].reshape(1, 2)}, meta) != h.hexdigest()


def test_write_refuses_what_it_could_not_read_back(tmp_path):
    path = tmp_path / "f.npz"
    with pytest.raises(TypeError, match="Python objects"):
        write_npz(path, {"a": np.array([{}, None], dtype=object)}, {}, FORMAT, 1)
    with pytest.raises(TypeError, match="must be a numpy array"):
        write_npz(path, {"a": [1, 2]}, {}, FORMAT, 1)
    with pytest.raises(ValueError, match="taken by the metadata"):
        write_npz(path, {"meta": np.zeros(1)}, {}, FORMAT, 1)
    for bad in ("", "/abs", "a/../b", "a//b", "tab\there"):
        with pytest.raises(ValueError, match="array name"):
            write_npz(path, {bad: np.zeros(1)}, {}, FORMAT, 1)
    with pytest.raises(ValueError, match=r"meta must not hold \['checksum'\]"):
        write_npz(path, {}, {"checksum": "x"}, FORMAT, 1)
    with pytest.raises(TypeError, match="meta must be JSON-ready"):
        write_npz(path, {}, {"a": np.float32(1)}, FORMAT, 1)
    with pytest.raises(TypeError, match="version must be an integer"):
        write_npz(path, {}, {}, FORMAT, True)
    assert not path.exists() and not list(tmp_path.iterdir())


# -- atomic write ----------------------------------------------------------------------------------

@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, error):
    path = small_file(tmp_path)
    before = path.read_bytes()
    calls = []

    def failing_write_array(fp, array, **kw):
        calls.append(1)
        if len(calls) == 2:                 # half-way through the new file
            raise error
        return np.lib.format.write_array(fp, array, **kw)

    monkeypatch.setattr(_npz.npy_format, "write_array", failing_write_array)
    with pytest.raises(type(error)):
        write_npz(path, {"a": np.zeros(3), "b": np.ones(3)}, {}, FORMAT, 2)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.npz"]


def test_a_failed_rename_removes_the_temporary_and_a_vanished_one_is_no_second_error(tmp_path, monkeypatch):
    path = small_file(tmp_path)
    before = path.read_bytes()

    def failing_replace(src, dst):
        raise OSError("rename refused")
    monkeypatch.setattr(_npz.os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename refused"):
        write_npz(path, {}, {"new": True}, FORMAT, 2)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["f.npz"]

    def vanishing_replace(src, dst):       # the temporary is already gone when the cleanup runs
        os.unlink(src)
        raise KeyboardInterrupt
    monkeypatch.setattr(_npz.os, "replace", vanishing_replace)
    with pytest.raises(KeyboardInterrupt):
        write_npz(path, {}, {"new": True}, FORMAT, 2)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["f.npz"]


def test_the_temporary_file_is_named_after_the_target_in_its_folder(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spying_replace(src, dst):
        seen.append(Path(src))
        real_replace(src, dst)
    monkeypatch.setattr(_npz.os, "replace", spying_replace)
    path = small_file(tmp_path)
    (tmp,) = seen
    assert tmp.parent == path.parent and tmp.name.startswith(path.name) and tmp.name.endswith(".tmp")
    assert not tmp.exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077, 0o002])
def test_permissions_follow_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        assert _npz._umask() == umask
        path = small_file(tmp_path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.skipif(os.name != "posix", reason="POSIX umask")
def test_the_umask_is_read_without_proc_too(monkeypatch):
    def no_proc(*args, **kw):
        raise OSError("no /proc here")
    monkeypatch.setattr(_npz, "open", no_proc, raising=False)
    old = os.umask(0o027)
    try:
        assert _npz._umask() == 0o027
        assert os.umask(0o027) == 0o027            # and left as it was
    finally:
        os.umask(old)


# -- hostile files ---------------------------------------------------------------------------------

def test_every_truncation_is_a_value_error(tmp_path):
    data = small_file(tmp_path).read_bytes()
    cut = tmp_path / "cut.npz"
    for n in range(len(data)):
        cut.write_bytes(data[:n])
        assert_rejected(cut)


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_every_flipped_byte_is_a_value_error_or_harmless(tmp_path, compression):
    path = small_file(tmp_path)
    write_members(path, members(path), compression)            # also the compressed layout of np.savez_compressed
    good_meta, good = read_npz(path, FORMAT, (2,))
    data = path.read_bytes()
    bad = tmp_path / "bad.npz"
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0x01
        bad.write_bytes(bytes(flipped))
        try:
            meta, arrays = read_npz(bad, FORMAT, (2,))
        except ValueError as err:
            assert str(bad) in str(err) and "pickle" not in str(err).lower()
        else:                                                  # e.g. a timestamp: nothing the reader returns
            assert meta == good_meta and arrays.keys() == good.keys()
            assert all(np.array_equal(arrays[k], good[k]) for k in good)


def test_a_flipped_byte_in_the_json(tmp_path):
    path = small_file(tmp_path)
    data = bytearray(path.read_bytes())
    i = data.index(b'"step": 7')
    data[i + 8] = ord("8")                                     # the CRC-32 of the member catches it
    path.write_bytes(bytes(data))
    assert_rejected(path)


def test_changed_metadata_with_a_valid_zip_fails_the_checksum(tmp_path):
    path = small_file(tmp_path)
    meta = stored_meta(path)
    items = [(n, meta_bytes({**meta, "step": 8}) if n == "meta.npy" else d) for n, d in members(path)]
    write_members(path, items)
    assert_rejected(path, "fails its checksum")


def test_a_changed_array_fails_the_checksum(tmp_path):
    path = small_file(tmp_path)
    items = [(n, npy_bytes(np.array([0, 1, 3], np.float32)) if n == "w.npy" else d) for n, d in members(path)]
    write_members(path, items)
    assert_rejected(path, "fails its checksum")
    with np.load(path, allow_pickle=False) as f:               # the same layout, only a value differs
        np.testing.assert_array_equal(f["w"], [0, 1, 3])


def test_a_member_declaring_a_huge_size_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.npz"
    write_members(path, [("meta.npy", meta_bytes({"format": FORMAT, "version": 2}))])
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 0xFFFF_FFF0)   # uncompressed size: 4 GiB
    path.write_bytes(bytes(data))
    assert_rejected(path, "over the limit max_bytes")
    ok = small_file(tmp_path)
    assert_rejected(ok, "over the limit max_bytes", max_bytes=100)
    read_npz(ok, FORMAT, (2,), max_bytes=10_000)


def test_an_array_header_larger_than_its_member_is_refused(tmp_path):
    path = small_file(tmp_path)
    liar = npy_bytes(np.zeros(3, np.float32)).replace(b"(3,)", b"(9,)")     # 36 bytes claimed, 12 held
    assert liar != npy_bytes(np.zeros(3, np.float32))
    items = [(n, liar if n == "w.npy" else d) for n, d in members(path)]
    write_members(path, items)
    assert_rejected(path, "holds 12 bytes of data")


def test_a_crafted_header_cannot_make_it_allocate(tmp_path):
    path = small_file(tmp_path)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    items = [(n, buf.getvalue() if n == "w.npy" else d) for n, d in members(path)]
    write_members(path, items)
    assert_rejected(path, "shape (1000000000000,)")
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (-1,)})
    write_members(path, [(n, buf.getvalue() if n == "w.npy" else d) for n, d in items])
    assert_rejected(path, "negative shape")


def test_object_arrays_are_refused_without_mentioning_pickle(tmp_path):
    path = small_file(tmp_path)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    write_members(path, [*members(path), ("x.npy", buf.getvalue())])
    assert_rejected(path, "Python objects")


@pytest.mark.parametrize("name", ["notes.txt", "../up.npy", "/abs.npy", "a//b.npy", ".npy", "w.npy"])
def test_members_must_be_plain_npy_names_and_unique(tmp_path, name):
    path = small_file(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                        # zipfile warns of a duplicate name
        write_members(path, [*members(path), (name, npy_bytes(np.zeros(1)))])
    assert_rejected(path, "two members with the same name" if name == "w.npy" else "member")


@pytest.mark.parametrize("meta", [[1, 2], "text", 3, None])
def test_the_metadata_must_be_a_json_object(tmp_path, meta):
    path = tmp_path / "f.npz"
    write_members(path, [("meta.npy", meta_bytes(meta))])
    assert_rejected(path, "must be a JSON object")


def test_the_metadata_must_be_utf8_json_bytes(tmp_path):
    path = tmp_path / "f.npz"
    for data in (npy_bytes(np.frombuffer(b"\xff\xfe{", np.uint8)), npy_bytes(np.frombuffer(b"{not json", np.uint8)),
                 npy_bytes(np.frombuffer(b"[" * 100_000, np.uint8))):
        write_members(path, [("meta.npy", data)])
        assert_rejected(path)
    write_members(path, [("meta.npy", npy_bytes(np.zeros(3, np.float32)))])
    assert_rejected(path, "1-D uint8 array of JSON text")


def test_the_format_and_version_are_checked(tmp_path):
    path = small_file(tmp_path, version=3)
    assert_rejected(path, "has numgan test version 3; this numgan reads versions 1, 2")
    other = write_npz(tmp_path / "o.npz", {}, {}, "numgan-other", 1)
    with pytest.raises(ValueError, match="is not a numgan test file"):
        read_npz(other, FORMAT, (1,))
    meta = stored_meta(path)
    write_members(path, [("meta.npy", meta_bytes({**meta, "version": True}))])
    assert_rejected(path, "version True")


def test_foreign_missing_and_odd_paths(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    assert_rejected(tmp_path / "plain.npz", "no 'meta' member")
    (tmp_path / "notes.txt").write_text("hello")
    assert_rejected(tmp_path / "notes.txt", "not a readable numgan test")
    (tmp_path / "empty.npz").write_bytes(b"")
    assert_rejected(tmp_path / "empty.npz")
    assert_rejected(tmp_path / "missing.npz", "does not exist", exc=FileNotFoundError)
    (tmp_path / "folder.npz").mkdir()
    assert_rejected(tmp_path / "folder.npz", "is a folder")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.npz")
    assert_rejected(tmp_path / "pipe.npz", "not a regular file")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="POSIX permissions, not as root")
def test_an_unreadable_file_is_a_value_error(tmp_path):
    path = small_file(tmp_path)
    path.chmod(0)
    try:
        assert_rejected(path, "cannot be opened")
    finally:
        path.chmod(0o600)


# -- legacy checksum (version-1 checkpoints) -------------------------------------------------------

def legacy_file(path, version=1, **extra_meta):
    """A file as numgan.checkpoint wrote them before numgan._npz: arrays-only checksum, no checksum_covers."""
    arrays = {"G/params": np.arange(4, dtype=np.float32), "history/loss": np.array([1.0, 0.5])}
    meta = {"format": FORMAT, "version": version, "step": 3, **extra_meta}
    meta["checksum"] = legacy_checksum(arrays)
    np.savez(path, **arrays, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    return path


def test_legacy_checksum_only_for_the_versions_the_caller_names(tmp_path):
    path = legacy_file(tmp_path / "old.npz")
    meta, arrays = read_npz(path, FORMAT, (1, 2), legacy_versions=(1,))
    assert meta["step"] == 3 and "checksum_covers" not in meta
    np.testing.assert_array_equal(arrays["G/params"], np.arange(4, dtype=np.float32))
    assert_rejected(path, "no 'checksum_covers'")                          # not named legacy: refused
    newer = legacy_file(tmp_path / "v2.npz", version=2)                    # a version-2 file stripped of it
    assert_rejected(newer, "no 'checksum_covers'", legacy_versions=(1,))
    odd = legacy_file(tmp_path / "odd.npz", checksum_covers="arrays")
    assert_rejected(odd, "unknown checksum rule", legacy_versions=(1,))


def test_a_legacy_file_still_fails_on_a_changed_array(tmp_path):
    path = legacy_file(tmp_path / "old.npz")
    items = [(n, npy_bytes(np.zeros(4, np.float32)) if n == "G/params.npy" else d) for n, d in members(path)]
    write_members(path, items)
    assert_rejected(path, "fails its checksum", legacy_versions=(1,))


def test_a_new_file_cannot_pass_as_legacy(tmp_path):
    path = small_file(tmp_path, version=1)
    meta = stored_meta(path)
    del meta["checksum_covers"]                                            # the arrays-only rule then fails
    write_members(path, [(n, meta_bytes(meta) if n == "meta.npy" else d) for n, d in members(path)])
    assert_rejected(path, "fails its checksum", legacy_versions=(1,))


CHECKPOINT_V1 = Path(__file__).parent / "data" / "checkpoint_v1.npz"


@pytest.mark.skipif(not CHECKPOINT_V1.is_file(), reason="no version-1 checkpoint fixture")
def test_a_real_version_1_checkpoint_reads_with_the_legacy_rule():
    meta, arrays = read_npz(CHECKPOINT_V1, "numgan-checkpoint", (1, 2), legacy_versions=(1,))
    assert meta["version"] == 1 and "G/params" in arrays
    with pytest.raises(ValueError, match="no 'checksum_covers'"):
        read_npz(CHECKPOINT_V1, "numgan-checkpoint", (1, 2))


# -- the caller's check, the metadata's size, zip bombs, stale temporaries -------------------------

def test_check_sees_meta_and_headers_before_any_array_is_read(tmp_path, monkeypatch):
    path = small_file(tmp_path)
    seen = []
    real_read_array = _npz.npy_format.read_array

    def check(meta, headers):
        seen.append((meta["step"], dict(headers)))
        raise ValueError("w is not what step 7 implies")

    def spying_read_array(*args, **kw):
        a = real_read_array(*args, **kw)
        seen.append(a.dtype.str)
        return a
    monkeypatch.setattr(_npz.npy_format, "read_array", spying_read_array)
    message = assert_rejected(path, "is not a valid numgan test: w is not what step 7 implies", check=check)
    assert message.startswith(repr(str(path)))
    assert seen == ["|u1", (7, {"w": (np.dtype(np.float32), (3,))})]      # only the metadata was read
    monkeypatch.undo()
    meta, arrays = read_npz(path, FORMAT, (2,), check=lambda meta, headers: None)
    assert meta["step"] == 7 and set(arrays) == {"w"}


def test_metadata_over_its_limit_is_refused(tmp_path):
    path = write_npz(tmp_path / "m.npz", {}, {"notes": "x" * 5000}, FORMAT, 2)
    assert_rejected(path, "over the limit max_meta_bytes=1000", max_meta_bytes=1000)
    assert read_npz(path, FORMAT, (2,))[0]["notes"] == "x" * 5000


def test_a_member_compressed_like_a_zip_bomb_is_refused_unread(tmp_path):
    path = small_file(tmp_path)
    zeros = npy_bytes(np.zeros(5 * 1024 ** 2))          # 40 MB of zeros, deflated to a few kB
    write_members(path, [*members(path), ("z.npy", zeros)], compression=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 1024 ** 2
    assert_rejected(path, "(a zip bomb?)")


def test_stale_temporaries_are_removed_and_fresh_or_foreign_ones_kept(tmp_path):
    path = small_file(tmp_path)
    old = 1_000_000_000
    stale, fresh, other = (tmp_path / "f.npz.a1b2c3_d.tmp", tmp_path / "f.npz.freshone.tmp",
                           tmp_path / "g.npz.a1b2c3_d.tmp")
    for p in (stale, fresh, other):
        p.write_bytes(b"partial")
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    link = tmp_path / "f.npz.symlink1.tmp"
    link.symlink_to(other)
    os.utime(link, (old, old), follow_symlinks=False)
    assert _npz.remove_stale_temps(path) == [stale]
    assert not stale.exists() and fresh.exists() and other.exists() and link.is_symlink()
    assert _npz.remove_stale_temps(tmp_path / "missing" / "f.npz") == []
