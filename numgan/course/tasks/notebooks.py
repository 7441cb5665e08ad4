"""Inputs and judgements of the notebook exercises (notebooks 01, 02, 03, 04 and 08)."""
from __future__ import annotations

import numpy as np

from ..compare import PartResult, Wrong, array, close, gradients, part, unchanged
from . import Task


def _flag(got: dict, key: str) -> bool:
    value = got.get(key)
    return isinstance(value, np.ndarray) and value.shape == () and value.dtype == bool and bool(value)


# -- notebook 01 ---------------------------------------------------------------------------------------


def _dense_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n, d_in, d_out = (int(v) for v in rng.integers(3, 8, size=3))
    return {"x": rng.standard_normal((n, d_in)), "W": rng.standard_normal((d_in, d_out)),
            "b": rng.standard_normal(d_out), "dy": rng.standard_normal((n, d_out))}


def _judge_dense_forward(inputs: dict, got: dict, expected: dict) -> list[PartResult]:
    def forward() -> None:
        close(got, "y", expected["y"], "dense_forward(x, W, b): y", rtol=1e-10, atol=1e-10)
        unchanged(got, "x_after", inputs["x"], "dense_forward: the input x")

    return [part("forward", forward)]


def _judge_dense_backward(inputs: dict, got: dict, expected: dict) -> list[PartResult]:
    return [part("dx", lambda: gradients(got, {"dx": expected["dx"]}, "dense_backward")),
            part("dW and db", lambda: gradients(got, {"dW": expected["dW"], "db": expected["db"]},
                                                "dense_backward"))]


def _scale_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n, d = (int(v) for v in rng.integers(3, 8, size=2))
    return {"x": rng.standard_normal((n, d)), "s": rng.standard_normal(d), "dy": rng.standard_normal((n, d))}


def _judge_scale(inputs: dict, got: dict, expected: dict) -> list[PartResult]:
    def both() -> None:
        close(got, "y", expected["y"], "Scale.forward: y", rtol=1e-10, atol=1e-10)
        unchanged(got, "x_after", inputs["x"], "Scale.forward: the input x")
        unchanged(got, "s_after", inputs["s"], "Scale: the parameter s")
        gradients(got, {"dx": expected["dx"], "ds": expected["ds"]}, "Scale.backward",
                  names={"ds": "grads['s']"})
        if not _flag(got, "no_grads_without_param_grads"):
            raise Wrong("Scale.backward(dy, cache, param_grads=False) must return an empty dict {} for grads")

    return [part("forward and backward", both)]


# -- notebook 02 ---------------------------------------------------------------------------------------


def _softplus_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n, d = (int(v) for v in rng.integers(3, 7, size=2))
    far = rng.choice([-1.0, 1.0], size=(2, 3)) * rng.uniform(50.0, 1000.0, size=(2, 3))
    far[0, 0], far[1, 0] = -1000.0, 1000.0
    return {"x": 3.0 * rng.standard_normal((n, d)), "dy": rng.standard_normal((n, d)),
            "x_far": far, "dy_far": rng.standard_normal((2, 3))}


def _judge_softplus(inputs: dict, got: dict, expected: dict) -> list[PartResult]:
    def forward() -> None:
        close(got, "y", expected["y"], "Softplus.forward: y", rtol=1e-10, atol=1e-12)
        close(got, "y_far", expected["y_far"], "Softplus.forward at |x| up to 1000: y", rtol=1e-10, atol=1e-12)
        if _flag(got, "forward_warned") or _flag(got, "forward_warned_far"):
            raise Wrong("Softplus.forward warned of an overflow: split out max(x, 0) so that exp only sees x <= 0")
        unchanged(got, "x_after", inputs["x"], "Softplus.forward: the input x")

    def backward() -> None:
        gradients(got, {"dx": expected["dx"]}, "Softplus.backward")
        gradients(got, {"dx_far": expected["dx_far"]}, "Softplus.backward at |x| up to 1000",
                  names={"dx_far": "dx"})
        if not (_flag(got, "grads_empty") and _flag(got, "grads_empty_far")):
            raise Wrong("Softplus.backward must return (dx, {}): the layer has no parameters")

    return [part("forward", forward), part("backward", backward)]


# -- notebook 03 ---------------------------------------------------------------------------------------


def _adam_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    steps = int(rng.integers(3, 6))
    shape_a = (int(rng.integers(2, 5)), int(rng.integers(2, 4)))
    shape_b = (int(rng.integers(2, 6)),)
    hyper = np.array([rng.uniform(0.3, 0.9), rng.uniform(0.9, 0.999), rng.uniform(1e-3, 1e-1), 1e-8])
    return {"p0_a": rng.standard_normal(shape_a), "p0_b": rng.standard_normal(shape_b),
            "g_a": rng.standard_normal((steps,) + shape_a), "g_b": rng.standard_normal((steps,) + shape_b),
            "hyper": hyper}


def _judge_my_adam(inputs: dict, got: dict, expected: dict) -> list[PartResult]:
    b1, b2, lr, eps = (float(v) for v in inputs["hyper"])

    def moments() -> None:
        for k in ("a", "b"):
            for t in range(inputs["g_" + k].shape[0]):
                for moment, name in (("m", "the first moment m"), ("v", "the second moment v")):
                    close({"x": _row(got, f"{moment}_{k}", t)}, "x", expected[f"{moment}_{k}"][t],
                          f"MyAdam step {t + 1}: {name} of parameter {k!r}", rtol=1e-9, atol=1e-12)
                close({"x": _row(got, f"p_raw_{k}", t)}, "x", expected[f"p_raw_{k}"][t],
                      f"MyAdam(..., correct=False) step {t + 1}: parameter {k!r}", rtol=1e-9, atol=1e-12)

    def correction() -> None:
        # judged on the student's own m and v, so that a wrong moment does not cost this part too
        for k in ("a", "b"):
            before = inputs["p0_" + k]
            for t in range(inputs["g_" + k].shape[0]):
                m, v = _row(got, f"m_{k}", t), _row(got, f"v_{k}", t)
                with np.errstate(all="ignore"):
                    step = lr * (m / (1 - b1 ** (t + 1))) / (np.sqrt(v / (1 - b2 ** (t + 1))) + eps)
                close({"x": _row(got, f"p_{k}", t)}, "x", before - step,
                      f"MyAdam step {t + 1}: parameter {k!r} (from your m and v, bias-corrected)",
                      rtol=1e-9, atol=1e-12)
                before = _row(got, f"p_{k}", t)

    return [part("moments", moments), part("bias correction", correction)]


def _row(got: dict, key: str, t: int) -> np.ndarray:
    value = array(got, key, key)
    if value.ndim == 0 or value.shape[0] <= t:
        raise Wrong(f"{key} is missing step {t + 1}")
    return value[t]


# -- notebook 04 ---------------------------------------------------------------------------------------


def _hand_step_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n, z_dim, hidden = int(rng.integers(3, 7)), int(rng.integers(2, 4)), int(rng.integers(3, 6))
    data_dim = 2
    g_size = z_dim * hidden + hidden + hidden * data_dim + data_dim
    d_size = data_dim * hidden + hidden + hidden + 1
    return {"sizes": np.array([z_dim, hidden, data_dim]), "G_flat": 0.8 * rng.standard_normal(g_size),
            "D_flat": 0.8 * rng.standard_normal(d_size), "x_real": rng.standard_normal((n, data_dim)),
            "z_D": rng.standard_normal((n, z_dim)), "z_G": rng.standard_normal((n, z_dim))}


def _judge_hand_step(inputs: dict, got: dict, expected: dict) -> list[PartResult]:
    def half(player: str) -> None:
        what = f"hand_step's {player} step"
        close(got, f"loss_{player}", expected[f"loss_{player}"], f"{what}: loss_{player}", rtol=1e-8, atol=1e-10)
        gradients(got, {f"d{player}": expected[f"d{player}"]}, what, names={f"d{player}": f"grads_{player}"})
        steps = got.get(f"steps_{player}")
        if not isinstance(steps, np.ndarray) or steps.shape != () or int(steps) != 1:
            raise Wrong(f"{what}: opt_{player}.step(grads_{player}) must be called exactly once "
                        f"(called {steps if isinstance(steps, np.ndarray) else '?'} times)")
        close(got, f"d{player}_stepped", expected[f"d{player}"], f"{what}: the gradients given to opt_{player}.step",
              rtol=1e-6, atol=1e-9)

    return [part("D gradients", lambda: half("D")), part("G gradients", lambda: half("G"))]


def _arrows_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = int(rng.integers(4, 9))
    return {"points": rng.uniform(-2.0, 2.0, size=(n, 2)), "w": rng.standard_normal(2),
            "c": rng.uniform(0.5, 2.0, size=2), "h": np.array(10.0 ** rng.uniform(-3.0, -2.0))}


def _judge_arrows(inputs: dict, got: dict, expected: dict) -> list[PartResult]:
    def fd() -> None:
        close(got, "arrows", expected["arrows"], "arrows(loss, points, h)", rtol=1e-7, atol=1e-9)
        unchanged(got, "points_after", inputs["points"], "arrows: the points")

    return [part("finite differences", fd)]


# -- notebook 08 ---------------------------------------------------------------------------------------


def _game_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    k, m = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    return {"x": rng.standard_normal(k), "y": rng.standard_normal(m), "A": rng.standard_normal((k, m)),
            "c": np.array(rng.uniform(0.3, 1.0)), "d": np.array(rng.uniform(0.3, 1.0)),
            "lr": np.array(rng.uniform(0.05, 0.5))}


def _judge_extragradient(inputs: dict, got: dict, expected: dict) -> list[PartResult]:
    def step() -> None:
        close(got, "x", expected["x"], "extragradient_step: the new x", rtol=1e-10, atol=1e-12)
        close(got, "y", expected["y"], "extragradient_step: the new y", rtol=1e-10, atol=1e-12)

    return [part("extrapolation step", step)]


TASKS: dict[str, Task] = {
    "01.dense_forward": Task(_dense_inputs, _judge_dense_forward),
    "01.dense_backward": Task(_dense_inputs, _judge_dense_backward),
    "01.scale_layer": Task(_scale_inputs, _judge_scale),
    "02.softplus": Task(_softplus_inputs, _judge_softplus),
    "03.my_adam": Task(_adam_inputs, _judge_my_adam),
    "04.hand_step": Task(_hand_step_inputs, _judge_hand_step),
    "04.arrows": Task(_arrows_inputs, _judge_arrows),
    "08.extragradient": Task(_game_inputs, _judge_extragradient),
}
