"""What a report says about the run besides findings: index warnings, files
that could not be read or were skipped, files with parse errors.

These become SARIF `toolExecutionNotifications` and the HTML page's notes.
A whole 6.12 tree has parse errors (macros tree-sitter cannot expand) in about
half of its 60,000 files, so those are listed one by one only where they lie
on a reported chain (a call after the error may be missing from the graph
there); the rest are counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import coverage, facts, store
from ..findings import Finding
from ..tree import SKIPPED, in_scope

_DIAGNOSTICS = [name for name, _ in facts.FACT_KINDS].index("diagnostics")
_PREPROCESSOR_ONLY = "preprocessor lines and comments only"  # index.py's message for such files


@dataclass(frozen=True, slots=True)
class Note:
    id: str  # index-warning, unreadable, skipped, parse-error, input-error, results-cut, chain-cut
    level: str  # SARIF's: error, warning, note
    message: str
    path: str = ""
    line: int = 0


def run_notes(warnings, diagnostics) -> list[Note]:
    """Index warnings and per-file problems (unreadable, binary, too large)."""
    notes = [Note("index-warning", "warning", warning) for warning in warnings]
    for path, status, message in diagnostics:
        kind = "skipped" if status == SKIPPED else "unreadable"
        notes.append(Note(kind, "warning", f"{path}: {status}: {message}", path))
    return notes


def unanalysed_notes(unanalysed, files: bool = True) -> list[Note]:
    """What could not be analysed and could hide a finding (`coverage.Unanalysed`):
    files not read (unless `files` is false: a scan lists them from the index's
    diagnostics), functions the parse lost, search limits that cut a search."""
    notes = []
    for item in unanalysed:
        if item.kind == coverage.FILE and not files:
            continue
        where = item.function or item.context or item.path
        notes.append(Note("not-analysed", "warning", f"could not analyse {item.kind} {where}: {item.reason}",
                          item.path, item.line))
    return notes


def index_notes(index_file: Path | None, root: Path, scopes: tuple[str, ...], findings) -> list[Note]:
    """Parse errors on the files of the findings' chains, one note each, and
    counts of the files in `scopes` with parse errors and skipped as holding
    no code. Nothing when there is no index to read."""
    if index_file is None or not index_file.is_file():
        return []
    on_chain = {hop.path for finding in findings for hop in _hops(finding)}
    with store.Index(index_file, root) as index:
        # The file table's count columns answer this without decoding any facts.
        rows = index.db.execute(
            "SELECT path, status, message, n_diagnostics, size FROM files WHERE n_diagnostics > 0 OR status = ?",
            (SKIPPED,),
        ).fetchall()
        rows = [row for row in rows if in_scope(row[0], scopes)]
        errors = sorted(path for path, _status, _message, count, _size in rows if count)
        listed = []
        for path in errors:
            if path in on_chain:
                diagnostics = (index.load_file(path) or ((),) * len(facts.FACT_KINDS))[_DIAGNOSTICS]
                for line, _kind, message in diagnostics:
                    listed.append(Note(
                        "parse-error", "note",
                        f"{path}:{line}: {message}; it lies on a reported chain, and a call after it may be missing",
                        path, line,
                    ))
    skipped = [(path, size) for path, status, message, _count, size in rows if status == SKIPPED
               and message == _PREPROCESSOR_ONLY]
    notes = []
    if errors:
        notes.append(Note(
            "parse-error", "note",
            f"{len(errors)} indexed file(s) have parse errors (ERROR/MISSING nodes, mostly macros tree-sitter"
            f" cannot expand); the {len({n.path for n in listed})} on a reported chain are listed",
        ))
    notes.extend(listed)
    if skipped:
        notes.append(Note(
            "skipped", "note",
            f"{len(skipped)} file(s) ({sum(size for _, size in skipped) / 1e6:.1f} MB) skipped: {_PREPROCESSOR_ONLY}"
            " (`putlint index --parse-all` parses them)",
        ))
    return notes


def _hops(finding: Finding):
    return (*finding.reach, *finding.teardown)
