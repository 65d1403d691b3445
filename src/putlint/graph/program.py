"""The program database: symbols, ops tables, bodies and edge resolution of
one tree, built from fact rows, patched file by file, saved as tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .bodies import Bodies, Fetch
from .ops import OpsTable
from .resolver import EdgeResolver
from .symbols import Symbols


class Program:
    """All functions of the indexed tree and how to resolve what they call.

    The symbol tables (definitions, member types, ops targets) cover the whole
    tree; function bodies (calls, callbacks) are read per file when a search
    first needs them, from `fetch(path)`, or given up front by `build`.

    Its lookups are those of its parts: `path_of`, `subsystem`,
    `functions_named` and `resolve_name` of `Symbols`, `ops_targets` of
    `OpsTable`, `calls_of` and `refs_of` of `Bodies`, `edges` of `EdgeResolver`.
    """

    def __init__(
        self,
        fanout: int = 64,
        fanout_near: int = 8,
        fetch: Fetch | None = None,
        symbols: Symbols | None = None,
        ops: OpsTable | None = None,
    ):
        self.symbols = symbols or Symbols()
        self.ops = ops or OpsTable(self.symbols)
        self.bodies = Bodies(self.symbols, fetch)
        self.resolver = EdgeResolver(self.symbols, self.ops, self.bodies, fanout, fanout_near)
        self._parts = (self.symbols, self.ops, self.bodies)
        # Lookups are the parts' own arrays and methods, not wrappers: the
        # searches call them hundreds of thousands of times.
        symbols, bodies = self.symbols, self.bodies
        self.func_file, self.func_name, self.func_line = symbols.func_file, symbols.func_name, symbols.func_line
        self.path_of, self.subsystem = symbols.path_of, symbols.subsystem
        self.functions_named, self.resolve_name = symbols.functions_named, symbols.resolve_name
        self.ops_targets = self.ops.ops_targets
        self.calls_of, self.refs_of = bodies.calls_of, bodies.refs_of
        self.edges = self.resolver.edges
        self.depends_on_affinity = bodies.has_member_calls  # only ops calls make edges depend on the affinity

    @classmethod
    def build(cls, files: Iterable[tuple[str, tuple]], fanout: int = 64, fanout_near: int = 8) -> Program:
        """A program of these (path, fact rows), bodies included."""
        program = cls(fanout, fanout_near)
        added = []
        for path, rows in files:
            file_index = program.symbols.add_path(path)
            for part in program._parts:
                part.add_file(file_index, rows)
            added.append((file_index, rows))
        program.symbols.seal()
        for file_index, rows in added:
            program.ops.link_file(file_index, rows)
        return program

    def replace_files(self, changes: dict[str, tuple | None], previous: Callable[[str], tuple | None]) -> None:
        """Swap in new fact rows for some files (None: the file is gone), as a patch
        changes them; `previous(path)` gives the rows being replaced. See each
        part's `drop_file` for what is replaced exactly and what only grows."""
        self.resolver.forget()
        added = []
        for path, rows in sorted(changes.items()):
            old = previous(path) if path in self.symbols.file_ids else None
            file_index = self.symbols.add_path(path)
            for part in self._parts:
                part.drop_file(file_index, old, rows)
            if rows:
                for part in self._parts:
                    part.add_file(file_index, rows)
                added.append((file_index, rows))
        for file_index, rows in added:
            self.ops.link_file(file_index, rows)

    # -- saved tables -------------------------------------------------------

    def tables(self) -> tuple:
        """The symbol and ops tables as plain values (marshal-able); bodies are not included."""
        return (*self.symbols.tables(), *self.ops.tables())

    @classmethod
    def from_tables(cls, tables: tuple, fetch: Fetch, fanout: int = 64, fanout_near: int = 8) -> Program:
        split = len(Symbols.TABLES)
        if not isinstance(tables, tuple) or len(tables) != split + len(OpsTable.TABLES):
            raise ValueError("program tables have the wrong shape")
        symbols = Symbols.from_tables(tables[:split])
        return cls(fanout, fanout_near, fetch, symbols, OpsTable.from_tables(symbols, tables[split:]))

    # -- bodies -------------------------------------------------------------

    def set_fetch(self, fetch: Fetch | None) -> None:
        self.bodies.fetch = fetch

    def load_bodies(self, paths: Iterable[str]) -> None:
        """Read the bodies of these files now rather than when a search needs them."""
        self.bodies.load(paths)
