"""The wait models of the fixture kernel: pinned work is quiet and unpinned work
reported, the same worker is an error and another worker a warning, a
hazard a note; and the rule keys that declare them are validated."""

import shutil

import pytest

from putlint.errors import InputError
from putlint.ruleset import load_rules
from putlint.scan import scan
from putlint.tree import open_tree
from test_ruleset import CONTEXT
from trees import FIXTURES, TREE


def _findings(tree, tmp_path):
    run = scan(open_tree(tree), load_rules(), tmp_path / "cache", jobs=1)
    return {(f.path, f.line): f for f in run.findings}, run.stats["contexts"]


@pytest.fixture(scope="module")
def fixture_findings(tmp_path_factory):
    return _findings(TREE, tmp_path_factory.mktemp("waits"))


def test_same_worker_is_a_self_deadlock(fixture_findings):
    findings, _ = fixture_findings
    finding = findings[("fs/ceph/addr.c", 19)]
    assert [h.function for h in finding.reach] == [
        "ceph_con_workfn", "ceph_con_process_message", "osd_dispatch", "finish_netfs_read", "iput",
    ]
    assert (finding.severity, finding.cycle, finding.wait) == ("error", "self-deadlock", "netfs_wait_for_outstanding_io")
    assert finding.cycle_why == (
        "osd workers complete it, and this chain runs on one (osd_dispatch); the work it waits for is not pinned:"
        " ceph_netfs_issue_read (fs/ceph/addr.c:7) does not take a reference (ihold/igrab/__iget)"
        " before ceph_osdc_start_request"
    )


def test_another_worker_of_the_pool_is_a_stall(fixture_findings):
    findings, _ = fixture_findings
    finding = findings[("fs/ceph/mds_client.c", 9)]
    assert "mds_dispatch" in [h.function for h in finding.reach]
    assert (finding.severity, finding.cycle) == ("warning", "stall")
    assert finding.cycle_why.startswith(
        "osd workers complete it, and this chain runs on a mds worker (mds_dispatch):"
        " that worker stalls until another one completes it"
    )
    assert finding.message.endswith("(stall: " + finding.cycle_why + ")")


def test_pinned_work_is_quiet_and_counted(fixture_findings):
    findings, stats = fixture_findings
    assert not [key for key in findings if key[0] == "fs/pinfs/inode.c"]
    assert stats["ceph-messenger"]["pinned_work_puts"] == 1


def test_an_issuer_that_stops_pinning_brings_the_wait_back(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    pinfs = tree / "fs" / "pinfs" / "inode.c"
    pinfs.write_text(pinfs.read_text().replace("\tihold(inode);\n", ""))
    findings, stats = _findings(tree, tmp_path)
    finding = findings[("fs/pinfs/inode.c", 31)]  # a line up: the ihold is gone
    assert (finding.function, finding.severity, finding.cycle) == ("pinfs_forget", "warning", "stall")
    assert "pinfs_issue_read (fs/pinfs/inode.c:13) does not take a reference" in finding.cycle_why
    assert stats["ceph-messenger"]["pinned_work_puts"] == 0


def test_a_take_after_the_start_does_not_pin(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    pinfs = tree / "fs" / "pinfs" / "inode.c"
    text = pinfs.read_text()
    pinfs.write_text(text.replace("\tihold(inode);\n\tceph_osdc_start_request(req);\n",
                                  "\tceph_osdc_start_request(req);\n\tihold(inode);\n"))
    findings, _ = _findings(tree, tmp_path)
    assert "does not take a reference" in findings[("fs/pinfs/inode.c", 32)].cycle_why


def test_reclaim_severities_follow_the_cycle(fixture_findings):
    findings, _ = fixture_findings
    got = {key: (f.severity, f.cycle) for key, f in findings.items() if f.context == "reclaim"}
    assert got == {
        ("fs/dcache.c", 9): ("warning", "stall"),  # a journal start: the commit thread completes it
        ("fs/gfpfs/inode.c", 16): ("note", "hazard"),  # GFP_KERNEL under PF_MEMALLOC can only fail
        ("fs/nofailfs/inode.c", 18): ("warning", "stall"),  # __GFP_NOFAIL waits for others to free memory
    }


def test_a_wait_with_its_own_severity_keeps_a_hazard_an_error(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    (tree / "fs" / "dirtyfs").mkdir()
    shutil.copy(FIXTURES / "waits" / "dirtyfs.c", tree / "fs" / "dirtyfs" / "inode.c")
    run = scan(open_tree(tree), load_rules(), tmp_path / "cache", jobs=1)
    dirtied = {(f.path, f.line): f for f in run.findings if f.wait == "folio_mark_dirty"}
    # folio_mark_dirty waits for nothing: a hazard, which the wait's `severity` makes an error; the put
    # with a reference held across it (line 31) is quiet; the dcache's put runs dirtyfs' eviction too
    assert {key: (f.severity, f.cycle) for key, f in dirtied.items()} == {
        ("fs/dcache.c", 9): ("error", "hazard"),
        ("fs/dirtyfs/inode.c", 19): ("error", "hazard"),
        ("fs/dirtyfs/inode.c", 34): ("error", "hazard"),
    }
    assert dirtied[("fs/dirtyfs/inode.c", 19)].cycle_why == (
        "nothing waits for another context; the folio is dirtied from eviction under PF_MEMALLOC, where"
        " reclaim may already have freed its buffers (ext4_dirty_folio warns, fs/ext4/inode.c:3587)")
    gfp = {(f.path, f.line): f for f in run.findings if f.wait.startswith("kmalloc(GFP_KERNEL")}
    assert gfp[("fs/gfpfs/inode.c", 16)].cycle_why == (
        "nothing waits for another context; under PF_MEMALLOC the allocation cannot enter reclaim again,"
        " it can only fail")


@pytest.mark.parametrize(
    "extra, message",
    [
        ("    completed_by: someone\n", r"extra.yaml:8: completed_by must be one of this-worker, pool, other, hazard"),
        ("    completed_by: pool\n    waits_for: x\n", r"extra.yaml:6: completed_on names the workers of a 'pool' wait"),
        ("    completed_by: this-worker\n", r"extra.yaml:6: missing key 'waits_for'"),
        ("    pinned:\n      issuer: a.b\n", r"extra.yaml:9: missing key 'take'"),
        ("    severity: fatal\n", r"extra.yaml:8: severity must be one of error, warning, note"),
    ],
)
def test_wait_models_are_validated(tmp_path, extra, message):
    (tmp_path / "contexts").mkdir()
    (tmp_path / "contexts" / "extra.yaml").write_text(CONTEXT + extra)
    with pytest.raises(InputError, match=message):
        load_rules((tmp_path,))
