"""`putlint scan`: index what the graph needs, search every context, apply
suppressions, and hand a sorted `ScanRun` to a report format."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from . import coverage, store
from .findings import Finding, ScanRun
from .index import update_index_while
from .ruleset import RuleSet
from .saved import keep_readings, known_readings, open_program, saved_program, saved_readings
from .search import Memo, search_contexts
from .suppress import AllowEntry, load_allowlist, mark_suppressed
from .search.sources import tree_reader
from .tree import in_scope


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
    allowlist: tuple[AllowEntry, ...] | None = None,
) -> ScanRun:
    """`allowlist`, when given, replaces the one read from `config` (default TREE/.putlint.toml)."""
    started = time.monotonic()
    index_file = store.index_path(cache_dir, root)
    index_run, (saved, readings) = update_index_while(
        lambda: (saved_program(index_file, graph_scopes).read(), saved_readings(index_file, graph_scopes).read()),
        root=root, cache_dir=cache_dir, scopes=graph_scopes, excludes=excludes, jobs=jobs, progress=progress,
    )
    indexed = time.monotonic()
    warnings = list(index_run.warnings)
    with store.Index(index_run.index_file, root) as index:
        program = open_program(index, index_run, rules.limits, warnings, saved)
        loaded = time.monotonic()
        known, learned = Memo(known_readings(readings, warnings)), Memo()
        results = search_contexts(
            program,
            rules,
            lambda path: in_scope(path, report_scopes),
            jobs=jobs or os.cpu_count() or 1,
            reopen=lambda: store.Index(index.path, root).load_file,
            sources=tree_reader(root),
            known=known,
            learned=learned,
        )
        keep_readings(readings, known.readings, learned.readings, warnings)
        lost = [u for path, rows in index.lost_functions(index_run.files) for u in coverage.of_lost(path, rows)]
    unanalysed = (*coverage.of_files(index_run.problems), *lost, *coverage.of_searches(results, rules.limits))
    findings = sorted((f for result in results.values() for f in result.findings), key=Finding.sort_key)
    if allowlist is None:
        allowlist = load_allowlist(config or root / ".putlint.toml")
    findings = mark_suppressed(findings, tree_reader(root), allowlist)
    searched = time.monotonic()
    stats = {
        "files": len(index_run.files),
        "functions": len(program.func_name),
        "index_seconds": round(indexed - started, 2),
        "graph_seconds": round(loaded - indexed, 2),
        "search_seconds": round(searched - loaded, 2),
        "contexts": {context_id: results[context_id].stats.report() for context_id in sorted(results)},
    }
    return ScanRun(root, tuple(findings), index_run.problems, stats, tuple(warnings), unanalysed)


@contextmanager
def open_analysis(root: Path, rules: RuleSet, cache_dir: Path, graph_scopes: tuple[str, ...] = ("",), jobs: int | None = None):
    """The program of an indexed tree and a reader of its files, for one
    process's searches (`putlint explain`)."""
    index_file = store.index_path(cache_dir, root)
    index_run, saved = update_index_while(
        lambda: saved_program(index_file, graph_scopes).read(), root=root, cache_dir=cache_dir, scopes=graph_scopes, jobs=jobs
    )
    with store.Index(index_run.index_file, root) as index:
        yield open_program(index, index_run, rules.limits, list(index_run.warnings), saved), tree_reader(root)
