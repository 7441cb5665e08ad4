"""GAN objectives: the discriminator's and the generator's losses, from D's raw scores.

``s = D(x)`` is the discriminator's raw score (a logit for the objectives that
read it as a probability, ``sigmoid(s) = P(x is real)``). Each row of the table
below is a pair of small functions in :data:`OBJECTIVES`, called through::

    value, ds_real, ds_fake = discriminator_loss(s_real, s_fake, objective)
    value, ds_fake = generator_loss(s_fake, objective)

where ``ds_real = dL/ds_real`` and ``ds_fake = dL/ds_fake`` have the shapes of
the scores (``(N, 1)``). Both players *minimise* their loss. Means are
over the batch, so each gradient carries a ``1/N``. With ``softplus(t) =
log(1 + exp(t))`` (so ``-log sigmoid(s) = softplus(-s)`` and
``-log(1 - sigmoid(s)) = softplus(s)``):

=================  ===============================================  ===============================
name               discriminator loss                               generator loss
=================  ===============================================  ===============================
minimax            E[softplus(-s_r)] + E[softplus(s_f)]             E[log(1 - sigmoid(s_f))] = -E[softplus(s_f)]
non_saturating     same as minimax                                  E[softplus(-s_f)] = -E[log sigmoid(s_f)]
least_squares      E[(s_r - 1)^2] / 2 + E[s_f^2] / 2                E[(s_f - 1)^2] / 2
wasserstein        E[s_f] - E[s_r]   (+ weight clipping)            -E[s_f]
wasserstein_gp     E[s_f] - E[s_r]   (+ gradient penalty)           -E[s_f]
hinge              E[relu(1 - s_r)] + E[relu(1 + s_f)]              -E[s_f]
seed_as_written    same as minimax (D maximises V, see below)       E[sigmoid(s_f)]   (WRONG)
=================  ===============================================  ===============================

``seed_as_written`` keeps the seed article's generator loss ``L_G = E[D(G(z))]``
exactly as printed: minimising it drives ``D(G(z))`` to 0, the opposite of
fooling D. It is here so that a notebook can show what it does; never train
with it. ``real_target`` (default 1) is the target of real samples in the
cross-entropy objectives: 0.9 gives one-sided label smoothing (Salimans et al.,
2016). Derivations: ``docs/objectives.md``.

References: Goodfellow et al., 2014 (minimax, non-saturating); Mao et al.,
2017 (least squares); Arjovsky et al., 2017 (Wasserstein); Gulrajani et al.,
2017 (gradient penalty); Lim and Ye, 2017 / Miyato et al., 2018 (hinge).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._checks import as_float_array, check_in_range
from .layers import stable_sigmoid
from .losses import bce_with_logits, mse

Scores = np.ndarray
DiscriminatorLoss = Callable[..., "tuple[float, Scores, Scores]"]
GeneratorLoss = Callable[[Scores], "tuple[float, Scores]"]


# -- the discriminator's losses ------------------------------------------------------------------

def cross_entropy_discriminator(s_r: Scores, s_f: Scores, real_target: float = 1.0
                                ) -> tuple[float, Scores, Scores]:
    """``-E[log sigmoid(s_r)] - E[log(1 - sigmoid(s_f))]``: cross-entropies against ``real_target`` and 0.

    ``real_target < 1`` is one-sided label smoothing (``docs/objectives.md#non-saturating``).
    """
    ### BEGIN SOLUTION
    loss_r, ds_r = bce_with_logits(s_r, real_target)
    loss_f, ds_f = bce_with_logits(s_f, 0.0)
    return loss_r + loss_f, ds_r, ds_f
    ### END SOLUTION


def least_squares_discriminator(s_r: Scores, s_f: Scores) -> tuple[float, Scores, Scores]:
    """``E[(s_r - 1)^2] / 2 + E[s_f^2] / 2`` (Mao et al., 2017)."""
    loss_r, ds_r = mse(s_r, 1.0)
    loss_f, ds_f = mse(s_f, 0.0)
    return 0.5 * (loss_r + loss_f), 0.5 * ds_r, 0.5 * ds_f


def wasserstein_discriminator(s_r: Scores, s_f: Scores) -> tuple[float, Scores, Scores]:
    """``E[s_f] - E[s_r]``: the critic's loss (Arjovsky et al., 2017)."""
    n_r, n_f = s_r.shape[0], s_f.shape[0]
    value = float(s_f.mean() - s_r.mean())
    return value, np.full_like(s_r, -1 / n_r), np.full_like(s_f, 1 / n_f)


def hinge_discriminator(s_r: Scores, s_f: Scores) -> tuple[float, Scores, Scores]:
    """``E[relu(1 - s_r)] + E[relu(1 + s_f)]`` (Lim and Ye, 2017)."""
    n_r, n_f = s_r.shape[0], s_f.shape[0]
    margin_r, margin_f = 1 - s_r, 1 + s_f
    value = float(np.maximum(margin_r, 0).mean() + np.maximum(margin_f, 0).mean())
    ds_r = np.where(margin_r > 0, s_r.dtype.type(-1 / n_r), s_r.dtype.type(0))
    ds_f = np.where(margin_f > 0, s_f.dtype.type(1 / n_f), s_f.dtype.type(0))
    return value, ds_r, ds_f


# -- the generator's losses ----------------------------------------------------------------------

def minimax_generator(s_f: Scores) -> tuple[float, Scores]:
    """``E[log(1 - sigmoid(s_f))] = -E[softplus(s_f)]``: it saturates when D rejects the fakes."""
    value, ds_f = bce_with_logits(s_f, 0.0)
    return -value, -ds_f


def non_saturating_generator(s_f: Scores) -> tuple[float, Scores]:
    """``-E[log sigmoid(s_f)] = E[softplus(-s_f)]`` (Goodfellow et al., 2014)."""
    ### BEGIN SOLUTION
    return bce_with_logits(s_f, 1.0)
    ### END SOLUTION


def least_squares_generator(s_f: Scores) -> tuple[float, Scores]:
    """``E[(s_f - 1)^2] / 2``."""
    value, ds_f = mse(s_f, 1.0)
    return 0.5 * value, 0.5 * ds_f


def critic_generator(s_f: Scores) -> tuple[float, Scores]:
    """``-E[s_f]``: the generator of the Wasserstein and hinge objectives."""
    return float(-s_f.mean()), np.full_like(s_f, -1 / s_f.shape[0])


def seed_generator_as_written(s_f: Scores) -> tuple[float, Scores]:
    """``E[sigmoid(s_f)] = E[D(G(z))]``, the seed article's ``L_G`` as printed: WRONG on purpose."""
    p = stable_sigmoid(s_f)
    return float(p.mean()), p * (1 - p) / s_f.shape[0]


# -- the table -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Objective:
    """One row of the table: D's loss, G's loss, and whether D's loss is a cross-entropy.

    Only cross-entropy objectives take ``real_target`` (label smoothing).
    """

    discriminator: DiscriminatorLoss
    generator: GeneratorLoss
    cross_entropy: bool = False


#: every objective by name, one row of the module docstring's table each
OBJECTIVES: dict[str, Objective] = {
    "minimax": Objective(cross_entropy_discriminator, minimax_generator, cross_entropy=True),
    "non_saturating": Objective(cross_entropy_discriminator, non_saturating_generator, cross_entropy=True),
    "least_squares": Objective(least_squares_discriminator, least_squares_generator),
    "wasserstein": Objective(wasserstein_discriminator, critic_generator),
    "wasserstein_gp": Objective(wasserstein_discriminator, critic_generator),
    "hinge": Objective(hinge_discriminator, critic_generator),
    "seed_as_written": Objective(cross_entropy_discriminator, seed_generator_as_written, cross_entropy=True),
}

#: objectives whose D loss is a cross-entropy (they accept ``real_target`` < 1)
CROSS_ENTROPY = tuple(name for name, row in OBJECTIVES.items() if row.cross_entropy)


def _scores(s: object, name: str) -> np.ndarray:
    s = as_float_array(s, name)
    if s.ndim != 2 or s.shape[1] != 1:
        raise ValueError(f"{name} must have shape (batch, 1), got {s.shape}")
    if s.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one score, got shape {s.shape}")
    return s


def check_objective(name: str) -> str:
    """Return ``name`` if it is a known objective, else raise ``ValueError``."""
    if not isinstance(name, str) or name not in OBJECTIVES:
        raise ValueError(f"objective must be one of {list(OBJECTIVES)}, got {name!r}")
    return name


def discriminator_loss(real_scores: np.ndarray, fake_scores: np.ndarray, objective: str = "non_saturating",
                       real_target: float = 1.0) -> tuple[float, np.ndarray, np.ndarray]:
    """D's loss and its gradients ``(value, dL/d real_scores, dL/d fake_scores)``.

    Looks ``objective`` up in :data:`OBJECTIVES`; see the table in the module
    docstring and ``docs/objectives.md``.
    """
    row = OBJECTIVES[check_objective(objective)]
    s_r, s_f = _scores(real_scores, "real_scores"), _scores(fake_scores, "fake_scores")
    check_in_range(real_target, "real_target", 0.0, 1.0, low_open=True)
    if row.cross_entropy:
        return row.discriminator(s_r, s_f, real_target)
    if real_target != 1.0:
        raise ValueError(f"real_target (label smoothing) needs a cross-entropy objective {list(CROSS_ENTROPY)}, "
                         f"got objective={objective!r} with real_target={real_target!r}")
    return row.discriminator(s_r, s_f)


def generator_loss(fake_scores: np.ndarray, objective: str = "non_saturating") -> tuple[float, np.ndarray]:
    """G's loss and its gradient ``(value, dL/d fake_scores)``.

    Looks ``objective`` up in :data:`OBJECTIVES`; see the table in the module
    docstring and ``docs/objectives.md``.
    """
    row = OBJECTIVES[check_objective(objective)]
    return row.generator(_scores(fake_scores, "fake_scores"))
