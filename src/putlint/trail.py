"""An object traced up a reach chain: how each function on it names the object
a put drops, as long as it came down as a parameter.

Level 0 is the put's function and its put call; each caller up the chain is a
level with the call it makes toward the put and the object as it names it
there (`&ci->netfs.inode` in the callee, `&ceph_inode(inode)->netfs.inode`
in a caller that passes `ceph_inode(inode)` for `ci`). A callback's level is
the function it was passed to (`ceph_iterate_session_caps`), at its calls of
the function-pointer parameter; the trail stops there. It also stops where
the object is not a parameter (a local found or allocated in that function).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .graph import CALLBACK, Program
from .search.reach import PutSite, ReachTree
from .search.sources import SourceReader
from .sitefacts import CallSite, FunctionBody

_ROOT = re.compile(r"^[&*(\s]*([A-Za-z_]\w*)")


@dataclass(frozen=True, slots=True)
class Level:
    function: int
    body: FunctionBody
    call: CallSite  # the put (level 0), or the call this function makes toward it
    text: str  # the object, as this function names it
    runner: bool = False  # the function a callback was passed to, at its call of it


def root(text: str) -> str:
    """The first name of an expression: `ci` of `&ci->netfs.inode`."""
    found = _ROOT.match(text)
    return found.group(1) if found else ""


def substitute(text: str, name: str, value: str) -> str:
    """`text` with its root `name` replaced by `value` (parenthesized unless a plain name)."""
    if text == name:
        return value
    plain = value if re.fullmatch(r"[\w.>-]+|\w+\(.*\)", value) else f"({value})"
    return re.sub(rf"(?<![\w>.]){re.escape(name)}\b", lambda m: plain, text, count=1)


def parameter_of(body: FunctionBody, text: str) -> tuple[int, str] | None:
    """(parameter index, the text spelled out) when `text` comes from a parameter."""
    spelled = body.spelled_out(text)
    for candidate in (text, spelled):
        name = root(candidate)
        if name in body.parameters and name not in body.reassigned:
            return body.parameters.index(name), candidate
    for index, parameter in enumerate(body.parameters):
        if parameter and parameter not in body.reassigned and body.related(text, parameter):
            return index, parameter
    return None


def levels(program: Program, sources: SourceReader, tree: ReachTree, site: PutSite, text: str) -> list[Level]:
    body = sources.body(site.function)
    call = body.call_at(site.edge.line, site.edge.col) if body is not None else None
    if call is None or not text:
        return []
    found = [Level(site.function, body, call, text)]
    for state, edge in tree.callers(site):
        parameter = parameter_of(body, text)
        if parameter is None:
            break
        index, spelled = parameter
        if edge.kind == CALLBACK:
            found.extend(_runners(program, sources, state.function, edge.via, index))
            break
        caller = sources.body(state.function)
        outer = caller.call_at(edge.line, edge.col) if caller is not None else None
        if outer is None or index >= len(outer.argument_texts):
            break
        text = substitute(spelled, body.parameters[index], outer.argument_texts[index])
        body = caller
        found.append(Level(state.function, caller, outer, text))
    return found


def _runners(program: Program, sources: SourceReader, caller: int, api: str, index: int) -> list[Level]:
    """The levels of the functions `api` names (the callback's runner), at each
    call of a function-pointer parameter of theirs."""
    found = []
    for runner in program.resolve_name(api, program.func_file[caller]):
        body = sources.body(runner)
        if body is None:
            continue
        for call in body.calls:
            if call.callee in body.parameters and index < len(call.argument_texts):
                found.append(Level(runner, body, call, call.argument_texts[index], runner=True))
    return found
