"""What a scan reports: findings with both chains, sorted and fingerprinted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of a chain: `function` at `path:line`, reached `via` something.

    For the first hop `line` is the definition; for the others it is the call
    site in the previous hop's function (so `path` is the caller's file).
    """

    function: str
    path: str
    line: int
    via: str


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    context: str
    severity: str
    confidence: str
    path: str
    line: int
    col: int
    function: str  # the function that makes the put
    put: str
    wait: str
    reach: tuple[Hop, ...]
    teardown: tuple[Hop, ...]
    message: str
    suppressed: bool = False
    suppression: str = ""
    fingerprint: str = field(default="")

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.col, self.rule)

    def with_fingerprint(self) -> Finding:
        return replace(self, fingerprint=fingerprint(self))


def fingerprint(finding: Finding) -> str:
    """Stable across line shifts: rule and the function names of both chains
    (see `number_repeats` for two puts with the same chains)."""
    names = [finding.rule, *(hop.function for hop in finding.reach), "|", *(hop.function for hop in finding.teardown)]
    return hashlib.sha1("\0".join(names).encode()).hexdigest()[:16]


def number_repeats(findings: list[Finding]) -> list[Finding]:
    """Sorted findings with the second and later of those whose chains name the
    same functions (two puts in one function) told apart by their order."""
    seen: dict[str, int] = {}
    result = []
    for finding in findings:
        count = seen.get(finding.fingerprint, 0)
        seen[finding.fingerprint] = count + 1
        if count:
            again = hashlib.sha1(f"{finding.fingerprint}#{count}".encode()).hexdigest()[:16]
            finding = replace(finding, fingerprint=again)
        result.append(finding)
    return result
