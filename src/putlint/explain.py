"""`putlint explain PATH:LINE` and `putlint explain FINGERPRINT`: for one put
site, reported or not, each context that reaches it, both chains with the code
around every hop, its finality evidence, and when it is not reported exactly
what ruled it out: the rule (file:line) and its evidence, the take and drop of
a bracket, the condition and the constant that make the chain impossible, the
cut edge, deferral or limit without which it would be reached or its teardown
would reach a wait.

The analysis is the scan's (`checks.final_put` with an observer); what did not
happen is found by searching again with one kind of rule left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from . import conditions
from .checks import BY_KIND, final_put
from .evidence import Evidence
from .findings import Finding, Hop
from .graph import CALLBACK
from .search import Analysis
from .search.edges import EdgeView
from .search.reach import reach
from .search.stats import ContextStats
from .search.teardown import Teardown

_LOCATION = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+)$")


@dataclass
class SiteStory:
    """What one context did with the put calls on the line."""

    context: str
    reported: list[Finding] = field(default_factory=list)
    reasons: list[tuple[str, tuple[Evidence, ...]]] = field(default_factory=list)  # (why, evidence)
    reach: tuple[Hop, ...] = ()  # the chain it was reached by, when reached
    call: str = ""


def put_calls_on(line_text: str, rules) -> list[str]:
    """The put functions the source line calls."""
    names = {n for put in rules.puts.values() for n in put.functions}
    return sorted(n for n in names if re.search(rf"\b{re.escape(n)}\s*\(", line_text))


def parse_target(text: str) -> tuple[str, int] | None:
    """(path, line) of `PATH:LINE`, None for anything else (a fingerprint)."""
    found = _LOCATION.match(text)
    return (found.group("path"), int(found.group("line"))) if found else None


class Explainer:
    """Explains put sites of one program with one rule set."""

    def __init__(self, program, rules, sources):
        self.program = program
        self.rules = rules
        self.sources = sources

    def contexts(self, only: str | None) -> list[str]:
        ids = sorted({c.context for c in self.rules.checks.values()})
        return [c for c in ids if only is None or c == only]

    def fingerprint(self, fingerprint: str) -> Finding | None:
        analysis = Analysis(self.program, self.rules, self.sources)
        return next((f for f in analysis.run(lambda path: True) if f.fingerprint.startswith(fingerprint)), None)

    def explain(self, path: str, line: int, only: str | None = None) -> list[SiteStory]:
        return [self._context(context_id, path, line) for context_id in self.contexts(only)]

    def _context(self, context_id: str, path: str, line: int) -> SiteStory:
        story = SiteStory(context_id)
        analysis = Analysis(self.program, self.rules, self.sources)
        context = self.rules.contexts[context_id]
        events: list[tuple[str, object, object, object]] = []

        def observe(event, site, tree, detail):
            if site.edge.line == line and self.program.path_of(site.function) == path:
                events.append((event, site, tree, detail))

        checks = [c for c in self.rules.checks.values() if c.context == context_id]
        found = []
        for kind, module in BY_KIND.items():
            mine = [c for c in checks if c.kind == kind]
            if mine:
                found.extend(module.findings(analysis, context, mine, lambda p: True, observe) if module is final_put
                             else module.findings(analysis, context, mine, lambda p: True))
        story.reported = [f for f in found if (f.path, f.line) == (path, line)]
        if events:
            _, site, tree, _ = events[-1]
            story.reach = tree.chain(site)
            story.call = site.edge.callee
        if story.reported:
            return story
        if not events:
            story.reasons.append(self._unreached(analysis, context, path, line))
            return story
        story.reasons.append(self._quiet(analysis, context, events))
        return story

    def _quiet(self, analysis, context, events) -> tuple[str, tuple[Evidence, ...]]:
        last = {}
        for event, site, tree, detail in events:
            last[event] = (site, tree, detail)
        if "refuted" in last:
            found: list[Evidence] = []
            for event, site, tree, _ in events:
                if event == "refuted":
                    found.extend(e for e in self._infeasible(analysis, tree, site) if e not in found)
            return "every chain to it is impossible", tuple(found)
        if "verdict" in last and not last["verdict"][2].reported:
            key, evidence = last["verdict"][2].ruled_out
            return f"ruled out by the rule key {key}", evidence
        site, tree, _ = last["teardown"]
        return f"its teardown reaches no wait of {context.id}", self._no_teardown(analysis, context, site)

    def _infeasible(self, analysis, tree, site) -> tuple[Evidence, ...]:
        """The condition a constant passed down the chain decides the other way."""
        steps = tree.steps(site)
        bindings: dict = {}
        origin = None
        sources = analysis.sources
        for index, (function, edge) in enumerate(steps):
            body = sources.body(function)
            call = body.call_at(edge.line, edge.col) if body is not None else None
            if call is None:
                bindings, origin = {}, None
                continue
            condition = conditions.contradiction(call, bindings)
            path = self.program.path_of(function)
            if condition is not None:
                values = ", ".join(f"{k} = {v}" for k, v in sorted(bindings.items(), key=str))
                found = [Evidence(path, condition.line, f"the call at line {call.line} runs only when"
                                                         f" {conditions.text(condition.expr) or 'its case'} is"
                                                         f" {'true' if condition.holds else 'false'}, and {values}")]
                if origin is not None:
                    found.append(origin)
                return tuple(found)
            if index + 1 == len(steps) or edge.kind == CALLBACK:
                bindings, origin = {}, None
                continue
            callee = sources.body(steps[index + 1][0])
            passed = conditions.callee_bindings(call, callee, bindings) if callee is not None else {}
            if passed and not bindings:
                origin = Evidence(path, call.line, f"{self.program.func_name[function]} passes constants to {call.callee}()")
            bindings = passed
        return ()

    def _no_teardown(self, analysis, context, site) -> tuple[Evidence, ...]:
        """The teardown cut or deferral without which a wait is reached."""
        program = self.program
        origin = program.func_file[site.function]
        owner = site.state.subsystem
        from .graph import subsystem_of

        owner = subsystem_of(program.path_of(site.function)) or owner
        bare_context = replace(context, teardown_cuts=())
        bare_rules = replace(self.rules, deferrals=(), cut_edges=())
        for label, rules, ctx, cuts in (
            ("teardown_cuts", self.rules, bare_context, [(c.caller, c.callee, c.where, c.why) for c in context.teardown_cuts]),
            ("deferrals", bare_rules, context,
             [("", d.function, d.where, d.why) for d in self.rules.deferrals]
             + [(c.caller, c.callee, c.where, c.why) for c in self.rules.cut_edges]),
        ):
            result = Teardown(EdgeView(program, rules), rules, analysis.teardown.pinned_work).chain(
                site.edge.callee, owner, ctx, origin, ContextStats())
            chain = result.hops
            if chain is None:
                continue
            for previous, hop in zip(chain, chain[1:]):
                for caller, callee, where, why in cuts:
                    if hop.function == callee and caller in ("", previous.function):
                        return (_rule(where, f"{label}: {caller + ' -> ' if caller else ''}{callee}: {why}"),
                                Evidence(hop.path, hop.line, f"without it the teardown goes on to {chain[-1].function}"))
        return (Evidence(program.path_of(site.function), site.edge.line,
                         f"no chain from {site.edge.callee}() to a wait of {context.id} within the teardown depth"),)

    def _unreached(self, analysis, context, path: str, line: int) -> tuple[str, tuple[Evidence, ...]]:
        """Why no chain reaches the site: a reach cut, a deferral or cut edge, the depth limit."""
        puts = frozenset(n for c in self.rules.checks.values() if c.context == context.id
                         for p in c.puts for n in self.rules.puts[p].functions)
        variants = (
            ("reach_cuts", self.rules, replace(context, reach_cuts=()),
             [(c.caller, c.callee, c.where, c.why) for c in context.reach_cuts]),
            ("deferrals", replace(self.rules, deferrals=(), cut_edges=()), context,
             [("", d.function, d.where, d.why) for d in self.rules.deferrals]
             + [(c.caller, c.callee, c.where, c.why) for c in self.rules.cut_edges]),
            ("reach_depth", replace(self.rules, limits=replace(self.rules.limits, reach_depth=40)), context, []),
        )
        for label, rules, ctx, cuts in variants:
            tree = reach(EdgeView(self.program, rules), rules, ctx, puts, ContextStats(), analysis.sources)
            site = next((s for s in tree.sites if s.edge.line == line and self.program.path_of(s.function) == path), None)
            if site is None:
                continue
            chain = tree.chain(site)
            if not cuts:
                return (f"not reached: its shortest chain is {len(chain) - 1} calls long",
                        (Evidence("rules/limits.yaml", 0, f"reach_depth is {self.rules.limits.reach_depth}"),))
            for previous, hop in zip(chain, chain[1:]):
                for caller, callee, where, why in cuts:
                    if hop.function == callee and caller in ("", previous.function):
                        return ("not reached", (_rule(where, f"{label}: {caller + ' -> ' if caller else ''}{callee}: {why}"),
                                                Evidence(hop.path, hop.line, f"the call it removes ({previous.function}"
                                                                             f" -> {hop.function})")))
        entries = ", ".join(e.text for e in context.entries)
        return (f"not reached: no chain from {entries} within {self.rules.limits.reach_depth} calls", ())


def _rule(where: str, what: str) -> Evidence:
    path, _, line = where.rpartition(":")
    return Evidence(path, int(line or 0), what)


# -- text ----------------------------------------------------------------------


class Code:
    """Lines of the tree's files, read once each."""

    def __init__(self, sources):
        self.sources = sources
        self._lines: dict[str, list[str] | None] = {}

    def around(self, path: str, line: int, context: int = 2) -> list[str]:
        if path not in self._lines:
            data = self.sources(path) if not path.startswith("rules/") else None
            self._lines[path] = data.decode("utf-8", errors="replace").splitlines() if data else None
        lines = self._lines[path]
        if not lines or line < 1:
            return []
        low, high = max(1, line - context), min(len(lines), line + context)
        return [f"{'>' if n == line else ' '} {n:5} | {lines[n - 1]}" for n in range(low, high + 1)]


def render(stories: list[SiteStory], path: str, line: int, code: Code) -> str:
    out = [f"{path}:{line}"]
    shown_reach = False
    for story in stories:
        if story.reported:
            for finding in story.reported:
                out.append(f"{story.context}: reported as {finding.rule} ({finding.severity}, confidence"
                           f" {finding.confidence}), fingerprint {finding.fingerprint}")
                out.extend(_chain("reach", finding.reach, code))
                out.extend(_chain("teardown", finding.teardown, code))
                out.append(f"  finality: {finding.finality.kind.replace('-', ' ')}")
                out.extend(_evidence(finding.finality.evidence, code))
            continue
        why, evidence = story.reasons[0] if story.reasons else ("not reported", ())
        call = f" ({story.call}())" if story.call else ""
        out.append(f"{story.context}: not reported{call}: {why}")
        out.extend(_evidence(evidence, code))
        if story.reach and not shown_reach:
            out.extend(_chain("reach", story.reach, code))
            shown_reach = True
    return "\n".join(out) + "\n"


def _chain(label: str, hops: tuple[Hop, ...], code: Code) -> list[str]:
    out = [f"  {label}:"]
    for index, hop in enumerate(hops):
        arrow = "" if index == 0 else "-> "
        out.append(f"    {arrow}{hop.function} ({hop.path}:{hop.line}) [{hop.via}]")
        out.extend(f"        {text}" for text in code.around(hop.path, hop.line))
    return out


def _evidence(evidence: tuple[Evidence, ...], code: Code) -> list[str]:
    out = []
    for item in evidence:
        where = f"{item.path}:{item.line}" if item.line else item.path
        out.append(f"    - {item.what} ({where})")
        out.extend(f"        {text}" for text in code.around(item.path, item.line))
    return out


def run_explain(root, rules, target: str, context_id: str | None, cache_dir, graph_scopes, jobs) -> tuple[str, bool]:
    """`putlint explain`: the text, and whether the put is reported anywhere."""
    from .errors import InputError
    from .scan import open_analysis
    from .tree import relative_scopes

    if context_id is not None and context_id not in rules.contexts:
        raise InputError(f"unknown context {context_id!r} (known: {', '.join(sorted(rules.contexts))})")
    where = parse_target(target)
    if where is None and not re.fullmatch(r"[0-9a-f]{4,16}", target):
        raise InputError(f"{target!r} is neither PATH:LINE nor a fingerprint")
    with open_analysis(root, rules, cache_dir, graph_scopes, jobs) as (program, sources):
        explainer = Explainer(program, rules, sources)
        if where is None:
            finding = explainer.fingerprint(target)
            if finding is None:
                raise InputError(f"no finding has the fingerprint {target}")
            where, context_id = (finding.path, finding.line), finding.context
        path = relative_scopes(root, (where[0],))[0] if (root / where[0]).exists() else where[0]
        if not (root / path).is_file():
            raise InputError(f"{where[0]} is not a file of the tree {root}")
        lines = (root / path).read_text("utf-8", errors="replace").splitlines()
        if not 0 < where[1] <= len(lines) or not put_calls_on(lines[where[1] - 1], rules):
            raise InputError(f"{path}:{where[1]} holds no call of a put function the rules name")
        stories = explainer.explain(path, where[1], context_id)
        return render(stories, path, where[1], Code(sources)), any(s.reported for s in stories)
