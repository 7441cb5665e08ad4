"""A Griffe extension that lets numgan's plain-text docstrings read well on the API page.

numgan's docstrings are written to be read in a terminal (``help()``) and in the
source: ``code`` in double backticks, literal blocks introduced by ``::``,
Sphinx roles such as ``:func:`fit```, a few reST "simple tables", and
references to the derivations as ``docs/<page>.md#<anchor>``. MkDocs renders
docstrings as Markdown, where most of this already works (double backticks are
code, indented blocks are code blocks). This extension rewrites the rest,
on the docstring text only (the package is not changed):

* ``docs/<page>.md#<anchor>`` in double backticks becomes a link to that
  section of the site;
* Sphinx roles ``:func:`x``` (and ``:class:``, ``:mod:``, ``:meth:``,
  ``:data:``, ``:attr:``) become ``x`` in code;
* a paragraph ending in ``::`` ends in ``:`` (the block below it is already
  a code block);
* a reST simple table (rows framed by lines of ``=`` runs) becomes a code
  block, so that its columns stay aligned.

It is loaded by mkdocs.yml (``extensions:`` of the mkdocstrings handler) and
is not part of the numgan package.
"""
from __future__ import annotations

import re

import griffe

DOCS_REF = re.compile(r"``docs/([\w.-]+\.md)(#[\w-]+)?``")
ROLE = re.compile(r":(?:func|class|mod|meth|data|attr|obj|exc):`~?([^`]+)`")
TABLE_RULE = re.compile(r"^\s*=+(?:\s+=+)+\s*$")


def _link(match: re.Match) -> str:
    page, anchor = match.group(1), match.group(2) or ""
    return f"[`docs/{page}{anchor}`]({page}{anchor})"


def _tables_as_code(lines: list[str]) -> list[str]:
    """Indent every reST simple table (from its first ``===`` rule to its third) as a code block."""
    out, i = [], 0
    while i < len(lines):
        if TABLE_RULE.match(lines[i]):
            rules, j = 0, i
            while j < len(lines) and rules < 3:
                rules += bool(TABLE_RULE.match(lines[j]))
                j += 1
            if rules == 3:
                if out and out[-1].strip():
                    out.append("")
                out.extend("    " + line for line in lines[i:j])
                if j < len(lines) and lines[j].strip():
                    out.append("")
                i = j
                continue
        out.append(lines[i])
        i += 1
    return out


def rewrite(text: str) -> str:
    """The docstring ``text`` rewritten as described in the module docstring."""
    text = DOCS_REF.sub(_link, text)
    text = ROLE.sub(r"``\1``", text)
    lines = _tables_as_code(text.split("\n"))
    for k, line in enumerate(lines):
        if line.rstrip().endswith("::") and not line.lstrip().startswith(">>>"):
            stripped = line.rstrip()
            lines[k] = stripped[:-2].rstrip() + ":" if stripped[:-2].strip() else ""
    return "\n".join(lines)


class NumganDocstrings(griffe.Extension):
    """Rewrite each docstring when Griffe has built its object."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)
