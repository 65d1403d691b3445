"""Fault injection for the robustness tests and `benchmarks/fault_table.py`.

`PUTLINT_FAULTS="point=action,..."` makes the named points of a run misbehave;
unset (always, outside tests) every point is a dictionary lookup. Points:

- `read`: reading a tree file (`read:PATH` for one file);
- `extract`: an index worker, before it parses a file (`extract:PATH` for one file);
- `index-batch`: inside the transaction that writes a batch of index rows, before COMMIT;
- `saved-write`: halfway through writing a saved-state file;
- `search`: a context's search, before it starts.

Actions: `eacces` (raise PermissionError, as for a file root may read but
a user may not), `sleep:SECONDS`, `kill` (SIGKILL the process), `sigint` (SIGINT to
the whole process group, as Ctrl-C would), `enospc` (raise the error a full
disk gives: OSError, or sqlite3's "database or disk is full" at `index-batch`).
`action@N` acts only at the point's Nth hit in the process.
"""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import time

_counts: dict[str, int] = {}


def _parse(spec: str) -> dict[str, tuple[str, int]]:
    faults = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        point, _, action = item.partition("=")
        action, _, nth = action.partition("@")
        faults[point] = (action, int(nth) if nth.isdigit() else 0)
    return faults


_FAULTS = _parse(os.environ.get("PUTLINT_FAULTS", ""))


def point(name: str, key: str = "") -> None:
    """Misbehave here if PUTLINT_FAULTS says so (`name:key=...` only for that key)."""
    if not _FAULTS:
        return
    fault = _FAULTS.get(f"{name}:{key}") or _FAULTS.get(name)
    if fault is None:
        return
    action, nth = fault
    _counts[name] = _counts.get(name, 0) + 1
    if nth and _counts[name] != nth:
        return
    kind, _, argument = action.partition(":")
    if kind == "sleep":
        time.sleep(float(argument or 1))
    elif kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "sigint":
        os.killpg(os.getpgrp(), signal.SIGINT)
        time.sleep(5)  # the signal arrives at the next bytecode; do not run on past it
    elif kind == "eacces":
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    elif kind == "enospc":
        if name == "index-batch":
            raise sqlite3.OperationalError("database or disk is full")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
