"""Mutation patches against the real 6.12 tree (tests/mutations/*.patch), each
as a reviewer would meet it: check-patch must report exactly the findings its
added lines annotate (`// ruleid: CHECK` above the added put, in that check's
context; `Putlint-Expect: CHECK PATH:LINE` in the message for a finding the
patch brings to a put it does not touch), fix nothing and lose nothing (no
finding gone without a reason); `// ok: CHECK` marks an added put that must
stay quiet. A `new-` patch annotates findings, a `same-` one changes nothing.
A file may hold a series: the patches before the last set the tree up (the
messenger cases first let the netfs request alone pin the inode of an OSD
read, which 6.12 does not), and only the last one is checked.

All patches run in one check-patch series on the scoped graph of
test_real_scan.py (GRAPH, the cached test index), each followed by its own
reverse, so every patch is compared with the tree as it is.
"""

import os
import re
from pathlib import Path

import pytest
from unidiff import PatchSet

from putlint.checkpatch import check_series
from putlint.patches import Patch, read_patches, tree_path
from putlint.ruleset import load_rules
from putlint.tree import open_tree
from test_real_scan import CACHE, GRAPH, TREE

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(not TREE, reason="PUTLINT_KERNEL_TREE is not set (the test command sets it)"),
]
MUTATIONS = Path(__file__).parent / "mutations"
PATCHES = sorted(MUTATIONS.glob("*.patch"))
_ANNOTATION = re.compile(r"^\s*//\s*(ruleid|ok):\s*([\w-]+)\s*$")


_EXPECT = re.compile(r"^Putlint-Expect: (\S+) (\S+):(\d+)$", re.M)


def expected(patch: Patch, text: str = "") -> tuple[set, set]:
    """(ruleid, ok) annotations of the added lines: (rule, path, line of the next
    added code line); with the `Putlint-Expect:` lines of `text`."""
    found = {"ruleid": {(m.group(1), m.group(2), int(m.group(3))) for m in _EXPECT.finditer(text)}, "ok": set()}
    for patched in PatchSet(patch.diff):
        after = [line for hunk in patched for line in hunk if not line.is_removed]
        for index, line in enumerate(after):
            match = _ANNOTATION.match(line.value) if line.is_added else None
            if not match:
                continue
            target = next(a for a in after[index + 1:] if not a.value.strip().startswith(("//", "/*", "*")))
            found[match.group(1)].add((match.group(2), tree_path(patched.target_file), target.target_line_no))
    return found["ruleid"], found["ok"]


def reverse(patch: Patch) -> Patch:
    """The patch that undoes `patch` (hunks swapped, + and - exchanged)."""
    lines = []
    for line in patch.diff.splitlines(keepends=True):
        if line.startswith("--- a/"):
            lines.append(line)
        elif line.startswith("+++ b/"):
            lines.append(line)
        elif line.startswith("@@"):
            old, new = re.match(r"@@ -(\S+) \+(\S+) @@", line).groups()
            lines.append(f"@@ -{new} +{old} @@\n")
        elif line.startswith("+"):
            lines.append("-" + line[1:])
        elif line.startswith("-"):
            lines.append("+" + line[1:])
        else:
            lines.append(line)
    return Patch(f"Revert \"{patch.subject}\"", patch.number, patch.total, patch.source, "".join(lines))


@pytest.fixture(scope="module")
def results():
    series = []
    checked = {}
    for path in PATCHES:
        patches = read_patches(path.read_bytes(), str(path))
        checked[path.stem] = len(series) + len(patches) - 1
        series.extend((*patches, *(reverse(p) for p in reversed(patches))))
    run = check_series(open_tree(TREE), load_rules(), CACHE, series, graph_scopes=GRAPH, jobs=2)
    return {name: run.patches[index] for name, index in checked.items()}


def test_the_corpus_holds_what_the_issue_asks_for():
    new = [p for p in PATCHES if p.stem.startswith("new-")]
    same = [p for p in PATCHES if p.stem.startswith("same-")]
    assert len(new) >= 12 and len(same) >= 12 and len(new) + len(same) == len(PATCHES)
    contexts = {p.stem.split("-")[1] for p in new}
    assert {"writeback", "reclaim", "messenger"} <= contexts


@pytest.mark.parametrize("name", [p.stem for p in PATCHES])
def test_each_mutation_changes_exactly_what_it_annotates(results, name):
    result = results[name]
    ruleid, ok = expected(result.patch, (MUTATIONS / f"{name}.patch").read_text())
    assert name.startswith("new-") == bool(ruleid), "a new- patch annotates its findings, a same- patch none"
    new = {(n.finding.rule, n.finding.path, n.finding.line) for n in result.new}
    assert new == {(f"final-put-in-{rule.removeprefix('final-put-in-')}", path, line) for rule, path, line in ruleid}
    assert not new & ok
    assert [f.location for f in result.fixed] == [] and [f.location for f in result.gone] == []
    for finding in result.new:
        assert finding.introduced_by, "the added line that introduced it is named"
