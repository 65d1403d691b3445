"""The searches of every context, in forked processes: contexts are
independent searches over the same program.

`Analysis` holds what one process's searches share (edges seen through the
rules, teardown chains, the source read on demand, the put-site judge); the
checks (`putlint.checks`) run on it, one context at a time.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

from .. import faults
from ..findings import Finding, number_repeats
from ..graph import Program
from ..processes import unordered_map
from ..ruleset import Check, RuleSet
from .edges import EdgeView
from .pinned import PinnedWork
from .reach import entries
from .memo import Memo
from .sources import Sources, SourceReader
from .stats import ContextStats, Dependencies
from .teardown import Teardown

__all__ = ["Analysis", "ContextResult", "ContextStats", "Dependencies", "Memo", "search_contexts"]


@dataclass(frozen=True)
class ContextResult:
    """One context searched: its findings (sorted), statistics and dependencies."""

    findings: tuple[Finding, ...]
    stats: ContextStats
    dependencies: Dependencies


class Analysis:
    """`sources(path)`, when given, returns a file's bytes (None if unreadable):
    rules that look at a put's argument or a call's conditions read them at
    the sites a search finds; without it they do not apply. `known` is what
    earlier searches learned (`memo.Memo`)."""

    def __init__(self, program: Program, rules: RuleSet, sources: Sources | None = None,
                 tracked: dict[str, frozenset[int]] | None = None, known: Memo | None = None):
        from ..finality import PutJudge  # it judges reach trees: imported once the search package is

        self.program = program
        self.rules = rules
        known = known or Memo()
        self.edges = EdgeView(program, rules, known.edges, known.stale)
        self.sources = SourceReader(program, sources, known.readings)
        self.teardown = Teardown(self.edges, rules, PinnedWork(program, self.sources))
        self.judge = PutJudge(program, self.sources, rules, self.edges)
        self.stats: dict[str, ContextStats] = {}
        # Per context, functions to search with their callers' constants from the start (the
        # ones an earlier search of the same program needed): constants only rule out calls
        # they contradict, so starting from more of them rules out nothing that is possible.
        self.tracked = tracked or {}

    def run(self, in_scope, contexts: set[str] | None = None) -> list[Finding]:
        """Findings of every check (of `contexts`, when given) whose put site
        satisfies `in_scope(path)`, sorted, repeats numbered."""
        from ..checks import BY_KIND

        by_context: dict[str, list[Check]] = {}
        for check in self.rules.checks.values():
            if contexts is None or check.context in contexts:
                by_context.setdefault(check.context, []).append(check)
        found: list[Finding] = []
        for context_id in sorted(by_context):
            context = self.rules.contexts[context_id]
            for kind, module in BY_KIND.items():
                checks = [c for c in by_context[context_id] if c.kind == kind]
                if checks:
                    found.extend(module.findings(self, context, checks, in_scope))
        return number_repeats(sorted(found, key=Finding.sort_key))

    def dependencies(self, context_id: str) -> Dependencies:
        stats = self.stats.get(context_id)
        return Dependencies.of(self.program, self.rules.contexts[context_id], stats.expanded if stats else set())

    def result(self, context_id: str, found: list[Finding]) -> ContextResult:
        return ContextResult(
            tuple(f for f in found if f.context == context_id),
            self.stats.get(context_id, ContextStats()),
            self.dependencies(context_id),
        )


# What forked workers search: set just before the fork, inherited, never pickled.
_FORKED: tuple | None = None
_FETCH_PID = 0
_LEARNED: tuple[int, Memo] = (0, Memo())  # what this worker learned in its earlier tasks


def _search_forked(context_id: str) -> tuple[dict[str, ContextResult], Memo]:
    global _FETCH_PID, _LEARNED
    program, rules, in_scope, reopen, sources, tracked, known, edges_wanted = _FORKED
    if reopen is not None and _FETCH_PID != os.getpid():
        program.set_fetch(reopen())  # a connection of this process, not the parent's
        _FETCH_PID = os.getpid()
    if _LEARNED[0] != os.getpid():
        _LEARNED = (os.getpid(), Memo())
        # A worker lives for one search_contexts call and makes few cycles; the
        # collector's passes over its millions of young tuples cost a third of a search.
        gc.disable()
    earlier = _LEARNED[1]
    start = Memo({**known.readings, **earlier.readings}, {**(known.edges or {}), **(earlier.edges or {})}, known.stale)
    learned = Memo(edges={} if edges_wanted else None)
    results = _search_serial(program, rules, in_scope, (context_id,), sources, tracked, start, learned)
    earlier.add(learned)
    return results, learned


def _search_serial(program, rules, in_scope, contexts, sources=None, tracked=None, known=None,
                   learned: Memo | None = None) -> dict[str, ContextResult]:
    faults.point("search")
    analysis = Analysis(program, rules, sources, tracked, known)
    found = analysis.run(in_scope, set(contexts))
    if learned is not None:
        learned.add(Memo(analysis.sources.fresh_readings(), analysis.edges.export() if learned.edges is not None else None))
    return {context_id: analysis.result(context_id, found) for context_id in contexts}


def search_contexts(
    program: Program,
    rules: RuleSet,
    in_scope,
    contexts: set[str] | None = None,
    jobs: int = 1,
    reopen=None,
    costs: dict[str, int] | None = None,
    sources: Sources | None = None,
    tracked: dict[str, frozenset[int]] | None = None,
    known: Memo | None = None,
    learned: Memo | None = None,
) -> dict[str, ContextResult]:
    """Search `contexts` (all with checks when None), in up to `jobs` forked
    processes. `reopen()` gives a forked worker its own body fetcher; `costs`
    (e.g. the functions a context expanded last time) say which to start
    first; `sources(path)` gives a file's text (see `Analysis`); `tracked`, the
    functions each context's last search followed constants into (see
    `Analysis`): a search of a patched program takes one round, not several;
    `known`, what earlier searches learned (`memo.Memo`); `learned`, when
    given, receives the readings this one made anew, and its edges when its
    `edges` is not None, for the caller to keep."""
    if contexts is None:
        contexts = {check.context for check in rules.checks.values()}
    if not costs:  # more entry functions, a larger search
        costs = {c: sum(map(len, entries(program, rules.contexts[c]))) for c in contexts}
    ordered = sorted(contexts, key=lambda c: (-costs.get(c, 0), c))
    jobs = min(jobs, len(ordered))
    if jobs < 2 or not hasattr(os, "fork"):
        return _search_serial(program, rules, in_scope, tuple(sorted(contexts)), sources, tracked, known, learned)
    # What the workers inherit is never collected: the collector would walk it in each of them.
    gc.freeze()
    global _FORKED
    _FORKED = (program, rules, in_scope, reopen, sources, tracked, known or Memo(),
               learned is not None and learned.edges is not None)
    try:
        # One context per task, costliest first: a worker that is done takes the next.
        parts = list(unordered_map(_search_forked, ordered, jobs, ahead=1))
    finally:
        _FORKED = None
    if learned is not None:
        for _results, memo in parts:
            learned.add(memo)
    return {context_id: part[context_id] for part, _readings in parts for context_id in sorted(part)}
