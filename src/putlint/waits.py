"""What a context's waits wait for, who completes them, and what closes the
cycle: the wait model of a context rule (`waits:` and `workers:` in
rules/contexts/*.yaml).

A finding is a cycle when the teardown waits for something only the blocked
context can complete. Each wait says:

- `waits_for`: what it waits for (a flag such as I_SYNC, an I/O count, a reply);
- `completed_by`: who completes it: `this-worker` (the very worker that is now
  blocked), `pool` (some worker of the context's pool: `completed_on` names
  which, and the reach chain tells which worker runs it), `other` (another
  context: the wait stalls this one, it does not deadlock it), or `hazard`
  (nothing waits: an allocation that may only fail, a folio dirtied from
  eviction; `waits_for` then says "nothing: " and what it does instead);
- `holds`: what the waited-for work holds;
- `severity`: the finding's severity when the harm is not its cycle kind's (a
  folio dirtied under PF_MEMALLOC waits for nothing, a hazard, and is a bug
  all the same), instead of the check's `severity_by_cycle`;
- `pinned`: the work holds a reference on the object from the moment it is
  issued until it completes; then it cannot be pending when the object's last
  reference goes, and the wait is no cycle. The analyzer checks that every
  issuer in the tree does take that reference (`search.pinned`).

The cycle kind decides the severity, through the check's `severity_by_cycle`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rulefile import Mapping, check_regex

COMPLETERS = ("this-worker", "pool", "other", "hazard")
SEVERITIES = ("error", "warning", "note")
CYCLES = ("self-deadlock", "stall", "hazard")


@dataclass(frozen=True, slots=True)
class Pinned:
    """Work that holds a reference on the object while it is outstanding:
    `issuer` (an ops field `struct.field`, or a function) takes one of `take`
    before any call of `before` starts the work, and each `completion`
    function drops it with one of `drop` after a call of `after` ends it."""

    issuer: str
    take: tuple[str, ...]
    before: tuple[str, ...]
    completion: tuple[str, ...]
    drop: tuple[str, ...]
    after: tuple[str, ...]
    why: str


@dataclass(frozen=True, slots=True)
class Wait:
    """What a context must never reach: a function, or a call whose GFP flags match."""

    function: str = ""
    gfp: str = ""  # regular expression on the call's GFP argument
    why: str = ""
    waits_for: str = ""
    completed_by: str = ""  # one of COMPLETERS; "" for a wait with no model (the check's severity)
    completed_on: tuple[str, ...] = ()  # for `pool`: the workers that complete it
    holds: str = ""
    pinned: Pinned | None = None
    severity: str = ""  # one of SEVERITIES; "" for the check's severity of the cycle kind


@dataclass(frozen=True, slots=True)
class Worker:
    """A function on a reach chain that says which worker of the pool runs it
    (`osd_dispatch` runs on an OSD connection's worker)."""

    function: str
    worker: str


def read_waits(mapping: Mapping, key: str) -> tuple[Wait, ...]:
    waits = []
    for item in mapping.mappings(key, required=True):
        item.check_keys({"function", "gfp", "why", "waits_for", "completed_by", "completed_on", "holds", "pinned",
                         "severity"})
        function, gfp = item.text("function", required=False), item.text("gfp", required=False)
        if bool(function) == bool(gfp):
            raise item.error(item.line, "a wait names exactly one of 'function' or 'gfp'")
        if gfp:
            check_regex(item, "gfp", gfp)
        completed_by = item.text("completed_by", required=False)
        if completed_by and completed_by not in COMPLETERS:
            raise item.error(item.key_lines["completed_by"], f"completed_by must be one of {', '.join(COMPLETERS)}")
        severity = item.text("severity", required=False)
        if severity and severity not in SEVERITIES:
            raise item.error(item.key_lines["severity"], f"severity must be one of {', '.join(SEVERITIES)}")
        completed_on = item.words("completed_on")
        if bool(completed_on) != (completed_by == "pool"):
            raise item.error(item.line, "completed_on names the workers of a 'pool' wait, and only of one")
        waits.append(
            Wait(
                function,
                gfp,
                item.text("why", required=True),
                item.text("waits_for", required=bool(completed_by)),
                completed_by,
                completed_on,
                item.text("holds", required=False),
                _pinned(item.mapping("pinned")),
                severity,
            )
        )
    return tuple(waits)


def _pinned(item: Mapping | None) -> Pinned | None:
    if item is None:
        return None
    item.check_keys({"issuer", "take", "before", "completion", "drop", "after", "why"})
    return Pinned(
        item.text("issuer"),
        item.words("take", required=True),
        item.words("before"),
        item.words("completion", required=True),
        item.words("drop", required=True),
        item.words("after"),
        item.text("why"),
    )


def read_workers(mapping: Mapping, key: str) -> tuple[Worker, ...]:
    workers = []
    for item in mapping.mappings(key):
        item.check_keys({"function", "worker"})
        workers.append(Worker(item.text("function"), item.text("worker")))
    return tuple(workers)


def cycle_of(wait: Wait, chain: tuple[str, ...], workers: tuple[Worker, ...], context: str) -> tuple[str, str]:
    """(cycle kind, why) of a finding whose teardown reaches `wait` from a
    reach chain through the functions `chain`; ("", "") for a wait with no model."""
    if wait.completed_by == "this-worker":
        return "self-deadlock", f"only this {context} worker completes it"
    if wait.completed_by == "other":
        return "stall", f"another context completes it, while this {context} worker must keep moving"
    if wait.completed_by == "hazard":
        return "hazard", "nothing waits for another context; " + wait.waits_for.removeprefix("nothing: ")
    if wait.completed_by != "pool":
        return "", ""
    completers = "/".join(wait.completed_on)
    seen = [w for w in workers if w.function in chain]
    if not seen:
        return "self-deadlock", (
            f"the chain does not show which {context} worker runs it, and {completers} workers complete it"
        )
    runs_on = seen[-1]
    if runs_on.worker in wait.completed_on:
        return "self-deadlock", f"{completers} workers complete it, and this chain runs on one ({runs_on.function})"
    return "stall", (
        f"{completers} workers complete it, and this chain runs on a {runs_on.worker} worker ({runs_on.function}):"
        f" that worker stalls until another one completes it"
    )
