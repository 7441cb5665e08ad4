"""``numgan-course make-student``: the student edition, with every solution replaced by its level-1 hint.

The edition is a copy of the repository's ``numgan/``, ``tests/``,
``notebooks/`` and ``docs/`` (and the packaging files) in which

* every marked block of the package (``numgan.course.markers``) is a
  ``raise NotImplementedError("Exercise NAME: <contract> ...")``;
* the notebooks' exercise cells are blanked the same way and every output is
  cleared (``numgan.course.notebook_cells``);
* any line of a solution that also appears elsewhere (a docs page quoting
  the code) is replaced by a comment;
* the references (``numgan/course/answers/``) and the kit's own tests are
  left out, and ``numgan/course/public_expected.npz`` holds the expected
  outputs of every exercise on the public inputs, numbers for the self-check;
* ``.numgan-edition.json`` lists every file with its SHA-256: the grader
  reports the files of a submission that differ from it and are not
  exercise files (they are never imported);
* ``.github/workflows/classroom.yml`` is a GitHub Classroom workflow, one
  step per exercise with its points.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .exercises import EXERCISES, Exercise, exercise_for, not_done_message
from .markers import BEGIN, END, Block, MarkerError, locate_blocks, rewrite
from .notebook_cells import cell_source, student_notebook
from .notebook_cells import normal_line as normal
from .notebook_cells import scrubbed_line as scrubbed

#: what the edition holds, relative to the repository root (folders copied whole)
STUDENT_FOLDERS = ("numgan", "tests", "notebooks", "docs")
STUDENT_FILES = ("setup.cfg", "pyproject.toml", "README.md", "mkdocs.yml", "LICENSE", "MANIFEST.in", ".gitignore")
#: instructor-only paths left out: the references, and tests of the kit itself or of what is not copied
INSTRUCTOR_ONLY = ("numgan/course/answers", "tests/test_benchmarks.py")
INSTRUCTOR_ONLY_GLOBS = ("tests/test_course*.py",)
MANIFEST = ".numgan-edition.json"
WORKFLOW = ".github/workflows/classroom.yml"
_IGNORE_NAMES = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints", ".pytest_cache")


def _ignore(folder: str, names: list[str]) -> set[str]:
    """What copytree leaves out: caches, and anything that is not a regular file or folder (a named pipe)."""
    skipped = set(_IGNORE_NAMES(folder, names))
    for name in names:
        mode = os.lstat(os.path.join(folder, name)).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            skipped.add(name)
    return skipped
_TEXT_SUFFIXES = (".py", ".md", ".cfg", ".toml", ".txt", ".yml", ".yaml", ".rst")


def source_root() -> Path:
    """The repository this package belongs to (it must hold ``setup.cfg`` and ``numgan/``)."""
    return Path(__file__).resolve().parents[2]


@dataclass
class Edition:
    """What :func:`make_student` did."""

    out: Path
    blocks: list[str] = field(default_factory=list)        # "path:line exercise" of each replaced block
    notebook_cells: list[str] = field(default_factory=list)
    scrubbed: list[str] = field(default_factory=list)      # "path:line" of solution lines removed elsewhere


def package_files(root: Path) -> list[Path]:
    """The package's Python files that can hold exercises (the course kit itself excluded)."""
    return [p for p in sorted((root / "numgan").rglob("*.py"))
            if "__pycache__" not in p.parts and (root / "numgan" / "course") not in p.parents]


def package_blocks(root: Path) -> dict[Path, list[tuple[Block, Exercise]]]:
    """Every marked block of the package with its exercise; ``MarkerError`` if blocks and table disagree."""
    found: dict[Path, list[tuple[Block, Exercise]]] = {}
    unknown, seen = [], set()
    for path in package_files(root):
        rel = path.relative_to(root).as_posix()
        for b in locate_blocks(path.read_text(encoding="utf-8"), rel):
            location = f"{rel}:{b.function}"
            ex = exercise_for(location)
            if ex is None:
                unknown.append(f"{rel}:{b.begin + 1} (in {b.function or 'no function'})")
                continue
            seen.add(location)
            found.setdefault(path, []).append((b, ex))
    if not found and not unknown:
        raise MarkerError(f"no {BEGIN} markers in {root / 'numgan'}: is this already a student edition?")
    if unknown:
        raise MarkerError("marked blocks that no exercise of numgan.course.exercises lists in its `where`: "
                          + ", ".join(unknown))
    missing = [w for ex in EXERCISES if not ex.in_notebook for w in ex.where if w not in seen]
    if missing:
        raise MarkerError(f"exercise locations without a marked block: {', '.join(missing)}")
    return found


def _read_notebook(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _notebook_units(nb: dict[str, Any], rel: str) -> list[tuple[list[str], list[tuple[Block, str]]]]:
    """Each code cell's lines with its marked blocks, named by exercise (or the function holding them)."""
    units: list[tuple[list[str], list[tuple[Block, str]]]] = []
    for k, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code":
            source = cell_source(cell)
            named = []
            for b in locate_blocks(source, f"{rel} cell {k}"):
                ex = exercise_for(f"{rel}:{b.function}")
                named.append((b, ex.name if ex else (b.function or "notebook")))
            units.append((source.splitlines(), named))
    return units


def solution_lines(root: Path, notebooks: bool = True) -> dict[str, str]:
    """Normalised lines of the solutions that appear nowhere else in the code -> the exercise.

    Short lines (under 12 characters, such as ``return y, y``) are left out:
    they say nothing of a solution and occur in any code.
    """
    units: list[tuple[list[str], list[tuple[Block, str]]]] = []
    blocks = package_blocks(root)
    for path in package_files(root):
        pairs = blocks.get(path, [])
        units.append((path.read_text(encoding="utf-8").splitlines(), [(b, ex.name) for b, ex in pairs]))
    if notebooks:
        for path in sorted((root / "notebooks").glob("*.ipynb")):
            units += _notebook_units(_read_notebook(path), path.relative_to(root).as_posix())
    inside: dict[str, str] = {}
    outside: set[str] = set()
    for lines, named in units:
        marked = set()
        for b, name in named:
            for i in range(b.begin + 1, b.end):
                marked.add(i)
                text = normal(lines[i])
                if len(text) >= 12:
                    inside.setdefault(text, name)
        outside.update(normal(line) for i, line in enumerate(lines) if i not in marked)
    return {text: name for text, name in inside.items() if text not in outside}


def _check_out(out: Path, root: Path, force: bool) -> None:
    out_r, root_r = out.resolve(), root.resolve()
    if out_r == root_r or out_r in root_r.parents:
        raise ValueError(f"OUT must not be the repository or a folder above it, got {out}")
    for folder in STUDENT_FOLDERS:
        if out_r == root_r / folder or (root_r / folder) in out_r.parents:
            raise ValueError(f"OUT must not lie inside the copied folder {folder}/, got {out}")
    if out.exists() and not out.is_dir():
        raise ValueError(f"OUT must be a directory, got the file {out}")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ValueError(f"OUT {out} is not empty; pass --force to replace its content")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _remove_instructor_only(out: Path) -> None:
    for rel in INSTRUCTOR_ONLY:
        path = out / rel
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    for pattern in INSTRUCTOR_ONLY_GLOBS:
        for path in out.glob(pattern):
            path.unlink()


def write_public_expected(path: Path) -> int:
    """Store every exercise's expected outputs on the public inputs in ``path`` (an ``.npz``); their count."""
    from .answers import expected
    from .tasks import public_seed, task

    arrays: dict[str, np.ndarray] = {}
    for ex in EXERCISES:
        inputs = task(ex.name).inputs(np.random.default_rng(public_seed(ex.name)))
        for key, value in expected(ex.name, inputs).items():
            arrays[f"{ex.name}/{key}"] = np.asarray(value)
    np.savez(path, **arrays)     # type: ignore[arg-type]  # numpy's stubs want positional arrays
    return len(arrays)


def classroom_workflow() -> str:
    """A GitHub Classroom workflow: one autograding step per exercise, worth its points."""
    steps, ids = [], []
    for ex in EXERCISES:
        step_id = re.sub(r"[^a-z0-9]+", "-", ex.name.lower()).strip("-")
        ids.append(step_id)
        run = f"numgan-course check {ex.name}"
        steps.append(f"""      - name: {ex.name}
        id: {step_id}
        uses: classroom-resources/autograding-command-grader@v1
        with:
          test-name: {ex.name}
          setup-command: pip install -q -e .
          command: {run}
          timeout: 5
          max-score: {ex.points}""")
    env = "\n".join(f"          {i.upper().replace('-', '_')}_RESULTS: \"${{{{steps.{i}.outputs.result}}}}\"" for i in ids)
    runners = ",".join(ids)
    return f"""# GitHub Classroom autograding for the numgan course (written by numgan-course make-student).
# Each step runs one exercise's self-check on the public inputs and is worth the exercise's points.
# It runs in the student's repository, so it is feedback, not a grade a student cannot influence:
# grade with `numgan-course grade-all` (see docs/course.md#threat-model).
name: Autograding Tests
on: [push, workflow_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - name: Checkout code
        uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
{chr(10).join(steps)}
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
{env}
        with:
          runners: {runners}
"""


def file_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (relative POSIX paths), caches and the manifest left out."""
    hashes = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and "__pycache__" not in path.parts and rel != MANIFEST and not rel.endswith(".pyc"):
            hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def make_student(out: str | Path, source: str | Path | None = None, force: bool = False,
                 with_solutions: bool = False, notebooks: bool = True) -> Edition:
    """Write the student edition of the numgan checkout ``source`` into ``out`` (see the module docstring).

    With ``with_solutions`` the blocks keep their code and only the marker
    lines go (an edition to test the grader against).
    """
    root = Path(source) if source is not None else source_root()
    if not (root / "numgan").is_dir() or not (root / "setup.cfg").is_file():
        raise ValueError(f"the source {root} must be a numgan checkout (with numgan/ and setup.cfg); pass --source")
    if not (root / "numgan" / "course" / "answers").is_dir():
        raise ValueError(f"the source {root} has no numgan/course/answers/: a student edition cannot make another")
    blocks = package_blocks(root)
    solutions = {} if with_solutions else solution_lines(root, notebooks)
    out = Path(out)
    _check_out(out, root, force)
    edition = Edition(out)
    for folder in STUDENT_FOLDERS:
        if folder == "notebooks" and not notebooks:
            continue
        if (root / folder).is_dir():
            shutil.copytree(root / folder, out / folder, ignore=_ignore)
    for name in STUDENT_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, out / name)
    _remove_instructor_only(out)
    for path, pairs in blocks.items():
        rel = path.relative_to(root).as_posix()
        messages = [not_done_message(ex) for _, ex in pairs]
        text = rewrite(path.read_text(encoding="utf-8"), [b for b, _ in pairs], messages, with_solutions)
        (out / rel).write_text(text, encoding="utf-8")
        edition.blocks += [f"{rel}:{b.begin + 1} {ex.name}" for b, ex in pairs]
    done = {path.relative_to(root).as_posix() for path in blocks}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if not path.is_file() or rel in done:
            continue
        if path.suffix == ".ipynb":
            if not with_solutions:
                nb, report = student_notebook(_read_notebook(path), rel, solutions)
                path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
                edition.notebook_cells += report
            continue
        if path.suffix not in _TEXT_SUFFIXES or not solutions or rel.startswith("numgan/course/"):
            continue                                     # the kit holds no solution line (a test checks it)
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        lines = text.splitlines(keepends=True)
        hits = [i for i, line in enumerate(lines) if normal(line) in solutions]
        for i in hits:
            end = "\n" if lines[i].endswith("\n") else ""
            lines[i] = scrubbed(lines[i].rstrip("\r\n"), solutions[normal(lines[i])]) + end
            edition.scrubbed.append(f"{rel}:{i + 1}")
        if hits:
            path.write_text("".join(lines), encoding="utf-8", errors="surrogateescape")
    for path in out.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        try:
            compile(text, str(path), "exec")              # a broken rewrite fails here, not at the student's
        except SyntaxError as err:
            raise MarkerError(f"{path.relative_to(out)}:{err.lineno}: the edition does not compile after the "
                              f"rewrite ({err.msg}); a solution line is quoted there as a statement that "
                              f"opens a block: write it differently") from None
        if any(line.strip() in (BEGIN, END) for line in text.splitlines()):
            raise MarkerError(f"{path}: a marker is left after the rewrite")
    write_public_expected(out / "numgan" / "course" / "public_expected.npz")
    (out / WORKFLOW).parent.mkdir(parents=True, exist_ok=True)
    (out / WORKFLOW).write_text(classroom_workflow(), encoding="utf-8")
    (out / MANIFEST).write_text(json.dumps({"numgan_edition": 1, "with_solutions": with_solutions,
                                            "files": file_hashes(out)}, indent=1) + "\n", encoding="utf-8")
    return edition
