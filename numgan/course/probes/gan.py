"""Probes of the gan exercises: the non-saturating losses (``numgan.objectives``) and the GAN step (``numgan.gan``).

The GAN step is run on a tiny float64 GAN built here from the inputs (the
sizes and the flat parameter vectors of G and D), on fixed inputs: for D the
rows ``x`` (real then fake) and the labels, for G the noise ``z`` (with the
one-hot labels joined, as ``GAN`` expects) and an ``rng`` made from a seed
given in the inputs, so that the instance noise is the draw the grader's
reference makes too.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._calls import as_array, as_number, pair
from ._parts import run_parts

#: the objectives a GAN case may use, by the index that the inputs give
OBJECTIVES = ("non_saturating", "least_squares")


def _tuple(result: Any, n: int, what: str) -> tuple[Any, ...]:
    """``result`` as an ``n``-tuple, or ``TypeError`` naming what was expected."""
    if not isinstance(result, tuple) or len(result) != n:
        kind = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise TypeError(f"{what} must return a tuple of {n}, got {kind}")
    return result


def _flat(grads: Any, size: int, what: str) -> np.ndarray:
    """The flat gradient vector of ``grads`` (a ``FlatParams``, as ``Sequential.backward`` returns), copied."""
    flat = getattr(grads, "flat", None)
    if not isinstance(flat, np.ndarray) or flat.ndim != 1:
        raise TypeError(f"{what} must be a FlatParams laid out like the network's params (as "
                        f"Sequential.backward returns), got {type(grads).__name__}")
    if flat.size != size:
        raise TypeError(f"{what} must hold {size} numbers (the network's params), got {flat.size}")
    return flat.copy()


# -- non_saturating ------------------------------------------------------------------------------

def _d_losses(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    from numgan.objectives import discriminator_loss

    s_r, s_f = inputs["s_real"], inputs["s_fake"]
    out: dict[str, Any] = {}
    for tag, target in (("1", 1.0), ("t", float(inputs["target"]))):
        value, ds_r, ds_f = _tuple(discriminator_loss(s_r.copy(), s_f.copy(), "non_saturating", target),
                                   3, "discriminator_loss")
        out[f"d_loss_{tag}"] = as_number(value, "D's loss")
        out[f"d_ds_real_{tag}"] = as_array(ds_r, "D's dL/ds_real")
        out[f"d_ds_fake_{tag}"] = as_array(ds_f, "D's dL/ds_fake")
    return out


def _g_losses(inputs: dict[str, np.ndarray]) -> dict[str, Any]:
    from numgan.objectives import generator_loss

    out: dict[str, Any] = {}
    value, ds_f = pair(generator_loss(inputs["s_fake"].copy(), "non_saturating"), "generator_loss")
    out["g_loss"], out["g_ds_fake"] = as_number(value, "G's loss"), as_array(ds_f, "G's dL/ds_fake")
    with np.errstate(all="ignore"):                  # a naive log(sigmoid) would warn here: its result is judged
        value, ds_f = pair(generator_loss(inputs["s_far"].copy(), "non_saturating"), "generator_loss")
    out["g_far_loss"], out["g_far_ds"] = as_number(value, "G's loss"), as_array(ds_f, "G's dL/ds_fake")
    return out


def non_saturating(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, Any]:
    """D's loss at the real target 1 and at a smoothed one; G's loss, also far in D's reject region."""
    return run_parts([("d_", lambda: _d_losses(inputs)), ("g_", lambda: _g_losses(inputs))])


# -- gan_step -------------------------------------------------------------------------------------

def _gan(inputs: dict[str, np.ndarray], case: str) -> Any:
    """The tiny float64 GAN of ``case``: tanh MLPs with the flat parameters and the options of the inputs."""
    from numgan.gan import GAN
    from numgan.network import mlp

    z_dim, data_dim, n_classes, pack, objective = (int(v) for v in inputs[f"{case}_config"])
    nets = []
    for who in ("g", "d"):
        net = mlp([int(s) for s in inputs[f"{case}_{who}_sizes"]], activation="tanh", dtype=np.float64, seed=0)
        net.flat_params[...] = inputs[f"{case}_{who}_params"]
        nets.append(net)
    return GAN(nets[0], nets[1], objective=OBJECTIVES[objective], pack=pack, n_classes=n_classes or None,
               label_smoothing=float(inputs[f"{case}_smoothing"]), instance_noise=float(inputs[f"{case}_noise"]))


def _labels(inputs: dict[str, np.ndarray], case: str) -> np.ndarray | None:
    return inputs[f"{case}_labels"].copy() if int(inputs[f"{case}_config"][2]) else None


def _kept(gan: Any, before: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Whether the step left both networks' parameters as they were (a gradient function updates nothing)."""
    return np.array(bool(np.array_equal(gan.G.flat_params, before[0]) and np.array_equal(gan.D.flat_params,
                                                                                         before[1])))


def _discriminator_case(inputs: dict[str, np.ndarray], case: str) -> dict[str, Any]:
    gan = _gan(inputs, case)
    before = (gan.G.flat_params.copy(), gan.D.flat_params.copy())
    out_buffer = gan.D.params.like(np.full(gan.D.n_params, np.nan))      # a reused buffer, as training passes
    loss, grads, s_real, s_fake = _tuple(
        gan.discriminator_loss_gradients(inputs[f"{case}_x"].copy(), _labels(inputs, case), out_buffer),
        4, "GAN.discriminator_loss_gradients")
    return {f"{case}_loss": as_number(loss, "D's loss"),
            f"{case}_grads": _flat(grads, gan.D.n_params, "D's grads"),
            f"{case}_s_real": as_array(s_real, "s_real").copy(), f"{case}_s_fake": as_array(s_fake, "s_fake").copy(),
            f"{case}_kept": _kept(gan, before)}


def _generator_case(inputs: dict[str, np.ndarray], case: str) -> dict[str, Any]:
    gan = _gan(inputs, case)
    labels = _labels(inputs, case)
    z = inputs[f"{case}_z"].copy()
    if labels is not None:
        z = np.concatenate([z, np.eye(int(inputs[f"{case}_config"][2]))[labels]], axis=1)
    before = (gan.G.flat_params.copy(), gan.D.flat_params.copy())
    rng = np.random.default_rng(int(inputs[f"{case}_seed"]))
    out_buffer = gan.G.params.like(np.full(gan.G.n_params, np.nan))
    loss, grads = pair(gan.generator_loss_gradients(z, rng, labels, out_buffer), "GAN.generator_loss_gradients")
    return {f"{case}_loss": as_number(loss, "G's loss"), f"{case}_grads": _flat(grads, gan.G.n_params, "G's grads"),
            f"{case}_kept": _kept(gan, before)}


#: the cases of each step: D's (conditional with pack 2 and label smoothing; plain least squares), G's likewise
D_CASES, G_CASES = ("d1", "d2"), ("g1", "g2")


def gan_step(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, Any]:
    """The D step's and the G step's losses and flat gradients on each case (D's scores too)."""
    def d_step() -> dict[str, Any]:
        return {k: v for case in D_CASES for k, v in _discriminator_case(inputs, case).items()}

    def g_step() -> dict[str, Any]:
        return {k: v for case in G_CASES for k, v in _generator_case(inputs, case).items()}

    return run_parts([("d_", d_step), ("g_", g_step)])


PROBES = {"non_saturating": non_saturating, "gan_step": gan_step}
