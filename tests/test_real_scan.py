"""`putlint scan` on Debian's linux-source-6.12: the writeback, messenger and
reclaim deadlocks of the seed threads are reported with their real chains, and
the deferred puts stay quiet. The graph is built from the parts of the tree
these chains live in (fs, mm, net/ceph, include, kernel, block, lib) to keep CI
fast; the index is cached under ~/.cache/putlint/test-index between runs."""

import os
from dataclasses import replace
from pathlib import Path

import pytest

from putlint.ruleset import load_rules
from putlint.scan import scan
from putlint.tree import open_tree

from kernels import tree_marks

TREE, pytestmark = tree_marks("PUTLINT_KERNEL_TREE")
GRAPH = ("fs", "mm", "net/ceph", "include", "kernel", "block", "lib")
CACHE = Path(os.environ.get("PUTLINT_TEST_CACHE", Path.home() / ".cache" / "putlint" / "test-index"))


@pytest.fixture(scope="module")
def run():
    return scan(open_tree(TREE), load_rules(), CACHE, graph_scopes=GRAPH, jobs=2)


@pytest.fixture(scope="module")
def findings(run):
    return [f for f in run.findings if not f.suppressed]


def without_pinned_netfs_reads(rules):
    """The rules as if 6.12's netfs reads did not pin their inode: the messenger's
    netfs wait then stands, and its findings witness the precision rules."""
    messenger = rules.contexts["ceph-messenger"]
    waits = tuple(replace(w, pinned=None) for w in messenger.waits)
    return replace(rules, contexts={**rules.contexts, "ceph-messenger": replace(messenger, waits=waits)})


@pytest.fixture(scope="module")
def unpinned():
    run = scan(open_tree(TREE), without_pinned_netfs_reads(load_rules()), CACHE, graph_scopes=GRAPH, jobs=2)
    return [f for f in run.findings if not f.suppressed]


def chain(hops):
    return [(hop.function, hop.path, hop.line, hop.via) for hop in hops]


def one(findings, rule, path, function, line, put="iput"):
    """The finding of `rule` at the `put` in `function`, found by name (`line`
    tells two such puts in one function apart), then its line checked."""
    (found,) = [f for f in findings if (f.rule, f.path, f.function, f.put) == (rule, path, function, put)
                and (f.line == line or sum(g.function == function and g.rule == rule for g in findings) == 1)]
    assert found.line == line, (function, found.line)
    return found


def test_writeback_iput_in_ceph_put_wrbuffer_cap_refs(findings):
    finding = one(findings, "final-put-in-writeback", "fs/ceph/caps.c", "ceph_put_wrbuffer_cap_refs", 3483)
    assert (finding.put, finding.function, finding.col) == ("iput", "ceph_put_wrbuffer_cap_refs", 3)
    assert (finding.confidence, finding.finality.kind) == ("high", "unknown")
    assert [(e.path, e.what) for e in finding.finality.evidence] == [
        ("rules/contexts/writeback.yaml", "writeback pins the inode by I_SYNC, with no reference")]
    # The production stack of the seed thread: wb_workfn ... writeback_sb_inodes (no inode reference).
    assert chain(finding.reach) == [
        ("wb_workfn", "fs/fs-writeback.c", 2379,
         "context entry: writeback worker (INIT_DELAYED_WORK(&wb->dwork, wb_workfn), mm/backing-dev.c)"),
        ("wb_do_writeback", "fs/fs-writeback.c", 2396, "call"),
        ("wb_writeback", "fs/fs-writeback.c", 2356, "call"),
        ("writeback_sb_inodes", "fs/fs-writeback.c", 2209, "call"),
        ("__writeback_single_inode", "fs/fs-writeback.c", 2029, "call"),
        ("do_writepages", "fs/fs-writeback.c", 1733, "call"),
        ("ceph_writepages_start", "mm/page-writeback.c", 2683, "(struct address_space_operations)->writepages"),
        ("ceph_process_folio_batch", "fs/ceph/addr.c", 1690, "call"),
        ("ceph_check_page_before_write", "fs/ceph/addr.c", 1327, "call"),
        ("folio_invalidate", "fs/ceph/addr.c", 1173, "call"),
        ("ceph_invalidate_folio", "mm/truncate.c", 141, "(struct address_space_operations)->invalidate_folio"),
        ("ceph_put_wrbuffer_cap_refs", "fs/ceph/addr.c", 158, "call"),
        ("iput", "fs/ceph/caps.c", 3483, "call"),
    ]
    assert chain(finding.teardown)[:3] == [
        ("iput", "fs/inode.c", 1886, "put"),
        ("iput_final", "fs/inode.c", 1900, "call"),
        ("evict", "fs/inode.c", 1874, "call"),
    ]
    assert chain(finding.teardown)[-1][:3] == ("inode_wait_for_writeback", "fs/inode.c", 718)
    assert (finding.severity, finding.cycle) == ("error", "self-deadlock")


def test_on_6_12_every_osd_read_pins_its_inode_so_the_netfs_wait_is_no_cycle(run, findings):
    # ceph_netfs_issue_read: ihold(inode) before ceph_osdc_start_request (fs/ceph/addr.c:441-444);
    # finish_netfs_read: iput after netfs_read_subreq_terminated (fs/ceph/addr.c:258-259).
    assert [f for f in findings if f.wait == "netfs_wait_for_outstanding_io"] == []
    # (42 puts that may be final reach only that wait; 18 before brackets had to hold on every path)
    assert run.stats["contexts"]["ceph-messenger"]["pinned_work_puts"] == 42
    assert [f for f in findings if f.context == "ceph-messenger"] == []


def test_unpinned_the_messenger_chain_runs_dispatch_to_iput_into_ceph_evict_inode(unpinned):
    finding = one(unpinned, "final-put-in-ceph-messenger", "fs/ceph/caps.c", "ceph_put_wrbuffer_cap_refs", 3483)
    names = [hop.function for hop in finding.reach]
    assert names[0] == "ceph_con_workfn" and names[-3:] == ["writepages_finish", "ceph_put_wrbuffer_cap_refs", "iput"]
    vias = {hop.function: hop.via for hop in finding.reach}
    assert vias["osd_dispatch"] == "(struct ceph_connection_operations)->dispatch"
    assert vias["writepages_finish"] == "(struct ceph_osd_request)->r_callback"
    assert chain(finding.teardown)[3:] == [
        ("ceph_evict_inode", "fs/inode.c", 722, "(struct super_operations)->evict_inode"),
        (
            "netfs_wait_for_outstanding_io",
            "fs/ceph/inode.c",
            744,
            "wait: waits for the inode's outstanding netfs requests, whose OSD reads complete when a messenger"
            " worker dispatches their replies (include/linux/netfs.h)",
        ),
    ]
    # On an OSD connection's worker, which completes the reads: a self-deadlock.
    assert (finding.severity, finding.cycle) == ("error", "self-deadlock")
    handle_caps = one(unpinned, "final-put-in-ceph-messenger", "fs/ceph/caps.c", "ceph_handle_caps", 4640)
    assert [hop.function for hop in handle_caps.reach][-3:] == ["mds_dispatch", "ceph_handle_caps", "iput"]
    # On an MDS connection's worker: it stalls until an OSD worker completes the reads.
    assert (handle_caps.severity, handle_caps.cycle) == ("warning", "stall")


def test_reclaim_shrinker_kills_a_dentry_and_evicts_through_the_journal(findings):
    # A generic put on a generic path: one finding per filesystem whose teardown reaches a wait.
    generic = [f for f in findings if (f.rule, f.path, f.line) == ("final-put-in-reclaim", "fs/dcache.c", 424)]
    owners = {hop.function for f in generic for hop in f.teardown}
    assert {"ext4_dirty_inode", "ocfs2_evict_inode", "xfs_fs_dirty_inode", "nfs4_evict_inode"} <= owners
    assert len(generic) == len({f.fingerprint for f in generic}) > 10
    assert {(f.finality.kind, f.confidence) for f in generic} == {("last-by-design", "medium")}
    (finding,) = [f for f in generic if "ext4_dirty_inode" in {hop.function for hop in f.teardown}
                  and "ecryptfs_evict_inode" not in {hop.function for hop in f.teardown}]
    names = [hop.function for hop in finding.reach]
    assert names[-7:] == [
        "super_cache_scan", "prune_dcache_sb", "shrink_dentry_list", "shrink_kill", "__dentry_kill",
        "dentry_unlink_inode", "iput",
    ]
    assert finding.reach[-7].via == "(struct shrinker)->scan_objects"
    assert finding.wait in {"ext4_journal_start", "jbd2__journal_start", "__ext4_journal_start_sb"}
    # kjournald2 completes a journal start (fs/jbd2/commit.c:537); the shrinker holds no handle.
    assert (finding.severity, finding.cycle) == ("warning", "stall")


def test_the_last_deactivate_super_waits_for_the_s_umount_the_flusher_holds(findings):
    finding = one(findings, "final-put-in-writeback", "fs/nfs/super.c", "nfs_sb_deactive", 210, put="deactivate_super")
    assert [hop.function for hop in finding.teardown] == ["deactivate_super", "__super_lock_excl"]
    assert (finding.severity, finding.cycle) == ("error", "self-deadlock")
    # jffs2 never reaches jffs2_do_setattr from writeback (fs/jffs2/fs.c:376).
    assert not [f for f in findings if f.path == "fs/jffs2/fs.c"]


def test_what_the_code_triage_found_false_stays_quiet(findings):
    teardowns = [{hop.function for hop in f.teardown} for f in findings]
    # jffs2_dirty_inode needs I_DIRTY_DATASYNC (fs/jffs2/fs.c:376); the lazytime iput adds only SYNC.
    assert not [t for t in teardowns if "jffs2_do_setattr" in t]
    # ubifs writes back only linked inodes (fs/ubifs/super.c:321): it drops no xattr inode there.
    assert not [f for f in findings if f.path.startswith("fs/ubifs/")]
    # Eviction never grows an affs or udf in-ICB file (i_size 0), bfs_dump_imap is compiled out,
    # ntfs3 frees runs with RUN_DEALLOCATE, and orangefs's eviction invalidates whole folios.
    for hop in ("affs_write_end", "bfs_dump_imap", "udf_expand_file_adinicb", "orangefs_launder_folio"):
        assert not [t for t in teardowns if hop in t], hop
    assert not [t for t in teardowns if {"ni_delete_all", "run_unpack_ex"} <= t]
    sites = {(f.context, f.path, f.line) for f in findings}
    # udf's metadata inode is hidden (never unlinked); signal_our_withdraw looks its journal up again.
    assert {("writeback", "fs/udf/super.c", 966), ("writeback", "fs/gfs2/inode.c", 230)} & sites == set()
    # __udf_iget drops a cached inode that is not hidden: that one may be unlinked meanwhile.
    assert ("writeback", "fs/udf/inode.c", 1976) in sites


def test_deferred_puts_stay_quiet(findings):
    assert [f for f in findings if f.put == "fput"] == []
    quiet_functions = {"ceph_queue_inode_work", "ceph_inode_work", "btrfs_add_delayed_iput", "delayed_fput", "____fput"}
    assert [f for f in findings if f.function in quiet_functions] == []
    # XFS evicts through destroy_inode -> inodegc, a queued worker: no teardown goes through it.
    assert [f for f in findings if "xfs_fs_destroy_inode" in {hop.function for hop in f.teardown}] == []
    # ceph_put_cap_refs_async only defers the caps check: its iput is reached, and only
    # the directory rule, traced up the chain to ceph_inode(req->r_parent), keeps it quiet.
    assert not any((f.path, f.function) == ("fs/ceph/caps.c", "__ceph_put_cap_refs") for f in findings)
    rules = load_rules()
    messenger = replace(rules.contexts["ceph-messenger"], distinct_objects=())
    without = replace(rules, contexts={**rules.contexts, "ceph-messenger": messenger}).select(
        ("final-put-in-ceph-messenger",), ()
    )
    run = scan(open_tree(TREE), without_pinned_netfs_reads(without), CACHE, ("fs/ceph",), graph_scopes=GRAPH, jobs=2)
    found = one(run.findings, "final-put-in-ceph-messenger", "fs/ceph/caps.c", "__ceph_put_cap_refs", 3383)
    assert [hop.function for hop in found.reach][-4:] == [
        "ceph_mdsc_release_dir_caps_async", "ceph_put_cap_refs_async", "__ceph_put_cap_refs", "iput"]


def test_what_the_put_drops_and_constants_down_the_chain(unpinned):
    sites = {(f.context, f.path, f.line) for f in unpinned}
    messenger = "ceph-messenger"
    quiet = {
        # a caller holds the inode (ceph_handle_caps: ceph_find_inode ... iput)
        (messenger, "fs/ceph/caps.c", 3513), (messenger, "fs/ceph/caps.c", 3517),
        # the snap flusher holds its ihold across ceph_flush_snaps
        (messenger, "fs/ceph/caps.c", 1803),
        # negative dentries: the else of d_really_is_positive, and a spliced-away one
        (messenger, "fs/ceph/inode.c", 2089), (messenger, "fs/ceph/inode.c", 1543),
        # directories and never-used inodes
        (messenger, "fs/ceph/mds_client.c", 1159), (messenger, "fs/ceph/mds_client.c", 1176),
        (messenger, "fs/ceph/mds_client.c", 1298), (messenger, "fs/ceph/mds_client.c", 3091),
        (messenger, "fs/ceph/mds_client.c", 1162), (messenger, "fs/ceph/inode.c", 191),
        (messenger, "fs/ceph/crypto.c", 350), (messenger, "fs/inode.c", 1186),
        # constants: request_demote(..., false) and xfs_icwalk(mp, XFS_ICWALK_RECLAIM, ...)
        ("reclaim", "fs/gfs2/glops.c", 591), ("writeback", "fs/gfs2/glops.c", 591),
        ("reclaim", "fs/xfs/xfs_icache.c", 1499),
        # the request's positive r_dentry holds the async-unlinked inode
        (messenger, "fs/ceph/dir.c", 1301),
        # only unlink, rmdir and rename commit with COMMIT_DELETE
        ("writeback", "fs/jfs/jfs_txnmgr.c", 2368),
    }
    assert quiet & sites == set()
    reported = {
        (messenger, "fs/ceph/caps.c", 4640), (messenger, "fs/ceph/mds_client.c", 1161),
        (messenger, "fs/ceph/inode.c", 2141), (messenger, "fs/dcache.c", 1629),
        ("writeback", "fs/ceph/caps.c", 3483),
    }
    assert reported <= sites
    # Quiet before for reasons that do not hold on every path, reported now one step lower:
    # the iterator's igrab is dropped only under `if (last_inode)` after its loop, and a
    # lookup's reference to a linked inode is the last only if it is unlinked meanwhile.
    lower = {(f.context, f.path, f.line): (f.finality.kind, f.confidence) for f in unpinned}
    assert lower[(messenger, "fs/ceph/mds_client.c", 1964)] == ("last-if-others-leave", "low")
    assert lower[("writeback", "fs/nilfs2/segment.c", 2075)] == ("last-if-others-leave", "medium")


TREE_61, MARKS_61 = tree_marks("PUTLINT_KERNEL_TREE_61")


@pytest.mark.parametrize("tree_61", [pytest.param(TREE_61, marks=MARKS_61)])
def test_the_writeback_deadlock_is_in_6_1_too_and_the_netfs_wait_is_not(tree_61):
    run = scan(open_tree(tree_61), load_rules(), CACHE, graph_scopes=GRAPH, jobs=2)
    findings = [f for f in run.findings if not f.suppressed]
    finding = one(findings, "final-put-in-writeback", "fs/ceph/caps.c", "ceph_put_wrbuffer_cap_refs", 3295)
    assert finding.function == "ceph_put_wrbuffer_cap_refs"
    names = [hop.function for hop in finding.reach]
    assert names[-3:] == ["ceph_invalidate_folio", "ceph_put_wrbuffer_cap_refs", "iput"]
    assert "ceph_writepages_start" in names
    assert [hop.function for hop in finding.teardown][-1] in {"inode_wait_for_writeback", "__inode_wait_for_writeback"}
    assert (finding.severity, finding.cycle) == ("error", "self-deadlock")
    assert [f for f in findings if f.wait == "netfs_wait_for_outstanding_io"] == []
    # ceph's drop_inode is generic_delete_inode: iput_final never writes a ceph inode back.
    assert [f for f in findings if f.context == "ceph-messenger"] == []
    # afs_put_operation's vnode iputs are a lookup's, its op->ops->put afs_rename_put a rename's:
    # neither context makes those ops. A cached directory's dentry is never the file written.
    quiet = {("fs/afs/fs_operation.c", 235), ("fs/afs/fs_operation.c", 237), ("fs/afs/fs_operation.c", 242),
             ("fs/afs/dir.c", 1920), ("fs/smb/client/cached_dir.c", 417), ("fs/smb/client/cached_dir.c", 593),
             ("fs/udf/super.c", 939), ("fs/gfs2/inode.c", 210)}
    assert [f for f in findings if (f.path, f.line) in quiet] == []
    assert not [f for f in findings if f.path.startswith("fs/ubifs/")]
    assert not [f for f in findings if "jffs2_do_setattr" in {hop.function for hop in f.teardown}]


def test_check_patch_on_the_real_tree_reports_the_ceph_fix_and_a_new_writeback_iput():
    from putlint.checkpatch import check_series
    from putlint.patches import read_patches

    series = Path(__file__).parent / "fixtures" / "patches" / "real-6.12" / "series.mbox"
    patches = read_patches(series.read_bytes(), str(series))
    run = check_series(open_tree(TREE), load_rules(), CACHE, patches, graph_scopes=GRAPH, jobs=2)
    fix, bad = run.patches
    assert fix.new == ()
    # The messenger's put there is no cycle on 6.12 (the netfs reads pin the inode): only
    # the writeback finding is fixed.
    assert sorted((f.rule, f.path, f.line) for f in fix.fixed) == [
        ("final-put-in-writeback", "fs/ceph/caps.c", 3483),
    ]
    (new,) = bad.new
    assert (new.finding.rule, new.finding.path, new.finding.line, new.finding.function) == (
        "final-put-in-writeback", "fs/ext4/inode.c", 2850, "ext4_writepages")
    assert new.introduced_by == (("fs/ext4/inode.c", 2850),)
    assert bad.fixed == ()


def test_the_precision_rules_quiet_what_the_triage_found_false(unpinned):
    findings = unpinned
    sites = {(f.rule, f.path, f.function) for f in findings}
    # Retry branches of the lookup helpers, aliases of held inodes, pseudo-fs removal.
    for function in ("ilookup", "ilookup5", "iget_locked", "inode_insert5", "d_splice_alias"):
        assert not [s for s in sites if s[2] == function], function
    assert not [f for f in findings if "simple_recursive_removal" in {hop.function for hop in f.reach}]
    # f2fs_drop_inode keeps an inode under writeback (I_SYNC) out of evict().
    assert not [s for s in sites if s[0] == "final-put-in-writeback" and s[1].startswith("fs/f2fs/")]
    # The EA inode of ext4_xattr_set_entry comes from ext4_xattr_inode_iget(..., &old_ea_inode).
    assert not [f for f in findings if (f.path, f.line) == ("fs/ext4/xattr.c", 1851)]
    # ... while the true ceph ones stay: writeback and messenger at caps.c:3483, finish_netfs_read.
    assert {("final-put-in-writeback", "fs/ceph/caps.c", "ceph_put_wrbuffer_cap_refs"),
            ("final-put-in-ceph-messenger", "fs/ceph/caps.c", "ceph_put_wrbuffer_cap_refs"),
            ("final-put-in-ceph-messenger", "fs/ceph/addr.c", "finish_netfs_read")} <= sites


def test_a_patch_that_unpins_the_osd_reads_brings_the_messenger_cycle_back():
    from putlint.checkpatch import check_series
    from putlint.patches import read_patches

    folder = Path(__file__).parent / "fixtures" / "patches" / "real-6.12"
    unpin, move = (folder / name for name in ("0003-ceph-netfs-read-without-ihold.patch",
                                              "0004-ceph-netfs-read-ihold-moved.patch"))
    run = check_series(open_tree(TREE), load_rules(), CACHE, read_patches(unpin.read_bytes(), str(unpin)),
                       graph_scopes=GRAPH, jobs=2)
    (result,) = run.patches
    new = {(n.finding.path, n.finding.function): n.finding for n in result.new}
    assert result.fixed == () and len(new) >= 10
    assert all(f.context == "ceph-messenger" and f.wait == "netfs_wait_for_outstanding_io" for f in new.values())
    handle_caps = new[("fs/ceph/caps.c", "ceph_handle_caps")]
    assert (handle_caps.severity, handle_caps.cycle) == ("warning", "stall")
    # addr.c:345 in the patched text (the iput at 259 is gone)
    assert "ceph_netfs_issue_read (fs/ceph/addr.c:345) does not take a reference" in handle_caps.cycle_why
    # Moving the ihold next to its assignment keeps it before ceph_osdc_start_request: nothing changes.
    quiet = check_series(open_tree(TREE), load_rules(), CACHE, read_patches(move.read_bytes(), str(move)),
                         graph_scopes=GRAPH, jobs=2)
    assert (quiet.patches[0].new, quiet.patches[0].fixed) == ((), ())
