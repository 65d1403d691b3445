"""What the searches of a program learn that later searches can start from.

- Site readings (`sources.Readings`): valid for the bytes they were read from,
  whatever the rules or the program.
- Edges as the rules let a search see them (`edges.EdgeRows`): valid for the
  program and rules they were resolved with; once a patch changes the program,
  `stale(function)` says whose are no longer (`stale_after`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..graph import Program
from .edges import EdgeRows
from .sources import Readings, merge_readings
from .stats import called_symbols


@dataclass
class Memo:
    readings: Readings = field(default_factory=dict)
    edges: EdgeRows | None = None  # None: not collected (a search learns them only when asked)
    stale: Callable[[int], bool] | None = None

    def add(self, other: Memo) -> None:
        merge_readings(self.readings, other.readings)
        if other.edges:
            if self.edges is None:
                self.edges = {}
            self.edges.update(other.edges)  # one program and one set of rules: the same rows


def stale_after(program: Program, paths: Iterable[str], names: Iterable[str], fields: Iterable[str]):
    """`stale(function)` for edges resolved before a change of the files at
    `paths` that changed the definitions of `names` and the ops entries or
    member types of `fields` (see `checkpatch._changed_symbols`): a function
    of such a file, or one that calls such a name or makes an ops call through
    such a field (`stats.called_symbols`). The same test, per context, decides
    which contexts a patch searches again (`stats.Dependencies`)."""
    files = {program.symbols.file_ids[path] for path in paths if path in program.symbols.file_ids}
    names, fields = frozenset(names), frozenset(fields)
    func_file = program.func_file

    def stale(function: int) -> bool:
        if func_file[function] in files:
            return True
        if not names and not fields:
            return False
        return any(symbol in (fields if is_field else names) for symbol, is_field in called_symbols(program, function))

    return stale
