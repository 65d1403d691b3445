"""The extractor on Debian's linux-source-6.12 (PUTLINT_KERNEL_TREE, set by the
test command from scripts/get-kernel.sh): the functions and initializers the
writeback and messenger deadlocks go through are all found, with every call."""

import os
import re

import pytest

from putlint import store
from putlint.index import update_index
from putlint.tree import open_tree

from kernels import tree_marks

TREE, pytestmark = tree_marks("PUTLINT_KERNEL_TREE")

SCOPES = (
    "fs/ceph",
    "net/ceph",
    "fs/inode.c",
    "fs/fs-writeback.c",
    "mm/page-writeback.c",
)

# name -> (file, first line) in 6.12.117: found by name, then the line checked
TARGETS = {
    "ceph_writepages_start": ("fs/ceph/addr.c", 1636),
    "ceph_put_wrbuffer_cap_refs": ("fs/ceph/caps.c", 3403),
    "ceph_invalidate_folio": ("fs/ceph/addr.c", 137),
    "iput": ("fs/inode.c", 1886),
    "evict": ("fs/inode.c", 697),
    "inode_wait_for_writeback": ("fs/fs-writeback.c", 1589),
    "wb_workfn": ("fs/fs-writeback.c", 2379),
    "do_writepages": ("mm/page-writeback.c", 2672),
}

KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "typeof", "__typeof__", "defined", "do"}


@pytest.fixture(scope="module")
def facts_by_path(tmp_path_factory):
    root = open_tree(TREE)
    cache = tmp_path_factory.mktemp("cache")
    run = update_index(root, cache, scopes=SCOPES, jobs=2)
    assert run.statuses.get("unreadable", 0) == 0
    with store.Index(run.index_file, root) as index:
        return root, {f.path: f for f in index.load()}


def body_callees(source: str) -> set[str]:
    """Independent baseline: every `name(` token in code, comments and strings removed."""
    source = re.sub(r"/\*.*?\*/|//[^\n]*", " ", source, flags=re.S)
    source = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', source)
    source = re.sub(r"^\s*#.*$", " ", source, flags=re.M)
    return {name for name in re.findall(r"\b([A-Za-z_]\w*)\s*\(", source) if name not in KEYWORDS}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_target_function_and_every_call_in_it_are_found(facts_by_path, name):
    root, by_path = facts_by_path
    path, line = TARGETS[name]
    (function,) = [f for f in by_path[path].functions if f.name == name]
    assert function.line == line
    lines = (root / path).read_text(errors="replace").splitlines()
    body = "\n".join(lines[function.line - 1 : function.end_line])
    assert body.rstrip().endswith("}")
    header, _, body_only = body.partition("{")
    expected = body_callees(body_only)
    calls = [c for c in by_path[path].calls if c.caller == name]
    found = {c.callee for c in calls if c.kind == "direct"}
    found |= {re.split(r"->|\.", c.callee)[-1] for c in calls if c.kind == "member"}
    assert expected - found == set()
    assert calls, name


def test_the_calls_the_deadlock_chains_need(facts_by_path):
    _, by_path = facts_by_path
    calls = {(c.caller, c.callee) for f in by_path.values() for c in f.calls}
    assert {
        ("ceph_put_wrbuffer_cap_refs", "iput"),
        ("ceph_invalidate_folio", "ceph_put_wrbuffer_cap_refs"),
        ("iput", "iput_final"),
        ("iput_final", "evict"),
        ("evict", "inode_wait_for_writeback"),
        ("evict", "op->evict_inode"),
        ("do_writepages", "mapping->a_ops->writepages"),
        ("wb_workfn", "wb_do_writeback"),
    } <= calls


def test_ceph_ops_initializers(facts_by_path):
    _, by_path = facts_by_path
    inits = {
        (i.struct_type, i.field, i.target, i.variable, path, i.line)
        for path, f in by_path.items()
        for i in f.ops_inits
        if i.field in ("writepages", "evict_inode", "dispatch")
    }
    assert inits == {
        ("address_space_operations", "writepages", "ceph_writepages_start", "ceph_aops", "fs/ceph/addr.c", 1929),
        ("super_operations", "evict_inode", "ceph_evict_inode", "ceph_super_ops", "fs/ceph/super.c", 1033),
        ("ceph_connection_operations", "dispatch", "mds_dispatch", "mds_con_ops", "fs/ceph/mds_client.c", 6730),
        ("ceph_connection_operations", "dispatch", "mon_dispatch", "mon_con_ops", "net/ceph/mon_client.c", 1595),
        ("ceph_connection_operations", "dispatch", "osd_dispatch", "osd_con_ops", "net/ceph/osd_client.c", 6009),
    }


def test_member_call_receivers_are_typed(facts_by_path):
    _, by_path = facts_by_path
    evict_calls = [c for c in by_path["fs/inode.c"].calls if c.caller == "evict" and c.kind == "member"]
    assert [(c.callee, c.receiver_type, c.line) for c in evict_calls] == [
        ("op->evict_inode", "super_operations", 722)
    ]


def test_registrations_of_the_writeback_worker_and_of_fput_work_are_not_edges(tmp_path):
    """Why a queued put is deferred: no call and no callback reference leads
    from `INIT_DELAYED_WORK(&wb->dwork, wb_workfn)` (mm/backing-dev.c:539),
    `DECLARE_DELAYED_WORK(delayed_fput_work, delayed_fput)` or
    `init_task_work(&file->f_task_work, ____fput)` (fs/file_table.c) to the handler."""
    root = open_tree(TREE)
    run = update_index(root, tmp_path, scopes=("mm/backing-dev.c", "fs/file_table.c"), jobs=1)
    with store.Index(run.index_file, root) as index:
        by_path = {f.path: f for f in index.load()}
    assert {"delayed_fput", "____fput"} <= {f.name for f in by_path["fs/file_table.c"].functions}
    callees = {c.callee for f in by_path.values() for c in f.calls}
    referenced = {r.target for f in by_path.values() for r in f.refs}
    assert {"INIT_DELAYED_WORK", "DECLARE_DELAYED_WORK", "init_task_work", "wb_workfn", "____fput"}.isdisjoint(callees)
    assert {"wb_workfn", "delayed_fput", "____fput"}.isdisjoint(referenced)
