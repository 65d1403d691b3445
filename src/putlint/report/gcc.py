"""`--format gcc`: the text report with every hop on a `path:line: note:` line,
as gcc prints its notes, so vim's quickfix and Emacs' compilation mode step
through a chain. Each note says whether its location is the definition of the
hop's function or the call site that reached it (see chains.py)."""

from __future__ import annotations

from typing import TextIO

from ..findings import Finding
from .chains import steps


def notes(finding: Finding) -> list[str]:
    lines = []
    for chain in steps(finding):
        for step in chain:
            hop = step.hop
            lines.append(
                f"{hop.path}:{hop.line}: note: {step.chain} {step.index + 1}/{step.count}: {step.describe()}"
                f" [{step.how()}]"
            )
    return lines


def _finding(finding: Finding, out: TextIO, label: str = "") -> None:
    # The headline as the text report builds it, with the label after the severity.
    level = f"{finding.location}: {finding.severity}: "
    out.write(finding.headline().replace(level, level + label, 1) + "\n")
    out.write("".join(line + "\n" for line in notes(finding)))


def render(run, out: TextIO) -> None:
    shown = [f for f in run.findings if not f.suppressed]
    for finding in shown:
        _finding(finding, out)
    summary = f"{len(shown)} finding(s)"
    if len(shown) < len(run.findings):
        summary += f", {len(run.findings) - len(shown)} suppressed"
    out.write(summary + "\n")


def render_check(run, out: TextIO) -> None:
    """Per patch: its new findings with their notes and introducing lines, then
    what it fixes, as notes at the fixed put."""
    for number, result in enumerate(run.patches, 1):
        out.write(f"patch {number}: {result.patch.subject}\n")
        for new in result.new:
            finding = new.finding
            if finding.suppressed:
                out.write(
                    f"{finding.path}:{finding.line}:{finding.col}: note: suppressed ({finding.suppression}):"
                    f" {finding.message} [{finding.rule}]\n"
                )
                continue
            _finding(finding, out, f"new in patch {number}: ")
            for path, line in new.introduced_by:
                out.write(f"{path}:{line}: note: introduced by this added line of patch {number}\n")
        for fixed in result.fixed:
            out.write(
                f"{fixed.path}:{fixed.line}:{fixed.col}: note: fixed by patch {number}: {fixed.message} [{fixed.rule}]\n"
            )
    suppressed = len(run.new) - len(run.blocking)
    out.write(
        f"series: {len(run.blocking)} new, {len(run.fixed)} fixed, {run.unchanged} unchanged"
        + (f", {suppressed} new suppressed" if suppressed else "")
        + "\n"
    )
