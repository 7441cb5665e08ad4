"""The ``numgan-course`` command line: list, hint, check, make-student, grade, grade-all.

Every error is one line on stderr and a non-zero exit status, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, NoReturn

from .. import __version__
from .exercises import EXERCISES, exercise
from .markers import MarkerError


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (``numgan-course: error: ...``), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _seconds(text: str) -> float:
    """An argparse type: a finite number of seconds in (0, 86400]."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and 0 < value <= 86_400):
        raise argparse.ArgumentTypeError(f"expected a number of seconds in (0, 86400], got {text!r}")
    return value


def _level(text: str) -> int:
    if text not in ("1", "2", "3"):
        raise argparse.ArgumentTypeError(f"expected 1, 2 or 3, got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    from .grading import DEFAULT_TIMEOUT

    parser = _Parser(
        prog="numgan-course",
        description="The numgan course kit: exercises, hints, self-checks, the student edition and the grader.")
    parser.add_argument("--version", action="version", version=f"numgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    sub.add_parser("list", help="the exercises in the order of the notebooks, with their parts and points")
    p = sub.add_parser("hint", help="the hint of an exercise: 1 the contract, 2 the key idea, 3 the formula")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--level", type=_level, default=1, help="1, 2 or 3 (default 1)")
    p = sub.add_parser("check", help="self-check exercises on your own code (public inputs): PASS or FAIL")
    p.add_argument("names", nargs="*", metavar="NAME", help="exercises (default: every package exercise)")
    p = sub.add_parser("make-student", help="write the student edition (solutions replaced by hints) into OUT")
    p.add_argument("out", metavar="OUT", nargs="?", help="a new or empty directory")
    p.add_argument("--force", action="store_true", help="replace the content of a non-empty OUT")
    p.add_argument("--with-solutions", action="store_true",
                   help="keep the solutions (drop only the markers): an edition to test the grader on")
    p.add_argument("--no-notebooks", action="store_true", help="leave the notebooks out")
    p.add_argument("--nbgrader", metavar="SOURCE_DIR",
                   help="instead, write the notebooks with nbgrader metadata into nbgrader's SOURCE_DIR")
    p.add_argument("--source", help="the numgan checkout to build from (default: the one this kit is in)")
    for name, text in (("grade", "grade one submission (a folder holding numgan/)"),
                       ("grade-all", "grade every sub-folder of SUBMISSIONS_DIR into a CSV gradebook")):
        p = sub.add_parser(name, help=text)
        p.add_argument("target", metavar="SUBMISSION" if name == "grade" else "SUBMISSIONS_DIR")
        p.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT,
                       help=f"seconds per exercise before it is stopped and failed (default {DEFAULT_TIMEOUT:g})")
        p.add_argument("-e", "--exercise", action="append", metavar="NAME",
                       help="grade only these exercises (repeat, or separate with commas)")
        p.add_argument("--seed", default="",
                       help="the course's secret: the inputs are drawn from it and each submission's name "
                            "(visible in the process list: prefer --seed-file)")
        p.add_argument("--seed-file", help="a file whose first line is the course's secret")
        p.add_argument("--manifest", help="the released edition's .numgan-edition.json (default: build it afresh)")
        if name == "grade":
            p.add_argument("--format", choices=("table", "json", "gradescope"), default="table")
            p.add_argument("--name", help="the student's name for the seed (default: the folder's name)")
            p.add_argument("-o", "--output", help="write the result there instead of printing it")
        else:
            p.add_argument("--csv", required=True, help="the gradebook to write")
            p.add_argument("--json", help="also write every result in full to this JSON file")
    return parser


def _format_table(result: dict[str, Any]) -> str:
    rows = [("exercise", "points", "result", "detail")]
    reports: dict[int, str] = {}                            # row -> the gradient report under it
    for e in result["exercises"]:
        rows.append((e["exercise"], f"{e['points']}/{e['max_points']}", e["status"].upper()
                     if e["status"] != "passed" else "passed", e["message"]))
        for p in e["parts"]:
            if len(e["parts"]) > 1:
                rows.append((f"  {p['part']}", f"{p['points']}/{p['max_points']}", "ok" if p["passed"] else
                             "FAILED", ""))
            if p.get("report") and not p["passed"]:
                reports[len(rows) - 1] = p["report"]
    w0, w1, w2 = (max(len(r[i]) for r in rows) for i in range(3))
    lines = [f"grading {result['submission']} ({result['student']})", ""]
    for k, (a, b, c, d) in enumerate(rows):
        lines.append(f"{a:<{w0}}  {b:>{w1}}  {c:<{w2}}  {d}".rstrip())
        if k == 0:
            lines.append(f"{'-' * w0}  {'-' * w1}  {'-' * w2}  {'-' * 6}")
        elif k in reports:
            lines += [" " * (w0 + w1 + w2 + 6) + line for line in reports[k].splitlines()]
    lines += [f"{'-' * w0}  {'-' * w1}", f"{'total':<{w0}}  {result['points']}/{result['max_points']}"]
    if result.get("ignored_files"):
        lines.append("not graded (only the exercise files are), differ from the edition: "
                     + ", ".join(result["ignored_files"]))
    return "\n".join(lines)


def _grader(args: argparse.Namespace) -> Any:
    from .edition import source_root
    from .grading import Grader, load_manifest, released_hashes

    root = source_root()
    secret = args.seed
    if args.seed_file:
        if args.seed:
            raise ValueError("give --seed or --seed-file, not both")
        lines = Path(args.seed_file).read_text(encoding="utf-8").splitlines()
        secret = lines[0].strip() if lines else ""
        if not secret:
            raise ValueError(f"--seed-file {args.seed_file} must hold the secret on its first line")
    released = load_manifest(args.manifest) if args.manifest else released_hashes(root)
    return Grader(root, timeout=args.timeout, secret=secret, released=released)


def _run(args: argparse.Namespace) -> int:
    if args.command == "list":
        for ex in EXERCISES:
            parts = ", ".join(f"{p.name} {p.points}" for p in ex.parts)
            print(f"notebook {ex.notebook}  {ex.name} ({ex.points} points: {parts})  {', '.join(ex.where)}")
        print(f"total: {sum(ex.points for ex in EXERCISES)} points")
        return 0
    if args.command == "hint":
        ex = exercise(args.name)
        print(f"{ex.name}, level {args.level}: {ex.hint(args.level)}")
        return 0
    if args.command == "check":
        from .selfcheck import check

        names = args.names or [ex.name for ex in EXERCISES if not ex.in_notebook]
        for name in names:
            exercise(name)
            if exercise(name).in_notebook:
                raise ValueError(f"{name} is a notebook exercise: run check({name!r}) in its notebook")
        passed = [check(name) for name in names]
        print(f"{sum(passed)} of {len(passed)} passed")
        return 0 if all(passed) else 1
    if args.command == "make-student":
        from .edition import make_student, source_root

        if (args.out is None) == (args.nbgrader is None):
            raise ValueError("make-student needs OUT (the student edition) or --nbgrader SOURCE_DIR, not both")
        if args.nbgrader:
            from .notebook_cells import write_nbgrader_source

            root = Path(args.source) if args.source else source_root()
            written = write_nbgrader_source(Path(args.nbgrader), root / "notebooks")
            print(f"wrote {len(written)} notebooks with nbgrader metadata into {args.nbgrader}")
            return 0
        edition = make_student(args.out, args.source, args.force, args.with_solutions, not args.no_notebooks)
        kind = "solution" if args.with_solutions else "student"
        print(f"wrote the {kind} edition to {edition.out}: {len(edition.blocks)} marked blocks in the package, "
              f"{len(edition.notebook_cells)} notebook cells")
        return 0
    from .gradebook import grade_all, submissions_in, to_csv, to_gradescope, write_text
    from .grading import select, student_root

    select(args.exercise)                                   # the cheap checks first: the grader builds an edition
    student_root(args.target) if args.command == "grade" else submissions_in(args.target)
    grader = _grader(args)
    if args.command == "grade":
        def show(r: dict[str, Any]) -> None:
            print(f"  {r['exercise']}: {r['status']} ({r['seconds']:.1f} s)", file=sys.stderr, flush=True)

        result = grader.grade(args.target, args.exercise, name=args.name, progress=show)
        if args.format == "table":
            text = _format_table(result)
        else:
            text = json.dumps(to_gradescope(result) if args.format == "gradescope" else result, indent=1)
        if args.output:
            write_text(args.output, text + "\n")
        else:
            print(text)
        return 0 if result["points"] == result["max_points"] else 1

    def progress(student: str, r: dict[str, Any] | None) -> None:
        if r is not None:
            print(f"  {student}: {r['points']} points", file=sys.stderr, flush=True)

    results = grade_all(grader, args.target, args.exercise, progress)
    write_text(args.csv, to_csv(results, args.exercise))
    if args.json:
        write_text(args.json, json.dumps(results, indent=1) + "\n")
    print(f"graded {len(results)} submissions into {args.csv}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the exit status (0 ok, 1 a grade below full marks or a failed check, 2 an error)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (ValueError, MarkerError, OSError, KeyError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"numgan-course: error: {message}", file=sys.stderr)
        return 2
