"""Image metrics: how well generated images match the data, judged through a classifier.

The metrics work on the outputs ``p(y|x)`` and last hidden layer
of a small classifier trained on the real data (:mod:`numgan.classifier`): the
classifier (Inception) score, the class histogram and its reverse KL, the
Frechet distance, improved precision and recall, density and coverage, and the
conditional accuracy of a conditional generator; :func:`image_metrics`
computes them all at once. Each metric is one small, vectorised function.

See ``docs/images.md#the-evaluation-protocol``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import check_int, check_labels, check_matrix
from .modes import reverse_kl_uniform

if TYPE_CHECKING:  # annotations only: numgan.classifier is not imported at run time
    from ..classifier import Classifier


# ---------------------------------------------------------------------------
# Images: metrics on a classifier's outputs and features (numgan.classifier).
#
# Inception Score and FID judge images through Inception v3; for digits the
# same formulas run on a small classifier trained on the real digits
# (:func:`numgan.classifier.digits_classifier`), as TF-GAN's "MNIST Frechet
# distance" does. ``probs`` are its ``p(y|x)`` rows, ``feat_*`` its last hidden
# layer. Every function takes plain arrays, so each can be checked by hand.
# ---------------------------------------------------------------------------

def _check_probs(probs: np.ndarray, name: str = "probs") -> np.ndarray:
    """``probs`` ``(N, C)``, N >= 1, entries >= 0, rows summing to 1; returned in float64."""
    check_matrix(probs, name)
    if not np.issubdtype(probs.dtype, np.floating):
        raise TypeError(f"{name} must be a floating array of probabilities, got dtype {probs.dtype.name}")
    if probs.shape[0] == 0 or probs.shape[1] == 0:
        raise ValueError(f"{name} must hold at least one row and one class, got shape {probs.shape}")
    p = probs.astype(np.float64)
    if not np.isfinite(p).all() or p.min() < 0:
        raise ValueError(f"{name} must be finite and >= 0, got minimum {np.nanmin(p)!r} "
                         f"and {int((~np.isfinite(p)).sum())} non-finite entries")
    sums = p.sum(axis=1)
    if not np.allclose(sums, 1.0, rtol=0, atol=1e-4):
        worst = int(np.argmax(np.abs(sums - 1)))
        raise ValueError(f"{name} rows must sum to 1 (e.g. softmax outputs), "
                         f"got row {worst} summing to {sums[worst]!r}")
    return p


def _check_features(feat: np.ndarray, name: str, min_rows: int = 2) -> np.ndarray:
    """``feat`` ``(N, F)`` real and finite with N >= ``min_rows``; returned in float64."""
    check_matrix(feat, name)
    if not (np.issubdtype(feat.dtype, np.floating) or np.issubdtype(feat.dtype, np.integer)):
        raise TypeError(f"{name} must be a real numeric array, got dtype {feat.dtype.name}")
    if feat.shape[0] < min_rows:
        raise ValueError(f"{name} must hold at least {min_rows} samples, got shape {feat.shape}")
    if not np.isfinite(feat).all():
        raise ValueError(f"{name} must be finite, got {int((~np.isfinite(feat)).sum())} NaN or inf entries")
    return feat.astype(np.float64)


def classifier_score(probs: np.ndarray) -> float:
    """The Inception Score of Salimans et al. (2016), on our own classifier's ``p(y|x)``.

    ``probs`` is ``(N, C)``, row ``i`` being ``p(y|x_i)``. With the marginal
    ``p(y) = (1/N) sum_i p(y|x_i)``::

        score = exp( (1/N) sum_i KL(p(y|x_i) || p(y)) )
              = exp( H(p(y)) - (1/N) sum_i H(p(y|x_i)) )      (0 log 0 = 0)

    It is 1 when every sample gets the same prediction (one class only, or no
    confident class), and at most ``C``, reached when each prediction is
    one-hot (confident) and the classes are equally frequent (diverse).
    Salimans et al., 2016, "Improved techniques for training GANs" (one split
    here: the mean over all ``N`` samples).

    See ``docs/images.md#classifier-score``.
    """
    p = _check_probs(probs)
    marginal = p.mean(axis=0)
    safe = np.where(p > 0, p, 1.0)                       # log 1 = 0 where p = 0: 0 log 0 = 0
    kl = np.sum(p * (np.log(safe) - np.log(np.where(marginal > 0, marginal, 1.0))), axis=1)
    return float(np.exp(kl.mean()))


def class_histogram(probs_or_labels: np.ndarray, n_classes: int) -> np.ndarray:
    """How many samples fall in each class: ``counts[c] = #{i : y_i = c}``, ``(n_classes,)`` ints.

    ``probs_or_labels`` is either ``(N, C)`` probabilities (each sample counts
    for its most likely class ``argmax_c p(c|x_i)``; ``C = n_classes``) or
    ``(N,)`` integer labels in ``[0, n_classes)``.

    See ``docs/images.md#class-histogram-and-its-reverse-kl``.
    """
    n_classes = check_int(n_classes, "n_classes")
    if not isinstance(probs_or_labels, np.ndarray):
        raise TypeError(f"probs_or_labels must be a numpy array, got {type(probs_or_labels).__name__}")
    if probs_or_labels.ndim == 2:
        p = _check_probs(probs_or_labels, "probs_or_labels")
        if p.shape[1] != n_classes:
            raise ValueError(f"probs_or_labels must have n_classes={n_classes} columns, got shape {p.shape}")
        labels = np.argmax(p, axis=1)
    elif probs_or_labels.ndim == 1:
        if not np.issubdtype(probs_or_labels.dtype, np.integer):
            raise TypeError(f"probs_or_labels must be (N,) integer labels or (N, C) probabilities, "
                            f"got 1-D dtype {probs_or_labels.dtype.name}")
        labels = check_labels(probs_or_labels, probs_or_labels.shape[0], n_classes, name="probs_or_labels")
    else:
        raise ValueError(f"probs_or_labels must be (N,) labels or (N, C) probabilities, "
                         f"got shape {probs_or_labels.shape}")
    return np.bincount(labels, minlength=n_classes).astype(np.int64)


def class_reverse_kl(probs_or_labels: np.ndarray, n_classes: int) -> float:
    """``KL(p || uniform) = sum_c p_c log(C p_c)`` of the class histogram ``p`` (see :func:`class_histogram`).

    0 when all ``C`` classes are equally frequent, ``log C`` when every sample
    falls in one class (the mode-collapse number of VEEGAN and PacGAN, on the
    classes of generated images).

    See ``docs/images.md#class-histogram-and-its-reverse-kl``.
    """
    return reverse_kl_uniform(class_histogram(probs_or_labels, n_classes))


def sqrtm_psd(S: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix ``S`` ``(d, d)``.

    With the eigen-decomposition ``S = V diag(w) V^T`` (``numpy.linalg.eigh``)::

        S^{1/2} = V diag(sqrt(max(w, 0))) V^T,        S^{1/2} S^{1/2} = S

    Eigenvalues that round-off made slightly negative are clipped to 0.

    See ``docs/images.md#frechet-distance``.
    """
    S = _check_features(S, "S", min_rows=1)
    if S.shape[0] != S.shape[1]:
        raise ValueError(f"S must be a square matrix, got shape {S.shape}")
    w, V = np.linalg.eigh((S + S.T) / 2)
    return (V * np.sqrt(np.clip(w, 0, None))) @ V.T


def frechet_distance(feat_real: np.ndarray, feat_fake: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (the FID's formula).

    ``feat_real`` ``(N1, F)`` and ``feat_fake`` ``(N2, F)`` give means ``mu1, mu2``
    and covariances ``S1, S2`` (unbiased, ``1/(N-1)``); in float64::

        FD = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2})
           = ||mu1 - mu2||^2 + Tr S1 + Tr S2 - 2 Tr (S1^{1/2} S2 S1^{1/2})^{1/2}

    the squared 2-Wasserstein distance between ``N(mu1, S1)`` and ``N(mu2, S2)``
    (Heusel et al., 2017, "GANs trained by a two time-scale update rule converge
    to a local Nash equilibrium"; Dowson and Landau, 1982).

    Why the second form: ``S1 S2`` is not symmetric, so its square root would
    need a general (Schur) algorithm. But with ``A = S1^{1/2}`` and
    ``B = S1^{1/2} S2`` we have ``S1 S2 = A B`` and ``B A = S1^{1/2} S2 S1^{1/2} = M``,
    and ``AB`` and ``BA`` have the same eigenvalues. ``M = A S2 A`` is
    symmetric positive semi-definite, so these eigenvalues ``l_i`` are real and
    ``>= 0``; the square root of ``S1 S2`` with eigenvalues ``sqrt(l_i)`` then has
    trace ``sum_i sqrt(l_i) = Tr M^{1/2}``. Both roots come from ``numpy.linalg.eigh``
    on symmetric matrices (:func:`sqrtm_psd`), negative round-off clipped to 0.
    0 for two sets with the same mean and covariance; the result is clipped at 0.

    See ``docs/images.md#frechet-distance``.
    """
    x = _check_features(feat_real, "feat_real")
    y = _check_features(feat_fake, "feat_fake")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feat_fake must have the {x.shape[1]} columns of feat_real, got shape {y.shape}")
    mu1, mu2 = x.mean(axis=0), y.mean(axis=0)
    S1 = np.atleast_2d(np.cov(x, rowvar=False))
    S2 = np.atleast_2d(np.cov(y, rowvar=False))
    root1 = sqrtm_psd(S1)
    M = root1 @ S2 @ root1
    eig = np.linalg.eigvalsh((M + M.T) / 2)
    trace_sqrt = np.sum(np.sqrt(np.clip(eig, 0, None)))
    fd = np.sum((mu1 - mu2) ** 2) + np.trace(S1) + np.trace(S2) - 2 * trace_sqrt
    return float(max(fd, 0.0))


#: the most pairwise distances held at once (float64: 32 MB), so 5,000 x 5,000 goes in 6 blocks
BLOCK_ENTRIES = 1 << 22


def _row_blocks(n_rows: int, n_cols: int) -> list[slice]:
    """Slices of rows such that a block of ``n_cols`` distances holds at most ``BLOCK_ENTRIES``."""
    step = max(1, BLOCK_ENTRIES // max(n_cols, 1))
    return [slice(i, min(i + step, n_rows)) for i in range(0, n_rows, step)]


#: relative size of the round-off of ``|a|^2 + |b|^2 - 2 a.b`` that :func:`_ball_counts` re-checks
ROUND_OFF = 1e-9


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``||a_i - b_j||^2`` ``(len(a), len(b))`` as ``|a_i|^2 + |b_j|^2 - 2 a_i . b_j`` (one matmul), >= 0."""
    d2 = np.einsum("ij,ij->i", a, a)[:, None] + np.einsum("ij,ij->i", b, b)[None, :] - 2 * (a @ b.T)
    return np.maximum(d2, 0, out=d2)


def _exact_sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``||a_i - b_i||^2`` row by row, ``(len(a),)``, as ``sum((a_i - b_i)^2)``.

    Slower than the matmul form but free of its cancellation, and symmetric
    bit for bit: the same two points always give the same number.
    """
    diff = a - b
    return np.einsum("ij,ij->i", diff, diff)


def _knn_radii(feat: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each sample to its ``k``-th nearest *other* sample of the same set, ``(N,)``.

    The radius of the k-NN ball around ``x_i`` is ``NND_k(x_i) = ||x_i - x_(k)||``
    with ``x_(k)`` the ``k``-th nearest of the other ``N - 1`` samples
    (Kynkaanniemi et al., 2019). The neighbour is found on distances formed in
    blocks of rows; its distance is then recomputed exactly (:func:`_exact_sq_dists`).
    """
    n = feat.shape[0]
    if k > n - 1:
        raise ValueError(f"k must be at most the number of samples minus 1 ({n - 1}), got {k}")
    r2 = np.empty(n)
    for rows in _row_blocks(n, n):
        d2 = _sq_dists(feat[rows], feat)
        d2[np.arange(d2.shape[0]), np.arange(rows.start, rows.stop)] = -1.0  # the sample itself comes first
        neighbour = np.argpartition(d2, k, axis=1)[:, k]
        r2[rows] = _exact_sq_dists(feat[rows], feat[neighbour])
    return r2


def _ball_counts(centres: np.ndarray, r2: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For closed balls ``B(c_i, r_i)`` (``r2`` holds ``r_i^2``) and points ``p_j``.

    Returns ``per_ball`` ``(len(centres),)``, how many points each ball holds, and
    ``covered`` ``(len(points),)`` bools, whether a point lies in at least one ball.
    Distances come from the matmul form in blocks; the few within round-off of
    a ball's boundary (``ROUND_OFF * (|c_i|^2 + |p_j|^2)``) are recomputed
    exactly, so that a point equal to a centre's k-th neighbour, which sits on
    the boundary, is always counted (as with identical real and fake sets).
    """
    per_ball = np.empty(centres.shape[0], dtype=np.int64)
    covered = np.zeros(points.shape[0], dtype=bool)
    norms_c, norms_p = np.einsum("ij,ij->i", centres, centres), np.einsum("ij,ij->i", points, points)
    for rows in _row_blocks(centres.shape[0], points.shape[0]):
        radius2 = r2[rows, None]
        d2 = _sq_dists(centres[rows], points)
        inside = d2 <= radius2
        near = np.abs(d2 - radius2) <= ROUND_OFF * (norms_c[rows, None] + norms_p[None, :])
        i, j = np.nonzero(near)
        inside[i, j] = _exact_sq_dists(centres[rows][i], points[j]) <= radius2[i, 0]
        per_ball[rows] = inside.sum(axis=1)
        covered |= inside.any(axis=0)
    return per_ball, covered


def _check_pair(feat_real: np.ndarray, feat_fake: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, int]:
    k = check_int(k, "k")
    x = _check_features(feat_real, "feat_real", min_rows=k + 1)
    y = _check_features(feat_fake, "feat_fake", min_rows=k + 1)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feat_fake must have the {x.shape[1]} columns of feat_real, got shape {y.shape}")
    return x, y, k


def precision_recall(feat_real: np.ndarray, feat_fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al., 2019), with k-nearest-neighbour balls.

    ``feat_real`` ``(N, F)``, ``feat_fake`` ``(M, F)``. The manifold of a set is
    the union of the closed balls around its samples of radius the distance to
    their ``k``-th nearest neighbour in that set (``NND_k``)::

        precision = (1/M) sum_j 1[ exists i: ||y_j - x_i|| <= NND_k(x_i) ]   fakes on the real manifold
        recall    = (1/N) sum_i 1[ exists j: ||x_i - y_j|| <= NND_k(y_j) ]   reals on the fake manifold

    Precision measures fidelity (are the fakes realistic?), recall diversity
    (is all of the real data reproduced?). Kynkaanniemi, Karras, Laine,
    Lehtinen and Aila, 2019, "Improved precision and recall metric for
    assessing generative models", who use ``k = 3``. Distances are formed in
    blocks, so 5,000 x 5,000 samples need tens of megabytes.

    See ``docs/images.md#precision-and-recall``.
    """
    x, y, k = _check_pair(feat_real, feat_fake, k)
    _, fake_on_real = _ball_counts(x, _knn_radii(x, k), y)
    _, real_on_fake = _ball_counts(y, _knn_radii(y, k), x)
    return float(fake_on_real.mean()), float(real_on_fake.mean())


def density_coverage(feat_real: np.ndarray, feat_fake: np.ndarray, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al., 2020), with k-NN balls around the *real* samples only.

    ``feat_real`` ``(N, F)``, ``feat_fake`` ``(M, F)``, ``B_i`` the closed ball
    around ``x_i`` of radius ``NND_k(x_i)`` (its ``k``-th nearest real neighbour)::

        density  = 1/(k M) sum_j sum_i 1[ y_j in B_i ]       how many real balls hold each fake, / k
        coverage = (1/N) sum_i 1[ exists j: y_j in B_i ]      fraction of real balls holding a fake

    Density is unbounded: about 1 when the fakes follow the real distribution,
    below 1 when they leave it and above 1 when they crowd its dense regions
    (for ``feat_fake = feat_real`` exactly each ball holds its centre and ``k``
    neighbours, so density = (k + 1) / k). Coverage is in [0, 1] and, being
    measured only around real samples, resists outliers among the real data.
    Naeem, Oh, Uh, Choi and Yoo, 2020, "Reliable fidelity and diversity
    metrics for generative models", who use ``k = 5``.

    See ``docs/images.md#density-and-coverage``.
    """
    x, y, k = _check_pair(feat_real, feat_fake, k)
    per_ball, _ = _ball_counts(x, _knn_radii(x, k), y)
    return float(per_ball.sum() / (k * y.shape[0])), float(np.mean(per_ball > 0))


def conditional_accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of samples classified as the class they were generated for, in [0, 1].

    ``probs`` ``(N, C)`` is ``p(y|x_i)`` for samples ``x_i = G(z_i, labels_i)`` of a
    conditional GAN, ``labels`` ``(N,)`` the requested classes, integers in ``[0, C)``::

        accuracy = (1/N) sum_i 1[ argmax_c p(c|x_i) = labels_i ]

    See ``docs/images.md#conditional-accuracy``.
    """
    p = _check_probs(probs)
    labels = check_labels(labels, p.shape[0], n_classes=p.shape[1])
    return float(np.mean(np.argmax(p, axis=1) == labels))


def image_metrics(real_images: np.ndarray, fake_images: np.ndarray, classifier: Classifier,
                  fake_labels: np.ndarray | None = None, k_pr: int = 3, k_dc: int = 5) -> dict[str, Any]:
    """Every classifier-based metric of ``fake_images`` against ``real_images``, as a JSON-ready dict.

    Both are ``(N, D)`` float32 images flattened and scaled to [-1, 1];
    ``classifier`` is a :class:`numgan.classifier.Classifier` trained on the real
    data (e.g. ``digits_classifier()``); ``fake_labels`` ``(M,)`` the classes
    asked of a conditional generator, if any. Keys:

    - ``"classifier_score"``: :func:`classifier_score` of the fakes, in [1, C];
    - ``"class_counts"``: :func:`class_histogram` of the fakes (a list of C ints),
      ``"classes_present"``: how many of its entries are > 0,
      ``"class_reverse_kl"``: its :func:`class_reverse_kl`, in [0, log C];
    - ``"frechet_distance"``: :func:`frechet_distance` of the features;
    - ``"precision"``, ``"recall"``: :func:`precision_recall` with ``k = k_pr``;
    - ``"density"``, ``"coverage"``: :func:`density_coverage` with ``k = k_dc``;
    - ``"conditional_accuracy"``: :func:`conditional_accuracy`, only with ``fake_labels``;
    - ``"n_real"``, ``"n_fake"``: the sample sizes (the k-NN metrics and FD depend on them).

    See ``docs/images.md#the-evaluation-protocol``.
    """
    for name in ("predict_proba", "features", "n_classes", "in_features", "dtype"):
        if not hasattr(classifier, name):
            raise TypeError(f"classifier must be a numgan Classifier (with {name}), got {type(classifier).__name__}")
    for arr, name in ((real_images, "real_images"), (fake_images, "fake_images")):
        check_matrix(arr, name, width=classifier.in_features, dtype=classifier.dtype)
    if fake_labels is not None and (not isinstance(fake_labels, np.ndarray)
                                    or fake_labels.shape != (fake_images.shape[0],)):
        got = fake_labels.shape if isinstance(fake_labels, np.ndarray) else type(fake_labels).__name__
        raise ValueError(f"fake_labels must be None or an array of shape ({fake_images.shape[0]},), "
                         f"one class per fake image, got {got}")
    probs = classifier.predict_proba(fake_images)
    feat_real = classifier.features(real_images)
    feat_fake = classifier.features(fake_images)
    counts = class_histogram(probs, classifier.n_classes)
    precision, recall = precision_recall(feat_real, feat_fake, k=k_pr)
    density, coverage = density_coverage(feat_real, feat_fake, k=k_dc)
    out = {
        "classifier_score": classifier_score(probs),
        "class_counts": [int(c) for c in counts],
        "classes_present": int(np.count_nonzero(counts)),
        "class_reverse_kl": reverse_kl_uniform(counts),
        "frechet_distance": frechet_distance(feat_real, feat_fake),
        "precision": precision, "recall": recall, "density": density, "coverage": coverage,
        "n_real": int(real_images.shape[0]), "n_fake": int(fake_images.shape[0]),
    }
    if fake_labels is not None:
        out["conditional_accuracy"] = conditional_accuracy(probs, fake_labels)
    return out
