"""Image GAN presets and the evaluation protocol."""
import numpy as np
import pytest

from numgan.images import IMAGE_RECIPES, SHAPES, evaluate_image_gan, gaussian_baseline, image_gan, load_images


@pytest.mark.parametrize("name", ["digits", "mnist"])
def test_image_gan_shapes(name):
    gan = image_gan(name, seed=0)
    h, w = SHAPES[name]
    assert gan.data_dim == h * w and gan.z_dim == IMAGE_RECIPES[name]["z_dim"]
    x = gan.sample(5, rng=0)
    assert x.shape == (5, h * w) and x.dtype == np.float32
    assert np.all(np.abs(x) <= 1)                      # tanh output, like the scaled data


def test_conditional_image_gan_takes_one_hot_labels():
    gan = image_gan("digits", seed=0, conditional=True)
    assert gan.n_classes == 10
    assert gan.G.in_features == IMAGE_RECIPES["digits"]["z_dim"] + 10
    assert gan.D.in_features == 64 + 10
    rows = gan.sample(20, rng=0, labels=np.repeat(np.arange(10), 2))
    assert rows.shape == (20, 64)


def test_image_gan_is_reproducible_and_overridable():
    a, b = image_gan("digits", seed=3), image_gan("digits", seed=3)
    np.testing.assert_array_equal(a.G.flat_params, b.G.flat_params)
    small = image_gan("digits", seed=3, g_hidden=[16], d_hidden=[16], objective="hinge", penalty=None)
    assert small.objective == "hinge" and small.G.n_params < a.G.n_params
    with pytest.raises(ValueError, match=r"name must be one of \['digits', 'fashion', 'mnist'\], got 'cifar'"):
        image_gan("cifar")


def test_gaussian_baseline_matches_the_moments():
    x, _ = load_images("digits", "train")
    g = gaussian_baseline(x, 50000, rng=0, clip=False)
    assert g.shape == (50000, 64) and g.dtype == np.float32
    assert np.abs(g.mean(axis=0) - x.mean(axis=0)).max() < 0.02
    assert np.abs(np.cov(g, rowvar=False) - np.cov(x, rowvar=False)).max() < 0.03
    clipped = gaussian_baseline(x, 100, rng=0)
    assert np.all((clipped >= -1) & (clipped <= 1))


def test_evaluate_image_gan_rows():
    gan = image_gan("digits", seed=0, conditional=True)
    rows = evaluate_image_gan(gan, "digits", seed=0)
    assert set(rows) == {"gan", "held_out", "gaussian"}
    # held-out real digits are what a perfect generator reaches: confidently classified, all classes
    assert rows["held_out"]["classifier_score"] > 8.5
    assert rows["held_out"]["classes_present"] == 10
    # an untrained generator is far worse than real data, and its conditional accuracy near chance
    assert rows["gan"]["classifier_score"] < rows["held_out"]["classifier_score"] - 3
    assert rows["gan"]["conditional_accuracy"] < 0.5
    assert "conditional_accuracy" not in rows["held_out"]
