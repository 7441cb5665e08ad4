"""Mode coverage (VEEGAN / PacGAN): cases with a known answer, a real mixture, argument errors."""
import math

import numpy as np
import pytest

from numgan.data import grid, ring
from numgan.metrics import mode_coverage, nearest_mean, reverse_kl_uniform

_, RING = ring(1, rng=0, return_means=True)
_, GRID = grid(1, rng=0, return_means=True)


def test_samples_exactly_at_the_means_cover_everything():
    samples = np.repeat(GRID, 4, axis=0)
    r = mode_coverage(samples, GRID, std=0.05)
    assert r == {"modes": 25, "modes_covered": 25, "high_quality": 1.0, "reverse_kl": 0.0, "counts": [4] * 25}


def test_all_samples_at_one_mode():
    samples = np.repeat(RING[[3]], 100, axis=0)
    r = mode_coverage(samples, RING, std=0.01)
    assert r["modes_covered"] == 1
    assert r["high_quality"] == 1.0
    assert r["reverse_kl"] == pytest.approx(math.log(8), rel=1e-12)
    assert r["counts"] == [0, 0, 0, 100, 0, 0, 0, 0]


def test_samples_far_away_cover_nothing():
    samples = RING + 100.0
    r = mode_coverage(samples, RING, std=0.01)
    assert r["modes_covered"] == 0
    assert r["high_quality"] == 0.0
    assert r["reverse_kl"] == float("inf")
    assert r["counts"] == [0] * 8


def test_half_of_the_modes_gives_log_2():
    samples = np.repeat(RING[:4], 25, axis=0) + 0.005  # within 3 std = 0.03 (0.007 away)
    r = mode_coverage(samples, RING, std=0.01)
    assert r["modes_covered"] == 4
    assert r["reverse_kl"] == pytest.approx(math.log(2), rel=1e-12)
    assert r["counts"] == [25, 25, 25, 25, 0, 0, 0, 0]


def test_high_quality_is_a_fraction_of_all_samples_and_kl_uses_only_them():
    near = np.repeat(RING, 3, axis=0)
    far = np.full((8, 2), 50.0)
    r = mode_coverage(np.concatenate([near, far, far]), RING, std=0.01)
    assert r["high_quality"] == pytest.approx(24 / 40)
    assert r["modes_covered"] == 8
    assert r["reverse_kl"] == pytest.approx(0.0, abs=1e-15)


def test_threshold_is_a_distance_in_std():
    std = 0.1
    direction = np.array([[0.6, 0.8]])  # unit vector
    inside = GRID[[12]] + 2.9 * std * direction
    outside = GRID[[12]] + 3.1 * std * direction
    assert mode_coverage(inside, GRID, std)["modes_covered"] == 1
    assert mode_coverage(outside, GRID, std)["modes_covered"] == 0
    assert mode_coverage(outside, GRID, std, threshold=3.2)["counts"][12] == 1


def test_an_unbalanced_histogram():
    # p = (1/4, 3/4) over K = 2 modes: KL = 1/4 log(1/2) + 3/4 log(3/2)
    means = np.array([[0.0, 0.0], [1.0, 0.0]])
    samples = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    r = mode_coverage(samples, means, std=0.01)
    assert r["reverse_kl"] == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5), rel=1e-12)
    assert reverse_kl_uniform([1, 3]) == r["reverse_kl"]
    assert reverse_kl_uniform([0, 0, 0]) == float("inf")


@pytest.mark.parametrize("make, std", [(ring, 0.01), (grid, 0.05)])
def test_real_data_of_the_protocol_scores_nearly_perfectly(make, std):
    x, means = make(2500, rng=0, return_means=True)
    r = mode_coverage(x, means, std)
    assert r["modes_covered"] == len(means)
    assert 0.97 < r["high_quality"] <= 1.0  # 98.9 % within 3 std in theory
    assert r["reverse_kl"] < 0.02
    assert sum(r["counts"]) == round(r["high_quality"] * 2500)


def test_nearest_mean_matches_a_loop():
    rng = np.random.default_rng(0)
    samples, means = rng.standard_normal((30, 3)), rng.standard_normal((5, 3))
    k, dist = nearest_mean(samples, means)
    for i, x in enumerate(samples):
        d = [np.linalg.norm(x - m) for m in means]
        assert k[i] == int(np.argmin(d)) and dist[i] == pytest.approx(min(d), rel=1e-12)


def test_infinite_samples_are_simply_far():
    samples = np.array([[np.inf, 0.0], [0.0, 1.0]])
    r = mode_coverage(samples, RING, std=0.01)
    assert r["high_quality"] == 0.5 and r["counts"][2] == 1


@pytest.mark.parametrize("call, error, message", [
    (lambda: mode_coverage(np.zeros(4), RING, 0.01), ValueError, r"samples must be 2-D .* got shape \(4,\)"),
    (lambda: mode_coverage(np.zeros((4, 2)), np.zeros((8, 3)), 0.01), ValueError,
     r"means must have 2 columns, got shape \(8, 3\)"),
    (lambda: mode_coverage(np.zeros((0, 2)), RING, 0.01), ValueError, r"samples must hold at least one sample"),
    (lambda: mode_coverage(np.zeros((4, 2)), np.zeros((0, 2)), 0.01), ValueError, r"means must hold at least one"),
    (lambda: mode_coverage(np.array([[0.0, np.nan], [1.0, 1.0]]), RING, 0.01), ValueError,
     r"samples must not contain NaN, got 1 NaN entries"),
    (lambda: mode_coverage(np.zeros((4, 2)), RING + np.nan, 0.01), ValueError, r"means must be finite"),
    (lambda: mode_coverage(np.zeros((4, 2)), RING, 0.0), ValueError, r"std must be a positive number, got 0.0"),
    (lambda: mode_coverage(np.zeros((4, 2)), RING, 0.01, threshold=-1), ValueError,
     r"threshold must be a positive number, got -1"),
    (lambda: mode_coverage([[0.0, 0.0]], RING, 0.01), TypeError, r"samples must be a numpy array, got list"),
    (lambda: mode_coverage(np.zeros((4, 2), dtype=bool), RING, 0.01), TypeError,
     r"samples must be a real numeric array \(float or int\), got dtype bool"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
