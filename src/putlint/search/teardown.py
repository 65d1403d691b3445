"""The teardown search: from a put function to a wait its context must never
reach, breadth-first, preferring the subsystem that owns the object (a ceph
`iput` evicts through `ceph_evict_inode`, not every `->evict_inode`).

A masked-wait scope (`nofs_scope` of a context: `memalloc_nofs_save` ...
`memalloc_nofs_restore`) hides the GFP waits of the calls inside it and below.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from ..findings import Hop
from ..graph import Edge
from ..ruleset import Context, RuleSet
from ..waits import Wait
from .edges import EdgeView
from .pinned import PinnedWork
from .reach import via_text
from .stats import ContextStats

WAIT_PREFIX = "wait: "

_NEVER_ENDS = 1 << 30
_PASSED, _UNPINNED, _WAIT, _NEXT = "passed", "unpinned", "wait", "next"  # teardown steps (Teardown._steps_of)


@dataclass(frozen=True, slots=True)
class TeardownResult:
    """What a put's teardown reaches: the shortest chain to a wait (None when
    none is reached), the wait, why pinned work did not rule it out (when its
    wait has a `pinned` model), and the pinned waits that were passed over."""

    hops: tuple[Hop, ...] | None
    wait: Wait | None = None
    unpinned: str = ""
    pinned: tuple[str, ...] = ()  # "wait: why the work it waits for is pinned"


class Teardown:
    """Shortest teardown chains, cached per (put, owning subsystem, context)."""

    def __init__(self, edges: EdgeView, rules: RuleSet, pinned: PinnedWork):
        self.edges = edges
        self.pinned_work = pinned
        self.limit = rules.limits.teardown_depth
        self._results: dict[tuple[str, str, str], TeardownResult] = {}
        # (function, masked, affinity, context) -> what each of its calls does in a teardown:
        # the generic part (iput_final, evict, truncate_inode_pages_final) is stepped through
        # by every owner's search, so its calls are judged once
        self._steps: dict[tuple[int, bool, str, str], list[tuple]] = {}
        self._waits: dict[str, _ContextWaits] = {}

    def chain(self, put: str, affinity: str, context: Context, origin_file: int, stats: ContextStats) -> TeardownResult:
        """The teardown of `put` (as resolved from `origin_file`) for objects of `affinity` in `context`."""
        key = (put, affinity, context.id)
        if key not in self._results:
            self._results[key] = self._search(put, affinity, context, origin_file, stats)
        return self._results[key]

    def _search(self, put, affinity, context: Context, origin_file, stats) -> TeardownResult:
        program = self.edges.program
        # A state is (function, inside a masked-wait scope).
        parent: dict[tuple[int, bool], tuple[tuple[int, bool], Edge] | None] = {}
        queue: deque[tuple[tuple[int, bool], int]] = deque()
        passed_over: dict[str, str] = {}
        for start in sorted(program.resolve_name(put, origin_file)):
            parent[(start, False)] = None
            queue.append(((start, False), 0))
        while queue:
            state, depth = queue.popleft()
            for step, edge, detail in self._steps_of(state, affinity, context, stats):
                if step is _PASSED:
                    passed_over[edge.callee] = detail
                elif step is _UNPINNED:
                    wait, why = detail
                    return TeardownResult(self._rebuild(parent, state, edge, wait, put), wait, why, _listed(passed_over))
                elif step is _WAIT:
                    return TeardownResult(self._rebuild(parent, state, edge, detail, put), detail, "", _listed(passed_over))
                elif detail not in parent and depth + 1 <= self.limit:
                    parent[detail] = (state, edge)
                    queue.append((detail, depth + 1))
        return TeardownResult(None, pinned=_listed(passed_over))

    def _steps_of(self, state: tuple[int, bool], affinity: str, context: Context, stats) -> list[tuple]:
        """What each call of the state's function does in a teardown, in source
        order: (_PASSED, edge, why) a pinned wait passed over, (_UNPINNED, edge,
        (wait, why)) or (_WAIT, edge, wait) a wait reached, (_NEXT, edge, state)
        a call to follow; cut, opaque and unresolved calls are left out."""
        function, masked = state
        program = self.edges.program
        waits = self._context_waits(context)
        caller_name = program.func_name[function]
        # Calls judged alike for every owner unless the edges, a cut or a pinned verdict depend on it.
        shared = not (program.depends_on_affinity(function) or caller_name in waits.owner_cut_callers or waits.pinned)
        key = (function, masked, "" if shared else affinity, context.id)
        steps = self._steps.get(key)
        if steps is not None:
            stats.expanded.add(function)
            return steps
        edges = self.edges
        wait_functions, gfp_waits = waits.by_function, waits.by_gfp
        cuts = waits.cuts_for(affinity)
        calls = edges.of(function, affinity, stats)
        scopes = _masked_scopes(calls, context)
        steps = []
        for edge in calls:
            inside = masked or bool(scopes) and any(start < edge.line < end for start, end in scopes)
            target_name = edges.target_name(edge)
            if edges.cuts(cuts, caller_name, edge):
                continue
            wait = wait_functions.get(edge.callee) or wait_functions.get(target_name)
            if wait is None and not inside and edge.gfp:
                wait = next((w for pattern, w in gfp_waits if pattern.search(edge.gfp)), None)
            if wait is not None and wait.pinned is not None:
                verdict = self.pinned_work.verdict(wait.pinned, affinity)
                if verdict.holds:
                    steps.append((_PASSED, edge, verdict.why))  # the work cannot be pending at a final put
                    continue
                steps.append((_UNPINNED, edge, (wait, verdict.why)))
                break  # a search that gets here returns
            if wait is not None:
                steps.append((_WAIT, edge, wait))
                break
            if edge.target < 0 or edge.callee in edges.opaque or target_name in edges.opaque:
                continue
            steps.append((_NEXT, edge, (edge.target, inside)))
        self._steps[key] = steps
        return steps

    def _context_waits(self, context: Context) -> _ContextWaits:
        found = self._waits.get(context.id)
        if found is None:
            found = self._waits[context.id] = _ContextWaits.of(context)
        return found

    def _rebuild(self, parent, state, edge: Edge, wait: Wait, put: str) -> tuple[Hop, ...]:
        program = self.edges.program
        wait_name = edge.callee if wait.function else f"{edge.callee}({edge.gfp})"
        hops = [Hop(wait_name, program.path_of(state[0]), edge.line, WAIT_PREFIX + wait.why)]
        current = state
        while (link := parent[current]) is not None:
            previous, step = link
            hops.append(Hop(program.func_name[current[0]], program.path_of(previous[0]), step.line, via_text(step)))
            current = previous
        function = current[0]
        hops.append(Hop(put, program.path_of(function), program.func_line[function], "put"))
        return tuple(reversed(hops))


@dataclass(frozen=True)
class _ContextWaits:
    """A context's waits and teardown cuts, as the teardown steps look them up."""

    by_function: dict[str, Wait]
    by_gfp: list[tuple[re.Pattern, Wait]]
    cuts: tuple  # the context's teardown cuts
    owner_cut_callers: frozenset[str]  # callers of the cuts for one subsystem only
    pinned: bool  # a wait whose verdict depends on the owning subsystem

    @classmethod
    def of(cls, context: Context) -> _ContextWaits:
        return cls(
            {w.function: w for w in context.waits if w.function},
            [(re.compile(w.gfp), w) for w in context.waits if w.gfp],
            tuple(context.teardown_cuts),
            frozenset(c.caller for c in context.teardown_cuts if c.subsystem),
            any(w.pinned is not None for w in context.waits),
        )

    def cuts_for(self, affinity: str) -> set[tuple[str, str]]:
        return {(c.caller, c.callee) for c in self.cuts if c.subsystem in ("", affinity)}


def _listed(passed_over: dict[str, str]) -> tuple[str, ...]:
    return tuple(f"{wait}: {why}" for wait, why in sorted(passed_over.items()))


def _masked_scopes(calls: list[Edge], context: Context) -> list[tuple[int, int]]:
    """(enter line, leave line) of each masked-wait scope in one function's calls."""
    scope = context.nofs_scope
    if not scope.enter:
        return []
    enters = [e.line for e in calls if e.callee in scope.enter]
    if not enters:
        return []
    leaves = [e.line for e in calls if e.callee in scope.leave]
    return [(start, min((line for line in leaves if line > start), default=_NEVER_ENDS)) for start in enters]
