"""The grading child's main: read a job on stdin, run its probe, write the outputs on the result channel.

The job is ``{"exercise", "inputs", "cell"}`` (``cell``: the source of a
notebook exercise's cell, else ``None``). The result, one JSON document, goes
to the file descriptor that was standard output when the process started;
standard output itself is pointed at standard error first, so nothing the
student prints can be read as a result. The student's code may still forge a
result: it gains nothing, as the grader compares every output with its own
references on inputs drawn from a seed the child never sees.
"""
from __future__ import annotations

import json
import os
import traceback

def _describe(err: BaseException, tree: str) -> str:
    text = str(err).strip() or "(no message)"
    where = ""
    try:
        frames = [f for f in traceback.extract_tb(err.__traceback__)
                  if os.path.abspath(f.filename).startswith(tree.rstrip("/") + "/") or f.filename.startswith("<cell")]
        if frames:
            f = frames[-1]
            name = f.filename if f.filename.startswith("<cell") else os.path.relpath(os.path.abspath(f.filename), tree)
            where = f" (at {name}:{f.lineno}, in {f.name})"
    except Exception:  # noqa: BLE001 - the description is best effort
        pass
    return f"{type(err).__name__}: {text[:2000]}{where}"


def _strip_magics(source: str) -> str:
    return "\n".join("pass  # " + line if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def main(job: dict) -> None:
    """Run ``job`` (read from stdin by the boot code, its ``config`` included) and report on the result fd."""
    result_fd = os.dup(1)
    os.dup2(2, 1)                                       # the student's prints go to stderr
    from . import _guard, _wire, run_probe
    import numpy as np

    config = job.pop("config")
    inputs = _wire.decode(job["inputs"])
    _guard.install(config["read_roots"], config["refused_roots"], result_fd)
    message: dict[str, object]
    try:
        import numgan                                   # the grading copy's (its exercise files the student's)

        if not os.path.abspath(numgan.__file__ or "").startswith(config["tree"].rstrip("/") + "/"):
            raise ImportError(f"the grader imported numgan from {numgan.__file__}, not from the grading copy")
        namespace = None
        if job.get("cell") is not None:
            namespace = {"np": np, "numpy": np, "__name__": "__main__"}
            exec(compile(_strip_magics(job["cell"]), "<cell>", "exec"), namespace)  # noqa: S102 - the point
        message = {"outputs": _wire.encode(run_probe(job["exercise"], inputs, namespace))}
    except BaseException as err:  # noqa: BLE001 - the student's code may raise anything, SystemExit included
        message = {"error": _describe(err, config["tree"])}
    data = json.dumps(message).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(result_fd, view):]
    os._exit(0)                                         # skip the student's atexit hooks and threads
