#!/usr/bin/env python3
"""Benchmark `putlint scan` on a real kernel tree: cold and warm, prints its figures.

    python3 benchmarks/scan_bench.py                      # whole cached 6.12 tree
    python3 benchmarks/scan_bench.py --tree ~/linux --jobs 2 --sample 30

Prints wall time and peak RSS (from /usr/bin/time -v: the largest of the process
and its workers) of a cold scan (fresh cache directory) and a warm one (same
cache, nothing changed), findings per context, the search statistics, and with
--sample N a reproducible random sample of N findings (put site, function, both
chains in short) for triage. Never asserts on time; nothing is written into the tree.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchlib import kernel_tree, run_timed


def timed_scan(tree: Path, cache: Path, jobs: int | None, output: Path) -> tuple[float, float, int]:
    command = ["putlint", "scan", str(tree), "--cache-dir", str(cache), "-f", "json", "-o", str(output)]
    if jobs:
        command += ["--jobs", str(jobs)]
    wall, peak, done = run_timed(command, "scan_bench")
    return wall, peak, done.returncode


def short_chain(hops: list[dict]) -> str:
    return " -> ".join(hop["function"] for hop in hops)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree")
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--sample", type=int, default=0, help="print N random findings for triage")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    tree = kernel_tree(args.tree, "scan_bench")
    if not tree.is_dir():
        sys.exit(f"scan_bench: {tree} is not a directory")
    work = Path(tempfile.mkdtemp(prefix="putlint-scan-bench-"))
    try:
        report = work / "scan.json"
        cold = timed_scan(tree, work / "cache", args.jobs, report)
        warm = timed_scan(tree, work / "cache", args.jobs, report)
        data = json.loads(report.read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    findings = [f for f in data["findings"] if not f["suppressed"]]
    per_context = Counter(f["context"] for f in findings)
    print(f"tree: {tree}")
    print(f"{'run':<12}{'wall s':>10}{'peak RSS MB':>14}")
    print(f"{'scan cold':<12}{cold[0]:>10.1f}{cold[1]:>14.1f}")
    print(f"{'scan warm':<12}{warm[0]:>10.1f}{warm[1]:>14.1f}")
    print(f"warm phases: {json.dumps({k: v for k, v in data['stats'].items() if k.endswith('seconds')})}")
    print(f"findings: {len(findings)} ({sum(1 for f in data['findings'] if f['suppressed'])} suppressed)")
    for context, stats in data["stats"]["contexts"].items():
        print(f"  {context:<16} findings {per_context.get(context, 0):>5}   " + json.dumps(stats))
    if args.sample:
        rng = random.Random(args.seed)
        print(f"\nrandom sample of {min(args.sample, len(findings))} findings (seed {args.seed}):")
        for finding in rng.sample(findings, min(args.sample, len(findings))):
            print(f"- {finding['path']}:{finding['line']} {finding['function']} [{finding['rule']}]")
            print(f"    reach:    {short_chain(finding['reach'])}")
            print(f"    teardown: {short_chain(finding['teardown'])}")
    if args.json:
        args.json.write_text(json.dumps({
            "tree": str(tree), "cold_seconds": cold[0], "cold_peak_rss_mb": cold[1],
            "warm_seconds": warm[0], "warm_peak_rss_mb": warm[1],
            "findings_per_context": dict(per_context), "stats": data["stats"],
        }, indent=2))


if __name__ == "__main__":
    main()
