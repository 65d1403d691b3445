"""`putlint test-rules DIR`: annotated C fixtures as rule tests.

DIR is a (miniature) kernel tree. `// ruleid: ID` above a line says check ID
must report it; `// ok: ID` says it must not. The set of findings must equal
the set of `ruleid` annotations, both ways, and every check that is tested
needs at least one of each kind, so a rule can neither go silent nor noisy.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .ruleset import RuleSet
from .scan import scan
from .tree import discover, open_tree

_ANNOTATION = re.compile(r"^\s*(?://|/\*)\s*(ruleid|ok):\s*([\w\s,-]+?)\s*(?:\*/)?\s*$")


@dataclass(frozen=True, slots=True)
class Annotation:
    kind: str  # "ruleid" or "ok"
    rule: str
    path: str
    line: int  # the line it applies to


@dataclass(frozen=True)
class RuleTestResult:
    annotations: tuple[Annotation, ...]
    missing: tuple[Annotation, ...]  # ruleid lines with no finding
    unexpected: tuple[tuple[str, int, str], ...]  # findings on lines not annotated ruleid
    untested: tuple[str, ...]  # checks lacking a ruleid or an ok case
    findings: int

    @property
    def passed(self) -> bool:
        return not (self.missing or self.unexpected or self.untested)


def annotations_of(path: str, text: str) -> list[Annotation]:
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        match = _ANNOTATION.match(line)
        if not match:
            continue
        target = index + 1
        while target < len(lines) and (
            not lines[target].strip() or _ANNOTATION.match(lines[target]) or lines[target].strip().startswith(("//", "/*"))
        ):
            target += 1
        for rule in match.group(2).split(","):
            found.append(Annotation(match.group(1), rule.strip(), path, target + 1))
    return found


def run_rule_tests(directory: Path, rules: RuleSet, jobs: int | None = 1) -> RuleTestResult:
    root = open_tree(directory)
    annotations: list[Annotation] = []
    for source in discover(root):
        text = (root / source.path).read_text("utf-8", errors="replace")
        annotations.extend(annotations_of(source.path, text))
    with tempfile.TemporaryDirectory(prefix="putlint-rules-") as cache:
        run = scan(root, rules, Path(cache), jobs=jobs)
    reported = {(f.path, f.line, f.rule) for f in run.findings if not f.suppressed}
    expected = {(a.path, a.line, a.rule) for a in annotations if a.kind == "ruleid"}
    missing = tuple(a for a in annotations if a.kind == "ruleid" and (a.path, a.line, a.rule) not in reported)
    unexpected = tuple(sorted(reported - expected))
    tested = {a.rule for a in annotations}
    untested = tuple(
        sorted(
            rule
            for rule in tested | set(rules.checks)
            if not any(a.rule == rule and a.kind == "ruleid" for a in annotations)
            or not any(a.rule == rule and a.kind == "ok" for a in annotations)
        )
    )
    return RuleTestResult(tuple(annotations), missing, unexpected, untested, len(reported))
