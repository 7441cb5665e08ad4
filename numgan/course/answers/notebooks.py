"""References of the notebook exercises: values from the formulas, gradients by the grader's finite differences.

Nothing here calls a notebook: the forward passes are written out below
(the small MLPs of the hand-written GAN step included), and every gradient
is a centred finite difference of such a forward pass.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from numgan.gradcheck import numerical_gradient


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _weighted(forward: Callable[[], np.ndarray], dy: np.ndarray) -> Callable[[Any], float]:
    """``L = sum(dy * forward())``, whose gradient with respect to the output is ``dy``."""
    return lambda _: float(np.sum(dy * forward()))


# -- notebook 01 ---------------------------------------------------------------------------------------


def dense_forward_expected(inputs: dict) -> dict:
    return {"y": inputs["x"] @ inputs["W"] + inputs["b"]}


def dense_backward_expected(inputs: dict) -> dict:
    x, W, b, dy = (inputs[k].copy() for k in ("x", "W", "b", "dy"))
    loss = _weighted(lambda: x @ W + b, dy)
    return {"dx": numerical_gradient(loss, x), "dW": numerical_gradient(loss, W), "db": numerical_gradient(loss, b)}


def scale_expected(inputs: dict) -> dict:
    x, s, dy = (inputs[k].copy() for k in ("x", "s", "dy"))
    loss = _weighted(lambda: x * s, dy)
    return {"y": x * s, "dx": numerical_gradient(loss, x), "ds": numerical_gradient(loss, s)}


# -- notebook 02 ---------------------------------------------------------------------------------------


def softplus_expected(inputs: dict) -> dict:
    out = {}
    for tag in ("", "_far"):
        x, dy = inputs["x" + tag].copy(), inputs["dy" + tag]
        out["y" + tag] = _softplus(x)
        out["dx" + tag] = numerical_gradient(_weighted(lambda: _softplus(x), dy), x)
    return out


# -- notebook 03 ---------------------------------------------------------------------------------------


def my_adam_expected(inputs: dict) -> dict:
    b1, b2, lr, eps = (float(v) for v in inputs["hyper"])
    out = {}
    for k in ("a", "b"):
        grads = inputs["g_" + k]
        p, p_raw = inputs["p0_" + k].copy(), inputs["p0_" + k].copy()
        m, v = np.zeros_like(p), np.zeros_like(p)
        ms, vs, ps, raws = [], [], [], []
        for t, g in enumerate(grads, start=1):
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
            p_raw = p_raw - lr * m / (np.sqrt(v) + eps)
            ms.append(m)
            vs.append(v)
            ps.append(p)
            raws.append(p_raw)
        out.update({f"m_{k}": np.array(ms), f"v_{k}": np.array(vs), f"p_{k}": np.array(ps),
                    f"p_raw_{k}": np.array(raws)})
    return out


# -- notebook 04 ---------------------------------------------------------------------------------------


def _mlp(flat: np.ndarray, sizes: tuple[int, int, int]) -> Callable[[np.ndarray], np.ndarray]:
    """``sizes[0] -> sizes[1] -> sizes[2]`` with a leaky ReLU (0.2) between; parameters read from ``flat``
    (a view: finite differences nudge it) in numgan's order ``0.W, 0.b, 2.W, 2.b``."""
    a, h, c = sizes
    cuts = np.cumsum([a * h, h, h * c])

    def forward(x: np.ndarray) -> np.ndarray:
        W0, b0 = flat[:cuts[0]].reshape(a, h), flat[cuts[0]:cuts[1]]
        W1, b1 = flat[cuts[1]:cuts[2]].reshape(h, c), flat[cuts[2]:]
        u = x @ W0 + b0
        return np.where(u > 0, u, 0.2 * u) @ W1 + b1

    return forward


def hand_step_expected(inputs: dict) -> dict:
    z_dim, hidden, data_dim = (int(v) for v in inputs["sizes"])
    g_flat, d_flat = inputs["G_flat"].copy(), inputs["D_flat"].copy()
    G, D = _mlp(g_flat, (z_dim, hidden, data_dim)), _mlp(d_flat, (data_dim, hidden, 1))
    x_real, z_D, z_G = inputs["x_real"], inputs["z_D"], inputs["z_G"]

    def loss_D(_: Any = None) -> float:          # non-saturating D: targets 1 on real, 0 on fake
        return float(np.mean(_softplus(-D(x_real))) + np.mean(_softplus(D(G(z_D)))))

    def loss_G(_: Any = None) -> float:          # non-saturating G: -mean log sigmoid(D(G(z)))
        return float(np.mean(_softplus(-D(G(z_G)))))

    return {"loss_D": np.array(loss_D()), "dD": numerical_gradient(loss_D, d_flat),
            "loss_G": np.array(loss_G()), "dG": numerical_gradient(loss_G, g_flat)}


def _arrows_loss(inputs: dict) -> Callable[[np.ndarray], np.ndarray]:
    w, c = inputs["w"], inputs["c"]
    return lambda p: np.sin(p @ w) + 0.5 * (p ** 2) @ c + p[:, 0] * p[:, 1] ** 2


def arrows_expected(inputs: dict) -> dict:
    """Minus the centred difference with the task's own step ``h``, coordinate by coordinate."""
    loss, points, h = _arrows_loss(inputs), inputs["points"], float(inputs["h"])
    out = np.zeros_like(points)
    for k in range(points.shape[1]):
        e = np.zeros(points.shape[1])
        e[k] = h
        out[:, k] = -(loss(points + e) - loss(points - e)) / (2 * h)
    return {"arrows": out}


# -- notebook 08 ---------------------------------------------------------------------------------------


def extragradient_expected(inputs: dict) -> dict:
    A, c, d, lr = inputs["A"], float(inputs["c"]), float(inputs["d"]), float(inputs["lr"])

    def grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return A @ y + c * x ** 2, A.T @ x - d * y

    x, y = inputs["x"], inputs["y"]
    gx, gy = grad(x, y)
    gx, gy = grad(x - lr * gx, y + lr * gy)        # the gradient at the look-ahead point
    return {"x": x - lr * gx, "y": y + lr * gy}


ANSWERS = {
    "01.dense_forward": dense_forward_expected, "01.dense_backward": dense_backward_expected,
    "01.scale_layer": scale_expected, "02.softplus": softplus_expected, "03.my_adam": my_adam_expected,
    "04.hand_step": hand_step_expected, "04.arrows": arrows_expected, "08.extragradient": extragradient_expected,
}
