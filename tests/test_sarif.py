"""`--format sarif` on the fixture kernel: the log validates against the OASIS
schema, and a reader recovers from it every finding, chain and suppression of
the JSON report; rules, notifications, limits, input errors, check-patch."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import sarif_reader
from putlint.cli import cli, main
from putlint.report import ReportContext, sarif
from putlint.ruleset import load_rules
from putlint.scan import scan
from putlint.tree import open_tree
from trees import TREE

FIXTURES = Path(__file__).parent / "fixtures"
PATCHES = FIXTURES / "patches"


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("cache"))


def run_cli(cache, *args, command="scan", tree=TREE):
    where = [str(tree)] if command == "scan" else ["--tree", str(tree)]
    return CliRunner().invoke(cli, [command, *where, *args, "--cache-dir", cache, "-j", "1"])


@pytest.fixture(scope="module")
def reports(cache):
    as_json = run_cli(cache, "-f", "json")
    as_sarif = run_cli(cache, "-f", "sarif")
    assert as_json.exit_code == as_sarif.exit_code == 1, as_sarif.output
    return json.loads(as_json.stdout), json.loads(as_sarif.stdout)


def test_the_log_validates_against_the_sarif_schema(reports):
    _, log = reports
    sarif_reader.validate(log)
    assert (log["version"], log["$schema"]) == ("2.1.0", sarif.SCHEMA)
    (run,) = log["runs"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == TREE.resolve().as_uri() + "/"
    assert run["invocations"][0]["executionSuccessful"] is True


def test_every_finding_chain_and_suppression_round_trips(reports):
    as_json, log = reports
    assert sarif_reader.findings(log) == as_json["findings"]
    assert len(as_json["findings"]) == 43
    assert [f["suppression"] for f in sarif_reader.findings(log) if f["suppressed"]] == [
        "comment: the caller holds a reference across writeback"
    ]


def test_a_result_with_both_chains_hop_by_hop(reports):
    _, log = reports
    (result,) = [r for r in log["runs"][0]["results"] if r["properties"]["function"] == "ceph_mdsc_release_request"]
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == "final-put-in-ceph-messenger"
    assert (result["level"], result["rank"]) == ("warning", 60.0)
    assert result["properties"]["cycle"]["kind"] == "stall"
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "fs/ceph/mds_client.c", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 9, "startColumn": 2},
    }
    reach, teardown = result["codeFlows"][0]["threadFlows"]
    assert [(l["location"]["physicalLocation"]["artifactLocation"]["uri"],
             l["location"]["physicalLocation"]["region"]["startLine"],
             l["location"]["message"]["text"], l["kinds"]) for l in reach["locations"]] == [
        ("net/ceph/messenger.c", 8, "definition of ceph_con_workfn [context entry: ceph messenger worker"
         " (INIT_DELAYED_WORK(&con->work, ceph_con_workfn), net/ceph/messenger.c)]", ["enter", "function"]),
        ("net/ceph/messenger.c", 12, "call site: ceph_con_workfn calls ceph_con_process_message [call]", ["call"]),
        ("net/ceph/messenger.c", 5, "call site: ceph_con_process_message calls mds_dispatch"
         " [(struct ceph_connection_operations)->dispatch]", ["call"]),
        ("fs/ceph/mds_client.c", 32, "call site: mds_dispatch calls handle_reply [call]", ["call"]),
        ("fs/ceph/mds_client.c", 14, "call site: handle_reply calls ceph_mdsc_release_request"
         " [callback via kref_put]", ["call"]),
        ("fs/ceph/mds_client.c", 9, "call site: ceph_mdsc_release_request calls iput [call]", ["call", "release"]),
    ]
    assert [l["location"]["message"]["text"] for l in teardown["locations"]] == [
        "definition of iput [put]",
        "call site: iput calls iput_final [call]",
        "call site: iput_final calls evict [call]",
        "call site: evict calls ceph_evict_inode [(struct super_operations)->evict_inode]",
        "call site: ceph_evict_inode calls netfs_wait_for_outstanding_io [wait: waits for the inode's outstanding"
        " netfs requests, whose OSD reads complete when a messenger worker dispatches their replies"
        " (include/linux/netfs.h)]",
    ]
    assert [l["executionOrder"] for l in (*reach["locations"], *teardown["locations"])] == list(range(1, 12))
    assert [(r["id"], r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"]["startLine"],
             r["message"]["text"]) for r in result["relatedLocations"]] == [
        (1, "net/ceph/messenger.c", 8, "context entry ceph_con_workfn (definition): ceph messenger worker"
         " (INIT_DELAYED_WORK(&con->work, ceph_con_workfn), net/ceph/messenger.c)"),
        (2, "fs/ceph/inode.c", 6, "wait netfs_wait_for_outstanding_io (call site in ceph_evict_inode): waits for the"
         " inode's outstanding netfs requests, whose OSD reads complete when a messenger worker dispatches their"
         " replies (include/linux/netfs.h)"),
    ]


def test_rules_carry_description_help_and_references(reports):
    _, log = reports
    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert sorted(rules) == sorted(load_rules().checks)
    writeback = rules["final-put-in-writeback"]
    assert writeback["defaultConfiguration"] == {"level": "error", "rank": 90.0}
    assert writeback["shortDescription"]["text"] == (
        "A final put reachable from the writeback worker evicts an inode while this worker holds I_SYNC; evict() then"
        " waits for writeback that only this worker can finish."
    )
    assert writeback["helpUri"] == "https://lore.kernel.org/all/20250917124404.2207918-1-max.kellermann@ionos.com/"
    assert writeback["help"]["text"].endswith(
        "References:\n- https://lore.kernel.org/all/20250917124404.2207918-1-max.kellermann@ionos.com/")
    assert "Context writeback: " in writeback["help"]["text"]
    assert writeback["properties"]["precision"] == "high" and rules["final-put-in-reclaim"]["properties"][
        "precision"] == "medium"


def test_the_allowlist_is_an_external_suppression(cache, tmp_path):
    config = tmp_path / "allow.toml"
    config.write_text('[[ignore]]\nrule = "final-put-in-reclaim"\npath = "fs/dcache.c"\nreason = "generic dcache put"\n')
    log = json.loads(run_cli(cache, "fs/dcache.c", "-f", "sarif", "--config", str(config)).stdout)
    # the generic put is one result per filesystem whose teardown it runs, each suppressed
    results = log["runs"][0]["results"]
    assert len(results) == 4
    result = results[0]
    assert result["suppressions"] == [{"kind": "external", "status": "accepted", "justification": "generic dcache put"}]
    assert sarif_reader.findings(log)[0]["suppression"] == "allowlist: generic dcache put"


def test_unreadable_files_and_parse_errors_are_notifications(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    (tree / "fs" / "blob.c").write_bytes(b"\xff\xfe\x00garbage")
    result = run_cli(str(tmp_path / "c"), "fs/wbfs", "-f", "sarif", tree=tree)
    log = json.loads(result.stdout)
    sarif_reader.validate(log)
    notes = [(n["descriptor"]["id"], n["level"], n["message"]["text"])
             for n in log["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    assert notes[0] == ("unreadable", "warning", "fs/blob.c: unreadable: binary file (NUL byte at offset 2)")
    assert notes[1] == ("parse-error", "note", "4 indexed file(s) have parse errors (ERROR/MISSING nodes, mostly"
                        " macros tree-sitter cannot expand); the 2 on a reported chain are listed")
    assert notes[2:] == [
        ("parse-error", "note", "fs/fs-writeback.c:28: 1 ERROR/MISSING node(s), first at line 28; it lies on a"
         " reported chain, and a call after it may be missing"),
        ("parse-error", "note", "fs/wbfs/inode.c:11: 1 ERROR/MISSING node(s), first at line 11; it lies on a"
         " reported chain, and a call after it may be missing"),
    ]
    located = log["runs"][0]["invocations"][0]["toolExecutionNotifications"][3]["locations"][0]["physicalLocation"]
    assert located == {"artifactLocation": {"uri": "fs/wbfs/inode.c", "uriBaseId": "%SRCROOT%"},
                       "region": {"startLine": 11}}


def test_a_bad_tree_still_writes_a_log_that_says_the_run_failed(tmp_path, capsys):
    output = tmp_path / "out.sarif"
    with pytest.raises(SystemExit) as done:
        main(["scan", str(tmp_path / "nowhere"), "-f", "sarif", "-o", str(output), "--cache-dir", str(tmp_path / "c")])
    assert done.value.code == 2
    assert "does not exist" in capsys.readouterr().err
    log = json.loads(output.read_text())
    sarif_reader.validate(log)
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"] == [{
        "descriptor": {"id": "input-error"}, "level": "error",
        "message": {"text": f"kernel tree {str(tmp_path / 'nowhere')!r} does not exist"}}]
    assert log["runs"][0]["results"] == []


def test_a_patch_that_does_not_apply_fails_the_check_patch_log(cache, tmp_path, capsys):
    patch = tmp_path / "bad.patch"
    patch.write_bytes(b"--- a/fs/wbfs/inode.c\n+++ b/fs/wbfs/inode.c\n@@ -1,2 +1,2 @@\n-no such line\n+x\n context\n")
    with pytest.raises(SystemExit) as done:
        main(["check-patch", str(patch), "--tree", str(TREE), "--cache-dir", cache, "-f", "sarif"])
    assert done.value.code == 2
    out, err = capsys.readouterr()
    log = json.loads(out)
    sarif_reader.validate(log)
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is False
    message = log["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    assert "hunk 1 (@@ -1,2) does not apply to fs/wbfs/inode.c" in message and message in err
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == 3


def test_results_and_chains_beyond_the_limits_are_cut_and_said_so(cache):
    run = scan(open_tree(TREE), load_rules(), Path(cache), jobs=1)
    log = sarif.document(run, ReportContext.of(load_rules()), sarif.Limits(results=3, flow_locations=6))
    sarif_reader.validate(log)
    (sarif_run,) = log["runs"]
    kept = [(r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in sarif_run["results"]]
    # errors of high confidence (writeback) rank before those of medium confidence (ceph-messenger)
    assert kept == [("error", "fs/finfs/inode.c", 137), ("error", "fs/finfs/inode.c", 155),
                    ("error", "fs/finfs/inode.c", 170)]
    assert sarif_run["properties"]["cut"] == {"results": 40, "chains": 3}
    first = sarif_run["results"][0]["codeFlows"][0]["threadFlows"]
    # 6 locations: teardown 3 (first two and the wait), reach 3 (first two and the put)
    assert [[loc["properties"]["function"] for loc in flow["locations"]] for flow in first] == [
        ["wb_workfn", "writeback_sb_inodes", "iput"], ["iput", "iput_final", "inode_wait_for_writeback"]]
    assert [flow["properties"] for flow in first] == [{"hopsLeftOut": 5, "hops": 8}, {"hopsLeftOut": 1, "hops": 4}]
    notes = [n["message"]["text"] for n in sarif_run["invocations"][0]["toolExecutionNotifications"]
             if n["descriptor"]["id"] in ("results-cut", "chain-cut")]
    assert notes == [
        "40 result(s) left out: GitHub code scanning accepts 3 a run; the ones kept rank first by severity and"
        " confidence",
        "the chains of 3 result(s) were cut to 6 locations, as many as GitHub code scanning shows",
    ]


def test_the_log_is_reproducible(cache, reports):
    _, log = reports
    again = run_cli(cache, "-f", "sarif")
    assert json.loads(again.stdout) == log
    assert again.stdout == run_cli(cache, "-f", "sarif").stdout


def test_check_patch_marks_new_fixed_and_unchanged_findings(cache):
    series = str(PATCHES / "series.mbox")
    as_json = json.loads(run_cli(cache, series, "-f", "json", command="check-patch").stdout)
    result = run_cli(cache, series, "-f", "sarif", command="check-patch")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    sarif_reader.validate(log)
    (run,) = log["runs"]
    assert run["properties"]["patches"] == [
        {"index": 1, "subject": "[PATCH 1/2] wbfs: drop the inode at once when the work is already queued",
         "source": series},
        {"index": 2, "subject": "[PATCH 2/2] wbfs: defer the iput in wbfs_drop", "source": series},
    ]
    states = [(r["baselineState"], r["properties"].get("patch"), r["properties"]["function"]) for r in run["results"]]
    assert states[:2] == [("new", 1, "wbfs_drop_later"), ("absent", 2, "wbfs_drop")]
    assert {state for state, _, _ in states[2:]} == {"unchanged"} and len(states) - 2 == as_json["unchanged"] == 42
    rules = run["tool"]["driver"]["rules"]
    new, fixed, *unchanged = run["results"]
    assert new["properties"]["introducedBy"] == [{"path": "fs/wbfs/inode.c", "line": 22}]
    assert new["relatedLocations"][-1]["message"]["text"] == "introduced by this added line of patch 1"
    assert new["relatedLocations"][-1]["physicalLocation"]["region"]["startLine"] == 22
    (json_new,) = as_json["new"]
    assert sarif_reader.finding_of(new, rules) == {k: v for k, v in json_new.items() if k != "introduced_by"}
    # A fixed result is the finding as its patch saw it, in the text that patch applied to (after
    # patch 1: wbfs_drop is called a line lower); JSON's series-level "fixed" is in the tree's lines.
    (json_fixed,) = as_json["fixed"]
    fixed_read = sarif_reader.finding_of(fixed, rules)
    assert fixed_read["fingerprint"] == json_fixed["fingerprint"]
    assert [(h["function"], h["line"]) for h in fixed_read["reach"]][-2:] == [("wbfs_drop", 52), ("iput", 6)]
    assert [(h["function"], h["line"]) for h in json_fixed["reach"]][-2:] == [("wbfs_drop", 51), ("iput", 6)]
    assert {k: v for k, v in fixed_read.items() if k != "reach"} == {k: v for k, v in json_fixed.items() if k != "reach"}
    # The findings after the series: the unchanged ones as they are, the new one (in the
    # text of its patch, one line above where patch 2 leaves it) by fingerprint.
    unchanged_read = [sarif_reader.finding_of(r, rules) for r in unchanged]
    assert unchanged_read == [f for f in as_json["findings"] if f["fingerprint"] != json_new["fingerprint"]]
    (new_after,) = [f for f in as_json["findings"] if f["fingerprint"] == json_new["fingerprint"]]
    assert (new_after["line"], json_new["line"]) == (23, 22)


def test_what_could_not_be_analysed_is_a_notification():
    from putlint.coverage import FUNCTION, Unanalysed
    from putlint.report.notes import unanalysed_notes

    (note,) = unanalysed_notes([Unanalysed(FUNCTION, "fs/wbfs/lost.c", 13, 16, "wbfs_lost_drop", reason="a macro hides it")])
    assert (note.id, note.level, note.path, note.line) == ("not-analysed", "warning", "fs/wbfs/lost.c", 13)
    assert note.message == f"could not analyse {FUNCTION} wbfs_lost_drop: a macro hides it"
