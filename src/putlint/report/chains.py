"""What each hop of a finding's two chains stands for, said once for every
format that shows hops one by one (gcc notes, SARIF thread flows, HTML boxes).

A hop's `path:line` is the definition of its function for the first hop of a
chain (the context entry, the put function), and the call site in the previous
hop's function for every other hop. Printed bare, a call site reads like the
callee's definition; `Step` says which it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..findings import Finding, Hop

DEFINITION = "definition"
CALL_SITE = "call site"


@dataclass(frozen=True, slots=True)
class Step:
    chain: str  # "reach" or "teardown"
    index: int  # 0-based within its chain
    count: int  # hops in its chain
    hop: Hop
    caller: str  # the function holding the call site; "" for a definition

    @property
    def site(self) -> str:
        return CALL_SITE if self.caller else DEFINITION

    @property
    def role(self) -> str:
        """entry, put, wait or call: what the hop is for the finding."""
        if self.chain == "reach":
            if self.index == 0:
                return "entry"
            return "put" if self.index == self.count - 1 else "call"
        if self.index == 0:
            return "put"
        return "wait" if self.index == self.count - 1 else "call"

    def describe(self) -> str:
        """One line naming the location's kind: `definition of f` or `call site: g calls f`."""
        if not self.caller:
            return f"definition of {self.hop.function}"
        return f"call site: {self.caller} calls {self.hop.function}"

    def how(self) -> str:
        """How the hop was reached (`call`, `(struct x)->field`, `context entry: ...`)."""
        return self.hop.via


def steps(finding: Finding) -> tuple[list[Step], list[Step]]:
    """The reach and the teardown chain as steps."""
    return _chain("reach", finding.reach), _chain("teardown", finding.teardown)


def _chain(name: str, hops: tuple[Hop, ...]) -> list[Step]:
    return [
        Step(name, index, len(hops), hop, hops[index - 1].function if index else "")
        for index, hop in enumerate(hops)
    ]


def entry_of(finding: Finding) -> Hop | None:
    return finding.reach[0] if finding.reach else None


def wait_of(finding: Finding) -> Hop | None:
    return finding.teardown[-1] if len(finding.teardown) > 1 else None


def suppression_kind(finding: Finding) -> tuple[str, str]:
    """("comment" | "allowlist", reason) from `Finding.suppression`."""
    source, _, reason = finding.suppression.partition(": ")
    return source, reason
