"""Inputs and judgements of the gan exercises: the non-saturating losses and the GAN step."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compare import PartResult, Wrong, close, gradients, part
from . import Task
from ._parts import flat_gradients, raised

#: as in the probe: the objective of a GAN case by index, and the cases of each step
OBJECTIVES = ("non_saturating", "least_squares")
D_CASES, G_CASES = ("d1", "d2"), ("g1", "g2")


# -- non_saturating ------------------------------------------------------------------------------

def _non_saturating_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n_r, n_f, m = (int(v) for v in rng.integers(3, 8, size=3))
    far = np.concatenate([[-1000.0], -(25 + 30 * rng.uniform(size=m - 1))]).reshape(m, 1)
    return {"s_real": 2 * rng.standard_normal((n_r, 1)), "s_fake": 2 * rng.standard_normal((n_f, 1)),
            "target": np.asarray(round(float(rng.uniform(0.75, 0.95)), 3)), "s_far": far}


def _judge_non_saturating(inputs: dict[str, np.ndarray], got: dict[str, Any],
                          expected: dict[str, np.ndarray]) -> list[PartResult]:
    target = float(inputs["target"])

    def d_loss() -> None:
        raised(got, "d_", "discriminator_loss(s_real, s_fake, 'non_saturating', real_target)")
        for tag, label in (("1", "real target 1"), ("t", f"real target {target:g} (label smoothing)")):
            what = f"discriminator_loss(s_real, s_fake, 'non_saturating', {label})"
            close(got, f"d_loss_{tag}", expected[f"d_loss_{tag}"], f"{what}: the loss")
            gradients(got, {f"d_ds_real_{tag}": expected[f"d_ds_real_{tag}"],
                            f"d_ds_fake_{tag}": expected[f"d_ds_fake_{tag}"]}, what,
                      names={f"d_ds_real_{tag}": "dL/ds_real", f"d_ds_fake_{tag}": "dL/ds_fake"})

    def g_loss() -> None:
        what = "generator_loss(s_fake, 'non_saturating')"
        raised(got, "g_", what)
        close(got, "g_loss", expected["g_loss"], f"{what}: the loss")
        gradients(got, {"g_ds_fake": expected["g_ds_fake"]}, what, names={"g_ds_fake": "dL/ds_fake"})
        far = ", ".join(f"{v:g}" for v in inputs["s_far"].ravel())
        close(got, "g_far_loss", expected["g_far_loss"], f"{what} at s_fake = ({far}), where D rejects the fakes: "
              f"the loss (it must stay finite)")
        try:
            close(got, "g_far_ds", expected["g_far_ds"], f"{what} at s_fake = ({far}): dL/ds_fake")
        except Wrong as err:
            raise Wrong(f"{err} (G's gradient must not saturate: it is -(1 - sigmoid(s)) / N, -1/N at s = -1000)") \
                from None

    return [part("D loss", d_loss), part("G loss", g_loss)]


# -- gan_step -------------------------------------------------------------------------------------

def _mlp_params(rng: np.random.Generator, sizes: list[int]) -> np.ndarray:
    """Flat parameters laid out as ``Sequential.params`` (``W`` then ``b`` per Dense layer), of moderate size."""
    chunks = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        chunks += [rng.standard_normal(a * b) / np.sqrt(a), 0.3 * rng.standard_normal(b)]
    return np.concatenate(chunks)


def _gan_case(rng: np.random.Generator, case: str, *, n_classes: int, pack: int, objective: str, smoothing: float,
              noise: float) -> dict[str, np.ndarray]:
    z_dim, data_dim = (int(v) for v in rng.integers(2, 4, size=2))
    h = [int(v) for v in rng.integers(3, 7, size=4)]
    g_sizes = [z_dim + n_classes, h[0], h[1], data_dim]
    d_sizes = [pack * (data_dim + n_classes), h[2], h[3], 1]
    n = pack * int(rng.integers(2, 4))
    out = {f"{case}_config": np.array([z_dim, data_dim, n_classes, pack, OBJECTIVES.index(objective)]),
           f"{case}_g_sizes": np.array(g_sizes), f"{case}_d_sizes": np.array(d_sizes),
           f"{case}_g_params": _mlp_params(rng, g_sizes), f"{case}_d_params": _mlp_params(rng, d_sizes),
           f"{case}_smoothing": np.asarray(smoothing), f"{case}_noise": np.asarray(noise),
           f"{case}_labels": rng.integers(max(n_classes, 1), size=n)}
    if case in D_CASES:
        out[f"{case}_x"] = rng.standard_normal((2 * n, data_dim))
    else:
        out[f"{case}_z"] = rng.standard_normal((n, z_dim))
        out[f"{case}_seed"] = np.asarray(int(rng.integers(2 ** 31)))
    return out


def _gan_step_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    smoothing = round(float(rng.uniform(0.05, 0.25)), 3)
    std = round(float(rng.uniform(0.2, 0.5)), 3)
    return {**_gan_case(rng, "d1", n_classes=3, pack=2, objective="non_saturating", smoothing=smoothing, noise=0.0),
            **_gan_case(rng, "d2", n_classes=0, pack=1, objective="least_squares", smoothing=0.0, noise=0.0),
            **_gan_case(rng, "g1", n_classes=3, pack=2, objective="non_saturating", smoothing=0.0, noise=std),
            **_gan_case(rng, "g2", n_classes=0, pack=1, objective="least_squares", smoothing=0.0, noise=0.0)}


def describe(inputs: dict[str, np.ndarray], case: str) -> str:
    """The GAN of a case in words: ``"conditional (3 classes), pack=2, non_saturating, label smoothing 0.1"``."""
    _, _, n_classes, pack, objective = (int(v) for v in inputs[f"{case}_config"])
    words = [f"conditional ({n_classes} classes)" if n_classes else "unconditional", f"pack={pack}",
             OBJECTIVES[objective]]
    if float(inputs[f"{case}_smoothing"]):
        words.append(f"label smoothing {float(inputs[f'{case}_smoothing']):g}")
    if float(inputs[f"{case}_noise"]):
        words.append(f"instance noise {float(inputs[f'{case}_noise']):g}")
    return ", ".join(words)


def _sizes(inputs: dict[str, np.ndarray], case: str, who: str) -> list[int]:
    return [int(v) for v in inputs[f"{case}_{who}_sizes"]]


def _number(got: dict[str, Any], key: str) -> float | None:
    value = got.get(key)
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "fiu":
        return float(value)
    return None


def _loss(got: dict[str, Any], key: str, expected: np.ndarray, what: str,
          variants: tuple[tuple[np.ndarray, str], ...] = ()) -> None:
    """``close`` on a loss, saying which known mistake it matches (``variants``: a wrong value and what it means)."""
    try:
        close(got, key, expected, what, rtol=1e-8, atol=1e-10)
    except Wrong as err:
        mine = _number(got, key)
        for value, meaning in variants:
            if mine is not None and abs(mine - float(value)) <= 1e-8 * max(1.0, abs(float(value))):
                raise Wrong(f"{err}: that is the loss {meaning}") from None
        raise


def _kept(got: dict[str, Any], key: str, what: str) -> None:
    if not bool(np.all(got.get(key, False))):
        raise Wrong(f"{what} changed the parameters of G or D: it must only compute the loss and the gradients")


def _judge_gan_step(inputs: dict[str, np.ndarray], got: dict[str, Any],
                    expected: dict[str, np.ndarray]) -> list[PartResult]:
    def d_step() -> None:
        raised(got, "d_", "GAN.discriminator_loss_gradients on a tiny GAN")
        for case in D_CASES:
            what = f"discriminator_loss_gradients on a tiny GAN ({describe(inputs, case)})"
            _kept(got, f"{case}_kept", what)
            variants = ((expected[f"{case}_loss_unsmoothed"], "without label smoothing (real target 1 - "
                         "label_smoothing)"),) if float(inputs[f"{case}_smoothing"]) else ()
            _loss(got, f"{case}_loss", expected[f"{case}_loss"], f"{what}: the loss", variants)
            close(got, f"{case}_s_real", expected[f"{case}_s_real"], f"{what}: s_real", rtol=1e-8, atol=1e-10)
            close(got, f"{case}_s_fake", expected[f"{case}_s_fake"], f"{what}: s_fake", rtol=1e-8, atol=1e-10)
            flat_gradients(got, f"{case}_grads", expected[f"{case}_grads"], _sizes(inputs, case, "d"), what,
                           "dL_D/dD")

    def g_step() -> None:
        raised(got, "g_", "GAN.generator_loss_gradients on a tiny GAN")
        for case in G_CASES:
            what = f"generator_loss_gradients on a tiny GAN ({describe(inputs, case)})"
            _kept(got, f"{case}_kept", what)
            variants = ((expected[f"{case}_loss_without_noise"], "without the instance noise (draw it with "
                         "self._with_instance_noise(fake, rng))"),) if float(inputs[f"{case}_noise"]) else ()
            _loss(got, f"{case}_loss", expected[f"{case}_loss"], f"{what}: the loss", variants)
            flat_gradients(got, f"{case}_grads", expected[f"{case}_grads"], _sizes(inputs, case, "g"), what,
                           "dL_G/dG")

    return [part("D step", d_step), part("G step", g_step)]


TASKS: dict[str, Task] = {"non_saturating": Task(_non_saturating_inputs, _judge_non_saturating),
                          "gan_step": Task(_gan_step_inputs, _judge_gan_step)}
