"""`putlint check-patch`: what a series introduces and what it fixes.

The series is applied in memory, one patch at a time; only the files it
touches are parsed again, from their patched text. Findings before and after
each patch are compared by fingerprint (rule + function names of both chains),
so unrelated line shifts do not count as changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from . import parse, store
from .findings import Finding
from .graph import Program
from .index import update_index
from .patches import Patch, added_lines, apply_series
from .ruleset import RuleSet
from .search import Search
from .tree import SOURCE_SUFFIXES, in_scope


@dataclass(frozen=True)
class NewFinding:
    finding: Finding
    introduced_by: tuple[tuple[str, int], ...]  # added lines on the put or the chains


@dataclass(frozen=True)
class PatchResult:
    patch: Patch
    new_keys: tuple[tuple[tuple[str, int], NewFinding], ...]  # (fingerprint, ordinal) -> finding
    fixed: tuple[Finding, ...]

    @property
    def new(self) -> tuple[NewFinding, ...]:
        return tuple(finding for _, finding in self.new_keys)


@dataclass(frozen=True)
class CheckRun:
    tree: Path
    patches: tuple[PatchResult, ...]
    new: tuple[NewFinding, ...]
    fixed: tuple[Finding, ...]
    unchanged: int
    after: tuple[Finding, ...] = ()
    stats: dict = field(default_factory=dict)


def _search(rows: dict[str, tuple], rules: RuleSet) -> dict[tuple[str, int], Finding]:
    """Findings keyed by (fingerprint, ordinal): two puts in one function can share
    a fingerprint, and the ordinal (their order in the file) tells them apart."""
    program = Program(sorted(rows.items()), fanout=rules.limits.fanout, fanout_near=rules.limits.fanout_near)
    keyed: dict[tuple[str, int], Finding] = {}
    seen: dict[str, int] = {}
    for finding in Search(program, rules).run(lambda path: True):  # sorted by path, line, col
        ordinal = seen.get(finding.fingerprint, 0)
        seen[finding.fingerprint] = ordinal + 1
        keyed[(finding.fingerprint, ordinal)] = finding
    return keyed


def _introduced_by(finding: Finding, added: dict[str, set[int]]) -> tuple[tuple[str, int], ...]:
    sites = {(finding.path, finding.line)}
    sites.update((hop.path, hop.line) for hop in (*finding.reach, *finding.teardown))
    return tuple(sorted((path, line) for path, line in sites if line in added.get(path, ())))


def _reparse(rows: dict[str, tuple], texts: dict[str, str | None], graph_scopes: tuple[str, ...]) -> None:
    for path, text in texts.items():
        if not path.endswith(SOURCE_SUFFIXES) or not in_scope(path, graph_scopes):
            continue
        if text is None:
            rows.pop(path, None)
        else:
            rows[path] = parse.extract_rows(text.encode("utf-8", errors="surrogateescape"))


def check_series(
    root: Path,
    rules: RuleSet,
    cache_dir: Path,
    patches: list[Patch],
    graph_scopes: tuple[str, ...] = ("",),
    jobs: int | None = None,
    base: dict[str, str | None] | None = None,
) -> CheckRun:
    """`base` replaces the tree's text of some files before the series (the hook
    starts from HEAD, not from the working tree)."""
    started = time.monotonic()
    index_run = update_index(root, cache_dir, scopes=graph_scopes, jobs=jobs)
    with store.Index(index_run.index_file, root) as index:
        rows = dict(index.load_rows(index_run.files))
    if base:
        _reparse(rows, base, graph_scopes)
    before = _search(rows, rules)
    previous = before
    overlay: dict[str, str | None] = dict(base or {})
    results = []
    for patch in patches:
        earlier = dict(overlay)
        apply_series(root, [patch], overlay)
        # Only what this patch touched is parsed again.
        _reparse(rows, {p: t for p, t in overlay.items() if p not in earlier or earlier[p] != t}, graph_scopes)
        current = _search(rows, rules)
        added = added_lines(patch)
        new_keys = tuple(
            (key, NewFinding(current[key], _introduced_by(current[key], added)))
            for key in sorted(current.keys() - previous.keys(), key=lambda k: current[k].sort_key())
        )
        fixed = tuple(
            previous[key] for key in sorted(previous.keys() - current.keys(), key=lambda k: previous[k].sort_key())
        )
        results.append(PatchResult(patch, new_keys, fixed))
        previous = current
    # Series-level new findings as the patch that introduced them reported them, so the
    # line numbers agree with `introduced_by` (both in that patch's coordinates).
    remaining = previous.keys() - before.keys()
    latest = {key: n for r in results for key, n in r.new_keys if key in remaining}
    series_new = sorted(latest.values(), key=lambda n: n.finding.sort_key())
    series_fixed = tuple(before[k] for k in sorted(before.keys() - previous.keys(), key=lambda k: before[k].sort_key()))
    return CheckRun(
        root,
        tuple(results),
        tuple(series_new),
        series_fixed,
        len(before.keys() & previous.keys()),
        tuple(sorted(previous.values(), key=Finding.sort_key)),
        {"files": len(index_run.files), "seconds": round(time.monotonic() - started, 2)},
    )
