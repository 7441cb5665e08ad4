"""The evaluation protocol of image GANs (numgan.image_evaluation)."""
import numpy as np

from numgan.data import load_images
from numgan.image_evaluation import evaluate_image_gan, gaussian_baseline
from numgan.recipes import recipe_gan


def test_gaussian_baseline_matches_the_moments():
    x, _ = load_images("digits", "train")
    g = gaussian_baseline(x, 50000, rng=0, clip=False)
    assert g.shape == (50000, 64) and g.dtype == np.float32
    assert np.abs(g.mean(axis=0) - x.mean(axis=0)).max() < 0.02
    assert np.abs(np.cov(g, rowvar=False) - np.cov(x, rowvar=False)).max() < 0.03
    clipped = gaussian_baseline(x, 100, rng=0)
    assert np.all((clipped >= -1) & (clipped <= 1))


def test_evaluate_image_gan_rows():
    gan = recipe_gan("digits", seed=0, conditional=True)
    rows = evaluate_image_gan(gan, "digits", seed=0)
    assert set(rows) == {"gan", "held_out", "gaussian"}
    # held-out real digits are what a perfect generator reaches: confidently classified, all classes
    assert rows["held_out"]["classifier_score"] > 8.5
    assert rows["held_out"]["classes_present"] == 10
    # an untrained generator is far worse than real data, and its conditional accuracy near chance
    assert rows["gan"]["classifier_score"] < rows["held_out"]["classifier_score"] - 3
    assert rows["gan"]["conditional_accuracy"] < 0.5
    assert "conditional_accuracy" not in rows["held_out"]
