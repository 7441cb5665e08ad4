"""Checkpoints from strangers: every damaged or crafted file gives one ValueError naming the file, or
(for a change that touches nothing the loader uses) a clean load of the same GAN; never another exception,
never a suggestion to unpickle, never gigabytes of memory."""
import copy
import io
import json
import os
import random
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import numpy.lib.format as npy_format
import pytest

from numgan import _npz, mlp
from numgan._npz import write_npz
from numgan.checkpoint import FORMAT, VERSION, load_checkpoint, load_history, read_checkpoint, save_checkpoint
from numgan.gan import GAN
from numgan.train import fit

RESERVED = ("format", "version", "checksum", "checksum_covers")


# -- a small real checkpoint and what loading it must give ------------------------------------------

def sampler(n, rng):
    return rng.standard_normal((n, 2), dtype=np.float32)


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """The bytes of a small real checkpoint (EMA, history), its GAN and rng state."""
    gan = GAN(mlp([2, 3, 2], seed=1), mlp([2, 3, 1], seed=2), ema=0.9, g_lr=1e-3)
    history = fit(gan, sampler, steps=3, batch_size=4, rng=0, progress=False)
    path = tmp_path_factory.mktemp("ck") / "ck.npz"
    save_checkpoint(path, gan, np.random.default_rng(5), extra={"data": "ring"}, history=history)
    return path.read_bytes(), gan, np.random.default_rng(5).bit_generator.state


def same_gan(a, b):
    assert a.config == b.config and a.step == b.step and a.dtype == b.dtype
    assert a.G.spec() == b.G.spec() and a.D.spec() == b.D.spec()
    for x, y in ((a.G, b.G), (a.D, b.D), (a.G_ema, b.G_ema)):
        np.testing.assert_array_equal(x.flat_params, y.flat_params)
    for x, y in ((a.opt_G, b.opt_G), (a.opt_D, b.opt_D)):
        sx, sy = x.state_dict(), y.state_dict()
        assert sx.keys() == sy.keys()
        for k in sx:
            np.testing.assert_array_equal(sx[k], sy[k])


def outcome(path, reference=None):
    """'ok' (and the same GAN as ``reference``, when given) or 'refused' (one ValueError naming the file)."""
    try:
        gan, rng = load_checkpoint(path)
    except ValueError as err:
        message = str(err)
        assert str(path) in message, message
        assert "pickle" not in message.replace(str(path), "").lower(), message
        assert "\n" not in message, message
        return "refused"
    if reference is not None:
        same_gan(gan, reference[1])
        assert rng.bit_generator.state == reference[2]
    return "ok"


def write_raw(path, arrays, meta_text):
    """A checkpoint-shaped zip holding ``arrays`` and ``meta_text`` as is (no checks, no checksum)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, a in [*arrays.items(), ("meta", np.frombuffer(meta_text.encode(), np.uint8))]:
            with zf.open(f"{name}.npy", "w") as member:
                npy_format.write_array(member, a, allow_pickle=False)
    return path


def contents(data, tmp_path):
    path = tmp_path / "orig.npz"
    path.write_bytes(data)
    meta, arrays = read_checkpoint(path)
    return {k: v for k, v in meta.items() if k not in RESERVED}, arrays


def rewrite(path, arrays, meta):
    """A file with a valid checksum over changed contents: only the schema stands in the way.

    (What write_npz writes, without its checks and its fsync, which would make hundreds of files slow.)
    """
    full = json.loads(json.dumps({**meta, "format": FORMAT, "version": VERSION, "checksum_covers": "arrays+meta"}))
    full["checksum"] = _npz.checksum(arrays, full)
    return write_raw(path, arrays, json.dumps(full, sort_keys=True))


# -- truncation and bit flips -----------------------------------------------------------------------

def test_the_original_loads_as_the_same_gan(original, tmp_path):
    path = tmp_path / "ck.npz"
    path.write_bytes(original[0])
    assert outcome(path, original) == "ok"
    assert load_history(path).steps == 3


def test_truncations_are_refused(original, tmp_path):
    """Every length in the last 700 bytes (the zip's directory and the metadata), every 11th before (kept fast)."""
    data = original[0]
    path = tmp_path / "cut.npz"
    for n in sorted({*range(0, len(data), 11), *range(max(0, len(data) - 700), len(data))}):
        path.write_bytes(data[:n])
        assert outcome(path) == "refused", n


def test_single_bit_flips_are_refused_or_harmless(original, tmp_path):
    data = original[0]
    path = tmp_path / "flip.npz"
    rnd = random.Random(14)
    seen = set()
    for _ in range(300):
        bit = rnd.randrange(8 * len(data))
        damaged = bytearray(data)
        damaged[bit // 8] ^= 1 << (bit % 8)
        path.write_bytes(bytes(damaged))
        seen.add(outcome(path, original))
    assert "refused" in seen


# -- the JSON: each field removed, retyped, out of range --------------------------------------------

def field_paths(value, prefix=()):
    """Every key path into the metadata (dicts and lists), the containers included."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from field_paths(child, (*prefix, key))


def get_parent(meta, path):
    node = meta
    for key in path[:-1]:
        node = node[key]
    return node


DEEP = "@@DEEP@@"
RETYPED = {"a list": [1], "a string": "x", "a huge int": 10 ** 30, "null": None, "a dict": {"a": 1},
           "a bool": True, "nested 10,000 deep": DEEP}
OUT_OF_RANGE = {"-1": -1, "0": 0, "7": 7, "1e9": 10 ** 9, "nan": float("nan"),
                "inf": float("inf"), "2**64": 2 ** 64}

# fields whose removal or change must be refused: everything the loader uses
MUST_REFUSE_REMOVAL = ("step", "dtype", "config", "G", "D", "opt_G", "opt_D", "rng", "extra")


def mutated_files(meta, arrays, tmp_path):
    """(description, path) of files whose metadata has one field removed, retyped or out of range."""
    k = 0
    for path in field_paths(meta):
        value = get_parent(meta, path)[path[-1]]
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        variants = [("removed", None)] + [(f"set to {name}", v) for name, v in RETYPED.items()]
        variants += [(f"set to {name}", v) for name, v in OUT_OF_RANGE.items()] if numeric else []
        for how, value in variants:
            changed = copy.deepcopy(meta)
            parent = get_parent(changed, path)
            if how == "removed":
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
            k += 1
            target = tmp_path / f"m{k}.npz"
            if value == DEEP:               # too deep for json.dumps: written as text, with no checksum
                text = json.dumps({**changed, "format": FORMAT, "version": VERSION, "checksum_covers": "arrays+meta",
                                   "checksum": "0"})
                text = text.replace(json.dumps(DEEP), '{"a": ' * 10_000 + "1" + "}" * 10_000)
                write_raw(target, arrays, text)
            else:
                rewrite(target, arrays, changed)
            yield "/".join(map(str, path)) + " " + how, target


def test_each_json_field_removed_retyped_or_out_of_range(original, tmp_path):
    meta, arrays = contents(original[0], tmp_path)
    results = {}
    for what, path in mutated_files(meta, arrays, tmp_path):
        results[what] = outcome(path)
        path.unlink()
    assert len(results) > 400
    for key in MUST_REFUSE_REMOVAL:
        assert results[f"{key} removed"] == "refused"
        for how in RETYPED:
            if key == "extra" and how in ("a dict",):
                continue
            assert results[f"{key} set to {how}"] == "refused", (key, how)
    for key in meta["config"]:
        assert results[f"config/{key} removed"] == "refused", key
        assert results[f"config/{key} set to a string"] == "refused" or key in ("objective", "penalty"), key
    for opt in ("opt_G", "opt_D"):
        for key in meta[opt]:
            assert results[f"{opt}/{key} removed"] == "refused", (opt, key)
            for how in ("a list", "a string", "null", "nan", "inf", "-1", "nested 10,000 deep"):
                assert results[f"{opt}/{key} set to {how}"] == "refused", (opt, key, how)
    for what in ("opt_G/beta1 set to 7", "opt_G/eps set to 0", "opt_G/eps set to -1", "opt_G/t set to -1", "step set to -1", "step set to 2**64", "G/0/in_features set to 0",
                 "G/1/alpha set to 7", "G/0/layer set to a string", "D/0/out_features set to 1e9",
                 "rng/bit_generator set to a string", "rng/state/state set to a string", "config/g_lr set to -1",
                 "config/ema set to 7", "config/betas/0 set to 7", "config/pack set to 0"):
        assert results[what] == "refused", what
    # a field the loader does not use may change freely
    assert results["extra/data set to a list"] == "ok"


def edit(meta, arrays, tmp_path, name, change):
    meta, arrays = copy.deepcopy(meta), dict(arrays)
    change(meta, arrays)
    return rewrite(tmp_path / f"{name}.npz", arrays, meta)



def load_error_and_peak(path) -> tuple[str, int]:
    """The ValueError that loading ``path`` must raise, and the peak memory traced while loading it."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            load_checkpoint(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(info.value), peak

@pytest.mark.parametrize("name, change, match", [
    ("meta-bit-generator-seed", lambda m, a: m["rng"].update(bit_generator="seed"), "random generator 'seed'"),
    ("rng-state-wrong", lambda m, a: m["rng"].update(state={"state": "x", "inc": 1}), "rng holds a state"),
    ("unknown-layer", lambda m, a: m["G"][1].update(layer="Evil"), "G[1] must name a layer"),
    ("layer-extra-key", lambda m, a: m["G"][0].update(weights=[1]), "unknown keys ['weights']"),
    ("empty-spec", lambda m, a: m.update(G=[]), "G must be a non-empty list"),
    ("no-dense", lambda m, a: m.update(G=[{"layer": "Tanh"}]), "at least one Dense"),
    ("huge-spec", lambda m, a: m["G"][0].update(in_features=10 ** 6, out_features=10 ** 6),
     "'G/params' must be float32 of shape (1000001"),
    ("many-layers", lambda m, a: m.update(G=[{"layer": "Tanh"}] * 100_000), "over the limit of 10000"),
    ("dtype", lambda m, a: m.update(dtype="int8"), "dtype must be one of"),
    ("config-unknown", lambda m, a: m["config"].update(evil=1), "config has unknown keys ['evil']"),
    ("config-objective", lambda m, a: m["config"].update(objective="evil"), "objective"),
    ("config-d-steps", lambda m, a: m["config"].update(d_steps=0), "d_steps"),
    ("config-float-pack", lambda m, a: m["config"].update(pack=2.0), "config field 'pack' must be an integer"),
    ("no-ema-params", lambda m, a: a.pop("G_ema/params"), "lacks the arrays ['G_ema/params']"),
    ("ema-params-without-ema", lambda m, a: m["config"].update(ema=None), "arrays ['G_ema/params'] that"),
    ("extra-array", lambda m, a: a.update(junk=np.zeros(2)), "arrays ['junk'] that its metadata does not"),
    ("params-float64", lambda m, a: a.update({"G/params": a["G/params"].astype(np.float64)}),
     "'G/params' must be float32"),
    ("params-single-value", lambda m, a: a.update({"D/params": np.zeros(1, np.float32)}), "'D/params' must be"),
    ("params-bytes", lambda m, a: a.update({"D/params": np.array([b"abc"] * 16)}), "'D/params' must be"),
    ("params-2d", lambda m, a: a.update({"G/params": a["G/params"].reshape(1, -1)}), "'G/params' must be"),
    ("params-nan", lambda m, a: a.update({"G/params": np.full_like(a["G/params"], np.nan)}), "NaN"),
    ("adam-shape", lambda m, a: a.update({"opt_D/m.0.W": a["opt_D/m.0.W"].T.copy()}), "'opt_D/m.0.W' must be"),
    ("adam-missing", lambda m, a: a.pop("opt_G/v.2.b"), "lacks the arrays ['opt_G/v.2.b']"),
    ("history-float32", lambda m, a: a.update({"history/g_loss": a["history/g_loss"].astype(np.float32)}),
     "must be 1-D float64"),
    ("history-lengths", lambda m, a: a.update({"history/g_loss": np.zeros(7)}), "one length"),
    ("extra-list", lambda m, a: m.update(extra=[1, 2]), "extra must be a JSON object"),
    ("mismatched-networks", lambda m, a: m["config"].update(pack=2), "discriminator must take"),
])
def test_crafted_files_name_what_is_wrong(original, tmp_path, name, change, match):
    meta, arrays = contents(original[0], tmp_path)
    path = edit(meta, arrays, tmp_path, name, change)
    message, peak = load_error_and_peak(path)
    assert message.startswith(repr(str(path))) and match in message, message
    assert "pickle" not in message.lower()
    assert peak < 50 * 1024 ** 2, peak


def test_metadata_that_is_a_list_or_deeply_nested(original, tmp_path):
    _, arrays = contents(original[0], tmp_path)
    for name, text in [("list", "[1, 2]"), ("deep", "[" * 100_000 + "]" * 100_000), ("str", '"x"'),
                       ("deepdict", '{"format": "numgan-checkpoint", "version": 2, "step": '
                        + '{"a": ' * 10_000 + "1" + "}" * 10_000 + "}")]:
        path = write_raw(tmp_path / f"{name}.npz", arrays, text)
        assert outcome(path) == "refused", name


# -- sizes: lying headers, zip bombs ----------------------------------------------------------------

def test_a_header_claiming_ten_trillion_floats(original, tmp_path):
    _, arrays = contents(original[0], tmp_path)
    path = tmp_path / "liar.npz"
    path.write_bytes(original[0])
    header = io.BytesIO()
    npy_format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (10 ** 13,)})
    with zipfile.ZipFile(path) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(name, header.getvalue() + data[len(header.getvalue()):] if name == "G/params.npy" else data)
    tracemalloc.start()
    try:
        assert outcome(path) == "refused"
        assert tracemalloc.get_traced_memory()[1] < 50 * 1024 ** 2
    finally:
        tracemalloc.stop()


class _BombCompressor:
    """A deflate compressor that knows the deflated form of a chunk of zeros (so a bomb takes no time to make)."""

    def __init__(self, chunk):
        self.chunk = chunk
        fresh = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.piece = fresh.compress(chunk) + fresh.flush(zlib.Z_FULL_FLUSH)   # the same after any full flush
        self.real = zlib.compressobj(9, zlib.DEFLATED, -15)

    def compress(self, data):
        if data is self.chunk:
            return self.piece
        return self.real.compress(data) + self.real.flush(zlib.Z_FULL_FLUSH)

    def flush(self, *mode):
        return self.real.flush()


@pytest.fixture(scope="module")
def zip_bombs(original, tmp_path_factory):
    """Small files (under 1 MB) holding an 800 MB member of zeros: as G's params, and as an extra array."""
    folder = tmp_path_factory.mktemp("bombs")
    meta, arrays = contents(original[0], folder)
    chunk = bytes(8 * 1024 ** 2)
    paths = []
    for member in ("G/params", "junk"):
        path = folder / f"bomb-{member.replace('/', '-')}.npz"
        rewrite(path, {k: v for k, v in arrays.items() if k != member}, meta)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(zipfile, "_get_compressor", lambda *args: _BombCompressor(chunk))
            with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
                with zf.open(f"{member}.npy", "w", force_zip64=True) as out:
                    npy_format.write_array_header_1_0(out, {"descr": "<f4", "fortran_order": False,
                                                            "shape": (200 * 1024 ** 2,)})
                    for _ in range(100):
                        out.write(chunk)
        with zipfile.ZipFile(path) as zf:
            assert zf.getinfo(f"{member}.npy").file_size > 800 * 1024 ** 2
        paths.append(path)
    return paths


def test_a_zip_bomb_is_refused_by_its_declared_size_quickly_and_in_little_memory(zip_bombs):
    for path in zip_bombs:
        assert path.stat().st_size < 1024 ** 2
        start = time.perf_counter()
        message, peak = load_error_and_peak(path)
        assert time.perf_counter() - start < 2
        assert peak < 200 * 1024 ** 2, peak
        assert str(path) in message and "zip bomb" in message


def test_a_large_deflated_member_that_is_no_bomb_is_checked_against_the_spec(original, tmp_path):
    """A member of random bytes compresses badly (no bomb), so the spec check must refuse it before reading."""
    meta, arrays = contents(original[0], tmp_path)
    path = write_npz(tmp_path / "big.npz", {k: v for k, v in arrays.items() if k != "junk"}, meta, FORMAT, VERSION)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("junk.npy", "w", force_zip64=True) as out:
            npy_format.write_array(out, np.random.default_rng(0).random(3 * 1024 ** 2 // 8 * 8))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="'junk'"):
            load_checkpoint(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024 ** 2, peak       # the 25 MB member was never read


# -- files that are no checkpoint, old files -------------------------------------------------------

def test_non_zip_files_never_suggest_unpickling(tmp_path):
    import pickle
    for name, data in [("pickle.npz", pickle.dumps({"a": 1})), ("npy.npz", b"\x93NUMPY" + bytes(100)),
                       ("empty.npz", b""), ("text.npz", b"hello")]:
        path = tmp_path / name
        path.write_bytes(data)
        assert outcome(path) == "refused", name


def test_a_version_1_checkpoint_still_loads():
    path = Path(__file__).parent / "data" / "checkpoint_v1.npz"
    gan, _ = load_checkpoint(path)
    assert gan.step == 5 and gan.G_ema is not None
    assert load_history(path).steps == 5


# -- stale temporary files and interrupted saves ----------------------------------------------------

def test_stale_temporary_files_of_the_target_are_removed_on_save_and_load(original, tmp_path):
    path = tmp_path / "ck.npz"
    path.write_bytes(original[0])
    old = time.time() - 3600
    stale = [tmp_path / "ck.npz.abcd_123.tmp", tmp_path / "ck.npz.zzzzzzzz.tmp"]
    kept = [tmp_path / "ck.npz.fresh123.tmp",            # too recent: maybe a save in progress
            tmp_path / "ck.npz.tmp", tmp_path / "ck.npz.toolong12.tmp", tmp_path / "other.npz.abcdefgh.tmp",
            tmp_path / "ck.npz.abcdefgh.tmp.keep", tmp_path / "notes.txt"]
    for p in stale + kept:
        p.write_bytes(b"x")
        if p.name != "ck.npz.fresh123.tmp":
            os.utime(p, (old, old))
    folder = tmp_path / "ck.npz.dir12345.tmp"            # a folder of that name is not ours to remove
    folder.mkdir()
    os.utime(folder, (old, old))
    load_checkpoint(path)
    assert not any(p.exists() for p in stale) and all(p.exists() for p in kept) and folder.is_dir()

    for p in stale:
        p.write_bytes(b"x")
        os.utime(p, (old, old))
    gan, rng = load_checkpoint(path)
    save_checkpoint(path, gan, rng)
    assert not any(p.exists() for p in stale) and all(p.exists() for p in kept)


@pytest.mark.parametrize("when", ["before", "after"])
def test_an_interrupt_during_a_save_is_reported_as_the_interrupt(original, tmp_path, monkeypatch, when):
    path = tmp_path / "ck.npz"
    path.write_bytes(original[0])
    gan = original[1]
    real_replace = os.replace

    def interrupted_replace(src, dst):
        if when == "after":
            real_replace(src, dst)
        raise KeyboardInterrupt
    monkeypatch.setattr(_npz.os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, gan, np.random.default_rng(5))
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]
    assert outcome(path, original) == "ok"
