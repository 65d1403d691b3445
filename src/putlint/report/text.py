"""gcc-style text: `path:line:col: severity: message [rule]`, then both chains."""

from __future__ import annotations

from typing import TextIO

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
    out.write("\n")


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


def render_check(run, out: TextIO) -> None:
    """A review reply: per patch, what it introduces and what it fixes."""
    for result in run.patches:
        out.write(f"{result.patch.subject}\n")
        if not result.new and not result.fixed:
            out.write("  no change in findings\n")
        for new in result.new:
            finding = new.finding
            if finding.suppressed:
                out.write(f"suppressed: {finding.headline(severity=False)} ({finding.suppression})\n")
                continue
            _finding(finding, out, "new: ")
            for path, line in new.introduced_by:
                out.write(f"  introduced by the added line {path}:{line}\n")
        for fixed in result.fixed:
            out.write(f"fixed: {fixed.headline(severity=False)}\n")
        out.write("\n")
    suppressed = len(run.new) - len(run.blocking)
    out.write(
        f"series: {len(run.blocking)} new, {len(run.fixed)} fixed, {run.unchanged} unchanged"
        + (f", {suppressed} new suppressed" if suppressed else "")
        + "\n"
    )


def render_new(run, out: TextIO) -> None:
    """Only what a change introduces (the pre-commit view)."""
    for new in run.blocking:
        _finding(new.finding, out)
        for path, line in new.introduced_by:
            out.write(f"  introduced by the added line {path}:{line}\n")
    suppressed = len(run.new) - len(run.blocking)
    out.write(
        f"putlint: {len(run.blocking)} new finding(s) in the staged changes"
        + (f" ({suppressed} suppressed)" if suppressed else "")
        + "\n"
    )
