"""Probes of the notebook exercises: the student's functions and classes, looked up in the notebook's namespace.

``namespace`` is the notebook's globals (self-check) or the namespace in
which the grader ran the exercise's cell alone (with ``np`` in it). Every
probe calls the student's object on the given inputs and returns what came
back, as arrays and numbers.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._calls import as_array, as_number, pair, student


def _call(fn: Any, what: str, *args: Any) -> Any:
    if not callable(fn):
        raise TypeError(f"{what} must be a function, got {type(fn).__name__}")
    return fn(*args)


# -- notebook 01 ---------------------------------------------------------------------------------------


def dense_forward_nb(inputs: dict, namespace: Any) -> dict:
    fn = student(namespace, "dense_forward", "01.dense_forward")
    x = inputs["x"].copy()
    y, _ = pair(_call(fn, "dense_forward", x, inputs["W"].copy(), inputs["b"].copy()), "dense_forward")
    return {"y": as_array(y, "dense_forward's y"), "x_after": x}


def dense_backward_nb(inputs: dict, namespace: Any) -> dict:
    forward = student(namespace, "dense_forward", "01.dense_forward")
    backward = student(namespace, "dense_backward", "01.dense_backward")
    _, cache = pair(_call(forward, "dense_forward", inputs["x"].copy(), inputs["W"].copy(), inputs["b"].copy()),
                    "dense_forward")
    result = _call(backward, "dense_backward", inputs["dy"].copy(), cache)
    if not isinstance(result, tuple) or len(result) != 3:
        raise TypeError("dense_backward must return a 3-tuple (dx, dW, db)")
    dx, dW, db = result
    return {"dx": as_array(dx, "dx"), "dW": as_array(dW, "dW"), "db": as_array(db, "db")}


def scale_layer(inputs: dict, namespace: Any) -> dict:
    cls = student(namespace, "Scale", "01.scale_layer")
    s = inputs["s"]
    layer = _call(cls, "Scale", s.shape[0])
    params = getattr(layer, "params", None)
    if not isinstance(params, dict) or not isinstance(params.get("s"), np.ndarray) or params["s"].shape != s.shape:
        raise TypeError(f"Scale({s.shape[0]}).params must be a dict holding 's', an array of shape {s.shape}")
    params["s"][...] = s
    x = inputs["x"].copy()
    y, cache = pair(layer.forward(x), "Scale.forward")
    out = {"y": as_array(y, "Scale.forward's y"), "x_after": x.copy()}
    dx, grads = pair(layer.backward(inputs["dy"].copy(), cache), "Scale.backward")
    if not isinstance(grads, dict) or "s" not in grads:
        raise TypeError("Scale.backward must return (dx, grads) with grads a dict holding 's'")
    out["dx"], out["ds"] = as_array(dx, "Scale.backward's dx"), as_array(grads["s"], "grads['s']")
    _, no_grads = pair(layer.backward(inputs["dy"].copy(), cache, param_grads=False), "Scale.backward")
    out["no_grads_without_param_grads"] = np.array(isinstance(no_grads, dict) and not no_grads)
    out["s_after"] = params["s"].copy()
    return out


# -- notebook 02 ---------------------------------------------------------------------------------------


def softplus(inputs: dict, namespace: Any) -> dict:
    cls = student(namespace, "Softplus", "02.softplus")
    layer = _call(cls, "Softplus")
    out: dict[str, Any] = {}
    for tag in ("", "_far"):
        x = inputs["x" + tag].copy()
        with warnings.catch_warnings(record=True) as caught, np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
            warnings.simplefilter("always")
            y, cache = pair(layer.forward(x), "Softplus.forward")
        out["y" + tag] = as_array(y, "Softplus.forward's y")
        out["forward_warned" + tag] = np.array(any(issubclass(w.category, RuntimeWarning) for w in caught))
        out["x_after" + tag] = x.copy()
        with np.errstate(all="ignore"):
            dx, grads = pair(layer.backward(inputs["dy" + tag].copy(), cache), "Softplus.backward")
        out["dx" + tag] = as_array(dx, "Softplus.backward's dx")
        out["grads_empty" + tag] = np.array(isinstance(grads, dict) and not grads)
    return out


# -- notebook 03 ---------------------------------------------------------------------------------------


def my_adam(inputs: dict, namespace: Any) -> dict:
    cls = student(namespace, "MyAdam", "03.my_adam")
    b1, b2, lr, eps = (float(inputs["hyper"][k]) for k in range(4))
    names = ("a", "b")
    out: dict[str, Any] = {}
    for tag, correct in (("", True), ("_raw", False)):
        params = {k: inputs["p0_" + k].copy() for k in names}
        opt = cls(params, lr, betas=(b1, b2), eps=eps, correct=correct)
        steps = inputs["g_a"].shape[0]
        for k in names:
            out[f"p{tag}_{k}"] = np.zeros((steps,) + params[k].shape)
            out[f"m{tag}_{k}"] = np.zeros((steps,) + params[k].shape)
            out[f"v{tag}_{k}"] = np.zeros((steps,) + params[k].shape)
        for step in range(steps):
            opt.step({k: inputs["g_" + k][step].copy() for k in names})
            for k in names:
                out[f"p{tag}_{k}"][step] = as_array(params[k], f"params[{k!r}] after step {step + 1}")
                for moment in ("m", "v"):
                    store = getattr(opt, moment, None)
                    if not isinstance(store, dict) or k not in store:
                        raise TypeError(f"MyAdam.{moment} must stay a dict of arrays, one per parameter")
                    out[f"{moment}{tag}_{k}"][step] = as_array(store[k], f"MyAdam.{moment}[{k!r}]")
    return out


# -- notebook 04 ---------------------------------------------------------------------------------------


class _Recorder:
    """A stand-in optimizer: records the gradients of each ``step`` and changes nothing."""

    def __init__(self, params: Any) -> None:
        self.params = params
        self.calls: list[dict[str, np.ndarray]] = []

    def step(self, grads: Any) -> None:
        self.calls.append({k: np.array(grads[k], dtype=np.float64, copy=True) for k in self.params})


def _flat(grads: Any, names: Any, what: str) -> np.ndarray:
    if grads is None or not all(k in grads for k in names):
        raise TypeError(f"{what} must map every parameter name ({', '.join(names)}) to its gradient")
    return np.concatenate([np.ravel(as_array(np.asarray(grads[k]), f"{what}[{k!r}]")) for k in names])


def hand_step(inputs: dict, namespace: Any) -> dict:
    from numgan import mlp

    fn = student(namespace, "hand_step", "04.hand_step")
    z_dim, hidden, data_dim = (int(v) for v in inputs["sizes"])
    G = mlp([z_dim, hidden, data_dim], activation="leaky_relu", dtype=np.float64, seed=0)
    D = mlp([data_dim, hidden, 1], activation="leaky_relu", dtype=np.float64, seed=1)
    G.params.flat[...] = inputs["G_flat"]
    D.params.flat[...] = inputs["D_flat"]
    opt_G, opt_D = _Recorder(G.params), _Recorder(D.params)
    result = fn(G, D, opt_G, opt_D, inputs["x_real"].copy(), inputs["z_D"].copy(), inputs["z_G"].copy())
    if not isinstance(result, tuple) or len(result) != 4:
        raise TypeError("hand_step must return a 4-tuple (loss_D, grads_D, loss_G, grads_G)")
    loss_D, grads_D, loss_G, grads_G = result
    out: dict[str, Any] = {
        "loss_D": as_number(loss_D, "loss_D"), "dD": _flat(grads_D, list(D.params), "grads_D"),
        "loss_G": as_number(loss_G, "loss_G"), "dG": _flat(grads_G, list(G.params), "grads_G"),
        "steps_D": np.array(len(opt_D.calls)), "steps_G": np.array(len(opt_G.calls)),
    }
    if opt_D.calls:
        out["dD_stepped"] = _flat(opt_D.calls[-1], list(D.params), "the gradients given to opt_D.step")
    if opt_G.calls:
        out["dG_stepped"] = _flat(opt_G.calls[-1], list(G.params), "the gradients given to opt_G.step")
    return out


def _arrows_loss(inputs: dict) -> Any:
    w, c = inputs["w"], inputs["c"]

    def loss(points: np.ndarray) -> np.ndarray:
        if not isinstance(points, np.ndarray) or points.ndim != 2 or points.shape[1] != 2:
            raise TypeError("arrows must call loss with an (N, 2) array of points")
        return np.sin(points @ w) + 0.5 * (points ** 2) @ c + points[:, 0] * points[:, 1] ** 2

    return loss


def arrows(inputs: dict, namespace: Any) -> dict:
    fn = student(namespace, "arrows", "04.arrows")
    points = inputs["points"].copy()
    a = _call(fn, "arrows", _arrows_loss(inputs), points, float(inputs["h"]))
    return {"arrows": as_array(a, "arrows(loss, points, h)"), "points_after": points}


# -- notebook 08 ---------------------------------------------------------------------------------------


def _game_grad(inputs: dict) -> Any:
    A, c, d = inputs["A"], float(inputs["c"]), float(inputs["d"])

    def grad(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # f(x, y) = x.A y + c sum(x**3) / 3 - d |y|**2 / 2: x minimises f, y maximises it
        return A @ y + c * x ** 2, A.T @ x - d * y

    return grad


def extragradient(inputs: dict, namespace: Any) -> dict:
    fn = student(namespace, "extragradient_step", "08.extragradient")
    x, y = inputs["x"].copy(), inputs["y"].copy()
    new = pair(_call(fn, "extragradient_step", x, y, float(inputs["lr"]), _game_grad(inputs)),
               "extragradient_step")
    return {"x": as_array(np.asarray(new[0]), "the new x"), "y": as_array(np.asarray(new[1]), "the new y")}


PROBES = {
    "01.dense_forward": dense_forward_nb, "01.dense_backward": dense_backward_nb, "01.scale_layer": scale_layer,
    "02.softplus": softplus, "03.my_adam": my_adam, "04.hand_step": hand_step, "04.arrows": arrows,
    "08.extragradient": extragradient,
}
