"""MkDocs hook: the notebooks of ``notebooks/`` as pages of the site, in a "Notebooks" section.

The notebooks live in ``notebooks/`` at the repository root (where Jupyter, Binder, nbmake and the
course kit expect them), outside ``docs_dir``. This hook, named under ``hooks:`` in ``mkdocs.yml``:

* adds every ``notebooks/*.ipynb`` to the site's files as ``notebooks/<name>.ipynb``, before
  mkdocs-jupyter's ``on_files`` (priority 100) so that the plugin renders it, with its stored
  outputs (``execute: false``): a page ``notebooks/<name>/``;
* appends a "Notebooks" section to the nav listing all of them in file-name order, each titled by
  its first Markdown heading, so that a new notebook appears without editing ``mkdocs.yml``;
* rewrites the notebooks' links to each other (``[...](03_adam.ipynb)``, which work in Jupyter and
  on GitHub) into links to their pages, ``../03_adam/``.

Nothing is copied or linked into ``docs/``: the sources stay where they are, and ``mkdocs serve``
watches ``notebooks/`` (``watch:`` in ``mkdocs.yml``).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SECTION = "Notebooks"


def notebook_paths() -> list[Path]:
    """Every notebook of ``notebooks/``, in file-name order (the course order: 00, 01, ..., 03b, 04, ...)."""
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def notebook_title(path: Path) -> str:
    """The notebook's first Markdown heading without its ``#``s (``01 · A dense layer, ...``), else its name."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            for line in source.splitlines():
                match = re.match(r"#{1,6}\s+(.+?)\s*#*\s*$", line)
                if match:                   # the nav shows plain text: drop code and emphasis marks
                    return re.sub(r"`|\*\*|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)", "", match.group(1))
    return path.stem


def nav_section() -> dict[str, list[dict[str, str]]]:
    """The "Notebooks" nav section: ``{title: "notebooks/<name>.ipynb"}`` for every notebook."""
    return {SECTION: [{notebook_title(p): f"notebooks/{p.name}"} for p in notebook_paths()]}


def on_config(config: Any) -> Any:
    if config.nav is None:          # no nav in mkdocs.yml: MkDocs lists every page, the notebooks included
        return config
    nav = [item for item in config.nav if not (isinstance(item, dict) and SECTION in item)]
    config.nav = nav + [nav_section()]
    return config


@event_priority(100)          # before mkdocs-jupyter's on_files, which turns .ipynb files into pages
def on_files(files: Files, config: Any) -> Files:
    for path in notebook_paths():
        files.append(File(f"notebooks/{path.name}", src_dir=str(ROOT), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
    return files


#: ``href="03_adam.ipynb"`` or ``href="03_adam.ipynb#anchor"`` in a rendered notebook
SIBLING_LINK = re.compile(r'href="([\w.-]+)\.ipynb(#[^"]*)?"')


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    if not page.file.src_uri.startswith("notebooks/") or not page.file.src_uri.endswith(".ipynb"):
        return html
    names = {p.stem for p in notebook_paths()}

    def to_page(match: re.Match[str]) -> str:
        stem, anchor = match.group(1), match.group(2) or ""
        if stem not in names:
            return match.group(0)
        return f'href="../{stem}/{anchor}"' if config.use_directory_urls else f'href="{stem}.html{anchor}"'

    return SIBLING_LINK.sub(to_page, html)
