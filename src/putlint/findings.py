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
    """Stable across line shifts: rule and the function names of both chains."""
    names = [finding.rule, *(hop.function for hop in finding.reach), "|", *(hop.function for hop in finding.teardown)]
    return hashlib.sha1("\0".join(names).encode()).hexdigest()[:16]
