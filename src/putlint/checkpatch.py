"""`putlint check-patch`: what a series introduces and what it fixes.

The series is applied in memory, one patch at a time; only the files it
touches are parsed again, from their patched text. Findings before and after
each patch are compared by fingerprint (rule + function names of both chains),
so unrelated line shifts do not count as changes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import coverage, fingerprints, parse, store
from .explain import Explainer
from .facts import COLUMNS, KINDS
from .findings import Finding
from .fixes import FixedBy, PatchLines, changed_functions, cheap_reasons, cited_reasons, notes
from .graph import Program
from .index import IndexRun, parse_timeout, update_index_while
from .patches import Patch, added_lines, apply_series, removed_lines, touched_paths
from .processes import unordered_map
from .rulefinality import Assumption, assumptions
from .ruleset import RuleSet
from .saved import (
    Saved,
    keep_bodies,
    keep_readings,
    known_readings,
    open_program,
    program_key,
    read_ahead,
    saved_bodies,
    saved_edges,
    saved_findings,
    saved_program,
    saved_readings,
)
from .search import ContextResult, Memo, search_contexts
from .search.memo import stale_after
from .suppress import AllowEntry, mark_suppressed
from .search.sources import merge_readings, tree_reader
from .tree import SOURCE_SUFFIXES, in_scope


@dataclass(frozen=True)
class NewFinding:
    finding: Finding  # suppressed when the patched text or the allowlist says so
    introduced_by: tuple[tuple[str, int], ...]  # added lines on the put or the chains


@dataclass(frozen=True)
class PatchResult:
    patch: Patch
    new_keys: tuple[tuple[tuple[str, int], NewFinding], ...]  # (fingerprint, ordinal) -> finding
    fixed: tuple[Finding, ...]
    unanalysed: tuple[coverage.Unanalysed, ...] = ()  # touched lines that could not be checked
    notes: tuple[str, ...] = ()  # how it was applied (hunks at an offset)
    fixed_by: tuple[tuple[FixedBy, ...], ...] = ()  # aligned with `fixed`: the lines that fixed each
    gone: tuple[Finding, ...] = ()  # disappeared with no line of the patch to explain it: a defect
    assumptions: tuple[Assumption, ...] = ()  # rule parts assuming something of a function it changes

    @property
    def new(self) -> tuple[NewFinding, ...]:
        return tuple(finding for _, finding in self.new_keys)

    @property
    def blocking(self) -> tuple[NewFinding, ...]:
        """New findings not suppressed: these fail the patch."""
        return tuple(n for n in self.new if not n.finding.suppressed)


@dataclass(frozen=True)
class CheckRun:
    tree: Path
    patches: tuple[PatchResult, ...]
    new: tuple[NewFinding, ...]
    fixed: tuple[Finding, ...]
    unchanged: int
    after: tuple[Finding, ...] = ()
    stats: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    unanalysed: tuple[coverage.Unanalysed, ...] = ()  # the patches' and the searches' limits
    fixed_by: tuple[tuple[FixedBy, ...], ...] = ()  # aligned with `fixed`
    gone: tuple[Finding, ...] = ()

    @property
    def blocking(self) -> tuple[NewFinding, ...]:
        return tuple(n for n in self.new if not n.finding.suppressed)


def _introduced_by(finding: Finding, added: dict[str, set[int]]) -> tuple[tuple[str, int], ...]:
    sites = {(finding.path, finding.line)}
    sites.update((hop.path, hop.line) for hop in (*finding.reach, *finding.teardown))
    return tuple(sorted((path, line) for path, line in sites if line in added.get(path, ())))


_State = dict[str, ContextResult]  # context id -> its findings now


def _keyed(state: _State) -> dict[tuple[str, int], Finding]:
    """Findings keyed by (fingerprint, ordinal): two puts in one function can share
    a fingerprint, and the ordinal (their order in the file) tells them apart."""
    keyed: dict[tuple[str, int], Finding] = {}
    seen: dict[str, int] = {}
    for finding in sorted((f for result in state.values() for f in result.findings), key=Finding.sort_key):
        ordinal = seen.get(finding.fingerprint, 0)
        seen[finding.fingerprint] = ordinal + 1
        keyed[(finding.fingerprint, ordinal)] = finding
    return keyed


def _changed(old: tuple | None, new: tuple | None, kind: str, *fields: str) -> set[tuple]:
    """`fields` of the `kind` rows found in one version of a file and not the other."""
    slots = [getattr(COLUMNS[kind], name) for name in fields]

    def projected(rows):
        return {tuple(row[slot] for slot in slots) for row in rows[KINDS[kind]]} if rows else set()

    return projected(old) ^ projected(new)


def _changed_symbols(old: tuple | None, new: tuple | None) -> tuple[set[str], set[str]]:
    """Names whose definitions changed and member names whose ops targets or
    types changed between two versions of one file; line moves do not count."""
    names = {name for name, _static in _changed(old, new, "functions", "name", "is_static")}
    fields = {
        path.split(".")[-1]
        for _type, path, _target, _variable in _changed(old, new, "ops_inits", "struct_type", "field", "target", "variable")
    }
    for lhs, field, _target, _receiver in _changed(old, new, "ops_assigns", "lhs", "field", "target", "receiver_type"):
        if field:
            fields.add(field)
        else:
            names.add(lhs)
    fields |= {member for _type, member, _member_type in _changed(old, new, "members", "struct_type", "member", "member_type")}
    return names, fields


def _changes_symbols(changes: dict[str, tuple | None], previous) -> tuple[set[str], set[str]]:
    """`_changed_symbols` of every file in `changes`."""
    names: set[str] = set()
    fields: set[str] = set()
    for path, rows in changes.items():
        more_names, more_fields = _changed_symbols(previous(path), rows)
        names |= more_names
        fields |= more_fields
    return names, fields


def _affected(state: _State, changes: dict[str, tuple | None], names: set[str], fields: set[str]) -> set[str]:
    """Contexts whose findings a change of these files, of these names and fields, can alter."""
    return {
        context_id
        for context_id, result in state.items()
        if not result.dependencies.files.isdisjoint(changes)
        or not result.dependencies.names.isdisjoint(names)
        or not result.dependencies.fields.isdisjoint(fields)
    }


class _Overlay:
    """The program as a series changes it: fact rows of the files changed so far,
    the rest from the index."""

    def __init__(self, program: Program, index: store.Index, rules: RuleSet, state: _State, jobs: int, sources,
                 memo: Memo):
        self.program = program
        self.index = index
        self.rules = rules
        self.state = state
        self.jobs = jobs
        self.sources = sources
        # Site readings of the tree's files and of the patched texts read so far; the base
        # searches' edges, stale where the changes so far reach.
        self.memo = memo
        self.rows: dict[str, tuple | None] = {}
        self.searched: list[str] = []
        self._changed: tuple[set[str], set[str], set[str]] = (set(), set(), set())  # paths, names, fields

    def previous(self, path: str) -> tuple | None:
        return self.rows[path] if path in self.rows else self.index.load_file(path)

    def change(self, changes: dict[str, tuple | None]) -> _State:
        if not changes:
            return self.state
        names, fields = _changes_symbols(changes, self.previous)
        affected = _affected(self.state, changes, names, fields)
        self.program.replace_files(changes, self.previous)
        self.rows.update(changes)
        for changed, more in zip(self._changed, (changes, names, fields)):
            changed.update(more)
        self.memo.stale = stale_after(self.program, *self._changed)
        if affected:
            self.searched.extend(sorted(affected))
            self.state = {
                **self.state,
                **_search(self.program, self.index, self.rules, self.jobs, self.sources, affected, self.state,
                          self.memo),
            }
        return self.state


def _extract_text(item: tuple[str, bytes]) -> tuple[str, tuple | None, str]:
    path, data = item
    return path, parse.extract_rows(data), ""


def _not_parsed(item: tuple[str, bytes], why: str) -> tuple[str, None, str]:
    kind, _, detail = why.partition(":")
    if kind == "timeout":
        return item[0], None, f"timeout: parsing the patched text took over {detail} s (PUTLINT_PARSE_TIMEOUT)"
    return item[0], None, f"crashed: the parser died on the patched text (exit code {detail})"


def _reparse(texts: dict[str, str | None], graph_scopes: tuple[str, ...]) -> tuple[dict, dict[str, str]]:
    """Fact rows of the patched texts (None: deleted), and path -> why for those
    that could not be parsed in time (their old facts stay)."""
    wanted = {p: t for p, t in texts.items() if p.endswith(SOURCE_SUFFIXES) and in_scope(p, graph_scopes)}
    changes: dict[str, tuple | None] = {path: None for path, text in wanted.items() if text is None}
    items = [(p, t.encode("utf-8", errors="surrogateescape")) for p, t in wanted.items() if t is not None]
    if hasattr(os, "fork"):
        parsed = unordered_map(_extract_text, items, 1, None, parse_timeout(), _not_parsed)
    else:
        parsed = map(_extract_text, items)
    failed = {}
    for path, rows, why in parsed:
        if rows is None:
            failed[path] = why
        else:
            changes[path] = rows
    return changes, failed


def _search(program, index, rules, jobs, sources, contexts=None, previous: _State | None = None,
            memo: Memo | None = None, learned: Memo | None = None) -> _State:
    """Search `contexts` (all when None), starting from `memo`; the readings
    made anew are added to it, and everything learned to `learned` when given."""
    costs = {c: len(r.stats.expanded) for c, r in (previous or {}).items()}
    tracked = {c: r.stats.tracked for c, r in (previous or {}).items()}
    fresh = learned if learned is not None else Memo()
    state = search_contexts(
        program,
        rules,
        lambda path: True,
        contexts,
        jobs,
        lambda: store.Index(index.path, index.tree).load_file,
        costs,
        sources,
        tracked,
        memo,
        fresh,
    )
    if memo is not None:
        merge_readings(memo.readings, fresh.readings)
    return state


def _base_state(program, index, index_run: IndexRun, rules: RuleSet, jobs: int, saved: _SavedState, warnings,
                sources, memo: Memo) -> _State:
    """Findings of the indexed tree, from the cache when the index, the rules and
    the analysis code are those it was computed with, and the edges their
    searches saw (into `memo`); a search of it keeps what it learned."""
    rules_text = repr(replace(rules, callbacks=tuple(sorted(rules.callbacks))))
    key = fingerprints.fingerprint(fingerprints.analysis_files(), index_run.content_key, rules_text)
    state = saved.findings.get(key, warnings)
    edges = saved.edges.get(key, warnings) if state is not None else None
    if state is None or not isinstance(edges, dict):
        # Findings and edges come from one search: either missing, both are made again.
        before, learned = dict(memo.readings), Memo(edges={})
        state = _search(program, index, rules, jobs, sources, memo=memo, learned=learned)
        saved.findings.write(key, state, warnings)
        saved.edges.write(key, learned.edges, warnings)
        keep_bodies(saved.bodies, index, index_run, _files_read(state), warnings)
        keep_readings(saved.readings, before, learned.readings, warnings)
        memo.edges = learned.edges
    else:
        memo.edges = edges
        if saved.bodies.get(program_key(index_run), warnings) is None:
            keep_bodies(saved.bodies, index, index_run, _files_read(state), warnings)
    return state


def _files_read(state: _State) -> set[str]:
    return {path for result in state.values() for path in result.dependencies.files}


@dataclass(frozen=True)
class _SavedState:
    """The saved findings of the tree, the edges their searches saw (same key),
    the site readings, and the bodies of the files those searches read."""

    findings: Saved
    edges: Saved
    readings: Saved
    bodies: Saved


def check_series(root: Path, rules: RuleSet, cache_dir: Path, patches: list[Patch], *args, **options) -> CheckRun:
    """`_check_series`; an index found damaged halfway is rebuilt, and the check run again."""
    run, warning = store.once_more_if_damaged(
        store.index_path(cache_dir, root), lambda: _check_series(root, rules, cache_dir, patches, *args, **options)
    )
    return replace(run, warnings=(warning, *run.warnings)) if warning else run


def _read_saved_state(index_file: Path, graph_scopes: tuple[str, ...], rules: RuleSet, touched: set[str]):
    """The saved program and findings, while another process checks that the
    index is up to date; with the bodies read ahead of the files that the saved
    searches a series touches read, whatever rules they were made with: those
    searches will most likely run again."""
    program_saved = saved_program(index_file, graph_scopes).read()
    findings_saved = saved_findings(index_file, graph_scopes).read()
    state_saved = _SavedState(
        findings_saved,
        saved_edges(index_file, graph_scopes).read(),
        saved_readings(index_file, graph_scopes).read(),
        saved_bodies(index_file, graph_scopes).read(),
    )
    try:
        read = {
            path
            for result in findings_saved.value.values()
            if not result.dependencies.files.isdisjoint(touched)
            for path in result.dependencies.files
        }
    except (AttributeError, TypeError):
        read = set()
    ready = read_ahead(program_saved, index_file, rules.limits, sorted(read), state_saved.bodies)
    return program_saved, state_saved, ready


def _check_series(
    root: Path,
    rules: RuleSet,
    cache_dir: Path,
    patches: list[Patch],
    graph_scopes: tuple[str, ...] = ("",),
    jobs: int | None = None,
    base: dict[str, str | None] | None = None,
    allowlist: tuple[AllowEntry, ...] = (),
) -> CheckRun:
    """`base` replaces the tree's text of some files before the series (the hook
    starts from HEAD, not from the working tree). A new finding that a
    `putlint: ignore[...]` comment in the patched text or the allowlist covers
    is reported as suppressed and does not fail the patch."""
    started = time.monotonic()
    index_file = store.index_path(cache_dir, root)
    touched = touched_paths(patches) | set(base or ())
    index_run, (program_saved, state_saved, ready) = update_index_while(
        lambda: _read_saved_state(index_file, graph_scopes, rules, touched),
        root=root, cache_dir=cache_dir, scopes=graph_scopes, jobs=jobs,
    )
    warnings = list(index_run.warnings)
    jobs = jobs or os.cpu_count() or 1
    with store.Index(index_run.index_file, root) as index:
        program = open_program(index, index_run, rules.limits, warnings, program_saved, ready)
        texts: dict[str, str | None] = dict(base or {})
        problems = {u.path: u.reason for u in coverage.of_files(index_run.problems)}
        memo = Memo(known_readings(state_saved.readings, warnings))
        state = _base_state(program, index, index_run, rules, jobs, state_saved, warnings, tree_reader(root), memo)
        # Put arguments and suppressions are read from the text as the series has made it so far.
        patched = tree_reader(root, texts)
        overlay = _Overlay(program, index, rules, state, jobs, patched, memo)
        changes, failed = _reparse(texts, graph_scopes)
        problems.update(failed)
        before = _keyed(overlay.change(changes))
        previous = before
        results = []
        judge = _Judge(Explainer(program, rules, patched), assumptions(rules))
        for patch in patches:
            result, previous = _check_patch(patch, root, texts, overlay, previous, graph_scopes, problems, allowlist,
                                            judge)
            results.append(result)
        limits = coverage.of_searches(overlay.state, rules.limits)
        if state_saved.readings.problem:
            # A damaged file of readings: what this run read of the tree's own files replaces it.
            keep_readings(state_saved.readings, {}, {p: r for p, r in memo.readings.items() if p not in texts}, warnings)
    stats = {
        "files": len(index_run.files),
        "contexts_searched_again": overlay.searched,
        "seconds": round(time.monotonic() - started, 2),
    }
    return _series(root, before, previous, results, judge.same, stats, warnings, limits)


@dataclass
class _Judge:
    """What a patch's comparison needs: an explainer of the patched tree, the
    rules' assumptions, and the findings that stayed under changed chains
    (a key after a patch -> the key before it)."""

    explainer: Explainer
    assumed: dict
    same: dict = field(default_factory=dict)


def _series(root, before, after, results, same, stats, warnings, limits) -> CheckRun:
    """The series as a whole: new findings as the patch that introduced them
    reported them (so their lines agree with `introduced_by`, both in that
    patch's coordinates), and fixed ones with the reasons the patch that fixed
    them gave; one that disappeared without a reason is gone, not fixed."""
    renamed = {same[k] for k in after if k in same}
    remaining = after.keys() - before.keys() - same.keys()
    latest = {key: n for r in results for key, n in r.new_keys if key in remaining}
    series_new = sorted(latest.values(), key=lambda n: n.finding.sort_key())
    reasons = {f.fingerprint: why for r in results for f, why in zip(r.fixed, r.fixed_by)}
    lost = sorted(before.keys() - after.keys() - renamed, key=lambda k: before[k].sort_key())
    series_fixed = tuple(before[k] for k in lost if before[k].fingerprint in reasons)
    return CheckRun(
        root,
        tuple(results),
        tuple(series_new),
        series_fixed,
        len(before.keys() & after.keys()) + len(renamed),
        tuple(sorted(after.values(), key=Finding.sort_key)),
        stats,
        tuple(warnings),
        (*dict.fromkeys(u for r in results for u in r.unanalysed), *limits),
        tuple(reasons[f.fingerprint] for f in series_fixed),
        tuple(before[k] for k in lost if before[k].fingerprint not in reasons),
    )


def _check_patch(patch, root, texts, overlay: _Overlay, previous, graph_scopes, problems, allowlist, judge: _Judge):
    """Apply one patch to `texts` and search what it changed: (its result, the findings after it)."""
    earlier = dict(texts)
    removed = removed_lines(patch)
    rows_before = {path: overlay.previous(path) for path in removed}
    notes_applied: list[str] = []
    apply_series(root, [patch], texts, notes_applied)
    # Only what this patch touched is parsed again.
    changes, failed = _reparse({p: t for p, t in texts.items() if p not in earlier or earlier[p] != t}, graph_scopes)
    problems.update(failed)
    old_rows = {path: overlay.previous(path) for path in changes}
    current = _keyed(overlay.change(changes))
    added = added_lines(patch)
    lines = PatchLines.of(patch)
    new_keys, fixed, fixed_by, gone = _compare(previous, current, lines, judge, overlay.sources, allowlist, added)
    unchecked = coverage.of_touched(added, removed, rows_before.get, overlay.previous, problems)
    changed = set().union(set(), *(changed_functions(p, old_rows[p], changes[p], lines) for p in changes))
    result = PatchResult(patch, new_keys, fixed, tuple(unchecked), tuple(notes_applied), fixed_by, gone,
                         notes(changed, judge.assumed))
    return result, current


def _compare(previous, current, lines: PatchLines, judge: _Judge, sources, allowlist, added):
    """One patch's new keys, fixed findings (each with the lines that fixed it)
    and gone ones; a finding whose chains changed but whose put stays
    reported at the same place is neither (`judge.same` remembers it)."""
    introduced = current.keys() - previous.keys()
    at = {(f.rule, f.path, f.line, f.col): k for k, f in current.items() if k in introduced}
    fixed, fixed_by, gone = [], [], []
    for key in sorted(previous.keys() - current.keys(), key=lambda k: previous[k].sort_key()):
        finding = previous[key]
        moved = lines.moved(finding.path, finding.line)
        twin = at.get((finding.rule, finding.path, moved, finding.col))
        if twin is not None:
            judge.same[twin] = judge.same.get(key, key)
            introduced.discard(twin)
            continue
        reasons = cheap_reasons(finding, lines)
        if not reasons and moved is not None:
            stories = judge.explainer.explain(finding.path, moved, finding.context)
            if any(story.reported for story in stories):
                continue  # still reported there, under chains a key pairing did not see
            reasons = cited_reasons([e for story in stories for _, ev in story.reasons for e in ev], lines)
        if reasons:
            fixed.append(finding)
            fixed_by.append(reasons)
        else:
            gone.append(finding)
    ordered = sorted(introduced, key=lambda k: current[k].sort_key())
    marked = mark_suppressed((current[key] for key in ordered), sources, allowlist)
    new_keys = tuple((key, NewFinding(finding, _introduced_by(finding, added))) for key, finding in zip(ordered, marked))
    return new_keys, tuple(fixed), tuple(fixed_by), tuple(gone)
