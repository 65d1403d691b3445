"""`putlint test-rules DIR`: annotated C fixtures as rule tests.

DIR is a (miniature) kernel tree, or a layered one: `DIR/base/` is a shared
miniature kernel (the generic code the chains run through) and each
`DIR/<check-id>/<case>/` holds one case of that check as files of a tree,
laid over the base; all cases are laid over it together and scanned once.

`// ruleid: ID` above a line says check ID must report it; `// ok: ID` says it
must not. `// ruleid: ID (KIND)` also says the finding's finality kind
(`last-by-design`, `last-if-others-leave`, `unknown`; see `evidence`). `// todoruleid: ID` marks a known gap (should be reported, is not
yet) and `// todook: ID` a known false alarm (is reported, should not be):
they are counted and printed, and fail the run once they stop being true, so
that they are promoted. The set of findings must equal the set of `ruleid`
(and `todook`) lines, both ways, and every check that is tested needs at
least one `ruleid` and one `ok` case, so a rule can neither go silent nor
noisy. A case folder may only annotate its own check.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .ruleset import RuleSet
from .scan import scan
from .tree import discover, open_tree

_ANNOTATION = re.compile(
    r"^\s*(?://|/\*)\s*(todoruleid|todook|ruleid|ok):\s*([\w\s,-]+?)\s*(?:\(([\w-]+)\))?\s*(?:\*/)?\s*$"
)
BASE = "base"


@dataclass(frozen=True, slots=True)
class Annotation:
    kind: str  # "ruleid", "ok", "todoruleid" or "todook"
    rule: str
    path: str
    line: int  # the line it applies to
    finality: str = ""  # the finality kind a ruleid expects, "" for any


@dataclass(frozen=True)
class RuleTestResult:
    annotations: tuple[Annotation, ...]
    missing: tuple[Annotation, ...]  # ruleid lines with no finding, todook lines that lost theirs
    unexpected: tuple[tuple[str, int, str], ...]  # findings on lines not annotated ruleid or todook
    untested: tuple[str, ...]  # checks lacking a ruleid or an ok case
    findings: int
    promote: tuple[Annotation, ...] = ()  # todoruleid lines now reported: make them ruleid
    misplaced: tuple[Annotation, ...] = ()  # annotations of another check in a check's case folder
    wrong_finality: tuple[tuple[Annotation, str], ...] = ()  # (ruleid with a kind, the kinds found there)

    @property
    def passed(self) -> bool:
        return not (
            self.missing or self.unexpected or self.untested or self.promote or self.misplaced or self.wrong_finality
        )

    def count(self, kind: str) -> int:
        return sum(1 for a in self.annotations if a.kind == kind)


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
            found.append(Annotation(match.group(1), rule.strip(), path, target + 1, match.group(3) or ""))
    return found


def case_folders(directory: Path) -> list[tuple[str, Path]]:
    """(check id, case folder) of a layered fixture directory, sorted."""
    return sorted(
        (check.name, case)
        for check in Path(directory).iterdir()
        if check.is_dir() and check.name != BASE
        for case in check.iterdir()
        if case.is_dir()
    )


@contextmanager
def laid_out(directory: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """The tree to scan, and which check's case each overlaid file belongs to:
    `directory` itself when it has no `base/`, else a temporary tree of the
    base with every case laid over it (a file two cases give is an error)."""
    directory = Path(directory)
    if not (directory / BASE).is_dir():
        yield directory, {}
        return
    with tempfile.TemporaryDirectory(prefix="putlint-fixture-") as scratch:
        tree = Path(scratch) / "tree"
        shutil.copytree(directory / BASE, tree)
        owner: dict[str, str] = {}
        for check_id, case in case_folders(directory):
            for source in sorted(p for p in case.rglob("*") if p.is_file()):
                relative = source.relative_to(case).as_posix()
                if (tree / relative).exists():
                    raise InputError(f"{source}: {relative} is already in the base or another case")
                (tree / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, tree / relative)
                owner[relative] = check_id
        yield tree, owner


def run_rule_tests(directory: Path, rules: RuleSet, jobs: int | None = 1) -> RuleTestResult:
    with laid_out(directory) as (tree, owner):
        root = open_tree(tree)
        annotations: list[Annotation] = []
        for source in discover(root):
            text = (root / source.path).read_text("utf-8", errors="replace")
            annotations.extend(annotations_of(source.path, text))
        with tempfile.TemporaryDirectory(prefix="putlint-rules-") as cache:
            run = scan(root, rules, Path(cache), jobs=jobs)
    reported = {(f.path, f.line, f.rule) for f in run.findings if not f.suppressed}
    kinds: dict[tuple[str, int, str], set[str]] = {}
    for f in run.findings:
        kinds.setdefault((f.path, f.line, f.rule), set()).add(f.finality.kind)

    def where(a: Annotation) -> tuple[str, int, str]:
        return (a.path, a.line, a.rule)

    expected = {where(a) for a in annotations if a.kind in ("ruleid", "todook")}
    missing = tuple(a for a in annotations if a.kind in ("ruleid", "todook") and where(a) not in reported)
    promote = tuple(a for a in annotations if a.kind == "todoruleid" and where(a) in reported)
    unexpected = tuple(sorted(reported - expected - {where(a) for a in promote}))
    misplaced = tuple(a for a in annotations if owner.get(a.path, a.rule) != a.rule)
    tested = {a.rule for a in annotations}
    untested = tuple(
        sorted(
            rule
            for rule in tested | set(rules.checks)
            if not any(a.rule == rule and a.kind == "ruleid" for a in annotations)
            or not any(a.rule == rule and a.kind == "ok" for a in annotations)
        )
    )
    wrong = tuple(
        (a, ", ".join(sorted(kinds[where(a)])))
        for a in annotations
        if a.kind == "ruleid" and a.finality and where(a) in kinds and kinds[where(a)] != {a.finality}
    )
    return RuleTestResult(tuple(annotations), missing, unexpected, untested, len(reported), promote, misplaced, wrong)
