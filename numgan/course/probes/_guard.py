"""A tripwire for the grading child: an audit hook that refuses what no exercise needs.

Installed after NumPy is imported and before any of the student's code runs,
it ends the process (the exercise fails with ``PermissionError``) on opening
a file for writing; reading a file
outside the allowed folders (the standard library, NumPy's site-packages, the
grading copy of the package, this kit's probes), and anything under a refused
folder (the instructor's own package); starting processes; ``fork``; signals
to other processes; sockets; ``ctypes``; deleting, renaming, linking or
changing files; ``gc``'s object walks; tracing and profiling hooks.

It is a tripwire, not a sandbox: Python's audit hooks can be evaded by code
that sets out to (see ``docs/course.md#threat-model``). The verdict does not
depend on it: the grader decides in its own process from the outputs and its
own references, and the kernel limits (CPU time, memory, file size 0, process
group killed whole) hold whatever the child does.
"""
from __future__ import annotations

import os
import posix
import sys
from typing import NoReturn

_REFUSED_EVENTS = (
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill", "os.killpg",
    "subprocess.Popen", "pty.spawn", "socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo",
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link", "os.symlink",
    "os.truncate", "os.utime", "os.chdir", "os.chflags", "os.setxattr", "os.removexattr", "os.putenv",
    "os.unsetenv", "shutil.copyfile", "shutil.copymode", "shutil.copystat", "shutil.copytree", "shutil.move",
    "shutil.rmtree", "shutil.chown", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
    "sys.settrace", "sys.setprofile", "sys._current_frames", "sys.addaudithook", "sys.remote_exec",
    "resource.setrlimit", "resource.prlimit", "signal.pthread_kill", "mmap.__new__", "os.listxattr",
    "_posixsubprocess.fork_exec", "webbrowser.open", "urllib.Request", "os.mkfifo", "os.mknod", "os.chroot",
    "os.lchmod", "os.lchown", "os.lchflags", "os.setuid", "os.setgid", "os.setgroups", "os.setreuid",
    "os.setregid", "os.setresuid", "os.setresgid", "os.seteuid", "os.setegid",
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def install(read_roots: list[str], refused_roots: list[str], result_fd: int) -> None:
    """Add the audit hook; every path argument is an absolute, normalised folder.

    A refused event ends the process at once (``os._exit``) after writing
    ``{"error": "PermissionError: ..."}`` on ``result_fd``: the student's code
    never gets an exception back to catch, to retry or to inspect (its
    traceback would lead to this hook's frame). Paths are judged after
    following every symbolic link (``/proc/self/root`` included) with C
    functions bound here, and only exact ``str``/``bytes`` paths are
    accepted, so that no code of the student's runs inside the hook;
    relative paths are refused (an ``os.open`` with ``dir_fd`` would otherwise
    be judged against the wrong folder).
    """
    refused_events = frozenset(_REFUSED_EVENTS)
    allowed = tuple(r.rstrip("/") + "/" for r in read_roots)
    refused = tuple(r.rstrip("/") + "/" for r in refused_roots)
    write_flags = _WRITE_FLAGS
    lstat, readlink, write, exit_now = posix.lstat, posix.readlink, posix.write, posix._exit
    type_, str_, bytes_, int_, tuple_ = type, str, bytes, int, tuple
    link_bits, mode_mask = 0o120000, 0o170000
    special = ("/dev/null", "/dev/urandom", "/proc/cpuinfo", "/proc/meminfo", "/sys/devices/system/cpu/")
    safe = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-/()")

    def refuse(what: str) -> NoReturn:
        text = "".join(c if c in safe else "?" for c in what[:300])
        write(result_fd, ('{"error": "PermissionError: the grader does not allow ' + text
                          + ' in an exercise"}').encode("ascii"))
        exit_now(0)

    def resolve(text: str) -> str | None:
        pending = [p for p in text.split("/") if p]
        done: list[str] = []
        links = 0
        while pending:
            part = pending.pop(0)
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            here = "/" + "/".join(done + [part])
            try:
                is_link = (lstat(here).st_mode & mode_mask) == link_bits
            except OSError:
                is_link = False
            if not is_link:
                done.append(part)
                continue
            links += 1
            if links > 40:
                return None
            target = readlink(here)
            if target.startswith("/"):
                done = []
            pending = [p for p in target.split("/") if p] + pending
        return "/" + "/".join(done)

    def hook(event: str, args: tuple) -> None:
        if event in refused_events or event.startswith("ctypes."):
            refuse(event)
        if event != "open":
            return
        path, mode, flags = (tuple_(args) + (None, None, None))[:3]
        if type_(path) is int_:                          # an open file descriptor: nothing new is reached
            return
        if type_(path) is bytes_:
            path = path.decode("utf-8", "surrogateescape")
        if type_(path) is not str_:
            refuse("opening a path given as an object")
        writes = (type_(mode) is str_ and ("w" in mode or "a" in mode or "x" in mode or "+" in mode)) or \
                 (type_(flags) is int_ and flags & write_flags)
        if writes:
            refuse("writing files (" + path + ")")
        if not path.startswith("/"):
            refuse("relative paths (" + path + ")")
        where = resolve(path)
        if where is None:
            refuse("this path (too many symbolic links)")
            return
        probe = where + "/"
        if probe.startswith(refused) or not (probe.startswith(allowed) or where.startswith(special)):
            refuse("reading " + where)

    sys.addaudithook(hook)
