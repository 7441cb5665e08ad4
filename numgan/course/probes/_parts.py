"""Probing the parts of an exercise one at a time, so that code which raises in one part costs that part only.

``run_parts([(prefix, run), ...])`` calls each ``run()`` (which returns the
part's outputs) and merges the outputs. When a part raises, its outputs are
replaced by ``{prefix + "error": the message as UTF-8 byte values}`` (an int
array: outputs are numbers only) and the other parts are still probed; the
judge turns it into that part's failure (:mod:`numgan.course.tasks._parts`).
When *every* part raises, the first exception is raised again: the whole
exercise is an error (not done yet, or broken), as for a one-part exercise.
"""
from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

#: the longest message kept, in bytes
MAX_MESSAGE = 400


def message(err: BaseException) -> str:
    """``"TypeError: ... (at gan.py:123, in generator_loss_gradients)"``: the error and where the code raised it.

    Frames are walked without reading any source file (the grading child may not read files at will).
    """
    text = f"{type(err).__name__}: {err}"
    frames = [(f.f_code.co_filename.replace("\\", "/"), line, f.f_code.co_name)
              for f, line in traceback.walk_tb(err.__traceback__)]
    frames = [f for f in frames if "numgan/course/" not in f[0] and "numgan_probes/" not in f[0]]
    if frames:
        text += f" (at {Path(frames[-1][0]).name}:{frames[-1][1]}, in {frames[-1][2]})"
    return text


def encode_message(text: str) -> np.ndarray:
    """``text`` (cut to ``MAX_MESSAGE`` bytes) as an int64 array of its UTF-8 bytes."""
    return np.frombuffer(text.encode("utf-8", "replace")[:MAX_MESSAGE], dtype=np.uint8).astype(np.int64)


def run_parts(parts: list[tuple[str, Callable[[], dict[str, Any]]]]) -> dict[str, Any]:
    """Every part's outputs; a part that raised gives ``{prefix + "error": message}`` unless all of them raised."""
    out: dict[str, Any] = {}
    errors: list[Exception] = []
    for prefix, run in parts:
        try:
            out.update(run())
        except Exception as err:  # noqa: BLE001 - the student's code may raise anything
            errors.append(err)
            out[f"{prefix}error"] = encode_message(message(err))
    if errors and len(errors) == len(parts):
        raise errors[0]
    return out
