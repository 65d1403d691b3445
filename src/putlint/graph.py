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
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter, itemgetter

from . import facts
from .facts import CALL_ROW, FUNCTION_ROW, KINDS
from .kernel.layout import is_userspace, linked_definitions, subsystem_of

MEMBER_PATH = re.compile(r"->|\.")

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


_SOURCE_ORDER = attrgetter("line", "col")
_FIRST = itemgetter(0)


@dataclass
class Cut:
    """What a fan-out cap removed at one site."""

    site: str
    field: str
    targets: int


class Program:
    """All functions of the indexed tree and how to resolve what they call.

    The symbol tables (definitions, member types, ops targets) cover the whole
    tree; function bodies (calls, callbacks) are read per file when a search
    first needs them, from `fetch(path)`, or given up front by `build`.
    """

    def __init__(self, fanout: int = 64, fanout_near: int = 8, fetch: Callable[[str], tuple | None] | None = None):
        self.fanout = fanout
        self.fanout_near = fanout_near
        self._fetch = fetch
        self.paths: list[str] = []
        self.file_ids: dict[str, int] = {}
        self.func_file: list[int] = []
        self.func_name: list[str] = []
        self.func_line: list[int] = []
        self.func_static: list[bool] = []
        # Every definition of a name: a sorted array over the functions of the
        # build, overridden per name by what a patch changed.
        self.sorted_names: list[str] = []
        self.sorted_ids: list[int] = []
        self._renamed: dict[str, list[int]] = {}
        # Functions of one file are contiguous below `_base_count` (the build adds
        # them file by file); a patch appends more after it.
        self._base_count = 0
        self._sealed = False
        self._appended: dict[int, list[int]] = defaultdict(list)
        self._local: dict[int, dict[str, int]] = {}  # file -> name -> function, made on demand
        self.member_types: dict[tuple[str, str], str] = {}
        # (struct, field) / field -> [(function, line, file of the initializer or assignment)]
        self.ops_by_key: dict[tuple[str, str], list[tuple[int, int, int]]] = defaultdict(list)
        self.ops_by_field: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        self.field_owners: dict[str, set[str]] = defaultdict(set)  # field -> struct types ("" = unknown)
        self.pointer_vars: dict[tuple[int, str], list[int]] = defaultdict(list)
        self.subsystems: list[str] = []
        self.userspace: list[bool] = []
        self.dead: set[int] = set()  # functions a patch removed
        self._calls: dict[int, list[tuple]] = defaultdict(list)
        self._refs: dict[int, list[tuple]] = defaultdict(list)
        self._bodies_loaded: set[int] = set()
        self._linked: dict[tuple[str, bool], list[int]] = {}  # (name, from userspace) -> definitions
        self._direct: dict[int, list[Edge]] = {}  # function -> edges of its direct calls
        self._member_callers: set[int] = set()  # functions with an ops call

    @classmethod
    def build(cls, files: Iterable[tuple[str, tuple]], fanout: int = 64, fanout_near: int = 8) -> Program:
        """A program of these (path, fact rows), bodies included."""
        program = cls(fanout, fanout_near)
        pending: list[tuple[int, tuple]] = []
        for path, rows in files:
            file_index = program._add_path(path)
            program._add_definitions(file_index, rows)
            program._add_bodies(file_index, rows)
            pending.append((file_index, rows))
        program._seal()
        for file_index, rows in pending:
            program._add_ops(file_index, rows)
        return program

    def _seal(self) -> None:
        """End of the build: index the definitions by name."""
        order = sorted(range(len(self.func_name)), key=self.func_name.__getitem__)
        self.sorted_names = [self.func_name[f] for f in order]
        self.sorted_ids = order
        self._base_count = len(self.func_name)
        self._sealed = True
        self._appended.clear()

    # -- persistence --------------------------------------------------------

    _TABLES = (
        "paths", "func_file", "func_name", "func_line", "func_static", "sorted_names", "sorted_ids", "member_types", "ops_by_key", "ops_by_field", "field_owners", "pointer_vars",
    )

    def tables(self) -> tuple:
        """The symbol tables as plain values (marshal-able); bodies are not included.

        Member types are kept only where they name a struct that has members or
        ops targets: `__u32 count` leads nowhere, and dropping such members makes
        the tables load four times faster.
        """
        structs = {struct_type for struct_type, _ in self.member_types} | {s for s, _ in self.ops_by_key}
        values = []
        for name in self._TABLES:
            value = getattr(self, name)
            if name == "member_types":
                value = {key: type_ for key, type_ in value.items() if type_ in structs}
            values.append(dict(value) if isinstance(value, defaultdict) else value)
        return tuple(values)

    @classmethod
    def from_tables(cls, tables: tuple, fetch: Callable[[str], tuple | None], fanout: int = 64, fanout_near: int = 8) -> Program:
        if not isinstance(tables, tuple) or len(tables) != len(cls._TABLES):
            raise ValueError("program tables have the wrong shape")
        program = cls(fanout, fanout_near, fetch)
        for name, value in zip(cls._TABLES, tables):
            current = getattr(program, name)
            if isinstance(current, defaultdict):
                current.update(value)
            else:
                setattr(program, name, value)
        program.file_ids = {path: index for index, path in enumerate(program.paths)}
        program._base_count = len(program.func_name)
        program._sealed = True
        program.subsystems = [subsystem_of(path) for path in program.paths]
        program.userspace = [is_userspace(path) for path in program.paths]
        return program

    # -- building -----------------------------------------------------------

    def _add_path(self, path: str) -> int:
        file_index = self.file_ids.get(path)
        if file_index is None:
            file_index = self.file_ids[path] = len(self.paths)
            self.paths.append(path)
            self.subsystems.append(subsystem_of(path))
            self.userspace.append(is_userspace(path))
        return file_index

    def _add_definitions(self, file_index: int, rows: tuple) -> None:
        local = self.local_functions(file_index)
        sealed = self._sealed
        for name, line, _end, is_static, _inline in rows[KINDS["functions"]]:
            if name in local:
                continue
            function = local[name] = len(self.func_name)
            self.func_file.append(file_index)
            self.func_name.append(name)
            self.func_line.append(line)
            self.func_static.append(is_static)
            if sealed:
                self._appended[file_index].append(function)
                self._renamed[name] = [*self.functions_named(name), function]
        for struct_type, member, member_type, _pointer, _line in rows[KINDS["members"]]:
            if member_type:
                self.member_types.setdefault((struct_type, member), member_type)

    def _add_bodies(self, file_index: int, rows: tuple) -> None:
        local = self.local_functions(file_index)
        calls = self._calls
        # A function's calls are consecutive rows: one lookup per run of rows.
        for caller, run in groupby(rows[KINDS["calls"]], key=_FIRST):
            function = local.get(caller)
            if function is not None:
                run = list(run)
                calls[function].extend(run)
                if any(row[CALL_ROW.kind] == facts.MEMBER for row in run):
                    self._member_callers.add(function)
        for caller, run in groupby(rows[KINDS["refs"]], key=_FIRST):
            function = local.get(caller)
            if function is not None:
                self._refs[function].extend(run)
        self._bodies_loaded.add(file_index)

    def _add_ops(self, file_index: int, rows: tuple) -> None:
        for struct_type, field_path, target, _variable, line in rows[KINDS["ops_inits"]]:
            parts = field_path.split(".")
            owner = self._struct_of_path(struct_type, parts[:-1]) if struct_type else ""
            self._add_target(file_index, owner, parts[-1], target, line)
        for lhs, field, target, _caller, line, receiver_type in rows[KINDS["ops_assigns"]]:
            if not field:
                for function in self.resolve_name(target, file_index):
                    self.pointer_vars[(file_index, lhs)].append(function)
                continue
            parts = MEMBER_PATH.split(lhs)
            owner = self._struct_of_path(receiver_type, parts[1:-1]) if receiver_type else ""
            self._add_target(file_index, owner, field, target, line)

    def _add_target(self, file_index: int, struct_type: str, field: str, target: str, line: int) -> None:
        self.field_owners[field].add(struct_type)
        for function in self.resolve_name(target, file_index):
            entry = (function, line, file_index)
            if struct_type:
                self.ops_by_key[(struct_type, field)].append(entry)
            self.ops_by_field[field].append(entry)

    def replace_files(self, changes: dict[str, tuple | None], previous: Callable[[str], tuple | None]) -> None:
        """Swap in new fact rows for some files (None: the file is gone), as a patch
        changes them; `previous(path)` gives the rows being replaced.

        Definitions, bodies, ops targets and pointer variables of these files are
        replaced exactly. Member types only gain entries (a patch that changes the
        type of an existing member keeps the old one), and field owners only grow.
        """
        self._linked.clear()
        self._direct.clear()
        touched = []
        for path, rows in sorted(changes.items()):
            old = previous(path) if path in self.file_ids else None
            file_index = self._add_path(path)
            old_names = {row[FUNCTION_ROW.name] for row in old[KINDS["functions"]]} if old else set()
            new_names = {row[FUNCTION_ROW.name] for row in rows[KINDS["functions"]]} if rows else set()
            local = self.local_functions(file_index)
            for name in old_names - new_names:
                function = local.pop(name, None)
                if function is not None:
                    self.dead.add(function)
                    self._renamed[name] = [f for f in self.functions_named(name) if f != function]
            if old:
                for struct_type, member, member_type, _pointer, _line in old[KINDS["members"]]:
                    if self.member_types.get((struct_type, member)) == member_type:
                        del self.member_types[(struct_type, member)]
            for name in old_names & new_names:
                function = local[name]
                self._calls.pop(function, None)
                self._refs.pop(function, None)
                self._member_callers.discard(function)
            for key in [key for key in self.pointer_vars if key[0] == file_index]:
                del self.pointer_vars[key]
            for table in (self.ops_by_key, self.ops_by_field):
                for key, entries in table.items():
                    if any(entry[2] == file_index for entry in entries):
                        table[key] = [entry for entry in entries if entry[2] != file_index]
            if rows:
                self._add_definitions(file_index, rows)
                for name, line, _end, is_static, _inline in rows[KINDS["functions"]]:
                    function = local[name]
                    self.func_line[function] = line
                    self.func_static[function] = is_static
                self._add_bodies(file_index, rows)
                touched.append((file_index, rows))
            else:
                self._bodies_loaded.add(file_index)  # nothing left to read
        for file_index, rows in touched:
            self._add_ops(file_index, rows)

    # -- bodies -------------------------------------------------------------

    def set_fetch(self, fetch: Callable[[str], tuple | None]) -> None:
        self._fetch = fetch

    def load_bodies(self, paths: Iterable[str]) -> None:
        """Read the bodies of these files now rather than when a search needs them."""
        for path in paths:
            file_index = self.file_ids.get(path)
            if file_index is not None:
                self._load_body(file_index)

    def _ensure_body(self, function: int) -> None:
        file_index = self.func_file[function]
        if file_index not in self._bodies_loaded:
            self._load_body(file_index)

    def _load_body(self, file_index: int) -> None:
        if file_index in self._bodies_loaded:
            return
        rows = self._fetch(self.paths[file_index]) if self._fetch else None
        if rows is None:
            self._bodies_loaded.add(file_index)
        else:
            self._add_bodies(file_index, rows)

    def calls_of(self, function: int) -> list[tuple]:
        """Call rows of a function (facts.Call fields), in source order."""
        self._ensure_body(function)
        return self._calls.get(function, [])

    def refs_of(self, function: int) -> list[tuple]:
        self._ensure_body(function)
        return self._refs.get(function, [])

    # -- lookups ------------------------------------------------------------

    def path_of(self, function: int) -> str:
        return self.paths[self.func_file[function]]

    def subsystem(self, function: int) -> str:
        return self.subsystems[self.func_file[function]]

    def functions_named(self, name: str) -> list[int]:
        """Every definition of `name`, in id order."""
        renamed = self._renamed.get(name)
        if renamed is not None:
            return renamed
        low = bisect_left(self.sorted_names, name)
        high = bisect_right(self.sorted_names, name, low)
        return self.sorted_ids[low:high]

    def local_functions(self, file_index: int) -> dict[str, int]:
        """The functions defined in one file, by name."""
        local = self._local.get(file_index)
        if local is None:
            func_file, base = self.func_file, self._base_count
            low = bisect_left(func_file, file_index, 0, base)
            high = bisect_right(func_file, file_index, low, base)
            functions = [*range(low, high), *self._appended.get(file_index, ())]
            local = self._local[file_index] = {
                self.func_name[f]: f for f in functions if f not in self.dead
            }
        return local

    def resolve_name(self, name: str, file_index: int) -> list[int]:
        """Definitions a call to `name` from `file_index` can reach, as C links them.

        A static of the same file first; then exported definitions, preferring
        generic code to arch/ alternatives (and x86 among those); then static
        inlines of headers. Userspace code (tools/, scripts/) only links to itself.
        """
        local = self.local_functions(file_index).get(name)
        if local is not None:
            return [local]
        userspace = self.userspace[file_index]
        key = (name, userspace)
        found = self._linked.get(key)
        if found is None:
            found = self._linked[key] = self._link(name, userspace)
        return found

    def _link(self, name: str, userspace: bool) -> list[int]:
        candidates = self.functions_named(name)
        if not candidates:
            return []
        func_file = self.func_file
        if not userspace:
            candidates = [f for f in candidates if not self.userspace[func_file[f]]]
        exported = [f for f in candidates if not self.func_static[f]]
        if exported:
            return linked_definitions(exported, self.path_of)
        return linked_definitions([f for f in candidates if self.paths[func_file[f]].endswith(".h")], self.path_of)

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

    def ops_targets(self, struct_type: str, field: str) -> list[int]:
        return sorted({entry[0] for entry in self.ops_by_key.get((struct_type, field), ())} - self.dead)

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
        direct = self._direct.get(function)
        if direct is None:
            direct = self._direct[function] = self._direct_edges(function, file_index)
        if not self.depends_on_affinity(function) and not self.refs_of(function):
            return direct
        result = list(direct)
        for _caller, callee, line, col, kind, receiver_type, gfp in self.calls_of(function):
            if kind == facts.MEMBER:
                targets, via = self._member_targets(callee, receiver_type, affinity, cuts, line)
                result.extend(Edge(t, callee, line, col, MEMBER, via, gfp) for t in targets)
        for _caller, target, via, line, col in self.refs_of(function):
            if via not in callbacks and not any(
                self.func_file[f] == file_index for f in self.functions_named(via)
            ):
                continue
            result.extend(Edge(t, target, line, col, CALLBACK, via, "") for t in self.resolve_name(target, file_index))
        result.sort(key=_SOURCE_ORDER)
        return result

    def depends_on_affinity(self, function: int) -> bool:
        """Whether `edges` can differ by affinity: only ops calls do."""
        self._ensure_body(function)
        return function in self._member_callers

    def _direct_edges(self, function: int, file_index: int) -> list[Edge]:
        """Edges of the direct calls: they do not depend on the path's subsystem."""
        result: list[Edge] = []
        for _caller, callee, line, col, kind, _receiver_type, gfp in self.calls_of(function):
            if kind != facts.DIRECT:
                continue
            targets = self.resolve_name(callee, file_index)
            if targets:
                result.extend(Edge(t, callee, line, col, CALL, "", gfp) for t in targets)
                continue
            pointed = self.pointer_vars.get((file_index, callee))
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
        parts = MEMBER_PATH.split(callee)
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
        targets = sorted({entry[0] for entry in entries} - self.dead)
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
