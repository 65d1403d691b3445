#!/usr/bin/env python3
"""Benchmark the HTML and SARIF reports of a large run; prints its figures.

    python3 benchmarks/html_bench.py                       # warm scan of the cached 6.12 tree
    python3 benchmarks/html_bench.py --report scan.json --copies 25

The findings of a whole-tree scan (or of the JSON report given) are repeated
`--copies` times (default: to at least 700), to stand for a tree with hundreds
of findings. The page is
rendered, opened in headless Chromium (installed with apt-get when missing) and
timed from the request to the first frame drawn after the load event (median
of --loads), then one finding is opened (its SVG drawn) and the filter typed
into. The SARIF log of the same run is rendered and its size given, plain and
gzipped (GitHub takes at most 10 MB gzipped). Never asserts on time.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchlib import REPO, kernel_tree, run_timed

sys.path.insert(0, str(REPO / "tests"))

import browser  # noqa: E402  (tests/browser.py: Chromium over the DevTools pipe)
from putlint.findings import Finding, Hop, ScanRun  # noqa: E402
from putlint.report import ReportContext, html, sarif  # noqa: E402
from putlint.ruleset import load_rules  # noqa: E402


def findings_of(report: dict) -> list[Finding]:
    found = []
    for item in report["findings"]:
        fields = {key: value for key, value in item.items() if key in Finding.__dataclass_fields__}
        fields["reach"] = tuple(Hop(**hop) for hop in item["reach"])
        fields["teardown"] = tuple(Hop(**hop) for hop in item["teardown"])
        found.append(Finding(**fields))
    return found


def measure_page(binary: str, page_file: Path, loads: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="putlint-bench-") as profile, \
            browser.Browser(binary, Path(profile) / "p", 1280, 1000) as page:
        times = [page.open(page_file.as_uri()) for _ in range(loads)]
        timing = page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                               " return [n.domInteractive, n.loadEventEnd]; })()")
        started = time.monotonic()
        page.click("details.finding > summary")
        drawn = page.evaluate("document.querySelectorAll('svg.chain').length")
        opened = time.monotonic() - started
        started = time.monotonic()
        page.type_into("#filter-text", "ceph")
        typed = time.monotonic() - started
        shown = page.evaluate("document.getElementById('shown-count').textContent")
    return {"loads": times, "dom_interactive_ms": timing[0], "load_event_end_ms": timing[1],
            "open_seconds": opened, "drawn": drawn, "type_seconds": typed, "shown": shown}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", help="kernel tree (default: the cached 6.12 tree)")
    parser.add_argument("--report", type=Path, help="a JSON report to use instead of a scan")
    parser.add_argument("--copies", type=int, help="times each finding is repeated (default: to 700 or more)")
    parser.add_argument("--loads", type=int, default=3, help="page loads to time (default 3)")
    args = parser.parse_args()
    if args.report:
        report = json.loads(args.report.read_text())
    else:
        tree = kernel_tree(args.tree, "html_bench")
        with tempfile.TemporaryDirectory() as scratch:
            output = Path(scratch) / "scan.json"
            wall, _peak, _done = run_timed(["putlint", "scan", str(tree), "-f", "json", "-o", str(output)], "html_bench")
            print(f"scan (cache as it was): {wall:.1f} s")
            report = json.loads(output.read_text())
    copies = args.copies or -(-700 // max(len(report["findings"]), 1))
    findings = findings_of(report) * copies
    run = ScanRun(Path(report["tree"]), tuple(findings), (), {})
    context = ReportContext.of(load_rules())
    out = io.StringIO()
    started = time.monotonic()
    html.render(run, out, context)
    rendered = time.monotonic() - started
    with tempfile.TemporaryDirectory(prefix="putlint-bench-") as scratch:
        page_file = Path(scratch) / "report.html"
        page_file.write_text(out.getvalue(), encoding="utf-8")
        print(f"html: {len(findings)} findings ({len(report['findings'])} x {copies}),"
              f" {page_file.stat().st_size / 1e6:.2f} MB, rendered in {rendered:.2f} s")
        figures = measure_page(browser.ensure_chromium(), page_file, args.loads)
    print(f"chromium: first frame after load {statistics.median(figures['loads']):.2f} s (median of"
          f" {args.loads}: {', '.join(f'{t:.2f}' for t in figures['loads'])});"
          f" domInteractive {figures['dom_interactive_ms']:.0f} ms, loadEventEnd {figures['load_event_end_ms']:.0f} ms")
    print(f"chromium: opening a finding drew {figures['drawn']} chain picture(s) in {figures['open_seconds']:.2f} s;"
          f" typing 'ceph' into the filter took {figures['type_seconds']:.2f} s ({figures['shown']})")
    log = io.StringIO()
    started = time.monotonic()
    sarif.render(run, log, context)
    data = log.getvalue().encode()
    print(f"sarif: {len(findings)} results, {len(data) / 1e6:.2f} MB ({len(data) / len(findings) / 1e3:.1f} kB a"
          f" result), {len(gzip.compress(data)) / 1e6:.2f} MB gzipped, rendered in {time.monotonic() - started:.2f} s")


if __name__ == "__main__":
    main()
