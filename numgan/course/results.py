"""The result of checking or grading one exercise: its parts, their points, and a status."""
from __future__ import annotations

from typing import Any

from .compare import PartResult
from .exercises import Exercise

def exercise_result(ex: Exercise, parts: list[PartResult], status: str | None = None, message: str = "",
                    **extra: Any) -> dict[str, Any]:
    """A JSON-ready dict: the exercise, each part with its points, the total and a status.

    The status is "passed" (every part), "failed" (some part), "error" (the code raised),
    "timeout" or "crashed" (the grading process).
    """
    by_name = {p.part: p for p in parts}
    rows: list[dict[str, Any]] = []
    for p in ex.parts:
        r = by_name.get(p.name) or PartResult(p.name, False, message or "not checked")
        rows.append({"part": p.name, "passed": bool(r.passed), "points": p.points if r.passed else 0,
                     "max_points": p.points, "message": r.message, "report": r.report})
    points = sum(int(r["points"]) for r in rows)
    if status is None:
        status = "passed" if points == ex.points else "failed"
    return {"exercise": ex.name, "status": status, "points": points, "max_points": ex.points,
            "message": message or "; ".join(f"{r['part']}: {r['message']}" for r in rows if not r["passed"]),
            "parts": rows, **extra}
