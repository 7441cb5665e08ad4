"""Recommended recipes: the networks and options that ``numgan train`` uses by default.

Each recipe was chosen by measurement (``benchmarks/mode_coverage.py``,
``docs/results.md``), not by folklore. A recipe is plain data so that the
command line, the benchmarks and the notebooks share one source.
"""
from __future__ import annotations

import numpy as np

from .gan import GAN
from .network import mlp

#: networks, options of :class:`numgan.gan.GAN` and of the loop, per 2-D mixture. The ring's
#: networks use plain ReLU, which measured 96.8 % high quality against leaky ReLU's 87.3 % over
#: 5 seeds (docs/results.md); why it puts less mass between the modes was not measured.
RECIPES: dict[str, dict] = {
    "ring": dict(hidden=[64, 64, 64, 64], activation="relu", z_dim=2, steps=16000, batch_size=256,
                 objective="non_saturating", penalty="r1", penalty_weight=0.1, g_lr=3e-3, d_lr=3e-3, ema=0.99,
                 decay_from=0.5),
    "grid": dict(hidden=[128, 128, 128, 128], activation="leaky_relu", z_dim=2, steps=20000, batch_size=256,
                 objective="non_saturating", penalty="r1", penalty_weight=0.1, g_lr=3e-3, d_lr=3e-3, ema=0.99,
                 decay_from=0.5),
}
RECIPES["spiral"] = dict(RECIPES["grid"])
RECIPES["moons"] = dict(RECIPES["grid"])

#: keys of a recipe that are not options of GAN
LOOP_KEYS = ("hidden", "activation", "z_dim", "steps", "batch_size", "decay_from")


def build_gan(data_dim: int, hidden, z_dim: int, seed: int, pack: int = 1, activation: str = "leaky_relu",
              dtype=np.float32, **options) -> GAN:
    """An MLP generator ``z_dim -> hidden -> data_dim`` and discriminator
    ``pack * data_dim -> hidden -> 1`` (``activation`` between the layers:
    "leaky_relu" of slope 0.2 or "relu", as :func:`numgan.network.mlp`; He init), drawn from
    ``seed``, joined in a :class:`GAN` with ``options``."""
    rng = np.random.default_rng(seed)
    G = mlp([z_dim, *hidden, data_dim], activation, dtype=dtype, seed=rng)
    D = mlp([pack * data_dim, *hidden, 1], activation, dtype=dtype, seed=rng)
    return GAN(G, D, pack=pack, **options)
