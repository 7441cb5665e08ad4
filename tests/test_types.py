"""The package's type hints: ``mypy numgan`` passes under the strict ``[mypy]`` section of setup.cfg.

mypy runs as a reader would run it, ``python -m mypy numgan`` from the repository
root, so that setup.cfg is the configuration it reads. A second run on a small
untyped module shows that this configuration really rejects a function without
annotations (otherwise a weakened setup.cfg would let the first test pass on
anything). Skipped when mypy is not installed (``pip install -e ".[dev]"``).
"""
from __future__ import annotations

import configparser
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_mypy(*args: str) -> subprocess.CompletedProcess:
    """``python -m mypy ARGS`` in the repository root (so setup.cfg is read)."""
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed: pip install -e '.[dev]' (or pip install 'mypy>=1.10')")
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_the_package_type_checks():
    result = run_mypy("numgan")
    assert result.returncode == 0 and "Success: no issues found" in result.stdout, result.stdout + result.stderr


def test_the_configuration_rejects_untyped_functions(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def untyped(x):\n    return x\n\n\ndef half_typed(x: int, y) -> int:\n    return x + y\n")
    result = run_mypy(str(probe))
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "probe.py:1: error: Function is missing a type annotation  [no-untyped-def]" in out, out
    assert "probe.py:5: error: Function is missing a type annotation for one or more parameters" in out, out


def test_no_part_of_numgan_relaxes_the_checks():
    """No per-module section turns the checks off for a part of numgan (ignore_errors, ...): the course
    kit, split into numgan/course/, is annotated like the rest."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    main = config["mypy"]
    for option in ("disallow_untyped_defs", "disallow_incomplete_defs", "check_untyped_defs"):
        assert main.getboolean(option), option
    relaxed = {}
    for section in config.sections():
        modules = section[len("mypy-"):].split(",") if section.startswith("mypy-") else []
        if any(m.strip().split(".")[0] == "numgan" for m in modules):
            relaxed[section] = dict(config[section])
    assert relaxed == {}
