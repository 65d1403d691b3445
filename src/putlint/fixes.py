"""Why a finding went away with a patch, and which rules a patch calls into
question (`putlint check-patch`).

A finding is fixed only with a reason, a line of the patch: the removed put
(deferred or dropped), a removed call on one of its chains (the chain is
broken), or an added line that the finding's put site now cites as what rules
it out (a take and a drop around it, a condition, a constant; see
`explain`). A finding that disappears without one is reported as gone: a
defect of the analysis, never a fix.

A rule part that names a function (`rulefinality.assumptions`) assumes
something of its code; a patch that changes that function's body gets a note
naming the rule's file:line and what it assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

from unidiff import PatchSet

from .facts import FUNCTION_ROW, KINDS
from .findings import Finding
from .patches import Patch, tree_path
from .rulefinality import Assumption


@dataclass(frozen=True, slots=True)
class FixedBy:
    """A line of the patch that fixed a finding: `side` is "added" (target
    coordinates) or "removed" (source coordinates)."""

    path: str
    line: int
    side: str
    text: str
    why: str


@dataclass
class PatchLines:
    """The lines one patch adds and removes, per tree path."""

    added: dict[str, dict[int, str]]
    removed: dict[str, dict[int, str]]
    kept: dict[str, dict[int, int]]  # context lines of the hunks: source line -> target line
    shifts: dict[str, list[tuple[int, int]]]  # path -> (source end, shift after it) per hunk

    @classmethod
    def of(cls, patch: Patch) -> PatchLines:
        added: dict[str, dict[int, str]] = {}
        removed: dict[str, dict[int, str]] = {}
        kept: dict[str, dict[int, int]] = {}
        shifts: dict[str, list[tuple[int, int]]] = {}
        for patched in PatchSet(patch.diff):
            source, target = tree_path(patched.source_file), tree_path(patched.target_file)
            for hunk in patched:
                for line in hunk:
                    if line.is_added:
                        added.setdefault(target, {})[line.target_line_no] = line.value.rstrip("\n")
                    elif line.is_removed:
                        removed.setdefault(source, {})[line.source_line_no] = line.value.rstrip("\n")
                    else:
                        kept.setdefault(source, {})[line.source_line_no] = line.target_line_no
                end = hunk.source_start + hunk.source_length
                shifts.setdefault(source, []).append((end, hunk.target_start + hunk.target_length - end))
        return cls(added, removed, kept, shifts)

    def moved(self, path: str, line: int) -> int | None:
        """Where line `line` of `path` is after the patch, None when removed."""
        if line in self.removed.get(path, {}):
            return None
        if line in self.kept.get(path, {}):
            return self.kept[path][line]
        offset = 0
        for end, shift in self.shifts.get(path, ()):
            if line >= end:
                offset = shift
        return line + offset


def cheap_reasons(finding: Finding, lines: PatchLines) -> tuple[FixedBy, ...]:
    """The removed put, or a removed call on one of the chains."""
    removed = lines.removed.get(finding.path, {})
    if finding.line in removed:
        return (FixedBy(finding.path, finding.line, "removed", removed[finding.line].strip(),
                        f"the {finding.put}() is removed (deferred or dropped)"),)
    for label, hops in (("reach", finding.reach[1:]), ("teardown", finding.teardown[1:])):
        for hop in hops:
            text = lines.removed.get(hop.path, {}).get(hop.line)
            if text is not None:
                return (FixedBy(hop.path, hop.line, "removed", text.strip(),
                                f"the call of {hop.function} on the {label} chain is removed"),)
    return ()


def cited_reasons(evidence, lines: PatchLines) -> tuple[FixedBy, ...]:
    """The added lines among what now rules the put out."""
    found = []
    for item in evidence:
        text = lines.added.get(item.path, {}).get(item.line)
        if text is not None:
            found.append(FixedBy(item.path, item.line, "added", text.strip(), item.what))
    return tuple(found)


def changed_functions(path: str, before: tuple | None, after: tuple | None, lines: PatchLines) -> set[str]:
    """Names of the functions of `path` whose body the patch changes."""
    names = set()
    for rows, touched in ((before, lines.removed.get(path, {})), (after, lines.added.get(path, {}))):
        if not rows or not touched:
            continue
        for row in rows[KINDS["functions"]]:
            start, end = row[FUNCTION_ROW.line], row[FUNCTION_ROW.end_line]
            if any(start <= line <= end for line in touched):
                names.add(row[FUNCTION_ROW.name])
    return names


def notes(changed: set[str], assumed: dict[str, list[Assumption]]) -> tuple[Assumption, ...]:
    """The rule parts that assume something of a changed function."""
    return tuple(a for name in sorted(changed) for a in assumed.get(name, ()))
