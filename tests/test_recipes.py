"""Recipes: one shape for every data set, one builder, one policy for overrides."""
import numpy as np
import pytest

from numgan.data import IMAGE_SHAPES, MIXTURES
from numgan.gan import GANConfig
from numgan.recipes import RECIPES, build_gan, recipe_gan, resolve_recipe


def test_every_data_set_has_a_recipe_of_one_shape():
    assert set(RECIPES) == set(MIXTURES) | set(IMAGE_SHAPES)
    for name, recipe in RECIPES.items():
        assert set(recipe) == {"networks", "gan", "loop"}, name
        assert set(recipe["networks"]) == {"z_dim", "g_hidden", "d_hidden", "activation"}, name
        assert set(recipe["loop"]) == {"steps", "batch_size", "decay_from"}, name
        GANConfig(**recipe["gan"])                      # every recipe's options are valid options


@pytest.mark.parametrize("name", ["digits", "mnist"])
def test_image_recipe_gan_shapes(name):
    gan = recipe_gan(name, seed=0)
    h, w = IMAGE_SHAPES[name]
    assert gan.data_dim == h * w and gan.z_dim == RECIPES[name]["networks"]["z_dim"]
    x = gan.sample(5, rng=0)
    assert x.shape == (5, h * w) and x.dtype == np.float32
    assert np.all(np.abs(x) <= 1)                      # tanh output, like the scaled data


def test_mixture_recipe_gan_is_the_mlp_pair_of_build_gan():
    """The 2-D recipe draws the same networks as build_gan with the recipe's settings (G first, then D)."""
    recipe = resolve_recipe("ring")
    a = recipe.build_gan(seed=4)
    net = RECIPES["ring"]["networks"]
    b = build_gan(2, net["g_hidden"], net["z_dim"], 4, activation=net["activation"], **RECIPES["ring"]["gan"])
    np.testing.assert_array_equal(a.G.flat_params, b.G.flat_params)
    np.testing.assert_array_equal(a.D.flat_params, b.D.flat_params)
    assert a.config == b.config and a.data_dim == 2


def test_conditional_image_gan_takes_one_hot_labels():
    gan = recipe_gan("digits", seed=0, conditional=True)
    assert gan.config.n_classes == 10
    assert gan.G.in_features == RECIPES["digits"]["networks"]["z_dim"] + 10
    assert gan.D.in_features == 64 + 10
    rows = gan.sample(20, rng=0, labels=np.repeat(np.arange(10), 2))
    assert rows.shape == (20, 64)
    with pytest.raises(ValueError, match="conditional is for image data"):
        resolve_recipe("ring", conditional=True)


def test_recipe_gan_is_reproducible_and_overridable():
    a, b = recipe_gan("digits", seed=3), recipe_gan("digits", seed=3)
    np.testing.assert_array_equal(a.G.flat_params, b.G.flat_params)
    small = recipe_gan("digits", seed=3, g_hidden=[16], d_hidden=[16], objective="hinge", penalty=None)
    assert small.config.objective == "hinge" and small.G.n_params < a.G.n_params
    with pytest.raises(ValueError, match=r"data must be one of .*got 'cifar'"):
        recipe_gan("cifar")
    with pytest.raises(ValueError, match=r"unknown recipe settings \['hiden'\]"):
        resolve_recipe("ring", hiden=[3])


def test_the_override_policy():
    ring = RECIPES["ring"]["gan"]
    assert resolve_recipe("ring").gan.penalty == "r1"
    # another objective drops the recipe's penalty, unless a penalty is given too
    assert resolve_recipe("ring", objective="hinge").gan.penalty is None
    hinge_r1 = resolve_recipe("ring", objective="hinge", penalty="r1").gan
    assert hinge_r1.penalty == "r1" and hinge_r1.penalty_weight == ring["penalty_weight"]
    # another penalty starts from the defaults; wasserstein clips; wasserstein_gp takes WGAN-GP
    gp = resolve_recipe("ring", penalty="wgan_gp").gan
    assert gp.penalty_weight == 10.0 and gp.penalty_every == 1
    assert resolve_recipe("ring", objective="wasserstein").gan.clip == 0.01
    assert resolve_recipe("ring", objective="wasserstein", clip=0.1).gan.clip == 0.1
    assert resolve_recipe("ring", objective="wasserstein_gp").gan.penalty == "wgan_gp"
    with pytest.raises(ValueError, match="wasserstein_gp uses the WGAN-GP penalty"):
        resolve_recipe("ring", objective="wasserstein_gp", penalty="r1")
    # the lazy penalty of the MNIST recipe stays with its penalty
    assert resolve_recipe("mnist").gan.penalty_every == 16
    assert resolve_recipe("mnist", penalty="wgan_gp").gan.penalty_every == 1
    with pytest.raises(ValueError, match="penalty_every needs a penalty"):
        resolve_recipe("mnist", penalty=None, penalty_every=4)
    # ema=0 is off; hidden is G's widths and D mirrors them
    assert resolve_recipe("ring", ema=0).gan.ema is None
    mirrored = resolve_recipe("digits", hidden=[32, 64]).networks
    assert mirrored["g_hidden"] == [32, 64] and mirrored["d_hidden"] == [64, 32]
    with pytest.raises(ValueError, match="batch_size must be a multiple of pack 3"):
        resolve_recipe("ring", pack=3)
    # resolving never changes the table
    assert RECIPES["ring"]["gan"] == ring and resolve_recipe("ring").gan.penalty == "r1"


@pytest.mark.parametrize("key, value, match", [("steps", -5, "steps"), ("steps", 1.5, "steps"),
                                               ("batch_size", 0, "batch_size"), ("decay_from", -0.5, "decay_from"),
                                               ("decay_from", "half", "decay_from")])
def test_bad_loop_settings_are_named(key, value, match):
    with pytest.raises((ValueError, TypeError), match=match):
        resolve_recipe("digits", **{key: value})
