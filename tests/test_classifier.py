"""The evaluation classifier: seeded training, shapes, save/load, and its accuracy on the real digits."""
import io
import json
import zipfile

import numpy as np
import pytest

from numgan._npz import write_npz
from numgan.classifier import FORMAT, VERSION, Classifier, digits_classifier, train_classifier
from numgan.data import load_digits
from numgan.network import mlp


def blobs(n_per_class=60, n_classes=3, dim=16, noise_seed=0):
    """Three well-separated Gaussian blobs (fixed centres in [-0.8, 0.8]^16), float32, with their labels."""
    centres = np.random.default_rng(100).uniform(-0.8, 0.8, (n_classes, dim))
    labels = np.repeat(np.arange(n_classes), n_per_class)
    x = centres[labels] + 0.1 * np.random.default_rng(noise_seed).standard_normal((len(labels), dim))
    return x.astype(np.float32), labels


@pytest.fixture(scope="module")
def small():
    x, y = blobs()
    return train_classifier(x, y, hidden=(32, 16), steps=150, batch_size=32, seed=3), x, y


def test_training_is_deterministic_from_the_seed(small):
    clf, x, y = small
    again = train_classifier(x, y, hidden=(32, 16), steps=150, batch_size=32, seed=3)
    other = train_classifier(x, y, hidden=(32, 16), steps=150, batch_size=32, seed=4)
    np.testing.assert_array_equal(again.net.flat_params, clf.net.flat_params)
    assert not np.array_equal(other.net.flat_params, clf.net.flat_params)


def test_it_learns_separable_classes(small):
    clf, x, y = small
    assert clf.accuracy(x, y) == 1.0
    x_new, y_new = blobs(n_per_class=20, noise_seed=1)   # new points around the same centres
    assert clf.accuracy(x_new, y_new) == 1.0


def test_shapes_and_probabilities(small):
    clf, x, _ = small
    probs, feats = clf.predict_proba(x), clf.features(x)
    assert probs.shape == (len(x), 3) and feats.shape == (len(x), 16)
    assert (clf.in_features, clf.n_classes, clf.n_features) == (16, 3, 16)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (feats >= 0).all()                                       # after a ReLU
    last = clf.net.layers[-1]
    np.testing.assert_allclose(clf.logits(x), feats @ last.params["W"] + last.params["b"], rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(x), probs.argmax(axis=1))
    # batches of 7 rows: the same numbers up to rounding (BLAS may sum in another order for another
    # number of rows; OpenBLAS on some CPUs does, so exact equality is not promised)
    np.testing.assert_allclose(clf.features(x, batch_size=7), feats, rtol=1e-5, atol=1e-6)


def test_save_and_load_round_trip(small, tmp_path):
    clf, x, _ = small
    path = clf.save(tmp_path / "clf.npz")
    back = Classifier.load(path)
    np.testing.assert_array_equal(back.net.flat_params, clf.net.flat_params)
    np.testing.assert_array_equal(back.predict_proba(x), clf.predict_proba(x))
    np.testing.assert_array_equal(back.features(x), clf.features(x))
    assert back.info == clf.info and back.net.spec() == clf.net.spec() and back.dtype == clf.dtype
    with np.load(path, allow_pickle=False) as f:                   # readable without pickle
        assert set(f.files) == {"params", "meta"}
        meta = json.loads(f["meta"].tobytes())
    assert (meta["format"], meta["version"], meta["net"]) == (FORMAT, VERSION, clf.net.spec())
    assert not list(tmp_path.glob("*.tmp"))                         # written atomically, no leftovers


def test_the_architecture_comes_from_the_spec(tmp_path):
    """A float64 LeakyReLU network with a tanh layer comes back as it was, slopes and dtype included."""
    net = mlp([5, 7, 6, 3], activation="leaky_relu", alpha=0.3, dtype=np.float64, seed=2)
    net.layers[3] = type(net.layers[3])(0.05)                       # a second LeakyReLU, another slope
    clf = Classifier(net, {"note": "hand-made"})
    back = Classifier.load(clf.save(tmp_path / "c.npz"))
    assert back.net.spec() == net.spec() and back.dtype == np.float64
    x = np.random.default_rng(0).uniform(-1, 1, (9, 5))
    np.testing.assert_array_equal(back.logits(x), clf.logits(x))


def test_load_rejects_a_foreign_file(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="is not a readable numgan classifier"):
        Classifier.load(tmp_path / "other.npz")
    write_npz(tmp_path / "ck.npz", {}, {}, "numgan-checkpoint", 1)
    with pytest.raises(ValueError, match="is not a numgan classifier file"):
        Classifier.load(tmp_path / "ck.npz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Classifier.load(tmp_path / "missing.npz")


def test_a_damaged_classifier_file_is_a_value_error(small, tmp_path):
    clf, _, _ = small
    path = clf.save(tmp_path / "clf.npz")
    data = path.read_bytes()
    for n in (0, 10, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:n])
        with pytest.raises(ValueError, match="is not a readable numgan classifier") as info:
            Classifier.load(path)
        assert str(path) in str(info.value) and "pickle" not in str(info.value)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        items = {name: zf.read(name) for name in zf.namelist()}
    params = clf.net.flat_params.copy()
    params[0] += 1
    buf = io.BytesIO()
    np.lib.format.write_array(buf, params)
    with zipfile.ZipFile(path, "w") as zf:                          # a valid zip, one weight changed
        for name, member in items.items():
            zf.writestr(name, buf.getvalue() if name == "params.npy" else member)
    with pytest.raises(ValueError, match="fails its checksum"):
        Classifier.load(path)


def test_a_classifier_file_of_the_old_format_says_so(small, tmp_path):
    """Version 1 (before numgan._npz): separate arrays, no checksum. Not read any more, with a clear error."""
    clf, _, _ = small
    path = tmp_path / "old.npz"
    np.savez_compressed(path, format=np.array(FORMAT), sizes=np.array([16, 32, 16, 3]), activation=np.array("relu"),
                        alpha=np.array(0.0), params=clf.net.flat_params,
                        info=np.frombuffer(json.dumps(clf.info).encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match="saved by an older numgan") as info:
        Classifier.load(path)
    assert str(path) in str(info.value)


def test_a_crafted_network_description_is_refused_before_allocating(tmp_path):
    path = tmp_path / "c.npz"
    params = np.zeros(10, np.float32)
    huge = [{"layer": "Dense", "in_features": 10**6, "out_features": 10**6}, {"layer": "ReLU"},
            {"layer": "Dense", "in_features": 10**6, "out_features": 2}]
    cases = {
        "Dense layer of sizes from 1 to 10": {"net": huge, "dtype": "float32", "info": {}},
        "too large for the 10 parameters": {"net": [{"layer": "Dense", "in_features": 2, "out_features": 2}] * 3,
                                            "dtype": "float32", "info": {}},
        "dtype must be 'float32' or 'float64'": {"net": huge, "dtype": "object", "info": {}},
        "params must be a 1-D float64 array": {"net": huge, "dtype": "float64", "info": {}},
        "must hold 'info'": {"net": huge, "dtype": "float32", "info": [1]},
        "list of layers": {"net": {"layer": "Dense"}, "dtype": "float32", "info": {}},
        "must name a layer": {"net": [{"layer": "Conv2d"}], "dtype": "float32", "info": {}},
        "must have 9 numbers": {"net": [{"layer": "Dense", "in_features": 2, "out_features": 2}, {"layer": "ReLU"},
                                        {"layer": "Dense", "in_features": 2, "out_features": 1}],
                                 "dtype": "float32", "info": {}},
        "must have a hidden layer": {"net": [{"layer": "Dense", "in_features": 4, "out_features": 2}],
                                     "dtype": "float32", "info": {}},
    }
    for message, meta in cases.items():
        write_npz(path, {"params": params}, meta, FORMAT, VERSION)
        with pytest.raises(ValueError, match=message) as info:
            Classifier.load(path)
        assert str(path) in str(info.value) and "does not hold a usable numgan classifier" in str(info.value)


def test_bad_inputs_name_the_argument(small):
    clf, x, y = small
    with pytest.raises(TypeError, match="images must have dtype float32"):
        train_classifier(x.astype(np.float64), y)
    with pytest.raises(ValueError, match=r"labels must have shape \(180,\)"):
        train_classifier(x, y[:10])
    with pytest.raises(TypeError, match="labels must be integers"):
        train_classifier(x, y.astype(np.float32))
    with pytest.raises(ValueError, match="hidden must be a non-empty list"):
        train_classifier(x, y, hidden=())
    with pytest.raises(TypeError, match="x must have dtype float32"):
        clf.predict_proba(x.astype(np.float64))
    with pytest.raises(ValueError, match="x must have 16 columns"):
        clf.features(x[:, :8])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        clf.accuracy(x, y + 1)


def test_the_digits_classifier_reaches_its_accuracy():
    clf = digits_classifier()
    assert digits_classifier() is clf                               # trained once, cached
    train = load_digits(split="train", scale="tanh", flatten=True)
    test = load_digits(split="test", scale="tanh", flatten=True)
    assert clf.accuracy(*train) >= 0.99
    assert clf.accuracy(*test) >= 0.95
    assert clf.info["test_accuracy"] == clf.accuracy(*test)
    assert (clf.in_features, clf.n_classes, clf.n_features) == (64, 10, 128)
