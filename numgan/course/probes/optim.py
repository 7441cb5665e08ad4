"""Probes of the optimizer exercises: ``SGD._update`` and ``Adam._update`` (the student's ``numgan.optim``).

Each run makes the parameters the way a network holds them, a plain dict of
arrays or a ``FlatParams`` (views of one flat buffer, as ``Sequential.params``),
takes a few steps through the public ``step``, and records after every step
the arrays the caller holds (so an update that is not in place shows) and the
optimizer's state.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

LAYOUTS = ("dict", "flat")


def _params(inputs: dict[str, np.ndarray], layout: str) -> Mapping[str, np.ndarray]:
    from numgan.flat import FlatParams

    arrays = {"W": inputs["W"].copy(), "b": inputs["b"].copy()}
    if layout == "dict":
        return arrays
    flat = FlatParams.zeros({k: v.shape for k, v in arrays.items()}, np.float64)
    for k, v in arrays.items():
        flat[k][...] = v
    return flat


def _grads(inputs: dict[str, np.ndarray], params: Mapping[str, np.ndarray], step: int) -> Mapping[str, np.ndarray]:
    from numgan.flat import FlatParams

    grads = {k: inputs[f"g{k}"][step].copy() for k in ("W", "b")}
    if not isinstance(params, FlatParams):
        return grads
    flat = params.zeros_like()
    for k, v in grads.items():
        flat[k][...] = v
    return flat


def _run(opt: Any, params: Mapping[str, np.ndarray], inputs: dict[str, np.ndarray], tag: str,
         state: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``opt.step`` once per gradient of ``inputs``; after each: the params, the grads given, ``opt.state``."""
    steps = len(inputs["gW"])
    out: dict[str, np.ndarray] = {}
    for k in ("W", "b"):
        out[f"{tag}_p{k}"] = np.empty((steps, *params[k].shape))
        out[f"{tag}_g{k}_after"] = np.empty((steps, *params[k].shape))
        for s in state:
            out[f"{tag}_{s}{k}"] = np.full((steps, *params[k].shape), np.nan)
    for step in range(steps):
        grads = _grads(inputs, params, step)
        opt.step(grads)
        for k in ("W", "b"):
            out[f"{tag}_p{k}"][step] = params[k]
            out[f"{tag}_g{k}_after"][step] = grads[k]
            for s in state:
                out[f"{tag}_{s}{k}"][step] = opt.state[s][k]
    return out


def sgd_momentum(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, np.ndarray]:
    """SGD for each momentum of ``inputs``, plain and Nesterov (for momentum > 0), both layouts."""
    from numgan.optim import SGD

    out = {}
    lr = float(inputs["lr"])
    for i, mu in enumerate(float(m) for m in inputs["momenta"]):
        for nesterov in (False, True) if mu > 0 else (False,):
            for layout in LAYOUTS:
                params = _params(inputs, layout)
                opt = SGD(params, lr=lr, momentum=mu, nesterov=nesterov)
                out.update(_run(opt, params, inputs, f"{'nesterov' if nesterov else 'plain'}{i}_{layout}", ()))
    return out


def adam(inputs: dict[str, np.ndarray], namespace: Any) -> dict[str, np.ndarray]:
    """Adam for each row of ``inputs['configs']`` (lr, beta1, beta2, eps, weight_decay), both layouts."""
    from numgan.optim import Adam

    out = {}
    for i, (lr, beta1, beta2, eps, decay) in enumerate(inputs["configs"].tolist()):
        for layout in LAYOUTS:
            params = _params(inputs, layout)
            opt = Adam(params, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=decay)
            out.update(_run(opt, params, inputs, f"run{i}_{layout}", ("m", "v")))
    return out


PROBES = {"sgd_momentum": sgd_momentum, "adam": adam}
