"""`--format html`: one self-contained page (templates/*.j2, autoescaped; its
style and script are inline, no network): a summary by context, subsystem,
severity and confidence, a findings list that filters as you type, and per
finding an SVG picture of both chains with the source around the put and the
wait. A finding's picture and source are inert text (a `<script
type="text/html">`) drawn when it is opened, so a page with hundreds of
findings loads at once.

Hops link to their source: a file URL into the tree, or `--source-url
TEMPLATE` with `{path}` and `{line}`. A check-patch page shows per patch its
subject, the new findings with the lines that introduced them, the fixed ones
and how many stayed; its source excerpts are from the text as the series left
it at that patch (links still point into the tree as it is).
"""

from __future__ import annotations

import string
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import jinja2

from ..errors import InputError
from ..findings import Finding
from ..graph import subsystem_of
from ..patches import apply_series
from ..scan import tree_reader
from .context import ReportContext
from .layout import Picture, picture
from .notes import index_notes, run_notes

CONTEXT_LINES = 3  # source lines shown on each side of the put and the wait
_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("putlint.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Snippet:
    title: str
    where: str
    href: str
    lines: tuple[tuple[int, str, bool], ...]  # (number, text, is the line itself)


@dataclass(frozen=True, slots=True)
class FindingView:
    anchor: str
    finding: Finding
    subsystem: str
    href: str
    picture: Picture
    snippets: tuple[Snippet, ...]
    state: str = ""  # "new" or "fixed" on a check-patch page
    introduced_by: tuple[tuple[str, str], ...] = ()  # ("path:line", href)


def check_source_url(template: str) -> None:
    """An input error unless `template` uses only `{path}` and `{line}`."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        template.format(path="p", line=1)
    except (ValueError, IndexError, KeyError) as error:
        raise InputError(f"--source-url {template!r}: {error}") from None
    unknown = fields - {"path", "line"}
    if unknown:
        raise InputError(f"--source-url {template!r}: unknown field(s) {', '.join(sorted(unknown))}; use {{path}}"
                         " and {line}")


def linker(tree: Path, source_url: str):
    """`link(path, line)`: the URL of a source line."""
    if source_url:
        return lambda path, line: source_url.format(path=path, line=line)
    root = Path(tree)
    return lambda path, line: (root / path).as_uri()


def render(run, out: TextIO, context: ReportContext) -> None:
    link = linker(run.tree, context.source_url)
    read = tree_reader(run.tree)
    views = [_view(f"f{number}", finding, link, read) for number, finding in enumerate(run.findings, 1)]
    notes = [*run_notes(run.warnings, run.diagnostics),
             *index_notes(context.index_file, run.tree, context.graph_scopes, run.findings)]
    page = _ENVIRONMENT.get_template("scan.html.j2").render(
        title="putlint report", tree=str(run.tree), version=context.version, findings=views,
        summary=summary(views), filters=_filters(views), notes=notes, checks=context.checks,
    )
    out.write(page)


def render_check(run, out: TextIO, context: ReportContext) -> None:
    link = linker(run.tree, context.source_url)
    patches = []
    texts: dict[str, str | None] = {}
    before_count = run.unchanged + len(run.fixed)  # findings of the tree before the series
    number = 0
    for index, result in enumerate(run.patches, 1):
        read_before = tree_reader(run.tree, dict(texts))
        apply_series(run.tree, [result.patch], texts)
        read_after = tree_reader(run.tree, dict(texts))
        new = []
        for item in result.new:
            number += 1
            introduced = tuple((f"{path}:{line}", link(path, line)) for path, line in item.introduced_by)
            new.append(_view(f"f{number}", item.finding, link, read_after, "new", introduced))
        fixed = []
        for finding in result.fixed:
            number += 1
            fixed.append(_view(f"f{number}", finding, link, read_before, "fixed"))
        unchanged = before_count - len(result.fixed)
        before_count = unchanged + len(result.new)
        patches.append({"index": index, "subject": result.patch.subject, "new": new, "fixed": fixed,
                        "unchanged": unchanged})
    views = [view for patch in patches for view in (*patch["new"], *patch["fixed"])]
    page = _ENVIRONMENT.get_template("check.html.j2").render(
        title="putlint check-patch report", tree=str(run.tree), version=context.version, patches=patches,
        findings=views, summary=summary(views), filters=_filters(views), notes=run_notes(run.warnings, ()),
        series={"new": len(run.blocking), "fixed": len(run.fixed), "unchanged": run.unchanged,
                "suppressed": len(run.new) - len(run.blocking)},
        checks=context.checks,
    )
    out.write(page)


def summary(views: list[FindingView]) -> list[tuple[str, str, list[tuple[str, int]]]]:
    """(filter key, heading, [(value, count)]) for the findings not suppressed."""
    shown = [view for view in views if not view.finding.suppressed]
    groups = (
        ("context", "Context", lambda v: v.finding.context),
        ("subsystem", "Subsystem", lambda v: v.subsystem),
        ("severity", "Severity", lambda v: v.finding.severity),
        ("confidence", "Confidence", lambda v: v.finding.confidence),
    )
    return [
        (key, heading, sorted(Counter(value(view) for view in shown).items(), key=lambda item: (-item[1], item[0])))
        for key, heading, value in groups
    ]


def _filters(views: list[FindingView]) -> dict[str, list[str]]:
    return {
        "context": sorted({v.finding.context for v in views}),
        "subsystem": sorted({v.subsystem for v in views}),
        "severity": sorted({v.finding.severity for v in views}, key=("error", "warning", "note").index),
        "confidence": sorted({v.finding.confidence for v in views}, key=("high", "medium", "low").index),
    }


def _view(anchor: str, finding: Finding, link, read, state: str = "", introduced_by=()) -> FindingView:
    snippets = [_snippet(f"put: {finding.put}() in {finding.function}", finding.path, finding.line, link, read)]
    if len(finding.teardown) > 1:
        wait, caller = finding.teardown[-1], finding.teardown[-2]
        snippets.append(_snippet(f"wait: {wait.function} in {caller.function}", wait.path, wait.line, link, read))
    return FindingView(
        anchor=anchor,
        finding=finding,
        subsystem=subsystem_of(finding.path) or "generic",
        href=link(finding.path, finding.line),
        picture=picture(finding, link),
        snippets=tuple(snippets),
        state=state,
        introduced_by=tuple(introduced_by),
    )


def _snippet(title: str, path: str, line: int, link, read) -> Snippet:
    data = read(path)
    lines = data.decode("utf-8", errors="replace").splitlines() if data is not None else []
    first = max(line - CONTEXT_LINES, 1)
    last = min(line + CONTEXT_LINES, len(lines))
    shown = tuple((number, lines[number - 1].expandtabs(8), number == line) for number in range(first, last + 1))
    return Snippet(title, f"{path}:{line}", link(path, line), shown)
