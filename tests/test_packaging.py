"""Packaging: the licences as declared, a self-contained sdist, plain pytest, versions, Binder, notebook links.

* The code is MIT (``LICENSE``); the two bundled data sets keep their own licences
  (``numgan/data/LICENSE-*.txt``), and the metadata says so with one SPDX expression.
* The sdist holds everything the test suite, the docs and the notebooks need: it is
  built, unpacked, its tests are collected from it and one test file runs there.
* ``pytest tests/test_optim.py`` works without nbmake; the README's test command and
  ``.ci/run`` still execute the notebooks (``--nbmake``).
* ``numgan --version``, ``numgan-course --version``, ``python -m numgan``.
* ``binder/`` installs numgan on Binder; the notebooks link to the docs site, and every
  such link names a page of ``docs/`` and one of its headings.
"""
from __future__ import annotations

import configparser
import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import numgan
from numgan.cli import main as numgan_main
from numgan.course.cli import main as course_main
from test_docs import heading_anchors

ROOT = Path(__file__).resolve().parents[1]

#: the licence of each data file shipped in the package, as its notice beside it declares it
DATA_LICENCES = {"digits.npz": "CC-BY-4.0", "mnist_5k.npz": "CC-BY-SA-3.0"}


def setup_cfg() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg


def cfg_list(value: str) -> list[str]:
    return [line.strip() for line in value.strip().splitlines() if line.strip()]


def docs_url() -> str:
    urls = dict(line.split("=", 1) for line in cfg_list(setup_cfg()["metadata"]["project_urls"]))
    return {k.strip(): v.strip() for k, v in urls.items()}["Documentation"]


# ---------------------------------------------------------------------------------------------
# licences and metadata


def test_every_data_file_has_its_licence_beside_it_and_the_metadata_declares_them_all():
    data = ROOT / "numgan" / "data"
    assert sorted(p.name for p in data.glob("*.npz")) == sorted(DATA_LICENCES), "a new data file needs a licence"
    meta = setup_cfg()["metadata"]
    expression = meta["license_expression"]
    declared = set(re.split(r"\s+AND\s+", expression.strip()))
    assert declared == {"MIT", *DATA_LICENCES.values()}, expression
    files = cfg_list(meta["license_files"])
    assert "LICENSE" in files
    for name, spdx in DATA_LICENCES.items():
        notice = data / f"LICENSE-{Path(name).stem}.txt"
        assert notice.is_file(), f"{name} has no licence notice beside it"
        text = notice.read_text(encoding="utf-8")
        assert f"SPDX-License-Identifier: {spdx}" in text and "creativecommons.org/licenses/" in text
        assert notice.relative_to(ROOT).as_posix() in files
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    package_data = setup_cfg()["options.package_data"]["numgan.data"]
    assert "LICENSE-*.txt" in package_data and "*.npz" in package_data


def test_the_metadata_is_complete():
    meta = setup_cfg()["metadata"]
    classifiers = cfg_list(meta["classifiers"])
    assert not [c for c in classifiers if c.startswith("License ::")], \
        "setuptools refuses License classifiers beside a license expression (PEP 639)"
    minor = sorted(int(c.rsplit(".", 1)[1]) for c in classifiers
                   if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    assert minor == [10, 11, 12, 13]
    assert setup_cfg()["options"]["python_requires"].strip() == ">=3.10"
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert "Operating System :: OS Independent" in classifiers
    assert meta["author"].strip() and meta["keywords"].strip()
    assert docs_url().startswith("https://") and docs_url().endswith("/")


# ---------------------------------------------------------------------------------------------
# the sdist


def _build(kind: str, source: Path, out: Path) -> Path:
    """Build an sdist or a wheel of ``source`` into ``out``: ``python -m build`` without isolation
    (the dev extra has it), else setuptools' PEP 517 hook directly; no network either way."""
    if importlib.util.find_spec("build") is not None:
        cmd = [sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "--outdir", str(out), str(source)]
    else:
        hook = "build_sdist" if kind == "sdist" else "build_wheel"
        cmd = [sys.executable, "-c", f"import sys; from setuptools import build_meta; build_meta.{hook}(sys.argv[1])",
               str(out)]
    proc = subprocess.run(cmd, cwd=source, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    (built,) = out.glob("*.tar.gz" if kind == "sdist" else "*.whl")
    return built


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist of this checkout, unpacked: the folder ``numgan-<version>``."""
    tmp = tmp_path_factory.mktemp("sdist")
    archive = _build("sdist", ROOT, tmp / "dist")
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):       # Python 3.10.12+, 3.11.4+: refuse links and absolute paths
            tar.extractall(tmp / "unpacked", filter="data")
        else:
            tar.extractall(tmp / "unpacked")
    (tree,) = (tmp / "unpacked").iterdir()
    assert tree.name == f"numgan-{numgan.__version__}"
    return tree


def test_the_sdist_holds_the_tests_docs_notebooks_scripts_and_licences(sdist):
    for rel in ("tests/conftest.py", "tests/test_optim.py", "tests/data", "docs/index.md", "docs/api_docstrings.py",
                "mkdocs.yml", "scripts/convert_datasets.py", "benchmarks", "binder/requirements.txt",
                "LICENSE", "MANIFEST.in", "setup.cfg", "pyproject.toml", "README.md",
                "numgan/data/digits.npz", "numgan/data/mnist_5k.npz"):
        assert (sdist / rel).exists(), f"the sdist lacks {rel}"
    for name in DATA_LICENCES:
        assert (sdist / "numgan" / "data" / f"LICENSE-{Path(name).stem}.txt").is_file()
    for folder in ("tests", "docs", "notebooks", "scripts"):
        tracked = {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts}
        shipped = {p.relative_to(sdist).as_posix() for p in (sdist / folder).rglob("*") if p.is_file()}
        assert tracked <= shipped, f"the sdist lacks {sorted(tracked - shipped)[:5]}"
    assert not list(sdist.rglob("__pycache__")) and not list(sdist.rglob("*.pyc"))


def test_the_tests_collect_and_run_from_the_unpacked_sdist(sdist):
    env = {**os.environ, "PYTHONPATH": str(sdist), "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
    which = subprocess.run([sys.executable, "-c", "import numgan; print(numgan.__file__)"], cwd=sdist, env=env,
                           capture_output=True, text=True, timeout=60)
    assert Path(which.stdout.strip()).is_relative_to(sdist), "the tests would test the checkout, not the sdist"
    pytest_cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:nbmake", "-q"]
    collected = subprocess.run(pytest_cmd + ["--collect-only", "tests"], cwd=sdist, env=env,
                               capture_output=True, text=True, timeout=120)
    assert collected.returncode == 0, (collected.stdout + collected.stderr)[-3000:]   # 2 on an import error
    files = {line.split("::")[0] for line in collected.stdout.splitlines() if "::" in line}
    assert files == {p.relative_to(sdist).as_posix() for p in (sdist / "tests").glob("test_*.py")}, files
    ran = subprocess.run(pytest_cmd + ["tests/test_optim.py"], cwd=sdist, env=env,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and " passed" in ran.stdout, (ran.stdout + ran.stderr)[-3000:]


def test_a_wheel_built_from_the_sdist_carries_the_data_licences(sdist, tmp_path):
    wheel = _build("wheel", sdist, tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = zf.read(meta_name).decode("utf-8")
    assert "License-Expression: MIT AND CC-BY-SA-3.0 AND CC-BY-4.0" in meta
    assert "\nLicense: " not in meta
    for name in DATA_LICENCES:
        notice = f"LICENSE-{Path(name).stem}.txt"
        assert f"numgan/data/{name}" in names and f"numgan/data/{notice}" in names
        assert any(n.endswith(f".dist-info/licenses/numgan/data/{notice}") for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "numgan/__main__.py" in names


# ---------------------------------------------------------------------------------------------
# pytest without nbmake, and the notebooks still run in the full suite


def test_setup_cfg_needs_no_plugin_to_run_pytest():
    addopts = setup_cfg()["tool:pytest"]["addopts"]
    assert "nbmake" not in addopts, "a plain pytest would fail without nbmake installed"


def test_plain_pytest_runs_a_test_file_without_nbmake():
    # -p no:nbmake: as if nbmake were not installed; setup.cfg's addopts are read as they are
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:nbmake", "-p", "no:cacheprovider", "-q",
                           "tests/test_optim.py"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0 and " passed" in proc.stdout, (proc.stdout + proc.stderr)[-3000:]


def test_the_readme_test_command_and_ci_execute_the_notebooks():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", quick, re.S)
    assert len(commands) == 2, "the quick start holds exactly two commands"
    test_command = commands[1]
    assert re.search(r"pytest -n 2 --nbmake\b", test_command), test_command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^pytest -q -n 2 --nbmake$", ci, re.M), ci
    extras = re.search(r'-e "\.\[([\w,]+)\]"', test_command).group(1)
    assert f'-e ".[{extras}]"' in ci, "CI installs the same extras as the README's test command"
    defined = set(setup_cfg()["options.extras_require"])
    assert set(extras.split(",")) <= defined


# ---------------------------------------------------------------------------------------------
# versions and python -m numgan


@pytest.mark.parametrize("main", [numgan_main, course_main], ids=["numgan", "numgan-course"])
def test_version_option(main, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"numgan {numgan.__version__}\n"


def test_the_version_is_the_package_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", numgan.__version__)
    assert setup_cfg()["metadata"]["version"].strip() == "attr: numgan.__version__"


def test_python_m_numgan_is_the_numgan_command():
    helped = subprocess.run([sys.executable, "-m", "numgan", "--help"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert helped.returncode == 0 and helped.stdout.startswith("usage: numgan "), helped.stdout + helped.stderr
    assert all(command in helped.stdout for command in ("train", "sample", "evaluate", "demo"))
    version = subprocess.run([sys.executable, "-m", "numgan", "--version"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
    assert version.returncode == 0 and version.stdout == f"numgan {numgan.__version__}\n"
    bad = subprocess.run([sys.executable, "-m", "numgan", "nonsense"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


# ---------------------------------------------------------------------------------------------
# Binder and the notebooks' links to the docs


def test_binder_installs_numgan_from_the_repository_root():
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-3\.(\d+)", runtime)
    assert match and 10 <= int(match.group(1)) <= 13, runtime
    lines = [line.split("#", 1)[0].strip() for line in
             (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8").splitlines()]
    requirements = [line for line in lines if line and not line.startswith("--")]
    # repo2docker runs pip from the repository root, so "." is the root (not binder/)
    local = [line.split(None, 1)[-1] for line in requirements if line.split(None, 1)[-1].startswith(".")]
    assert len(local) == 1 and re.fullmatch(r"\.(\[[\w,]+\])?", local[0]), requirements
    extras = re.findall(r"[\w]+", local[0])
    assert set(extras) <= set(setup_cfg()["options.extras_require"])


def notebook_links() -> list[tuple[str, str]]:
    """``(notebook, target)`` for every Markdown link in the notebooks' Markdown cells."""
    links = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                for target in re.findall(r"\]\(([^)\s]+)\)", "".join(cell["source"])):
                    links.append((path.name, target))
    return links


def test_the_notebooks_link_to_the_docs_site_and_every_link_resolves():
    site = docs_url()
    links = notebook_links()
    assert not [(nb, t) for nb, t in links if "docs/" in t and not t.startswith(site)], \
        "a relative link to docs/ breaks outside a checkout: link to the docs site"
    to_site = [(nb, t) for nb, t in links if t.startswith(site)]
    assert len(to_site) >= 50
    broken = []
    for nb, target in to_site:
        page, _, anchor = target[len(site):].partition("#")
        path = ROOT / "docs" / (f"{page.rstrip('/')}.md" if page else "index.md")
        if not page.endswith("/") and page:
            broken.append(f"{nb}: {target} (MkDocs' page URLs end with /)")
        elif not path.is_file():
            broken.append(f"{nb}: {target} (no {path.relative_to(ROOT)})")
        elif anchor and anchor not in heading_anchors(path.read_text(encoding="utf-8")):
            broken.append(f"{nb}: {target} (no heading #{anchor} in {path.relative_to(ROOT)})")
    assert not broken, "broken links to the docs site:\n" + "\n".join(broken)
    for nb, target in links:
        if not re.match(r"[a-z]+:", target) and not target.startswith("#"):
            assert (ROOT / "notebooks" / target.split("#")[0]).exists(), f"{nb}: {target}"
