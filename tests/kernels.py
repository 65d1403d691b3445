"""The real kernel trees the tests were written against: a tree given through
PUTLINT_KERNEL_TREE(_61) is checked once, by its Makefile's VERSION, PATCHLEVEL
and SUBLEVEL, and tests for it are skipped with the reason when it is another."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

PINNED = {"PUTLINT_KERNEL_TREE": "6.12.117", "PUTLINT_KERNEL_TREE_61": "6.1.192"}


def makefile_version(tree: str) -> str:
    """`6.12.117` from the top Makefile ("" when there is none)."""
    try:
        head = (Path(tree) / "Makefile").read_text(errors="replace")[:2000]
    except OSError:
        return ""
    fields = dict(re.findall(r"^(VERSION|PATCHLEVEL|SUBLEVEL)\s*=\s*(\d+)\s*$", head, re.M))
    return ".".join(fields.get(key, "?") for key in ("VERSION", "PATCHLEVEL", "SUBLEVEL")) if fields else ""


def tree_marks(variable: str) -> tuple[str | None, list]:
    """(the tree, pytest marks that skip its tests unless it is the pinned version)."""
    tree = os.environ.get(variable)
    expected = PINNED[variable]
    marks = [pytest.mark.kernel]
    if not tree:
        marks.append(pytest.mark.skip(reason=f"{variable} is not set (the test command sets it)"))
        return None, marks
    found = makefile_version(tree)
    if found != expected:
        marks.append(pytest.mark.skip(
            reason=f"{variable}={tree} is linux {found or 'of unknown version'}; these tests were written against"
            f" {expected} (scripts/get-kernel.sh {expected.rsplit('.', 1)[0]})"))
    return tree, marks
