"""`putlint scan` on the annotated fixture kernel: exact findings, chains,
formats, suppression, exit codes; and the rule fixtures as a whole."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from putlint.cli import cli, main
from putlint.ruleset import load_rules
from putlint.ruletest import annotations_of, run_rule_tests
from trees import RULES, TREE as FIXTURE, rule_line


@pytest.fixture(scope="module")
def scan_json(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    result = CliRunner().invoke(
        cli, ["scan", str(FIXTURE), "--cache-dir", str(cache), "--jobs", "1", "--format", "json"]
    )
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)


def test_rule_fixtures_match_their_annotations():
    result = run_rule_tests(RULES, load_rules())
    assert result.missing == result.unexpected == result.untested == result.promote == result.misplaced == ()
    assert result.passed and result.findings == 39
    assert {a.rule for a in result.annotations} == set(load_rules().checks)


def test_writeback_finding_with_both_chains(scan_json):
    (finding,) = [f for f in scan_json["findings"] if f["function"] == "wbfs_drop"]
    assert (finding["rule"], finding["line"], finding["col"], finding["function"]) == (
        "final-put-in-writeback", 6, 2, "wbfs_drop")
    assert [(h["function"], h["path"], h["line"], h["via"]) for h in finding["reach"]] == [
        ("wb_workfn", "fs/fs-writeback.c", 26,
         "context entry: writeback worker (INIT_DELAYED_WORK(&wb->dwork, wb_workfn), mm/backing-dev.c)"),
        ("writeback_sb_inodes", "fs/fs-writeback.c", 30, "call"),
        ("__writeback_single_inode", "fs/fs-writeback.c", 23, "call"),
        ("do_writepages", "fs/fs-writeback.c", 15, "call"),
        ("wbfs_writepages", "mm/page-writeback.c", 5, "(struct address_space_operations)->writepages"),
        ("wbfs_drop", "fs/wbfs/inode.c", 51, "call"),
        ("iput", "fs/wbfs/inode.c", 6, "call"),
    ]
    assert [(h["function"], h["path"], h["line"]) for h in finding["teardown"]] == [
        ("iput", "fs/inode.c", 19),
        ("iput_final", "fs/inode.c", 22),
        ("evict", "fs/inode.c", 16),
        ("inode_wait_for_writeback", "fs/inode.c", 7),
    ]
    assert finding["finality"] == {
        "kind": "unknown",
        "evidence": [{"path": "rules/contexts/writeback.yaml", "line": rule_line("contexts/writeback.yaml", "pins"),
                      "what": "writeback pins the inode by I_SYNC, with no reference"}],
    }
    assert finding["wait"] == "inode_wait_for_writeback"
    assert finding["message"] == (
        "iput() may drop the last inode reference in writeback context; its teardown reaches "
        "inode_wait_for_writeback, which sleeps until I_SYNC clears, and this writeback worker holds I_SYNC "
        "(fs/fs-writeback.c) (self-deadlock: only this writeback worker completes it)"
    )
    assert (finding["severity"], finding["cycle"]) == (
        "error", {"kind": "self-deadlock", "why": "only this writeback worker completes it"})


def test_messenger_finding_goes_through_the_callback_and_ceph_evict_inode(scan_json):
    (finding,) = [f for f in scan_json["findings"] if f["function"] == "ceph_mdsc_release_request"]
    assert [h["function"] for h in finding["reach"]] == [
        "ceph_con_workfn", "ceph_con_process_message", "mds_dispatch", "handle_reply",
        "ceph_mdsc_release_request", "iput",
    ]
    assert finding["reach"][4]["via"] == "callback via kref_put"
    assert finding["reach"][2]["via"] == "(struct ceph_connection_operations)->dispatch"
    assert [h["function"] for h in finding["teardown"]] == [
        "iput", "iput_final", "evict", "ceph_evict_inode", "netfs_wait_for_outstanding_io",
    ]


def test_reclaim_findings_cover_the_shrinker_and_the_generic_dcache_put(scan_json):
    reclaim = [(f["path"], f["line"], f["teardown"][3]["function"], f["teardown"][-1]["function"])
               for f in scan_json["findings"] if f["rule"] == "final-put-in-reclaim"]
    # The shrinker's generic put tears down any filesystem's inode: one finding per owner whose
    # teardown reaches a wait, overlayfs through the upper dentry its ->destroy_inode drops.
    assert sorted(reclaim) == [
        ("fs/dcache.c", 9, "destroy_inode", "jbd2__journal_start"),
        ("fs/dcache.c", 9, "extfour_evict_inode", "jbd2__journal_start"),
        ("fs/dcache.c", 9, "gfpfs_evict_inode", "kmalloc(GFP_KERNEL)"),
        ("fs/dcache.c", 9, "nofailfs_evict_inode", "kmalloc(GFP_NOFS|__GFP_NOFAIL)"),
        ("fs/gfpfs/inode.c", 16, "gfpfs_evict_inode", "kmalloc(GFP_KERNEL)"),
        ("fs/nofailfs/inode.c", 18, "nofailfs_evict_inode", "kmalloc(GFP_NOFS|__GFP_NOFAIL)"),
    ]
    (stacked,) = [f for f in scan_json["findings"] if f["teardown"][3]["function"] == "destroy_inode"]
    assert [(h["function"], h["path"], h["line"]) for h in stacked["teardown"][3:]] == [
        ("destroy_inode", "fs/inode.c", 12),
        ("ovl_destroy_inode", "fs/inode.c", 47),
        ("dput", "fs/overlayfs/super.c", 13),
        ("__dentry_kill", "fs/dcache.c", 20),
        ("dentry_unlink_inode", "fs/dcache.c", 14),
        ("iput", "fs/dcache.c", 9),
        ("iput_final", "fs/inode.c", 22),
        ("evict", "fs/inode.c", 16),
        ("extfour_evict_inode", "fs/inode.c", 9),
        ("jbd2__journal_start", "fs/extfour/inode.c", 5),
    ]
    assert stacked["teardown"][5]["via"].startswith("drops a lower object: an overlayfs inode holds its upper dentry")
    assert {f["finality"]["kind"] for f in scan_json["findings"] if f["path"] == "fs/dcache.c"} == {"last-by-design"}


def test_suppressed_finding_stays_in_json(scan_json):
    (finding,) = [f for f in scan_json["findings"] if f["suppressed"]]
    assert (finding["path"], finding["line"], finding["function"]) == ("fs/wbfs/inode.c", 44, "wbfs_known")
    assert finding["suppression"] == "comment: the caller holds a reference across writeback"


def test_json_contract(scan_json):
    assert scan_json["version"] == 1
    assert set(scan_json) == {"version", "tree", "findings", "diagnostics", "stats", "unanalysed"}
    assert scan_json["unanalysed"] == []  # the fixture's searches are never cut
    keys = {"rule", "context", "severity", "confidence", "path", "line", "col", "function", "put", "wait",
            "reach", "teardown", "fingerprint", "suppressed", "suppression", "message", "cycle", "finality"}
    assert all(set(f) == keys for f in scan_json["findings"])
    order = [(f["path"], f["line"], f["col"], f["rule"]) for f in scan_json["findings"]]
    assert order == sorted(order)
    assert len({f["fingerprint"] for f in scan_json["findings"]}) == len(scan_json["findings"])
    # Puts below a caller that holds a reference across the call (wbfs_put_inner,
    # finfs_put_enclosed, finfs_put_then_out, finfs_put_owned), dputs of an alias of an inode
    # held across (wbfs_found_drop, finfs_alias_of_held); the takes whose drop is the put are reported
    assert scan_json["stats"]["contexts"]["writeback"]["nonfinal_puts"] == 6
    # wbfs's EA inode, the cifs cached directory's two dputs, udf's hidden metadata inode, gfs2's journal
    assert scan_json["stats"]["contexts"]["writeback"]["distinct_object_puts"] == 5
    assert {(f["confidence"], f["finality"]["kind"]) for f in scan_json["findings"] if f["context"] == "writeback"} == {
        ("high", "unknown"), ("high", "last-by-design"), ("medium", "last-if-others-leave")}


def test_constants_passed_down_rule_out_calls(scan_json):
    walk = [f for f in scan_json["findings"] if f["path"] == "fs/walkfs/inode.c"]
    assert [(f["line"], f["function"]) for f in walk] == [(23, "walk_one"), (43, "walk_reassigned")]
    (through_default,) = [f for f in walk if f["line"] == 23]
    assert [(h["function"], h["path"], h["line"], h["via"]) for h in through_default["reach"][3:]] == [
        ("write_inode", "fs/fs-writeback.c", 16, "call"),
        ("walk_write_inode", "fs/fs-writeback.c", 10, "(struct super_operations)->write_inode"),
        ("walk_all", "fs/walkfs/inode.c", 48, "call"),
        ("walk_one", "fs/walkfs/inode.c", 29, "call"),
        ("iput", "fs/walkfs/inode.c", 23, "call"),
    ]
    # walk_one's `case WALK_DROP:` put, reached only with WALK_FLUSH or remote = false
    assert scan_json["stats"]["contexts"]["writeback"]["infeasible_puts"] == 1
    # walk_write_inode, walk_all, walk_local, walk_one: where the constants go
    assert scan_json["stats"]["contexts"]["writeback"]["tracked_functions"] == 4


def test_conditions_at_the_put_site_tell_what_it_drops(scan_json):
    wbfs = {f["line"] for f in scan_json["findings"] if f["path"] == "fs/wbfs/inode.c"}
    # dput in the positive branch, dput after d_instantiate, dput of a dentry out of lookup
    assert {127, 137, 146} <= wbfs
    # the negative branch, and the in-lookup dentry
    assert not {132, 152} & wbfs
    assert scan_json["stats"]["contexts"]["writeback"]["harmless_puts"] == 2
    ceph = {f["line"] for f in scan_json["findings"] if f["path"] == "fs/ceph/mds_client.c"}
    # r_parent (also as passed down: ceph_inode(req->r_parent)), parse_longname and S_ISDIR
    # are directories; the else branch may be a file; the inode of the request's dentry is
    # held by the request, any other target is not
    assert ceph == {9, 26, 63, 82, 95}
    assert scan_json["stats"]["contexts"]["ceph-messenger"]["distinct_object_puts"] == 4


def test_fingerprints_survive_line_shifts(tmp_path, scan_json):
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURE, tree)
    source = tree / "fs" / "wbfs" / "inode.c"
    source.write_text("/* a new first line */\n" + source.read_text())
    result = CliRunner().invoke(cli, ["scan", str(tree), "--cache-dir", str(tmp_path / "c"), "-j", "1", "-f", "json"])
    shifted = json.loads(result.stdout)["findings"]
    assert {f["fingerprint"] for f in shifted} == {f["fingerprint"] for f in scan_json["findings"]}
    assert {f["line"] for f in shifted if f["path"] == "fs/wbfs/inode.c"} == {
        7, 30, 39, 45, 87, 91, 100, 106, 121, 128, 138, 147, 171}


def test_text_output_and_exit_codes(tmp_path):
    cache = str(tmp_path / "cache")
    result = CliRunner().invoke(cli, ["scan", str(FIXTURE), "fs/wbfs", "--cache-dir", cache, "-j", "1"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "fs/wbfs/inode.c:6:2: error: iput() may drop the last inode reference in writeback context; its teardown"
        " reaches inode_wait_for_writeback, which sleeps until I_SYNC clears, and this writeback worker holds"
        " I_SYNC (fs/fs-writeback.c) (self-deadlock: only this writeback worker completes it) [final-put-in-writeback]"
    )
    assert lines[1].startswith("  reach:    wb_workfn (fs/fs-writeback.c:26) [context entry: writeback worker")
    assert "  teardown: iput (fs/inode.c:19) [put]" in lines
    assert lines[lines.index("  teardown: iput (fs/inode.c:19) [put]") + 4] == (
        "  finality: unknown: writeback pins the inode by I_SYNC, with no reference"
        f" (rules/contexts/writeback.yaml:{rule_line('contexts/writeback.yaml', 'pins')}) [confidence high]")
    assert lines[-1] == "12 finding(s), 1 suppressed"
    clean = CliRunner().invoke(cli, ["scan", str(FIXTURE), "fs/otherfs", "--cache-dir", cache, "-j", "1"])
    assert clean.exit_code == 0 and clean.stdout == "0 finding(s)\n"
    zero = CliRunner().invoke(cli, ["scan", str(FIXTURE), "--cache-dir", cache, "-j", "1", "--exit-zero"])
    assert zero.exit_code == 0
    only = CliRunner().invoke(
        cli, ["scan", str(FIXTURE), "--cache-dir", cache, "-j", "1", "--select", "final-put-in-reclaim"]
    )
    assert only.stdout.count("[final-put-in-reclaim]") == 6 and "[final-put-in-writeback]" not in only.stdout


def test_allowlist_in_putlint_toml(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURE, tree)
    (tree / ".putlint.toml").write_text(
        '[[ignore]]\nrule = "final-put-in-reclaim"\npath = "fs/dcache.c"\nreason = "generic dcache put"\n'
    )
    result = CliRunner().invoke(cli, ["scan", str(tree), "fs/dcache.c", "--cache-dir", str(tmp_path / "c"), "-j", "1"])
    # one finding per filesystem whose teardown the generic put runs
    assert result.exit_code == 0 and result.stdout == "0 finding(s), 4 suppressed\n"


def test_annotations_apply_to_the_next_code_line():
    text = "a();\n\t// ruleid: x, y\n\t/* why */\n\n\tiput(i);\n// ok: x\nb();\n"
    assert [(a.kind, a.rule, a.line) for a in annotations_of("f.c", text)] == [
        ("ruleid", "x", 5), ("ruleid", "y", 5), ("ok", "x", 7)]


def test_unknown_rule_id_is_an_input_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["scan", str(FIXTURE), "--select", "no-such-rule", "--cache-dir", str(tmp_path)])
    assert done.value.code == 2
    assert capsys.readouterr().err == (
        "putlint: error: unknown rule id 'no-such-rule'; `putlint rules list` shows them\n"
    )


def test_scan_reports_bad_files_and_a_rebuilt_index_on_stderr(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(FIXTURE, tree)
    (tree / "fs" / "blob.c").write_bytes(b"\xff\xfe\x00garbage")
    cache = tmp_path / "cache"
    first = CliRunner().invoke(cli, ["scan", str(tree), "fs/wbfs", "--cache-dir", str(cache), "-j", "1"])
    assert first.exit_code == 1
    assert first.stderr == "fs/blob.c: unreadable: binary file (NUL byte at offset 2)\n"
    (index_file,) = (cache / "index").glob("*.sqlite")
    index_file.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{index_file}{suffix}").unlink(missing_ok=True)
    again = CliRunner().invoke(cli, ["scan", str(tree), "fs/wbfs", "--cache-dir", str(cache), "-j", "1"])
    assert again.exit_code == 1 and again.stdout == first.stdout
    assert again.stderr.startswith(f"warning: index {index_file} is damaged (")
    assert again.stderr.endswith("; rebuilding it\nfs/blob.c: unreadable: binary file (NUL byte at offset 2)\n")


def test_an_input_error_while_indexing_in_the_forked_process_is_reported_like_any_other(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    with pytest.raises(SystemExit) as done:
        main(["scan", str(FIXTURE), "--cache-dir", str(blocker / "cache")])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"putlint: error: cannot create cache directory {blocker / 'cache' / 'index'}")
    assert "Traceback" not in err


def test_a_context_can_rule_out_calls_it_never_makes(tmp_path):
    rules = tmp_path / "rules"
    (rules / "contexts").mkdir(parents=True)
    (rules / "checks").mkdir()
    writeback = (Path(__file__).parent.parent / "rules" / "contexts" / "writeback.yaml").read_text()
    assert writeback.count("\nreach_cuts:\n") == 1
    (rules / "contexts" / "wb-cut.yaml").write_text(
        writeback.replace("id: writeback", "id: wb-cut", 1).replace(
            "\nreach_cuts:\n", "\nreach_cuts:\n  - caller: wbfs_writepages\n    callee: wbfs_drop\n    why: a test\n"
        )
    )
    (rules / "checks" / "final-put-in-wb-cut.yaml").write_text(
        "id: final-put-in-wb-cut\ncontext: wb-cut\nputs: [inode]\nseverity: error\nconfidence: high\n"
        "message: \"$PUT() in $CONTEXT\"\ndescription: the writeback check, with one call ruled out\n"
    )
    args = ["scan", str(FIXTURE), "fs/wbfs", "--cache-dir", str(tmp_path / "c"), "-j", "1", "-f", "json", "--rules", str(rules)]
    findings = json.loads(CliRunner().invoke(cli, args).stdout)["findings"]
    def lines(rule):
        return {f["line"] for f in findings if f["rule"] == rule and f["put"] == "iput"}
    assert lines("final-put-in-writeback") == {6, 29, 44, 86, 90, 120, 170}
    # wbfs_drop's put (line 6) is reached only from wbfs_writepages
    assert lines("final-put-in-wb-cut") == {29, 44, 86, 90, 120, 170}


def test_min_confidence_keeps_findings_of_that_confidence_or_higher(tmp_path):
    cache = str(tmp_path / "cache")

    def confidences(level):
        result = CliRunner().invoke(
            cli, ["scan", str(FIXTURE), "--cache-dir", cache, "-j", "1", "-f", "json", "--min-confidence", level])
        assert result.exit_code == 1, result.output
        return sorted({f["confidence"] for f in json.loads(result.stdout)["findings"]})

    assert confidences("low") == ["high", "low", "medium"]
    assert confidences("medium") == ["high", "medium"]
    assert confidences("high") == ["high"]
    bad = CliRunner().invoke(cli, ["scan", str(FIXTURE), "--min-confidence", "certain"])
    assert bad.exit_code == 2 and "'certain' is not one of 'high', 'medium', 'low'" in bad.output



def test_a_search_that_starts_from_the_functions_the_last_one_tracked_takes_one_round(tmp_path, monkeypatch):
    from putlint.checks import final_put
    from putlint.scan import open_analysis
    from putlint.search import search_contexts

    rules = load_rules()
    rounds = []
    reach = final_put.reach
    monkeypatch.setattr(final_put, "reach", lambda *args: rounds.append(args[2].id) or reach(*args))
    with open_analysis(FIXTURE, rules, tmp_path) as (program, sources):
        first = search_contexts(program, rules, lambda path: True, {"writeback"}, sources=sources)
        first_rounds = len(rounds)
        tracked = {context: result.stats.tracked for context, result in first.items()}
        again = search_contexts(program, rules, lambda path: True, {"writeback"}, sources=sources, tracked=tracked)
    # where the constants go (test_constants_passed_down_rule_out_calls), found round by round
    assert sorted(program.func_name[f] for f in tracked["writeback"]) == [
        "walk_all", "walk_local", "walk_one", "walk_write_inode"]
    assert first_rounds > 2
    assert len(rounds) - first_rounds == 1
    assert again["writeback"].findings == first["writeback"].findings
    assert again["writeback"].stats.tracked == tracked["writeback"]
