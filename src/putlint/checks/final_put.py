"""final-put: a put a context reaches whose teardown waits on that context.

## What it does
From every entry of a context (a work function, an ops method the context
calls, a shrinker), it finds each call of a put function (`iput`, `dput`,
`fput`, `mntput`, ...) the context can reach, and from that put the teardown
the object's owner runs (`iput` -> `evict` -> `->evict_inode`), looking for a
wait the context must never reach while it holds what it holds.

## Why is this bad?
When the put drops the last reference, the teardown runs right there, in the
context that dropped it. If it waits for work only that context can do (the
writeback this worker is doing, replies only this messenger can receive) or
does what the context must not (dirtying folios under `PF_MEMALLOC`), the
machine deadlocks or reclaim stalls.

## Example
```c
static int ceph_writepages_start(struct address_space *mapping, ...)
{
        ...
        ceph_put_wrbuffer_cap_refs(ci, 1, snapc);   /* iput() inside:     */
}                                                   /* evict() waits for  */
                                                    /* this very writeback */
```
Defer the put instead: `ceph_iput_async()`, btrfs' delayed iputs, XFS
inodegc, or `fput()`'s task work.

## References
- rules/checks/*.yaml: which contexts and puts a check pairs, its message.
- DESIGN.md, "What a finding is".
"""

from __future__ import annotations

import re

from .. import conditions
from ..evidence import Finality
from ..findings import Finding, Hop
from ..graph import CALLBACK
from ..ruleset import Check, Context, Put
from ..search.owners import teardowns
from ..search.reach import PutSite, ReachTree, reach
from ..search.stats import ContextStats
from ..search.teardown import WAIT_PREFIX, TeardownResult
from ..waits import cycle_of

KIND = "final-put"

# A chain ruled out by constants makes their functions tracked, and the search
# runs again; each round tracks more, so this bounds the rounds, not the result.
_ROUNDS = 6


def findings(analysis, context: Context, checks: list[Check], in_scope, observe=None) -> list[Finding]:
    """The findings of `checks` (all of this kind, all on `context`) whose put
    lies where `in_scope(path)` holds; the context's stats go to
    `analysis.stats[context.id]`. `observe(event, site, tree, detail)`, when
    given, hears what happened to each put site (`putlint explain`):
    "teardown" (the owner chains, maybe none), "verdict" (a `finality.Verdict`),
    "refuted" (the functions a constant rules the chain out in)."""
    if observe is None:
        observe = _ignore
    program = analysis.program
    put_rule_of: dict[str, Put] = {}
    for check in checks:
        for put_id in check.puts:
            for name in analysis.rules.puts[put_id].functions:
                put_rule_of.setdefault(name, analysis.rules.puts[put_id])
    tracked: set[int] = set(analysis.tracked.get(context.id, ()))
    refuted_sites: set[tuple[int, int, int]] = set()
    pinned_sites: set[tuple[int, int, int]] = set()
    for round_number in range(_ROUNDS):
        before = analysis.stats.get(context.id, ContextStats())
        analysis.stats[context.id] = stats = ContextStats(fanout_cuts=before.fanout_cuts, expanded=before.expanded)
        analysis.sources.read = stats.expanded
        tree = reach(analysis.edges, analysis.rules, context, frozenset(put_rule_of), stats, analysis.sources, frozenset(tracked))
        reported = []
        ruled_out: set[int] = set()
        for site in tree.sites:
            path = program.path_of(site.function)
            if not in_scope(path):
                continue
            put_rule = put_rule_of[site.edge.callee]
            verdict = analysis.judge.judge(context, put_rule, site, path, tree, stats)
            observe("verdict", site, tree, verdict)
            if not verdict.reported:
                continue
            # Whose teardown the put runs: one chain per owning subsystem (search.owners).
            results = teardowns(analysis, site, path, context, stats)
            chains = [result for result in results if result.hops is not None]
            observe("teardown", site, tree, chains)
            if not chains:
                if any(result.pinned for result in results):
                    pinned_sites.add((site.function, site.edge.line, site.edge.col))
                continue
            verdict = analysis.judge.with_finality(verdict)
            segment = _ruled_out_segment(analysis, tree, site)
            if segment and not segment <= tracked and round_number + 1 < _ROUNDS:
                observe("refuted", site, tree, segment)
                ruled_out |= segment
                refuted_sites.add((site.function, site.edge.line, site.edge.col))
                continue
            reported.extend((site, put_rule, path, teardown, verdict.finality) for teardown in chains)
        if not ruled_out:
            break
        tracked |= ruled_out
    stats.tracked_functions = len(tracked)
    stats.tracked = frozenset(tracked)
    found = []
    for site, put_rule, path, teardown, finality in reported:
        refuted_sites.discard((site.function, site.edge.line, site.edge.col))
        chain = tree.chain(site)
        for check in checks:
            if put_rule.id in check.puts:
                found.append(_finding(analysis, check, context, put_rule.object, site, path, chain, teardown, finality))
                stats.findings += 1
    stats.infeasible_puts = len(refuted_sites)
    stats.pinned_work_puts = len(pinned_sites)
    return found


def _ignore(*_arguments) -> None:
    pass


def _ruled_out_segment(analysis, tree: ReachTree, site: PutSite) -> frozenset[int]:
    """The functions from where a constant enters the chain to `site` down
    to the call it rules out, or nothing when the chain is possible."""
    sources = analysis.sources
    if not sources.available:
        return frozenset()
    steps = tree.steps(site)
    bindings: dict = {}
    since = 0  # the step where the current constants entered
    for index, (function, edge) in enumerate(steps):
        body = sources.body(function)
        call = body.call_at(edge.line, edge.col) if body is not None else None
        if call is None:
            bindings = {}
            continue
        if conditions.contradiction(call, bindings) is not None:
            return frozenset(f for f, _ in steps[since : index + 1])
        if index + 1 == len(steps) or edge.kind == CALLBACK:
            bindings = {}
            continue
        callee = sources.body(steps[index + 1][0])
        passed = conditions.callee_bindings(call, callee, bindings) if callee is not None else {}
        if passed and not bindings:
            since = index
        bindings = passed
    return frozenset()


def _finding(analysis, check: Check, context: Context, object_kind: str, site: PutSite, path: str,
             reach_chain: tuple[Hop, ...], teardown: TeardownResult, finality: Finality) -> Finding:
    wait_hop = teardown.hops[-1]
    cycle, why = cycle_of(teardown.wait, tuple(hop.function for hop in reach_chain), context.workers, context.id)
    if teardown.unpinned:
        why += f"; the work it waits for is not pinned: {teardown.unpinned}"
    values = {
        "PUT": site.edge.callee,
        "OBJECT": object_kind,
        "CONTEXT": context.id,
        "WAIT": wait_hop.function,
        "WAIT_WHY": wait_hop.via.removeprefix(WAIT_PREFIX),
        "FUNCTION": analysis.program.func_name[site.function],
        "CYCLE": f"{cycle}: {why}" if cycle else "no wait model",
    }
    message = re.sub(r"\$([A-Z_]+)", lambda m: values.get(m.group(1), m.group(0)), check.message)
    return Finding(
        rule=check.id,
        context=context.id,
        severity=teardown.wait.severity or check.severity_for(cycle),
        confidence=finality.confidence(check.confidence),
        path=path,
        line=site.edge.line,
        col=site.edge.col,
        function=values["FUNCTION"],
        put=site.edge.callee,
        wait=wait_hop.function,
        reach=reach_chain,
        teardown=teardown.hops,
        message=message,
        cycle=cycle,
        cycle_why=why,
        finality=finality,
    ).with_fingerprint()
