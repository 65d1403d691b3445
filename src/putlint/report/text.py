"""gcc-style text: `path:line:col: severity: message [rule]`, then both chains."""

from __future__ import annotations

from typing import TextIO

from ..findings import Hop
from ..scan import ScanRun


def _chain(label: str, hops: tuple[Hop, ...]) -> list[str]:
    lines = []
    for index, hop in enumerate(hops):
        prefix = f"  {label + ':':<10}" if index == 0 else " " * 12
        arrow = "" if index == 0 else "-> "
        lines.append(f"{prefix}{arrow}{hop.function} ({hop.path}:{hop.line}) [{hop.via}]")
    return lines


def render(run: ScanRun, out: TextIO) -> None:
    for finding in run.findings:
        if finding.suppressed:
            continue
        out.write(
            f"{finding.path}:{finding.line}:{finding.col}: {finding.severity}: {finding.message}"
            f" [{finding.rule}]\n"
        )
        out.write("\n".join(_chain("reach", finding.reach) + _chain("teardown", finding.teardown)))
        out.write("\n")
    shown = sum(1 for f in run.findings if not f.suppressed)
    suppressed = len(run.findings) - shown
    summary = f"{shown} finding(s)"
    if suppressed:
        summary += f", {suppressed} suppressed"
    out.write(summary + "\n")
