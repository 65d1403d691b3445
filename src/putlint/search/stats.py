"""What one context's searches counted, and what they read (the dependencies
check-patch compares a patch against)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .. import facts
from ..facts import REF_ROW
from ..graph import MEMBER_PATH, Cut, Program
from ..ruleset import Context


@dataclass
class ContextStats:
    entries: int = 0
    reached: int = 0
    put_sites: int = 0
    nonfinal: int = 0
    distinct_objects: int = 0
    harmless_puts: int = 0
    infeasible_puts: int = 0  # every chain to them is ruled out by a constant passed down it
    pinned_work_puts: int = 0  # their teardown reaches only waits for work that pins the object
    tracked_functions: int = 0  # functions searched with the constants their callers pass
    findings: int = 0
    depth_cut: int = 0
    fanout_cuts: list[Cut] = field(default_factory=list)
    expanded: set[int] = field(default_factory=set)  # functions whose calls the searches read
    tracked: frozenset[int] = frozenset()  # those tracked_functions: a search of a patched tree starts from them

    def report(self) -> dict[str, int]:
        """The counts as the JSON report names them."""
        return {
            "entries": self.entries,
            "reached_functions": self.reached,
            "put_sites": self.put_sites,
            "nonfinal_puts": self.nonfinal,
            "distinct_object_puts": self.distinct_objects,
            "harmless_puts": self.harmless_puts,
            "infeasible_puts": self.infeasible_puts,
            "pinned_work_puts": self.pinned_work_puts,
            "tracked_functions": self.tracked_functions,
            "findings": self.findings,
            "depth_cut": self.depth_cut,
            "fanout_cut_sites": len(self.fanout_cuts),
        }


@dataclass(frozen=True)
class Dependencies:
    """What a context's findings were computed from: a change that touches none
    of it cannot change them. `names` are the names the searched functions call
    (a new or removed definition of one can change an edge); `fields` are the
    member names on their ops-call paths and ops entries."""

    files: frozenset[str]
    names: frozenset[str]
    fields: frozenset[str]

    @classmethod
    def of(cls, program: Program, context: Context, expanded: set[int]) -> Dependencies:
        names = {entry.function for entry in context.entries if entry.function}
        fields = {entry.ops.split(".")[-1] for entry in context.entries if entry.ops}
        for function in expanded:
            for symbol, is_field in called_symbols(program, function):
                (fields if is_field else names).add(symbol)
        return cls(frozenset(program.path_of(f) for f in expanded), frozenset(names), frozenset(fields))


def called_symbols(program: Program, function: int) -> Iterator[tuple[str, bool]]:
    """What `function`'s edges depend on outside its own file, as (symbol, is a
    field): the names it calls directly or passes as callbacks, and the member
    names on the paths of its ops calls."""
    for _caller, callee, _line, _col, kind, _receiver, _gfp in program.calls_of(function):  # facts.Call
        if kind == facts.DIRECT:
            yield callee, False
        elif kind == facts.MEMBER:
            for part in MEMBER_PATH.split(callee)[1:]:
                yield part.strip("()*&"), True
    for row in program.refs_of(function):
        yield row[REF_ROW.target], False
