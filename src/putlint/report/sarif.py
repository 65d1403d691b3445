"""`--format sarif`: SARIF 2.1.0 for CI systems and GitHub code scanning.

One run per file. A finding is a result whose one code flow holds two thread
flows, `reach` (context entry -> ... -> put) and `teardown` (put -> ... ->
wait), one location per hop saying whether it is a definition or a call site
and how it was reached. A check-patch report is one run too, not one per patch
(GitHub takes at most 20 runs a file): each result names its patch in
`properties.patch` and says `baselineState` new (introduced by that patch),
absent (fixed by it) or unchanged (there before and after the series).

GitHub's limits (docs.github.com, "SARIF results exceed limits"): 25,000
results a run and 10,000 thread-flow locations a result are accepted, of which
1,000 locations are shown. A run keeps the first 25,000 results by severity
and a result the first 1,000 locations; what was cut is said in a notification
and in `properties.cut`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..findings import Finding
from .chains import Step, entry_of, steps, suppression_kind, wait_of
from .context import ReportContext
from .notes import Note, index_notes, run_notes, unanalysed_notes

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "putlintChains/v1"  # rule + function names of both chains: survives line shifts
RANK = {"high": 90.0, "medium": 60.0, "low": 30.0}
_SEVERITY_ORDER = {"error": 0, "warning": 1, "note": 2}
_NOTIFICATIONS = {
    "index-warning": "The index was rebuilt or could not be used as it was.",
    "unreadable": "A source file could not be read as C text.",
    "skipped": "Source files skipped: too large, or nothing but preprocessor lines and comments.",
    "parse-error": "tree-sitter found ERROR or MISSING nodes in a file.",
    "input-error": "The input could not be used: nothing was analysed.",
    "not-analysed": "A file, a function or a search putlint could not analyse: a finding there may be missed.",
    "results-cut": "More results than GitHub code scanning accepts in one run: the lowest were left out.",
    "chain-cut": "A chain longer than GitHub code scanning shows: its middle hops were left out.",
}


@dataclass(frozen=True)
class Limits:
    results: int = 25_000  # per run
    flow_locations: int = 1_000  # per result, both thread flows together


# -- documents -------------------------------------------------------------------------------------


def document(run, context: ReportContext, limits: Limits = Limits()) -> dict:
    """The SARIF log of a scan."""
    notes = [*run_notes(run.warnings, run.diagnostics), *unanalysed_notes(run.unanalysed, files=False),
             *index_notes(context.index_file, run.tree, context.graph_scopes, run.findings)]
    entries = [(finding, {}) for finding in run.findings]
    return _log(run.tree, context, entries, notes, limits, {"command": "scan", "stats": _stats(run.stats)})


def check_document(run, context: ReportContext, limits: Limits = Limits()) -> dict:
    """The SARIF log of check-patch: the patches' new and fixed findings, then the unchanged ones."""
    entries: list[tuple[Finding, dict]] = []
    for number, result in enumerate(run.patches, 1):
        for new in result.new:
            entries.append((new.finding, {"baselineState": "new", "patch": number, "introduced_by": new.introduced_by}))
        reasons = result.fixed_by or [()] * len(result.fixed)
        entries.extend((fixed, {"baselineState": "absent", "patch": number, "fixed_by": why})
                       for fixed, why in zip(result.fixed, reasons))
    entries.extend((finding, {"baselineState": "unchanged"}) for finding in unchanged_findings(run))
    notes = [*run_notes(run.warnings, ()), *unanalysed_notes(run.unanalysed),
             *index_notes(context.index_file, run.tree, context.graph_scopes, [f for f, _ in entries])]
    patches = [{"index": n, "subject": r.patch.subject, "source": r.patch.source} for n, r in enumerate(run.patches, 1)]
    properties = {"command": "check-patch", "patches": patches, "unchanged": run.unchanged, "stats": _stats(run.stats)}
    return _log(run.tree, context, entries, notes, limits, properties)


def failure_document(message: str, context: ReportContext, tree: Path | None = None) -> dict:
    """An input error: no results, `executionSuccessful: false` and the error as a notification."""
    log = _log(tree, context, [], [Note("input-error", "error", message)], Limits(), {})
    log["runs"][0]["invocations"][0]["executionSuccessful"] = False
    return log


def unchanged_findings(run) -> list[Finding]:
    """The findings after the series that no patch of it introduced: those of
    `run.after` less one per series-new finding of the same fingerprint (two
    puts in one function share one; the later ones are taken as the new)."""
    new_count: dict[str, int] = {}
    for new in run.new:
        new_count[new.finding.fingerprint] = new_count.get(new.finding.fingerprint, 0) + 1
    seen: dict[str, int] = {}
    total = {f.fingerprint: 0 for f in run.after}
    for finding in run.after:
        total[finding.fingerprint] += 1
    kept = []
    for finding in run.after:
        seen[finding.fingerprint] = seen.get(finding.fingerprint, 0) + 1
        if seen[finding.fingerprint] <= total[finding.fingerprint] - new_count.get(finding.fingerprint, 0):
            kept.append(finding)
    return kept


def render(run, out: TextIO, context: ReportContext) -> None:
    _write(document(run, context), out)


def render_check(run, out: TextIO, context: ReportContext) -> None:
    _write(check_document(run, context), out)


def render_failure(message: str, out: TextIO, context: ReportContext, tree: Path | None = None) -> None:
    _write(failure_document(message, context, tree), out)


def _write(log: dict, out: TextIO) -> None:
    # Compact: a log is for tools, and GitHub takes at most 10 MB (gzipped) a file.
    json.dump(log, out, separators=(",", ":"), ensure_ascii=False)
    out.write("\n")


def _stats(stats: dict) -> dict:
    """Stats without timings, so that the log of an unchanged tree is the same byte for byte."""
    return {key: value for key, value in stats.items() if "seconds" not in key}


# -- the run -----------------------------------------------------------------------------------------


def _log(tree, context, entries, notes, limits: Limits, properties: dict) -> dict:
    rule_index = {check.id: index for index, check in enumerate(context.checks)}
    kept, cut_results = _within_result_limit(entries, limits.results)
    results = []
    cut_chains = 0
    for finding, extra in kept:
        result, was_cut = _result(finding, rule_index, extra, limits.flow_locations)
        results.append(result)
        cut_chains += was_cut
    notes = list(notes)
    cut = {}
    if cut_results:
        cut["results"] = cut_results
        notes.append(Note("results-cut", "warning", f"{cut_results} result(s) left out: GitHub code scanning"
                          f" accepts {limits.results} a run; the ones kept rank first by severity and confidence"))
    if cut_chains:
        cut["chains"] = cut_chains
        notes.append(Note("chain-cut", "warning", f"the chains of {cut_chains} result(s) were cut to"
                          f" {limits.flow_locations} locations, as many as GitHub code scanning shows"))
    run = {
        "tool": {"driver": _driver(context)},
        "invocations": [{
            "executionSuccessful": True,
            "toolExecutionNotifications": [_notification(note) for note in notes],
        }],
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "the kernel tree"}}},
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {**properties, **({"cut": cut} if cut else {})},
    }
    if tree is not None:
        run["originalUriBaseIds"][SRCROOT]["uri"] = Path(tree).as_uri() + "/"
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _within_result_limit(entries, limit: int):
    """All entries in order, or the `limit` first by severity and confidence (kept in order)."""
    if len(entries) <= limit:
        return entries, 0
    ranked = sorted(range(len(entries)), key=lambda i: (
        _SEVERITY_ORDER.get(entries[i][0].severity, 3), -RANK.get(entries[i][0].confidence, 0), i))
    keep = set(ranked[:limit])
    return [entry for i, entry in enumerate(entries) if i in keep], len(entries) - limit


def _driver(context: ReportContext) -> dict:
    return {
        "name": "putlint",
        "version": context.version,
        "semanticVersion": context.version,
        "rules": [_rule(check, context) for check in context.checks],
        "notifications": [
            {"id": id_, "shortDescription": {"text": text}} for id_, text in sorted(_NOTIFICATIONS.items())
        ],
    }


def _rule(check, context: ReportContext) -> dict:
    rule_context = context.contexts.get(check.context)
    references = list(dict.fromkeys((*check.references, *(rule_context.references if rule_context else ()))))
    about_context = f"Context {check.context}: {rule_context.description}" if rule_context else ""
    text = "\n\n".join(part for part in (check.description, about_context) if part)
    if references:
        text += "\n\nReferences:\n" + "\n".join(f"- {url}" for url in references)
    markdown = "\n\n".join(part for part in (check.description, f"**Context `{check.context}`**: "
                                             + (rule_context.description if rule_context else "")) if part)
    if references:
        markdown += "\n\n**References**\n\n" + "\n".join(f"- <{url}>" for url in references)
    rule = {
        "id": check.id,
        "name": "".join(word.capitalize() for word in check.id.split("-")),
        "shortDescription": {"text": _first_sentence(check.description)},
        "fullDescription": {"text": check.description},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": check.severity, "rank": RANK[check.confidence]},
        "properties": {
            "tags": ["putlint", "deadlock", check.context],
            "precision": check.confidence,
            "confidence": check.confidence,
            "context": check.context,
            "puts": list(check.puts),
            "references": references,
        },
    }
    if references:
        rule["helpUri"] = references[0]
    return rule


def _first_sentence(text: str) -> str:
    head, dot, _rest = text.partition(". ")
    return head + "." if dot else text


def _notification(note: Note) -> dict:
    notification = {"descriptor": {"id": note.id}, "level": note.level, "message": {"text": note.message}}
    if note.path:
        physical = {"artifactLocation": {"uri": note.path, "uriBaseId": SRCROOT}}
        if note.line:
            physical["region"] = {"startLine": note.line}
        notification["locations"] = [{"physicalLocation": physical}]
    return notification


# -- one result ------------------------------------------------------------------------------------------


def _result(finding: Finding, rule_index: dict, extra: dict, flow_limit: int) -> tuple[dict, bool]:
    reach, teardown = steps(finding)
    reach_kept, teardown_kept = _budget(len(reach), len(teardown), flow_limit)
    flows = [_thread_flow("reach", reach, reach_kept, 1), _thread_flow("teardown", teardown, teardown_kept, len(reach) + 1)]
    result = {
        "ruleId": finding.rule,
        "level": finding.severity,
        "rank": RANK.get(finding.confidence, -1.0),
        "message": {"text": finding.message},
        "locations": [_location(finding.path, finding.line, finding.col, logical=finding.function)],
        "partialFingerprints": {FINGERPRINT: finding.fingerprint},
        "codeFlows": [{
            "message": {"text": _flow_summary(finding)},
            "threadFlows": flows,
        }],
        "relatedLocations": _related(finding, extra.get("introduced_by", ()), extra.get("patch")),
        "properties": {
            "context": finding.context,
            "confidence": finding.confidence,
            "function": finding.function,
            "put": finding.put,
            "wait": finding.wait,
            "cycle": {"kind": finding.cycle, "why": finding.cycle_why},
            "finality": {
                "kind": finding.finality.kind,
                "evidence": [{"path": e.path, "line": e.line, "what": e.what} for e in finding.finality.evidence],
            },
        },
    }
    if finding.rule in rule_index:
        result["ruleIndex"] = rule_index[finding.rule]
    if "baselineState" in extra:
        result["baselineState"] = extra["baselineState"]
    if "patch" in extra:
        result["properties"]["patch"] = extra["patch"]
    if "fixed_by" in extra:
        result["properties"]["fixedBy"] = [
            {"path": r.path, "line": r.line, "side": r.side, "text": r.text, "why": r.why} for r in extra["fixed_by"]
        ]
    if "introduced_by" in extra:
        result["properties"]["introducedBy"] = [{"path": path, "line": line} for path, line in extra["introduced_by"]]
    if finding.suppressed:
        source, reason = suppression_kind(finding)
        result["suppressions"] = [{
            "kind": "inSource" if source == "comment" else "external",
            "status": "accepted",
            "justification": reason,
        }]
    return result, reach_kept < len(reach) or teardown_kept < len(teardown)


def _budget(reach: int, teardown: int, limit: int) -> tuple[int, int]:
    """How many hops of each chain fit `limit` locations: the teardown gets up
    to half, the reach the rest, and what one does not use goes to the other."""
    teardown_kept = min(teardown, max(1, limit // 2))
    reach_kept = min(reach, max(1, limit - teardown_kept))
    return reach_kept, min(teardown, limit - reach_kept)


def _flow_summary(finding: Finding) -> str:
    entry = finding.reach[0].function if finding.reach else "?"
    return f"{entry} -> ... -> {finding.put} (put) -> ... -> {finding.wait} (wait)"


def _thread_flow(name: str, chain: list[Step], kept: int, first_order: int) -> dict:
    """A chain as a thread flow; when it is longer than `kept`, its first
    `kept - 1` hops and its last, with the number left out between them."""
    shown = chain if kept >= len(chain) else [*chain[: kept - 1], chain[-1]]
    locations = [_flow_location(step, first_order + step.index) for step in shown]
    flow = {
        "id": name,
        "message": {"text": "context entry -> ... -> put" if name == "reach" else "put -> ... -> wait"},
        "locations": locations,
    }
    if len(shown) < len(chain):
        flow["properties"] = {"hopsLeftOut": len(chain) - len(shown), "hops": len(chain)}
    return flow


_KINDS = {"entry": ["enter", "function"], "put": ["call", "release"], "wait": ["call", "wait"], "call": ["call"]}


def _flow_location(step: Step, order: int) -> dict:
    hop = step.hop
    kinds = ["function", "release"] if step.chain == "teardown" and step.index == 0 else _KINDS[step.role]
    location = _location(hop.path, hop.line, logical=step.caller or hop.function)
    location["message"] = {"text": f"{step.describe()} [{step.how()}]"}
    return {
        "location": location,
        "kinds": kinds,
        "nestingLevel": step.index,
        "executionOrder": order,
        "importance": "essential" if step.role != "call" else "important",
        "properties": {"function": hop.function, "via": hop.via, "site": step.site},
    }


def _location(path: str, line: int, col: int = 0, logical: str = "") -> dict:
    region = {"startLine": max(line, 1)}
    if col:
        region["startColumn"] = col
    location = {"physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": SRCROOT}, "region": region}}
    if logical:
        location["logicalLocations"] = [{"name": logical, "kind": "function"}]
    return location


def _related(finding: Finding, introduced_by, patch) -> list[dict]:
    related = []
    entry, wait = entry_of(finding), wait_of(finding)
    if entry is not None:
        related.append((entry.path, entry.line, entry.function,
                        f"context entry {entry.function} (definition): {entry.via.removeprefix('context entry: ')}"))
    if wait is not None:
        caller = finding.teardown[-2].function
        related.append((wait.path, wait.line, caller,
                        f"wait {wait.function} (call site in {caller}): {wait.via.removeprefix('wait: ')}"))
    for path, line in introduced_by:
        related.append((path, line, "", f"introduced by this added line of patch {patch}"))
    locations = []
    for number, (path, line, logical, text) in enumerate(related, 1):
        location = _location(path, line, logical=logical)
        location["id"] = number
        location["message"] = {"text": text}
        locations.append(location)
    return locations
