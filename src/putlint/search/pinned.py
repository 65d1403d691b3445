"""Pinned work, checked in the tree under analysis: a wait for work that holds
a reference on the object from its issue to its completion cannot be pending
when the object's last reference is dropped (see `waits.Pinned`).

For the subsystem that owns the object, every issuer must take the reference
before it starts the work (a take whose conditions hold wherever the start
runs), and every completion must drop it after the call that ends the work.
An issuer or completion that does not is named: the wait then stands.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..graph import Program
from ..waits import Pinned
from .sources import SourceReader


@dataclass(frozen=True, slots=True)
class PinnedVerdict:
    holds: bool
    why: str  # what was checked, with the function and file:line that decides it


class PinnedWork:
    def __init__(self, program: Program, sources: SourceReader):
        self.program = program
        self.sources = sources
        self._verdicts: dict[tuple[Pinned, str], PinnedVerdict] = {}

    def verdict(self, pinned: Pinned, subsystem: str) -> PinnedVerdict:
        key = (pinned, subsystem)
        if key not in self._verdicts:
            self._verdicts[key] = self._check(pinned, subsystem)
        return self._verdicts[key]

    def _owned(self, functions: list[int], subsystem: str) -> list[int]:
        return sorted(f for f in functions if not subsystem or self.program.subsystem(f) == subsystem)

    def _where(self, function: int) -> str:
        program = self.program
        return f"{program.func_name[function]} ({program.path_of(function)}:{program.func_line[function]})"

    def _check(self, pinned: Pinned, subsystem: str) -> PinnedVerdict:
        program = self.program
        if "." in pinned.issuer:
            struct_type, field_name = pinned.issuer.split(".")
            issuers = self._owned(program.ops_targets(struct_type, field_name), subsystem)
        else:
            issuers = self._owned(program.functions_named(pinned.issuer), subsystem)
        completions = self._owned([f for name in pinned.completion for f in program.functions_named(name)], subsystem)
        if not issuers:
            return PinnedVerdict(True, f"no {pinned.issuer} in {subsystem or 'the tree'}: no such work is ever issued")
        for issuer in issuers:
            if not self._ordered(issuer, pinned.take, pinned.before, take_first=True):
                take = "/".join(pinned.take)
                start = f" before {'/'.join(pinned.before)}" if pinned.before else ""
                return PinnedVerdict(False, f"{self._where(issuer)} does not take a reference ({take}){start}")
        if not completions:
            return PinnedVerdict(False, f"no completion ({'/'.join(pinned.completion)}) drops the reference")
        for completion in completions:
            if not self._ordered(completion, pinned.drop, pinned.after, take_first=False):
                after = f" after {'/'.join(pinned.after)}" if pinned.after else ""
                return PinnedVerdict(False, f"{self._where(completion)} does not drop its reference ({'/'.join(pinned.drop)}){after}")
        names = ", ".join(self.program.func_name[f] for f in issuers)
        return PinnedVerdict(True, f"every issuer takes a reference ({names}) and every completion drops it last ({pinned.why})")

    def _ordered(self, function: int, refs: tuple[str, ...], marks: tuple[str, ...], take_first: bool) -> bool:
        """Whether `function` calls one of `refs` before (take_first) or after
        every call of `marks`, unconditionally with respect to it: the ref's
        conditions are a subset of the mark's, as the body tells (by source
        order alone when the body cannot be read). With no marks, a ref call
        that no condition guards."""
        self.sources.noted(function)
        rows = self.program.calls_of(function)
        ref_sites = [(r[2], r[3]) for r in rows if r[1] in refs]
        mark_sites = [(r[2], r[3]) for r in rows if r[1] in marks]
        if not ref_sites:
            return False
        body = self.sources.body(function)
        calls = {(c.line, c.col): c for c in body.calls} if body is not None else {}

        def guards(position) -> frozenset:
            call = calls.get(position)
            return frozenset((c.expr, c.holds) for c in call.conditions) if call is not None else frozenset()

        if not mark_sites:
            return any(not guards(site) for site in ref_sites)
        for mark in mark_sites:
            covering = [r for r in ref_sites if (r < mark if take_first else r > mark) and guards(r) <= guards(mark)]
            if not covering:
                return False
        return True
