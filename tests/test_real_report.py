"""SARIF and HTML of real findings on Debian's linux-source-6.12 (graph scoped
as in test_real_scan.py, findings under fs/ceph): the SARIF log validates and
round-trips, and the HTML page shows the writeback chain of the seed thread."""

import json
import os
import shutil
from pathlib import Path

import pytest

import browser
import sarif_reader
from putlint import store
from putlint.report import ReportContext, html, json_format, sarif
from putlint.ruleset import load_rules
from putlint.scan import scan
from putlint.tree import open_tree

from kernels import tree_marks

TREE, pytestmark = tree_marks("PUTLINT_KERNEL_TREE")
GRAPH = ("fs", "mm", "net/ceph", "include", "kernel", "block", "lib")
CACHE = Path(os.environ.get("PUTLINT_TEST_CACHE", Path.home() / ".cache" / "putlint" / "test-index"))
REPOSITORY = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def real():
    rules = load_rules()
    root = open_tree(TREE)
    run = scan(root, rules, CACHE, report_scopes=("fs/ceph",), graph_scopes=GRAPH, jobs=2)
    context = ReportContext.of(rules, index_file=store.index_path(CACHE, root), graph_scopes=GRAPH,
                               source_url="https://elixir.bootlin.com/linux/v6.12/source/{path}#L{line}")
    return run, context


def test_the_sarif_of_real_findings_validates_and_round_trips(real):
    run, context = real
    log = sarif.document(run, context)
    sarif_reader.validate(log)
    assert sarif_reader.findings(log) == json.loads(json.dumps(json_format.document(run)))["findings"]
    (result,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "final-put-in-writeback"
                 and r["locations"][0]["physicalLocation"]["region"] == {"startLine": 3483, "startColumn": 3}]
    reach, teardown = result["codeFlows"][0]["threadFlows"]
    hops = [(l["location"]["physicalLocation"]["artifactLocation"]["uri"],
             l["location"]["physicalLocation"]["region"]["startLine"], l["location"]["message"]["text"])
            for l in reach["locations"]]
    assert hops[0] == ("fs/fs-writeback.c", 2379, "definition of wb_workfn [context entry: writeback worker"
                       " (INIT_DELAYED_WORK(&wb->dwork, wb_workfn), mm/backing-dev.c)]")
    assert hops[6] == ("mm/page-writeback.c", 2683, "call site: do_writepages calls ceph_writepages_start"
                       " [(struct address_space_operations)->writepages]")
    assert hops[-1] == ("fs/ceph/caps.c", 3483, "call site: ceph_put_wrbuffer_cap_refs calls iput [call]")
    assert teardown["locations"][0]["location"]["message"]["text"] == "definition of iput [put]"
    wait = result["relatedLocations"][1]
    assert (wait["physicalLocation"]["artifactLocation"]["uri"], wait["physicalLocation"]["region"]["startLine"]) == (
        "fs/inode.c", 718)
    notes = [n["message"]["text"] for n in log["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    assert "fs/ceph/caps.c:143: 53 ERROR/MISSING node(s), first at line 143; it lies on a reported chain, and a call" \
           " after it may be missing" in notes


def test_the_html_page_of_real_findings_in_chromium(real, tmp_path):
    try:
        binary = browser.ensure_chromium()
    except browser.BrowserUnavailable as reason:
        pytest.skip(str(reason))
    run, context = real
    report = tmp_path / "report.html"
    with open(report, "w", encoding="utf-8") as out:
        html.render(run, out, context)
    (number,) = [n for n, f in enumerate(run.findings, 1)
                 if (f.rule, f.path, f.line) == ("final-put-in-writeback", "fs/ceph/caps.c", 3483)]
    with browser.Browser(binary, tmp_path / "profile", 1280, 1450) as page:
        page.open(report.as_uri())
        page.type_into("#filter-text", "ceph_flush")
        shown = page.evaluate("Array.from(document.querySelectorAll('details.finding')).filter(d => !d.hidden)"
                              ".map(d => d.id)")
        through = [f"f{n}" for n, f in enumerate(run.findings, 1) if any(h.function == "ceph_flush_snaps"
                                                                        for h in f.reach)]
        assert shown == through and f"f{number}" not in shown
        page.evaluate("const t = document.getElementById('filter-text'); t.value = '';"
                      " t.dispatchEvent(new Event('input'))")
        page.type_into("#filter-text", "fs/ceph/")
        page.click(f"#f{number} > summary")
        boxes = page.evaluate(f"Array.from(document.querySelectorAll('#f{number} svg.chain a.hop'))"
                              ".map(a => [a.dataset.function, a.getAttribute('href')])")
        assert boxes[6] == ["ceph_writepages_start",
                            "https://elixir.bootlin.com/linux/v6.12/source/mm/page-writeback.c#L2683"]
        assert boxes[-1] == ["inode_wait_for_writeback", "https://elixir.bootlin.com/linux/v6.12/source/fs/inode.c#L718"]
        page.evaluate("window.scrollTo(0, 0)")
        shot = tmp_path / "report.png"
        page.screenshot(shot, full_page=False)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size < 1_000_000
    if os.environ.get("PUTLINT_UPDATE_SCREENSHOT"):
        shutil.copyfile(shot, REPOSITORY / "docs" / "report.png")
