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

from ..graph import Cut, Edge, Program
from ..ruleset import RuleSet
from .stats import ContextStats


class EdgeView:
    """`program.edges` with deferrals and cut edges removed, cached per
    (function, affinity) and with the fan-out cuts counted once per context."""

    def __init__(self, program: Program, rules: RuleSet):
        self.program = program
        self.callbacks = rules.callbacks
        self.deferrals = frozenset(d.function for d in rules.deferrals)
        self.opaque = frozenset(d.function for d in rules.opaque)
        self.cut_edges = frozenset((c.caller, c.callee) for c in rules.cut_edges)
        self._cache: dict[tuple[int, str], list[Edge]] = {}

    def of(self, function: int, affinity: str, stats: ContextStats) -> list[Edge]:
        """The calls of `function` a search may follow (see the module table)."""
        stats.expanded.add(function)
        program = self.program
        key = (function, affinity if program.depends_on_affinity(function) else "")
        edges = self._cache.get(key)
        if edges is None:
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
            self._cache[key] = edges
            stats.fanout_cuts.extend(cuts)
        return edges

    def cuts(self, pairs, caller: str, edge: Edge) -> bool:
        """Whether (caller, callee) pairs cut this call of `caller`: the callee
        named by the call's text or by the function the call reaches."""
        return bool(pairs) and ((caller, edge.callee) in pairs or (caller, self.target_name(edge)) in pairs)

    def target_name(self, edge: Edge) -> str:
        return self.program.func_name[edge.target] if edge.target >= 0 else edge.callee
