"""The put-site judgement: whether a put a context reaches may drop the last
reference to an object the context waits on, and if it may, what says how
likely that is (`evidence.Finality`, see `finalkinds`).

A put is ruled out only for a reason that holds on every path and can be
shown (DESIGN.md, "Finality"): a reference to the same object held across it
(`takes`, `held_across_by`: a bracket found by `brackets`), an object it hangs
on held across it (`nonfinal_if_from`), a structural holder a rule cites
(`nonfinal_if_argument`), a condition known at the put that makes its
teardown empty (`harmless_when`), or another object than the context waits
on (`distinct_objects`). Each such rule key is one row of `FILTERS`, tried in
order; the first that holds rules the put out, with its evidence, and counts
it under the key's stat. A put whose argument cannot be read is reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

from . import brackets, conditions, trail
from .evidence import Evidence, Finality
from .facts import PutArgument
from .graph import CALLBACK, Program, subsystem_of
from .ruleset import Context, Put, RuleSet, rule_keys
from .search.reach import PutSite, ReachTree
from .search.sources import SourceReader
from .search.stats import ContextStats
from .sitefacts import CallSite, FunctionBody


class _Site:
    """One put site as the filters see it; what they read is read once, when first needed."""

    def __init__(self, judge: PutJudge, context: Context, put_rule: Put, site: PutSite, path: str, tree: ReachTree,
                 stats: ContextStats | None = None):
        self.judge = judge
        self.stats = stats
        self.context = context
        self.put = put_rule
        self.site = site
        self.path = path
        self.tree = tree
        self._brackets: dict[tuple, list] = {}

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

    def levels(self, text: str) -> list[trail.Level]:
        judge = self.judge
        return trail.levels(judge.program, judge.sources, self.tree, self.site, text)

    def brackets(self, text: str, takes, drops, accessors) -> list[tuple[trail.Level, brackets.Bracket]]:
        """The brackets of the object `text` (as the put's function names it)
        around the put or the call toward it, at each level of its trail."""
        key = (text, tuple(takes), tuple(drops))
        if key not in self._brackets:
            found = []
            for level in self.levels(text):
                if not self.judge.may_bracket(level.function, takes, drops, level.call):
                    continue
                bracket = brackets.find(
                    level.body, level.call, level.text, frozenset(takes), frozenset(drops), accessors, level.call is self.call
                )
                if bracket is not None:
                    found.append((level, bracket))
            self._brackets[key] = found
        return self._brackets[key]

    def where(self, level: trail.Level) -> str:
        return self.judge.program.path_of(level.function)


def bracket_evidence(at: _Site, level: trail.Level, bracket: brackets.Bracket) -> tuple[Evidence, ...]:
    path = at.where(level)
    name = at.judge.program.func_name[level.function]
    if bracket.take is None:
        drop = bracket.drop
        return (Evidence(path, drop.line, f"{drop.callee}({drop.argument_texts[0]}) in {name} drops a reference it owns"
                                          " after the call on every path, so it holds one across it"),)
    held = brackets.held_by(bracket.take)
    found = [Evidence(path, bracket.take.line, f"{bracket.take.callee}() in {name} takes a reference on {held}")]
    if bracket.drop is not None:
        found.append(Evidence(path, bracket.drop.line, f"{bracket.drop.callee}() drops it after the call"))
    return tuple(found)


def _enclosed(at: _Site, takes, drops, rule_where: str = "", why: str = "") -> tuple[Evidence, ...] | None:
    for level, bracket in at.brackets(at.argument.argument, takes, drops, frozenset(at.put.accessors)):
        if bracket.kind == brackets.ENCLOSES:
            extra = (Evidence(*_split(rule_where), why),) if rule_where else ()
            return bracket_evidence(at, level, bracket) + extra
    return None


def _split(where: str) -> tuple[str, int]:
    path, _, line = where.rpartition(":")
    return path, int(line or 0)


def _held_by_take(at: _Site):
    return _enclosed(at, at.put.takes, at.put.functions)


def _held_across(at: _Site):
    for rule in at.put.held_across_by:
        found = _enclosed(at, rule.take, rule.drop, rule.where, rule.why)
        if found:
            return found
    return None


def _held_origin(at: _Site):
    """The argument was found from an object (`d_find_alias(inode)`) that a
    bracket (of that object's put rule) or the context holds across the put."""
    for rule in at.put.nonfinal_if_from:
        origin = at.judge.origin_call(at, rule.function)
        if origin is None or not origin.argument_texts:
            continue
        holder = at.judge.rules.puts.get(rule.holder or at.put.id, at.put)
        takes = (*holder.takes, *(t for b in holder.held_across_by for t in b.take))
        drops = (*holder.functions, *(d for b in holder.held_across_by for d in b.drop))
        for level, bracket in at.brackets(origin.argument_texts[0], takes, drops, frozenset(holder.accessors)):
            if bracket.kind == brackets.ENCLOSES:
                found = Evidence(at.path, origin.line, f"{rule.function}({origin.argument_texts[0]}) found it")
                return (found, *bracket_evidence(at, level, bracket), Evidence(*_split(rule.where), rule.why))
    return None


def _held_argument(at: _Site):
    for rule in at.put.nonfinal_if_argument:
        for text in at.passed:
            if re.fullmatch(rule.argument, text):
                return (Evidence(*_split(rule.where), f"{text}: {rule.why}"),)
    return None


def _harmless(at: _Site):
    if at.call is None:
        return None
    put = at.put
    template = conditions.known_at(
        at.call, at.body, put.harmless_when, at.argument.argument,
        frozenset(put.harmless_unless_after), frozenset(put.harmless_unless_null_from),
    )
    if template is None:
        return None
    line = conditions.decided_at(at.call, template.condition, at.argument.argument)
    return (Evidence(at.path, line, f"known here: {template.condition.replace('$ARG', at.argument.argument)}"),
            Evidence(*_split(template.where), template.why))


def matches(at: _Site, item) -> bool:
    """Whether a `distinct_objects` (or `last_if_others_leave`) item holds for the put."""
    if subsystem_of(at.path) in item.except_subsystems:
        return False
    function = at.judge.program.func_name[at.site.function]
    return (
        (not item.origin or bool(re.fullmatch(item.origin, at.argument.origin)))
        and (not item.argument or any(re.fullmatch(item.argument, text) for text in at.passed))
        and (not item.function or item.function == function)
        and (
            not item.condition
            or (at.call is not None and conditions.known_at(at.call, at.body, (item,), at.argument.argument, frozenset()))
        )
    )


def _pinned(at: _Site):
    """The object came down from the context's entry, which pins it by a reference."""
    for pin in at.context.pins:
        if not pin.reference or pin.object != at.put.id:
            continue
        levels = at.levels(at.argument.argument)
        entry = at.tree.steps(at.site)[0][0]
        top = levels[-1] if levels else None
        if top is not None and top.function == entry and not top.runner and trail.parameter_of(top.body, top.text):
            name = at.judge.program.func_name[entry]
            return (Evidence(at.where(top), top.call.line, f"{top.text} comes from {name}, the context entry"),
                    Evidence(*_split(pin.where), f"{at.context.id} pins the {pin.object} by {pin.by}: {pin.why}"))
    return None


def _distinct(at: _Site):
    for item in at.context.distinct_objects:
        if matches(at, item):
            return (Evidence(*_split(item.where), f"{item.text}: {item.why}"),)
    return None


@dataclass(frozen=True)
class Filter:
    """What a rule key (of a `Put`, or of the `Context`) rules out: `holds`
    gives the evidence, None when it does not hold. The stat that counts it
    is the key's own (`ruleset.rule_key`)."""

    key: str
    on: type  # Put or Context
    holds: Callable[[_Site], tuple[Evidence, ...] | None]

    @property
    def stat(self) -> str:
        return next(f.metadata["stat"] for f in rule_keys(self.on) if f.name == self.key)

    def applies(self, put_rule: Put, context: Context) -> bool:
        return bool(getattr(put_rule if self.on is Put else context, self.key))


FILTERS: tuple[Filter, ...] = (
    Filter("takes", Put, _held_by_take),
    Filter("held_across_by", Put, _held_across),
    Filter("nonfinal_if_from", Put, _held_origin),
    Filter("nonfinal_if_argument", Put, _held_argument),
    Filter("harmless_when", Put, _harmless),
    Filter("pins", Context, _pinned),
    Filter("distinct_objects", Context, _distinct),
)
_STATS = {row.key: row.stat for row in FILTERS}


@dataclass(frozen=True)
class Verdict:
    """A put judged: `ruled_out` names the rule key and its evidence when it
    is not reported; `finality` says why a reported put may be the last."""

    ruled_out: tuple[str, tuple[Evidence, ...]] | None
    finality: Finality = Finality()
    site: object = None  # the site as judged, for `PutJudge.with_finality`

    @property
    def reported(self) -> bool:
        return self.ruled_out is None


class PutJudge:
    """Judges put sites from a reach tree, reading the source through `sources`."""

    def __init__(self, program: Program, sources: SourceReader, rules: RuleSet | None = None, edges=None):
        self.program = program
        self.sources = sources
        self.rules = rules
        self.edges = edges

    def judge(self, context: Context, put_rule: Put, site: PutSite, path: str, tree: ReachTree,
              stats: ContextStats | None = None) -> Verdict:
        """Whether the put at `site` may drop the last reference to an object the
        context waits on (counted in `stats` when not). Its finality comes
        with `with_finality`, once its teardown is known to reach a wait."""
        at = _Site(self, context, put_rule, site, path, tree, stats)
        if at.argument is None:
            return Verdict(None, Finality(evidence=(Evidence(path, site.edge.line, "the put's argument was not read"),)))
        for row in FILTERS:
            if not row.applies(put_rule, context):
                continue
            evidence = row.holds(at)
            if evidence:
                if stats is not None:
                    stat = _STATS[row.key]
                    setattr(stats, stat, getattr(stats, stat) + 1)
                return Verdict((row.key, evidence))
        return Verdict(None, site=at)

    def with_finality(self, verdict: Verdict) -> Verdict:
        """A reported verdict with its finality evidence."""
        from .finalkinds import finality_of  # it reads sites as the filters do

        if not verdict.reported or verdict.site is None:
            return verdict
        return replace(verdict, finality=finality_of(verdict.site), site=None)

    def may_bracket(self, function: int, takes, drops, call: CallSite) -> bool:
        """From the index alone: whether `function` calls one of `takes` before
        `call` or one of `drops` after it."""
        self.sources.noted(function)
        position = (call.line, call.col)
        program = self.program
        return any(at < position for at in program.calls_to(function, takes)) or any(
            at > position for at in program.calls_to(function, drops)
        )

    def origin_call(self, at: _Site, function: str) -> CallSite | None:
        """The last call of `function` before the put whose result is the put's
        argument (directly, or through the function's assignments: `prev = dn`)."""
        if at.body is None or at.call is None:
            return None
        position = (at.call.line, at.call.col)
        argument = at.argument.argument
        found = [
            c for c in at.body.calls
            if c.callee == function and (c.line, c.col) < position and c.result
            and (argument in brackets.copies(at.body, c.result) or brackets.same_object(at.body, c.result, argument))
        ]
        return found[-1] if found else None

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
