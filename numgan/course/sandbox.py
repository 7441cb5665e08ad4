"""The grading child process: one exercise of one submission, limited, watched, and killed whole.

:func:`run_child` starts ``python -I -S -B`` (isolated: no ``PYTHON*``
variables, no user or site customisation, no ``.pth`` files, nothing written)
in an empty folder, with

* ``sys.path``: the standard library first, then this kit's probes (as the
  package ``numgan_probes``), then the grading copy of the package, then the
  folders that hold NumPy (a ``json.py`` in a submission can shadow nothing,
  and is never copied anyway);
* when the grader runs as root, the user ``nobody`` (it can then write
  nothing of the grader's, signal none of its processes, and start no
  process: the limit below is per user);
* kernel limits (``resource.setrlimit``): CPU seconds, address space, file
  size 0 (no file can be written, anywhere), no core dumps, no new processes
  (the count is per user, so this holds unless the child is root);
* its own session and process group, killed whole (``SIGKILL``) when it ends or
  at the wall-clock timeout; every process still carrying this run's token in
  its environment (a ``setsid`` grandchild) is killed too, and the grader
  never waits on a pipe that such a process could hold;
* a cap on what it may print (results and noise alike): over it, the child is
  killed and the exercise fails;
* the audit-hook tripwire of ``numgan_probes._guard`` (reading the
  instructor's files, writing any file, processes, sockets, ``ctypes``...).

The job (exercise, inputs, a notebook cell) goes in on stdin; the result is
one JSON document on the child's original stdout; the child's own prints go
to stderr. Nothing here decides a verdict: :mod:`numgan.course.grading`
does, in the grader's process.
"""
from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

MEMORY_LIMIT = 2 << 30          # bytes of address space for the child
OUTPUT_LIMIT = 8 << 20          # bytes the child may print, results and noise together
STDERR_KEPT = 4000              # characters of the child's own output kept for the feedback

_BOOT = """
import sys, json
job = json.loads(sys.stdin.buffer.read(64 << 20))
sys.path[:] = sys.path + job["config"]["path"]
from numgan_probes._child import main
main(job)
"""


@dataclass
class ChildRun:
    """What a grading child did: how it ended, its result document, the start of what it printed."""

    status: str                 # "ok", "timeout", "crashed", "too much output", "bad result"
    result: dict[str, Any] | None
    stderr: str
    seconds: float
    detail: str = ""


def probes_source() -> Path:
    """This kit's probes folder (copied into the child as ``numgan_probes``)."""
    return Path(__file__).with_name("probes")


def site_folders() -> list[str]:
    """The folders on the grader's path that hold third-party packages (NumPy's among them)."""
    import numpy

    folders = [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)]
    numpy_home = str(Path(numpy.__file__).resolve().parents[1])
    if numpy_home not in folders:
        folders.append(numpy_home)
    return folders


def refused_folders(instructor_root: Path | None) -> list[str]:
    """What the child may not read: the instructor's package and its checkout's code, and numgan installed."""
    refused = []
    if instructor_root is not None:
        refused += [str(instructor_root / d) for d in ("numgan", "notebooks", "tests", "docs", ".git")]
    for site in site_folders():
        for entry in Path(site).glob("*numgan*"):
            refused.append(str(entry.resolve()))
    return refused


def unprivileged_user() -> tuple[int, int] | None:
    """``(uid, gid)`` of ``nobody`` when the grader runs as root (the child then runs as that user), else None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def child_environment(token: str, home: str) -> dict[str, str]:
    """The child's whole environment: one BLAS thread (no thread may start), the run's token."""
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": home, "MPLBACKEND": "Agg",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0", "NUMGAN_GRADE_TOKEN": token}


def user_can_run_python(user: tuple[int, int]) -> str | None:
    """None when ``user`` can run this Python and import NumPy in the child's setting, else why not."""
    try:
        proc = subprocess.run([sys.executable, "-I", "-S", "-B", "-c",
                               "import sys, json; sys.path += json.loads(sys.argv[1]); import numpy",
                               json.dumps(site_folders())], cwd="/", env=child_environment("preflight", "/"),
                              capture_output=True, text=True, timeout=60,
                              preexec_fn=lambda: _limits(60, MEMORY_LIMIT, user))   # noqa: PLW1509
    except (OSError, subprocess.SubprocessError) as err:
        return str(err)
    if proc.returncode:
        return (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    return None


def _limits(cpu_seconds: int, memory: int, user: tuple[int, int] | None) -> None:   # in the child, before exec
    import resource

    if user is not None:                 # first the user, then the limits (no new process: counted per user)
        os.setgroups([])
        os.setgid(user[1])
        os.setuid(user[0])

    def cap(kind: int, value: int) -> None:
        try:
            soft, hard = resource.getrlimit(kind)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass

    cap(resource.RLIMIT_CPU, cpu_seconds)
    cap(resource.RLIMIT_AS, memory)
    cap(resource.RLIMIT_FSIZE, 0)
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_NPROC, 0)


class _Reader(threading.Thread):
    """Reads a pipe into memory up to ``limit`` bytes; past it, sets ``overflow`` and stops keeping."""

    def __init__(self, pipe: IO[bytes], limit: int, on_overflow: Any) -> None:
        super().__init__(daemon=True)
        self.pipe, self.limit, self.on_overflow = pipe, limit, on_overflow
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflow = False

    def run(self) -> None:
        try:
            while True:
                chunk = self.pipe.read1(65536) if hasattr(self.pipe, "read1") else self.pipe.read(65536)
                if not chunk:
                    return
                self.size += len(chunk)
                if self.size > self.limit:
                    if not self.overflow:
                        self.overflow = True
                        self.on_overflow()
                    continue
                self.chunks.append(chunk)
        except (OSError, ValueError):
            return

    def data(self) -> bytes:
        return b"".join(self.chunks)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def kill_by_token(token: str) -> int:
    """SIGKILL every process whose environment carries ``NUMGAN_GRADE_TOKEN=token``; how many."""
    needle = f"NUMGAN_GRADE_TOKEN={token}".encode()
    killed = 0
    proc = Path("/proc")
    if not proc.is_dir():
        return 0
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
        except (OSError, ValueError):
            continue
    return killed


def _stdlib_folders() -> list[str]:
    paths = sysconfig.get_paths()
    return sorted({str(Path(paths[k]).resolve()) for k in ("stdlib", "platstdlib") if k in paths})


def run_child(job: dict[str, Any], tree: Path, *, timeout: float, instructor_root: Path | None = None,
              memory: int = MEMORY_LIMIT, output_limit: int = OUTPUT_LIMIT,
              user: tuple[int, int] | None = None) -> ChildRun:
    """Run one job in a limited child; ``tree`` holds the grading copy's ``numgan/`` (read-only).

    ``user``: ``(uid, gid)`` to run the child as (the grader must be root), e.g. :func:`unprivileged_user`.
    """
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="numgan-child-") as tmp:
        home = Path(tmp)
        home.chmod(0o755)
        probes = home / "probes"
        shutil.copytree(probes_source(), probes / "numgan_probes",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        work = home / "cwd"
        work.mkdir()
        for path in (probes, work):
            for p in [path, *path.rglob("*")]:
                p.chmod(0o555 if p.is_dir() else 0o444)
        sites = site_folders()
        config = {
            "path": [str(probes), str(tree)] + sites,
            "tree": str(tree),
            "read_roots": _stdlib_folders() + [str(probes), str(tree), str(work)] + sites,
            "refused_roots": refused_folders(instructor_root),
        }
        env = child_environment(token, str(work))
        cpu = max(2, math.ceil(timeout) + 1)
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-B", "-c", _BOOT], cwd=work, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True,
                start_new_session=True, preexec_fn=lambda: _limits(cpu, memory, user))   # noqa: PLW1509
        except OSError as err:
            return ChildRun("crashed", None, "", 0.0, f"the grading process could not start ({err})")
        overflow = threading.Event()

        def on_overflow() -> None:
            overflow.set()
            _kill_group(proc.pid)

        readers = [_Reader(proc.stdout, output_limit, on_overflow),           # type: ignore[arg-type]
                   _Reader(proc.stderr, output_limit, on_overflow)]           # type: ignore[arg-type]
        for r in readers:
            r.start()
        status, detail = "ok", ""
        try:
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(dict(job, config=config)).encode())
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = "timeout"
        _kill_group(proc.pid)
        proc.wait()
        seconds = time.perf_counter() - start
        for r in readers:
            r.join(timeout=1.0)
        if any(r.is_alive() for r in readers):           # a process outside the group holds a pipe
            kill_by_token(token)
            for r in readers:
                r.join(timeout=1.0)
        kill_by_token(token)
        for reader, stream in zip(readers, (proc.stdout, proc.stderr)):
            if not reader.is_alive():                     # a reader still blocked keeps its pipe (a daemon thread)
                try:
                    stream.close()                        # type: ignore[union-attr]
                except OSError:
                    pass
    stderr = readers[1].data()[:STDERR_KEPT].decode("utf-8", "replace")
    if overflow.is_set():
        return ChildRun("too much output", None, stderr, seconds,
                        f"printed more than {output_limit >> 20} MB and was stopped")
    if status == "timeout":
        return ChildRun("timeout", None, stderr, seconds, f"timed out after {timeout:g} s and was stopped "
                                                          f"(an endless loop?)")
    raw = readers[0].data()
    if not raw:
        why = _signal_name(proc.returncode)
        return ChildRun("crashed", None, stderr, seconds, f"the process ended ({why}) before reporting")
    try:
        result = json.loads(raw)
    except (ValueError, RecursionError):
        return ChildRun("bad result", None, stderr, seconds, "the process reported something that is not JSON")
    if not isinstance(result, dict) or set(result) not in ({"outputs"}, {"error"}):
        return ChildRun("bad result", None, stderr, seconds, "the process reported an unexpected document")
    return ChildRun("ok", result, stderr, seconds)


def _signal_name(returncode: int | None) -> str:
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        extra = {"SIGXCPU": ": out of CPU time", "SIGKILL": "", "SIGSEGV": ": a crash (out of memory?)",
                 "SIGXFSZ": ": it tried to write a file"}.get(name, "")
        return f"killed by {name}{extra}"
    return f"exit status {returncode}"
