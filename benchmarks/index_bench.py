#!/usr/bin/env python3
"""Benchmark `putlint index` on a real kernel tree, next to cscope and ctags.

Run from the repository (standard library only; putlint must be installed):

    python3 benchmarks/index_bench.py                        # whole tree (minutes on 2 cores)
    python3 benchmarks/index_bench.py --paths fs/ceph --recall-scope fs/ceph
    python3 benchmarks/index_bench.py --tree ~/linux --paths fs mm --jobs 2 --json out.json

Without --tree it asks `scripts/get-kernel.sh` for the cached tree (downloading it if needed).
It prints, and never asserts on:
  * a table of wall time, peak RSS (the larger of the parent process and its largest child,
    and which one it was), files, MB and MB/s for: putlint cold index (fresh cache dir),
    putlint warm index (same cache dir, nothing changed) and a cold `cscope -b -q -k` build
    (run before and after putlint, so the host's drift shows)
    over the same .c/.h files;
  * function-definition recall of putlint against universal-ctags on --recall-scope
    (default fs): ctags definitions, how many putlint found (same file and name, ctags line
    inside putlint's [line, end_line]), up to 20 misses (ALL_CAPS names, mostly macro
    invocations ctags takes for definitions, only counted by name), and putlint definitions
    ctags lacks (sys_* ones come from SYSCALL_DEFINE, whose ctags tags are dropped).
Exit status: 0 done, 2 missing tree, putlint, or a failed putlint run. A missing cscope or
ctags skips its part with a note. Temp dirs are removed; nothing is written into the tree.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIME = "/usr/bin/time"
# Annotations ctags must skip (function-like ones with "+"), on top of scripts/tags.sh's -I list.
CTAGS_IGNORE = (
    "__init,__exit,__cold,__must_check,__always_inline,noinline,__releases+,__acquires+,__must_hold+,"
    "__user,__iomem,__rcu,__percpu,__ref,__weak,notrace,asmlinkage,__visible,__noreturn,EXPORT_SYMBOL+,"
    "EXPORT_SYMBOL_GPL+,__read_mostly,__maybe_unused,__printf+,__attribute__+,__acquire+,__release+,"
    "__cacheline_aligned"
)
SYSCALL_TAG = re.compile(r"^(COMPAT_)?SYSCALL(32)?_DEFINE\d*$")
SYSCALL_NAME = re.compile(r"^(compat_)?sys_")  # putlint's names for SYSCALL_DEFINE bodies
MACRO_NAME = re.compile(r"[A-Z0-9_]+")  # ctags "definitions" named like macros: usually invocations


def die(message: str) -> None:
    print(f"index_bench: {message}", file=sys.stderr)
    sys.exit(2)


def descendants(root_pid: int) -> dict[int, int]:
    """pid -> parent pid of every live descendant of root_pid (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = {}, [root_pid]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                found[child] = pid
                frontier.append(child)
    return found


def peak_kb(pid: int) -> int:
    try:
        match = re.search(r"VmHWM:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return 0
    return int(match.group(1)) if match else 0


def measure(cmd: list[str], cwd: str | None = None) -> dict:
    """Run cmd; wall time, stdout, and peak RSS of the process and of its largest child.

    /usr/bin/time -v gives the exact peak over the whole tree (the kernel folds reaped
    children into it); sampling /proc's VmHWM every 50 ms tells the parent from workers.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timefile:
        wrapped = [TIME, "-v", "-o", timefile.name, *cmd] if os.access(TIME, os.X_OK) else cmd
        started = time.monotonic()
        proc = subprocess.Popen(wrapped, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peaks: dict[int, int] = {}
        main_pid = None if wrapped is not cmd else proc.pid
        while proc.poll() is None:
            tree = descendants(proc.pid)
            if main_pid is None:
                main_pid = next((p for p, parent in tree.items() if parent == proc.pid), None)
            for pid in [proc.pid, *tree]:
                peaks[pid] = max(peaks.get(pid, 0), peak_kb(pid))
            time.sleep(0.05)
        stdout, stderr = proc.communicate()
        wall = time.monotonic() - started
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", timefile.read())
    parent_kb = peaks.get(main_pid, 0)
    child_kb = max((kb for pid, kb in peaks.items() if pid not in (main_pid, proc.pid)), default=0)
    total_kb = max(parent_kb, child_kb, int(match.group(1)) if match else 0)
    peak_in = "parent" if parent_kb >= child_kb else "child"
    if total_kb > 1.05 * max(parent_kb, child_kb):  # peak reached between samples: unattributed
        peak_in = "?"
    return {"cmd": cmd, "returncode": proc.returncode, "stdout": stdout, "stderr": stderr, "seconds": round(wall, 2),
            "peak_rss_mb": round(total_kb / 1024, 1), "peak_in": peak_in,
            "parent_rss_mb": round(parent_kb / 1024, 1), "largest_child_rss_mb": round(child_kb / 1024, 1)}


def putlint_command() -> list[str]:
    if shutil.which("putlint"):
        return ["putlint"]
    try:
        import putlint  # noqa: F401
    except ImportError:
        die("putlint is not installed (pip install -e . in the repository)")
    return [sys.executable, "-m", "putlint"]


def run_putlint(args: list[str], label: str) -> dict:
    result = measure([*putlint_command(), *args])
    if result["returncode"] not in (0, 1):
        die(f"{label} failed (exit {result['returncode']}):\n{result['stderr'].strip()}")
    match = re.search(r"^files:\s+(\d+) \(([\d.]+) MB\)", result["stdout"], re.M)
    if not match:
        die(f"{label}: no 'files:' line in putlint's output:\n{result['stdout']}")
    result["files"], result["mb"] = int(match.group(1)), float(match.group(2))
    result["mb_per_s"] = round(result["mb"] / result["seconds"], 2) if result["seconds"] else None
    return result


def source_files(tree: Path, paths: list[str]) -> list[tuple[str, int]]:
    """(absolute path, size) of .c/.h regular files under paths, as find lists them."""
    starts = [str(tree / p) for p in paths] or [str(tree)]
    cmd = ["find", *starts, "(", "-name", ".git", "-o", "-name", ".pc", ")", "-prune", "-o",
           "-type", "f", "(", "-name", "*.c", "-o", "-name", "*.h", ")", "-printf", "%s %p\\n"]
    output = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return sorted((path, int(size)) for size, path in (line.split(" ", 1) for line in output.splitlines()))


def run_cscope(tree: Path, paths: list[str], work: Path) -> dict | str:
    cscope = shutil.which("cscope") or ("/usr/bin/cscope" if os.access("/usr/bin/cscope", os.X_OK) else None)
    if not cscope:
        return "cscope not found; skipped"
    files = source_files(tree, paths)
    listfile = work / "cscope.files"
    listfile.write_text("".join(f'"{path}"\n' if " " in path else f"{path}\n" for path, _ in files))
    result = measure([cscope, "-b", "-q", "-k", "-i", str(listfile), "-f", str(work / "cscope.out")], cwd=str(work))
    if result["returncode"] != 0:
        return f"cscope failed (exit {result['returncode']}): {result['stderr'].strip()[:500]}"
    result["files"], result["mb"] = len(files), round(sum(size for _, size in files) / 1e6, 1)
    result["mb_per_s"] = round(result["mb"] / result["seconds"], 2) if result["seconds"] else None
    return result


def ctags_ignores(tree: Path) -> str:
    """The brief's -I list merged with scripts/tags.sh's (minus `static,const`)."""
    names = {}
    tags_sh = tree / "scripts" / "tags.sh"
    text = tags_sh.read_text(errors="replace") if tags_sh.is_file() else ""
    for group in re.findall(r"^\s*-I\s+(\S+)", text, re.M) + [CTAGS_IGNORE]:
        for item in group.split(","):
            name, plus = item.rstrip("+"), item.endswith("+")
            if name and name not in ("static", "const"):
                names[name] = names.get(name, False) or plus
    return ",".join(name + "+" * plus for name, plus in sorted(names.items()))


def recall(tree: Path, scope: str, cache_dir: Path) -> dict | str:
    ctags = shutil.which("ctags") or ("/usr/bin/ctags" if os.access("/usr/bin/ctags", os.X_OK) else None)
    if not ctags:
        return "ctags not found; recall skipped"
    version = subprocess.run([ctags, "--version"], capture_output=True, text=True).stdout
    if "Universal Ctags" not in version:
        return f"{ctags} is not Universal Ctags; recall skipped"
    cmd = [ctags, "-R", "--links=no", "--languages=C", "--langmap=c:+.h", "--kinds-C=f", "--fields=+n",
           "--output-format=json", "-I", ctags_ignores(tree), "-o", "-", scope]
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
    ctags_seconds = time.monotonic() - started
    if done.returncode != 0:
        return f"ctags failed (exit {done.returncode}): {done.stderr.strip()[:300]}"
    tags = []
    for line in done.stdout.splitlines():
        tag = json.loads(line)
        if tag.get("_type") == "tag" and tag.get("kind") == "function" and not SYSCALL_TAG.match(tag["name"]):
            tags.append((tag["path"], tag["line"], tag["name"]))
    sys.path.append(str(REPO / "src"))  # used only when putlint is not installed
    from putlint import store
    from putlint.tree import open_tree
    root = open_tree(tree)
    ours: dict[tuple[str, str], list[tuple[int, int]]] = {}
    with store.Index(store.index_path(cache_dir, root), root) as idx:
        for ff in idx.load():
            if ff.path == scope or ff.path.startswith(scope + "/"):
                for fn in ff.functions:
                    ours.setdefault((ff.path, fn.name), []).append((fn.line, fn.end_line))
    misses = sorted(((p, line, name) for p, line, name in tags
                     if not any(a <= line <= b for a, b in ours.get((p, name), ()))),
                    key=lambda m: (bool(MACRO_NAME.fullmatch(m[2])), m))  # ALL_CAPS (macro-like) last
    by_key: dict[tuple[str, str], list[int]] = {}
    for p, line, name in tags:
        by_key.setdefault((p, name), []).append(line)
    extra = sorted(((p, a, name) for (p, name), ranges in ours.items() for a, b in ranges
                    if not any(a <= line <= b for line in by_key.get((p, name), ()))),
                   key=lambda m: (bool(SYSCALL_NAME.match(m[2])), m))  # SYSCALL_DEFINE wrappers last
    found = len(tags) - len(misses)
    return {"scope": scope, "ctags_definitions": len(tags), "found": found,
            "recall_percent": round(100 * found / len(tags), 2) if tags else None,
            "ctags_seconds": round(ctags_seconds, 2), "misses": [f"{p}:{n} {name}" for p, n, name in misses],
            "macro_like_misses": sum(1 for m in misses if MACRO_NAME.fullmatch(m[2])),
            "putlint_definitions": sum(len(r) for r in ours.values()),
            "putlint_only": [f"{p}:{n} {name}" for p, n, name in extra],
            "putlint_only_syscalls": sum(1 for m in extra if SYSCALL_NAME.match(m[2]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", help="kernel tree (default: scripts/get-kernel.sh's cached tree)")
    parser.add_argument("--paths", nargs="+", default=[], help="scope of the timing runs (default: whole tree)")
    parser.add_argument("--jobs", type=int, help="worker processes passed to putlint index --jobs")
    parser.add_argument("--recall-scope", default="fs", help="directory for the ctags recall check (default fs)")
    parser.add_argument("--skip-cscope", action="store_true")
    parser.add_argument("--skip-recall", action="store_true")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    args = parser.parse_args()

    if args.tree is None:
        got = subprocess.run([str(REPO / "scripts" / "get-kernel.sh")], capture_output=True, text=True)
        if got.returncode != 0 or not got.stdout.strip():
            die(f"scripts/get-kernel.sh failed (exit {got.returncode}): {got.stderr.strip()}; give --tree DIR")
        args.tree = got.stdout.strip().splitlines()[-1]
    tree = Path(args.tree).expanduser().resolve()
    if not tree.is_dir():
        die(f"kernel tree {args.tree} does not exist or is not a directory")
    if not (tree / "Kconfig").is_file():
        die(f"{tree} does not look like a kernel tree (no Kconfig)")
    paths = [os.path.relpath(p, tree) if os.path.isabs(p) else os.path.normpath(p).strip("/") for p in args.paths]
    scope = os.path.normpath(args.recall_scope).strip("/")
    for given, p in zip(args.paths + [args.recall_scope], paths + [scope]):
        if p.startswith("..") or not (tree / p).exists():
            die(f"path {given} is not in the kernel tree {tree}")
    if args.jobs is not None and args.jobs < 1:
        die("--jobs must be at least 1")
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []

    figures: dict = {"tree": str(tree), "paths": paths or ["(whole tree)"], "jobs": args.jobs or os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="putlint-bench-") as tmp:
        work = Path(tmp)
        cache = work / "cache"
        index_args = ["index", str(tree), *paths, "--cache-dir", str(cache), *jobs]
        rows = []
        notes = []
        # cscope runs before and after putlint: this kind of machine's speed drifts with
        # its host over minutes, and the two cscope runs show by how much.
        def cscope_run(when: str) -> None:
            (work / f"cscope-{when}").mkdir()
            figures[f"cscope_{when}"] = got = run_cscope(tree, paths, work / f"cscope-{when}")
            if isinstance(got, str):
                notes.append(got)
            else:
                rows.append((f"cscope -b -q -k ({when})", got))

        if not args.skip_cscope:
            cscope_run("before")
        figures["putlint_cold"] = run_putlint(index_args, "putlint cold index")
        figures["putlint_warm"] = run_putlint(index_args, "putlint warm index")
        rows += [("putlint index (cold)", figures["putlint_cold"]), ("putlint index (warm)", figures["putlint_warm"])]
        if not args.skip_cscope and not isinstance(figures["cscope_before"], str):
            cscope_run("after")
        if not args.skip_recall:
            if paths and not any(p == "." or scope == p or scope.startswith(p + "/") for p in paths):
                # the recall scope is outside the timed scope: index it too (not timed)
                run_putlint(["index", str(tree), scope, "--cache-dir", str(cache), *jobs], "putlint index of " + scope)
            figures["recall"] = got = recall(tree, scope, cache)
            if isinstance(got, str):
                notes.append(got)

    print(f"tree:  {tree}\npaths: {' '.join(figures['paths'])}   jobs: {figures['jobs']}\n")
    print(f"{'run':<26}{'wall s':>9}{'peak RSS MB':>13}  {'peak in':<8}{'files':>8}{'MB':>9}{'MB/s':>9}")
    for label, r in rows:
        print(f"{label:<26}{r['seconds']:>9.2f}{r['peak_rss_mb']:>13.1f}  {r['peak_in']:<8}{r['files']:>8}"
              f"{r['mb']:>9.1f}{r['mb_per_s'] or 0:>9.2f}")
    cold = figures["putlint_cold"]
    print(f"\nputlint cold RSS: parent {cold['parent_rss_mb']} MB, largest worker {cold['largest_child_rss_mb']} MB"
          " (peak RSS = max of the two; /usr/bin/time -v when present)")
    for note in notes:
        print(f"note: {note}")
    rec = figures.get("recall")
    if isinstance(rec, dict):
        print(f"\nfunction-definition recall vs universal-ctags on {rec['scope']}/ (ctags took {rec['ctags_seconds']} s):")
        print(f"  ctags definitions: {rec['ctags_definitions']}   found by putlint: {rec['found']}"
              f"   recall: {rec['recall_percent']}%")
        print(f"  putlint definitions: {rec['putlint_definitions']}   not in ctags: {len(rec['putlint_only'])}"
              f" ({rec['putlint_only_syscalls']} sys_*/compat_sys_* from SYSCALL_DEFINE, whose ctags tags are dropped)")
        real = rec["misses"][: len(rec["misses"]) - rec["macro_like_misses"]]
        if rec["macro_like_misses"]:
            names = Counter(m.rsplit(" ", 1)[1] for m in rec["misses"][len(real):])
            print(f"  misses named in ALL_CAPS (likely macro invocations ctags took for definitions):"
                  f" {rec['macro_like_misses']}: " + ", ".join(f"{n} x{c}" for n, c in names.most_common()))
        if real:
            print(f"  other misses ({min(20, len(real))} of {len(real)}):")
            print("".join(f"    {m}\n" for m in real[:20]), end="")
        others = rec["putlint_only"][: len(rec["putlint_only"]) - rec["putlint_only_syscalls"]]
        if others:
            print(f"  putlint-only, not syscalls ({min(10, len(others))} of {len(others)}):")
            print("".join(f"    {m}\n" for m in others[:10]), end="")
    if args.json:
        for _, r in rows:
            r.pop("stderr", None)
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
        print(f"\nfigures written to {args.json}")


if __name__ == "__main__":
    main()
