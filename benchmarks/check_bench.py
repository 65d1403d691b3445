#!/usr/bin/env python3
"""Benchmark `putlint check-patch` on a real kernel tree, warm: prints its figures.

    python3 benchmarks/check_bench.py                 # cached 6.12 tree, 5 runs each
    python3 benchmarks/check_bench.py --tree ~/linux-6.12 --runs 9

Runs once to warm the index and the saved program and findings, then times
(wall clock, the whole command as a user runs it, and peak RSS from
/usr/bin/time -v) a one-patch check of the real 6.12 ceph fix (a patch that
touches what every context searched), a one-patch check of a file no search
reads, and the two-patch mbox series. The machine's speed varies with its
host, so a pure-Python loop is timed alongside as a yardstick. Never asserts
on time; nothing is written into the tree.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from benchlib import REPO, kernel_tree, run_timed

PATCHES = REPO / "tests" / "fixtures" / "patches" / "real-6.12"

UNRELATED = """\
--- /dev/null
+++ b/drivers/misc/putlint-bench.c
@@ -0,0 +1,4 @@
+void putlint_bench_helper(void)
+{
+	putlint_bench_other();
+}
"""


def timed(command: list[str]) -> tuple[float, float, dict]:
    wall, peak, done = run_timed(command, "check_bench")
    return wall, peak, json.loads(done.stdout)


def yardstick() -> float:
    started = time.monotonic()
    total = 0
    for number in range(10_000_000):
        total += number
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cache-dir", help="index cache (default: putlint's own)")
    args = parser.parse_args()
    tree = kernel_tree(args.tree, "check_bench")
    with tempfile.TemporaryDirectory() as scratch:
        unrelated = Path(scratch) / "unrelated.patch"
        unrelated.write_text(UNRELATED)
        cases = [
            ("one patch: ceph async iput (real fix)", [str(PATCHES / "0001-ceph-iput-async.patch")]),
            ("one patch: a file no search reads", [str(unrelated)]),
            ("series of two (mbox)", [str(PATCHES / "series.mbox")]),
        ]
        base = ["putlint", "check-patch", "--tree", str(tree), "-f", "json"]
        if args.cache_dir:
            base += ["--cache-dir", args.cache_dir]
        warm_wall, _, _ = timed(base + cases[0][1])
        print(f"tree: {tree}")
        print(f"warm-up run (brings the index and saved state up to date): {warm_wall:.2f} s")
        print(f"yardstick: 10M-iteration Python loop {yardstick():.2f} s (about 0.6 s on a quiet modern core)")
        print(f"{'case':44} {'min s':>6} {'median s':>9} {'max s':>6} {'peak MB':>8}  new fixed unchanged searched again")
        for name, files in cases:
            walls, peaks = [], []
            for _ in range(args.runs):
                wall, peak, data = timed(base + files)
                walls.append(wall)
                peaks.append(peak)
            again = ",".join(data["stats"].get("contexts_searched_again", [])) or "-"
            print(
                f"{name:44} {min(walls):6.2f} {statistics.median(walls):9.2f} {max(walls):6.2f} {max(peaks):8.0f}"
                f"  {len(data['new']):3} {len(data['fixed']):5} {data['unchanged']:9} {again}"
            )
        print(f"yardstick after: {yardstick():.2f} s")


if __name__ == "__main__":
    main()
