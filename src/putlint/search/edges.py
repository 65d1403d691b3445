"""The program's edges as the rules let a search see them.

Five rule keys stop a search, and they differ in where and how far:

| key             | file             | search            | what it does                                        |
|-----------------|------------------|-------------------|-----------------------------------------------------|
| `deferrals`     | deferrals.yaml   | reach, teardown   | removes every call of the function (it defers)      |
| `cut_edges`     | deferrals.yaml   | reach, teardown   | removes the call caller -> callee                   |
| `opaque`        | deferrals.yaml   | reach, teardown   | keeps the call, never expands the callee; it can    |
|                 |                  |                   | still be a put or a wait                            |
| `reach_cuts`    | contexts/<id>    | reach of <id>     | removes the call caller -> callee in this context   |
| `teardown_cuts` | contexts/<id>    | teardown of <id>  | removes the call, for objects of `subsystem` only   |
|                 |                  |                   | when one is given                                   |

The first three are seen here, through `EdgeView`; the per-context cuts are
applied by the reach and teardown searches that own them. A cut's callee is
the call's text or the name of the function it reaches (`cuts`): an ops call
(`op->ops->put`) is cut at one of its targets (`afs_rename_put`) only.
"""

from __future__ import annotations

from functools import partial

from ..graph import Cut, Edge, Program
from ..ruleset import RuleSet
from .stats import ContextStats


_edge_of_row = partial(tuple.__new__, Edge)  # `Edge._make` without its length check: rows come from `export`

# (function, affinity or "") -> (edges, fan-out cuts) as plain rows: what a search of
# the same program and rules can start from (see `EdgeView.export`).
EdgeRows = dict[tuple[int, str], tuple[tuple[tuple, ...], tuple[tuple, ...]]]


class EdgeView:
    """`program.edges` with deferrals and cut edges removed, cached per
    (function, affinity), with the fan-out cuts counted once per context.

    `known` are the rows of an earlier view of the same program and rules
    (`export`); `stale(function)`, when given, says which of them a change of
    the program since then has made invalid."""

    def __init__(self, program: Program, rules: RuleSet, known: EdgeRows | None = None, stale=None):
        self.program = program
        self.callbacks = rules.callbacks
        self.deferrals = frozenset(d.function for d in rules.deferrals)
        self.opaque = frozenset(d.function for d in rules.opaque)
        self.cut_edges = frozenset((c.caller, c.callee) for c in rules.cut_edges)
        self._cache: dict[tuple[int, str], tuple[list[Edge], list[Cut]]] = {}
        self._known = known or {}
        self._stale = stale
        self._counted: set[tuple[int, tuple[int, str]]] = set()  # (id of a cut list, key) already counted in it
        self._cut_lists: dict[int, list[Cut]] = {}  # those lists, kept so that no other list takes their id

    def of(self, function: int, affinity: str, stats: ContextStats) -> list[Edge]:
        """The calls of `function` a search may follow (see the module table)."""
        stats.expanded.add(function)
        program = self.program
        key = (function, affinity if program.depends_on_affinity(function) else "")
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._from_known(key) or self._resolved(function, affinity)
        edges, cuts = cached
        if cuts and (id(stats.fanout_cuts), key) not in self._counted:
            self._cut_lists.setdefault(id(stats.fanout_cuts), stats.fanout_cuts)
            self._counted.add((id(stats.fanout_cuts), key))
            stats.fanout_cuts.extend(cuts)
        return edges

    def _resolved(self, function: int, affinity: str) -> tuple[list[Edge], list[Cut]]:
        program = self.program
        cuts: list[Cut] = []
        edges = program.edges(function, affinity, self.callbacks, cuts)
        caller = program.func_name[function]
        edges = [
            e
            for e in edges
            if not self.cuts(self.cut_edges, caller, e)
            and (e.target < 0 or program.func_name[e.target] not in self.deferrals)
            and e.callee not in self.deferrals
        ]
        return edges, cuts

    def _from_known(self, key: tuple[int, str]) -> tuple[list[Edge], list[Cut]] | None:
        rows = self._known.get(key)
        if rows is None or (self._stale is not None and self._stale(key[0])):
            return None
        try:
            edge_rows, cut_rows = rows
            edges = list(map(_edge_of_row, edge_rows))
            cuts = [Cut(*row) for row in cut_rows]
        except (TypeError, ValueError):
            return None  # a damaged saved row: resolved again
        dead = self.program.symbols.dead
        if dead and any(edge.target in dead for edge in edges):
            return None  # an ops entry can lose its function with no change to the entry's row
        return edges, cuts

    def export(self) -> EdgeRows:
        """The cache as plain rows (see `EdgeRows`)."""
        return {
            key: (tuple(map(tuple, edges)), tuple((c.site, c.field, c.targets) for c in cuts))
            for key, (edges, cuts) in self._cache.items()
        }

    def cuts(self, pairs, caller: str, edge: Edge) -> bool:
        """Whether (caller, callee) pairs cut this call of `caller`: the callee
        named by the call's text or by the function the call reaches."""
        return bool(pairs) and ((caller, edge.callee) in pairs or (caller, self.target_name(edge)) in pairs)

    def target_name(self, edge: Edge) -> str:
        return self.program.func_name[edge.target] if edge.target >= 0 else edge.callee

