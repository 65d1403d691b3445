"""Every fault and hostile input of issue 13, tried on the annotated fixture
kernel (plus filler files), with the exit code, the time, and whether the
findings (fingerprints) match those of a clean run.

    python benchmarks/fault_table.py [--fillers 200]

"then" rows are the run after the fault: it must detect what happened, rebuild
what it must and report exactly the clean findings. Rows that need root (bind
mounts, a small tmpfs) are skipped with the reason when not root.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from faultkit import (  # noqa: E402
    PUTLINT,
    environment,
    fingerprints,
    helpers_of,
    index_is_valid,
    kill_group,
    make_tree,
    putlint,
    start,
)
import fuzz_targets  # noqa: E402
import test_hostile  # noqa: E402

PATCH = HERE.parent / "tests" / "fixtures" / "patches" / "0001-wbfs-drop-at-once.patch"
ROWS: list[tuple[str, str, float, str]] = []


def row(name: str, codes: str, seconds: float, match: str) -> None:
    ROWS.append((name, codes, seconds, match))
    print(f"{name:<58} {codes:>14} {seconds:>7.1f}  {match}", flush=True)


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


class Bench:
    def __init__(self, work: Path, fillers: int):
        self.work = work
        self.tree = make_tree(work / "linux", fillers)
        self.count = 0
        done = self.scan(self.cache())
        self.clean = fingerprints(done.stdout)
        checked = self.check(self.cache())
        self.clean_check = self._check_keys(checked.stdout)
        self.warm = self.cache()
        self.scan(self.warm), self.check(self.warm)

    def cache(self) -> Path:
        self.count += 1
        return self.work / f"cache{self.count}"

    def copy_warm(self) -> Path:
        cache = self.cache()
        shutil.copytree(self.warm, cache)
        return cache

    def scan(self, cache, faults="", tree=None, env=None, extra=()):
        return putlint("scan", str(tree or self.tree), "-f", "json", "-j", "2", "--cache-dir", str(cache), *extra,
                       faults=faults, env=env)

    def check(self, cache, faults="", patch=PATCH, jobs="2"):
        return putlint("check-patch", str(patch), "--tree", str(self.tree), "-f", "json", "-j", jobs,
                       "--cache-dir", str(cache), faults=faults)

    @staticmethod
    def _check_keys(text: str):
        data = json.loads(text)
        return (sorted(f["fingerprint"] for f in data["findings"]), [n["fingerprint"] for n in data["new"]],
                [f["fingerprint"] for f in data["fixed"]])

    def matches(self, done, kind="scan") -> str:
        try:
            same = (fingerprints(done.stdout) == self.clean if kind == "scan"
                    else self._check_keys(done.stdout) == self.clean_check)
        except (ValueError, KeyError):
            return "no output"
        return "yes" if same else "NO"

    def then(self, name, first, cache, kind="scan", seconds=0.0):
        """A fault row, then the next run on the same cache."""
        again, more = timed(lambda: self.scan(cache) if kind == "scan" else self.check(cache))
        valid = "index valid" if index_is_valid(cache) else "INDEX INVALID"
        row(name, f"{first} then {again.returncode}", seconds + more, f"{self.matches(again, kind)} ({valid})")


def damage_rows(bench: Bench) -> None:
    for damage in ("truncated", "overwritten", "foreign version"):
        cache = bench.copy_warm()
        (index,) = (cache / "index").glob("*.sqlite")
        db = sqlite3.connect(index)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if damage == "foreign version":
            db.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
            db.commit()
        db.close()
        data = index.read_bytes()
        if damage == "truncated":
            index.write_bytes(data[: len(data) // 2])
        elif damage == "overwritten":
            index.write_bytes(data[:8192] + os.urandom(len(data) - 8192))
        done, seconds = timed(lambda: bench.scan(cache))
        row(f"index {damage}", str(done.returncode), seconds, bench.matches(done))
    for saved in ("program", "findings"):
        cache = bench.copy_warm()
        (path,) = (cache / "index").glob(f"*.{saved}-*")
        path.write_bytes(path.read_bytes()[:100])
        done, seconds = timed(lambda: bench.check(cache))
        row(f"saved {saved} truncated (check-patch)", str(done.returncode), seconds, bench.matches(done, "check"))


def mount_rows(bench: Bench) -> None:
    if os.geteuid() != 0:
        row("read-only cache, full tmpfs: need root for mounts", "-", 0.0, "skipped")
        return
    cache = bench.copy_warm()
    subprocess.run(["mount", "--bind", str(cache), str(cache)], check=True)
    subprocess.run(["mount", "-o", "remount,ro,bind", str(cache)], check=True)
    try:
        done, seconds = timed(lambda: bench.check(cache))
    finally:
        subprocess.run(["umount", str(cache)], check=True)
    row("read-only cache (bind mount, check-patch)", str(done.returncode), seconds, bench.matches(done, "check"))
    small = bench.cache()
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(small)], check=True)
    try:
        first, seconds = timed(lambda: bench.scan(small))
        subprocess.run(["mount", "-o", "remount,size=64m", str(small)], check=True)
        bench.then("disk full: cache on a 48 KiB tmpfs, then room made", first.returncode, small, seconds=seconds)
    finally:
        subprocess.run(["umount", str(small)], check=True)


def kill_rows(bench: Bench) -> None:
    for name, fault, kind in (
        ("injected ENOSPC in an index transaction", "index-batch=enospc", "scan"),
        ("injected ENOSPC writing saved state (check)", "saved-write=enospc", "check"),
        ("SIGKILL inside a cold index's transaction (putlint index)", "index-batch=kill", "index"),
        ("SIGKILL halfway through the saved program write", "saved-write=kill", "scan"),
        ("SIGKILL halfway through the saved findings write", "saved-write=kill@2", "check"),
        ("SIGKILL in the middle of a check's search", "search=kill", "check"),
        ("a worker dies parsing one file", "extract:drivers/filler/f7.c=kill", "scan"),
        ("SIGINT during the search", "search=sigint", "scan"),
    ):
        cache = bench.cache()
        if kind == "index":
            first, seconds = timed(lambda: putlint("index", str(bench.tree), "-j", "2", "--cache-dir", str(cache),
                                                   faults=fault))
            kind = "scan"
        else:
            first, seconds = timed(lambda: bench.scan(cache, fault) if kind == "scan"
                                   else bench.check(cache, fault, jobs="1"))
        if fault.startswith(("saved-write=enospc", "extract:")):
            row(name, str(first.returncode), seconds, bench.matches(first, kind))
        else:
            bench.then(name, first.returncode, cache, kind, seconds)
    for name, sig in (("SIGKILL of scan during a cold index", signal.SIGKILL), ("SIGINT during a cold index", signal.SIGINT)):
        cache = bench.cache()
        started = time.monotonic()
        running = start("scan", str(bench.tree), "-f", "json", "-j", "2", "--cache-dir", str(cache),
                        faults="extract=sleep:0.2")
        helpers = helpers_of(running, 3) or set()
        if sig == signal.SIGKILL:
            running.kill()
        else:
            kill_group(running, sig)
        running.communicate(timeout=120)
        time.sleep(0.5)
        left = [pid for pid in helpers if Path(f"/proc/{pid}").exists() and _alive(pid)]
        bench.then(f"{name} ({len(helpers)} helpers, {len(left)} left)", running.returncode, cache,
                   seconds=time.monotonic() - started)


def _alive(pid: int) -> bool:
    from faultkit import alive

    return alive(pid)


def concurrency_row(bench: Bench) -> None:
    cache = str(bench.cache())
    env = environment(PUTLINT_FAULTS="extract=sleep:0.02")
    commands = [["check-patch", str(PATCH), "--tree", str(bench.tree), "-f", "json", "--cache-dir", cache],
                ["scan", str(bench.tree), "-f", "json", "-j", "2", "--cache-dir", cache],
                ["scan", str(bench.tree), "-f", "json", "-j", "2", "--cache-dir", cache]]
    started = time.monotonic()
    running = [subprocess.Popen([*PUTLINT, *c], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for c in commands]
    outs = [(p.communicate(timeout=600)[0], p.returncode) for p in running]
    seconds = time.monotonic() - started
    same = (bench._check_keys(outs[0][0]) == bench.clean_check
            and all(fingerprints(out) == bench.clean for out, _ in outs[1:]))
    valid = "index valid" if index_is_valid(Path(cache)) else "INDEX INVALID"
    row("three runs at once on one cold cache (check + 2 scans)", "/".join(str(c) for _, c in outs), seconds,
        f"{'yes' if same else 'NO'} ({valid})")


def hostile_rows(bench: Bench) -> None:
    tree = make_tree(bench.work / "hostile" / "linux", 0)
    test_hostile.hostile_files(tree)
    done, seconds = timed(lambda: bench.scan(bench.cache(), tree=tree, env={"PUTLINT_PARSE_TIMEOUT": "8"}))
    data = json.loads(done.stdout)
    skipped = ", ".join(f"{Path(u['path']).name}: {u['reason'].split(':')[0]}" for u in data["unanalysed"]
                        if u["kind"] == "file")
    row("hostile C: 30k-deep nesting, 100k lines, macro soup, #if 0,", str(done.returncode), seconds,
        bench.matches(done))
    row(f"  unterminated comment/string, 57 MB header, binary .c", "", 0.0, f"reported: {skipped}")
    odd = make_tree(bench.work / "odd tree é" / "linux", 0)
    (odd / "fs" / "loop").symlink_to("loop")
    (odd / "fs" / "up").symlink_to("..")
    with open(os.fsencode(odd / "fs") + b"/bad\xff.c", "wb") as handle:
        handle.write(b"void bad(void)\n{\n}\n")
    (odd / "fs" / "secret.c").write_text("void s(void)\n{\n}\n")
    faults = "read:fs/secret.c=eacces" if os.geteuid() == 0 else ""
    (odd / "fs" / "secret.c").chmod(0)
    done, seconds = timed(lambda: bench.scan(bench.cache(), faults, tree=odd))
    reported = len(json.loads(done.stdout)["unanalysed"])
    row("tree: spaces, non-ASCII, symlink loops, non-UTF-8 name, 0000 file", str(done.returncode), seconds,
        f"{bench.matches(done)} ({reported} file(s) reported)")
    strict, seconds = timed(lambda: bench.scan(bench.cache(), faults, tree=odd, extra=("--strict",)))
    row("  the same with --strict", str(strict.returncode), seconds, "exit 2 as it must" if strict.returncode == 2 else "NO")
    not_kernel = bench.work / "not-kernel"
    shutil.copytree(bench.tree / "fs", not_kernel / "fs")
    done, seconds = timed(lambda: bench.scan(bench.cache(), tree=not_kernel))
    row("a tree that is not a kernel", str(done.returncode), seconds, "says: " + done.stderr.split("tree (", 1)[-1][:40])


def patch_rows(bench: Bench) -> None:
    corpus = fuzz_targets.corpus("patch_reader") + fuzz_targets.corpus("patch_applier")
    cache = bench.copy_warm()
    codes = []
    started = time.monotonic()
    for path in corpus:
        done = subprocess.run([*PUTLINT, "check-patch", "-", "--tree", str(bench.tree), "--cache-dir", str(cache)],
                              input=path.read_bytes(), capture_output=True, env=environment(), timeout=300)
        codes.append(done.returncode)
    row(f"fuzz corpus through check-patch ({len(corpus)} inputs)", ",".join(sorted(set(map(str, codes)))),
        time.monotonic() - started, "no 123, no traceback" if 123 not in codes else "INTERNAL ERROR")
    text = PATCH.read_bytes()
    for name, data in (("a hunk at an offset (applied, noted)", text.replace(b"@@ -18,7", b"@@ -28,7")),
                       ("a hunk needing fuzz (refused)", text.replace(b" \tINIT_WORK", b" \tINIT_WORKX")),
                       ("a patch for a file the tree lacks", text.replace(b"fs/wbfs/inode.c", b"fs/none/x.c"))):
        patch = bench.work / "p.patch"
        patch.write_bytes(data)
        done, seconds = timed(lambda: bench.check(cache, patch=patch))
        note = "; ".join(json.loads(done.stdout)["patches"][0]["notes"]) if done.returncode in (0, 1) else \
            done.stderr.strip().rsplit("': ", 1)[-1]
        row(name, str(done.returncode), seconds, note[:70])
    lost = make_tree(bench.work / "lost" / "linux", 0)
    (lost / "fs" / "wbfs" / "lost.c").write_bytes(test_hostile.LOST)
    patch = bench.work / "lost.patch"
    patch.write_text(test_hostile.LOST_PATCH)
    done, seconds = timed(lambda: putlint("check-patch", str(patch), "--tree", str(lost), "--cache-dir",
                                          str(bench.cache())))
    said = [line for line in done.stdout.splitlines() if line.startswith("could not check")]
    row("a patch in a function the parse lost", str(done.returncode), seconds, (said or ["NO: not said"])[0][:70])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fillers", type=int, default=200, help="filler files beside the fixture kernel")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="putlint-faults-"))
    try:
        print(f"{'fault or hostile input':<58} {'exit':>14} {'seconds':>7}  same findings as a clean run")
        bench, seconds = timed(lambda: Bench(work, args.fillers))
        row(f"clean run (fixture kernel + {args.fillers} files), baseline", "1", seconds, "18 findings + 1 suppressed")
        damage_rows(bench)
        mount_rows(bench)
        kill_rows(bench)
        concurrency_row(bench)
        hostile_rows(bench)
        patch_rows(bench)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    bad = [r for r in ROWS if "NO" in r[3].split() or "INVALID" in r[3] or "INTERNAL" in r[3]]
    print(f"{len(ROWS)} rows, {len(bad)} bad")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
