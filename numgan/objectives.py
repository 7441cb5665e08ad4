"""GAN objectives: the discriminator's and the generator's losses, from D's raw scores.

``s = D(x)`` is the discriminator's raw score (a logit for the objectives that
read it as a probability, ``sigmoid(s) = P(x is real)``). Each objective gives::

    value, d_real, d_fake = objective.discriminator(real_scores, fake_scores)
    value, d_fake = objective.generator(fake_scores)

where ``d_real = dL/d real_scores`` and ``d_fake = dL/d fake_scores`` have the
shapes of the scores (``(N, 1)``). Both players *minimise* their loss. Means are
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

import numpy as np

from ._checks import as_float_array, check_in_range
from .layers import stable_sigmoid
from .losses import bce_with_logits, mse

OBJECTIVES = ("minimax", "non_saturating", "least_squares", "wasserstein", "wasserstein_gp",
              "hinge", "seed_as_written")

#: objectives whose D loss is a cross-entropy (they accept ``real_target`` < 1)
CROSS_ENTROPY = ("minimax", "non_saturating", "seed_as_written")


def _scores(s, name: str) -> np.ndarray:
    s = as_float_array(s, name)
    if s.ndim != 2 or s.shape[1] != 1:
        raise ValueError(f"{name} must have shape (batch, 1), got {s.shape}")
    return s


def check_objective(name: str) -> str:
    """Return ``name`` if it is a known objective, else raise ``ValueError``."""
    if not isinstance(name, str) or name not in OBJECTIVES:
        raise ValueError(f"objective must be one of {list(OBJECTIVES)}, got {name!r}")
    return name


def discriminator_loss(real_scores: np.ndarray, fake_scores: np.ndarray, objective: str = "non_saturating",
                       real_target: float = 1.0) -> tuple[float, np.ndarray, np.ndarray]:
    """D's loss and its gradients ``(value, dL/d real_scores, dL/d fake_scores)``.

    See the table in the module docstring and ``docs/objectives.md``.
    """
    check_objective(objective)
    s_r, s_f = _scores(real_scores, "real_scores"), _scores(fake_scores, "fake_scores")
    if real_target != 1.0 and objective not in CROSS_ENTROPY:
        raise ValueError(f"real_target (label smoothing) needs a cross-entropy objective {list(CROSS_ENTROPY)}, "
                         f"got objective={objective!r} with real_target={real_target!r}")
    check_in_range(real_target, "real_target", 0.0, 1.0, low_open=True)
    if objective in CROSS_ENTROPY:
        ### BEGIN SOLUTION
        # -E[log sigmoid(s_r)] - E[log(1 - sigmoid(s_f))], as cross-entropies against 1 and 0
        loss_r, d_r = bce_with_logits(s_r, real_target)
        loss_f, d_f = bce_with_logits(s_f, 0.0)
        return loss_r + loss_f, d_r, d_f
        ### END SOLUTION
    if objective == "least_squares":
        loss_r, d_r = mse(s_r, 1.0)
        loss_f, d_f = mse(s_f, 0.0)
        return 0.5 * (loss_r + loss_f), 0.5 * d_r, 0.5 * d_f
    if objective in ("wasserstein", "wasserstein_gp"):
        n_r, n_f = s_r.shape[0], s_f.shape[0]
        value = float(s_f.mean() - s_r.mean())
        return value, np.full_like(s_r, -1 / n_r), np.full_like(s_f, 1 / n_f)
    # hinge
    n_r, n_f = s_r.shape[0], s_f.shape[0]
    margin_r, margin_f = 1 - s_r, 1 + s_f
    value = float(np.maximum(margin_r, 0).mean() + np.maximum(margin_f, 0).mean())
    d_r = np.where(margin_r > 0, s_r.dtype.type(-1 / n_r), s_r.dtype.type(0))
    d_f = np.where(margin_f > 0, s_f.dtype.type(1 / n_f), s_f.dtype.type(0))
    return value, d_r, d_f


def generator_loss(fake_scores: np.ndarray, objective: str = "non_saturating") -> tuple[float, np.ndarray]:
    """G's loss and its gradient ``(value, dL/d fake_scores)``.

    See the table in the module docstring and ``docs/objectives.md``.
    """
    check_objective(objective)
    s_f = _scores(fake_scores, "fake_scores")
    n = s_f.shape[0]
    if objective == "non_saturating":
        ### BEGIN SOLUTION
        return bce_with_logits(s_f, 1.0)  # -E[log sigmoid(s_f)]
        ### END SOLUTION
    if objective == "minimax":
        value, d = bce_with_logits(s_f, 0.0)  # E[softplus(s_f)] = -E[log(1 - sigmoid(s_f))]
        return -value, -d
    if objective == "least_squares":
        value, d = mse(s_f, 1.0)
        return 0.5 * value, 0.5 * d
    if objective in ("wasserstein", "wasserstein_gp", "hinge"):
        return float(-s_f.mean()), np.full_like(s_f, -1 / n)
    # seed_as_written: L_G = E[D(G(z))] = E[sigmoid(s_f)]
    p = stable_sigmoid(s_f)
    return float(p.mean()), p * (1 - p) / n
