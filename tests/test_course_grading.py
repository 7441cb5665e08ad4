"""The grader (numgan.course.grading, sandbox): verdicts decided outside the submission's reach.

Each test grades a made-up submission: a copy of the instructor's package
(the solutions) with one change, on the two dense exercises (about 0.4 s
each). The grader's root is a private copy of the instructor's checkout, so
that the restore of tampered files touches nothing else.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from numgan.course.gradebook import grade_all, to_csv, to_gradescope
from numgan.course.grading import Grader, Snapshot
from numgan.course.sandbox import kill_by_token

ROOT = Path(__file__).resolve().parents[1]
DENSE = ["dense_forward", "dense_backward"]


@pytest.fixture(scope="module")
def grader(instructor) -> Grader:
    return Grader(instructor, timeout=10)


def submission(tmp_path: Path, instructor: Path, name: str = "student", edits: dict | None = None,
               extra: dict | None = None) -> Path:
    """A submission: the instructor's package with ``{file: (old, new)}`` replaced and ``{path: text}`` added."""
    sub = tmp_path / name
    shutil.copytree(instructor / "numgan", sub / "numgan", ignore=shutil.ignore_patterns("__pycache__", "answers"))
    for rel, (old, new) in (edits or {}).items():
        path = sub / rel
        text = path.read_text()
        assert text.count(old) == 1, (rel, old)
        path.write_text(text.replace(old, new))
    for rel, text in (extra or {}).items():
        (sub / rel).parent.mkdir(parents=True, exist_ok=True)
        (sub / rel).write_text(text)
    return sub


def points(result: dict) -> dict[str, int]:
    return {f"{e['exercise']}: {p['part']}": p["points"] for e in result["exercises"] for p in e["parts"]}


WRONG_DB = ("numgan/layers.py", ('np.sum(dy, axis=0, out=out["b"])', 'np.mean(dy, axis=0, out=out["b"])'))
FULL = {"dense_forward: forward": 1, "dense_backward: dx": 1, "dense_backward: dW and db": 1}
DB_LOST = dict(FULL, **{"dense_backward: dW and db": 0})


def on_top(rel: str, code: str) -> tuple[str, tuple[str, str]]:
    """An edit that runs ``code`` when ``rel`` (an exercise file) is imported, next to the wrong db."""
    return rel, ("from __future__ import annotations\n", "from __future__ import annotations\n" + code + "\n")


def test_the_solutions_get_full_points_and_a_wrong_db_loses_that_part_only(grader, instructor, tmp_path):
    assert points(grader.grade(submission(tmp_path, instructor, "right"), DENSE)) == FULL
    result = grader.grade(submission(tmp_path, instructor, "wrong", dict([WRONG_DB])), DENSE)
    assert points(result) == DB_LOST
    assert "db" in result["exercises"][1]["parts"][1]["message"]


def test_a_bug_in_one_exercise_does_not_cost_another_that_uses_it(grader, instructor, tmp_path):
    # a wrong Dense.forward must not fail the GAN step or dense_backward in grading (their Dense is ours)
    edits = {"numgan/layers.py": ("        y += b\n", "        y -= b\n")}
    result = grader.grade(submission(tmp_path, instructor, "fwd", edits), DENSE)
    assert points(result) == dict(FULL, **{"dense_forward: forward": 0})


def test_rel_error_returning_zero_in_the_submission_changes_nothing(grader, instructor, tmp_path):
    sub = submission(tmp_path, instructor, "cheat", dict([WRONG_DB]), {
        "numgan/gradcheck.py": "def rel_error(a, b):\n    return 0.0\n"})
    result = grader.grade(sub, DENSE)
    assert points(result) == DB_LOST


@pytest.mark.parametrize("code", [
    # forge a passing result on every file descriptor the child might report on
    "import os, json\nfor fd in range(1, 20):\n    try: os.write(fd, json.dumps({'outputs': {}}).encode())\n"
    "    except OSError: pass",
    # patch numpy so that every comparison passes (in the child: the verdict is not decided there)
    "import numpy\nnumpy.allclose = lambda *a, **k: True\nnumpy.array_equal = lambda *a, **k: True",
    # reach the grader's own modules and patch their judgement
    "import sys\nfor m in list(sys.modules.values()):\n    if hasattr(m, 'judge'): m.judge = lambda *a: []",
])
def test_code_in_an_exercise_file_cannot_fake_the_verdict(grader, instructor, tmp_path, code):
    sub = submission(tmp_path, instructor, "cheat", dict([WRONG_DB]))
    rel, (old, new) = on_top("numgan/layers.py", "try:\n" + "\n".join("    " + line for line in code.splitlines())
                             + "\nexcept Exception:\n    pass")
    path = sub / rel
    path.write_text(path.read_text().replace(old, new, 1))
    result = grader.grade(sub, DENSE)
    assert points(result)["dense_backward: dW and db"] == 0


@pytest.mark.parametrize("how", ["checkout", "site-packages"])
def test_the_instructors_package_cannot_be_grafted_in(grader, instructor, tmp_path, how):
    # at the end of the submission's layers.py: load the instructor's Dense and take its backward
    if how == "checkout":
        find = f"path = {str(ROOT / 'numgan' / 'layers.py')!r}"
    else:   # through the editable install's finder or the installed copy, as a student on the same machine could
        find = ("import sys, glob, os\n"
                "sites = [p for p in sys.path if p.endswith('site-packages')]\n"
                "hits = [h for s in sites for h in glob.glob(os.path.join(s, '*numgan*'))]\n"
                "text = ''.join(open(h).read() for h in hits if h.endswith(('.pth', '.py')) and os.path.isfile(h))\n"
                f"path = {str(ROOT / 'numgan' / 'layers.py')!r} if {str(ROOT)!r} in text or hits else ''")
    graft = (f"try:\n" + "".join(f"    {line}\n" for line in find.splitlines())
             + "    import importlib.util as u\n"
             "    s = u.spec_from_file_location('numgan.theirs', path)\n"
             "    m = u.module_from_spec(s); s.loader.exec_module(m)\n"
             "    Dense.backward = m.Dense.backward\n"
             "except Exception as err:\n"
             "    import sys; print('GRAFT', type(err).__name__, err, file=sys.stderr)\n")
    sub = submission(tmp_path, instructor, "graft", dict([WRONG_DB]))
    path = sub / "numgan" / "layers.py"
    path.write_text(path.read_text() + "\n" + graft)
    result = grader.grade(sub, DENSE)
    assert points(result)["dense_backward: dW and db"] == 0
    installed = [h for s in sys.path if s.endswith("site-packages") for h in Path(s).glob("*numgan*")]
    if how == "checkout" or installed:
        assert "does not allow reading" in result["exercises"][1]["message"], result["exercises"][1]["message"]


def test_files_outside_the_exercise_files_are_never_imported_and_are_reported(instructor, tmp_path):
    grader = Grader(instructor, timeout=10, released={"numgan/__init__.py": "x"})
    boom = "import os\nos._exit(3)\n"
    sub = submission(tmp_path, instructor, "cheat", dict([WRONG_DB]), {
        "json.py": boom, "numpy.py": boom, "conftest.py": boom, "sitecustomize.py": boom, "usercustomize.py": boom,
        "numgan/__init__.py": "import json\njson.dump({'passed': True}, open('/tmp/x', 'w'))\n" + boom,
        "numgan/course/__init__.py": boom})
    result = grader.grade(sub, DENSE)
    assert points(result) == DB_LOST
    for rel in ("json.py", "numpy.py", "conftest.py", "sitecustomize.py", "numgan/__init__.py",
                "numgan/course/__init__.py"):
        assert rel in result["ignored_files"]
    assert "numgan/layers.py" not in result["ignored_files"]


def test_a_hard_coded_output_for_the_public_inputs_fails_on_the_grading_inputs(grader, instructor, tmp_path):
    from numgan.course.answers import expected
    from numgan.course.tasks import public_seed, task

    inputs = task("dense_forward").inputs(np.random.default_rng(public_seed("dense_forward")))
    y = expected("dense_forward", inputs)["y"]
    code = (f"        import numpy as _np\n        return _np.array({y.tolist()!r}, dtype=x.dtype), x\n")
    edits = {"numgan/layers.py": ("        y = x @ W\n        y += b\n        return y, x\n", code)}
    sub = submission(tmp_path, instructor, "hardcoded", edits)
    from numgan.course.selfcheck import run_check  # noqa: F401 - the public self-check would pass it
    result = grader.grade(sub, ["dense_forward"])
    assert result["points"] == 0


def test_writing_into_the_grader_is_refused_and_later_submissions_are_graded_right(instructor, tmp_path):
    grader = Grader(instructor, timeout=10)
    targets = [instructor / "numgan" / "course" / "answers" / "layers.py", instructor / "numgan" / "layers.py"]
    before = [t.read_bytes() for t in targets]
    warnings: list[str] = []
    grader.warn = warnings.append
    for k, how in enumerate(("open(f, 'a').write('\\nANSWERS.clear()\\n')", "os.truncate(f, 0)", "os.remove(f)",
                             "os.chmod(f, 0o777)", "os.symlink('/etc', f + '.d')", "os.mkfifo(f + '.fifo')")):
        code = f"import os\nfor f in {[str(t) for t in targets]!r}:\n    {how}"
        sub = submission(tmp_path, instructor, f"vandal{k}", dict([WRONG_DB]))
        rel, (old, new) = on_top("numgan/layers.py", code)
        (sub / rel).write_text((sub / rel).read_text().replace(old, new, 1))
        result = grader.grade(sub, DENSE)
        assert result["points"] == 0, how
        if "mkfifo" in how and grader.user is None:   # no audit event for mkfifo: as root it happens, caught after
            assert result["exercises"][0]["tampered"] == ["numgan/course/answers/layers.py.fifo",
                                                          "numgan/layers.py.fifo"]
            assert len(warnings) == 1 and "vandal5" in warnings[0]
            for fifo in (instructor / "numgan").rglob("*.fifo"):
                fifo.unlink()
            grader.snapshot.changes()
        elif "mkfifo" in how:                          # as nobody, the kernel refuses it
            assert "Permission denied" in result["exercises"][1]["message"], result["exercises"][1]["message"]
        else:
            assert "does not allow" in result["exercises"][1]["message"], how
    assert [t.read_bytes() for t in targets] == before
    assert not list((instructor / "numgan").rglob("*.d"))
    later = grader.grade(submission(tmp_path, instructor, "later"), DENSE)
    assert points(later) == FULL


def test_a_change_to_the_instructors_files_costs_the_exercise_is_reported_and_not_undone(instructor, tmp_path,
                                                                                         monkeypatch):
    # as if a child got past every defence and changed a file of the checkout while it ran
    import numgan.course.grading as grading

    warnings = []
    grader = Grader(instructor, timeout=10, warn=lambda text: warnings.append(text))
    target = instructor / "numgan" / "history.py"
    original = target.read_bytes()
    real_run = grading.run_child

    def tampering_run(job, tree, **kw):
        run = real_run(job, tree, **kw)
        if job["exercise"] == "dense_backward":
            target.write_bytes(original + b"\n# changed\n")
        return run

    monkeypatch.setattr(grading, "run_child", tampering_run)
    try:
        result = grader.grade(submission(tmp_path, instructor, "mallory"), DENSE)
        assert points(result) == dict(FULL, **{"dense_backward: dx": 0, "dense_backward: dW and db": 0})
        assert result["exercises"][1]["tampered"] == ["numgan/history.py"]
        warnings = [w for w in warnings if "changed" in w]
        assert len(warnings) == 1 and "mallory" in warnings[0] and "numgan/history.py" in warnings[0]
        assert target.read_bytes() == original + b"\n# changed\n"          # reported, not silently undone
        later = grader.grade(submission(tmp_path, instructor, "later"), DENSE)  # the change is the new normal
        assert points(later) == FULL and len([w for w in warnings if "changed" in w]) == 1
    finally:
        target.write_bytes(original)


def test_the_snapshot_sees_changed_new_and_special_files(tmp_path):
    root = tmp_path / "root"
    (root / "numgan" / "course").mkdir(parents=True)
    kept = root / "numgan" / "course" / "answers.py"
    kept.write_text("REFERENCE = 1\n")
    snap = Snapshot(root)
    assert snap.changes() == []
    kept.write_text("REFERENCE = 2\n")
    (root / "numgan" / "evil.py").write_text("x = 1\n")
    os.mkfifo(root / "numgan" / "pipe.py")
    assert snap.changes() == ["numgan/course/answers.py", "numgan/evil.py", "numgan/pipe.py"]
    assert snap.changes() == []


def test_an_endless_loop_ends_at_the_timeout_and_costs_that_exercise_only(instructor, tmp_path):
    grader = Grader(instructor, timeout=2)
    edits = {"numgan/layers.py": ("        y = x @ W\n        y += b\n", "        while True:\n            pass\n")}
    start = time.perf_counter()
    result = grader.grade(submission(tmp_path, instructor, "loop", edits), DENSE)
    assert time.perf_counter() - start < 15
    assert result["exercises"][0]["status"] == "timeout"
    assert points(result) == dict(FULL, **{"dense_forward: forward": 0})


def test_a_setsid_grandchild_neither_runs_nor_holds_the_grader(instructor, tmp_path):
    grader = Grader(instructor, timeout=3)
    code = ("import subprocess, os\n"
            "for how in (lambda: subprocess.Popen(['setsid', 'sleep', '60']), lambda: os.fork(),\n"
            "            lambda: os.system('setsid sleep 60 &')):\n"
            "    try: how()\n    except Exception: pass")
    sub = submission(tmp_path, instructor, "spawner", dict([WRONG_DB]))
    rel, (old, new) = on_top("numgan/layers.py", code)
    (sub / rel).write_text((sub / rel).read_text().replace(old, new, 1))
    start = time.perf_counter()
    result = grader.grade(sub, DENSE)
    assert time.perf_counter() - start < 12
    assert result["points"] == 0 and "does not allow subprocess.Popen" in result["exercises"][1]["message"]
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "sleep 60" not in out


def test_a_grandchild_holding_the_pipes_is_killed_at_the_timeout(tmp_path):
    # without the audit hook (a determined attacker may get past it): the sandbox itself must not hang
    from numgan.course import sandbox

    proc = subprocess.Popen(["setsid", "sh", "-c", "sleep 30; sleep 30"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=dict(os.environ, NUMGAN_GRADE_TOKEN="t0k"))
    time.sleep(0.3)
    assert kill_by_token("t0k") >= 1
    proc.wait(timeout=5)
    deadline = time.monotonic() + 5
    while sandbox.kill_by_token("t0k") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sandbox.kill_by_token("t0k") == 0


@pytest.mark.parametrize("code,words", [
    ("import sys\nsys.stdout.write('x' * (400 << 20))", "printed more than"),
    ("import numpy\nkeep = numpy.ones(20 * 1024 ** 3 // 8)", "MemoryError"),
    ("import os\nos._exit(0)", "ended"),
    ("raise SystemExit(0)", "SystemExit"),
])
def test_output_floods_huge_allocations_and_exits_fail_that_exercise(grader, instructor, tmp_path, code, words):
    sub = submission(tmp_path, instructor, "noisy")
    rel, (old, new) = on_top("numgan/layers.py", "")
    body = "\n".join("        " + line for line in code.splitlines())
    text = (sub / rel).read_text().replace("        y = x @ W\n", body + "\n        y = x @ W\n", 1)
    (sub / rel).write_text(text)
    start = time.perf_counter()
    result = grader.grade(sub, ["dense_forward"])
    assert time.perf_counter() - start < 20
    assert result["points"] == 0 and words in result["exercises"][0]["message"], result["exercises"][0]["message"]


def test_grade_all_writes_one_row_per_submission_and_gradescope_has_its_fields(instructor, tmp_path):
    grader = Grader(instructor, timeout=3)
    folder = tmp_path / "class"
    folder.mkdir()
    submission(folder, instructor, "ada")
    submission(folder, instructor, "bob", dict([WRONG_DB]))
    submission(folder, instructor, "cy", {"numgan/layers.py": ("        y = x @ W\n", "        while True: pass\n")})
    (folder / "dee").mkdir()                                       # no package at all
    start = time.perf_counter()
    results = grade_all(grader, folder, DENSE)
    assert time.perf_counter() - start < 60
    rows = [line.split(",") for line in to_csv(results, DENSE).splitlines()]
    assert rows[0] == ["student", "dense_forward: forward", "dense_backward: dx", "dense_backward: dW and db",
                       "total", "max", "problems"]
    assert rows[1][:6] == ["ada", "1", "1", "1", "3", "3"]
    assert rows[2][:6] == ["bob", "1", "1", "0", "2", "3"]
    assert rows[3][:6] == ["cy", "0", "1", "1", "2", "3"] and "timeout" in rows[3][6]
    assert rows[4][:6] == ["dee", "0", "0", "0", "0", "3"] and "no numgan package" in rows[4][6]
    gs = to_gradescope(results[1])
    assert gs["score"] == 2 and {"score", "tests", "output"} <= set(gs)
    assert [(t["name"], t["score"], t["max_score"]) for t in gs["tests"]] == [
        ("dense_forward: forward", 1, 1), ("dense_backward: dx", 1, 1), ("dense_backward: dW and db", 0, 1)]
    assert all(isinstance(t["output"], str) and t["output"] for t in gs["tests"])
    json.dumps(gs)


def test_the_seed_depends_on_the_secret_and_the_student():
    from numgan.course.tasks import public_seed, secret_seed

    seeds = {secret_seed("adam", s, k) for s in ("ada", "bob") for k in ("", "course-secret")}
    assert len(seeds) == 4 and public_seed("adam") not in seeds


def test_the_grading_child_runs_isolated(grader, instructor, tmp_path):
    # what the child sees: isolated flags, no site, the probes and the grading copy ahead of site-packages
    code = ("import sys, json\nprint('FLAGS', sys.flags.isolated, sys.flags.no_site, 'site' in sys.modules, "
            "file=sys.stderr)\nprint('PATH', json.dumps(sys.path), file=sys.stderr)")
    sub = submission(tmp_path, instructor, "probe")
    rel, (old, new) = on_top("numgan/layers.py", code)
    (sub / rel).write_text((sub / rel).read_text().replace(old, new, 1))
    result = grader.grade(sub, ["dense_forward"])
    output = result["exercises"][0]["output"]
    assert "FLAGS 1 1 False" in output
    path = json.loads(output.split("PATH ", 1)[1].splitlines()[0])
    names = [Path(p).name for p in path]
    assert names.index("probes") < names.index("tree") < min(i for i, p in enumerate(path) if "-packages" in p)
    assert result["points"] == 1


# -- found by attacking the grader (see docs/course.md#threat-model) --------------------------------

def append_to_layers(sub: Path, code: str) -> None:
    path = sub / "numgan" / "layers.py"
    path.write_text(path.read_text() + "\n" + code + "\n")


@pytest.mark.parametrize("path_code", [
    "'/proc/self/root' + {pkg!r} + '/layers.py'",                         # a symbolic link to /
    "{pkg!r} + '/../numgan/./layers.py'",                                 # dots
    "'numgan/layers.py'",                                                 # relative (and dir_fd)
])
def test_the_instructors_files_cannot_be_read_by_another_path(grader, instructor, tmp_path, path_code):
    pkg = str(instructor / "numgan")
    code = (f"ns = {{'__name__': 'numgan.stolen', '__package__': 'numgan'}}\n"
            f"exec(open({path_code.format(pkg=pkg)}).read(), ns)\nDense.backward = ns['Dense'].backward")
    sub = submission(tmp_path, instructor, "reader", dict([WRONG_DB]))
    append_to_layers(sub, code)
    result = grader.grade(sub, ["dense_backward"])
    assert result["points"] == 0 and "does not allow" in result["exercises"][0]["message"]


def test_a_refused_action_ends_the_child_so_its_traceback_cannot_be_inspected(grader, instructor, tmp_path):
    code = ("try:\n    open('/etc/passwd')\nexcept BaseException as err:\n"
            "    import sys; print('CAUGHT', type(err).__name__, file=sys.stderr)")
    sub = submission(tmp_path, instructor, "prober", dict([WRONG_DB]))
    append_to_layers(sub, code)
    result = grader.grade(sub, ["dense_backward"])
    assert result["points"] == 0 and "CAUGHT" not in result["exercises"][0].get("output", "")


@pytest.mark.parametrize("link", ["numgan", "numgan/layers.py", "numgan/__init__.py"])
def test_symbolic_links_in_a_submission_are_not_followed(grader, instructor, tmp_path, link):
    sub = submission(tmp_path, instructor, "linker", dict([WRONG_DB]))
    target = sub / link
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    target.symlink_to(instructor / link)
    if link == "numgan":
        with pytest.raises(ValueError, match="symbolic link"):
            grader.grade(sub, ["dense_backward"])
        return
    result = grader.grade(sub, ["dense_backward"])
    if link == "numgan/layers.py":
        assert result["points"] == 0 and "symbolic link" in result["exercises"][0]["message"]
    else:
        assert points(result) == {"dense_backward: dx": 1, "dense_backward: dW and db": 0}


def test_a_notebook_exercise_cannot_hand_its_work_to_the_packages_solution(grader, instructor, tmp_path):
    import json as json_module

    nb_rel = "notebooks/01_dense_layer_backprop.ipynb"
    nb = json_module.loads((ROOT / nb_rel).read_text())
    delegate = ("def dense_backward(dy, cache):\n    x, W = cache\n    from numgan.layers import Dense\n"
                "    layer = Dense(W.shape[0], W.shape[1], dtype=W.dtype)\n    layer.params['W'][...] = W\n"
                "    dx, g = layer.backward(dy, x)\n    return dx, g['W'], g['b']\n")
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and "".join(cell["source"]).startswith("def dense_backward("):
            cell["source"] = delegate
    sub = submission(tmp_path, instructor, "delegate")
    (sub / "notebooks").mkdir()
    (sub / nb_rel).write_text(json_module.dumps(nb))
    result = grader.grade(sub, ["01.dense_backward"])
    assert result["points"] == 0 and "NotImplementedError" in result["exercises"][0]["message"]
    honest = grader.grade(submission(tmp_path, instructor, "honest"), ["01.dense_forward"])
    assert honest["exercises"][0]["message"].startswith("the submission has no notebooks/")


def test_hostile_files_cost_their_submission_only(instructor, tmp_path):
    grader = Grader(instructor, timeout=5, released={"numgan/__init__.py": "x"})
    folder = tmp_path / "class"
    folder.mkdir()
    deep = submission(folder, instructor, "deep")
    append_to_layers(deep, "_x = " + "-" * 200_000 + "1")
    big = submission(folder, instructor, "=HYPERLINK(\"x\")")
    with open(big / "notes.bin", "wb") as fh:                    # a sparse 3 GB file, never read whole
        fh.truncate(3 << 30)
    nested = submission(folder, instructor, "nested")
    (nested / "notebooks").mkdir()
    (nested / "notebooks" / "01_dense_layer_backprop.ipynb").write_text("[" * 200_000 + "]" * 200_000)
    odd = os.fsdecode(os.fsencode(str(folder)) + b"/odd\xffname")
    shutil.copytree(submission(tmp_path, instructor, "odd"), odd)
    results = grade_all(grader, folder, ["dense_forward", "01.dense_forward"])
    by_name = {r["student"]: {**r, **{e["exercise"]: e for e in r["exercises"]}} for r in results}
    assert len(results) == 4
    assert by_name["deep"]["points"] == 0 and by_name["deep"]["dense_forward"]["status"] == "error"
    assert by_name["=HYPERLINK(\"x\")"]["points"] == 1 and "notes.bin" in by_name["=HYPERLINK(\"x\")"]["ignored_files"]
    assert "not a notebook" in by_name["nested"]["01.dense_forward"]["message"]
    text = to_csv(results, ["dense_forward", "01.dense_forward"])
    import csv

    students = [row[0] for row in csv.reader(text.splitlines())][1:]
    assert "'=HYPERLINK(\"x\")" in students and any(s.startswith("odd") for s in students)


def test_as_root_the_child_runs_as_nobody_and_the_kernel_refuses_what_the_hook_would(instructor, tmp_path,
                                                                                     monkeypatch):
    # the layer under the audit hook: with the hook switched off, the kernel still refuses it all
    from numgan.course import sandbox

    user = sandbox.unprivileged_user()
    if user is None or sandbox.user_can_run_python(user) is not None:
        pytest.skip("needs root and a Python (with NumPy) that the user nobody can run")
    probes = tmp_path / "probes"
    shutil.copytree(sandbox.probes_source(), probes)
    guard = probes / "_guard.py"
    guard.write_text(guard.read_text().replace("    refused_events = frozenset(_REFUSED_EVENTS)",
                                               "    return\n    refused_events = frozenset(_REFUSED_EVENTS)", 1))
    monkeypatch.setattr(sandbox, "probes_source", lambda: probes)
    grader = Grader(instructor, timeout=10)
    assert grader.user == user
    code = ("import os, sys\nprint('UID', os.getuid(), file=sys.stderr)\n"
            f"for name, how in [('fork', os.fork), ('write', lambda: open({str(instructor / 'numgan' / 'zz')!r}, 'w')),\n"
            f"                  ('mkfifo', lambda: os.mkfifo({str(instructor / 'numgan' / 'zz_fifo')!r})),\n"
            "                  ('kill', lambda: os.kill(os.getppid(), 0))]:\n"
            "    try:\n        how(); print('DID', name, file=sys.stderr)\n"
            "    except BaseException as err:\n        print('NO', name, type(err).__name__, file=sys.stderr)")
    sub = submission(tmp_path, instructor, "kernel")
    rel, (old, new) = on_top("numgan/layers.py", code)
    (sub / rel).write_text((sub / rel).read_text().replace(old, new, 1))
    result = grader.grade(sub, ["dense_forward"])
    output = result["exercises"][0]["output"]
    assert f"UID {user[0]}" in output and "DID" not in output, output
    assert result["points"] == 1 and not list((instructor / "numgan").glob("zz*"))
