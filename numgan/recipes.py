"""Recommended recipes: the networks, GAN options and loop settings that ``numgan train`` uses by default.

Every data set, 2-D mixture or image set, has one recipe of one shape::

    RECIPES["ring"] = {"networks": {...z_dim, g_hidden, d_hidden, activation, out_activation, data_dim},
                       "gan":      {...options of GANConfig},
                       "loop":     {...steps, batch_size, decay_from}}

Each recipe was chosen by measurement (``benchmarks/mode_coverage.py``,
``benchmarks/image_quality.py``, ``docs/results.md``), not by folklore. The
command line, the benchmarks and the notebooks all go through the same two
functions::

    recipe = resolve_recipe("ring", objective="hinge", steps=2000)   # overrides, resolved by one policy
    gan = recipe.build_gan(seed=0)                                     # the MLPs and the GAN
    fit(gan, data, recipe.loop["steps"], recipe.loop["batch_size"], rng=0,
        callbacks=decay_callbacks(recipe.loop["steps"], recipe.loop["decay_from"]))

The policy of :func:`resolve_recipe` (what a changed option does to the others):

* another ``objective`` drops the recipe's penalty unless ``penalty`` is given
  too (the recipe's penalty was tuned for its objective); ``wasserstein``
  without ``clip`` clips at 0.01; ``wasserstein_gp`` takes the WGAN-GP penalty;
* a ``penalty`` other than the recipe's starts at weight 10 and every step;
* ``ema=0`` turns the moving average off;
* ``hidden`` sets G's widths, and D's are the same widths reversed (D mirrors G);
* ``conditional=True`` gives a class-conditional GAN (image data only);
* ``arch="dcgan"`` takes the convolutional networks of :mod:`numgan.dcgan`
  and the data set's recipe of :data:`DCGAN_RECIPES` (image data only, not
  conditional, no packing; those recipes stay below the MLP recipes' quality, measured
  in docs/results.md); ``width`` then sets their channels, and the MLP
  settings ``hidden``, ``g_hidden``, ``d_hidden`` and ``activation`` are refused.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import check_in_range, check_int, check_rng
from .data.image_sets import IMAGE_SHAPES
from .dcgan import dcgan_discriminator, dcgan_generator
from .gan import GAN, GANConfig
from .network import mlp

#: the classes of every image data set (a conditional GAN has one label per class)
IMAGE_CLASSES = 10

#: networks, options of :class:`numgan.gan.GANConfig` and loop settings, per data set. The ring's
#: networks use plain ReLU, which measured 96.8 % high quality against leaky ReLU's 87.3 % over
#: 5 seeds (docs/results.md); why it puts less mass between the modes was not measured.
RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "ring": dict(
        networks=dict(z_dim=2, g_hidden=[64, 64, 64, 64], d_hidden=[64, 64, 64, 64], activation="relu"),
        gan=dict(objective="non_saturating", penalty="r1", penalty_weight=0.1, g_lr=3e-3, d_lr=3e-3, ema=0.99),
        loop=dict(steps=16000, batch_size=256, decay_from=0.5)),
    "grid": dict(
        networks=dict(z_dim=2, g_hidden=[128, 128, 128, 128], d_hidden=[128, 128, 128, 128],
                      activation="leaky_relu"),
        gan=dict(objective="non_saturating", penalty="r1", penalty_weight=0.1, g_lr=3e-3, d_lr=3e-3, ema=0.99),
        loop=dict(steps=20000, batch_size=256, decay_from=0.5)),
    "digits": dict(
        networks=dict(z_dim=32, g_hidden=[128, 256], d_hidden=[256, 128], activation="leaky_relu"),
        gan=dict(objective="non_saturating", penalty="r1", penalty_weight=1.0, g_lr=3e-3, d_lr=3e-3, ema=0.999),
        loop=dict(steps=40000, batch_size=64, decay_from=0.5)),
    "mnist": dict(
        networks=dict(z_dim=64, g_hidden=[256, 512, 1024], d_hidden=[512, 256], activation="relu"),
        gan=dict(objective="non_saturating", penalty="r1", penalty_weight=1.0, penalty_every=16, g_lr=1e-3,
                 d_lr=1e-3, ema=0.999),
        loop=dict(steps=24000, batch_size=64, decay_from=0.5)),
}
RECIPES["spiral"] = copy.deepcopy(RECIPES["grid"])
RECIPES["moons"] = copy.deepcopy(RECIPES["grid"])
RECIPES["fashion"] = copy.deepcopy(RECIPES["mnist"])       # not tuned: no Fashion-MNIST files were at hand

#: the DCGAN recipes (``arch="dcgan"``: :func:`numgan.dcgan.dcgan_generator` and
#: :func:`numgan.dcgan.dcgan_discriminator` of ``width`` channels), per image data set. Both stay below the
#: MLP recipes (docs/results.md, "The DCGAN recipes: tuning runs"). Digits: width 32, R1 1, learning rates
#: 1e-3, EMA 0.99, 8000 steps of batch 64: classifier score 8.24 over seeds 0-2 (the MLP recipe: 9.01),
#: about 5 minutes a run; the first setting (EMA 0.999, 3000 steps) gave 7.53, and of five changes tried at
#: 2500 steps none did better. MNIST: the DCGAN paper's Adam betas (0.5, 0.999) and batch 64, the MNIST MLP
#: recipe's lazy R1 (every 16 steps), width 32 and 4000 steps to stay within 10 minutes: score 6.47 and
#: Frechet distance 13.72 on seed 0 (the MLP recipe: 8.52 and 4.25); none of five changes did much
#: better in that time, and 12000 steps with EMA 0.99 reached 7.30 and 5.85 in over half an hour.
#: Radford et al., 2016, "Unsupervised representation learning with deep convolutional generative
#: adversarial networks".
DCGAN_RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "digits": dict(
        networks=dict(z_dim=32, width=32),
        gan=dict(objective="non_saturating", penalty="r1", penalty_weight=1.0, g_lr=1e-3, d_lr=1e-3,
                 betas=(0.5, 0.999), ema=0.99),
        loop=dict(steps=8000, batch_size=64, decay_from=0.5)),
    "mnist": dict(
        networks=dict(z_dim=64, width=32),
        gan=dict(objective="non_saturating", penalty="r1", penalty_weight=1.0, penalty_every=16, g_lr=1e-3,
                 d_lr=1e-3, betas=(0.5, 0.999), ema=0.999),
        loop=dict(steps=4000, batch_size=64, decay_from=0.5)),
}
DCGAN_RECIPES["fashion"] = copy.deepcopy(DCGAN_RECIPES["mnist"])   # not tuned: no Fashion-MNIST files at hand

#: the most channels ``width`` may give a DCGAN (G's last hidden layer and D's first; the others have twice as many)
MAX_WIDTH = 4096
#: the architectures of a recipe: the MLPs of :func:`build_gan` or the DCGAN presets
ARCHS = ("mlp", "dcgan")
NETWORK_KEYS = ("z_dim", "g_hidden", "d_hidden", "activation")
#: the network settings of a DCGAN recipe
DCGAN_NETWORK_KEYS = ("z_dim", "width")
#: MLP settings that a DCGAN recipe refuses
MLP_ONLY_KEYS = ("hidden", "g_hidden", "d_hidden", "activation")
LOOP_KEYS = ("steps", "batch_size", "decay_from")
GAN_KEYS = tuple(f.name for f in dataclasses.fields(GANConfig))


def data_shape(data: str) -> tuple[int, int] | None:
    """The image shape ``(H, W)`` of an image data set, ``None`` for a 2-D mixture."""
    return IMAGE_SHAPES.get(data)


@dataclass(frozen=True)
class Recipe:
    """A resolved recipe: the data set's name, its networks, the GAN's options and the loop settings.

    ``networks`` holds ``z_dim``, ``g_hidden``, ``d_hidden``, ``activation``,
    ``out_activation`` (``"tanh"`` for images, ``None`` for 2-D points) and
    ``data_dim``; ``loop`` holds ``steps``, ``batch_size`` and ``decay_from``.
    A DCGAN recipe's ``networks`` holds ``arch`` (``"dcgan"``), ``z_dim``,
    ``width``, ``image_shape`` (``[H, W]``), ``out_activation`` and ``data_dim``
    instead; an MLP recipe has no ``arch`` key (so that the recipes stored in
    older checkpoints read the same): :attr:`arch` says which.
    """

    data: str
    networks: dict[str, Any]
    gan: GANConfig
    loop: dict[str, Any]

    @property
    def arch(self) -> str:
        """``"mlp"`` or ``"dcgan"``: the architecture of the networks."""
        return str(self.networks.get("arch", "mlp"))

    def build_gan(self, seed: int | np.random.Generator | None = 0, dtype: Any = np.float32) -> GAN:
        """The generator and discriminator of the recipe, drawn from ``seed`` (G first), in a :class:`GAN`::

            G: z_dim (+ n_classes) -> g_hidden -> data_dim,           out_activation
            D: pack * (data_dim (+ n_classes)) -> d_hidden -> 1,      raw score

        or, for ``arch == "dcgan"``, ``dcgan_generator(z_dim, image_shape, width)``
        and ``dcgan_discriminator(image_shape, width)`` (:mod:`numgan.dcgan`).
        """
        net = self.networks
        if self.arch == "dcgan":
            rng = check_rng(seed, "seed")
            shape = tuple(net["image_shape"])
            G = dcgan_generator(net["z_dim"], shape, net["width"], dtype=dtype, seed=rng)
            D = dcgan_discriminator(shape, net["width"], dtype=dtype, seed=rng)
            return GAN(G, D, self.gan)
        return build_gan(net["data_dim"], net["g_hidden"], net["z_dim"], seed, activation=net["activation"],
                         dtype=dtype, d_hidden=net["d_hidden"], out_activation=net["out_activation"],
                         config=self.gan)

    def flat(self) -> dict[str, Any]:
        """Every setting in one flat dict (for ``metrics.json`` and checkpoints' ``extra``)."""
        return {"data": self.data, **self.networks, **self.gan.to_dict(), **self.loop}


def resolve_recipe(data: str, conditional: bool = False, arch: str = "mlp", **overrides: Any) -> Recipe:
    """The recipe of ``data`` with ``overrides`` applied by the policy of the module docstring.

    ``overrides`` are flat keys: network settings (``z_dim``, ``g_hidden``,
    ``d_hidden``, ``hidden``, ``activation``; ``z_dim`` and ``width`` with
    ``arch="dcgan"``), :class:`GANConfig` options and loop settings (``steps``,
    ``batch_size``, ``decay_from``). An unknown key, a setting out of range or a
    contradiction is a ``ValueError`` naming it.
    """
    if data not in RECIPES:
        raise ValueError(f"data must be one of {sorted(RECIPES)}, got {data!r}")
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {list(ARCHS)}, got {arch!r}")
    dcgan = arch == "dcgan"
    known = set(NETWORK_KEYS) | set(GAN_KEYS) | set(LOOP_KEYS) | {"hidden", "width"}
    unknown = sorted(set(overrides) - known - {"n_classes"})
    if unknown:
        raise ValueError(f"unknown recipe settings {unknown}; known: {sorted(known)}")
    if "n_classes" in overrides:
        raise ValueError("n_classes is set by conditional=True (the data set's classes), not directly")
    shape = data_shape(data)
    if dcgan:
        _check_dcgan(data, shape, conditional, overrides)
    elif "width" in overrides:
        raise ValueError(f"width sets the channels of arch='dcgan'; the MLP takes hidden (got width="
                         f"{overrides['width']!r} with arch='mlp')")
    base = DCGAN_RECIPES[data] if dcgan else RECIPES[data]

    networks = {**base["networks"], "out_activation": "tanh" if shape else None,
                "data_dim": shape[0] * shape[1] if shape else 2}
    if dcgan:
        assert shape is not None
        networks = {"arch": "dcgan", **networks, "image_shape": list(shape)}
        networks.update({k: overrides[k] for k in DCGAN_NETWORK_KEYS if k in overrides})
    elif "hidden" in overrides:
        if "g_hidden" in overrides or "d_hidden" in overrides:
            raise ValueError("give hidden (G's widths, D mirrors them) or g_hidden/d_hidden, not both")
        hidden = list(overrides["hidden"])
        networks.update(g_hidden=hidden, d_hidden=hidden[::-1])
    networks.update({k: overrides[k] for k in NETWORK_KEYS if k in overrides})

    recipe_gan = base["gan"]
    gan = {**recipe_gan, **{k: overrides[k] for k in GAN_KEYS if k in overrides}}
    same_objective = gan["objective"] == recipe_gan["objective"]
    if "penalty" not in overrides and not same_objective:
        gan["penalty"] = None
    if gan["objective"] == "wasserstein_gp" and gan.get("penalty") == "r1":
        raise ValueError("objective wasserstein_gp uses the WGAN-GP penalty; drop penalty='r1'")
    same_penalty = gan.get("penalty") == recipe_gan.get("penalty")
    if not same_penalty:             # another penalty starts from the defaults, not from the recipe's tuning
        if "penalty_weight" not in overrides:
            gan["penalty_weight"] = 10.0
        if "penalty_every" not in overrides:
            gan["penalty_every"] = 1
    if gan["objective"] == "wasserstein" and "clip" not in overrides:
        gan["clip"] = 0.01
    if gan.get("ema") == 0:
        gan["ema"] = None
    if conditional:
        if shape is None:
            raise ValueError(f"conditional is for image data {sorted(IMAGE_SHAPES)}, got data={data!r}")
        gan["n_classes"] = IMAGE_CLASSES
    config = GANConfig(**gan)

    loop = {**base["loop"], **{k: overrides[k] for k in LOOP_KEYS if k in overrides}}
    loop["steps"], loop["batch_size"] = check_int(loop["steps"], "steps"), check_int(loop["batch_size"], "batch_size")
    loop["decay_from"] = check_in_range(loop["decay_from"], "decay_from", 0.0, float("inf"))
    if loop["batch_size"] % config.pack:
        raise ValueError(f"batch_size must be a multiple of pack {config.pack}, got {loop['batch_size']}")
    return Recipe(data, networks, config, loop)


def _check_dcgan(data: str, shape: tuple[int, int] | None, conditional: bool, overrides: dict[str, Any]) -> None:
    """``ValueError`` for what ``arch="dcgan"`` does not do: 2-D points, labels, packing, MLP settings."""
    if shape is None:
        raise ValueError(f"arch='dcgan' is for image data {sorted(DCGAN_RECIPES)}, got data={data!r}")
    if conditional:
        raise ValueError("arch='dcgan' is not conditional yet (its discriminator takes no labels): "
                         "leave out conditional=True, or use arch='mlp'")
    if overrides.get("pack", 1) != 1:
        raise ValueError(f"arch='dcgan' does not pack samples (its discriminator sees one image at a time): "
                         f"leave out pack, got pack={overrides['pack']!r}")
    mlp_only = sorted(set(MLP_ONLY_KEYS) & set(overrides))
    if mlp_only:
        raise ValueError(f"{', '.join(mlp_only)} set the MLP's layers; arch='dcgan' takes width (its channels) "
                         f"and z_dim")
    if "width" in overrides and (isinstance(overrides["width"], bool) or not isinstance(overrides["width"], int)
                                 or not 1 <= overrides["width"] <= MAX_WIDTH):
        raise ValueError(f"width must be a positive integer up to {MAX_WIDTH} (the channels of the DCGAN), got "
                         f"{overrides['width']!r}")


def recipe_gan(data: str, seed: int | np.random.Generator | None = 0, conditional: bool = False,
               dtype: Any = np.float32, arch: str = "mlp", **overrides: Any) -> GAN:
    """The recommended GAN for ``data``, drawn from ``seed``: ``resolve_recipe(...).build_gan(seed)``."""
    return resolve_recipe(data, conditional=conditional, arch=arch, **overrides).build_gan(seed, dtype)


def build_gan(data_dim: int, hidden: list[int], z_dim: int, seed: int | np.random.Generator | None,
              pack: int = 1, activation: str = "leaky_relu", dtype: Any = np.float32, *,
              d_hidden: list[int] | None = None, out_activation: str | None = None,
              config: GANConfig | None = None, **options: Any) -> GAN:
    """The MLP generator and discriminator of every numgan GAN, drawn from ``seed`` (G first), in a :class:`GAN`::

        G: z_dim (+ n_classes) -> hidden -> data_dim,                 then out_activation (None: raw)
        D: pack * (data_dim (+ n_classes)) -> d_hidden -> 1,          raw score (d_hidden: hidden by default)

    ``activation`` between the layers ("leaky_relu" of slope 0.2 or "relu", as
    :func:`numgan.network.mlp`; He init). The GAN's options are ``config`` or
    the :class:`GANConfig` keywords ``options`` (with ``pack``). The quick way
    to a GAN of your own; :func:`resolve_recipe` gives the recommended ones,
    and :meth:`Recipe.build_gan` calls this function.
    """
    if config is None:
        config = GANConfig(pack=pack, **options)
    elif options or pack not in (1, config.pack):
        raise TypeError(f"give the GAN's options either as config or as keywords, got both ({sorted(options)})")
    c = config.n_classes or 0
    rng = check_rng(seed, "seed")
    G = mlp([z_dim + c, *hidden, data_dim], activation, out_activation, dtype=dtype, seed=rng)
    D = mlp([config.pack * (data_dim + c), *(hidden if d_hidden is None else d_hidden), 1], activation, None,
            dtype=dtype, seed=rng)
    return GAN(G, D, config)
