"""Call resolution: from a function's call rows to the edges a search follows."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import NamedTuple

from .. import facts
from .bodies import Bodies
from .ops import MEMBER_PATH, OpsTable
from .symbols import Symbols

# Edge kinds, as shown in chains.
CALL = "call"
MEMBER = "member"
CALLBACK = "callback"
POINTER_VAR = "pointer"


class Edge(NamedTuple):
    """One resolved step: caller -> target at a call site. A tuple: searches
    make and read hundreds of thousands of them, and saved ones are rows."""

    target: int  # function id, or -1 for a name with no definition (macro, extern)
    callee: str  # the name as written at the site
    line: int
    col: int
    kind: str
    via: str  # "(struct address_space_operations)->writepages", "kref_put", ""
    gfp: str


@dataclass
class Cut:
    """What a fan-out cap removed at one site."""

    site: str
    field: str
    targets: int


_SOURCE_ORDER = attrgetter("line", "col")


class EdgeResolver:
    """Edges of a function: direct calls static-first, then global, then
    `static inline` in headers; member calls through (struct type, field),
    with a field-name fallback under a fan-out cap; callbacks passed as
    arguments. Direct edges do not depend on the search and are kept."""

    def __init__(self, symbols: Symbols, ops: OpsTable, bodies: Bodies, fanout: int, fanout_near: int):
        self.symbols = symbols
        self.ops = ops
        self.bodies = bodies
        self.fanout = fanout
        self.fanout_near = fanout_near
        self._direct: dict[int, list[Edge]] = {}  # function -> edges of its direct calls

    def forget(self) -> None:
        """Drop the kept edges: a patch changes what names resolve to."""
        self._direct.clear()

    def edges(
        self,
        function: int,
        affinity: str = "",
        callbacks: frozenset[str] = frozenset(),
        cuts: list[Cut] | None = None,
    ) -> list[Edge]:
        """Resolved calls of `function`, in source order; member calls prefer
        targets of the `affinity` subsystem (see `subsystem_of`) when it has any.

        A function passed as an argument is a callback edge when the callee is
        known to call it synchronously (`callbacks`: kref_put, list_lru_walk, ...)
        or is defined in the same file (a local iterator): most other APIs that
        take a function store it for another context.
        """
        symbols = self.symbols
        file_index = symbols.func_file[function]
        direct = self._direct.get(function)
        if direct is None:
            direct = self._direct[function] = self._direct_edges(function, file_index)
        refs = self.bodies.refs_of(function)
        if not self.bodies.has_member_calls(function) and not refs:
            return direct
        result = list(direct)
        for _caller, callee, line, col, kind, receiver_type, gfp in self.bodies.calls_of(function):
            if kind == facts.MEMBER:
                targets, via = self._member_targets(callee, receiver_type, affinity, cuts, line)
                result.extend(Edge(t, callee, line, col, MEMBER, via, gfp) for t in targets)
        for _caller, target, via, line, col in refs:
            if via not in callbacks and not any(
                symbols.func_file[f] == file_index for f in symbols.functions_named(via)
            ):
                continue
            result.extend(Edge(t, target, line, col, CALLBACK, via, "") for t in symbols.resolve_name(target, file_index))
        result.sort(key=_SOURCE_ORDER)
        return result

    def _direct_edges(self, function: int, file_index: int) -> list[Edge]:
        """Edges of the direct calls: they do not depend on the path's subsystem."""
        result: list[Edge] = []
        pointer_vars = self.ops.pointer_vars
        for _caller, callee, line, col, kind, _receiver_type, gfp in self.bodies.calls_of(function):
            if kind != facts.DIRECT:
                continue
            targets = self.symbols.resolve_name(callee, file_index)
            if targets:
                result.extend(Edge(t, callee, line, col, CALL, "", gfp) for t in targets)
                continue
            pointed = pointer_vars.get((file_index, callee))
            if pointed:
                result.extend(Edge(t, callee, line, col, POINTER_VAR, callee, gfp) for t in pointed)
            else:
                result.append(Edge(-1, callee, line, col, CALL, "", gfp))
        result.sort(key=_SOURCE_ORDER)
        return result

    def _member_targets(self, callee, receiver_type, affinity, cuts, line) -> tuple[list[int], str]:
        """Targets of an ops call. Typed (struct, field) when the receiver's type
        is known, else by field name. With an `affinity` subsystem only its own
        targets count (a ceph path reaches ceph's methods); without one, all
        targets up to the fan-out cap."""
        ops = self.ops
        parts = MEMBER_PATH.split(callee)
        field = parts[-1]
        owner = ops.struct_of_path(receiver_type, parts[1:-1]) if receiver_type else ""
        entries = ops.ops_by_key.get((owner, field)) if owner else None
        if entries:
            via = f"(struct {owner})->{field}"
        elif len(ops.field_owners.get(field, ())) == 1:
            # Untyped receiver: the field name decides only when one struct type has it.
            entries = ops.ops_by_field.get(field, [])
            via = f"->{field} (by field name)"
        else:
            if cuts is not None and field in ops.ops_by_field:
                cuts.append(Cut(f"{callee}:{line}", field, len(ops.ops_by_field[field])))
            return [], f"->{field} (ambiguous)"
        targets = sorted({function for function, _line, _file in entries} - self.symbols.dead)
        if affinity:
            subsystems, func_file = self.symbols.subsystems, self.symbols.func_file
            near = [t for t in targets if subsystems[func_file[t]] == affinity]
            if len(near) > self.fanout_near:
                near = []  # a subsystem-wide callback table (nfs rpc_release): no single target
            if len(near) < len(targets) and cuts is not None:
                cuts.append(Cut(f"{callee}:{line}", field, len(targets) - len(near)))
            return near, via
        if len(targets) > self.fanout:
            if cuts is not None:
                cuts.append(Cut(f"{callee}:{line}", field, len(targets)))
            return [], via
        return targets, via
