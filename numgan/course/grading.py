"""``numgan-course grade``: grade one submission, the verdict decided here from outputs and references.

For each exercise, the grader

1. draws the inputs from a seed the student never sees (the instructor's
   secret and the submission's name, :func:`numgan.course.tasks.secret_seed`);
2. builds a grading copy of the package in a fresh private folder, from the
   instructor's files read into memory when the grader started (the kit and its
   references left out): for a package exercise, only that exercise's files
   come from the submission, and in those files the *other* exercises'
   functions are put back from the instructor's solution, so that one mistake
   costs one exercise; for a notebook exercise, only the student's exercise cell
   (after the cells of the notebook exercises it uses), over a package in which
   every solution is blanked but those of the exercises it uses, so that a cell
   cannot hand its work to the package's solution;
3. runs the probe in a limited child process (:mod:`numgan.course.sandbox`)
   that reports outputs, arrays and numbers, and nothing else;
4. compares them here with the references on the same inputs
   (:mod:`numgan.course.answers`, gradients by the grader's own finite
   differences) and gives each part its points;
5. checks that the instructor's files are as they were; a change is reported
   (in the result and on stderr), costs that exercise its points, and is
   *not* undone: the checkout is yours, and ``git status`` shows the change.

A submission is read without following symbolic links; its files outside the
exercise files are never imported, and those that differ from the released
edition are reported by name.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .compare import PartResult, error_parts
from .edition import MANIFEST, package_blocks
from .exercises import EXERCISES, EXERCISES_BY_NAME, Exercise, not_done_message
from .markers import MarkerError, function_source, replace_functions, rewrite
from .results import exercise_result
from .sandbox import run_child, site_folders, unprivileged_user, user_can_run_python

DEFAULT_TIMEOUT = 10.0
MAX_FILE_BYTES = 4 << 20          # an exercise file or notebook larger than this is not read
MAX_HASHED_BYTES = 64 << 20       # a larger file of a submission is reported without being hashed
MAX_LISTED_FILES = 20_000
_IGNORED_PARTS = ("__pycache__", ".git", ".ipynb_checkpoints", ".pytest_cache", ".venv", "venv", ".mypy_cache")
_TEMPLATE_MAX_BYTES = 1 << 20     # package data files above this are left out of the grading copy


def student_root(path: str | Path) -> Path:
    """The folder that holds the submission's ``numgan/`` (``path`` itself or, for the package, its parent)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"submission {path} does not exist")
    path = path.resolve()
    if path.name == "numgan" and (path / "__init__.py").is_file() and not (path / "numgan").exists():
        path = path.parent
    package = path / "numgan"
    if package.is_symlink():
        raise ValueError(f"submission {path}: numgan/ is a symbolic link; submit the folder itself")
    if not (package / "__init__.py").is_file():
        raise ValueError(f"submission {path} holds no numgan package (expected {package / '__init__.py'})")
    return path


def select(names: list[str] | None) -> list[Exercise]:
    """The exercises named (all, in table order, when ``names`` is empty); ``ValueError`` for an unknown name."""
    if not names:
        return list(EXERCISES)
    wanted = [n.strip() for name in names for n in name.split(",") if n.strip()]
    if not wanted:
        raise ValueError(f"--exercise must name at least one exercise of {list(EXERCISES_BY_NAME)}, got {names!r}")
    unknown = [n for n in wanted if n not in EXERCISES_BY_NAME]
    if unknown:
        raise ValueError(f"unknown exercise(s) {unknown}; the exercises are {list(EXERCISES_BY_NAME)}")
    return [ex for ex in EXERCISES if ex.name in wanted]


def read_submission_file(sub: Path, rel: str) -> str:
    """The text of ``sub/rel``: a regular UTF-8 file of at most 4 MB, reached without any symbolic link."""
    path = sub
    for part in Path(rel).parts:
        path = path / part
        try:
            info = os.lstat(path)
        except OSError:
            raise ValueError(f"the submission has no {rel}") from None
        if stat.S_ISLNK(info.st_mode):
            raise ValueError(f"the submission's {rel} goes through a symbolic link ({path.relative_to(sub)})")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"the submission's {rel} is not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise ValueError(f"the submission's {rel} is larger than {MAX_FILE_BYTES >> 20} MB")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"the submission's {rel} is not UTF-8 text") from None


def _walk_regular(root: Path) -> dict[str, Path]:
    """Every regular file under ``root`` (relative POSIX path -> path), symbolic links not followed."""
    found = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = Path(folder, name)
            if stat.S_ISREG(os.lstat(path).st_mode):
                found[path.relative_to(root).as_posix()] = path
    return found


class Snapshot:
    """The SHA-256 of the instructor's package files and the listings of the site folders, to detect changes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = self._take()

    def _take(self) -> dict[str, str]:
        state = {}
        for folder, dirs, files in os.walk(self.root / "numgan", followlinks=False):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in dirs + files:
                path = Path(folder, name)
                rel = path.relative_to(self.root).as_posix()
                info = os.lstat(path)
                if stat.S_ISREG(info.st_mode):
                    if not name.endswith(".pyc"):
                        state[rel] = f"{info.st_size}:{hashlib.sha256(path.read_bytes()).hexdigest()}"
                elif not stat.S_ISDIR(info.st_mode):
                    state[rel] = f"special:{stat.S_IFMT(info.st_mode)}"
        for site in site_folders():
            try:
                state[f"<site>{site}"] = "\n".join(sorted(os.listdir(site)))
            except OSError:
                pass
        return state

    def changes(self) -> list[str]:
        """What changed since the last call (or the start): paths, sorted; the new state becomes the reference."""
        now = self._take()
        changed = sorted(k for k in set(now) | set(self.state) if now.get(k) != self.state.get(k))
        self.state = now
        return [c.replace("<site>", "site folder ") for c in changed]


def _transitive_uses(ex: Exercise) -> set[str]:
    seen: set[str] = set()
    todo = list(ex.uses)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += EXERCISES_BY_NAME[name].uses
    return seen


@dataclass
class Grader:
    """Grades submissions against the instructor's checkout ``root``; reusable for a whole class."""

    root: Path
    timeout: float = DEFAULT_TIMEOUT
    secret: str = ""
    released: dict[str, str] = field(default_factory=dict)      # rel path -> SHA-256 of the released edition
    warn: Callable[[str], None] = lambda text: print(f"numgan-course: warning: {text}", file=sys.stderr)

    def __post_init__(self) -> None:
        from .answers import expected  # noqa: F401 - fail early where the references are missing

        self.root = Path(self.root).resolve()
        if not (isinstance(self.timeout, (int, float)) and 0 < self.timeout < float("inf")):
            raise ValueError(f"timeout must be a positive number of seconds, got {self.timeout!r}")
        self.template = {rel: path.read_bytes() for rel, path in _walk_regular(self.root / "numgan").items()
                         if not rel.startswith("course/") and not rel.endswith(".pyc")
                         and path.stat().st_size <= _TEMPLATE_MAX_BYTES}
        self.blocks = {p.relative_to(self.root).as_posix(): pairs for p, pairs in package_blocks(self.root).items()}
        self.user = unprivileged_user()
        if self.user is not None:
            why = user_can_run_python(self.user)
            if why is not None:
                self.warn(f"the grading processes run as root: the user nobody cannot run {sys.executable} "
                          f"({why}); install Python where nobody can read it, or grade as an ordinary user "
                          f"(docs/course.md#threat-model)")
                self.user = None
        self.snapshot = Snapshot(self.root)

    # -- one submission ---------------------------------------------------------------------------

    def grade(self, submission: str | Path, names: list[str] | None = None, name: str | None = None,
              progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Grade one submission; a JSON-ready dict with every exercise's parts and points."""
        sub = student_root(submission)
        exercises = select(names)
        student = name or sub.name
        results = []
        for ex in exercises:
            results.append(self.grade_exercise(sub, ex, student))
            if progress is not None:
                progress(results[-1])
        return {"submission": str(sub), "student": student, "points": sum(r["points"] for r in results),
                "max_points": sum(r["max_points"] for r in results), "exercises": results,
                "ignored_files": self.ignored_files(sub)}

    def grade_exercise(self, sub: Path, ex: Exercise, student: str) -> dict[str, Any]:
        """One exercise of one submission (see the module docstring)."""
        from .answers import expected
        from .probes._wire import decode, encode
        from .tasks import secret_seed, task

        start = time.perf_counter()
        the_task = task(ex.name)
        inputs = the_task.inputs(np.random.default_rng(secret_seed(ex.name, student, self.secret)))
        want = expected(ex.name, inputs)
        job: dict[str, Any] = {"exercise": ex.name, "inputs": encode(inputs), "cell": None}

        def fail(status: str, message: str, **extra: Any) -> dict[str, Any]:
            return exercise_result(ex, error_parts(ex.parts, message), status, message,
                                   seconds=round(time.perf_counter() - start, 3), **extra)

        tmp = tempfile.mkdtemp(prefix="numgan-grade-")
        try:
            tree = Path(tmp) / "tree"
            try:
                if ex.in_notebook:
                    keep = {n for n in _transitive_uses(ex) if not EXERCISES_BY_NAME[n].in_notebook}
                    self._write_tree(tree, self._blanked(keep))
                    job["cell"] = "\n\n".join(notebook_cell(sub, EXERCISES_BY_NAME[n]) for n in
                                              (*[u for u in ex.uses if EXERCISES_BY_NAME[u].in_notebook], ex.name))
                else:
                    self._write_tree(tree, self._overlaid(sub, ex))
            except (MarkerError, ValueError, RecursionError, MemoryError, SyntaxError) as err:
                return fail("error", str(err) or type(err).__name__)
            run = run_child(job, tree, timeout=self.timeout, instructor_root=self.root, user=self.user)
        finally:
            _remove_tree(Path(tmp))
        changed = self.snapshot.changes()
        noise = run.stderr.strip()
        extra = {"output": noise[:1000]} if noise else {}
        if changed:
            self.warn(f"the instructor's files changed while {student}'s {ex.name} was graded: "
                      f"{', '.join(changed[:5])}; check them (git status) before grading on")
            return fail("error", "the grader's files changed while this exercise ran; it gets no points",
                        tampered=changed, **extra)
        if run.status != "ok" or run.result is None:
            status = "timeout" if run.status == "timeout" else "crashed"
            return fail(status, run.detail, **extra)
        if "error" in run.result:
            message = str(run.result["error"])[:2000]
            if message.startswith("NotImplementedError"):
                message = "not done yet: " + message
            return fail("error", message, **extra)
        try:
            got = decode(run.result["outputs"])
        except ValueError as err:
            return fail("crashed", f"the outputs could not be read: {err}", **extra)
        try:
            parts = the_task.judge(inputs, got, want)
        except Exception as err:  # noqa: BLE001 - a judge must not crash on odd outputs; if one does, fail
            parts = [PartResult(p.name, False, f"the outputs could not be judged ({type(err).__name__}: {err})")
                     for p in ex.parts]
        return exercise_result(ex, parts, seconds=round(time.perf_counter() - start, 3), **extra)

    # -- the grading copy ---------------------------------------------------------------------------

    def _overlaid(self, sub: Path, ex: Exercise) -> dict[str, bytes]:
        """The package with ``ex``'s files from the submission, the other exercises' functions the instructor's."""
        files = dict(self.template)
        for rel in ex.files:
            text = read_submission_file(sub, rel)
            ours = self.template[rel[len("numgan/"):]].decode("utf-8")
            others = {}
            for other in EXERCISES:
                if other.name == ex.name:
                    continue
                for where in other.where:
                    path, qualname = where.split(":", 1)
                    if path == rel:
                        solution = function_source(ours, qualname)
                        if solution is None:
                            raise MarkerError(f"the instructor's {rel} has no {qualname}")
                        others[qualname] = solution
            try:
                text = replace_functions(text, others)
            except MarkerError as err:
                raise MarkerError(f"your {rel}: {err}") from None
            files[rel[len("numgan/"):]] = text.encode("utf-8")
        return files

    def _blanked(self, keep: set[str]) -> dict[str, bytes]:
        """The package with every exercise's solution blanked, but those of the exercises in ``keep``."""
        files = dict(self.template)
        for rel, pairs in self.blocks.items():
            blank = [(b, ex) for b, ex in pairs if ex.name not in keep]
            if blank:
                text = self.template[rel[len("numgan/"):]].decode("utf-8")
                text = rewrite(text, [b for b, _ in blank], [not_done_message(ex) for _, ex in blank], False)
                files[rel[len("numgan/"):]] = text.encode("utf-8")
        return files

    @staticmethod
    def _write_tree(tree: Path, files: dict[str, bytes]) -> None:
        """Write ``files`` under ``tree/numgan`` (new files only, links never followed), then make it read-only."""
        package = tree / "numgan"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        for rel, data in sorted(files.items()):
            path = package / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, flags, 0o644)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        for folder, dirs, _ in os.walk(tree):
            for d in dirs:
                os.chmod(Path(folder, d), 0o555)
        for path in _walk_regular(tree).values():
            os.chmod(path, 0o444)
        tree.chmod(0o555)
        tree.parent.chmod(0o755)

    # -- what else the submission holds ---------------------------------------------------------------

    def ignored_files(self, sub: Path) -> list[str]:
        """The submission's files that are not exercise files and differ from the released edition (or are new)."""
        if not self.released:
            return []
        exercise_files = {f for ex in EXERCISES for f in ex.files}
        ignored: list[str] = []
        count = 0
        for folder, dirs, files in os.walk(sub, followlinks=False):
            dirs[:] = sorted(d for d in dirs if d not in _IGNORED_PARTS)
            for name in sorted(files) + [d for d in dirs if os.path.islink(Path(folder, d))]:
                count += 1
                if count > MAX_LISTED_FILES:
                    return ignored + [f"... (more than {MAX_LISTED_FILES} files)"]
                path = Path(folder, name)
                rel = path.relative_to(sub).as_posix()
                if rel in exercise_files or rel == MANIFEST or rel.endswith(".pyc"):
                    continue
                if self.released.get(rel) != _digest(path):
                    ignored.append(rel)
        return ignored


def _digest(path: Path) -> str:
    """SHA-256 of a regular file of at most 64 MB, read in blocks; '' for anything else."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_HASHED_BYTES:
            return ""
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return ""


def _remove_tree(root: Path) -> None:
    for folder, dirs, _ in os.walk(root):
        for d in dirs:
            try:
                os.chmod(Path(folder, d), 0o755)
            except OSError:
                pass
    try:
        root.chmod(0o755)
    except OSError:
        pass
    shutil.rmtree(root, ignore_errors=True)


def notebook_cell(sub: Path, ex: Exercise) -> str:
    """The source of the submission's cell that defines ``ex``'s function or class (its notebook exercise)."""
    rel, qualname = ex.where[0].split(":", 1)
    text = read_submission_file(sub, rel)
    try:
        nb = json.loads(text)
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ValueError(f"the submission's {rel} is not a notebook") from None
    tagged, defining = [], []
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) else str(source)
        meta = cell.get("metadata", {})
        if isinstance(meta, dict) and isinstance(meta.get("numgan"), dict) and meta["numgan"].get("exercise") == ex.name:
            tagged.append(source)
        if any(line.startswith((f"def {qualname}(", f"class {qualname}(", f"class {qualname}:"))
               for line in source.splitlines()):
            defining.append(source)
    found = tagged or defining
    if not found:
        raise ValueError(f"no cell of the submission's {rel} defines {qualname}")
    return found[-1]


def released_hashes(root: Path) -> dict[str, str]:
    """The SHA-256 of every file of the student edition of ``root``, built afresh in a temporary folder."""
    from .edition import make_student

    with tempfile.TemporaryDirectory(prefix="numgan-edition-") as tmp:
        make_student(Path(tmp) / "edition", root)
        return json.loads((Path(tmp) / "edition" / MANIFEST).read_text(encoding="utf-8"))["files"]


def load_manifest(path: str | Path) -> dict[str, str]:
    """The file hashes of a released edition's ``.numgan-edition.json``; ``ValueError`` if it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        files = data["files"]
        if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(f"--manifest must be the .numgan-edition.json of a released edition, got {path}") from None
    return files
