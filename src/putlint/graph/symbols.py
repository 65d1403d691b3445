"""Every function definition of the tree, and which of them a name links to."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict

from ..facts import FUNCTION_ROW, KINDS
from ..kernel.layout import is_userspace, linked_definitions, subsystem_of


def defined_names(rows: tuple | None) -> set[str]:
    """Names of the functions one file's fact rows define."""
    return {row[FUNCTION_ROW.name] for row in rows[KINDS["functions"]]} if rows else set()


class Symbols:
    """Functions are ids into parallel arrays (file, name, line, static), keyed
    by (file, name): statics and `#ifdef` alternatives of one file are one
    function, the 200 static `foo_release`s of different files stay apart.

    The build adds files one after the other, so the functions of one file are
    contiguous below `_base_count`; a patch appends more after it and marks
    the ones it removes dead.
    """

    TABLES = ("paths", "func_file", "func_name", "func_line", "func_static", "sorted_names", "sorted_ids")

    def __init__(self):
        self.paths: list[str] = []
        self.file_ids: dict[str, int] = {}
        self.subsystems: list[str] = []
        self.userspace: list[bool] = []
        self.func_file: list[int] = []
        self.func_name: list[str] = []
        self.func_line: list[int] = []
        self.func_static: list[bool] = []
        # Every definition of a name: a sorted array over the functions of the
        # build, overridden per name by what a patch changed.
        self.sorted_names: list[str] = []
        self.sorted_ids: list[int] = []
        self._renamed: dict[str, list[int]] = {}
        self._base_count = 0
        self._sealed = False
        self._appended: dict[int, list[int]] = defaultdict(list)
        self._local: dict[int, dict[str, int]] = {}  # file -> name -> function, made on demand
        self.dead: set[int] = set()  # functions a patch removed
        self._linked: dict[tuple[str, bool], list[int]] = {}  # (name, from userspace) -> definitions

    # -- saved tables -------------------------------------------------------

    def tables(self) -> tuple:
        return tuple(getattr(self, name) for name in self.TABLES)

    @classmethod
    def from_tables(cls, values: tuple) -> Symbols:
        symbols = cls()
        for name, value in zip(cls.TABLES, values):
            setattr(symbols, name, value)
        symbols.file_ids = {path: index for index, path in enumerate(symbols.paths)}
        symbols.subsystems = [subsystem_of(path) for path in symbols.paths]
        symbols.userspace = [is_userspace(path) for path in symbols.paths]
        symbols._base_count = len(symbols.func_name)
        symbols._sealed = True
        return symbols

    # -- building and patching ------------------------------------------------

    def add_path(self, path: str) -> int:
        file_index = self.file_ids.get(path)
        if file_index is None:
            file_index = self.file_ids[path] = len(self.paths)
            self.paths.append(path)
            self.subsystems.append(subsystem_of(path))
            self.userspace.append(is_userspace(path))
        return file_index

    def add_file(self, file_index: int, rows: tuple) -> None:
        local = self.local_functions(file_index)
        sealed = self._sealed
        for name, line, _end, is_static, _inline in rows[KINDS["functions"]]:
            function = local.get(name)
            if function is None:
                function = local[name] = len(self.func_name)
                self.func_file.append(file_index)
                self.func_name.append(name)
                self.func_line.append(line)
                self.func_static.append(is_static)
                if sealed:
                    self._appended[file_index].append(function)
                    self._renamed[name] = [*self.functions_named(name), function]
            elif sealed:
                # A patched file: its functions take their new line and linkage (those of
                # the last definition, where `#ifdef` alternatives repeat a name).
                self.func_line[function] = line
                self.func_static[function] = is_static

    def drop_file(self, file_index: int, old: tuple | None, new: tuple | None) -> None:
        """Before a patch's rows of a file come in: its functions that the new
        rows no longer define are dead."""
        self._linked.clear()
        local = self.local_functions(file_index)
        for name in defined_names(old) - defined_names(new):
            function = local.pop(name, None)
            if function is not None:
                self.dead.add(function)
                self._renamed[name] = [f for f in self.functions_named(name) if f != function]

    def seal(self) -> None:
        """End of the build: index the definitions by name."""
        order = sorted(range(len(self.func_name)), key=self.func_name.__getitem__)
        self.sorted_names = [self.func_name[f] for f in order]
        self.sorted_ids = order
        self._base_count = len(self.func_name)
        self._sealed = True
        self._appended.clear()

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
        generic code to arch/ alternatives (see `kernel/layout.yaml`); then
        static inlines of headers. Userspace code only links to itself.
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
