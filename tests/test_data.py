"""2-D Gaussian mixtures: exact means, samples near them, seeds, dtypes and argument errors."""
import itertools

import numpy as np
import pytest

from numgan.data import MIXTURES, default_std, grid, mixture, ring, sample_mixture, spiral, two_moons


def nearest_distance(x, means):
    d = np.sqrt(((x[:, None, :].astype(np.float64) - means[None]) ** 2).sum(-1))
    return d.min(axis=1), d.argmin(axis=1)


def min_pairwise_distance(means):
    d = np.sqrt(((means[:, None] - means[None]) ** 2).sum(-1))
    return d[~np.eye(len(means), dtype=bool)].min()


def test_ring_means_are_the_8_points_of_the_protocol():
    _, means = ring(10, rng=0, return_means=True)
    k = np.arange(8)
    expected = np.stack([np.cos(2 * np.pi * k / 8), np.sin(2 * np.pi * k / 8)], axis=1)
    np.testing.assert_allclose(means, expected, rtol=0, atol=1e-15)
    assert means.dtype == np.float64 and means.shape == (8, 2)
    # the np.linspace(0, 2 pi, 8) bug would repeat the first mean and leave 7 distinct ones
    assert len(np.unique(np.round(means, 9), axis=0)) == 8
    assert min_pairwise_distance(means) == pytest.approx(2 * np.sin(np.pi / 8))


@pytest.mark.parametrize("modes", [1, 2, 3, 7, 12])
def test_ring_has_modes_distinct_means_on_the_circle(modes):
    _, means = ring(5, modes=modes, radius=2.5, rng=0, return_means=True)
    assert means.shape == (modes, 2)
    np.testing.assert_allclose(np.hypot(means[:, 0], means[:, 1]), 2.5)
    assert len(np.unique(np.round(means, 9), axis=0)) == modes


def test_grid_means_are_the_25_points_of_the_protocol():
    _, means = grid(10, rng=0, return_means=True)
    expected = set(itertools.product([-4.0, -2.0, 0.0, 2.0, 4.0], repeat=2))
    assert means.shape == (25, 2)
    assert {tuple(float(v) for v in m) for m in means} == expected


def test_grid_is_centred_for_even_sides():
    _, means = grid(10, side=4, spacing=1.0, rng=0, return_means=True)
    assert sorted(set(means[:, 0])) == [-1.5, -0.5, 0.5, 1.5]
    np.testing.assert_allclose(means.mean(axis=0), 0.0, atol=1e-15)


def test_spiral_means_move_outwards_to_radius_and_are_well_separated():
    _, means = spiral(10, rng=0, return_means=True)
    r = np.hypot(means[:, 0], means[:, 1])
    assert means.shape == (20, 2)
    assert np.all(np.diff(r) > 0)
    assert r[-1] == pytest.approx(1.0)
    # neighbours along the curve are evenly spaced, and far apart relative to std
    steps = np.sqrt((np.diff(means, axis=0) ** 2).sum(1))
    assert steps.max() / steps.min() < 1.15
    assert min_pairwise_distance(means) >= 10 * default_std("spiral")


def test_two_moons_means_lie_on_two_half_circles():
    _, means = two_moons(10, rng=0, return_means=True)
    upper, lower = means[:8], means[8:]
    np.testing.assert_allclose(np.hypot(*(upper - [-0.5, -0.25]).T), 1.0)
    np.testing.assert_allclose(np.hypot(*(lower - [0.5, 0.25]).T), 1.0)
    assert np.all(upper[:, 1] > -0.25) and np.all(lower[:, 1] < 0.25)  # upper and lower halves
    np.testing.assert_allclose(means.mean(axis=0), 0.0, atol=1e-15)
    assert min_pairwise_distance(means) >= 10 * default_std("moons")


@pytest.mark.parametrize("name", sorted(MIXTURES))
def test_samples_lie_within_a_few_std_of_their_means(name):
    x, means = mixture(name, 4000, rng=3, return_means=True)
    std = default_std(name)
    dist, k = nearest_distance(x, means)
    assert x.shape == (4000, 2) and x.dtype == np.float32
    assert dist.max() < 6 * std
    assert np.mean(dist <= 3 * std) > 0.97  # 98.9 % in theory
    # the noise is isotropic with the right scale: E||eps||^2 = 2 std^2
    assert np.mean(dist ** 2) / (2 * std ** 2) == pytest.approx(1.0, rel=0.1)
    # modes are chosen uniformly
    counts = np.bincount(k, minlength=len(means))
    assert counts.min() > 0.5 * 4000 / len(means) and counts.max() < 1.5 * 4000 / len(means)


@pytest.mark.parametrize("name", sorted(MIXTURES))
def test_same_seed_same_samples_bit_for_bit(name):
    a, b = mixture(name, 300, rng=7), mixture(name, 300, rng=7)
    assert a.tobytes() == b.tobytes()
    c = mixture(name, 300, rng=np.random.default_rng(7))
    assert c.tobytes() == a.tobytes()
    assert not np.array_equal(a, mixture(name, 300, rng=8))


def test_a_generator_advances_between_calls():
    rng = np.random.default_rng(0)
    assert not np.array_equal(ring(50, rng=rng), ring(50, rng=rng))


def test_dtype_is_honoured():
    assert ring(5, rng=0).dtype == np.float32
    x64 = ring(5, rng=0, dtype=np.float64)
    assert x64.dtype == np.float64
    np.testing.assert_array_equal(ring(5, rng=0), x64.astype(np.float32))
    with pytest.raises(TypeError, match="dtype must be a floating dtype .* got int64"):
        ring(5, rng=0, dtype=np.int64)


def test_mixture_dispatches_by_name_and_passes_kwargs():
    x, means = mixture("grid", 20, rng=1, return_means=True, side=3, std=0.1)
    y, means2 = grid(20, side=3, std=0.1, rng=1, return_means=True)
    np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(means, means2)
    assert means.shape == (9, 2)
    assert set(MIXTURES) == {"ring", "grid", "spiral", "moons"}


def test_default_std():
    assert default_std("ring") == 0.01
    assert default_std("grid") == 0.05
    assert default_std("spiral") == 0.02
    assert default_std("moons") == 0.02


def test_unknown_mixture_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"name must be one of \['ring', 'grid', 'spiral', 'moons'\], got 'swiss'"):
        mixture("swiss", 10)
    with pytest.raises(ValueError, match="name must be one of"):
        default_std("swiss")


@pytest.mark.parametrize("call, error, message", [
    (lambda: ring(0), ValueError, r"n must be an integer >= 1, got 0"),
    (lambda: ring(2.5), TypeError, r"n must be an integer >= 1, got float 2.5"),
    (lambda: ring(10, modes=0), ValueError, r"modes must be an integer >= 1, got 0"),
    (lambda: ring(10, std=0.0), ValueError, r"std must be a positive number, got 0.0"),
    (lambda: ring(10, radius=-1.0), ValueError, r"radius must be a positive number, got -1.0"),
    (lambda: grid(10, side=0), ValueError, r"side must be an integer >= 1, got 0"),
    (lambda: grid(10, spacing=0), ValueError, r"spacing must be a positive number, got 0"),
    (lambda: spiral(10, std=-0.1), ValueError, r"std must be a positive number, got -0.1"),
    (lambda: spiral(10, turns=0), ValueError, r"turns must be a positive number, got 0"),
    (lambda: two_moons(10, modes=7), ValueError, r"modes must be even .* got 7"),
    (lambda: two_moons(10, std=float("nan")), ValueError, r"std must be a positive number, got nan"),
    (lambda: ring(10, rng="seed"), TypeError, r"rng must be a numpy.random.Generator, an int seed or None, got str"),
    (lambda: ring(10, rng=-1), ValueError, r"rng as a seed must be an integer >= 0, got -1"),
    (lambda: sample_mixture(10, np.zeros(3), 0.1), ValueError, r"means must have shape \(K, d\)"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
