"""gcc-style text: `path:line:col: severity: message [rule]`, then both chains."""

from __future__ import annotations

from typing import TextIO

from .. import coverage
from ..findings import Finding, Hop, ScanRun


def _chain(label: str, hops: tuple[Hop, ...]) -> list[str]:
    lines = []
    for index, hop in enumerate(hops):
        prefix = f"  {label + ':':<10}" if index == 0 else " " * 12
        arrow = "" if index == 0 else "-> "
        lines.append(f"{prefix}{arrow}{hop.function} ({hop.path}:{hop.line}) [{hop.via}]")
    return lines


def _finding(finding: Finding, out: TextIO, prefix: str = "") -> None:
    out.write(f"{prefix}{finding.headline()}\n")
    out.write("\n".join(_chain("reach", finding.reach) + _chain("teardown", finding.teardown)))
    out.write(f"\n  finality: {finding.finality.summary()} [confidence {finding.confidence}]\n")


def render(run: ScanRun, out: TextIO) -> None:
    for finding in run.findings:
        if not finding.suppressed:
            _finding(finding, out)
    shown = sum(1 for f in run.findings if not f.suppressed)
    suppressed = len(run.findings) - shown
    summary = f"{shown} finding(s)"
    if suppressed:
        summary += f", {suppressed} suppressed"
    out.write(summary + "\n")
    _unanalysed(run.unanalysed, out)


def _unanalysed(unanalysed, out: TextIO) -> None:
    for line in coverage.summary(unanalysed):
        out.write(line + "\n")


def render_check(run, out: TextIO) -> None:
    """A review reply: per patch, what it introduces and what it fixes."""
    for result in run.patches:
        out.write(f"{result.patch.subject}\n")
        for note in result.notes:
            out.write(f"  note: {note}\n")
        for unchecked in result.unanalysed:
            out.write(_unchecked(unchecked))
        if not result.new and not result.fixed and not result.unanalysed:
            out.write("  no change in findings\n")
        for new in result.new:
            finding = new.finding
            if finding.suppressed:
                out.write(f"suppressed: {finding.headline(severity=False)} ({finding.suppression})\n")
                continue
            _finding(finding, out, "new: ")
            for path, line in new.introduced_by:
                out.write(f"  introduced by the added line {path}:{line}\n")
        for fixed, reasons in zip(result.fixed, result.fixed_by or [()] * len(result.fixed)):
            out.write(f"fixed: {fixed.headline(severity=False)}\n")
            for reason in reasons:
                out.write(f"  fixed by the {reason.side} line {reason.path}:{reason.line}: {reason.text} ({reason.why})\n")
        for gone in result.gone:
            out.write(f"gone: {gone.headline(severity=False)}\n")
            out.write("  no line of this patch explains why: not a fix, a putlint defect (please report it)\n")
        for note in result.assumptions:
            out.write(f"note: {note.where} assumes something of {note.function}(), which this patch changes;"
                      f" re-check it: {note.what}\n")
        out.write("\n")
    suppressed = len(run.new) - len(run.blocking)
    out.write(
        f"series: {len(run.blocking)} new, {len(run.fixed)} fixed, {run.unchanged} unchanged"
        + (f", {suppressed} new suppressed" if suppressed else "")
        + (f", {len(run.gone)} gone without a reason" if run.gone else "")
        + "\n"
    )
    _unanalysed(run.unanalysed, out)


def _unchecked(unchecked) -> str:
    """A touched line check-patch could not check, as a line of the review reply."""
    if unchecked.kind == coverage.FUNCTION:
        where = f"{unchecked.path}:{unchecked.line}-{unchecked.end_line} {unchecked.function}()"
        return f"could not check: {where}: the index could not parse this function; {unchecked.reason}\n"
    return f"could not check: {unchecked.path}: {unchecked.reason}\n"


def render_new(run, out: TextIO) -> None:
    """Only what a change introduces (the pre-commit view)."""
    for new in run.blocking:
        _finding(new.finding, out)
        for path, line in new.introduced_by:
            out.write(f"  introduced by the added line {path}:{line}\n")
    for result in run.patches:
        for unchecked in result.unanalysed:
            out.write(_unchecked(unchecked))
    suppressed = len(run.new) - len(run.blocking)
    out.write(
        f"putlint: {len(run.blocking)} new finding(s) in the staged changes"
        + (f" ({suppressed} suppressed)" if suppressed else "")
        + "\n"
    )
    _unanalysed([u for u in run.unanalysed if u.kind == coverage.LIMIT], out)
