"""`putlint explain`: why a put site is reported or not, for each context, with
the code around every hop and every piece of evidence."""

import json

import pytest
from click.testing import CliRunner

from putlint.cli import cli, main
from trees import TREE, rule_line

PINS = rule_line("contexts/writeback.yaml", "pins")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("explain-cache"))


def explain(cache, target, *more):
    return CliRunner().invoke(cli, ["explain", target, "--tree", str(TREE), "--cache-dir", cache, *more])


def test_a_reported_put_shows_both_chains_with_code_and_its_finality(cache):
    result = explain(cache, "fs/wbfs/inode.c:6", "--context", "writeback")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "fs/wbfs/inode.c:6"
    assert lines[1].startswith("writeback: reported as final-put-in-writeback (error, confidence high), fingerprint ")
    at = lines.index("    -> wbfs_drop (fs/wbfs/inode.c:51) [call]")
    assert lines[at + 1:at + 6] == [
        "             49 | \tstruct inode *inode = mapping->host;",
        "             50 | ",
        "        >    51 | \twbfs_drop(inode);",
        "             52 | \twbfs_drop_later(wbfs_work_of(inode));",
        "             53 | \twbfs_balanced(inode);",
    ]
    assert "  teardown:" in lines and "    -> inode_wait_for_writeback (fs/inode.c:7) [wait: sleeps until I_SYNC" \
        " clears, and this writeback worker holds I_SYNC (fs/fs-writeback.c)]" in lines
    finality = lines.index("  finality: unknown")
    assert lines[finality + 1] == ("    - writeback pins the inode by I_SYNC, with no reference"
                                   f" (rules/contexts/writeback.yaml:{PINS})")


@pytest.mark.parametrize(
    "target, first, evidence",
    [
        ("fs/finfs/inode.c:13", "writeback: not reported (iput()): ruled out by the rule key takes", [
            "    - ihold() in finfs_enclose takes a reference on inode (fs/finfs/inode.c:18)",
            "    - iput() drops it after the call (fs/finfs/inode.c:21)",
        ]),
        ("fs/wbfs/inode.c:132", "writeback: not reported (dput()): ruled out by the rule key harmless_when", [
            "    - known here: !d_really_is_positive(dentry) (fs/wbfs/inode.c:125)",
            f"    - a negative dentry has no inode for dentry_unlink_inode to drop (rules/puts/dentry.yaml:{rule_line('puts/dentry.yaml', 'harmless_when', 1)})",
        ]),
        ("fs/f2fs/data.c:9", "writeback: not reported (iput()): its teardown reaches no wait of writeback", [
            "    - teardown_cuts: iput_final -> evict: f2fs_drop_inode returns 0 while I_SYNC is set"
            " (fs/f2fs/super.c:1469, written for this very f2fs_gc-from-writeback deadlock), so the last iput of the"
            " inode under writeback puts it on the LRU instead of evicting it (fs/inode.c:1848)"
            f" (rules/contexts/writeback.yaml:{rule_line('contexts/writeback.yaml', 'teardown_cuts')})",
            "    - without it the teardown goes on to inode_wait_for_writeback (fs/inode.c:16)",
        ]),
        ("fs/walkfs/inode.c:15", "writeback: not reported (iput()): every chain to it is impossible", [
            "    - the call at line 15 runs only when its case is true, and goal = WALK_FLUSH, remote = 1"
            " (fs/walkfs/inode.c:12)",
            "    - walk_write_inode passes constants to walk_all() (fs/walkfs/inode.c:48)",
            "    - the call at line 15 runs only when !remote is false, and goal = WALK_DROP, remote = 0"
            " (fs/walkfs/inode.c:9)",
            "    - walk_local passes constants to walk_one() (fs/walkfs/inode.c:35)",
        ]),
    ],
)
def test_a_quiet_put_says_exactly_what_ruled_it_out(cache, target, first, evidence):
    result = explain(cache, target, "--context", "writeback")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == first
    assert [line for line in lines if line.startswith("    - ")] == evidence
    # each piece of evidence in the tree comes with its code
    if evidence[0].endswith(".c:18)"):
        assert lines[lines.index(evidence[0]) + 3] == "        >    18 | \tihold(inode);"


def test_a_put_no_context_reaches_says_so_for_each(cache):
    result = explain(cache, "fs/wbfs/inode.c:15")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1:] == [
        "ceph-messenger: not reported: not reached: no chain from ceph_con_workfn,"
        " (struct ceph_connection_operations)->dispatch within 14 calls",
        "reclaim: not reported: not reached: no chain from kswapd, try_to_free_pages,"
        " (struct shrinker)->scan_objects within 14 calls",
        "writeback: not reported: not reached: no chain from wb_workfn, (struct address_space_operations)->writepages,"
        " (struct address_space_operations)->writepage, (struct super_operations)->write_inode within 14 calls",
    ]


def test_a_fingerprint_explains_its_finding(cache):
    scan = CliRunner().invoke(cli, ["scan", str(TREE), "fs/wbfs", "--cache-dir", cache, "-j", "1", "-f", "json"])
    (finding,) = [f for f in json.loads(scan.stdout)["findings"] if f["function"] == "wbfs_drop"]
    by_fingerprint = explain(cache, finding["fingerprint"])
    assert by_fingerprint.exit_code == 1, by_fingerprint.output
    assert by_fingerprint.stdout == explain(cache, "fs/wbfs/inode.c:6", "--context", "writeback").stdout


@pytest.mark.parametrize(
    "target, more, message",
    [
        ("fs/wbfs/inode.c", (), "'fs/wbfs/inode.c' is neither PATH:LINE nor a fingerprint"),
        ("fs/wbfs/inode.c:1", (), "fs/wbfs/inode.c:1 holds no call of a put function the rules name"),
        ("fs/nowhere.c:3", (), "fs/nowhere.c is not a file of the tree"),
        ("fs/wbfs/inode.c:7", ("--context", "nowhere"), "unknown context 'nowhere'"),
        ("0123abcd", (), "no finding has the fingerprint 0123abcd"),
    ],
)
def test_bad_targets_exit_2(cache, capsys, target, more, message):
    with pytest.raises(SystemExit) as done:
        main(["explain", target, "--tree", str(TREE), "--cache-dir", cache, *more])
    assert done.value.code == 2
    assert message in capsys.readouterr().err
