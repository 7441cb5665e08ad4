"""The documentation site builds strictly, and the docstrings' references to it resolve.

* ``mkdocs build --strict`` fails on a broken link or anchor between pages, a page
  missing from ``docs/``, or a docstring that mkdocstrings cannot render; the test
  runs it into a temporary folder (about 30 s of CPU: mkdocs-jupyter renders every notebook).
* Docstrings point readers to derivations as ``docs/<page>.md#<anchor>``; every such
  reference in ``numgan/`` must name an existing page and one of its headings, by
  the slug MkDocs gives that heading.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: ``docs/backprop.md`` or ``docs/backprop.md#leaky-relu`` in a docstring or comment
DOCS_REF = re.compile(r"docs/([\w.-]+\.md)(?:#([\w-]+))?")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
CUSTOM_ID = re.compile(r"\s*\{\s*#([\w-]+)[^}]*\}\s*$")


def slugify(text: str) -> str:
    """The anchor MkDocs gives a heading: Python-Markdown's ``toc`` slug.

    Lowercase, punctuation dropped (``\\w``, spaces and hyphens kept), runs of
    spaces and hyphens turned into one hyphen. Inline markup is removed first,
    as ``toc`` sees the rendered text (``[text](url)`` -> ``text``).
    """
    try:
        from markdown.extensions.toc import slugify as md_slugify
    except ImportError:  # the same rule, written out
        def md_slugify(value, separator):
            import unicodedata
            value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
            value = re.sub(r"[^\w\s-]", "", value).strip().lower()
            return re.sub(rf"[{separator}\s]+", separator, value)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return md_slugify(text, "-")


def heading_anchors(markdown_text: str) -> set[str]:
    """The anchors of the ATX headings of a page, outside fenced code, duplicates numbered as ``toc`` does."""
    anchors: set[str] = set()
    fence = None
    for line in markdown_text.splitlines():
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
            continue
        if fence is not None:
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                fence = None
            continue
        match = HEADING.match(line)
        if not match:
            continue
        text = match.group(2)
        custom = CUSTOM_ID.search(text)
        slug = custom.group(1) if custom else slugify(text)
        unique, n = slug, 0
        while unique in anchors:
            n += 1
            unique = f"{slug}_{n}"
        anchors.add(unique)
    return anchors


def docstring_references() -> list[tuple[str, str, str | None]]:
    """``(where, page, anchor)`` for every ``docs/<page>.md[#anchor]`` in the package's sources."""
    refs = []
    for path in sorted((ROOT / "numgan").rglob("*.py")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in DOCS_REF.finditer(line):
                refs.append((f"{path.relative_to(ROOT)}:{lineno}", match.group(1), match.group(2)))
    return refs


def test_slugs_follow_mkdocs():
    assert slugify("Why beta1 = 0.5 for GANs") == "why-beta1-05-for-gans"
    assert slugify("7. GANs do not replace gradient descent, and why training is hard") == \
        "7-gans-do-not-replace-gradient-descent-and-why-training-is-hard"
    assert slugify("Packing (PacGAN)") == "packing-pacgan"
    assert slugify("`numgan train`") == "numgan-train"
    text = "# Title\n\n## Dense\n\n```python\n# not a heading\n```\n\n## Dense\n\n### Own id {#here}\n"
    assert heading_anchors(text) == {"title", "dense", "dense_1", "here"}


def test_docstring_references_point_to_existing_sections():
    refs = docstring_references()
    assert len(refs) >= 10, f"expected the docstrings to reference the docs, found only {refs}"
    anchors: dict[str, set[str]] = {}
    broken = []
    for where, page, anchor in refs:
        path = DOCS / page
        if not path.is_file():
            broken.append(f"{where}: docs/{page} does not exist")
            continue
        if page not in anchors:
            anchors[page] = heading_anchors(path.read_text(encoding="utf-8"))
        if anchor is not None and anchor not in anchors[page]:
            broken.append(f"{where}: docs/{page} has no heading with anchor #{anchor} "
                          f"(its anchors: {', '.join(sorted(anchors[page]))})")
    assert not broken, "broken references to the docs:\n" + "\n".join(broken)


def test_mkdocs_build_is_strict_clean(tmp_path):
    try:
        import mkdocs  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError as err:
        pytest.fail(f"the docs tools are missing ({err}); install them with pip install -e \".[docs]\" "
                    f"(the dev extra includes them)")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{log[-6000:]}"
    assert "WARNING" not in log, f"mkdocs build printed warnings:\n{log[-6000:]}"
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for module in ("layers", "init", "network", "losses", "optim", "gradcheck", "objectives", "penalties",
                   "gan", "train", "checkpoint", "data", "metrics", "classifier", "image_evaluation", "viz", "recipes",
                   "flat", "history", "conv", "batchnorm", "reshape", "dcgan", "viz.live"):
        assert f'id="numgan.{module}"' in api, f"the API page has no section for numgan.{module}"
    backprop = (site / "backprop" / "index.html").read_text(encoding="utf-8")
    assert 'class="arithmatex"' in backprop, "the maths is not marked for MathJax"
    home = (site / "index.html").read_text(encoding="utf-8")
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        rendered = site / "notebooks" / notebook.stem / "index.html"
        assert rendered.is_file(), f"the site has no page for {notebook.name}"
        assert f'href="notebooks/{notebook.stem}/"' in home, f"the nav does not link to {notebook.name}"
        html, cells = rendered.read_text(encoding="utf-8"), json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        shown = re.findall(r'<div class="jp-Cell jp-CodeCell[^"]*" id="cell-id=', html)   # nbconvert: one per cell
        assert len(shown) == len(code), f"{notebook.name}: {len(shown)} code cells shown, {len(code)} in the notebook"
        if any(c.get("outputs") for c in code):   # the stored outputs, shown as they are (execute: false)
            assert '<div class="jp-Cell-outputWrapper' in html, f"{notebook.name}: its outputs are not shown"
    for picture in (DOCS / "img").glob("*"):
        assert (site / "img" / picture.name).is_file(), f"the site lacks img/{picture.name}"


# ---------------------------------------------------------------------------------------------
# the notebooks in the site: docs/notebooks_hook.py adds every notebooks/*.ipynb to the nav and the files


def load_notebooks_hook():
    import importlib.util
    spec = importlib.util.spec_from_file_location("notebooks_hook", DOCS / "notebooks_hook.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mkdocs_yml_renders_the_notebooks_without_executing_them():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    hooks = re.search(r"^hooks:\n((?:\s+- .+\n)+)", config, re.M)
    assert hooks and "docs/notebooks_hook.py" in hooks.group(1), "mkdocs.yml must load docs/notebooks_hook.py"
    jupyter = re.search(r"^  - mkdocs-jupyter:\n((?:      .+\n)+)", config, re.M)
    assert jupyter, "mkdocs.yml must configure the mkdocs-jupyter plugin"
    assert re.search(r"^\s+execute: false$", jupyter.group(1), re.M), "the build must not execute the notebooks"
    assert re.search(r'^\s+include: \["\*\.ipynb"\]$', jupyter.group(1), re.M), \
        "only notebooks: the default would also render docs/*.py and Markdown with a kernel"


def test_the_nav_lists_every_notebook_with_its_title():
    from types import SimpleNamespace

    hook = load_notebooks_hook()
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 9
    config = SimpleNamespace(nav=[{"Home": "index.md"}, {"Notebooks": ["stale.ipynb"]}])
    nav = hook.on_config(config).nav
    assert nav[0] == {"Home": "index.md"} and list(nav[-1]) == ["Notebooks"]
    assert sum(1 for item in nav if isinstance(item, dict) and "Notebooks" in item) == 1
    entries = nav[-1]["Notebooks"]
    assert [path for entry in entries for path in entry.values()] == [f"notebooks/{p.name}" for p in notebooks]
    for entry, path in zip(entries, notebooks):
        (title,) = entry
        first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
        assert first["cell_type"] == "markdown" and title in "".join(first["source"]), (path.name, title)
        assert not title.startswith("#")


def test_links_between_notebooks_point_to_their_pages():
    from types import SimpleNamespace

    hook = load_notebooks_hook()
    html = ('<a href="03_adam.ipynb">03</a> <a href="06_mode_collapse.ipynb#remedies">06</a> '
            '<a href="missing.ipynb">?</a> <a href="https://numgan.github.io/numgan/adam/">docs</a>')
    page = SimpleNamespace(file=SimpleNamespace(src_uri="notebooks/01_dense_layer_backprop.ipynb"))
    out = hook.on_page_content(html, page, SimpleNamespace(use_directory_urls=True), None)
    assert out == ('<a href="../03_adam/">03</a> <a href="../06_mode_collapse/#remedies">06</a> '
                   '<a href="missing.ipynb">?</a> <a href="https://numgan.github.io/numgan/adam/">docs</a>')
    other = SimpleNamespace(file=SimpleNamespace(src_uri="index.md"))
    assert hook.on_page_content(html, other, SimpleNamespace(use_directory_urls=True), None) == html
