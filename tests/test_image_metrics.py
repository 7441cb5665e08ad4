"""Classifier-based image metrics: cases with a known answer, checked by hand or in closed form."""
import math

import numpy as np
import pytest

import numgan.metrics as metrics
from numgan.classifier import digits_classifier
from numgan.data import load_digits
from numgan.metrics import (class_histogram, class_reverse_kl, classifier_score, conditional_accuracy,
                            density_coverage, frechet_distance, image_metrics, precision_recall, sqrtm_psd)


def exact_gaussian_sample(n, mean, cov, seed):
    """``n`` points whose sample mean is exactly ``mean`` and sample covariance (1/(n-1)) exactly ``cov``."""
    z = np.random.default_rng(seed).standard_normal((n, len(mean)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.atleast_2d(np.cov(z, rowvar=False)))).T   # sample cov = I
    return np.asarray(mean) + z @ np.linalg.cholesky(np.asarray(cov, dtype=np.float64)).T


# classifier score ----------------------------------------------------------------------------------

def test_classifier_score_is_one_for_a_single_class():
    probs = np.zeros((50, 10))
    probs[:, 4] = 1.0
    assert classifier_score(probs) == pytest.approx(1.0, abs=1e-12)


def test_classifier_score_is_one_for_unconfident_predictions():
    assert classifier_score(np.full((30, 10), 0.1)) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("n_classes", [2, 10])
def test_classifier_score_is_the_number_of_classes_for_confident_balanced_predictions(n_classes):
    probs = np.eye(n_classes)[np.arange(7 * n_classes) % n_classes]
    assert classifier_score(probs) == pytest.approx(n_classes, rel=1e-12)


def test_classifier_score_hand_case():
    # p(y) = (0.75, 0.25); KL_1 = log(4/3), KL_2 = 0.5 log(2/3) + 0.5 log 2 = 0.5 log(4/3)
    probs = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert classifier_score(probs) == pytest.approx((4 / 3) ** 0.75, rel=1e-12)


def test_classifier_score_lies_between_one_and_the_number_of_classes():
    rng = np.random.default_rng(0)
    for alpha in (0.05, 1.0, 20.0):
        score = classifier_score(rng.dirichlet(np.full(10, alpha), size=200))
        assert 1.0 <= score <= 10.0
    assert classifier_score(rng.dirichlet(np.full(10, 0.05), size=2000)) > 5.0   # confident and diverse


def test_classifier_score_rejects_rows_that_are_not_probabilities():
    with pytest.raises(ValueError, match="rows must sum to 1"):
        classifier_score(np.full((3, 4), 0.3))
    with pytest.raises(ValueError, match=">= 0"):
        classifier_score(np.array([[1.5, -0.5]]))
    with pytest.raises(TypeError, match="floating"):
        classifier_score(np.eye(3, dtype=np.int64))


# class histogram ------------------------------------------------------------------------------------

def test_class_histogram_from_labels_and_from_probabilities():
    labels = np.array([0, 2, 2, 1, 2])
    assert class_histogram(labels, 4).tolist() == [1, 1, 3, 0]
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.6, 0.1], [0.1, 0.1, 0.8]])
    assert class_histogram(probs, 3).tolist() == [1, 1, 2]


def test_reverse_kl_is_log_c_for_one_class_and_zero_when_balanced():
    assert class_reverse_kl(np.full(40, 7), 10) == pytest.approx(math.log(10), rel=1e-12)
    assert class_reverse_kl(np.arange(40) % 10, 10) == pytest.approx(0.0, abs=1e-12)
    assert class_reverse_kl(np.arange(40) % 5, 10) == pytest.approx(math.log(2), rel=1e-12)


def test_class_histogram_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"probs_or_labels must lie in \[0, 3\)"):
        class_histogram(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="probs_or_labels must be >= 0, got minimum -1"):
        class_histogram(np.array([0, -1]), 3)
    with pytest.raises(TypeError, match=r"probs_or_labels must be \(N,\) integer labels or \(N, C\) probabilities"):
        class_histogram(np.array([0.5, 0.5]), 2)
    with pytest.raises(ValueError, match="n_classes=4 columns"):
        class_histogram(np.full((2, 3), 1 / 3), 4)
    with pytest.raises(TypeError, match="n_classes"):
        class_histogram(np.array([0, 1]), 2.0)


# matrix square root and Frechet distance -----------------------------------------------------------

def test_sqrtm_psd_hand_case():
    # [[2, 1], [1, 2]] has eigenvalues 3, 1 along (1, 1)/sqrt2, (1, -1)/sqrt2
    r3 = math.sqrt(3)
    expected = 0.5 * np.array([[r3 + 1, r3 - 1], [r3 - 1, r3 + 1]])
    root = sqrtm_psd(np.array([[2.0, 1.0], [1.0, 2.0]]))
    np.testing.assert_allclose(root, expected, rtol=1e-12)
    np.testing.assert_allclose(root @ root, [[2.0, 1.0], [1.0, 2.0]], rtol=1e-12)


def test_sqrtm_psd_of_a_singular_matrix_clips_round_off():
    S = np.array([[1.0, 1.0], [1.0, 1.0]])            # eigenvalues 2 and 0 (up to round-off)
    np.testing.assert_allclose(sqrtm_psd(S), S / math.sqrt(2), atol=1e-12)


def test_frechet_distance_of_identical_sets_is_zero():
    feat = np.random.default_rng(1).standard_normal((300, 16)) * np.arange(1, 17)
    assert frechet_distance(feat, feat) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(feat, feat[::-1].copy()) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_one_dimension_hand_case():
    # N(0, 1) vs N(3, 4): (0 - 3)^2 + (1 - 2)^2 = 10
    x = exact_gaussian_sample(50, [0.0], [[1.0]], seed=0)
    y = exact_gaussian_sample(80, [3.0], [[4.0]], seed=1)
    assert frechet_distance(x, y) == pytest.approx(10.0, rel=1e-10)


def test_frechet_distance_diagonal_gaussians_closed_form():
    # FD(N(m1, diag a), N(m2, diag b)) = ||m1 - m2||^2 + sum (sqrt a - sqrt b)^2
    rng = np.random.default_rng(2)
    m1, m2 = rng.standard_normal(6), rng.standard_normal(6)
    a, b = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    x = exact_gaussian_sample(400, m1, np.diag(a), seed=3)
    y = exact_gaussian_sample(300, m2, np.diag(b), seed=4)
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(x, y) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_trace_equals_that_of_the_root_of_s1_s2():
    # non-commuting covariances: Tr (S1^1/2 S2 S1^1/2)^1/2 = sum sqrt(eigenvalues of S1 S2)
    rng = np.random.default_rng(5)
    A, B = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    S1, S2 = A @ A.T + 0.1 * np.eye(4), B @ B.T + 0.1 * np.eye(4)
    assert not np.allclose(S1 @ S2, S2 @ S1)
    x = exact_gaussian_sample(200, np.zeros(4), S1, seed=6)
    y = exact_gaussian_sample(200, np.ones(4), S2, seed=7)
    eig = np.linalg.eigvals(S1 @ S2)
    assert np.abs(eig.imag).max() < 1e-9 and eig.real.min() > 0
    expected = 4.0 + np.trace(S1) + np.trace(S2) - 2 * np.sum(np.sqrt(eig.real))
    assert frechet_distance(x, y) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_a_shifted_set_is_the_squared_shift():
    x = np.random.default_rng(8).standard_normal((100, 5))
    shift = np.array([1.0, -2.0, 0.0, 0.5, 3.0])
    assert frechet_distance(x, x + shift) == pytest.approx(np.sum(shift ** 2), rel=1e-9)


def test_frechet_distance_errors():
    with pytest.raises(ValueError, match="feat_fake must have the 3 columns"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="feat_real must hold at least 2 samples"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="feat_fake must be finite"):
        frechet_distance(np.zeros((5, 3)), np.full((5, 3), np.nan))


# precision / recall and density / coverage ---------------------------------------------------------

def test_identical_sets():
    feat = np.random.default_rng(9).standard_normal((400, 32))
    assert precision_recall(feat, feat, k=3) == (1.0, 1.0)
    density, coverage = density_coverage(feat, feat, k=5)
    assert coverage == 1.0
    assert density == pytest.approx(6 / 5, rel=1e-12)     # each ball: its centre and its 5 neighbours


def test_two_samples_of_one_distribution_have_density_near_one():
    rng = np.random.default_rng(10)
    x, y = rng.standard_normal((2000, 4)), rng.standard_normal((2000, 4))
    precision, recall = precision_recall(x, y)
    density, coverage = density_coverage(x, y)
    assert precision > 0.9 and recall > 0.9 and coverage > 0.9
    assert 0.9 < density < 1.1


def test_disjoint_sets():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((300, 8))
    y = rng.standard_normal((200, 8)) + 100.0
    assert precision_recall(x, y) == (0.0, 0.0)
    assert density_coverage(x, y) == (0.0, 0.0)


def test_one_dimension_hand_case():
    # k = 1: every real ball B(i, 1); fake radii 0.2, 0.2, 0.6, 0.6, 4.5
    real = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
    fake = np.array([[0.3], [0.5], [3.9], [4.5], [9.0]])
    precision, recall = precision_recall(real, fake, k=1)
    assert precision == pytest.approx(4 / 5)        # all but 9.0 lie within 1 of a real point
    assert recall == pytest.approx(1 / 5)           # only 4.0 lies in a fake ball ([3.3, 4.5])
    density, coverage = density_coverage(real, fake, k=1)
    assert density == pytest.approx(7 / 5)          # ball counts 2, 2, 0, 1, 2
    assert coverage == pytest.approx(4 / 5)


def test_blocks_give_the_same_answer_as_brute_force(monkeypatch):
    rng = np.random.default_rng(12)
    x, y = rng.standard_normal((60, 3)), rng.standard_normal((45, 3)) + 0.5
    d_xx = np.linalg.norm(x[:, None] - x[None], axis=2)
    d_yy = np.linalg.norm(y[:, None] - y[None], axis=2)
    d_yx = np.linalg.norm(y[:, None] - x[None], axis=2)
    r_x, r_y = np.sort(d_xx, axis=1)[:, 3], np.sort(d_yy, axis=1)[:, 3]
    precision = np.mean((d_yx <= r_x[None]).any(axis=1))
    recall = np.mean((d_yx.T <= r_y[None]).any(axis=1))
    r5 = np.sort(d_xx, axis=1)[:, 5]
    density = (d_yx <= r5[None]).sum() / (5 * len(y))
    coverage = np.mean((d_yx <= r5[None]).any(axis=0))
    monkeypatch.setattr(metrics.images, "BLOCK_ENTRIES", 7 * 60)   # blocks of 7 rows, one of 4
    assert precision_recall(x, y, k=3) == pytest.approx((precision, recall), abs=1e-12)
    assert density_coverage(x, y, k=5) == pytest.approx((density, coverage), abs=1e-12)
    assert 0 < precision < 1 and 0 < recall < 1


def test_knn_metrics_errors():
    with pytest.raises(ValueError, match="feat_real must hold at least 4 samples"):
        precision_recall(np.zeros((3, 2)), np.zeros((10, 2)), k=3)
    with pytest.raises(TypeError, match="k must be an integer"):
        density_coverage(np.zeros((10, 2)), np.zeros((10, 2)), k=2.5)
    with pytest.raises(ValueError, match="feat_fake must have the 2 columns"):
        precision_recall(np.zeros((10, 2)), np.zeros((10, 3)))


# conditional accuracy ------------------------------------------------------------------------------

def test_conditional_accuracy_hand_case():
    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]])
    assert conditional_accuracy(probs, np.array([0, 1, 2, 1])) == pytest.approx(0.75)
    assert conditional_accuracy(probs, np.array([2, 2, 0, 1])) == 0.0
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        conditional_accuracy(probs, np.array([0, 1]))
    with pytest.raises(TypeError, match="labels must be integers, got dtype float64"):
        conditional_accuracy(probs, np.array([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\), got maximum 3"):
        conditional_accuracy(probs, np.array([0, 1, 3, 1]))


# everything at once, with the classifier of the real digits -----------------------------------------

@pytest.fixture(scope="module")
def digits():
    return digits_classifier(), load_digits(split="test", scale="tanh", flatten=True)


def test_image_metrics_of_real_digits_against_themselves(digits):
    clf, (images, labels) = digits
    m = image_metrics(images, images, clf, fake_labels=labels)
    assert m["frechet_distance"] == pytest.approx(0.0, abs=1e-6)
    assert m["precision"] == m["recall"] == m["coverage"] == 1.0
    assert m["density"] == pytest.approx(6 / 5)
    assert m["classes_present"] == 10 and sum(m["class_counts"]) == len(images)
    assert m["class_reverse_kl"] < 0.01
    assert 9.0 < m["classifier_score"] <= 10.0
    assert m["conditional_accuracy"] == pytest.approx(clf.accuracy(images, labels))
    assert (m["n_real"], m["n_fake"]) == (len(images), len(images))


def test_image_metrics_of_one_digit_only(digits):
    clf, (images, labels) = digits
    ones = images[labels == 1]
    m = image_metrics(images, ones, clf)
    assert "conditional_accuracy" not in m
    assert m["classifier_score"] < 1.5
    assert m["class_reverse_kl"] > 0.8 * math.log(10)
    assert m["recall"] < 0.3 and m["coverage"] < 0.2
    assert m["frechet_distance"] > 50


def test_image_metrics_rejects_what_is_not_a_classifier(digits):
    _, (images, _) = digits
    with pytest.raises(TypeError, match="classifier must be a numgan Classifier"):
        image_metrics(images, images, classifier=object())


def test_image_metrics_errors_name_the_argument(digits):
    clf, (images, labels) = digits
    with pytest.raises(TypeError, match="fake_images must have dtype float32"):
        image_metrics(images, images.astype(np.float64), clf)
    with pytest.raises(ValueError, match="real_images must have 64 columns"):
        image_metrics(images[:, :32], images, clf)
    with pytest.raises(ValueError, match=rf"fake_labels must be None or an array of shape \({len(images)},\)"):
        image_metrics(images, images, clf, fake_labels=labels[:5])
