"""The JSON contract (version 1): findings, diagnostics and stats kept apart."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TextIO

from ..findings import ScanRun

VERSION = 1


def document(run: ScanRun) -> dict:
    return {
        "version": VERSION,
        "tree": str(run.tree),
        "findings": [_finding(f) for f in run.findings],
        "diagnostics": [{"path": p, "status": s, "message": m} for p, s, m in run.diagnostics],
        "stats": run.stats,
        "unanalysed": [u.as_json() for u in run.unanalysed],
    }


def _finding(finding) -> dict:
    data = asdict(finding)
    data["finality"] = {"kind": finding.finality.kind, "evidence": data["finality"]["evidence"]}
    return {
        key: data[key]
        for key in (
            "rule",
            "context",
            "severity",
            "confidence",
            "path",
            "line",
            "col",
            "function",
            "put",
            "wait",
            "reach",
            "teardown",
            "fingerprint",
            "suppressed",
            "suppression",
            "message",
            "finality",
        )
    } | {"cycle": {"kind": finding.cycle, "why": finding.cycle_why}}


def render(run: ScanRun, out: TextIO) -> None:
    json.dump(document(run), out, indent=2, sort_keys=False)
    out.write("\n")


def render_check(run, out: TextIO) -> None:
    """The scan contract (findings after the series) plus patches, new, fixed, unchanged."""
    document = {
        "version": VERSION,
        "tree": str(run.tree),
        "findings": [_finding(f) for f in run.after],
        "diagnostics": [],
        "stats": run.stats,
        "patches": [
            {"subject": r.patch.subject, "applied": True, "notes": list(r.notes),
             "unanalysed": [u.as_json() for u in r.unanalysed],
             "assumptions": [{"rule": n.where, "function": n.function, "what": n.what} for n in r.assumptions]}
            for r in run.patches
        ],
        "new": [{**_finding(n.finding), "introduced_by": [{"path": p, "line": l} for p, l in n.introduced_by]}
                for n in run.new],
        "fixed": [{**_finding(f), "fixed_by": [asdict(r) for r in reasons]}
                  for f, reasons in zip(run.fixed, run.fixed_by or [()] * len(run.fixed))],
        "gone": [_finding(f) for f in run.gone],
        "unchanged": run.unchanged,
        "unanalysed": [u.as_json() for u in run.unanalysed],
    }
    json.dump(document, out, indent=2)
    out.write("\n")


def render_b4(run, out: TextIO) -> None:
    """b4's per-patch review check: a JSON list of {tool, status, summary, url, details}."""
    results = []
    for result in run.patches:
        status = "fail" if result.blocking else "warn" if result.unanalysed else "pass"
        summary = f"{len(result.blocking)} new, {len(result.fixed)} fixed final-put finding(s)"
        if result.unanalysed:
            summary += f"; {len(result.unanalysed)} touched place(s) could not be checked"
        details = [f"could not check: {u.path}:{u.line} {u.function} ({u.reason})".replace(":0 ", ": ")
                   for u in result.unanalysed]
        for new in result.new:
            if new.finding.suppressed:
                f = new.finding
                details.append(f"suppressed: {f.location}: [{f.rule}] ({f.suppression})")
                continue
            finding = new.finding
            details.append(f"new: {finding.headline(severity=False)}")
            details.append("  reach: " + " -> ".join(hop.function for hop in finding.reach))
            details.append("  teardown: " + " -> ".join(hop.function for hop in finding.teardown))
            details.extend(f"  introduced by the added line {path}:{line}" for path, line in new.introduced_by)
        for f, reasons in zip(result.fixed, result.fixed_by or [()] * len(result.fixed)):
            details.append(f"fixed: {f.headline(severity=False)}")
            details.extend(f"  fixed by the {r.side} line {r.path}:{r.line}: {r.text}" for r in reasons)
        details.extend(f"gone without a reason (a putlint defect): {f.headline(severity=False)}" for f in result.gone)
        details.extend(f"note: {n.where} assumes something of {n.function}(): re-check it" for n in result.assumptions)
        results.append({"tool": "putlint", "status": status, "summary": summary, "url": "", "details": "\n".join(details)})
    json.dump(results, out, indent=2)
    out.write("\n")
