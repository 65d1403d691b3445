"""Helpers shared by tests/test_faults.py and benchmarks/fault_table.py: a
fixture tree with findings, putlint run as a real process, its helpers found
through /proc, and the fingerprints a run reports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from trees import TREE as FIXTURE  # noqa: E402 - the rule fixtures laid out as one kernel

PATCHES = Path(__file__).parent / "fixtures" / "patches"
PUTLINT = [sys.executable, "-c", "from putlint.cli import run; run()"]


def make_tree(destination: Path, fillers: int = 0) -> Path:
    """The annotated fixture kernel (19 findings in JSON, one suppressed), plus `fillers` small files
    that give a cold index something to do."""
    shutil.copytree(FIXTURE, destination)
    filler = destination / "drivers" / "filler"
    filler.mkdir(parents=True, exist_ok=True)
    for number in range(fillers):
        (filler / f"f{number}.c").write_text(
            f"static int filler{number}(int x)\n{{\n\treturn helper{number}(x) + {number};\n}}\n"
        )
    return destination


def environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PUTLINT_")}
    env.update(extra)
    return env


def putlint(*args: str, faults: str = "", timeout: float = 300, env: dict | None = None, **popen):
    """putlint run to its end: a CompletedProcess (text)."""
    env = {**(environment(PUTLINT_FAULTS=faults) if faults else environment()), **(env or {})}
    # A session of its own: a `sigint` fault signals putlint's group, not the caller's.
    return subprocess.run(
        [*PUTLINT, *args], capture_output=True, text=True, env=env, timeout=timeout, start_new_session=True, **popen
    )


def start(*args: str, faults: str = "") -> subprocess.Popen:
    """putlint in a session of its own, so a signal to its group reaches only it."""
    env = environment(PUTLINT_FAULTS=faults) if faults else environment()
    return subprocess.Popen(
        [*PUTLINT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )


def fingerprints(json_text: str) -> list[str]:
    """Sorted fingerprints of a scan's (or a check's) JSON findings."""
    return sorted(finding["fingerprint"] for finding in json.loads(json_text)["findings"])


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def descendants(pid: int) -> set[int]:
    """Living processes below `pid` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def wait_for(condition, seconds: float = 60.0, step: float = 0.05):
    """Poll `condition()` until it is true (returned) or the deadline (None)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None


def helpers_of(process: subprocess.Popen, count: int) -> set[int] | None:
    """Wait until `process` has at least `count` living descendants; them."""
    return wait_for(lambda: (lambda found: found if len(found) >= count else None)(descendants(process.pid)))


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def index_is_valid(cache: Path) -> bool:
    """Every index under `cache` passes SQLite's integrity check."""
    indexes = list((cache / "index").glob("*.sqlite"))
    for path in indexes:
        db = sqlite3.connect(path)
        try:
            if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                return False
        finally:
            db.close()
    return bool(indexes)


def indexed_files(cache: Path) -> int:
    """Rows in the (one) index under `cache`."""
    (path,) = (cache / "index").glob("*.sqlite")
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    finally:
        db.close()
