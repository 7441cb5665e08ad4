"""Optimizers: SGD (with momentum, Nesterov) and Adam (with bias correction).

An optimizer is made for one network's parameters and keeps its own state
(never shared across networks)::

    opt = Adam(net.params, lr=2e-4, betas=(0.5, 0.999))
    _, grads = net.backward(dy, cache)
    opt.step(grads)                    # updates net.params in place

When the parameters are a :class:`~numgan.flat.FlatParams` (a ``Sequential``'s
``params`` are) and the grads are one of the same layout (as
``Sequential.backward`` returns), each update is a few vectorised operations on
the flat arrays ``.flat``; for a plain dict of arrays the same formulas run
once per array. Derivations: ``docs/adam.md``.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ._checks import check_in_range, check_positive
from .flat import FlatParams


class Optimizer:
    """Holds the parameters, flat state buffers and the step counter ``t``."""

    state_names: tuple[str, ...] = ()

    def __init__(self, params: Mapping[str, np.ndarray], lr: float) -> None:
        if not isinstance(params, Mapping) or not params:
            raise TypeError(f"params must be a non-empty dict of name -> array (e.g. net.params), "
                            f"got {type(params).__name__}")
        for name, p in params.items():
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise TypeError(f"params[{name!r}] must be a floating numpy array, got {type(p).__name__}")
        dtypes = {p.dtype for p in params.values()}
        if len(dtypes) != 1:
            raise TypeError(f"params must share one dtype, got {sorted(d.name for d in dtypes)}")
        self.params: Mapping[str, np.ndarray] = params if isinstance(params, FlatParams) else dict(params)
        self.dtype = dtypes.pop()
        self.lr = check_positive(lr, "lr")
        self.t = 0
        # One flat buffer per state variable, laid out like the parameters.
        shapes = {name: p.shape for name, p in self.params.items()}
        self.state = {s: FlatParams.zeros(shapes, self.dtype) for s in self.state_names}

    def _check_grads(self, grads: Mapping[str, np.ndarray]) -> None:
        if not isinstance(grads, Mapping) or set(grads) != set(self.params):
            got = sorted(grads) if isinstance(grads, Mapping) else type(grads).__name__
            raise ValueError(f"grads must have the keys of params {sorted(self.params)}, got {got}")
        for name, g in grads.items():
            p = self.params[name]
            if not isinstance(g, np.ndarray) or g.shape != p.shape:
                shape = g.shape if isinstance(g, np.ndarray) else type(g).__name__
                raise ValueError(f"grads[{name!r}] must have shape {p.shape}, got {shape}")
            if g.dtype != self.dtype:
                raise TypeError(f"grads[{name!r}] must have dtype {self.dtype.name}, got {g.dtype.name}")

    #: elements per block of an update (see :meth:`step`): 128 K, measured in ``docs/performance.md#optimizer-blocks``
    block_size: int = 131072

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Update every parameter in place from ``grads`` (keyed like ``params``).

        The update's formulas (:meth:`_update`) are element by element, so they
        are run on slices of ``block_size`` elements of the flat buffers, one
        after another: each slice of the parameters, gradient, moments and
        scratch then stays in the CPU's cache through all of the formulas'
        passes instead of streaming the whole buffers through memory once per
        pass. The results are the same, bit for bit, as one update of the
        whole buffers.
        """
        self._check_grads(grads)
        self.t += 1
        if isinstance(self.params, FlatParams) and isinstance(grads, FlatParams) and self.params.same_layout(grads):
            self._update_in_blocks(self.params.flat, grads.flat, {s: st.flat for s, st in self.state.items()})
        else:
            for name, p in self.params.items():
                self._update_in_blocks(p, grads[name], {s: st[name] for s, st in self.state.items()})

    def _update_in_blocks(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        """:meth:`_update` on consecutive slices of ``block_size`` elements of the arrays."""
        arrays = [p, g, *state.values()]
        if p.size <= self.block_size or not all(a.flags.c_contiguous for a in arrays):
            self._update(p, g, state)      # small, or a layout whose flat view would be a copy
            return
        p, g = p.reshape(-1), g.reshape(-1)
        flat_state = {s: st.reshape(-1) for s, st in state.items()}
        for a in range(0, p.size, self.block_size):
            b = a + self.block_size
            self._update(p[a:b], g[a:b], {s: st[a:b] for s, st in flat_state.items()})

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain numbers and arrays (copies)."""
        out: dict[str, Any] = {"t": self.t, "lr": self.lr, **self._hyper()}
        for s in self.state_names:
            for name, arr in self.state[s].items():
                out[f"{s}.{name}"] = arr.copy()
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a state made by :meth:`state_dict` (hyper-parameters included)."""
        expected = {"t", "lr", *self._hyper(), *(f"{s}.{n}" for s in self.state_names for n in self.params)}
        if not isinstance(state, Mapping) or set(state) != expected:
            got = sorted(state) if isinstance(state, Mapping) else type(state).__name__
            raise ValueError(f"state must have the keys {sorted(expected)}, got {got}")
        for s in self.state_names:
            for name, arr in self.state[s].items():
                value = np.asarray(state[f"{s}.{name}"])
                if value.shape != arr.shape:
                    raise ValueError(f"state[{s + '.' + name!r}] must have shape {arr.shape}, got {value.shape}")
                arr[...] = value
        self.t = int(state["t"])
        self.lr = check_positive(float(state["lr"]), "lr")
        self._set_hyper(state)

    def _hyper(self) -> dict[str, float | bool]:
        return {}

    def _set_hyper(self, state: Mapping[str, Any]) -> None:
        pass


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    With velocity ``v`` (zero at the start) and momentum ``mu``
    (``docs/adam.md#sgd-and-momentum``)::

        v = mu * v + g
        p = p - lr * (g + mu * v)     if nesterov
        p = p - lr * v                otherwise

    ``mu = 0`` is plain gradient descent ``p = p - lr * g``.
    """

    state_names = ("velocity",)

    def __init__(self, params: Mapping[str, np.ndarray], lr: float, momentum: float = 0.0,
                 nesterov: bool = False) -> None:
        super().__init__(params, lr)
        self.momentum = check_in_range(momentum, "momentum", 0.0, 1.0, high_open=True)
        if nesterov and self.momentum == 0:
            raise ValueError(f"nesterov=True needs momentum > 0, got momentum={momentum!r}")
        self.nesterov = bool(nesterov)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        ### BEGIN SOLUTION
        v = state["velocity"]
        v *= self.momentum
        v += g
        p -= self.lr * (g + self.momentum * v if self.nesterov else v)
        ### END SOLUTION

    def _hyper(self) -> dict[str, float | bool]:
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def _set_hyper(self, state: Mapping[str, Any]) -> None:
        self.momentum, self.nesterov = float(state["momentum"]), bool(state["nesterov"])


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with bias correction; GAN defaults ``betas=(0.5, 0.999)``.

    At step ``t = 1, 2, ...`` with gradient ``g`` (``docs/adam.md#adam``)::

        g     = g + weight_decay * p                 (L2 penalty, when > 0)
        m     = beta1 * m + (1 - beta1) * g          first moment
        v     = beta2 * v + (1 - beta2) * g**2       second moment
        m_hat = m / (1 - beta1**t)                   bias correction
        v_hat = v / (1 - beta2**t)
        p     = p - lr * m_hat / (sqrt(v_hat) + eps)

    beta1 = 0.5 as in DCGAN (Radford et al., 2016) rather than the usual 0.9.
    """

    state_names = ("m", "v")

    def __init__(self, params: Mapping[str, np.ndarray], lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1 = check_in_range(betas[0], "betas[0]", 0.0, 1.0, high_open=True)
        self.beta2 = check_in_range(betas[1], "betas[1]", 0.0, 1.0, high_open=True)
        self.eps = check_positive(eps, "eps")
        self.weight_decay = check_in_range(weight_decay, "weight_decay", 0.0, np.inf)
        self._work = np.empty(sum(p.size for p in self.params.values()), dtype=self.dtype)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        ### BEGIN SOLUTION
        m, v = state["m"], state["v"]
        if self.weight_decay:
            g = g + self.weight_decay * p
        # The same formulas, written in place with one scratch array s (no temporaries of
        # the size of all parameters but s itself: see docs/performance.md).
        s = self._scratch(p)
        np.multiply(g, 1 - self.beta1, out=s)
        m *= self.beta1
        m += s                                        # m = beta1 m + (1 - beta1) g
        np.multiply(g, g, out=s)
        s *= 1 - self.beta2
        v *= self.beta2
        v += s                                        # v = beta2 v + (1 - beta2) g^2
        np.sqrt(v, out=s)
        s *= 1 / math.sqrt(1 - self.beta2 ** self.t)
        s += self.eps                                 # s = sqrt(v_hat) + eps
        np.divide(m, s, out=s)
        s *= self.lr / (1 - self.beta1 ** self.t)     # s = lr m_hat / (sqrt(v_hat) + eps)
        p -= s
        ### END SOLUTION

    def _scratch(self, p: np.ndarray) -> np.ndarray:
        """A work array of ``p``'s shape, kept between steps (its content is never read)."""
        return self._work[:p.size].reshape(p.shape)

    def _hyper(self) -> dict[str, float | bool]:
        return {"beta1": self.beta1, "beta2": self.beta2, "eps": self.eps, "weight_decay": self.weight_decay}

    def _set_hyper(self, state: Mapping[str, Any]) -> None:
        self.beta1, self.beta2 = float(state["beta1"]), float(state["beta2"])
        self.eps, self.weight_decay = float(state["eps"]), float(state["weight_decay"])
