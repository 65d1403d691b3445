"""Reference brackets: whether a function holds a reference to an object
across one of its calls, on every path (DESIGN.md, "Finality").

A bracket is a take before the call (`ihold(inode)`, `x = igrab(inode)`) and
a drop of the same object after it (`iput(x)`). It encloses the call only
when it is shown from the function's structure (`sitefacts.Flow`):

- the take runs before the call on every path to it: it is in no region
  (branch, loop, switch case, `?:` arm) the call is not in, and no label
  between them lets a jump skip it;
- the drop runs after the call on every path from it: it is in no region the
  call is not in, and no `return`, backward `goto`, or `break`/`continue`
  leaving a region around the call lies between them;
- nothing between them takes or drops that object again, nor assigns the
  name that holds it.

Anything else is not shown: the result says what failed, and the put stays
reported. A take with no drop after the call is `balanced`: the put below is
its drop, and it proves nothing about finality. A drop after the call on
every path with no take in view encloses it too: the function drops a
reference it owns (its caller took it), so it holds one across the call.
"""

from __future__ import annotations

from dataclasses import dataclass

from .sitefacts import _VARIABLE, CallSite, FunctionBody, Region

ENCLOSES = "encloses"
UNPROVEN = "unproven"
BALANCED = "balanced"
_RANK = {ENCLOSES: 0, UNPROVEN: 1, BALANCED: 2}

_REGION_TEXT = {
    "then": "the then-branch of the if at line {}",
    "else": "the else-branch of the if at line {}",
    "loop": "the loop at line {}",
    "case": "the switch case at line {}",
    "branch": "a conditional expression at line {}",
}


@dataclass(frozen=True, slots=True)
class Bracket:
    kind: str  # ENCLOSES, UNPROVEN or BALANCED
    take: CallSite | None  # None: a reference the function owns from its caller
    drop: CallSite | None = None
    why: str = ""  # UNPROVEN: what could not be shown


def held_by(take: CallSite) -> str:
    """What a take holds: the name its result is stored in, else its first argument."""
    return take.result or (take.argument_texts[0] if take.argument_texts else "")


def same_object(body: FunctionBody, one: str, other: str, accessors: frozenset[str] = frozenset()) -> bool:
    """Whether two expressions of `body` name the same object: equal, equal
    once its locals assigned once are spelled out, or one an accessor of the
    other (`ceph_inode(inode)`). A name merely assigned from an expression
    that mentions the other (`last = inode`, `p = x->parent`) is not the same:
    it may hold another object by then."""
    if not one or not other:
        return False
    if one == other or _spelled(body, one) == _spelled(body, other):
        return True
    return any(text == f"{name}({base})" for name in accessors for text, base in ((one, other), (other, one)))


def _spelled(body: FunctionBody, text: str) -> str:
    """`text` with the locals assigned exactly once (parameters are not: they
    hold their caller's value before any assignment) replaced by their value."""
    single: dict[str, str] = {}
    for local, value in body.assignments:
        single[local] = value if local not in single else ""
    for parameter in body.parameters:
        single.pop(parameter, None)
    # A value naming something assigned again may no longer say what it held then.
    moving = set(body.reassigned) | {local for local, value in single.items() if not value}
    single = {local: value for local, value in single.items() if value and not moving & set(_VARIABLE.findall(value))}
    for _ in range(2):
        text = _VARIABLE.sub(lambda m: single.get(m.group(0)) or m.group(0), text)
    return text


def copies(body: FunctionBody, name: str) -> set[str]:
    """`name` and the locals assigned a copy of it (`prev = dn`), transitively."""
    found = {name}
    changed = True
    while changed:
        changed = False
        for local, value in body.assignments:
            if value in found and local not in found:
                found.add(local)
                changed = True
    return found


def _region_text(region: Region) -> str:
    return _REGION_TEXT[region.kind].format(region.line)


def _outside(body: FunctionBody, index: int, around: int) -> Region | None:
    """A region around call `index` that is not around call `around`."""
    mine = body.flow.regions[index]
    theirs = {region.start for region in body.flow.regions[around]}
    return next((region for region in mine if region.start not in theirs), None)


def not_before(body: FunctionBody, take: int, call: int) -> str:
    """"" when call `take` runs before call `call` on every path to it, else why not."""
    flow = body.flow
    first, then = flow.starts[take], flow.starts[call]
    if first >= then:
        return f"the take at line {body.calls[take].line} is not before the call"
    region = _outside(body, take, call)
    if region is not None:
        return f"the take at line {body.calls[take].line} runs only in {_region_text(region)}"
    for start, line in flow.labels:
        if first < start < then and any(e.kind == "goto" and e.target == start and e.start < first for e in flow.exits):
            return f"a goto to the label at line {line} skips the take at line {body.calls[take].line}"
    return ""


def not_after(body: FunctionBody, drop: int, call: int) -> str:
    """"" when every path from call `call` reaches call `drop`, else why not.

    The path is followed forward from the call: an exit with no region around
    it that the path is not in is taken (a goto forward to a label before the
    drop moves the path there, a break or continue to the end of its loop or
    switch; a return leaves); every other exit passed on the way must not
    lead past the drop."""
    flow = body.flow
    end = flow.starts[drop]
    line = body.calls[drop].line
    position, around = flow.starts[call], {r.start for r in flow.regions[call]}
    if end <= position:
        return f"the drop at line {line} is not after the call"
    labels = dict(zip((start for start, _ in flow.labels), flow.label_regions))
    for _ in range(len(flow.exits) + 1):
        taken = next((e for e in flow.exits if position < e.start < end and {r.start for r in e.regions} <= around), None)
        limit = taken.start if taken is not None else end
        for exit in flow.exits:
            why = _escape(exit, end, line) if position < exit.start < limit else ""
            if why:
                return why
        if taken is None:
            break
        why = _escape(taken, end, line)
        if why or taken.kind == "return":
            return why
        if taken.kind == "goto":
            position, around = taken.target, {r.start for r in labels.get(taken.target, ())}
        else:
            position, around = taken.target_end, {r for r in around if r < taken.target}
    else:
        return f"the jumps before the drop at line {line} go round in circles"
    region = next((r for r in flow.regions[drop] if r.start not in around), None)
    if region is not None:
        return f"the drop at line {line} runs only in {_region_text(region)}"
    return ""


def _escape(exit, end: int, line: int) -> str:
    """Why an exit before the drop can lead past it ("" when it cannot)."""
    if exit.kind == "return":
        return f"the return at line {exit.line} leaves before the drop at line {line}"
    if exit.kind == "goto":
        if exit.target < 0 or exit.target > end or exit.target < exit.start:
            return f"the goto at line {exit.line} jumps past the drop at line {line}"
        return ""
    if exit.target < 0 or exit.target <= end < exit.target_end:
        return f"the {exit.kind} at line {exit.line} skips the drop at line {line}"
    return ""


def _between(body: FunctionBody, held: str, low: int, high: int, skip: int, names: frozenset[str], accessors) -> str:
    """Why the object is not simply held from call `low` to call `high`: another
    call of `names` on it, or an assignment to the name that holds it."""
    flow = body.flow
    for index in range(len(body.calls)):
        if index in (low, high, skip) or not flow.starts[low] < flow.starts[index] < flow.starts[high]:
            continue
        call = body.calls[index]
        if call.callee in names and any(same_object(body, held, a, accessors) for a in call.argument_texts[:1]):
            return f"{call.callee}() at line {call.line} takes or drops it again in between"
        if call.callee in names and call.result and same_object(body, held, call.result, accessors):
            return f"{call.callee}() at line {call.line} takes it again in between"
    for name, offset, line in flow.writes:
        if name == held and flow.starts[low] < offset < flow.starts[high]:
            return f"{held} is assigned at line {line} in between"
    return _rewritten_in_loop(body, skip, high, (held, *body.calls[high].argument_texts[:1]))


def _rewritten_in_loop(body: FunctionBody, call: int, drop: int, names) -> str:
    """A loop around the call but not around the drop that assigns one of
    `names`: a later round names another object by the time of the drop."""
    flow = body.flow
    inside = {r.start for r in flow.regions[drop]}
    for region in flow.regions[call]:
        if region.kind != "loop" or region.start in inside:
            continue
        for name, offset, line in flow.writes:
            if name in names and region.start <= offset < region.end:
                return f"{name} is assigned at line {line} in the loop at line {region.line} around the call"
    return ""


def find(
    body: FunctionBody,
    middle: CallSite,
    obj: str,
    takes: frozenset[str],
    drops: frozenset[str],
    accessors: frozenset[str] = frozenset(),
    own: bool = False,
) -> Bracket | None:
    """The best bracket of `obj` around `middle` in `body` (enclosing, then
    unproven, then balanced), None when none is in view. `own` says `middle`
    is the put itself: a take with no drop after it is then balanced by it;
    around a call toward the put, such a take is only unproven."""
    if not body.flow.starts or not obj:
        return None
    call = body.index_of(middle)
    start = body.flow.starts[call]
    names = takes | drops
    best: Bracket | None = None
    for index in range(len(body.calls) - 1, -1, -1):
        take = body.calls[index]
        held = held_by(take)
        if take.callee not in takes or body.flow.starts[index] >= start or not same_object(body, held, obj, accessors):
            continue
        if any(name == held and body.flow.starts[index] < offset < start for name, offset, _ in body.flow.writes):
            continue  # the name holds another object by the call
        if _dropped_between(body, index, call, held, drops):
            continue  # its reference is dropped before the call: the pair says nothing about it
        found = _bracket(body, index, call, held, drops, names, accessors, own)
        if best is None or _RANK[found.kind] < _RANK[best.kind]:
            best = found
        if best.kind == ENCLOSES:
            return best
    return _owned(body, call, obj, drops, names, accessors) or best


def _owned(body: FunctionBody, call: int, obj: str, drops, names, accessors) -> Bracket | None:
    """A drop of `obj` after the call on every path, with no take of it in
    between: the function holds a reference it owns (taken by a caller up the
    chain, or passed to it to consume, as `d_splice_alias` consumes its inode's)
    across the call. Without it the code would drop a reference it does not hold."""
    flow = body.flow
    for index, drop in enumerate(body.calls):
        if index == call or drop.callee not in drops or flow.starts[index] <= flow.starts[call]:
            continue
        if not drop.argument_texts or not same_object(body, obj, drop.argument_texts[0], accessors):
            continue
        if any(name == obj and flow.starts[call] < offset < flow.starts[index] for name, offset, _ in flow.writes):
            return None
        if not_after(body, index, call) or _between(body, obj, call, index, call, names - drops, accessors):
            return None
        return Bracket(ENCLOSES, None, drop)
    return None


def _dropped_between(body: FunctionBody, take: int, call: int, held: str, drops) -> bool:
    """Whether the very name the take holds is dropped before the call (an
    alias such as `last = inode` may hold an earlier object: not counted)."""
    flow = body.flow
    spelled = _spelled(body, held)
    return any(
        flow.starts[take] < flow.starts[index] < flow.starts[call]
        and drop.callee in drops
        and drop.argument_texts
        and _spelled(body, drop.argument_texts[0]) == spelled
        for index, drop in enumerate(body.calls)
    )


def _bracket(body: FunctionBody, take: int, call: int, held: str, drops, names, accessors, own: bool) -> Bracket:
    flow = body.flow
    later = [
        index
        for index, drop in enumerate(body.calls)
        if index != call
        and drop.callee in drops
        and flow.starts[index] > flow.starts[call]
        and drop.argument_texts
        and same_object(body, held, drop.argument_texts[0], accessors)
    ]
    # A drop after the held name is assigned again drops another object.
    rewritten = min((o for name, o, _ in flow.writes if name == held and o > flow.starts[call]), default=None)
    if rewritten is not None:
        later = [index for index in later if flow.starts[index] < rewritten]
    if not later:
        if own:
            return Bracket(BALANCED, body.calls[take])
        return Bracket(UNPROVEN, body.calls[take], None, f"no drop of {held} after the call is in view")
    drop = later[0]
    why = (
        not_before(body, take, call)
        or not_after(body, drop, call)
        or _between(body, held, take, drop, call, names, accessors)
    )
    return Bracket(UNPROVEN if why else ENCLOSES, body.calls[take], body.calls[drop], why)
