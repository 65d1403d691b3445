"""What the benchmark scripts share: the real tree to run on, and a timed run of a command."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def kernel_tree(given: str | None, who: str) -> Path:
    """`given`, or the cached 6.12 tree from scripts/get-kernel.sh (downloaded if needed)."""
    if given:
        return Path(given)
    done = subprocess.run(["bash", str(REPO / "scripts" / "get-kernel.sh"), "6.12"], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{who}: cannot get a kernel tree: {done.stderr.strip()}")
    return Path(done.stdout.strip())


def run_timed(command: list[str], who: str) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, peak RSS in MB from /usr/bin/time -v, the finished run); exit codes
    other than 0 and 1 (findings) end the benchmark."""
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    started = time.monotonic()
    done = subprocess.run(timer + command, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode not in (0, 1):
        sys.exit(f"{who}: {' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return wall, int(peak.group(1)) / 1024 if peak else float("nan"), done
