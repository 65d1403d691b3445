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
    help="Configuration and allowlist file (default: .putlint.toml, else pyproject.toml's [tool.putlint],"
    " from the tree upward).",
)
no_config = click.option("--no-config", is_flag=True, help="Read no configuration file (no allowlist either).")
output = click.option(
    "--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write the report here."
)
source_url = click.option(
    "--source-url",
    metavar="TEMPLATE",
    default=None,
    help="Link hops of the HTML report to TEMPLATE, with {path} and {line} filled in (default: file URLs"
    " into the tree).",
)


strict = click.option(
    "--strict",
    is_flag=True,
    help="Exit 2 when something could not be analysed (a file, a function lost to a parse error, a search limit).",
)


def output_format(formats):
    """-f/--format among `formats`; no default here: the configuration's, else text."""
    return click.option(
        "--format", "-f", "output_format", type=click.Choice(sorted(formats)), default=None,
        help="Output format (default: the configuration's `format`, else text).",
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

min_confidence = click.option(
    "--min-confidence",
    type=click.Choice(("high", "medium", "low")),
    default="low",
    show_default=True,
    help="Report only findings of this confidence or higher (see `finality` in the README).",
)
