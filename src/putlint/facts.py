"""The facts putlint extracts from one C file.

Every fact is a frozen dataclass. Within a `FileFacts` the path is implied, so
facts carry no path of their own; `FileFacts.encode()` turns them into plain
tuples (marshal-friendly, no class references) and `FileFacts.decode()` back.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cache

# Call kinds: how the callee expression names its target.
DIRECT = "direct"  # foo(x)
MEMBER = "member"  # a->b->f(x), a.f(x)
POINTER = "pointer"  # (*fn)(x)
OTHER = "other"  # guard(mutex)(&l), table[i](x), ...


@dataclass(frozen=True, slots=True)
class Function:
    """A function definition; `line`..`end_line` cover the whole definition."""

    name: str
    line: int
    end_line: int
    is_static: bool
    is_inline: bool


@dataclass(frozen=True, slots=True)
class Call:
    """A call site inside `caller`'s body.

    `callee` is the function name for direct calls and the whole callee
    expression, spaces removed, otherwise (`mapping->a_ops->writepages`).
    `receiver_type` is the declared struct/typedef of the first name in a
    member path (`address_space` for `mapping`), "" when unknown or direct.
    `gfp` is the argument that carries allocation flags (`GFP_KERNEL`,
    `GFP_NOFS|__GFP_NOFAIL`), "" when no argument names a GFP flag.
    """

    caller: str
    callee: str
    line: int
    col: int
    kind: str
    receiver_type: str
    gfp: str


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """An identifier passed as a call argument: a candidate callback.

    `via` is the callee it is passed to (`kref_put`). Kept once per
    (caller, target); whether `target` names a function is decided when the
    graph is linked.
    """

    caller: str
    target: str
    via: str
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class OpsInit:
    """`.field = target` in a designated initializer.

    `struct_type` is the type of the outermost initialized object (struct tag
    or typedef name, "" when unknown); `field` is the designator path inside it
    (`writepages`, or `ops.release` for nested initializers).
    """

    struct_type: str
    field: str
    target: str
    variable: str
    line: int


@dataclass(frozen=True, slots=True)
class OpsAssign:
    """`lhs = target;` where target is an identifier: `s->scan_objects = fn`.

    `field` is the last member of `lhs` ("" for a plain variable); `caller` is
    the enclosing function ("" at file scope); `receiver_type` is the declared
    type of the first name of `lhs`, "" when unknown.
    """

    lhs: str
    field: str
    target: str
    caller: str
    line: int
    receiver_type: str


@dataclass(frozen=True, slots=True)
class Member:
    """A struct or union member with its declared type.

    `member_type` is the struct/union tag or typedef name ("" for a plain C
    type); `pointer` counts the `*`s; function pointers have `member_type`
    "(*)()".
    """

    struct_type: str
    member: str
    member_type: str
    pointer: int
    line: int


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something the extractor could not read cleanly; never fatal."""

    line: int
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class LostFunction:
    """What looks like a function definition (a `{` in column 0 after a line
    ending in `)`) that the parse did not give as one: a parse error swallowed
    it, or a macro hides it. Its calls are not in the index; lines are its
    opening brace and the next `}` in column 0."""

    name: str
    line: int
    end_line: int


FACT_KINDS = (
    ("functions", Function),
    ("calls", Call),
    ("refs", FunctionRef),
    ("ops_inits", OpsInit),
    ("ops_assigns", OpsAssign),
    ("members", Member),
    ("diagnostics", Diagnostic),
    ("lost", LostFunction),
)
# Where each kind's rows sit in a file's record: `rows[KINDS["calls"]]`.
KINDS = {name: index for index, (name, _) in enumerate(FACT_KINDS)}


@dataclass(frozen=True, slots=True)
class PutArgument:
    """The object a put call drops, read at the put site on demand (not indexed).

    `argument` is the first argument's text, spaces removed; `origin` the
    function whose result was last assigned to it in the same function before
    the put, when it is a local variable (`inode = ilookup(sb, ino)`), else "".
    """

    argument: str
    origin: str


@dataclass(frozen=True, slots=True)
class FileFacts:
    """Everything extracted from one file, in source order."""

    path: str
    functions: tuple[Function, ...] = ()
    calls: tuple[Call, ...] = ()
    refs: tuple[FunctionRef, ...] = ()
    ops_inits: tuple[OpsInit, ...] = ()
    ops_assigns: tuple[OpsAssign, ...] = ()
    members: tuple[Member, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    lost: tuple[LostFunction, ...] = ()

    def encode(self) -> tuple:
        """Plain nested tuples of str/int/bool, in `FACT_KINDS` order."""
        return tuple(
            tuple(tuple(getattr(fact, field) for field in field_names(kind)) for fact in getattr(self, name))
            for name, kind in FACT_KINDS
        )

    @classmethod
    def decode(cls, path: str, data: tuple) -> FileFacts:
        if len(data) != len(FACT_KINDS):
            raise ValueError("fact record has the wrong shape")
        return cls(
            path,
            *(tuple(kind(*row) for row in rows) for (_, kind), rows in zip(FACT_KINDS, data)),
        )

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name, _ in FACT_KINDS}


@cache
def field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


def columns(kind: type) -> tuple[int, ...]:
    """Where each field of `kind` sits in its row: `CALL_ROW.callee == 1`.

    Rows stay plain tuples, in field order: marshal stores no classes, and a
    tree has millions of rows. These name their slots for the code that reads
    them; `len(CALL_ROW)` is the row length.
    """
    names = field_names(kind)
    return namedtuple(f"{kind.__name__}Columns", names)(*range(len(names)))


def row_maker(kind: type) -> Callable[..., tuple]:
    """A function that takes every field of `kind` by keyword and returns its
    row: `row_maker(Call)(caller="f", callee="g", ...)`. Generated source, as
    namedtuple makes its constructor: it costs no more than writing the tuple."""
    names = ", ".join(field_names(kind))
    return eval(f"lambda *, {names}: ({names},)", {})  # noqa: S307 - field names of a dataclass


COLUMNS = {name: columns(kind) for name, kind in FACT_KINDS}
FUNCTION_ROW = COLUMNS["functions"]
CALL_ROW = COLUMNS["calls"]
REF_ROW = COLUMNS["refs"]
OPS_INIT_ROW = COLUMNS["ops_inits"]
OPS_ASSIGN_ROW = COLUMNS["ops_assigns"]
MEMBER_ROW = COLUMNS["members"]
DIAGNOSTIC_ROW = COLUMNS["diagnostics"]
