"""``--set KEY=VALUE``: change one entry of a recipe for an exploratory benchmark run.

``VALUE`` is read as JSON (``steps=30000``, ``g_lr=1e-3``, ``activation="relu"``
or ``activation=relu``, ``hidden=[128,128]``); text that is not JSON is kept
as a string. The benchmarks record the overrides with each run.
"""
from __future__ import annotations

import argparse
import json


def setting(text: str) -> tuple[str, object]:
    """Parse ``KEY=VALUE`` (an argparse ``type``)."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (e.g. steps=30000), got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", type=setting, action="append", default=[], metavar="KEY=VALUE",
                        help="override one recipe entry (repeatable), e.g. --set steps=30000 --set g_lr=1e-3; "
                             "write the results elsewhere with --out")
