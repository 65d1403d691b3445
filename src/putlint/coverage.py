"""What a run could not analyse, so that it never says "clean" for what it
skipped: files it could not read or parse (unreadable, binary, too large, over
the per-file time limit, a parser that died), functions the parse lost (see
`facts.LostFunction`), and search limits (depth, fan-out) that cut a search.
Every scan and check lists them in its summary and JSON; `--strict` makes
any of them exit 2."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace

from .facts import FACT_KINDS
from .tree import CRASHED, SKIPPED, TIMEOUT, UNREADABLE

FILE, FUNCTION, LIMIT = "file", "function", "limit"
_NOT_ANALYSED = frozenset({UNREADABLE, TIMEOUT, CRASHED, SKIPPED})
_SHOWN = 10  # names listed per summary line; JSON has them all


@dataclass(frozen=True, slots=True)
class Unanalysed:
    kind: str  # FILE, FUNCTION or LIMIT
    path: str = ""
    line: int = 0
    end_line: int = 0
    function: str = ""
    context: str = ""
    reason: str = ""

    def as_json(self) -> dict:
        return asdict(self)


def of_files(problems: Iterable[tuple[str, str, str]]) -> list[Unanalysed]:
    """Files the index holds no facts of: (path, status, message) problems of
    an IndexRun (files holding only preprocessor lines are not problems)."""
    return [Unanalysed(FILE, path, reason=f"{status}: {message}") for path, status, message in problems
            if status in _NOT_ANALYSED]


def of_lost(path: str, rows: Iterable[tuple]) -> list[Unanalysed]:
    """Lost functions of one file, from its `lost` fact rows (name, line, end_line)."""
    return [
        Unanalysed(FUNCTION, path, line, end, name or "?", reason="a parse error or a macro hides this definition")
        for name, line, end in rows
    ]


def of_searches(results: dict, limits) -> list[Unanalysed]:
    """Search limits that cut a context's searches (`search.ContextResult`s)."""
    found = []
    for context_id in sorted(results):
        stats = results[context_id].stats
        if stats.depth_cut:
            found.append(Unanalysed(LIMIT, context=context_id,
                                    reason=f"{stats.depth_cut} call(s) past reach_depth {limits.reach_depth}"))
        # Cuts of at most `fanout` targets are the subsystem preference (a ceph path
        # takes ceph's methods), a choice of the model rather than a limit.
        over = {cut.site for cut in stats.fanout_cuts if cut.targets > limits.fanout}
        if over:
            found.append(Unanalysed(LIMIT, context=context_id,
                                    reason=f"{len(over)} ops call(s) with over fanout {limits.fanout} targets"))
    return found


def summary(unanalysed: Iterable[Unanalysed]) -> list[str]:
    """The "could not analyse" lines of a text report (none when all was analysed)."""
    items = list(unanalysed)
    lines = []
    files = [u for u in items if u.kind == FILE]
    if files:
        lines.append(_line(f"{len(files)} file(s)", [f"{u.path} ({u.reason})" for u in files]))
    functions = [u for u in items if u.kind == FUNCTION]
    if functions:
        lines.append(_line(f"{len(functions)} function(s) lost to parse errors",
                           [f"{u.path}:{u.line} {u.function}" for u in functions]))
    limits = [u for u in items if u.kind == LIMIT]
    if limits:
        lines.append(_line("search limits cut", [f"{u.context} ({u.reason})" for u in limits]))
    return lines


def _line(head: str, names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    more = f", ... and {len(names) - _SHOWN} more (see -f json)" if len(names) > _SHOWN else ""
    return f"could not analyse: {head}: {shown}{more}"


def in_lines(lost: Iterable[Unanalysed], lines: set[int]) -> list[Unanalysed]:
    """The lost functions whose lines hold one of `lines`."""
    return [u for u in lost if any(u.line <= line <= max(u.end_line, u.line) for line in lines)]


def of_touched(
    added: dict[str, set[int]],
    removed: dict[str, set[int]],
    rows_before,
    rows_after,
    file_problems: dict[str, str],
) -> list[Unanalysed]:
    """What a patch touches that could not be checked: files not analysed
    (`file_problems`: path -> why, before or after the patch), and lost
    functions holding its added lines (after the patch) or its removed lines
    (before it). `rows_before(path)`/`rows_after(path)` give fact rows."""
    lost_kind = [name for name, _ in FACT_KINDS].index("lost")
    found: list[Unanalysed] = []
    for path in sorted(set(added) | set(removed)):
        if path in file_problems:
            found.append(Unanalysed(FILE, path, reason=file_problems[path]))
            continue
        for lines, rows_of, when in ((added.get(path), rows_after, "after"), (removed.get(path), rows_before, "before")):
            rows = rows_of(path) if lines else None
            if rows:
                for lost in in_lines(of_lost(path, rows[lost_kind]), lines):
                    found.append(replace(lost, reason=f"{lost.reason} ({when} the patch)"))
    return list(dict.fromkeys(found))
