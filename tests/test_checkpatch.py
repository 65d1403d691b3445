"""`putlint check-patch` on the fixture kernel: new and fixed findings per patch
and for the series, the added line that introduced a finding, inputs and exit codes."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from putlint.cli import cli, main

FIXTURES = Path(__file__).parent / "fixtures"
from trees import TREE, rule_line
PATCHES = FIXTURES / "patches"


@pytest.fixture
def cache(tmp_path) -> str:
    return str(tmp_path / "cache")


def check(cache, *args, stdin=None):
    return CliRunner().invoke(cli, ["check-patch", *args, "--tree", str(TREE), "--cache-dir", cache], input=stdin)


def test_mbox_series_reports_new_and_fixed_per_patch(cache):
    result = check(cache, str(PATCHES / "series.mbox"), "-f", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["patches"] == [
        {"subject": "[PATCH 1/2] wbfs: drop the inode at once when the work is already queued", "applied": True,
         "notes": [], "unanalysed": [], "assumptions": []},
        {"subject": "[PATCH 2/2] wbfs: defer the iput in wbfs_drop", "applied": True, "notes": [], "unanalysed": [],
         "assumptions": []},
    ]
    assert data["unanalysed"] == []
    (new,) = data["new"]
    assert (new["path"], new["line"], new["rule"], new["function"]) == (
        "fs/wbfs/inode.c", 22, "final-put-in-writeback", "wbfs_drop_later")
    assert new["introduced_by"] == [{"path": "fs/wbfs/inode.c", "line": 22}]
    assert [(f["path"], f["line"], f["function"]) for f in data["fixed"]] == [("fs/wbfs/inode.c", 6, "wbfs_drop")]
    assert data["fixed"][0]["fixed_by"] == [{"path": "fs/wbfs/inode.c", "line": 6, "side": "removed",
                                             "text": "iput(inode);", "why": "the iput() is removed (deferred or dropped)"}]
    assert data["gone"] == []
    assert data["unchanged"] == 42
    assert {"version", "tree", "findings", "diagnostics", "stats"} <= set(data)


def test_text_reads_like_a_review_reply(cache):
    result = check(cache, str(PATCHES / "0001-wbfs-drop-at-once.patch"), str(PATCHES / "0002-wbfs-defer-iput.patch"))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "[PATCH 1/2] wbfs: drop the inode at once when the work is already queued"
    assert lines[1].startswith("new: fs/wbfs/inode.c:22:3: error: iput() may drop the last inode reference")
    assert "  introduced by the added line fs/wbfs/inode.c:22" in lines
    assert "[PATCH 2/2] wbfs: defer the iput in wbfs_drop" in lines
    assert any(line.startswith("fixed: fs/wbfs/inode.c:6:2: iput()") for line in lines)
    assert lines[-1] == "series: 1 new, 1 fixed, 42 unchanged"


def test_a_patch_that_only_fixes_exits_0_and_stdin_works(cache, tmp_path):
    # Patch 2 applies without patch 1: it only touches wbfs_drop.
    fix = (PATCHES / "0002-wbfs-defer-iput.patch").read_bytes()
    result = check(cache, "-", stdin=fix)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "series: 0 new, 1 fixed, 42 unchanged"


def test_the_tree_is_never_written(cache):
    before = {p: p.read_bytes() for p in TREE.rglob("*.c")}
    result = check(cache, str(PATCHES / "series.mbox"))
    assert result.exit_code == 1 and "new: " in result.stdout, result.output
    assert {p: p.read_bytes() for p in TREE.rglob("*.c")} == before


@pytest.mark.parametrize(
    "content, message",
    [
        (b"Subject: [PATCH] words\n\nNo diff.\n", "holds no patch"),
        (b"--- a/fs/missing.c\n+++ b/fs/missing.c\n@@ -1 +1 @@\n-a\n+b\n", "does not exist in the tree"),
        (
            b"--- a/fs/wbfs/inode.c\n+++ b/fs/wbfs/inode.c\n@@ -1,2 +1,2 @@\n-no such line\n+x\n context\n",
            "hunk 1 (@@ -1,2) does not apply to fs/wbfs/inode.c",
        ),
    ],
)
def test_bad_patches_exit_2_with_a_clear_message(tmp_path, content, message, capsys):
    patch = tmp_path / "bad.patch"
    patch.write_bytes(content)
    with pytest.raises(SystemExit) as done:
        main(["check-patch", str(patch), "--tree", str(TREE), "--cache-dir", str(tmp_path / "c")])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_b4_review_check_protocol(cache):
    message = (PATCHES / "0001-wbfs-drop-at-once.patch").read_bytes()
    result = check(cache, "-", "--format", "b4", stdin=message)
    assert result.exit_code == 1
    (entry,) = json.loads(result.stdout)
    assert set(entry) == {"tool", "status", "summary", "url", "details"}
    assert (entry["tool"], entry["status"], entry["summary"]) == (
        "putlint", "fail", "1 new, 0 fixed final-put finding(s)")
    assert entry["details"].splitlines()[0].startswith("new: fs/wbfs/inode.c:22:3: iput() may drop the last inode")
    assert "  introduced by the added line fs/wbfs/inode.c:22" in entry["details"].splitlines()
    clean = check(cache, "-", "--format", "b4", stdin=(PATCHES / "0002-wbfs-defer-iput.patch").read_bytes())
    assert clean.exit_code == 0
    assert [(e["status"], e["summary"]) for e in json.loads(clean.stdout)] == [("pass", "0 new, 1 fixed final-put finding(s)")]


UNRELATED = b"""\
--- /dev/null
+++ b/fs/quiet/quiet.c
@@ -0,0 +1,4 @@
+void quiet_helper(void)
+{
+	quiet_other();
+}
"""


def test_a_patch_outside_every_search_is_checked_without_searching_again(cache):
    from putlint.checkpatch import check_series
    from putlint.patches import read_patches
    from putlint.ruleset import load_rules
    from putlint.tree import open_tree

    first = check_series(open_tree(TREE), load_rules(), Path(cache), read_patches(UNRELATED, "quiet.patch"), jobs=1)
    assert first.stats["contexts_searched_again"] == []
    assert (first.new, first.fixed, first.unchanged) == ((), (), 43)
    # The wbfs fix touches what the writeback search read: that context alone is searched again.
    fix = read_patches((PATCHES / "0002-wbfs-defer-iput.patch").read_bytes(), "fix")
    second = check_series(open_tree(TREE), load_rules(), Path(cache), fix, jobs=1)
    assert [f.path for f in second.fixed] == ["fs/wbfs/inode.c"]
    assert "writeback" in second.stats["contexts_searched_again"]


def test_a_damaged_saved_state_is_recomputed_with_a_warning(cache, tmp_path):
    patch = str(PATCHES / "0002-wbfs-defer-iput.patch")
    clean = check(cache, patch)
    saved = [p for p in (Path(cache) / "index").iterdir() if ".findings-" in p.name or ".program-" in p.name]
    assert len(saved) == 2
    for path in saved:
        path.write_bytes(path.read_bytes()[:40] + b"\x00garbage")
    damaged = check(cache, patch)
    assert damaged.exit_code == clean.exit_code == 0
    assert damaged.stdout == clean.stdout
    assert damaged.stderr.count("is damaged") == 2
    assert check(cache, patch).stderr == ""


SUPPRESSED = b"""\
--- a/fs/wbfs/inode.c
+++ b/fs/wbfs/inode.c
@@ -18,7 +18,9 @@
 static void wbfs_drop_later(struct wbfs_iput_work *w)
 {
 	INIT_WORK(&w->work, wbfs_iput_workfn);
-	queue_work(system_wq, &w->work);
+	if (!queue_work(system_wq, &w->work))
+		/* putlint: ignore[final-put-in-writeback] the caller holds another reference */
+		iput(w->inode);
 }
 
 static void wbfs_balanced(struct inode *inode)
"""


def test_a_suppression_comment_in_the_patch_keeps_a_new_finding_from_failing_it(cache):
    result = check(cache, "-", stdin=SUPPRESSED)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == (
        "suppressed: fs/wbfs/inode.c:23:3: iput() may drop the last inode reference in writeback context; its"
        " teardown reaches inode_wait_for_writeback, which sleeps until I_SYNC clears, and this writeback worker"
        " holds I_SYNC (fs/fs-writeback.c) (self-deadlock: only this writeback worker completes it)"
        " [final-put-in-writeback] (comment: the caller holds another reference)"
    )
    assert lines[-1] == "series: 0 new, 0 fixed, 43 unchanged, 1 new suppressed"
    data = json.loads(check(cache, "-", "-f", "json", stdin=SUPPRESSED).stdout)
    assert [(n["line"], n["suppressed"]) for n in data["new"]] == [(23, True)]
    (b4,) = json.loads(check(cache, "-", "-f", "b4", stdin=SUPPRESSED).stdout)
    assert (b4["status"], b4["summary"]) == ("pass", "0 new, 0 fixed final-put finding(s)")


def test_an_allowlist_entry_suppresses_a_new_finding_too(cache, tmp_path):
    config = tmp_path / "putlint.toml"
    config.write_text('[[ignore]]\nrule = "final-put-in-writeback"\npath = "fs/wbfs/inode.c"\n'
                      'function = "wbfs_drop_later"\nreason = "the work holds a reference"\n')
    result = check(cache, str(PATCHES / "0001-wbfs-drop-at-once.patch"), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "(allowlist: the work holds a reference)" in result.stdout


CONSTANT_FLIPPED = """From: A Developer <dev@example.org>
Subject: [PATCH] walkfs: walk locally as if remote

---
 fs/walkfs/inode.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/fs/walkfs/inode.c b/fs/walkfs/inode.c
--- a/fs/walkfs/inode.c
+++ b/fs/walkfs/inode.c
@@ -33,7 +33,7 @@ static void walk_all(struct inode *inode, int goal)
 static void walk_local(struct inode *inode)
 {
 \t/* remote = false: walk_one returns before its puts. */
-\twalk_one(inode, WALK_DROP, false);
+\twalk_one(inode, WALK_DROP, true);
 }
 
 static void walk_reassigned(struct inode *inode, int goal)
"""


def test_a_constant_changed_by_the_patch_makes_a_ruled_out_put_reachable(cache):
    data = json.loads(check(cache, "-", "-f", "json", stdin=CONSTANT_FLIPPED).stdout)
    assert [(n["path"], n["line"], n["function"]) for n in data["new"]] == [("fs/walkfs/inode.c", 15, "walk_one")]
    (new,) = data["new"]
    assert [hop["function"] for hop in new["reach"]][-3:] == ["walk_local", "walk_one", "iput"]
    assert data["fixed"] == []


FINALITY = PATCHES / "finality"


def test_a_take_and_drop_added_above_a_reported_put_fix_nothing(cache):
    # The pair's own drop is enclosed by the take and the put below, which stays reported.
    result = check(cache, str(FINALITY / "0001-wbfs-pin-the-inode-while-syncing.patch"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "[PATCH] wbfs: pin the inode while touching it in wbfs_drop", "  no change in findings", "",
        "series: 0 new, 0 fixed, 43 unchanged"]


def test_a_fix_names_the_lines_that_made_the_put_not_final(cache):
    result = check(cache, str(FINALITY / "0002-wbfs-hold-the-inode-across-wbfs_drop.patch"), "-f", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    (fixed,) = data["fixed"]
    assert (fixed["line"], fixed["function"]) == (6, "wbfs_drop")
    assert [(r["line"], r["side"], r["text"], r["why"]) for r in fixed["fixed_by"]] == [
        (51, "added", "ihold(inode);", "ihold() in wbfs_writepages takes a reference on inode"),
        (53, "added", "iput(inode);", "iput() drops it after the call"),
    ]
    # ... and the new drop is reported: the last one if the others leave meanwhile
    (new,) = data["new"]
    assert (new["line"], new["function"], new["confidence"], new["finality"]["kind"]) == (
        53, "wbfs_writepages", "medium", "last-if-others-leave")
    text = check(cache, str(FINALITY / "0002-wbfs-hold-the-inode-across-wbfs_drop.patch")).stdout.splitlines()
    assert "  fixed by the added line fs/wbfs/inode.c:51: ihold(inode); (ihold() in wbfs_writepages takes a" \
           " reference on inode)" in text


def test_a_patch_to_a_function_a_rule_names_gets_a_note(cache):
    result = check(cache, str(FINALITY / "0003-ceph-trace-request-release.patch"), "-f", "json")
    assert result.exit_code == 0, result.output
    (patch,) = json.loads(result.stdout)["patches"]
    assert [(n["rule"], n["function"]) for n in patch["assumptions"]] == [
        (f"rules/puts/inode.yaml:{rule_line('puts/inode.yaml', 'nonfinal_if_argument')}", "ceph_mdsc_release_request"),
        (f"rules/puts/inode.yaml:{rule_line('puts/inode.yaml', 'nonfinal_if_argument', 1)}", "ceph_mdsc_release_request"),
    ]
    assert patch["assumptions"][0]["what"].startswith("put inode nonfinal_if_argument: the inode of a ceph request's dentry")
    text = check(cache, str(FINALITY / "0003-ceph-trace-request-release.patch")).stdout
    assert f"note: rules/puts/inode.yaml:{rule_line('puts/inode.yaml', 'nonfinal_if_argument')} assumes something of ceph_mdsc_release_request(), which this patch" \
           " changes; re-check it: " in text


def test_a_finding_that_disappears_without_a_reason_is_gone_not_fixed():
    from putlint.checkpatch import _Judge, _compare
    from putlint.findings import Finding, Hop
    from putlint.fixes import PatchLines
    from putlint.patches import Patch

    hops = (Hop("entry", "fs/a.c", 1, "context entry: x"), Hop("iput", "fs/a.c", 5, "call"))
    finding = Finding("final-put-in-writeback", "writeback", "error", "high", "fs/a.c", 5, 2, "f", "iput", "w",
                      hops, hops, "m").with_fingerprint()
    unrelated = Patch("[PATCH] b: words", 1, 1, "p", "--- a/fs/b.c\n+++ b/fs/b.c\n@@ -1 +1 @@\n-x\n+y\n")

    class Silent:
        def explain(self, path, line, context):
            return []

    judge = _Judge(Silent(), {})
    _new, fixed, _fixed_by, gone = _compare(
        {(finding.fingerprint, 0): finding}, {}, PatchLines.of(unrelated), judge, lambda path: None, (), {})
    assert (fixed, gone) == ((), (finding,))


def test_a_patch_search_starts_from_the_saved_calls_and_readings(cache, monkeypatch):
    """A warm check resolves again only the calls of functions the patch can
    have changed and parses only the patched file; the findings are those of
    a check with no saved state to start from."""
    from putlint.checkpatch import check_series
    from putlint.patches import read_patches
    from putlint.ruleset import load_rules
    from putlint.search import edges as edges_module, sources as sources_module
    from putlint.tree import open_tree

    fix = read_patches((PATCHES / "0002-wbfs-defer-iput.patch").read_bytes(), "fix")
    check_series(open_tree(TREE), load_rules(), Path(cache), read_patches(UNRELATED, "quiet.patch"), jobs=1)
    resolved, parsed = [], []
    real_resolved, real_reader = edges_module.EdgeView._resolved, sources_module.BodyReader

    def resolving(view, function, affinity):
        resolved.append(view.program.path_of(function))
        return real_resolved(view, function, affinity)

    monkeypatch.setattr(edges_module.EdgeView, "_resolved", resolving)
    monkeypatch.setattr(sources_module, "BodyReader", lambda source: parsed.append(source) or real_reader(source))
    warm = check_series(open_tree(TREE), load_rules(), Path(cache), fix, jobs=1)
    assert set(resolved) == {"fs/wbfs/inode.c"}  # the patched file's functions; nothing there calls a changed name
    assert len(parsed) == 1 and b"wbfs_drop_later(wbfs_work_of(inode));" in parsed[0]  # the patched text

    for saved in (Path(cache) / "index").glob("*"):
        if any(f".{kind}-" in saved.name for kind in ("edges", "readings", "bodies")):
            saved.unlink()
    resolved.clear()
    cold = check_series(open_tree(TREE), load_rules(), Path(cache), fix, jobs=1)
    assert len(set(resolved)) > 1
    assert [(f.fingerprint, f.line) for f in warm.after] == [(f.fingerprint, f.line) for f in cold.after]
    assert [f.fingerprint for f in warm.fixed] == [f.fingerprint for f in cold.fixed] != []
