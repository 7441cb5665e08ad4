"""The course checks of the layer, loss and optimizer exercises (group A).

For each exercise: the instructor's code gets full points (on the public seed
and on others); a realistic student bug in one part loses that part and only
that part; an unfinished block is an error with no points; outputs
hard-coded for the public seed fail on another seed.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

from conftest import assert_a_bug_loses_its_part_only
from numgan import conv, layers, losses, optim
from numgan.course.answers import expected
from numgan.course.compare import PartResult
from numgan.course.exercises import exercise
from numgan.course.probes import run_probe
from numgan.course.selfcheck import run_check
from numgan.course.tasks import public_seed, task

NAMES = ["leaky_relu", "sigmoid", "tanh_backward", "bce_with_logits", "softmax_cross_entropy", "sgd_momentum",
         "adam", "conv_forward", "conv_backward"]


def judge(name: str, seed: int, got: dict[str, Any] | None = None) -> list[PartResult]:
    """The verdict on the inputs of ``seed``, for ``got`` or else the outputs of the code as it is now."""
    the_task = task(name)
    inputs = the_task.inputs(np.random.default_rng(seed))
    if got is None:
        got = run_probe(name, {k: v.copy() for k, v in inputs.items()})
    return the_task.judge(inputs, got, expected(name, inputs))


# -- the instructor's code ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_solution_gets_full_points(name: str) -> None:
    result = run_check(name)
    assert result["status"] == "passed", result
    assert result["points"] == exercise(name).points
    assert [p["part"] for p in result["parts"]] == [p.name for p in exercise(name).parts]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1, 2, 123, 2**40 + 7])
def test_solution_passes_on_other_seeds(name: str, seed: int) -> None:
    parts = judge(name, seed)
    assert [p.part for p in parts] == [p.name for p in exercise(name).parts]
    assert all(p.passed for p in parts), [(p.part, p.message) for p in parts]


@pytest.mark.parametrize("name", NAMES)
def test_probe_outputs_are_numbers(name: str) -> None:
    inputs = task(name).inputs(np.random.default_rng(public_seed(name)))
    got = run_probe(name, inputs)
    for key, value in got.items():
        assert isinstance(value, np.ndarray) and value.dtype.kind in "fbiu", key


# -- realistic bugs, one part each ---------------------------------------------------------------------

def _leaky_forward_in_place(self: layers.LeakyReLU, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    slope = np.where(x > 0, 1.0, self.alpha).astype(x.dtype)
    x[x < 0] *= self.alpha                                # changes the caller's array
    return x, slope


def _leaky_forward_keeps_state(self: layers.LeakyReLU, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    slope = np.where(x > 0, 1.0, self.alpha).astype(x.dtype)
    self.__dict__["slope"] = slope                        # kept on the layer: overwritten by the next forward
    return x * slope, slope.copy()


def _leaky_backward_from_state(self: layers.LeakyReLU, dy: np.ndarray, cache: Any, *, param_grads: bool = True
                               ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return dy * self.__dict__["slope"], {}


def _leaky_backward_ignores_alpha(self: layers.LeakyReLU, dy: np.ndarray, cache: Any, *, param_grads: bool = True
                                  ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return dy * (cache == 1), {}


def _naive_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _both_branches_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def _float64_sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x.astype(np.float64)))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_backward_of_x(self: layers.Sigmoid, dy: np.ndarray, cache: Any, *, param_grads: bool = True
                           ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    s = layers.stable_sigmoid(cache)                      # treats the cache as x: it is y
    return dy * s * (1 - s), {}


def _tanh_backward_of_x(self: layers.Tanh, dy: np.ndarray, cache: Any, *, param_grads: bool = True
                        ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return dy * (1 - np.tanh(cache) ** 2), {}


def _tanh_backward_float64(self: layers.Tanh, dy: np.ndarray, cache: Any, *, param_grads: bool = True
                           ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return dy * (1 - cache.astype(np.float64) ** 2), {}


_bce, _sce = losses.bce_with_logits, losses.softmax_cross_entropy


def _bce_naive_log(logits: np.ndarray, targets: Any) -> tuple[float, np.ndarray]:
    p = layers.stable_sigmoid(logits)
    loss = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    return float(np.mean(loss)), _bce(logits, targets)[1]


def _bce_gradient_not_averaged(logits: np.ndarray, targets: Any) -> tuple[float, np.ndarray]:
    return _bce(logits, targets)[0], layers.stable_sigmoid(logits) - targets


def _sce_log_of_softmax(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    p = losses.softmax(logits)
    return float(np.mean(-np.log(p[np.arange(len(labels)), labels]))), _sce(logits, labels)[1]


def _sce_shifts_in_place(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    value, grad = _sce(logits, labels)
    logits -= logits.max(axis=1, keepdims=True)
    return value, grad


def _sce_gradient_not_averaged(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    value, grad = _sce(logits, labels)
    return value, grad * logits.shape[0]


def _sgd(plain: str = "v", nesterov: str = "new") -> Callable[..., None]:
    """An SGD update; ``plain="g"`` steps along g without momentum, ``nesterov="old"`` uses the old velocity."""

    def update(self: optim.SGD, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        v = state["velocity"]
        old = v.copy()
        v *= self.momentum
        v += g
        if self.nesterov:
            p -= self.lr * (g + self.momentum * (old if nesterov == "old" else v))
        else:
            p -= self.lr * (g if plain == "g" else v)

    return update


def _sgd_not_in_place(self: optim.SGD, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
    v = state["velocity"]
    v *= self.momentum
    v += g
    p = p - self.lr * v                                   # noqa: F841 - the bug: a new array, lost


def _adam(square: bool = True, correct: bool = True, t_power: bool = True, decay_in_place: bool = False
          ) -> Callable[..., None]:
    """An Adam update, with one of the mistakes a student makes when a flag is turned."""

    def update(self: optim.Adam, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        m, v = state["m"], state["v"]
        if self.weight_decay:
            if decay_in_place:
                g += self.weight_decay * p
            else:
                g = g + self.weight_decay * p
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * (g * g if square else g)
        c1 = 1 - (self.beta1 ** self.t if t_power else self.beta1 * self.t)
        c2 = 1 - (self.beta2 ** self.t if t_power else self.beta2 * self.t)
        if not correct:
            c1 = c2 = 1.0
        with np.errstate(invalid="ignore"):
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)

    return update


BUGS: list[tuple[str, str, list[tuple[Any, str, Any]], str]] = [
    ("leaky_relu", "forward changes x in place", [(layers.LeakyReLU, "forward", _leaky_forward_in_place)], "forward"),
    ("leaky_relu", "backward reads the layer, not the cache",
     [(layers.LeakyReLU, "forward", _leaky_forward_keeps_state),
      (layers.LeakyReLU, "backward", _leaky_backward_from_state)], "backward"),
    ("leaky_relu", "backward forgets alpha", [(layers.LeakyReLU, "backward", _leaky_backward_ignores_alpha)],
     "backward"),
    ("sigmoid", "the naive formula overflows", [(layers, "stable_sigmoid", _naive_sigmoid)], "stable values"),
    ("sigmoid", "np.where computes both branches", [(layers, "stable_sigmoid", _both_branches_sigmoid)],
     "stable values"),
    ("sigmoid", "float32 becomes float64", [(layers, "stable_sigmoid", _float64_sigmoid)], "stable values"),
    ("sigmoid", "backward takes the cache for x", [(layers.Sigmoid, "backward", _sigmoid_backward_of_x)], "backward"),
    ("tanh_backward", "backward takes the cache for x", [(layers.Tanh, "backward", _tanh_backward_of_x)],
     "backward"),
    ("tanh_backward", "float32 becomes float64", [(layers.Tanh, "backward", _tanh_backward_float64)], "backward"),
    ("bce_with_logits", "log of the sigmoid", [(losses, "bce_with_logits", _bce_naive_log)], "value"),
    ("bce_with_logits", "gradient not divided by n", [(losses, "bce_with_logits", _bce_gradient_not_averaged)],
     "gradient"),
    ("softmax_cross_entropy", "log of the softmax", [(losses, "softmax_cross_entropy", _sce_log_of_softmax)],
     "value"),
    ("softmax_cross_entropy", "shifts the caller's logits",
     [(losses, "softmax_cross_entropy", _sce_shifts_in_place)], "value"),
    ("softmax_cross_entropy", "gradient not divided by N",
     [(losses, "softmax_cross_entropy", _sce_gradient_not_averaged)], "gradient"),
    ("sgd_momentum", "plain SGD ignores the velocity", [(optim.SGD, "_update", _sgd(plain="g"))], "momentum"),
    ("sgd_momentum", "Nesterov with the old velocity", [(optim.SGD, "_update", _sgd(nesterov="old"))], "Nesterov"),
    ("adam", "v from g instead of g**2", [(optim.Adam, "_update", _adam(square=False))], "moments"),
    ("adam", "weight decay added into the caller's g", [(optim.Adam, "_update", _adam(decay_in_place=True))],
     "moments"),
    ("adam", "no bias correction", [(optim.Adam, "_update", _adam(correct=False))], "bias correction"),
    ("adam", "beta * t instead of beta ** t", [(optim.Adam, "_update", _adam(t_power=False))], "bias correction"),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the buggy code's own overflow warnings
@pytest.mark.parametrize("name, bug, patches, failing", BUGS, ids=[f"{b[0]}: {b[1]}" for b in BUGS])
def test_a_bug_loses_its_part_only(monkeypatch: pytest.MonkeyPatch, name: str, bug: str,
                                   patches: list[tuple[Any, str, Any]], failing: str) -> None:
    assert_a_bug_loses_its_part_only(monkeypatch, name, patches, failing)


def test_sgd_update_not_in_place_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(optim.SGD, "_update", _sgd_not_in_place)
    result = run_check("sgd_momentum")
    assert result["points"] == 0
    assert all("in place" in p["message"] for p in result["parts"]), result


def test_naive_sigmoid_message_names_the_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layers, "stable_sigmoid", _naive_sigmoid)
    part = run_check("sigmoid")["parts"][0]
    assert "overflows" in part["message"] and "1000" in part["message"], part


# -- unfinished blocks ---------------------------------------------------------------------------------

UNFINISHED = [("leaky_relu", layers.LeakyReLU, "backward"), ("sigmoid", layers, "stable_sigmoid"),
              ("tanh_backward", layers.Tanh, "backward"), ("bce_with_logits", losses, "bce_with_logits"),
              ("softmax_cross_entropy", losses, "softmax_cross_entropy"), ("sgd_momentum", optim.SGD, "_update"),
              ("adam", optim.Adam, "_update"), ("conv_forward", conv.Conv2d, "linear_forward"),
              ("conv_forward", conv, "im2col"), ("conv_backward", conv.Conv2d, "backward")]


@pytest.mark.parametrize("name, owner, attr", UNFINISHED, ids=[f"{u[0]}-{u[2]}" for u in UNFINISHED])
def test_unfinished_block_is_an_error(monkeypatch: pytest.MonkeyPatch, name: str, owner: Any, attr: str) -> None:
    def not_done(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"Exercise {name}: {exercise(name).hint(1)}")

    monkeypatch.setattr(owner, attr, not_done)
    result = run_check(name)
    assert result["status"] == "error" and result["points"] == 0, result
    assert result["message"].startswith(f"not done yet: Exercise {name}"), result["message"]


# -- hard-coded outputs ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_outputs_hard_coded_for_the_public_seed_fail_on_another(name: str) -> None:
    public = task(name).inputs(np.random.default_rng(public_seed(name)))
    hard_coded = run_probe(name, {k: v.copy() for k, v in public.items()})
    assert all(p.passed for p in judge(name, public_seed(name), hard_coded))
    parts = judge(name, 123, hard_coded)
    assert not any(p.passed for p in parts), [(p.part, p.message) for p in parts]


# -- the hints name sections that exist -----------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_hint_anchors_exist(name: str) -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for doc, anchor in re.findall(r"(docs/[\w-]+\.md)#([\w-]+)", " ".join(exercise(name).hints)):
        headings = re.findall(r"^#+ (.+)$", (root / doc).read_text(), flags=re.M)
        slugs = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}
        assert anchor in slugs, f"{name}: {doc}#{anchor} is not a section"
