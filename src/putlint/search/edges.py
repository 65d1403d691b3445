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
applied by the reach and teardown searches that own them.
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
                if (caller, e.callee) not in self.cut_edges
                and (e.target < 0 or program.func_name[e.target] not in self.deferrals)
                and e.callee not in self.deferrals
            ]
            self._cache[key] = edges
            stats.fanout_cuts.extend(cuts)
        return edges

    def target_name(self, edge: Edge) -> str:
        return self.program.func_name[edge.target] if edge.target >= 0 else edge.callee
