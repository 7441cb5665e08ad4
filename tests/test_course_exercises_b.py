"""The course kit's package exercises of group B: the GAN losses and step, the penalties, the classifier's loop.

For each exercise: the instructor's code passes its self-check with full
points; a realistic mistake in one part (the function's body rewritten, as a
student would write it) loses exactly that part; an unfinished block is an
error worth nothing; the outputs of the public inputs, hard-coded, fail on
other inputs.
"""
from __future__ import annotations

import inspect
import re
import textwrap
from typing import Any, Callable

import numpy as np
import pytest

import numgan.classifier as classifier
import numgan.objectives as objectives
import numgan.penalties as penalties
from numgan.course.answers import expected
from numgan.course.exercises import EXERCISES_BY_NAME, exercise
from numgan.course.probes import run_probe
from numgan.course import selfcheck
from numgan.course.selfcheck import run_check
from numgan.course.tasks import public_seed, task
from numgan.gan import GAN

NAMES = ("non_saturating", "gan_step", "r1_penalty", "wgan_gp", "classifier_training")


def mutant(func: Callable[..., Any], old: str, new: str) -> Callable[..., Any]:
    """``func`` compiled again, in its own module's globals, with ``old`` replaced by ``new`` in its source."""
    source = textwrap.dedent(inspect.getsource(func))
    assert source.count(old) == 1, f"{old!r} is not once in {func.__qualname__}"
    namespace = dict(func.__globals__)
    exec(compile(source.replace(old, new), f"<mutant of {func.__qualname__}>", "exec"), namespace)
    result: Callable[..., Any] = namespace[func.__name__]
    return result


def rewrite(monkeypatch: pytest.MonkeyPatch, func: Callable[..., Any], old: str, new: str) -> None:
    """Give ``func`` the body of its mutant (every reference to it, a table's included, sees the change)."""
    monkeypatch.setattr(func, "__code__", mutant(func, old, new).__code__)


def unfinished(monkeypatch: pytest.MonkeyPatch, func: Callable[..., Any], name: str) -> None:
    """Replace the marked blocks of ``func`` by the student edition's ``raise NotImplementedError``."""
    source = textwrap.dedent(inspect.getsource(func))
    pattern = re.compile(r"^( *)### BEGIN SOLUTION\n.*?^ *### END SOLUTION\n", re.M | re.S)
    assert pattern.search(source), f"{func.__qualname__} has no marked block"
    edited = pattern.sub(lambda m: f"{m.group(1)}raise NotImplementedError('Exercise {name}: not done')\n", source)
    namespace = dict(func.__globals__)
    exec(compile(edited, f"<edition of {func.__qualname__}>", "exec"), namespace)
    monkeypatch.setattr(func, "__code__", namespace[func.__name__].__code__)


def references_before_the_change(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The self-check's expected outputs for ``name``, computed now: a reference that runs the instructor's
    function (the classifier's) must not see the change a test makes to it (in grading it runs in another
    process, on the instructor's tree)."""
    inputs = task(name).inputs(np.random.default_rng(public_seed(name)))
    frozen = expected(name, inputs)
    monkeypatch.setattr(selfcheck, "expected_outputs", lambda n, i: frozen if n == name else expected(n, i))


def points(result: dict[str, Any]) -> dict[str, int]:
    return {p["part"]: p["points"] for p in result["parts"]}


def lost_exactly(name: str, part: str) -> dict[str, Any]:
    """Check ``name`` and assert that exactly ``part`` failed (the other parts keep their points)."""
    result = run_check(name)
    ex = exercise(name)
    assert result["status"] == "failed", result
    got = points(result)
    for p in ex.parts:
        assert got[p.name] == (0 if p.name == part else p.points), (p.name, result)
    return next(p for p in result["parts"] if p["part"] == part)


# -- the instructor's code, unfinished blocks, hard-coded outputs --------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_the_instructors_code_gets_full_points(name: str) -> None:
    result = run_check(name)
    assert result["status"] == "passed", result
    assert result["points"] == exercise(name).points


@pytest.mark.parametrize("name", NAMES)
def test_uses_and_parts_are_known_exercises(name: str) -> None:
    ex = exercise(name)
    assert all(other in EXERCISES_BY_NAME for other in ex.uses)
    assert ex.task in ("gan", "penalties", "classifier")


UNFINISHED = {
    "non_saturating": [(objectives, "cross_entropy_discriminator"), (objectives, "non_saturating_generator")],
    "gan_step": [(GAN, "discriminator_loss_gradients"), (GAN, "generator_loss_gradients")],
    "r1_penalty": [(penalties, "penalty_weight_gradients")],
    "wgan_gp": [(penalties, "wgan_gp_penalty")],
    "classifier_training": [(classifier, "train_classifier")],
}


@pytest.mark.parametrize("name", NAMES)
def test_an_unfinished_block_is_an_error_worth_nothing(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    for owner, attribute in UNFINISHED[name]:
        unfinished(monkeypatch, getattr(owner, attribute), name)
    result = run_check(name)
    assert result["status"] == "error" and result["points"] == 0, result
    assert f"Exercise {name}" in result["message"]


@pytest.mark.parametrize("name", NAMES)
def test_hard_coded_public_outputs_fail_on_other_inputs(name: str) -> None:
    the_task = task(name)
    public = the_task.inputs(np.random.default_rng(public_seed(name)))
    hard_coded = run_probe(name, {k: v.copy() for k, v in public.items()})    # what a student could paste in
    assert all(p.passed for p in the_task.judge(public, hard_coded, expected(name, public)))
    other = the_task.inputs(np.random.default_rng(123))
    verdict = the_task.judge(other, hard_coded, expected(name, other))
    assert [p.part for p in verdict] == [p.name for p in exercise(name).parts]
    assert not any(p.passed for p in verdict), verdict


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("got", [{}, {"x": 1}, "garbage"])
def test_the_judge_never_crashes_on_hostile_outputs(name: str, got: Any) -> None:
    the_task = task(name)
    inputs = the_task.inputs(np.random.default_rng(5))
    outputs = got if isinstance(got, dict) else {k: got for k in expected(name, inputs)}
    verdict = the_task.judge(inputs, outputs, expected(name, inputs))
    assert len(verdict) == len(exercise(name).parts) and not any(p.passed for p in verdict)
    assert all(p.message and "\n" not in p.message for p in verdict)


def test_inputs_vary_with_the_seed() -> None:
    for name in NAMES:
        a, b = (task(name).inputs(np.random.default_rng(s)) for s in (1, 2))
        assert any(a[k].shape != b[k].shape or not np.array_equal(a[k], b[k]) for k in a), name


# -- non_saturating -----------------------------------------------------------------------------

def test_non_saturating_without_label_smoothing_loses_the_d_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    rewrite(monkeypatch, objectives.cross_entropy_discriminator, "bce_with_logits(s_r, real_target)",
            "bce_with_logits(s_r, 1.0)")
    failed = lost_exactly("non_saturating", "D loss")
    assert "label smoothing" in failed["message"]


def test_non_saturating_with_the_minimax_g_loss_loses_the_g_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    rewrite(monkeypatch, objectives.non_saturating_generator, "return bce_with_logits(s_f, 1.0)",
            "value, ds = bce_with_logits(s_f, 0.0)\n    return -value, -ds")
    lost_exactly("non_saturating", "G loss")


def test_a_saturating_g_loss_is_caught_far_from_the_real_data(monkeypatch: pytest.MonkeyPatch) -> None:
    # the textbook formula: right near 0, but log(sigmoid(-1000)) = -inf and its gradient vanishes
    rewrite(monkeypatch, objectives.non_saturating_generator, "return bce_with_logits(s_f, 1.0)",
            "p = 1 / (1 + np.exp(-s_f))\n    return float(-np.mean(np.log(p))), -(1 - p) / s_f.size * (p > 1e-300)")
    failed = lost_exactly("non_saturating", "G loss")
    assert "-1000" in failed["message"]


# -- gan_step ------------------------------------------------------------------------------------

D_STEP, G_STEP = GAN.discriminator_loss_gradients, GAN.generator_loss_gradients


def test_a_no_op_gan_step_gets_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    rewrite(monkeypatch, D_STEP, "n = x.shape[0] // 2\n",
            "n = x.shape[0] // 2\n    s = np.zeros((n // self.config.pack, 1))\n"
            "    return 0.0, self.D.params.zeros_like(), s, s\n")
    rewrite(monkeypatch, G_STEP, "n = z.shape[0]\n", "n = z.shape[0]\n    return 0.0, self.G.params.zeros_like()\n")
    result = run_check("gan_step")
    assert result["status"] == "failed" and result["points"] == 0, result


@pytest.mark.parametrize("old, new, why", [
    ("1 - self.config.label_smoothing)", "1.0)", "without label smoothing"),
    ("_, grads = self.D.backward(np.concatenate([ds_real, ds_fake])",
     "_, grads = self.D.backward(-np.concatenate([ds_real, ds_fake])", None),
    ("s_real, s_fake = s[: n // pack], s[n // pack:]", "s_fake, s_real = s[: n // pack], s[n // pack:]", None),
])
def test_a_wrong_d_step_loses_the_d_step_only(monkeypatch: pytest.MonkeyPatch, old: str, new: str,
                                              why: str | None) -> None:
    rewrite(monkeypatch, D_STEP, old, new)
    failed = lost_exactly("gan_step", "D step")
    if why:
        assert why in failed["message"]


@pytest.mark.parametrize("old, new, why", [
    ("x = self._with_instance_noise(fake, rng)", "x = fake", "without the instance noise"),
    ("dx, _ = self.D.backward(ds_fake, cache_D, param_grads=False)",
     "dx, _ = self.D.backward(-ds_fake, cache_D, param_grads=False)", None),
    ("loss, ds_fake = generator_loss(s_fake, self.config.objective)",
     "loss, ds_fake = generator_loss(s_fake, 'minimax')", None),
    # the D's weight gradients instead of G's: wrong layout and values, D's part is not touched
    ("_, grads = self.G.backward(np.ascontiguousarray(dfake), cache_G, input_grad=False, out=out)",
     "_, grads = self.D.backward(ds_fake, cache_D)", None),
])
def test_a_wrong_g_step_loses_the_g_step_only(monkeypatch: pytest.MonkeyPatch, old: str, new: str,
                                              why: str | None) -> None:
    rewrite(monkeypatch, G_STEP, old, new)
    failed = lost_exactly("gan_step", "G step")
    if why:
        assert why in failed["message"]


def test_a_g_step_not_done_keeps_the_d_steps_points(monkeypatch: pytest.MonkeyPatch) -> None:
    unfinished(monkeypatch, G_STEP, "gan_step")
    failed = lost_exactly("gan_step", "G step")
    assert "not done yet" in failed["message"] and "Exercise gan_step" in failed["message"]


def test_a_g_step_that_raises_keeps_the_d_steps_points(monkeypatch: pytest.MonkeyPatch) -> None:
    # the label columns of dx not cut off: G.backward gets dx of the wrong width and raises
    rewrite(monkeypatch, G_STEP, "dfake = dx.reshape(n, -1)[:, :self.data_dim]", "dfake = dx.reshape(n, -1)")
    failed = lost_exactly("gan_step", "G step")
    assert "raised ValueError" in failed["message"]


def test_both_steps_not_done_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    unfinished(monkeypatch, D_STEP, "gan_step")
    unfinished(monkeypatch, G_STEP, "gan_step")
    result = run_check("gan_step")
    assert result["status"] == "error" and result["points"] == 0 and "not done yet" in result["message"]


def test_a_g_step_that_updates_d_loses_the_g_step(monkeypatch: pytest.MonkeyPatch) -> None:
    rewrite(monkeypatch, G_STEP, "return loss, grads", "self.D.flat_params[...] *= 0.5\n    return loss, grads")
    failed = lost_exactly("gan_step", "G step")
    assert "changed the parameters" in failed["message"]


def test_the_gan_step_reference_sees_the_noise_and_the_smoothing() -> None:
    inputs = task("gan_step").inputs(np.random.default_rng(7))
    out = expected("gan_step", inputs)
    assert abs(float(out["g1_loss"]) - float(out["g1_loss_without_noise"])) > 1e-3
    assert abs(float(out["d1_loss"]) - float(out["d1_loss_unsmoothed"])) > 1e-3


# -- r1_penalty and wgan_gp ----------------------------------------------------------------------

PWG = penalties.penalty_weight_gradients


def test_r1_with_a_broken_first_sweep_loses_sweep_1_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # rebinding the name instead of adding into the view of the flat buffer: dW stays 0
    rewrite(monkeypatch, PWG, "dW += a.T @ deltas[k + 1]", "dW = dW + a.T @ deltas[k + 1]")
    lost_exactly("r1_penalty", "sweep 1 (leaky ReLU D)")


@pytest.mark.parametrize("old, new", [
    ("    if injected:                                                # sweep 2",
     "    if False:                                                   # sweep 2"),
    ("            if k in injected:\n                u_bar = u_bar + injected[k]\n", ""),
    ("injected[k] = a * deltas[k + 1] * f2", "injected[k] = a * f2"),
])
def test_r1_with_wrong_f2_terms_loses_sweep_2_only(monkeypatch: pytest.MonkeyPatch, old: str, new: str) -> None:
    rewrite(monkeypatch, PWG, old, new)
    lost_exactly("r1_penalty", "sweep 2, f'' terms (tanh D)")


def test_r1_with_a_second_sweep_that_raises_keeps_sweep_1(monkeypatch: pytest.MonkeyPatch) -> None:
    rewrite(monkeypatch, PWG, "u_bar = injected[top]", "u_bar = injected[top].T")
    failed = lost_exactly("r1_penalty", "sweep 2, f'' terms (tanh D)")
    assert "raised" in failed["message"]


def test_the_r1_reference_separates_the_two_sweeps() -> None:
    inputs = task("r1_penalty").inputs(np.random.default_rng(11))
    out = expected("r1_penalty", inputs)
    f2 = out["tanh_second_sweep_grads"]
    assert np.abs(f2).max() > 1e-3 * np.abs(out["tanh_grads"]).max()
    bias = np.abs(f2).max()       # the f'' terms reach the biases, which sweep 1 never does
    assert bias > 0


@pytest.mark.parametrize("old, new", [
    ("safe = np.where(norm > 0, norm, 1)", "safe = norm"),
    ("dP_dg = (2 * weight / n) * (norm - 1) / safe * g", "dP_dg = (weight / n) * (norm - 1) / safe * g"),
    ("dP_dg = (2 * weight / n) * (norm - 1) / safe * g", "dP_dg = (2 * weight / n) * (norm - 1) * g"),
])
def test_a_wrong_wgan_gp_gradient_fails(monkeypatch: pytest.MonkeyPatch, old: str, new: str) -> None:
    rewrite(monkeypatch, penalties.wgan_gp_penalty, old, new)
    lost_exactly("wgan_gp", "dP/dg")


def test_the_wgan_gp_zero_gradient_case_is_exactly_zero() -> None:
    inputs = task("wgan_gp").inputs(np.random.default_rng(3))
    out = expected("wgan_gp", inputs)
    assert float(out["zero_value"]) == float(inputs["weight"]) and not np.any(out["zero_grads"])


# -- classifier_training -------------------------------------------------------------------------

TRAIN = classifier.train_classifier


@pytest.mark.parametrize("old, new", [
    ("opt.lr = lr * 0.5 * (1 + math.cos(math.pi * t / steps))", "opt.lr = lr"),
    ("if pos + batch > n:", "if pos + batch >= n:"),
    ("if pos + batch > n:", "if pos >= n:"),                     # a short last batch
    ("            order, pos = rng.permutation(n), 0\n", "            pos = 0\n"),   # one permutation for all
    ("        opt.step(grads)\n", "        pass\n"),
])
def test_a_wrong_training_loop_fails(monkeypatch: pytest.MonkeyPatch, old: str, new: str) -> None:
    references_before_the_change(monkeypatch, "classifier_training")
    rewrite(monkeypatch, TRAIN, old, new)
    lost_exactly("classifier_training", "training loop")


def test_an_equivalent_training_loop_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    references_before_the_change(monkeypatch, "classifier_training")
    rewrite(monkeypatch, TRAIN, "opt.lr = lr * 0.5 * (1 + math.cos(math.pi * t / steps))",
            "opt.lr = lr * (1 + math.cos(t / steps * math.pi)) / 2")
    assert run_check("classifier_training")["status"] == "passed"
