"""Mode metrics on the 2-D Gaussian mixtures: how many modes a generator covers, and how evenly.

For the mixtures of :mod:`numgan.data.mixtures`, where the modes are known,
:func:`mode_coverage` gives the mode-collapse numbers of VEEGAN (Srivastava et
al., 2017) and PacGAN (Lin et al., 2018): modes covered, the fraction of
high-quality samples, and the reverse KL divergence of the generated mode
histogram from the uniform one (:func:`reverse_kl_uniform`), each sample being
assigned to its nearest mean (:func:`nearest_mean`).

See ``docs/mode-collapse.md#the-three-numbers``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_matrix, check_positive


def nearest_mean(samples: np.ndarray, means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest mean ``(n,)`` and the Euclidean distance to it ``(n,)``.

    ``samples`` is ``(n, d)``, ``means`` ``(K, d)``; the ``(n, K)`` matrix of
    squared distances ``||x_i - mu_k||^2`` is formed by broadcasting, in float64.
    Ties go to the lower index.
    """
    diff = samples.astype(np.float64)[:, None, :] - means.astype(np.float64)[None, :, :]
    d2 = np.einsum("nkd,nkd->nk", diff, diff)
    k = np.argmin(d2, axis=1)
    return k, np.sqrt(d2[np.arange(len(k)), k])


def reverse_kl_uniform(counts: np.ndarray) -> float:
    """``KL(p || uniform) = sum_k p_k log(K p_k)`` over ``p_k > 0``, with ``p = counts / sum(counts)``.

    0 when every one of the ``K`` bins holds the same count, ``log K`` when one
    bin holds everything; ``inf`` when all counts are 0 (``p`` is undefined).

    See ``docs/mode-collapse.md#reverse-kl-divergence``.
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return float("inf")
    p = counts[counts > 0] / total
    return float(np.sum(p * np.log(len(counts) * p)))


def mode_coverage(samples: np.ndarray, means: np.ndarray, std: float,
                  threshold: float = 3.0) -> dict[str, Any]:
    """Mode coverage of ``samples`` ``(n, d)`` on a mixture with ``means`` ``(K, d)`` and noise ``std``.

    A sample ``x`` is *high quality* when ``min_k ||x - mu_k|| <= threshold * std``;
    a mode is *covered* when it is the nearest mean of at least one
    high-quality sample (VEEGAN, Srivastava et al., 2017; PacGAN, Lin et al.,
    2018, who use ``threshold = 3`` and 2,500 samples). Returns a dict:

    - ``"modes"``: ``K``;
    - ``"modes_covered"``: the number of covered modes, in ``0 .. K``;
    - ``"high_quality"``: the fraction of *all* samples that are high quality, in [0, 1];
    - ``"reverse_kl"``: ``KL(p || uniform) = sum_k p_k log(K p_k)`` over ``p_k > 0``,
      where ``p`` is the histogram of the high-quality samples over their
      nearest modes; 0 for a perfectly balanced generator, ``log K`` when all
      high-quality samples sit at one mode, and ``float('inf')`` when no sample
      is high quality (there is no histogram to compare);
    - ``"counts"``: the number of high-quality samples at each mode, a list of ``K`` ints.

    See ``docs/mode-collapse.md#the-three-numbers``.
    """
    check_matrix(samples, "samples")
    check_matrix(means, "means", width=samples.shape[1])
    for arr, name in ((samples, "samples"), (means, "means")):
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise TypeError(f"{name} must be a real numeric array (float or int), got dtype {arr.dtype.name}")
    if samples.shape[0] == 0:
        raise ValueError(f"samples must hold at least one sample, got shape {samples.shape}")
    if means.shape[0] == 0:
        raise ValueError(f"means must hold at least one mean, got shape {means.shape}")
    if np.isnan(samples).any():
        raise ValueError(f"samples must not contain NaN, got {int(np.isnan(samples).sum())} NaN entries")
    if not np.isfinite(means).all():
        raise ValueError("means must be finite, got NaN or inf entries")
    std = check_positive(std, "std")
    threshold = check_positive(threshold, "threshold")
    k, dist = nearest_mean(samples, means)
    high = dist <= threshold * std
    counts = np.bincount(k[high], minlength=means.shape[0])
    return {"modes": int(means.shape[0]), "modes_covered": int(np.count_nonzero(counts)),
            "high_quality": float(high.mean()), "reverse_kl": reverse_kl_uniform(counts),
            "counts": [int(c) for c in counts]}
