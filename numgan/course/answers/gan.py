"""References of the gan exercises: a forward pass written here, gradients by the grader's finite differences.

The GAN step's reference is a plain NumPy forward of the tiny tanh networks
(flat parameters laid out as ``Sequential.params``: ``W`` then ``b`` of each
Dense layer), the packing and the labels, the instance noise drawn from the
seed of the inputs and then held fixed, and the objective's formula; the
gradients are centred differences of that loss over the flat parameter vector.
"""
from __future__ import annotations

import numpy as np

from numgan.gradcheck import numerical_gradient

OBJECTIVES = ("non_saturating", "least_squares")        # as in the probe: the objective of a case by index
D_CASES, G_CASES = ("d1", "d2"), ("g1", "g2")


def softplus(t: np.ndarray) -> np.ndarray:
    """``log(1 + exp(t))`` without overflow."""
    return np.logaddexp(0.0, t)


# -- non_saturating ------------------------------------------------------------------------------

def d_loss_formula(s_r: np.ndarray, s_f: np.ndarray, target: float) -> float:
    """``E[bce(s_r, target)] + E[bce(s_f, 0)]`` with ``bce(s, y) = softplus(s) - y s``."""
    return float(np.mean(softplus(s_r) - target * s_r) + np.mean(softplus(s_f)))


def g_loss_formula(s_f: np.ndarray) -> float:
    """``-E[log sigmoid(s_f)] = E[softplus(-s_f)]``."""
    return float(np.mean(softplus(-s_f)))


def non_saturating_expected(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    s_r, s_f, far = (inputs[k].astype(np.float64) for k in ("s_real", "s_fake", "s_far"))
    out: dict[str, np.ndarray] = {}
    for tag, target in (("1", 1.0), ("t", float(inputs["target"]))):
        out[f"d_loss_{tag}"] = np.asarray(d_loss_formula(s_r, s_f, target))
        out[f"d_ds_real_{tag}"] = numerical_gradient(lambda a: d_loss_formula(a, s_f, target), s_r.copy())
        out[f"d_ds_fake_{tag}"] = numerical_gradient(lambda a: d_loss_formula(s_r, a, target), s_f.copy())
    out["g_loss"] = np.asarray(g_loss_formula(s_f))
    out["g_ds_fake"] = numerical_gradient(g_loss_formula, s_f.copy())
    out["g_far_loss"] = np.asarray(g_loss_formula(far))
    # far in the reject region softplus(-s) ~ -s: centred differences of numbers near 1000 lose digits, so the
    # formula dL/ds = -(1 - sigmoid(s)) / N = -1 / (N (1 + exp(s))) (exp(s) underflows to 0 there: -1/N exactly)
    out["g_far_ds"] = -1.0 / (far.size * (1.0 + np.exp(far)))
    return out


# -- gan_step -------------------------------------------------------------------------------------

def mlp_forward(flat: np.ndarray, sizes: list[int], x: np.ndarray) -> np.ndarray:
    """A tanh MLP (no output activation) with the flat parameters of ``Sequential.params``."""
    h, start = x, 0
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = flat[start:start + a * b].reshape(a, b)
        bias = flat[start + a * b:start + a * b + b]
        start += a * b + b
        h = h @ W + bias
        if k < len(sizes) - 2:
            h = np.tanh(h)
    return h


def _case(inputs: dict[str, np.ndarray], case: str) -> tuple[int, int, int, int, str, list[int], list[int]]:
    z_dim, data_dim, n_classes, pack, objective = (int(v) for v in inputs[f"{case}_config"])
    return (z_dim, data_dim, n_classes, pack, OBJECTIVES[objective],
            [int(s) for s in inputs[f"{case}_g_sizes"]], [int(s) for s in inputs[f"{case}_d_sizes"]])


def _with_labels(x: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    return np.concatenate([x, np.eye(n_classes)[labels]], axis=1) if n_classes else x


def _packed(x: np.ndarray, pack: int) -> np.ndarray:
    return x.reshape(x.shape[0] // pack, pack * x.shape[1])


def d_objective(s_r: np.ndarray, s_f: np.ndarray, objective: str, target: float) -> float:
    if objective == "non_saturating":
        return d_loss_formula(s_r, s_f, target)
    return float(0.5 * (np.mean((s_r - 1) ** 2) + np.mean(s_f ** 2)))


def g_objective(s_f: np.ndarray, objective: str) -> float:
    if objective == "non_saturating":
        return g_loss_formula(s_f)
    return float(0.5 * np.mean((s_f - 1) ** 2))


def d_scores(inputs: dict[str, np.ndarray], case: str, d_flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """D's scores of the real half and the fake half of ``x`` (with the labels, packed)."""
    _, _, n_classes, pack, _, _, d_sizes = _case(inputs, case)
    x, labels = inputs[f"{case}_x"], inputs[f"{case}_labels"]
    n = x.shape[0] // 2
    both = np.concatenate([labels, labels]) if n_classes else labels
    s = mlp_forward(d_flat, d_sizes, _packed(_with_labels(x, both, n_classes), pack))
    return s[: n // pack], s[n // pack:]


def d_loss(inputs: dict[str, np.ndarray], case: str, d_flat: np.ndarray, smoothing: float | None = None) -> float:
    """D's loss of ``case`` with D's parameters ``d_flat`` (and the label smoothing of the case, or ``smoothing``)."""
    objective = _case(inputs, case)[4]
    smooth = float(inputs[f"{case}_smoothing"]) if smoothing is None else smoothing
    s_r, s_f = d_scores(inputs, case, d_flat)
    return d_objective(s_r, s_f, objective, 1 - smooth)


def instance_noise(inputs: dict[str, np.ndarray], case: str) -> np.ndarray:
    """The instance noise of a G case: the first draw of the seed's generator, times the std (0: none)."""
    z = inputs[f"{case}_z"]
    data_dim, std = int(inputs[f"{case}_config"][1]), float(inputs[f"{case}_noise"])
    if std <= 0:
        return np.zeros((z.shape[0], data_dim))
    return std * np.random.default_rng(int(inputs[f"{case}_seed"])).standard_normal((z.shape[0], data_dim))


def g_loss(inputs: dict[str, np.ndarray], case: str, g_flat: np.ndarray, noise: np.ndarray) -> float:
    """G's loss of ``case`` with G's parameters ``g_flat``, through D, with the instance ``noise`` held fixed."""
    _, _, n_classes, pack, objective, g_sizes, d_sizes = _case(inputs, case)
    labels = inputs[f"{case}_labels"]
    fake = mlp_forward(g_flat, g_sizes, _with_labels(inputs[f"{case}_z"], labels, n_classes))
    s_f = mlp_forward(inputs[f"{case}_d_params"], d_sizes, _packed(_with_labels(fake + noise, labels, n_classes), pack))
    return g_objective(s_f, objective)


def _d_gradient(inputs: dict[str, np.ndarray], case: str) -> np.ndarray:
    """Centred differences of D's loss over D's flat parameters."""
    def loss(theta: np.ndarray) -> float:
        return d_loss(inputs, case, theta)

    return numerical_gradient(loss, inputs[f"{case}_d_params"].astype(np.float64).copy())


def _g_gradient(inputs: dict[str, np.ndarray], case: str, noise: np.ndarray) -> np.ndarray:
    """Centred differences of G's loss over G's flat parameters, the instance noise held fixed."""
    def loss(theta: np.ndarray) -> float:
        return g_loss(inputs, case, theta, noise)

    return numerical_gradient(loss, inputs[f"{case}_g_params"].astype(np.float64).copy())


def gan_step_expected(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for case in D_CASES:
        d_flat = inputs[f"{case}_d_params"]
        out[f"{case}_s_real"], out[f"{case}_s_fake"] = d_scores(inputs, case, d_flat)
        out[f"{case}_loss"] = np.asarray(d_loss(inputs, case, d_flat))
        out[f"{case}_grads"] = _d_gradient(inputs, case)
        out[f"{case}_loss_unsmoothed"] = np.asarray(d_loss(inputs, case, d_flat, smoothing=0.0))
    for case in G_CASES:
        g_flat, noise = inputs[f"{case}_g_params"], instance_noise(inputs, case)
        out[f"{case}_loss"] = np.asarray(g_loss(inputs, case, g_flat, noise))
        out[f"{case}_grads"] = _g_gradient(inputs, case, noise)
        out[f"{case}_loss_without_noise"] = np.asarray(g_loss(inputs, case, g_flat, np.zeros_like(noise)))
    return out


ANSWERS = {"non_saturating": non_saturating_expected, "gan_step": gan_step_expected}
