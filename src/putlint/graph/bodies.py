"""Function bodies: the call and callback rows of each function, read per file
when a search first needs them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import groupby
from operator import itemgetter

from .. import facts
from ..facts import CALL_ROW, KINDS
from .symbols import Symbols, defined_names

_CALLER = itemgetter(CALL_ROW.caller)
_REF_CALLER = itemgetter(facts.REF_ROW.caller)

Fetch = Callable[[str], tuple | None]  # a file's fact rows, None when it has none


class Bodies:
    """Call rows (`facts.Call`) and callback rows (`facts.FunctionRef`) by function."""

    def __init__(self, symbols: Symbols, fetch: Fetch | None = None):
        self.symbols = symbols
        self.fetch = fetch
        self._func_file = symbols.func_file  # the list itself, looked up on every call of a search
        self._calls: dict[int, list[tuple]] = defaultdict(list)
        self._refs: dict[int, list[tuple]] = defaultdict(list)
        self._loaded: set[int] = set()  # files whose rows are in, or that have none
        self._member_callers: set[int] = set()  # functions with an ops call

    def add_file(self, file_index: int, rows: tuple) -> None:
        local = self.symbols.local_functions(file_index)
        calls = self._calls
        kind, member = CALL_ROW.kind, facts.MEMBER
        # A function's calls are consecutive rows: one lookup per run of rows.
        for caller, run in groupby(rows[KINDS["calls"]], key=_CALLER):
            function = local.get(caller)
            if function is not None:
                run = list(run)
                calls[function].extend(run)
                if any(row[kind] == member for row in run):
                    self._member_callers.add(function)
        for caller, run in groupby(rows[KINDS["refs"]], key=_REF_CALLER):
            function = local.get(caller)
            if function is not None:
                self._refs[function].extend(run)
        self._loaded.add(file_index)

    def drop_file(self, file_index: int, old: tuple | None, new: tuple | None) -> None:
        """Forget the bodies of the functions the new rows define again; the
        stored rows of the file are never read from now on."""
        local = self.symbols.local_functions(file_index)
        for name in defined_names(old) & defined_names(new):
            function = local[name]
            self._calls.pop(function, None)
            self._refs.pop(function, None)
            self._member_callers.discard(function)
        self._loaded.add(file_index)

    def load(self, paths: Iterable[str]) -> None:
        """Read the bodies of these files now rather than when a search needs them."""
        for path in paths:
            file_index = self.symbols.file_ids.get(path)
            if file_index is not None:
                self._load(file_index)

    def _load(self, file_index: int) -> None:
        if file_index in self._loaded:
            return
        rows = self.fetch(self.symbols.paths[file_index]) if self.fetch else None
        if rows is None:
            self._loaded.add(file_index)
        else:
            self.add_file(file_index, rows)

    def _ensure(self, function: int) -> None:
        file_index = self._func_file[function]
        if file_index not in self._loaded:
            self._load(file_index)

    def calls_of(self, function: int) -> list[tuple]:
        """Call rows of a function (facts.Call fields), in source order."""
        self._ensure(function)
        return self._calls.get(function, [])

    def refs_of(self, function: int) -> list[tuple]:
        self._ensure(function)
        return self._refs.get(function, [])

    def has_member_calls(self, function: int) -> bool:
        """Whether the function makes an ops call: only those edges depend on a subsystem."""
        self._ensure(function)
        return function in self._member_callers
