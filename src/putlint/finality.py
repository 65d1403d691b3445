"""The put-site judgement: whether a put a context reaches may drop the last
reference to an object the context waits on.

Each rule key that can rule a put out is one row of `FILTERS`, tried in order;
the first that holds rules the put out and counts it under its stat. A put
whose argument cannot be read is judged by the rows that need none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from . import conditions
from .facts import PutArgument
from .graph import CALLBACK, Program, subsystem_of
from .ruleset import Context, Put, rule_keys
from .search.reach import PutSite, ReachTree
from .search.sources import SourceReader
from .search.stats import ContextStats
from .sitefacts import CallSite, FunctionBody


class _Site:
    """One put site as the filters see it; what they read is read once, when first needed."""

    def __init__(self, judge: PutJudge, context: Context, put_rule: Put, site: PutSite, path: str, tree: ReachTree):
        self.judge = judge
        self.context = context
        self.put = put_rule
        self.site = site
        self.path = path
        self.tree = tree

    @cached_property
    def argument(self) -> PutArgument | None:
        return self.judge.sources.put_argument(self.path, self.site.position)

    @cached_property
    def passed(self) -> list[str]:
        return self.judge.passed_down(self.tree, self.site, self.argument.argument)

    @cached_property
    def body(self) -> FunctionBody | None:
        return self.judge.sources.body(self.site.function)

    @cached_property
    def call(self) -> CallSite | None:
        body = self.body
        return body.call_at(self.site.edge.line, self.site.edge.col) if body is not None else None


@dataclass(frozen=True)
class Filter:
    """What a rule key (of a `Put`, or of the `Context`) rules out: a filter
    that `needs_argument` applies only when the put's argument is read. The
    stat that counts it is the key's own (`ruleset.rule_key`)."""

    key: str
    on: type  # Put or Context
    needs_argument: bool
    holds: Callable[[_Site], bool]

    @property
    def stat(self) -> str:
        return next(f.metadata["stat"] for f in rule_keys(self.on) if f.name == self.key)

    def applies(self, put_rule: Put, context: Context) -> bool:
        return bool(getattr(put_rule if self.on is Put else context, self.key))


def _taken_before(at: _Site) -> bool:
    takers = at.put.nonfinal_if_preceded_by
    return at.judge.taken_before(at.site, takers) or at.judge.held_by_a_caller(at.tree, at.site, takers, at.put.functions)


def _held_across(at: _Site) -> bool:
    return any(at.judge.held_by_a_caller(at.tree, at.site, b.take, b.drop) for b in at.put.held_across_by)


def _from_held_origin(at: _Site) -> bool:
    origin = at.argument.origin
    return bool(origin) and origin in {r.function for r in at.put.nonfinal_if_from}


def _held_argument(at: _Site) -> bool:
    return any(re.fullmatch(r.argument, text) for r in at.put.nonfinal_if_argument for text in at.passed)


def _harmless(at: _Site) -> bool:
    return at.call is not None and bool(
        conditions.known_at(
            at.call,
            at.body,
            at.put.harmless_when,
            at.argument.argument,
            frozenset(at.put.harmless_unless_after),
            frozenset(at.put.harmless_unless_null_from),
        )
    )


def _distinct(at: _Site) -> bool:
    function = at.judge.program.func_name[at.site.function]
    subsystem = subsystem_of(at.path)
    for distinct in at.context.distinct_objects:
        if subsystem in distinct.except_subsystems:
            continue
        if (
            (not distinct.origin or re.fullmatch(distinct.origin, at.argument.origin))
            and (not distinct.argument or any(re.fullmatch(distinct.argument, text) for text in at.passed))
            and (not distinct.function or distinct.function == function)
            and (
                not distinct.condition
                or (at.call is not None and conditions.known_at(at.call, at.body, (distinct,), at.argument.argument, frozenset()))
            )
        ):
            return True
    return False


FILTERS: tuple[Filter, ...] = (
    Filter("nonfinal_if_preceded_by", Put, False, _taken_before),
    Filter("held_across_by", Put, False, _held_across),
    Filter("nonfinal_if_from", Put, True, _from_held_origin),
    Filter("nonfinal_if_argument", Put, True, _held_argument),
    Filter("harmless_when", Put, True, _harmless),
    Filter("distinct_objects", Context, True, _distinct),
)
_STATS = {row.key: row.stat for row in FILTERS}


class PutJudge:
    """Judges put sites from a reach tree, reading the source through `sources`."""

    def __init__(self, program: Program, sources: SourceReader):
        self.program = program
        self.sources = sources

    def may_wait(self, context: Context, put_rule: Put, site: PutSite, path: str, tree: ReachTree, stats: ContextStats) -> bool:
        """Whether the put at `site` may drop the last reference to an object
        the context waits on; counts why not in `stats`."""
        at = _Site(self, context, put_rule, site, path, tree)
        for row in FILTERS:
            if not row.applies(put_rule, context):
                continue
            if row.needs_argument and at.argument is None:
                return True
            if row.holds(at):
                stat = _STATS[row.key]
                setattr(stats, stat, getattr(stats, stat) + 1)
                return False
        return True

    def passed_down(self, tree: ReachTree, site: PutSite, argument: str) -> list[str]:
        """The put's argument, and what each caller up the chain passed for it
        while it is (or is made from) a parameter; each also spelled out
        through the function's single assignments (`dinode` ->
        `d_inode(req->r_dentry)`)."""
        texts = [argument]
        current = argument
        function = site.function
        callers = tree.callers(site)
        while True:
            body = self.sources.body(function)
            if body is None:
                break
            spelled = body.spelled_out(current)
            if spelled != current:
                texts.append(spelled)
            index = next((i for i, p in enumerate(body.parameters) if p and body.related(current, p)), None)
            link = next(callers, None) if index is not None else None
            if link is None:
                break
            state, edge = link
            function = state.function
            caller = self.sources.body(function)
            call = caller.call_at(edge.line, edge.col) if caller is not None and edge.kind != CALLBACK else None
            if call is None or index >= len(call.argument_texts):
                break
            current = call.argument_texts[index]
            texts.append(current)
        return texts

    def held_by_a_caller(self, tree: ReachTree, site: PutSite, takers: tuple[str, ...], puts: tuple[str, ...]) -> bool:
        """A function on the reach chain takes a reference on an object before
        the call that leads to the put, passes it to that call, and drops it
        after (`ihold(inode); f(inode); iput(inode);`): the put below is not
        the last. For a callback, the function it was passed to counts as that
        caller when it does the same around a call (`inode = igrab(...)` ...
        `cb(inode, arg)` ... `iput(inode)`). Without sources, any take before
        and put after the call counts."""
        if not takers:
            return False
        program = self.program
        for state, edge in tree.callers(site):
            if self._brackets(state.function, (edge.line, edge.col), takers, puts):
                return True
            if edge.kind == CALLBACK and any(
                self._brackets(runner, None, takers, puts)
                for runner in program.resolve_name(edge.via, program.func_file[state.function])
            ):
                return True
        return False

    def _brackets(self, function: int, position, takers, puts) -> bool:
        """Whether `function` holds a reference across the call at `position`
        (any call, when None)."""
        self.sources.noted(function)
        rows = self.program.calls_of(function)
        taken = [(r[2], r[3]) for r in rows if r[1] in takers and (position is None or (r[2], r[3]) < position)]
        after = position or min(taken, default=None)
        if not taken or not any(r[1] in puts and (r[2], r[3]) > after for r in rows):
            return False  # from the index alone: no need to read the body
        body = self.sources.body(function)
        if body is None:
            return True
        for take in body.calls:
            if take.callee not in takers:
                continue
            held = take.result or (take.argument_texts[0] if take.argument_texts else "")
            start = (take.line, take.col)
            if not held or (position is not None and start >= position):
                continue
            for call in body.calls:
                middle = (call.line, call.col)
                if middle <= start or (position is not None and middle != position):
                    continue
                if call.callee in takers or call.callee in puts:
                    continue
                if not any(body.related(held, passed) for passed in call.argument_texts):
                    continue
                if any(
                    drop.callee in puts
                    and (drop.line, drop.col) > middle
                    and drop.argument_texts
                    and body.related(held, drop.argument_texts[0])
                    for drop in body.calls
                ):
                    return True
        return False

    def taken_before(self, site: PutSite, takers: tuple[str, ...]) -> bool:
        if not takers:
            return False
        position = site.position
        return any(row[1] in takers and (row[2], row[3]) < position for row in self.program.calls_of(site.function))
