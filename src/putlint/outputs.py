"""Where a command's report goes: stdout or `-o FILE`; and, for SARIF, a log
that says the run failed when an input error stops it, so that a CI step
ingesting the log sees the failure (`executionSuccessful: false`)."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

from .errors import InputError
from .report import ReportContext
from .report.sarif import render_failure


def emit(render, run, output: Path | None) -> None:
    """`render(run, out)` to stdout, or to `output`."""
    if output is None:
        render(run, sys.stdout)
        return
    try:
        with open(output, "w", encoding="utf-8") as out:
            render(run, out)
    except OSError as error:
        raise InputError(f"cannot write {output}: {error.strerror}") from None


class Chosen:
    """What a command has settled on so far, for the log of its failure."""

    def __init__(self, output_format: str | None):
        self.format = output_format
        self.tree: Path | None = None
        self.context = ReportContext()


@contextmanager
def sarif_on_input_error(output_format: str | None, output: Path | None):
    """Yields a `Chosen` for the command to fill in; on an input error, when the
    format is SARIF, writes a failed log, then lets the error go on (exit 2)."""
    chosen = Chosen(output_format)
    try:
        yield chosen
    except InputError as error:
        if chosen.format == "sarif":
            try:
                emit(lambda _run, out: render_failure(str(error), out, chosen.context, chosen.tree), None, output)
            except InputError:
                pass  # the log cannot be written either: the first error is the one to tell
        raise


def print_config_warnings(settings) -> None:
    for warning in settings.warnings:
        click.echo(warning, err=True)
