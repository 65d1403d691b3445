"""The reach search: breadth-first from a context's entries to every put call
it can make. Puts are leaves (their teardown is the other search), and each
state keeps its predecessor, so every chain is a shortest one, rebuilt exactly
by `ReachTree.chain`."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

from .. import conditions
from ..findings import Hop
from ..graph import CALLBACK, MEMBER, POINTER_VAR, Edge, Program
from ..ruleset import Context, RuleSet
from .edges import EdgeView
from .sources import SourceReader
from .stats import ContextStats

_FIRST = itemgetter(0)
ENTRY_PREFIX = "context entry: "


class ReachState(NamedTuple):
    """A function as the search reached it: the first non-generic subsystem the
    path entered (ops calls below prefer its targets), and the constants its
    caller passes it (sorted (parameter, value) pairs; tracked functions only)."""

    function: int
    subsystem: str
    constants: tuple


@dataclass(frozen=True, slots=True)
class PutSite:
    state: ReachState  # the function making the put
    edge: Edge  # the put call

    @property
    def function(self) -> int:
        return self.state.function

    @property
    def position(self) -> tuple[int, int]:
        return (self.edge.line, self.edge.col)


def via_text(edge: Edge) -> str:
    """How a hop was reached, as chains show it."""
    if edge.kind == MEMBER:
        return edge.via
    if edge.kind == CALLBACK:
        return f"callback via {edge.via}"
    if edge.kind == POINTER_VAR:
        return f"function pointer {edge.via}"
    return "call"


class ReachTree:
    """The states a context reached, each with the (caller state, edge) it was
    first reached by (None for an entry), and the put sites found."""

    def __init__(self, program: Program):
        self.program = program
        self.parent: dict[ReachState, tuple[ReachState, Edge] | None] = {}
        self.entry_why: dict[ReachState, str] = {}
        self.sites: list[PutSite] = []

    def callers(self, site: PutSite) -> Iterator[tuple[ReachState, Edge]]:
        """From the put upward: each caller state with the call it made toward the put."""
        state = site.state
        while (link := self.parent.get(state)) is not None:
            state = link[0]
            yield link

    def steps(self, site: PutSite) -> list[tuple[int, Edge]]:
        """From the entry down: each function on the chain with the call it
        makes toward the put, the put call last."""
        steps = [(site.function, site.edge)]
        steps.extend((state.function, edge) for state, edge in self.callers(site))
        steps.reverse()
        return steps

    def chain(self, site: PutSite) -> tuple[Hop, ...]:
        program = self.program
        hops = [Hop(site.edge.callee, program.path_of(site.function), site.edge.line, "call")]
        state = site.state
        for previous, edge in self.callers(site):
            hops.append(Hop(program.func_name[state.function], program.path_of(previous.function), edge.line, via_text(edge)))
            state = previous
        function = state.function
        hops.append(Hop(program.func_name[function], program.path_of(function), program.func_line[function], self.entry_why[state]))
        return tuple(reversed(hops))


def entries(program: Program, context: Context) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(function entries, ops entries): each (function id, why)."""
    direct = []
    ops = []
    for entry in context.entries:
        if entry.function:
            why = ENTRY_PREFIX + (entry.why or entry.function)
            direct.extend((f, why) for f in program.functions_named(entry.function))
        else:
            struct_type, field_name = entry.ops.split(".")
            why = f"{ENTRY_PREFIX}(struct {struct_type})->{field_name}"
            ops.extend((f, why) for f in program.ops_targets(struct_type, field_name))
    return direct, ops


def reach(
    edges: EdgeView,
    rules: RuleSet,
    context: Context,
    put_names: frozenset[str],
    stats: ContextStats,
    sources: SourceReader,
    tracked: frozenset[int] = frozenset(),
) -> ReachTree:
    """Breadth-first search from the entries (function entries first, then ops
    entries, each in its own pass).

    The subsystem of a state is the first non-generic one the path entered (an
    ops entry starts in its own): ops calls on the way prefer that subsystem's
    targets, so a ceph path through generic code comes back to ceph's methods
    instead of every filesystem's. Functions in `tracked` carry the constants
    their caller passes them, and a call those constants rule out is not
    followed.
    """
    program = edges.program
    tree = ReachTree(program)
    parent = tree.parent
    direct, ops = entries(program, context)
    stats.entries = len({f for f, _ in direct + ops})
    limit = rules.limits.reach_depth
    # Waits and opaque primitives (schedule, printk) run nothing of this context's callers.
    stop = edges.opaque | {w.function for w in context.waits if w.function}
    never = {(c.caller, c.callee) for c in context.reach_cuts}
    never_callers = {caller for caller, _ in never}
    seen_sites: set[tuple[int, int, int]] = set()
    for seeds in (direct, ops):
        queue: deque[tuple[ReachState, int]] = deque()
        for function, why in sorted(seeds):
            state = ReachState(function, program.subsystem(function), ())
            if state not in parent:
                parent[state] = None
                tree.entry_why[state] = why
                queue.append((state, 0))
        while queue:
            state, depth = queue.popleft()
            function, subsystem, constants = state
            body = sources.body(function) if function in tracked else None
            bindings = dict(constants)
            cut_here = program.func_name[function] in never_callers
            for edge in edges.of(function, subsystem, stats):
                site = body.call_at(edge.line, edge.col) if body is not None else None
                if site is not None and conditions.contradiction(site, bindings) is not None:
                    continue
                if cut_here and edges.cuts(never, program.func_name[function], edge):
                    continue
                if edge.callee in put_names:
                    key = (function, edge.line, edge.col)
                    if key not in seen_sites:
                        seen_sites.add(key)
                        tree.sites.append(PutSite(state, edge))
                    continue
                if edge.target < 0 or edge.callee in stop or program.func_name[edge.target] in stop:
                    continue
                passed = ()
                if site is not None and edge.target in tracked and edge.kind != CALLBACK:
                    callee = sources.body(edge.target)
                    if callee is not None:
                        passed = tuple(sorted(conditions.callee_bindings(site, callee, bindings).items(), key=_FIRST))
                next_state = ReachState(edge.target, subsystem or program.subsystem(edge.target), passed)
                if next_state in parent:
                    continue
                if depth + 1 > limit:
                    stats.depth_cut += 1
                    continue
                parent[next_state] = (state, edge)
                queue.append((next_state, depth + 1))
    stats.reached = len({state.function for state in parent})
    stats.put_sites = len(tree.sites)
    return tree
