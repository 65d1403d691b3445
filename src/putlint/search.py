"""Reach and teardown searches: the heart of putlint.

For each context, a breadth-first search from its entries finds every put
call it can reach (puts are leaves: their teardown is the other search). For
each put site, a second search from the put function, preferring the
subsystem that owns the object (the put's directory), looks for a wait the
context must never reach. Both searches keep predecessor links, so each chain
is a shortest one and is rebuilt exactly.
"""

from __future__ import annotations

import os
import re
from collections import deque
from dataclasses import dataclass, field
from operator import itemgetter

from . import facts, faults, paths
from .findings import Finding, Hop, number_repeats
from .graph import (
    CALLBACK,
    MEMBER,
    MEMBER_PATH,
    POINTER_VAR,
    Cut,
    Edge,
    Program,
    subsystem_of,
)
from . import sitefacts as facts_on_site
from .objects import PutObjects
from .parse.onsite import BodyReader
from .processes import unordered_map
from .ruleset import Check, Context, RuleSet


@dataclass
class ContextStats:
    entries: int = 0
    reached: int = 0
    put_sites: int = 0
    nonfinal: int = 0
    distinct_objects: int = 0
    harmless_puts: int = 0
    infeasible_puts: int = 0  # every chain to them is ruled out by a constant passed down it
    tracked_functions: int = 0  # functions searched with the constants their callers pass
    findings: int = 0
    depth_cut: int = 0
    fanout_cuts: list[Cut] = field(default_factory=list)
    expanded: set[int] = field(default_factory=set)  # functions whose calls the searches read


@dataclass(frozen=True)
class Dependencies:
    """What a context's findings were computed from: a change that touches none
    of it cannot change them. `names` are the names the searched functions call
    (a new or removed definition of one can change an edge); `fields` are the
    member names on their ops-call paths and ops entries."""

    files: frozenset[str]
    names: frozenset[str]
    fields: frozenset[str]


@dataclass(frozen=True, slots=True)
class _PutSite:
    state: tuple  # (function making the put, subsystem of the path, constants it was called with)
    edge: Edge

    @property
    def function(self) -> int:
        return self.state[0]


def _via_text(edge: Edge) -> str:
    if edge.kind == MEMBER:
        return edge.via
    if edge.kind == CALLBACK:
        return f"callback via {edge.via}"
    if edge.kind == POINTER_VAR:
        return f"function pointer {edge.via}"
    return "call"


@dataclass(frozen=True)
class ContextResult:
    """One context searched: its findings (sorted), statistics and dependencies."""

    findings: tuple[Finding, ...]
    stats: ContextStats
    dependencies: Dependencies


_FIRST = itemgetter(0)

# A chain ruled out by constants makes their functions tracked, and the search
# runs again; each round tracks more, so this bounds the rounds, not the result.
_ROUNDS = 6

# What forked workers search: set just before the fork, inherited, never pickled.
_FORKED: tuple | None = None
_FETCH_PID = 0


def _search_forked(context_id: str) -> dict[str, ContextResult]:
    global _FETCH_PID
    program, rules, in_scope, reopen, sources = _FORKED
    if reopen is not None and _FETCH_PID != os.getpid():
        program.set_fetch(reopen())  # a connection of this process, not the parent's
        _FETCH_PID = os.getpid()
    return _search_serial(program, rules, in_scope, (context_id,), sources)


def _search_serial(program, rules, in_scope, contexts, sources=None) -> dict[str, ContextResult]:
    faults.point("search")
    search = Search(program, rules, sources)
    findings = search.run(in_scope, set(contexts))
    return {
        context_id: ContextResult(
            tuple(f for f in findings if f.context == context_id),
            search.stats.get(context_id, ContextStats()),
            search.dependencies(context_id),
        )
        for context_id in contexts
    }


def search_contexts(
    program: Program,
    rules: RuleSet,
    in_scope,
    contexts: set[str] | None = None,
    jobs: int = 1,
    reopen=None,
    costs: dict[str, int] | None = None,
    sources=None,
) -> dict[str, ContextResult]:
    """Search `contexts` (all with checks when None), in up to `jobs` forked
    processes: contexts are independent searches over the same program.
    `reopen()` gives a forked worker its own body fetcher; `costs` (e.g. the
    functions a context expanded last time) say which to start first;
    `sources(path)` gives a file's text, to read put arguments (see `Search`)."""
    if contexts is None:
        contexts = {check.context for check in rules.checks.values()}
    if not costs:  # more entry functions, a larger search
        probe = Search(program, rules, sources)
        costs = {c: sum(map(len, probe.entries(rules.contexts[c]))) for c in contexts}
    ordered = sorted(contexts, key=lambda c: (-costs.get(c, 0), c))
    jobs = min(jobs, len(ordered))
    if jobs < 2 or not hasattr(os, "fork"):
        return _search_serial(program, rules, in_scope, tuple(sorted(contexts)), sources)
    global _FORKED
    _FORKED = (program, rules, in_scope, reopen, sources)
    try:
        # One context per task, costliest first: a worker that is done takes the next.
        parts = list(unordered_map(_search_forked, ordered, jobs))
    finally:
        _FORKED = None
    return {context_id: part[context_id] for part in parts for context_id in sorted(part)}


class Search:
    """`sources(path)`, when given, returns a file's bytes (None if unreadable):
    rules that look at a put's argument (`nonfinal_if_from`, `distinct_objects`)
    read it at the put sites a search finds; without it they do not apply."""

    def __init__(self, program: Program, rules: RuleSet, sources=None):
        self.program = program
        self.rules = rules
        self.sources = sources
        self.deferrals = frozenset(d.function for d in rules.deferrals)
        self.opaque = frozenset(d.function for d in rules.opaque)
        self.cut_edges = frozenset((c.caller, c.callee) for c in rules.cut_edges)
        self._edges_cache: dict[tuple[int, str], list[Edge]] = {}
        self._teardowns: dict[tuple[str, str, str], tuple[Hop, ...] | None] = {}
        self._readers: dict[str, BodyReader | None] = {}
        self.objects = PutObjects(program, self._body, self._reader, lambda function: self._reading.add(function))
        self._reading: set[int] = set()  # the expanded set of the context being searched
        self.stats: dict[str, ContextStats] = {}

    def _reader(self, path: str) -> BodyReader | None:
        """`path` parsed once for everything read at its sites."""
        if self.sources is None:
            return None
        if path not in self._readers:
            source = self.sources(path)
            self._readers[path] = BodyReader(source) if source else None
        return self._readers[path]

    def _body(self, function: int) -> facts_on_site.FunctionBody | None:
        """What is known at the calls of `function` (read from its source)."""
        if self.sources is None:
            return None
        # What a body says decides findings: a change to its file must search again.
        self._reading.add(function)
        reader = self._reader(self.program.path_of(function))
        return reader.body(self.program.func_line[function]) if reader is not None else None

    def _edges(self, function: int, affinity: str, stats: ContextStats) -> list[Edge]:
        stats.expanded.add(function)
        key = (function, affinity if self.program.depends_on_affinity(function) else "")
        edges = self._edges_cache.get(key)
        if edges is None:
            cuts: list[Cut] = []
            edges = self.program.edges(function, affinity, self.rules.callbacks, cuts)
            caller = self.program.func_name[function]
            edges = [
                e
                for e in edges
                if (caller, e.callee) not in self.cut_edges
                and (e.target < 0 or self.program.func_name[e.target] not in self.deferrals)
                and e.callee not in self.deferrals
            ]
            self._edges_cache[key] = edges
            stats.fanout_cuts.extend(cuts)
        return edges

    # -- reach ------------------------------------------------------------

    def entries(self, context: Context) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
        """(function entries, ops entries): each (function id, why)."""
        direct = []
        ops = []
        for entry in context.entries:
            if entry.function:
                why = entry.why or f"context entry: {entry.function}"
                direct.extend((f, why) for f in self.program.functions_named(entry.function))
            else:
                struct_type, field_name = entry.ops.split(".")
                why = f"context entry: (struct {struct_type})->{field_name}"
                ops.extend((f, why) for f in self.program.ops_targets(struct_type, field_name))
        return direct, ops

    def reach(
        self, context: Context, put_names: frozenset[str], tracked: frozenset[int] = frozenset()
    ) -> tuple[dict, dict, list[_PutSite]]:
        """Breadth-first search from the entries; states are (function,
        subsystem, constants).

        The subsystem is the first non-generic one the path entered (an ops
        entry starts in its own): ops calls on the way prefer that subsystem's
        targets, so a ceph path through generic code comes back to ceph's
        methods instead of every filesystem's. Functions in `tracked` carry the
        constants their caller passes them (sorted (parameter, value) pairs),
        and a call those constants rule out is not followed.
        """
        program = self.program
        stats = self.stats.setdefault(context.id, ContextStats())
        direct, ops = self.entries(context)
        stats.entries = len({f for f, _ in direct + ops})
        limit = self.rules.limits.reach_depth
        # Waits and opaque primitives (schedule, printk) run nothing of this context's callers.
        stop = self.opaque | {w.function for w in context.waits if w.function}
        never = {(c.caller, c.callee) for c in context.reach_cuts}
        parent: dict[tuple, tuple[tuple, Edge] | None] = {}
        entry_why: dict[tuple, str] = {}
        sites: list[_PutSite] = []
        seen_sites: set[tuple[int, int, int]] = set()
        for seeds in (direct, ops):
            queue: deque[tuple[tuple, int]] = deque()
            for function, why in sorted(seeds):
                state = (function, program.subsystem(function), ())
                if state not in parent:
                    parent[state] = None
                    entry_why[state] = why
                    queue.append((state, 0))
            while queue:
                state, depth = queue.popleft()
                function, subsystem, constants = state
                body = self._body(function) if function in tracked else None
                bindings = dict(constants)
                for edge in self._edges(function, subsystem, stats):
                    site = body.call_at(edge.line, edge.col) if body is not None else None
                    if site is not None and paths.contradiction(site, bindings) is not None:
                        continue
                    if never and (program.func_name[function], edge.callee) in never:
                        continue
                    if edge.callee in put_names:
                        key = (function, edge.line, edge.col)
                        if key not in seen_sites:
                            seen_sites.add(key)
                            sites.append(_PutSite(state, edge))
                        continue
                    if edge.target < 0 or edge.callee in stop or program.func_name[edge.target] in stop:
                        continue
                    passed = ()
                    if site is not None and edge.target in tracked and edge.kind != CALLBACK:
                        callee = self._body(edge.target)
                        if callee is not None:
                            passed = tuple(sorted(paths.callee_bindings(site, callee, bindings).items(), key=_FIRST))
                    next_state = (edge.target, subsystem or program.subsystem(edge.target), passed)
                    if next_state in parent:
                        continue
                    if depth + 1 > limit:
                        stats.depth_cut += 1
                        continue
                    parent[next_state] = (state, edge)
                    queue.append((next_state, depth + 1))
        stats.reached = len({state[0] for state in parent})
        stats.put_sites = len(sites)
        return parent, entry_why, sites

    def reach_chain(self, parent, entry_why, site: _PutSite) -> tuple[Hop, ...]:
        program = self.program
        state = site.state
        hops = [Hop(site.edge.callee, program.path_of(state[0]), site.edge.line, "call")]
        while True:
            link = parent[state]
            function = state[0]
            if link is None:
                hops.append(
                    Hop(program.func_name[function], program.path_of(function), program.func_line[function], entry_why[state])
                )
                break
            previous, edge = link
            hops.append(Hop(program.func_name[function], program.path_of(previous[0]), edge.line, _via_text(edge)))
            state = previous
        return tuple(reversed(hops))

    # -- teardown ---------------------------------------------------------

    def teardown(self, put: str, affinity: str, context: Context, origin_file: int) -> tuple[Hop, ...] | None:
        """Shortest chain from `put` to a wait of `context`, or None."""
        key = (put, affinity, context.id)
        if key in self._teardowns:
            return self._teardowns[key]
        result = self._teardown_search(put, affinity, context, origin_file)
        self._teardowns[key] = result
        return result

    def _teardown_search(self, put, affinity, context: Context, origin_file) -> tuple[Hop, ...] | None:
        program = self.program
        stats = self.stats.setdefault(context.id, ContextStats())
        wait_functions = {w.function: w for w in context.waits if w.function}
        gfp_waits = [(re.compile(w.gfp), w) for w in context.waits if w.gfp]
        starts = program.resolve_name(put, origin_file)
        limit = self.rules.limits.teardown_depth
        cuts = {(c.caller, c.callee) for c in context.teardown_cuts if c.subsystem in ("", affinity)}
        # state: (function, inside a memalloc_nofs scope)
        parent: dict[tuple[int, bool], tuple[tuple[int, bool], Edge] | None] = {}
        queue: deque[tuple[tuple[int, bool], int]] = deque()
        for start in sorted(starts):
            parent[(start, False)] = None
            queue.append(((start, False), 0))
        while queue:
            state, depth = queue.popleft()
            function, nofs = state
            edges = self._edges(function, affinity, stats)
            scopes = self._nofs_lines(edges, context)
            caller_name = program.func_name[function]
            for edge in edges:
                inside = nofs or self._inside(edge.line, scopes)
                target_name = program.func_name[edge.target] if edge.target >= 0 else edge.callee
                if cuts and ((caller_name, edge.callee) in cuts or (caller_name, target_name) in cuts):
                    continue
                wait = wait_functions.get(edge.callee) or wait_functions.get(target_name)
                if wait is None and not inside and edge.gfp:
                    wait = next((w for pattern, w in gfp_waits if pattern.search(edge.gfp)), None)
                if wait is not None:
                    return self._teardown_chain(parent, state, edge, wait, put)
                if edge.target < 0 or edge.callee in self.opaque or target_name in self.opaque:
                    continue
                next_state = (edge.target, inside)
                if next_state in parent or depth + 1 > limit:
                    continue
                parent[next_state] = (state, edge)
                queue.append((next_state, depth + 1))
        return None

    @staticmethod
    def _nofs_lines(edges: list[Edge], context: Context) -> list[tuple[int, int]]:
        if not context.nofs_enter:
            return []
        enters = [e.line for e in edges if e.callee in context.nofs_enter]
        if not enters:
            return []
        leaves = [e.line for e in edges if e.callee in context.nofs_leave]
        scopes = []
        for start in enters:
            end = min((line for line in leaves if line > start), default=1 << 30)
            scopes.append((start, end))
        return scopes

    @staticmethod
    def _inside(line: int, scopes: list[tuple[int, int]]) -> bool:
        return any(start < line < end for start, end in scopes)

    def _teardown_chain(self, parent, state, edge: Edge, wait, put) -> tuple[Hop, ...]:
        program = self.program
        wait_name = edge.callee if wait.function else f"{edge.callee}({edge.gfp})"
        hops = [Hop(wait_name, program.path_of(state[0]), edge.line, "wait: " + wait.why)]
        current = state
        while True:
            link = parent[current]
            function = current[0]
            if link is None:
                hops.append(Hop(put, program.path_of(function), program.func_line[function], "put"))
                break
            previous, step = link
            hops.append(Hop(program.func_name[function], program.path_of(previous[0]), step.line, _via_text(step)))
            current = previous
        return tuple(reversed(hops))

    # -- checks -----------------------------------------------------------

    def dependencies(self, context_id: str) -> Dependencies:
        program = self.program
        context = self.rules.contexts[context_id]
        expanded = self.stats[context_id].expanded if context_id in self.stats else set()
        names = {entry.function for entry in context.entries if entry.function}
        fields = {entry.ops.split(".")[-1] for entry in context.entries if entry.ops}
        for function in expanded:
            for _caller, callee, _line, _col, kind, _receiver, _gfp in program.calls_of(function):
                if kind == facts.DIRECT:
                    names.add(callee)
                elif kind == facts.MEMBER:
                    fields.update(part.strip("()*&") for part in MEMBER_PATH.split(callee)[1:])
            names.update(row[1] for row in program.refs_of(function))
        return Dependencies(
            frozenset(program.path_of(f) for f in expanded), frozenset(names), frozenset(fields)
        )

    def run(self, in_scope, contexts: set[str] | None = None) -> list[Finding]:
        """Findings of every check (of `contexts`, when given) whose put site
        satisfies `in_scope(path)`."""
        findings: list[Finding] = []
        by_context: dict[str, list[Check]] = {}
        for check in self.rules.checks.values():
            if contexts is None or check.context in contexts:
                by_context.setdefault(check.context, []).append(check)
        for context_id in sorted(by_context):
            findings.extend(self._context_findings(self.rules.contexts[context_id], by_context[context_id], in_scope))
        return number_repeats(sorted(findings, key=Finding.sort_key))

    def _context_findings(self, context: Context, checks: list[Check], in_scope) -> list[Finding]:
        put_rule_of = {}
        for check in checks:
            for put_id in check.puts:
                for name in self.rules.puts[put_id].functions:
                    put_rule_of.setdefault(name, self.rules.puts[put_id])
        tracked: set[int] = set()
        refuted_sites: set[tuple[int, int, int]] = set()
        for round_number in range(_ROUNDS):
            before = self.stats.get(context.id, ContextStats())
            self.stats[context.id] = stats = ContextStats(fanout_cuts=before.fanout_cuts, expanded=before.expanded)
            self._reading = stats.expanded
            parent, entry_why, sites = self.reach(context, frozenset(put_rule_of), frozenset(tracked))
            reported = []
            ruled_out: set[int] = set()
            for site in sites:
                path = self.program.path_of(site.function)
                if not in_scope(path):
                    continue
                put_rule = put_rule_of[site.edge.callee]
                if not self.objects.may_wait(context, put_rule, site, path, parent, sites, stats):
                    continue
                # The object belongs to the put's subsystem, or for generic code
                # (fs/dcache.c) to the subsystem the path came from.
                owner = subsystem_of(path) or site.state[1]
                teardown = self.teardown(site.edge.callee, owner, context, self.program.func_file[site.function])
                if teardown is None:
                    continue
                segment = self._ruled_out_segment(parent, site)
                if segment and not segment <= tracked and round_number + 1 < _ROUNDS:
                    ruled_out |= segment
                    refuted_sites.add((site.function, site.edge.line, site.edge.col))
                    continue
                reported.append((site, put_rule, path, teardown))
            if not ruled_out:
                break
            tracked |= ruled_out
        stats.tracked_functions = len(tracked)
        findings = []
        for site, put_rule, path, teardown in reported:
            refuted_sites.discard((site.function, site.edge.line, site.edge.col))
            reach = self.reach_chain(parent, entry_why, site)
            for check in checks:
                if put_rule.id in check.puts:
                    findings.append(self._finding(check, context, put_rule.object, site, path, reach, teardown))
                    stats.findings += 1
        stats.infeasible_puts = len(refuted_sites)
        return findings

    def _ruled_out_segment(self, parent, site: _PutSite) -> frozenset[int]:
        """The functions from where a constant enters the chain to `site` down
        to the call it rules out, or nothing when the chain is possible."""
        if self.sources is None:
            return frozenset()
        steps = [(site.state[0], site.edge)]
        state = site.state
        while parent[state] is not None:
            state, edge = parent[state]
            steps.append((state[0], edge))
        steps.reverse()
        bindings: dict = {}
        since = 0  # the step where the current constants entered
        for index, (function, edge) in enumerate(steps):
            body = self._body(function)
            call = body.call_at(edge.line, edge.col) if body is not None else None
            if call is None:
                bindings = {}
                continue
            if paths.contradiction(call, bindings) is not None:
                return frozenset(f for f, _ in steps[since : index + 1])
            if index + 1 == len(steps) or edge.kind == CALLBACK:
                bindings = {}
                continue
            callee = self._body(steps[index + 1][0])
            passed = paths.callee_bindings(call, callee, bindings) if callee is not None else {}
            if passed and not bindings:
                since = index
            bindings = passed
        return frozenset()

    def _finding(self, check: Check, context: Context, object_kind, site, path, reach, teardown) -> Finding:
        wait_hop = teardown[-1]
        wait_name = wait_hop.function
        values = {
            "PUT": site.edge.callee,
            "OBJECT": object_kind,
            "CONTEXT": context.id,
            "WAIT": wait_name,
            "WAIT_WHY": wait_hop.via.removeprefix("wait: "),
            "FUNCTION": self.program.func_name[site.function],
        }
        message = re.sub(r"\$([A-Z_]+)", lambda m: values.get(m.group(1), m.group(0)), check.message)
        return Finding(
            rule=check.id,
            context=context.id,
            severity=check.severity,
            confidence=check.confidence,
            path=path,
            line=site.edge.line,
            col=site.edge.col,
            function=values["FUNCTION"],
            put=site.edge.callee,
            wait=wait_name,
            reach=reach,
            teardown=teardown,
            message=message,
        ).with_fingerprint()
