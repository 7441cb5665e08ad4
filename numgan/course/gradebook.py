"""A class's grades: ``grade-all`` into a CSV, and Gradescope's ``results.json`` for one submission.

The CSV has one row per submission and one column per exercise part
(``"dense_backward: dx"``), then ``total``, ``max`` and ``problems`` (a
submission that could not be graded at all, files it holds that were
ignored, grader files it changed). A submission that fails, crashes or
loops costs its own row only.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Callable

from .exercises import Exercise
from .grading import Grader, select, student_root


def part_columns(exercises: list[Exercise]) -> list[str]:
    """``"exercise: part"`` for every part of every exercise, in table order."""
    return [f"{ex.name}: {p.name}" for ex in exercises for p in ex.parts]


def submissions_in(folder: str | Path) -> list[Path]:
    """The sub-folders of ``folder``, one per submission, sorted by name; ``ValueError`` if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"SUBMISSIONS_DIR must be a folder of submissions, got {folder}")
    subs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subs:
        raise ValueError(f"SUBMISSIONS_DIR {folder} holds no sub-folder (one per submission)")
    return subs


def grade_all(grader: Grader, folder: str | Path, names: list[str] | None = None,
              progress: Callable[[str, dict[str, Any] | None], None] | None = None) -> list[dict[str, Any]]:
    """Grade every submission of ``folder``; one result per submission (``{"student", "error"}`` if it has no package)."""
    results = []
    for sub in submissions_in(folder):
        try:
            student_root(sub)
            result: dict[str, Any] = grader.grade(sub, names, name=sub.name)
        except ValueError as err:
            result = {"student": sub.name, "submission": str(sub), "error": str(err), "points": 0, "exercises": []}
        except Exception as err:  # noqa: BLE001 - one submission must never stop the class's grading
            result = {"student": sub.name, "submission": str(sub), "points": 0, "exercises": [],
                      "error": f"the grader could not grade it ({type(err).__name__}: {err})"}
        results.append(result)
        if progress is not None:
            progress(sub.name, result)
    return results


def to_csv(results: list[dict[str, Any]], names: list[str] | None = None) -> str:
    """The gradebook as CSV text (see the module docstring)."""
    exercises = select(names)
    columns = part_columns(exercises)
    top = sum(ex.points for ex in exercises)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student"] + columns + ["total", "max", "problems"])
    for r in results:
        points = {f"{e['exercise']}: {p['part']}": p["points"] for e in r.get("exercises", []) for p in e["parts"]}
        problems = []
        if r.get("error"):
            problems.append(r["error"])
        for e in r.get("exercises", []):
            if e["status"] in ("timeout", "crashed"):
                problems.append(f"{e['exercise']}: {e['status']}")
            if e.get("tampered"):
                problems.append(f"{e['exercise']}: changed grader files")
        if r.get("ignored_files"):
            problems.append("ignored files: " + " ".join(r["ignored_files"][:20]))
        writer.writerow([_cell(r["student"])] + [points.get(c, 0) for c in columns]
                        + [r["points"], top, _cell("; ".join(problems))])
    return out.getvalue()


def _cell(text: str) -> str:
    """A CSV text cell that a spreadsheet will not run as a formula (a leading ' where it starts like one)."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_gradescope(result: dict[str, Any]) -> dict[str, Any]:
    """Gradescope's ``results.json``: the score and one test per exercise part, with its output."""
    tests = []
    for e in result["exercises"]:
        for p in e["parts"]:
            output = p["message"] or ("passed" if p["passed"] else "failed")
            if p.get("report"):
                output += "\n" + p["report"]
            tests.append({"name": f"{e['exercise']}: {p['part']}", "score": p["points"], "max_score": p["max_points"],
                          "status": "passed" if p["passed"] else "failed", "output": output})
    lines = [f"{e['exercise']}: {e['points']}/{e['max_points']} ({e['status']})" for e in result["exercises"]]
    if result.get("ignored_files"):
        lines.append("files not graded (only the exercise files are): " + ", ".join(result["ignored_files"]))
    return {"score": result["points"], "output": "\n".join(lines), "stdout_visibility": "visible",
            "visibility": "visible", "tests": tests}


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` (its folder must exist) through a temporary file, so no half file is left."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ValueError(f"the folder of {path} does not exist")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
