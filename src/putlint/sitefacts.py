"""Facts read on demand from the functions on a chain (`parse.onsite`), never
indexed: what a call site's arguments are and which conditions hold there.
Kept apart from `facts` so that changing them does not invalidate the index."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .pickling import by_fields

_NAME = re.compile(r"[A-Za-z_]\w*")
_VARIABLE = re.compile(r"(?<![\w.>])[A-Za-z_]\w*")  # a name that is not a member (`.x`, `->x`)


def _names(text: str) -> set[str]:
    return set(_NAME.findall(text))

# Conditions, read on demand at the call sites of the functions on a chain
# (parse.onsite), never indexed. An expression is a nested tuple:
#   ("num", int)        a literal, true/false, NULL
#   ("sym", name)       an ALL_CAPS constant (enum or macro), value unknown
#   ("var", name)       a plain identifier
#   ("not", e) ("and", a, b) ("or", a, b) ("eq", a, b) ("ne", a, b)
#   ("case", subject, labels, default_reaches, all_labels)
#                       the site is inside the switch groups that `labels`
#                       (or, when default_reaches, any value but all_labels)
#                       lead into
#   ("text", compact)   anything else, spaces removed: `d_inode(dn)`


@by_fields
@dataclass(frozen=True, slots=True)
class Condition:
    """`expr` is known to be true (`holds`) or false at a call site, because an
    enclosing if/else or switch, an earlier `if (...) return;` or a `BUG_ON`
    decides it; `line` is where that was decided."""

    expr: tuple
    holds: bool
    line: int


@by_fields
@dataclass(frozen=True, slots=True)
class CallSite:
    """One call in a function body, with what its arguments are (expressions,
    and their texts) and what is known to hold when it runs."""

    line: int
    col: int
    callee: str
    arguments: tuple[tuple, ...]
    argument_texts: tuple[str, ...]
    conditions: tuple[Condition, ...]
    result: str = ""  # the name its value is stored in: `inode` for `inode = igrab(x)`


@by_fields
@dataclass(frozen=True, slots=True)
class Region:
    """A part of a function that may run fewer times than what encloses it:
    `then`/`else` of an if, a `loop` (body, condition or update of a for,
    while or do loop other than `do ... while (0)`), a switch `case` group,
    or a `branch` (an arm of `?:`, the right operand of `&&`/`||`). `start`
    (a byte offset) is its identity."""

    kind: str
    start: int
    end: int
    line: int


@by_fields
@dataclass(frozen=True, slots=True)
class Exit:
    """A statement that leaves the normal flow: `return`, `goto` (with the
    label's offset, -1 when unknown), `break` or `continue` (with the loop or
    switch it leaves, `target`..`target_end`)."""

    kind: str
    start: int
    line: int
    target: int = -1
    target_end: int = -1
    regions: tuple[Region, ...] = ()  # the regions around it, as for a call


@by_fields
@dataclass(frozen=True, slots=True)
class Flow:
    """Where each call of a body runs (aligned with `FunctionBody.calls`): its
    byte offset and the regions around it, outermost first; and the body's
    exits, labels (offset, line) and writes to plain names (name, offset,
    line)."""

    starts: tuple[int, ...] = ()
    regions: tuple[tuple[Region, ...], ...] = ()
    exits: tuple[Exit, ...] = ()
    labels: tuple[tuple[int, int], ...] = ()
    writes: tuple[tuple[str, int, int], ...] = ()
    label_regions: tuple[tuple[Region, ...], ...] = ()  # aligned with `labels`


@by_fields
@dataclass(frozen=True, slots=True)
class FunctionBody:
    """A function's parameters, those it assigns to (so a caller's value no
    longer holds), and its call sites in source order; `flow` says where each
    call runs (see `brackets`), and is left out of comparisons."""

    parameters: tuple[str, ...]
    reassigned: frozenset[str]
    calls: tuple[CallSite, ...]
    assignments: tuple[tuple[str, str], ...] = ()  # (local, compact text assigned to it)
    flow: Flow = field(default=Flow(), compare=False)

    def spelled_out(self, text: str) -> str:
        """`text` with locals assigned once replaced by what they were assigned
        (`dinode` -> `d_inode(req->r_dentry)`), two levels deep."""
        single: dict[str, str] = {}
        for local, value in self.assignments:
            single[local] = value if local not in single else ""
        for _ in range(2):
            text = _VARIABLE.sub(lambda m: single.get(m.group(0)) or m.group(0), text)
        return text

    def related(self, one: str, other: str) -> bool:
        """Whether two expressions name the same object, as far as the
        function's own assignments tell: equal, or one assigned from an
        expression that names the other (`inode = &ci->netfs.inode` relates
        `inode` and `ci`; `last = inode` relates `last` and `inode`)."""
        if one == other:
            return True
        for local, value in self.assignments:
            if (local == one and other in _names(value)) or (local == other and one in _names(value)):
                return True
        return False

    def call_at(self, line: int, col: int) -> CallSite | None:
        for call in self.calls:
            if call.line == line and call.col == col:
                return call
        return None

    def index_of(self, call: CallSite) -> int:
        """The position of `call` (one of `calls`) in the body."""
        for index, candidate in enumerate(self.calls):
            if candidate is call:
                return index
        return self.calls.index(call)
