"""Functions the parse lost: a `{` in column 0 after a head ending in `)` that
opens no function definition the parse found (kernel style puts a function's
opening brace there). A braceless macro loop can swallow the functions after
it, braces split across `#ifdef` can hide one, a macro can generate one; the
calls in them are not in the index, so the run must say so (`facts.LostFunction`)."""

from __future__ import annotations

import re

from .. import facts

_OPEN_BRACE_LINE = re.compile(rb"^\{", re.M)
_CLOSE_BRACE_LINE = re.compile(rb"^\}", re.M)
_HEAD_STOP = re.compile(rb"[;}]\s*$|^\s*$|^#")
_HEAD_NAME = re.compile(rb"([A-Za-z_]\w*)\s*\(")
# Attribute macros that take arguments and come before a function's name.
_HEAD_ATTRIBUTES = frozenset(
    {b"__printf", b"__scanf", b"__attribute__", b"__aligned", b"__section", b"__diag_ignore", b"__alloc_size",
     b"__malloc", b"__must_hold", b"__acquires", b"__releases", b"__cond_acquires", b"EXPORT_SYMBOL"}
)
_lost_row = facts.row_maker(facts.LostFunction)


def lost_functions(source: bytes, bodies: set[int]) -> list[tuple]:
    """`lost` rows of one file; `bodies` are the start bytes of the bodies found."""
    rows = []
    line, counted = 1, 0
    for match in _OPEN_BRACE_LINE.finditer(source):
        start = match.start()
        if start in bodies:
            continue
        line += source.count(b"\n", counted, start)
        counted = start
        head = _head_before(source, start)
        if not head.rstrip().endswith(b")"):
            continue  # a struct, an initializer, a block of odd style
        names = [n for n in _HEAD_NAME.findall(head) if n not in _HEAD_ATTRIBUTES]
        close = _CLOSE_BRACE_LINE.search(source, start)
        end = line + source.count(b"\n", start, close.start()) if close else line
        rows.append(_lost_row(name=names[0].decode("utf-8", "replace") if names else "", line=line, end_line=end))
    return rows


def _head_before(source: bytes, start: int) -> bytes:
    """The lines before `start` back to a statement end, a blank line or a directive."""
    lines = source[max(0, start - 2000) : start].split(b"\n")[:-1]
    head: list[bytes] = []
    for text in reversed(lines[-8:]):
        if _HEAD_STOP.search(text):
            break
        head.append(text)
    return b"\n".join(reversed(head))
