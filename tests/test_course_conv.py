"""The course checks of the convolution exercises, conv_forward and conv_backward (numgan/conv.py, notebook 10).

As for the other exercises (test_course_exercises_a.py): the instructor's
code gets full points on the public seed and on others; a realistic student
bug loses its part and only that part, in the self-check and in the grader
(where it costs no other exercise); an unfinished block is an error with no
points; outputs hard-coded for the public seed fail on another seed; the
student edition blanks both solutions and raises their level-1 hints.
"""
from __future__ import annotations

import inspect
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from conftest import assert_a_bug_loses_its_part_only
from numgan import conv
from numgan.course.answers import expected
from numgan.course.compare import PartResult
from numgan.course.edition import make_student, package_blocks
from numgan.course.exercises import exercise
from numgan.course.grading import Grader
from numgan.course.probes import run_probe
from numgan.course.selfcheck import run_check
from numgan.course.tasks import public_seed, task

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["conv_forward", "conv_backward"]


def judge(name: str, seed: int, got: dict[str, Any] | None = None) -> list[PartResult]:
    the_task = task(name)
    inputs = the_task.inputs(np.random.default_rng(seed))
    if got is None:
        got = run_probe(name, {k: v.copy() for k, v in inputs.items()})
    return the_task.judge(inputs, got, expected(name, inputs))


# -- the table and the blocks ------------------------------------------------------------------------------

def test_the_rows_name_the_blocks_of_conv_py_and_the_notebook_10():
    assert [p.name for p in exercise("conv_forward").parts] == ["stride 1", "stride 2 and padding"]
    assert [p.name for p in exercise("conv_backward").parts] == ["dx", "dW", "db"]
    located = {f"{p.relative_to(ROOT).as_posix()}:{b.function}" for p, pairs in package_blocks(ROOT).items()
               for b, _ in pairs if p.name == "conv.py"}
    assert located == {"numgan/conv.py:im2col", "numgan/conv.py:Conv2d.linear_forward",
                       "numgan/conv.py:Conv2d.backward"}
    assert exercise("conv_forward").notebook == exercise("conv_backward").notebook == "10"
    assert (ROOT / "notebooks" / "10_convolution_by_hand.ipynb").is_file()


def test_the_inputs_cover_the_strides_paddings_and_unread_rows():
    for seed in range(20):
        inputs = task("conv_forward").inputs(np.random.default_rng(seed))
        confs = [tuple(int(v) for v in inputs[f"conf_{i}"]) for i in range(3)]
        assert confs[0][1:] == (1, 0) and confs[1][1:] == (2, 1) and confs[2][2] == 0 and confs[2][1] in (2, 3)
        k, s, _ = confs[2]
        h, w = inputs["x_2"].shape[2:]
        assert (h - k) % s and (w - k) % s and h != w, (seed, h, w, k, s)
        for i in range(3):
            assert inputs[f"x_{i}"].shape[2] != inputs[f"x_{i}"].shape[3]


# -- the instructor's code -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_solution_gets_full_points(name: str) -> None:
    result = run_check(name)
    assert result["status"] == "passed", result
    assert result["points"] == exercise(name).points
    assert [p["part"] for p in result["parts"]] == [p.name for p in exercise(name).parts]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1, 123, 2**40 + 7])
def test_solution_passes_on_other_seeds(name: str, seed: int) -> None:
    parts = judge(name, seed)
    assert all(p.passed for p in parts), [(p.part, p.message) for p in parts]


@pytest.mark.parametrize("name", NAMES)
def test_probe_outputs_are_numbers(name: str) -> None:
    inputs = task(name).inputs(np.random.default_rng(public_seed(name)))
    for key, value in run_probe(name, inputs).items():
        assert isinstance(value, np.ndarray) and value.dtype.kind in "fbiu", key


# -- realistic bugs, one part each ---------------------------------------------------------------------------

def _forward_columns_not_strided(self: conv.Conv2d, x: np.ndarray) -> tuple[np.ndarray, Any]:
    W, p, k, s = self.params["W"], self.padding, self.kernel_size, self.stride
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    windows = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::s, :]      # the columns' stride forgotten
    n, c, h_out, w_out = windows.shape[:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h_out * w_out, c * k * k)
    y = cols @ W.reshape(self.out_channels, -1).T
    return np.ascontiguousarray(y.reshape(n, h_out, w_out, self.out_channels).transpose(0, 3, 1, 2)), (cols, x.shape)


def _forward_without_padding(self: conv.Conv2d, x: np.ndarray) -> tuple[np.ndarray, Any]:
    W = self.params["W"]
    n, k = x.shape[0], self.kernel_size
    cols = conv.im2col(x, k, self.stride)                                  # x not padded
    h_out, w_out = (x.shape[2] - k) // self.stride + 1, (x.shape[3] - k) // self.stride + 1
    y = cols @ W.reshape(self.out_channels, -1).T
    return np.ascontiguousarray(y.reshape(n, h_out, w_out, self.out_channels).transpose(0, 3, 1, 2)), (cols, x.shape)


def _backward_by_full_convolution(flip: bool = True, dilate: bool = True) -> Any:
    """Conv2d.backward with dx written as the full convolution of dy (dilated by s) with the flipped kernel.

    ``flip=False``: the kernel is not flipped; ``dilate=False``: dy is not spread out by the stride (the
    result is padded with zeros to the right size, so the shapes still fit).
    """
    right = conv.Conv2d.backward

    def backward(self: conv.Conv2d, dy: np.ndarray, cache: Any, *, param_grads: bool = True,
                 out: dict[str, np.ndarray] | None = None, input_grad: bool = True) -> Any:
        _, grads = right(self, dy, cache, param_grads=param_grads, out=out, input_grad=False)
        if not input_grad:
            return None, grads
        (n, c_in, h, w), k, s, p = cache[1], self.kernel_size, self.stride, self.padding
        W = self.params["W"]
        if dilate:
            d = np.zeros((n, self.out_channels, s * (dy.shape[2] - 1) + 1, s * (dy.shape[3] - 1) + 1))
            d[:, :, ::s, ::s] = dy
        else:
            d = dy
        kernel = W[:, :, ::-1, ::-1] if flip else W
        full = np.pad(d, ((0, 0), (0, 0), (k - 1, k - 1), (k - 1, k - 1)))
        windows = sliding_window_view(full, (k, k), axis=(2, 3))          # (N, C_out, ., ., k, k)
        dxp = np.einsum("noijuv,ocuv->ncij", windows, kernel)
        padded = np.zeros((n, c_in, h + 2 * p, w + 2 * p))
        rows, cols = min(dxp.shape[2], h + 2 * p), min(dxp.shape[3], w + 2 * p)
        padded[:, :, :rows, :cols] = dxp[:, :, :rows, :cols]                # unread rows get 0
        return np.ascontiguousarray(padded[:, :, p:p + h, p:p + w]), grads

    return backward


def _backward_dW_transposed(self: conv.Conv2d, dy: np.ndarray, cache: Any, *, param_grads: bool = True,
                            out: dict[str, np.ndarray] | None = None, input_grad: bool = True) -> Any:
    dx, grads = _RIGHT_BACKWARD(self, dy, cache, param_grads=param_grads, out=out, input_grad=input_grad)
    if grads:
        dY = dy.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)
        grads["W"][...] = (cache[0].T @ dY).reshape(grads["W"].shape)    # (C_in k k, C_out) read as (C_out, ...)
    return dx, grads


def _backward_db_not_into_out(self: conv.Conv2d, dy: np.ndarray, cache: Any, *, param_grads: bool = True,
                              out: dict[str, np.ndarray] | None = None, input_grad: bool = True) -> Any:
    dx, grads = _RIGHT_BACKWARD(self, dy, cache, param_grads=param_grads, out=None, input_grad=input_grad)
    if out is not None and grads:
        out["W"][...] = grads["W"]                                          # dW copied, db forgotten
        return dx, out
    return dx, grads


_RIGHT_BACKWARD = conv.Conv2d.backward

BUGS: list[tuple[str, str, list[tuple[Any, str, Any]], str]] = [
    ("conv_forward", "the stride applied to the rows only",
     [(conv.Conv2d, "linear_forward", _forward_columns_not_strided)],
     "stride 2 and padding"),
    ("conv_forward", "x not padded", [(conv.Conv2d, "linear_forward", _forward_without_padding)],
     "stride 2 and padding"),
    ("conv_backward", "the kernel not flipped", [(conv.Conv2d, "backward", _backward_by_full_convolution(flip=False))],
     "dx"),
    ("conv_backward", "dy not dilated by the stride",
     [(conv.Conv2d, "backward", _backward_by_full_convolution(dilate=False))], "dx"),
    ("conv_backward", "dW as cols.T @ dY", [(conv.Conv2d, "backward", _backward_dW_transposed)], "dW"),
    ("conv_backward", "db not written into out", [(conv.Conv2d, "backward", _backward_db_not_into_out)], "db"),
]


def test_the_full_convolution_with_the_flipped_kernel_is_right():
    # the bugs below are mistakes in this formulation, which passes when written right
    for owner, attr, fn in [(conv.Conv2d, "backward", _backward_by_full_convolution())]:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(owner, attr, fn)
            assert run_check("conv_backward")["status"] == "passed"


@pytest.mark.parametrize("name, bug, patches, failing", BUGS, ids=[f"{b[0]}: {b[1]}" for b in BUGS])
def test_a_bug_loses_its_part_only(monkeypatch: pytest.MonkeyPatch, name: str, bug: str,
                                   patches: list[tuple[Any, str, Any]], failing: str) -> None:
    assert_a_bug_loses_its_part_only(monkeypatch, name, patches, failing)


# -- the edition and the grader ------------------------------------------------------------------------------

def test_the_edition_blanks_the_convolution_and_raises_the_hints(tmp_path):
    make_student(tmp_path / "student", notebooks=False)
    text = (tmp_path / "student" / "numgan" / "conv.py").read_text()
    for name in NAMES:
        assert f"Exercise {name}:" in text
        assert exercise(name).hints[2][:40] not in text
    for line in ("cols = im2col(xp, k, self.stride)", "self._weight_product(dY.T, cols, grads[\"W\"])",
                 "windows = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]",
                 "dxp = col2im_t(dcols_t, (n, self.in_channels, h + 2 * p, w + 2 * p), k, s)"):
        assert line in inspect.getsource(conv) and line not in text, line
    assert "def col2im_t(" in text and "class ConvTranspose2d" in text     # the helpers and the adjoint stay
    assert text.count("raise NotImplementedError(") == 3


def _submission(tmp_path: Path, instructor: Path, name: str, old: str = "", new: str = "") -> Path:
    sub = tmp_path / name
    shutil.copytree(instructor / "numgan", sub / "numgan", ignore=shutil.ignore_patterns("__pycache__", "answers"))
    if old:
        path = sub / "numgan" / "conv.py"
        text = path.read_text()
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new))
    return sub


def _points(result: dict) -> dict[str, int]:
    return {f"{e['exercise']}: {p['part']}": p["points"] for e in result["exercises"] for p in e["parts"]}


GRADED = ["conv_forward", "conv_backward", "dense_backward"]
FULL = {"conv_forward: stride 1": 1, "conv_forward: stride 2 and padding": 1, "conv_backward: dx": 1,
        "conv_backward: dW": 1, "conv_backward: db": 1, "dense_backward: dx": 1, "dense_backward: dW and db": 1}


@pytest.mark.parametrize("old, new, lost", [
    # the scatter of col2im with stride 1: dcols lands on overlapping windows, not on the strided ones
    ("dxp = col2im_t(dcols_t, (n, self.in_channels, h + 2 * p, w + 2 * p), k, s)",
     "dxp = col2im_t(dcols_t, (n, self.in_channels, (h_o - 1) + k, (w_o - 1) + k), k, 1)\n"
     "            dxp = np.pad(dxp, ((0, 0), (0, 0), (0, h + 2 * p - dxp.shape[2]), (0, w + 2 * p - dxp.shape[3])))",
     ["conv_backward: dx"]),
    ("np.sum(dy, axis=(0, 2, 3), out=grads[\"b\"])\n        return dx, grads\n        ### END SOLUTION",
     "np.mean(dy, axis=(0, 2, 3), out=grads[\"b\"])\n        return dx, grads\n        ### END SOLUTION",
     ["conv_backward: db"]),
    ("y = cols @ W.reshape(self.out_channels, -1).T  ", "y = cols @ W.reshape(self.out_channels, -1).T * 2",
     ["conv_forward: stride 1", "conv_forward: stride 2 and padding"]),
], ids=["dx without stride dilation", "db a mean", "forward twice the product"])
def test_the_grader_takes_the_part_of_a_wrong_conv_and_nothing_else(instructor, tmp_path, old, new, lost):
    grader = Grader(instructor, timeout=20)
    if "h_o" in new:       # the dilation-free scatter needs the output size; written where dY is made
        sub = _submission(tmp_path, instructor, "carol", old, new)
        path = sub / "numgan" / "conv.py"
        text = path.read_text()
        anchor = "dY = dy.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)"
        assert text.count(anchor) == 1
        path.write_text(text.replace(anchor, anchor + "\n        h_o, w_o = dy.shape[2:]"))
    else:
        sub = _submission(tmp_path, instructor, "carol", old, new)
    result = grader.grade(sub, GRADED)
    assert _points(result) == dict(FULL, **{part: 0 for part in lost}), result
