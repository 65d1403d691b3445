"""What a scan reports: findings with both chains, sorted and fingerprinted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from .evidence import Finality
from .pickling import by_fields


@by_fields
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


@by_fields
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
    cycle: str = ""  # self-deadlock, stall or hazard (waits.CYCLES); "" when the wait has no model
    cycle_why: str = ""
    suppressed: bool = False
    suppression: str = ""
    fingerprint: str = field(default="")
    finality: Finality = Finality()  # why the put may be the last (evidence.py)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.col, self.rule)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"

    def headline(self, severity: bool = True) -> str:
        """`path:line:col: severity: message [rule]`, as gcc prints a diagnostic."""
        level = f"{self.severity}: " if severity else ""
        return f"{self.location}: {level}{self.message} [{self.rule}]"

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


@dataclass(frozen=True)
class ScanRun:
    """A whole scan as the report formats take it."""

    tree: Path
    findings: tuple[Finding, ...]
    diagnostics: tuple[tuple[str, str, str], ...]  # (path, status, message) of files the index could not use
    stats: dict
    warnings: tuple[str, ...] = ()
    unanalysed: tuple = ()  # coverage.Unanalysed: what could not be analysed (and could hide a finding)
