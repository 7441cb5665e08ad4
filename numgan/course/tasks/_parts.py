"""The judge's side of :mod:`numgan.course.probes._parts`: a part whose code raised fails with the error's message."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..compare import Wrong

MAX_MESSAGE = 400


def raised(got: dict[str, Any], prefix: str, what: str) -> None:
    """``Wrong`` with the error's message if the probe reported that the code of this part raised."""
    code = got.get(f"{prefix}error")
    if code is None:
        return
    text = "an error"
    if isinstance(code, np.ndarray) and code.ndim == 1 and code.dtype.kind in "iu" and code.size <= MAX_MESSAGE \
            and bool(np.all((code >= 0) & (code < 256))):
        text = bytes(code.astype(np.uint8).tolist()).decode("utf-8", "replace")
    text = " ".join(text.split())
    if text.startswith("NotImplementedError"):
        raise Wrong(f"{what}: not done yet: {text.partition(': ')[2] or text}")
    raise Wrong(f"{what} raised {text}")


def parameter_name(index: int, sizes: list[int]) -> str:
    """The entry ``index`` of an MLP's flat parameters (``Sequential.params``), e.g. ``"2.W[1, 0]"``.

    The MLP is Dense layers between activations, so Dense layer ``j`` is the
    network's layer ``2 j``; each holds ``W`` (in, out) then ``b`` (out,).
    """
    start = 0
    for j, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        if index < start + a * b:
            row, col = divmod(index - start, b)
            return f"{2 * j}.W[{row}, {col}]"
        if index < start + a * b + b:
            return f"{2 * j}.b[{index - start - a * b}]"
        start += a * b + b
    return f"entry {index}"


def flat_gradients(got: dict[str, Any], key: str, expected: np.ndarray, sizes: list[int], what: str,
                   label: str) -> None:
    """``gradients`` on a flat parameter gradient, naming the parameter where it is most off."""
    from ..compare import gradients

    try:
        gradients(got, {key: expected}, what, names={key: label})
    except Wrong as err:
        mine = got.get(key)
        if isinstance(mine, np.ndarray) and mine.shape == expected.shape and mine.size:
            with np.errstate(invalid="ignore", over="ignore"):
                diff = np.nan_to_num(np.abs(mine.astype(np.float64) - expected), nan=np.inf)
            raise Wrong(f"{err}; worst at {parameter_name(int(np.argmax(diff)), sizes)}", err.report) from None
        raise
