"""The finality of a reported put (`evidence.Finality`): what in the code says
it is the last by design, the last if other holders leave, or nothing.

- last by design: the put is made where a rule says it drops the reference
  whose release is the object's end (`last_by_design`), or a call before it
  on the object (after the take, when one is in view) drops the object's
  other references, itself or within two calls below (`drops_others`);
- last if others leave: a take in view whose drop is this put, or a bracket
  around it that could not be shown to hold on every path (`brackets`); an
  origin whose holder nothing is shown to hold (`nonfinal_if_from`); or a
  context rule (`last_if_others_leave`);
- unknown: otherwise, with how the context pins the object (`pins`).
"""

from __future__ import annotations

from . import brackets
from .evidence import BY_DESIGN, OTHERS_LEAVE, UNKNOWN, Evidence, Finality
from .graph import MEMBER
from .search.stats import ContextStats

_BELOW = 2  # how many calls below a call on the object a `drops_others` call may be


def finality_of(at) -> Finality:
    others = _others_leave(at)
    design = _by_design(at)
    if design:
        return Finality(BY_DESIGN, design + others)
    if others:
        return Finality(OTHERS_LEAVE, others + _pin_notes(at, at.put.id))
    return Finality(UNKNOWN, _pin_notes(at, at.put.id))


def _split(where: str) -> tuple[str, int]:
    path, _, line = where.rpartition(":")
    return path, int(line or 0)


def _by_design(at) -> tuple[Evidence, ...]:
    program = at.judge.program
    function = program.func_name[at.site.function]
    link = next(at.tree.callers(at.site), None)
    for rule in at.put.last_by_design:
        if function == rule.function or (
            link is not None
            and link[1].kind == MEMBER
            and program.func_name[link[0].function] == rule.function
            and any(link[1].via.endswith(f"{ops.split('.')[0]})->{ops.split('.')[1]}") for ops in rule.ops)
        ):
            return (Evidence(at.path, at.site.edge.line, f"{at.site.edge.callee}() in {function}: {rule.why}"),
                    Evidence(*_split(rule.where), f"last_by_design: {rule.function}"))
    if not at.put.drops_others:
        return ()
    droppers = {d.function: d for d in at.put.drops_others}
    accessors = frozenset(at.put.accessors)
    for level in at.levels(at.argument.argument):
        found = _dropper_before(at, level, droppers, accessors)
        if found:
            return found
    return ()


def _dropper_before(at, level, droppers, accessors) -> tuple[Evidence, ...]:
    """A call before `level.call` (after the object's nearest take) that passes
    the object and drops its other references, itself or below."""
    body = level.body
    program = at.judge.program
    path = program.path_of(level.function)
    position = (level.call.line, level.call.col)
    takes = set(at.put.takes)
    since = (0, 0)
    for call in body.calls:
        where = (call.line, call.col)
        if where >= position:
            break
        if call.callee in takes and brackets.same_object(body, brackets.held_by(call), level.text, accessors):
            since = where
    for call in body.calls:
        where = (call.line, call.col)
        if where >= position or where <= since:
            continue
        if not any(brackets.same_object(body, level.text, text, accessors) for text in call.argument_texts):
            continue
        rule = droppers.get(call.callee)
        if rule is not None:
            return (Evidence(path, call.line, f"{call.callee}() drops the other references: {rule.why}"),)
        below = _reaches(at, level.function, where, droppers)
        if below is not None:
            name, rule = below
            return (Evidence(path, call.line, f"{call.callee}() reaches {name}(), which drops the other references: {rule.why}"),)
    return ()


def _reaches(at, function: int, position: tuple[int, int], droppers) -> tuple[str, object] | None:
    edges = at.judge.edges
    if edges is None:
        return None
    stats = at.stats if at.stats is not None else ContextStats()
    subsystem = at.site.state.subsystem
    frontier = [e.target for e in edges.of(function, subsystem, stats) if (e.line, e.col) == position and e.target >= 0]
    seen = set(frontier)
    for _ in range(_BELOW):
        following = []
        for current in frontier:
            for edge in edges.of(current, subsystem, stats):
                rule = droppers.get(edge.callee) or droppers.get(edges.target_name(edge))
                if rule is not None:
                    return edge.callee, rule
                if edge.target >= 0 and edge.target not in seen:
                    seen.add(edge.target)
                    following.append(edge.target)
        frontier = following
    return None


def _others_leave(at) -> tuple[Evidence, ...]:
    found: list[Evidence] = []
    holders = at.put.holders or f"the {at.put.object}'s other holders"
    takes = (*at.put.takes, *(t for b in at.put.held_across_by for t in b.take))
    drops = (*at.put.functions, *(d for b in at.put.held_across_by for d in b.drop))
    for level, bracket in at.brackets(at.argument.argument, takes, drops, frozenset(at.put.accessors)):
        path = at.where(level)
        take = bracket.take
        if bracket.kind == brackets.BALANCED:
            found.append(Evidence(path, take.line, f"{take.callee}() takes the reference this put drops;"
                                                   f" it is the last when {holders} leave in between"))
        elif bracket.kind == brackets.UNPROVEN:
            found.append(Evidence(path, take.line, f"{take.callee}() takes a reference that may be held across the"
                                                   f" put, but {bracket.why}"))
    for rule in at.put.nonfinal_if_from:
        origin = at.judge.origin_call(at, rule.function)
        if origin is None or not origin.argument_texts:
            continue
        holder_text = origin.argument_texts[0]
        found.append(Evidence(at.path, origin.line, f"{rule.function}({holder_text}) found it, and nothing"
                                                    f" is shown to hold {holder_text} across the put"))
        holder = at.judge.rules.puts.get(rule.holder or at.put.id, at.put)
        takes = (*holder.takes, *(t for b in holder.held_across_by for t in b.take))
        drops = (*holder.functions, *(d for b in holder.held_across_by for d in b.drop))
        for level, bracket in at.brackets(holder_text, takes, drops, frozenset(holder.accessors)):
            if bracket.kind == brackets.UNPROVEN:
                found.append(Evidence(at.where(level), bracket.take.line,
                                      f"{bracket.take.callee}() takes a reference on it, but {bracket.why}"))
        found.extend(_pin_notes(at, rule.holder or at.put.id))
    from .finality import matches  # the same matchers as distinct_objects

    for item in at.context.last_if_others_leave:
        if matches(at, item):
            found.append(Evidence(*_split(item.where), f"{item.text}: last when {item.holders} leave: {item.why}"))
    return tuple(dict.fromkeys(found))


def _pin_notes(at, object_kind: str) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(*_split(pin.where), f"{at.context.id} pins the {pin.object} by {pin.by}, with no reference")
        for pin in at.context.pins
        if pin.object == object_kind and not pin.reference
    )


__all__ = ["finality_of", "BY_DESIGN", "OTHERS_LEAVE", "UNKNOWN"]
