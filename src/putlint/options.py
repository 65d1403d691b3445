"""Command-line options that several commands share, each declared once (as
pip-tools' options.py does)."""

from __future__ import annotations

from pathlib import Path

import click

jobs = click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes (default: CPU count)."
)
cache_dir = click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the index lives (default: $PUTLINT_CACHE_DIR or ~/.cache/putlint); never inside the tree.",
)
exclude = click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files whose tree path matches GLOB.")
rules = click.option(
    "--rules", "rules_dirs", multiple=True, type=click.Path(path_type=Path), help="More rules (repeatable)."
)
graph_scope = click.option(
    "--graph-scope",
    multiple=True,
    metavar="PATH",
    help="Build the call graph from these parts of the tree only (default: all of it).",
)
config = click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Allowlist file (default: TREE/.putlint.toml).",
)


def tree_arguments(command):
    """TREE, PATHS and the indexing options of every command that reads a whole tree."""
    for decorator in reversed(
        (
            click.argument("tree", required=False, type=click.Path(path_type=str)),
            click.argument("paths", nargs=-1, type=click.Path(path_type=str)),
            jobs,
            cache_dir,
            exclude,
        )
    ):
        command = decorator(command)
    return command
