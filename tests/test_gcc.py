"""`--format gcc`: each hop a `path:line: note:` line saying whether it is a
definition or a call site, for vim's quickfix and Emacs' compilation mode."""

import json
import re
from pathlib import Path

from click.testing import CliRunner

from putlint.cli import cli
from trees import TREE

FIXTURES = Path(__file__).parent / "fixtures"
# vim's default 'errorformat' for gcc and Emacs' compilation-error-regexp for gnu both take these.
NOTE = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+): note: (?P<text>.+)$")


def test_every_hop_is_a_note_at_its_definition_or_call_site(tmp_path):
    result = CliRunner().invoke(cli, ["scan", str(TREE), "fs/wbfs/inode.c", "--cache-dir", str(tmp_path), "-j", "1",
                                      "-f", "gcc"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:12] == [
        "fs/wbfs/inode.c:6:2: error: iput() may drop the last inode reference in writeback context; its teardown"
        " reaches inode_wait_for_writeback, which sleeps until I_SYNC clears, and this writeback worker holds"
        " I_SYNC (fs/fs-writeback.c) (self-deadlock: only this writeback worker completes it) [final-put-in-writeback]",
        "fs/fs-writeback.c:26: note: reach 1/7: definition of wb_workfn [context entry: writeback worker"
        " (INIT_DELAYED_WORK(&wb->dwork, wb_workfn), mm/backing-dev.c)]",
        "fs/fs-writeback.c:30: note: reach 2/7: call site: wb_workfn calls writeback_sb_inodes [call]",
        "fs/fs-writeback.c:23: note: reach 3/7: call site: writeback_sb_inodes calls __writeback_single_inode [call]",
        "fs/fs-writeback.c:15: note: reach 4/7: call site: __writeback_single_inode calls do_writepages [call]",
        "mm/page-writeback.c:5: note: reach 5/7: call site: do_writepages calls wbfs_writepages"
        " [(struct address_space_operations)->writepages]",
        "fs/wbfs/inode.c:51: note: reach 6/7: call site: wbfs_writepages calls wbfs_drop [call]",
        "fs/wbfs/inode.c:6: note: reach 7/7: call site: wbfs_drop calls iput [call]",
        "fs/inode.c:19: note: teardown 1/4: definition of iput [put]",
        "fs/inode.c:22: note: teardown 2/4: call site: iput calls iput_final [call]",
        "fs/inode.c:16: note: teardown 3/4: call site: iput_final calls evict [call]",
        "fs/inode.c:7: note: teardown 4/4: call site: evict calls inode_wait_for_writeback [wait: sleeps until I_SYNC"
        " clears, and this writeback worker holds I_SYNC (fs/fs-writeback.c)]",
    ]
    assert lines[-1] == "12 finding(s), 1 suppressed"
    notes = [NOTE.match(line) for line in lines if ": note: " in line]
    as_json = CliRunner().invoke(cli, ["scan", str(TREE), "fs/wbfs/inode.c", "--cache-dir", str(tmp_path), "-j", "1",
                                       "-f", "json"])
    hops = [(h["path"], h["line"]) for f in json.loads(as_json.stdout)["findings"] if not f["suppressed"]
            for h in (*f["reach"], *f["teardown"])]
    assert all(notes) and [(n["path"], int(n["line"])) for n in notes] == hops
    # each note points at a real line of the tree
    for note in notes:
        assert int(note["line"]) <= len((TREE / note["path"]).read_text().splitlines())


def test_the_definition_line_is_the_function_and_the_call_site_line_calls_the_next_hop(tmp_path):
    result = CliRunner().invoke(cli, ["scan", str(TREE), "fs/wbfs/inode.c", "--cache-dir", str(tmp_path), "-j", "1",
                                      "-f", "gcc"])
    for line in result.stdout.splitlines():
        note = NOTE.match(line)
        if not note:
            continue
        source = (TREE / note["path"]).read_text().splitlines()[int(note["line"]) - 1]
        definition = re.search(r"definition of (\w+)", note["text"])
        call = re.search(r"call site: \w+ calls (\w+)", note["text"])
        # an ops call site names the member it calls through, a callback the API it is passed to
        member = re.search(r"\[\(struct \w+\)->(\w+)\]$|\[callback via (\w+)\]$", note["text"])
        name = next(g for g in member.groups() if g) if member else (definition or call).group(1)
        assert re.search(rf"\b{name}\b", source), (line, source)
        if definition:
            assert re.match(rf"^\w.*\b{name}\(", source), (line, source)


def test_check_patch_gcc_has_the_introducing_line_and_the_fixed_put_as_notes(tmp_path):
    result = CliRunner().invoke(cli, ["check-patch", str(FIXTURES / "patches" / "series.mbox"), "--tree", str(TREE),
                                      "--cache-dir", str(tmp_path), "-f", "gcc"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "patch 1: [PATCH 1/2] wbfs: drop the inode at once when the work is already queued"
    assert lines[1].startswith("fs/wbfs/inode.c:22:3: error: new in patch 1: iput() may drop the last inode")
    assert "fs/wbfs/inode.c:22: note: introduced by this added line of patch 1" in lines
    assert lines[-3] == "patch 2: [PATCH 2/2] wbfs: defer the iput in wbfs_drop"
    assert lines[-2].startswith("fs/wbfs/inode.c:6:2: note: fixed by patch 2: iput() may drop the last inode")
    assert lines[-1] == "series: 1 new, 1 fixed, 42 unchanged"
