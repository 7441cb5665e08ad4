"""The evaluation classifier: seeded training, shapes, save/load, and its accuracy on the real digits."""
import numpy as np
import pytest

from numgan.classifier import Classifier, digits_classifier, train_classifier
from numgan.data import load_digits


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
    np.testing.assert_array_equal(clf.features(x, batch_size=7), feats)


def test_save_and_load_round_trip(small, tmp_path):
    clf, x, _ = small
    path = clf.save(tmp_path / "clf.npz")
    back = Classifier.load(path)
    np.testing.assert_array_equal(back.net.flat_params, clf.net.flat_params)
    np.testing.assert_array_equal(back.predict_proba(x), clf.predict_proba(x))
    assert back.info == clf.info
    with np.load(path, allow_pickle=False) as f:                   # readable without pickle
        assert set(f.files) >= {"params", "sizes", "activation"}


def test_load_rejects_a_foreign_file(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="saved by Classifier.save"):
        Classifier.load(tmp_path / "other.npz")


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
