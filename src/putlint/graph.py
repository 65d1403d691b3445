"""The call graph, built from index facts without a compiler.

Functions are keyed by (file, name): statics and `#ifdef` alternatives of one
file are one node, the 200 static `foo_release`s of different files stay
apart. Edges are resolved lazily, when a search first expands a function:
direct calls static-first, then global, then `static inline` in headers;
member calls through (struct type, field) using member types, ops
initializers and runtime assignments, with a field-name fallback under a
fan-out cap; callbacks passed as arguments. Registrations are never edges.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from . import facts

_KINDS = {name: index for index, (name, _) in enumerate(facts.FACT_KINDS)}
_PATH_SPLIT = re.compile(r"->|\.")

# Edge kinds, as shown in chains.
CALL = "call"
MEMBER = "member"
CALLBACK = "callback"
POINTER_VAR = "pointer"


@dataclass(frozen=True, slots=True)
class Edge:
    """One resolved step: caller -> target at a call site."""

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


def subsystem_of(path: str) -> str:
    """The subsystem a file belongs to, "" for generic code.

    fs/ceph/caps.c and net/ceph/osd_client.c are both "ceph"; fs/xfs/libxfs/*
    is "xfs"; drivers/block/nbd.c is "block"; fs/inode.c, mm/*.c and
    include/* are generic.
    """
    parts = path.split("/")
    if len(parts) < 3 or parts[0] == "include":
        return ""
    if parts[0] in ("fs", "net"):
        return parts[1]
    return parts[-2]


class Program:
    """All functions of the indexed tree and how to resolve what they call."""

    def __init__(self, files: Iterable[tuple[str, tuple]], fanout: int = 64, fanout_near: int = 8):
        self.fanout = fanout
        self.fanout_near = fanout_near
        self.paths: list[str] = []
        self.func_file: list[int] = []
        self.func_name: list[str] = []
        self.func_line: list[int] = []
        self.func_static: list[bool] = []
        self.ids: dict[tuple[int, str], int] = {}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.calls: dict[int, list[tuple]] = defaultdict(list)
        self.refs: dict[int, list[tuple]] = defaultdict(list)
        self.member_types: dict[tuple[str, str], str] = {}
        self.registrations: list[tuple[int, tuple]] = []
        self.queueings: list[tuple[int, tuple]] = []
        raw_inits: list[tuple[int, tuple]] = []
        raw_assigns: list[tuple[int, tuple]] = []
        for path, rows in files:
            file_index = len(self.paths)
            self.paths.append(path)
            for name, line, _end, is_static, _inline in rows[_KINDS["functions"]]:
                key = (file_index, name)
                if key not in self.ids:
                    self.ids[key] = len(self.func_name)
                    self.func_file.append(file_index)
                    self.func_name.append(name)
                    self.func_line.append(line)
                    self.func_static.append(is_static)
                    self.by_name[name].append(self.ids[key])
            ids = self.ids
            calls = self.calls
            for row in rows[_KINDS["calls"]]:
                function = ids.get((file_index, row[0]))
                if function is not None:
                    calls[function].append(row)
            for row in rows[_KINDS["refs"]]:
                function = ids.get((file_index, row[0]))
                if function is not None:
                    self.refs[function].append(row)
            for struct_type, member, member_type, _pointer, _line in rows[_KINDS["members"]]:
                if member_type:
                    self.member_types.setdefault((struct_type, member), member_type)
            raw_inits.extend((file_index, row) for row in rows[_KINDS["ops_inits"]])
            raw_assigns.extend((file_index, row) for row in rows[_KINDS["ops_assigns"]])
            self.registrations.extend((file_index, row) for row in rows[_KINDS["registrations"]])
            self.queueings.extend((file_index, row) for row in rows[_KINDS["queueings"]])
        self.subsystems = [subsystem_of(path) for path in self.paths]
        self.userspace = [path.startswith(("tools/", "scripts/")) for path in self.paths]
        self.ops_by_key: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)  # -> (function, line)
        self.ops_by_field: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.field_owners: dict[str, set[str]] = defaultdict(set)  # field -> struct types ("" = unknown)
        self.pointer_vars: dict[tuple[int, str], list[int]] = defaultdict(list)
        self._index_ops(raw_inits, raw_assigns)

    # -- lookups ------------------------------------------------------------

    def path_of(self, function: int) -> str:
        return self.paths[self.func_file[function]]

    def subsystem(self, function: int) -> str:
        return self.subsystems[self.func_file[function]]

    def functions_named(self, name: str) -> list[int]:
        return self.by_name.get(name, [])

    def resolve_name(self, name: str, file_index: int) -> list[int]:
        """Definitions a call to `name` from `file_index` can reach, as C links them.

        A static of the same file first; then exported definitions, preferring
        generic code to arch/ alternatives (and x86 among those); then static
        inlines of headers. Userspace code (tools/, scripts/) only links to itself.
        """
        candidates = self.by_name.get(name)
        if not candidates:
            return []
        func_file = self.func_file
        local = [f for f in candidates if func_file[f] == file_index]
        if local:
            return local
        if not self.userspace[file_index]:
            candidates = [f for f in candidates if not self.userspace[func_file[f]]]
        exported = [f for f in candidates if not self.func_static[f]]
        if exported:
            return self._prefer_generic(exported)
        return self._prefer_generic([f for f in candidates if self.paths[func_file[f]].endswith(".h")])

    def _prefer_generic(self, functions: list[int]) -> list[int]:
        if len(functions) < 2:
            return functions
        paths = self.paths
        generic = [f for f in functions if not paths[self.func_file[f]].startswith("arch/")]
        if generic:
            return generic
        x86 = [f for f in functions if paths[self.func_file[f]].startswith("arch/x86/")]
        return x86 or functions

    def member_type(self, struct_type: str, member: str) -> str:
        return self.member_types.get((struct_type, member), "")

    def _struct_of_path(self, root_type: str, members: list[str]) -> str:
        """Type reached by following `members` from `root_type`, "" when unknown."""
        current = root_type
        for member in members:
            if not current:
                return ""
            current = self.member_type(current, member.strip("()*&"))
        return current

    def _index_ops(self, raw_inits, raw_assigns) -> None:
        for file_index, (struct_type, field_path, target, _variable, line) in raw_inits:
            parts = field_path.split(".")
            owner = self._struct_of_path(struct_type, parts[:-1]) if struct_type else ""
            self._add_target(file_index, owner, parts[-1], target, line)
        for file_index, (lhs, field, target, _caller, line, receiver_type) in raw_assigns:
            if not field:
                for function in self.resolve_name(target, file_index):
                    self.pointer_vars[(file_index, lhs)].append(function)
                continue
            parts = _PATH_SPLIT.split(lhs)
            owner = self._struct_of_path(receiver_type, parts[1:-1]) if receiver_type else ""
            self._add_target(file_index, owner, field, target, line)

    def _add_target(self, file_index: int, struct_type: str, field: str, target: str, line: int) -> None:
        self.field_owners[field].add(struct_type)
        for function in self.resolve_name(target, file_index):
            entry = (function, line)
            if struct_type:
                self.ops_by_key[(struct_type, field)].append(entry)
            self.ops_by_field[field].append(entry)

    def ops_targets(self, struct_type: str, field: str) -> list[int]:
        return sorted({function for function, _ in self.ops_by_key.get((struct_type, field), ())})

    # -- edges --------------------------------------------------------------

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
        file_index = self.func_file[function]
        result: list[Edge] = []
        for _caller, callee, line, col, kind, receiver_type, gfp in self.calls.get(function, ()):
            if kind == facts.DIRECT:
                targets = self.resolve_name(callee, file_index)
                if targets:
                    result.extend(Edge(t, callee, line, col, CALL, "", gfp) for t in targets)
                    continue
                pointed = self.pointer_vars.get((file_index, callee))
                if pointed:
                    result.extend(Edge(t, callee, line, col, POINTER_VAR, callee, gfp) for t in pointed)
                else:
                    result.append(Edge(-1, callee, line, col, CALL, "", gfp))
            elif kind == facts.MEMBER:
                targets, via = self._member_targets(callee, receiver_type, affinity, cuts, line)
                result.extend(Edge(t, callee, line, col, MEMBER, via, gfp) for t in targets)
        for _caller, target, via, line, col in self.refs.get(function, ()):
            if via not in callbacks and not any(
                self.func_file[f] == file_index for f in self.by_name.get(via, ())
            ):
                continue
            result.extend(Edge(t, target, line, col, CALLBACK, via, "") for t in self.resolve_name(target, file_index))
        result.sort(key=lambda edge: (edge.line, edge.col))
        return result

    def _member_targets(self, callee, receiver_type, affinity, cuts, line) -> tuple[list[int], str]:
        """Targets of an ops call. Typed (struct, field) when the receiver's type
        is known, else by field name. With an `affinity` subsystem only its own
        targets count (a ceph path reaches ceph's methods); without one, all
        targets up to the fan-out cap."""
        parts = _PATH_SPLIT.split(callee)
        field = parts[-1]
        owner = self._struct_of_path(receiver_type, parts[1:-1]) if receiver_type else ""
        entries = self.ops_by_key.get((owner, field)) if owner else None
        if entries:
            via = f"(struct {owner})->{field}"
        elif len(self.field_owners.get(field, ())) == 1:
            # Untyped receiver: the field name decides only when one struct type has it.
            entries = self.ops_by_field.get(field, [])
            via = f"->{field} (by field name)"
        else:
            if cuts is not None and field in self.ops_by_field:
                cuts.append(Cut(f"{callee}:{line}", field, len(self.ops_by_field[field])))
            return [], f"->{field} (ambiguous)"
        targets = sorted({function for function, _ in entries})
        if affinity:
            near = [t for t in targets if self.subsystems[self.func_file[t]] == affinity]
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
