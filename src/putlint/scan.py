"""`putlint scan`: index what the graph needs, search every context, apply
suppressions, and hand a sorted `ScanRun` to a report format."""

from __future__ import annotations

import os
import re
import time
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from . import coverage, store
from .errors import InputError
from .findings import Finding
from .index import update_index_while
from .ruleset import RuleSet
from .saved import open_program, saved_program
from .search import search_contexts
from .tree import in_scope

_IGNORE_COMMENT = re.compile(r"putlint:\s*ignore\[([\w,\s-]+)\]\s*(.*?)\s*(?:\*/|$)")


@dataclass(frozen=True)
class ScanRun:
    tree: Path
    findings: tuple[Finding, ...]
    diagnostics: tuple[tuple[str, str, str], ...]
    stats: dict
    warnings: tuple[str, ...] = ()
    unanalysed: tuple[coverage.Unanalysed, ...] = ()  # what could hide a finding


@dataclass(frozen=True, slots=True)
class AllowEntry:
    rule: str
    path: str
    function: str
    reason: str


def load_allowlist(config: Path | None) -> tuple[AllowEntry, ...]:
    """`[[ignore]]` tables of `.putlint.toml`: rule, path, optional function, reason."""
    if config is None or not config.is_file():
        return ()
    try:
        data = tomllib.loads(config.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{config}: cannot read configuration: {error}") from None
    entries = []
    for index, item in enumerate(data.get("ignore", [])):
        if not isinstance(item, dict) or not {"rule", "path", "reason"} <= item.keys():
            raise InputError(f"{config}: [[ignore]] entry {index + 1} needs rule, path and reason")
        unknown = item.keys() - {"rule", "path", "function", "reason"}
        if unknown:
            raise InputError(f"{config}: [[ignore]] entry {index + 1} has unknown key(s) {', '.join(sorted(unknown))}")
        entries.append(AllowEntry(str(item["rule"]), str(item["path"]), str(item.get("function", "")), str(item["reason"])))
    return tuple(entries)


def suppression_for(finding: Finding, lines: list[str], allowlist: tuple[AllowEntry, ...]) -> str:
    """Why a finding is suppressed ("" if it is not)."""
    for number in (finding.line, finding.line - 1):
        if 1 <= number <= len(lines):
            found = _IGNORE_COMMENT.search(lines[number - 1])
            if found and finding.rule in {r.strip() for r in found.group(1).split(",")}:
                return f"comment: {found.group(2) or 'no reason given'}"
    for entry in allowlist:
        if entry.rule == finding.rule and entry.path == finding.path and entry.function in ("", finding.function):
            return f"allowlist: {entry.reason}"
    return ""


def tree_reader(root: Path, texts: dict[str, str | None] | None = None):
    """`sources(path)` for `Search`: a file's bytes, from `texts` (a patched
    version, None when deleted) when it holds the path, else from the tree."""

    def read(path: str) -> bytes | None:
        if texts is not None and path in texts:
            text = texts[path]
            return None if text is None else text.encode("utf-8", errors="surrogateescape")
        try:
            return (root / path).read_bytes()
        except OSError:
            return None

    return read


def apply_suppressions(root: Path, findings: list[Finding], allowlist: tuple[AllowEntry, ...]) -> list[Finding]:
    cache: dict[str, list[str]] = {}
    result = []
    for finding in findings:
        if finding.path not in cache:
            try:
                cache[finding.path] = (root / finding.path).read_text("utf-8", errors="replace").splitlines()
            except OSError:
                cache[finding.path] = []
        reason = suppression_for(finding, cache[finding.path], allowlist)
        result.append(replace(finding, suppressed=True, suppression=reason) if reason else finding)
    return result


def scan(root: Path, rules: RuleSet, cache_dir: Path, *args, **options) -> ScanRun:
    """`_scan`; an index found damaged halfway is rebuilt, and the scan run again."""
    run, warning = store.once_more_if_damaged(
        store.index_path(cache_dir, root), lambda: _scan(root, rules, cache_dir, *args, **options)
    )
    return replace(run, warnings=(warning, *run.warnings)) if warning else run


def _scan(
    root: Path,
    rules: RuleSet,
    cache_dir: Path,
    report_scopes: tuple[str, ...] = ("",),
    graph_scopes: tuple[str, ...] = ("",),
    excludes: tuple[str, ...] = (),
    jobs: int | None = None,
    config: Path | None = None,
    progress=None,
) -> ScanRun:
    started = time.monotonic()
    index_file = store.index_path(cache_dir, root)
    index_run, saved = update_index_while(
        lambda: saved_program(index_file, graph_scopes).read(),
        root=root, cache_dir=cache_dir, scopes=graph_scopes, excludes=excludes, jobs=jobs, progress=progress,
    )
    indexed = time.monotonic()
    warnings = list(index_run.warnings)
    with store.Index(index_run.index_file, root) as index:
        program = open_program(index, index_run, rules.limits, warnings, saved)
        loaded = time.monotonic()
        results = search_contexts(
            program,
            rules,
            lambda path: in_scope(path, report_scopes),
            jobs=jobs or os.cpu_count() or 1,
            reopen=lambda: store.Index(index.path, root).load_file,
            sources=tree_reader(root),
        )
        lost = [u for path, rows in index.lost_functions(index_run.files) for u in coverage.of_lost(path, rows)]
    unanalysed = (*coverage.of_files(index_run.problems), *lost, *coverage.of_searches(results, rules.limits))
    findings = sorted((f for result in results.values() for f in result.findings), key=Finding.sort_key)
    findings = apply_suppressions(root, findings, load_allowlist(config or root / ".putlint.toml"))
    searched = time.monotonic()
    stats = {
        "files": len(index_run.files),
        "functions": len(program.func_name),
        "index_seconds": round(indexed - started, 2),
        "graph_seconds": round(loaded - indexed, 2),
        "search_seconds": round(searched - loaded, 2),
        "contexts": {
            context_id: {
                "entries": s.entries,
                "reached_functions": s.reached,
                "put_sites": s.put_sites,
                "nonfinal_puts": s.nonfinal,
                "distinct_object_puts": s.distinct_objects,
                "harmless_puts": s.harmless_puts,
                "infeasible_puts": s.infeasible_puts,
                "tracked_functions": s.tracked_functions,
                "findings": s.findings,
                "depth_cut": s.depth_cut,
                "fanout_cut_sites": len(s.fanout_cuts),
            }
            for context_id, s in sorted((c, r.stats) for c, r in results.items())
        },
    }
    return ScanRun(root, tuple(findings), index_run.problems, stats, tuple(warnings), unanalysed)
