"""Whose teardown a put runs: the subsystem that owns the object it drops.

A put in a filesystem (`fs/ceph/caps.c`), or reached through one (a ceph path
into `d_delete`), tears down that filesystem's object: one teardown chain,
with the search preferring its ops targets (`search.teardown`).

A put in generic code reached from generic code (the shrinker's
`super_cache_scan` -> ... -> `dentry_unlink_inode`'s `iput`) tears down
whatever filesystem owns the object: it gets one teardown chain per owner
whose teardown reaches a wait, and so one finding per owner (each with its own
chain, fingerprint and fix). A chain that reaches the wait in generic code
alone is the same for every owner and is reported once. The owners are the
subsystems that define ops of the struct types the put rule names
(`owned_by`: the filesystems, by their `super_operations`) and a target of an
ops call the put's teardown makes from generic code.

The search has two parts, so that what every owner shares is searched once:
the generic part of the teardown (the calls from the put that are not ops
calls) is surveyed once per put, noting each ops call it makes; then, for an
owner, the teardown from each of that owner's targets of those calls (cached
per target, so `dput` and `iput` share their owners' eviction). Code outside
fs/ that defines the ops itself (mm/shmem.c for tmpfs) owns its objects: only
a generic chain counts for it.

A teardown that drops a reference to another filesystem's object (a put made
by a function a rule lists under `drops_lower`: a stacking filesystem's
`->destroy_inode` dropping its upper dentry) goes on into that filesystem's
teardown: when the owner's own teardown reaches no wait, the chain through
the lower one's is its teardown.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

from ..findings import Hop
from ..graph import MEMBER, Edge, subsystem_of
from ..ruleset import Context
from .reach import via_text
from .stats import ContextStats
from .teardown import TeardownResult, _masked_scopes


@dataclass
class _Survey:
    """The generic part of a put's teardown: each ops call it makes, with the
    chain to it and whether it is inside a masked-wait scope."""

    sites: list[tuple[int, Edge, tuple[Hop, ...], bool]] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    defined_here: bool = False


def teardowns(analysis, site, path: str, context: Context, stats: ContextStats) -> list[TeardownResult]:
    """The teardown of each owner of what the put at `site` drops: those that
    reach a wait (`hops`), or when none does, what was found (pinned waits)."""
    program = analysis.program
    owner = subsystem_of(path) or site.state.subsystem
    origin = program.func_file[site.function]
    put = site.edge.callee
    if owner:
        own = analysis.teardown.chain(put, owner, context, origin, stats)
        return [own if own.hops is not None else _stacked(analysis, put, owner, context, origin, stats, own)]
    generic = analysis.teardown.chain(put, "", context, origin, stats)
    if generic.hops is not None and not _entered(generic.hops):
        return [generic]
    survey = _survey(analysis, put, origin, context, stats)
    if survey.defined_here:
        # Code outside fs/ that defines its filesystem's ops itself (mm/shmem.c): the objects are
        # its own, and a chain through another filesystem's ops is not their teardown.
        return [TeardownResult(None, pinned=generic.pinned)]
    found, passed = [], []
    for candidate in survey.owners:
        result = _owned(analysis, survey, put, candidate, context, origin, stats)
        if result.hops is not None and candidate in _entered(result.hops):
            found.append(result)
        elif result.pinned:
            passed.append(result)
    return found or passed or [TeardownResult(None)]


def _entered(chain: tuple[Hop, ...]) -> set[str]:
    """The subsystems whose functions a chain runs (a hop's path is its caller's file)."""
    return {subsystem_of(hop.path) for hop in chain[1:]} - {""}


def _survey(analysis, put: str, origin: int, context: Context, stats: ContextStats) -> _Survey:
    """Breadth-first over the calls of the put's teardown that are not ops calls;
    once per (put, origin, context)."""
    cache = analysis.__dict__.setdefault("_owner_surveys", {})
    key = (put, origin, context.id)
    if key in cache:
        return cache[key]
    program = analysis.program
    edges = analysis.edges
    limit = analysis.rules.limits.teardown_depth
    cuts = {(c.caller, c.callee) for c in context.teardown_cuts if not c.subsystem}
    survey = _Survey()
    parent: dict[tuple[int, bool], tuple | None] = {}
    queue = deque()
    for start in sorted(program.resolve_name(put, origin)):
        parent[(start, False)] = None
        queue.append(((start, False), 0))
    fields: set[str] = set()
    while queue:
        state, depth = queue.popleft()
        function, masked = state
        calls = edges.of(function, "", stats)
        scopes = _masked_scopes(calls, context)
        name = program.func_name[function]
        sites = _member_sites(program, function)
        for position, member in sites.items():
            inside = masked or any(start < position[0] < end for start, end in scopes)
            survey.sites.append((function, member, _hops(program, parent, state, put), inside))
            fields.add(member.callee.replace(".", "->").split("->")[-1])
        if depth >= limit:
            continue
        for edge in calls:
            if edge.kind == MEMBER or edge.target < 0 or edge.callee in edges.opaque:
                continue
            if (name, edge.callee) in cuts or (name, edges.target_name(edge)) in cuts:
                continue
            inside = masked or any(start < edge.line < end for start, end in scopes)
            next_state = (edge.target, inside)
            if next_state not in parent:
                parent[next_state] = (state, edge)
                queue.append((next_state, depth + 1))
    survey.owners, survey.defined_here = _candidates(analysis, put, origin, fields)
    cache[key] = survey
    return survey


def _member_sites(program, function: int) -> dict[tuple[int, int], Edge]:
    """The ops calls of `function`, one edge (no target) per call site."""
    from ..facts import CALL_ROW, MEMBER as MEMBER_CALL

    found = {}
    for row in program.calls_of(function):
        if row[CALL_ROW.kind] == MEMBER_CALL:
            position = (row[CALL_ROW.line], row[CALL_ROW.col])
            found[position] = Edge(-1, row[CALL_ROW.callee], position[0], position[1], MEMBER, "", row[CALL_ROW.gfp])
    return found


def _candidates(analysis, put: str, origin: int, fields: set[str]) -> tuple[list[str], bool]:
    """The owners: subsystems defining ops of the put rule's `owned_by` types
    and a target of one of `fields`; and whether the put's own file defines one."""
    program = analysis.program
    ops = program.ops
    owned_by = {t for rule in analysis.rules.puts.values() if put in rule.functions for t in rule.owned_by}
    owning = {program.subsystem(entry[0]) for (struct, _f), entries in ops.ops_by_key.items() if struct in owned_by
              for entry in entries}
    entries = [entry for name in fields for entry in ops.ops_by_field.get(name, ())]
    found = sorted(({program.subsystem(entry[0]) for entry in entries} & owning) - {""})
    return found, any(entry[2] == origin for entry in entries)


def _owned(analysis, survey: _Survey, put: str, owner: str, context: Context, origin: int, stats) -> TeardownResult:
    """The teardown of `owner`'s object through the generic part's ops calls,
    else through the object of a lower filesystem it drops."""
    best = None
    if any(masked for *_rest, masked in survey.sites):
        best = analysis.teardown.chain(put, owner, context, origin, stats)  # a masked scope: search it whole
    else:
        best = _through_sites(analysis, survey, owner, context, stats)
    if best.hops is not None:
        return best
    return _stacked(analysis, put, owner, context, origin, stats, best)


def _through_sites(analysis, survey: _Survey, owner: str, context: Context, stats) -> TeardownResult:
    program = analysis.program
    edges = analysis.edges
    limit = analysis.rules.limits.teardown_depth + 2  # hops of a chain: the put, the calls, the wait
    cuts = {(c.caller, c.callee) for c in context.teardown_cuts if c.subsystem == owner}
    best, pinned = None, ()
    for function, site, prefix, _masked in survey.sites:
        if cuts and any((a.function, b.function) in cuts for a, b in zip(prefix, prefix[1:])):
            continue
        for edge in edges.of(function, owner, stats):
            if edge.kind != MEMBER or (edge.line, edge.col) != (site.line, site.col) or edge.target < 0:
                continue
            name = program.func_name[edge.target]
            tail = analysis.teardown.chain(name, owner, context, program.func_file[edge.target], stats)
            pinned = pinned or tail.pinned
            if tail.hops is None or len(prefix) + len(tail.hops) > limit:
                continue
            hops = (*prefix, Hop(name, program.path_of(function), edge.line, via_text(edge)), *tail.hops[1:])
            if best is None or len(hops) < len(best.hops):
                best = replace(tail, hops=hops)
    return best or TeardownResult(None, pinned=pinned)


def _stacked(analysis, put: str, owner: str, context: Context, origin: int, stats, own: TeardownResult) -> TeardownResult:
    """The teardown through the lower filesystem's object the owner's drops."""
    lower = _lower_puts(analysis, put, owner, origin, stats)
    if lower is None:
        return own
    head, inner, caller = lower
    best = None
    survey = _survey(analysis, inner, analysis.program.func_file[caller], context, stats)
    for candidate in survey.owners:
        if candidate == owner:
            continue
        tail = _through_sites(analysis, survey, candidate, context, stats)
        if tail.hops is not None and (best is None or len(tail.hops) < len(best.hops)):
            best = tail
    if best is None:
        return own
    return replace(best, hops=(*head, *best.hops[1:]))


def _lower_puts(analysis, put: str, owner: str, origin: int, stats):
    """The shortest chain from `put` (affinity `owner`) to a put that a
    `drops_lower` function of `owner` makes: (hops up to that put, its name,
    the function making it), or None; once per (put, owner, origin)."""
    cache = analysis.__dict__.setdefault("_lower_puts", {})
    key = (put, owner, origin)
    if key not in cache:
        cache[key] = _search_lower_puts(analysis, put, owner, origin, stats)
    return cache[key]


def _search_lower_puts(analysis, put: str, owner: str, origin: int, stats):
    rules = analysis.rules
    program = analysis.program
    lower = {d.function: d for rule in rules.puts.values() for d in rule.drops_lower}
    if not any(program.subsystem(f) == owner for name in lower for f in program.functions_named(name)):
        return None
    puts = {name for rule in rules.puts.values() for name in rule.functions}
    edges = analysis.edges
    parent: dict[int, tuple[int, object] | None] = {}
    queue = deque()
    for start in sorted(program.resolve_name(put, origin)):
        parent[start] = None
        queue.append((start, 0))
    while queue:
        function, depth = queue.popleft()
        name = program.func_name[function]
        for edge in edges.of(function, owner, stats):
            if name in lower and edge.callee in puts:
                hops = _chain(program, parent, function, put)
                why = lower[name].why
                hops.append(Hop(edge.callee, program.path_of(function), edge.line, f"drops a lower object: {why}"))
                return tuple(hops), edge.callee, function
            if edge.target < 0 or edge.target in parent or depth + 1 > rules.limits.teardown_depth:
                continue
            if edge.callee in edges.opaque:
                continue
            parent[edge.target] = (function, edge)
            queue.append((edge.target, depth + 1))
    return None


def _hops(program, parent, state, put: str) -> tuple[Hop, ...]:
    """The chain of survey states from the put to `state`."""
    hops = []
    current = state
    while (link := parent[current]) is not None:
        previous, edge = link
        hops.append(Hop(program.func_name[current[0]], program.path_of(previous[0]), edge.line, via_text(edge)))
        current = previous
    hops.append(Hop(put, program.path_of(current[0]), program.func_line[current[0]], "put"))
    return tuple(reversed(hops))


def _chain(program, parent, function: int, put: str) -> list[Hop]:
    hops = []
    current = function
    while (link := parent[current]) is not None:
        previous, edge = link
        hops.append(Hop(program.func_name[current], program.path_of(previous), edge.line, via_text(edge)))
        current = previous
    hops.append(Hop(put, program.path_of(current), program.func_line[current], "put"))
    return list(reversed(hops))
