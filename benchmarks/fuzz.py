"""Long fuzz runs of putlint's readers: the mbox/patch reader, the in-memory
patch applier, the C fact extractor and the rule loader.

    python benchmarks/fuzz.py [--seconds 60] [--target NAME ...] [--engine hypothesis|atheris]

`hypothesis` (the default) generates structured inputs (tests/fuzz_targets.py);
`atheris` runs coverage-guided libFuzzer mutation from the regression corpus
(pip install atheris; one process per target). For each target it prints the
inputs tried, inputs per second and what it found; a failing input is saved
under tests/fuzz_corpus/<target>/found-<hash> (add it to the corpus once
fixed). Exit 1 if anything was found.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import fuzz_targets as targets  # noqa: E402

TARGETS = ("patch_reader", "patch_applier", "extractor", "rule_loader")
STRATEGIES = {
    "patch_reader": targets.patch_inputs,
    "patch_applier": targets.patch_inputs,
    "extractor": targets.c_sources,
    "rule_loader": targets.rule_files,
}


def _call(target: str, root: Path):
    function = getattr(targets, target)
    return (lambda data: function(data, root)) if target == "patch_applier" else function


def _save(target: str, data: bytes) -> Path:
    directory = targets.CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"found-{hashlib.sha1(data).hexdigest()[:12]}"
    path.write_bytes(data)
    return path


def run_hypothesis(target: str, seconds: float) -> tuple[int, list[str]]:
    from hypothesis import HealthCheck, given, settings

    root = targets.make_patch_tree()
    call = _call(target, root)
    count = 0
    last: list[bytes] = []

    @settings(max_examples=500, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(STRATEGIES[target]())
    def one(data):
        nonlocal count
        count += 1
        try:
            call(data)
        except BaseException:
            last[:] = [data]  # the last failure hypothesis tries is the shrunk one
            raise

    found = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and not found:
            try:
                one()
            except Exception as error:  # noqa: BLE001 - a finding
                found.append(f"{type(error).__name__}: {error} -> {_save(target, last[0])}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return count, found


_ATHERIS = """
import sys
sys.path.insert(0, {tests!r})
import atheris
with atheris.instrument_imports(include=["putlint"]):
    import fuzz_targets as targets
root = __import__("pathlib").Path({root!r})  # a patch tree of the parent's, removed by it
function = getattr(targets, {target!r})
def one(data):
    if {target!r} == "patch_applier":
        function(data, root)
    else:
        function(data)
atheris.Setup(sys.argv, one)
atheris.Fuzz()
"""


def run_atheris(target: str, seconds: float) -> tuple[int, list[str]]:
    work = Path(targets.make_patch_tree())
    seeds = work / "seeds"
    seeds.mkdir()
    for path in targets.corpus(target):
        (seeds / path.name).write_bytes(path.read_bytes())
    script = work / "fuzz_one.py"
    script.write_text(_ATHERIS.format(tests=str(HERE.parent / "tests"), target=target, root=str(work)))
    done = subprocess.run(
        [sys.executable, str(script), f"-max_total_time={int(seconds)}", "-rss_limit_mb=4096", "-timeout=30",
         f"-artifact_prefix={work}/", str(seeds)],
        capture_output=True, text=True,
    )
    runs = [line for line in done.stderr.splitlines() if "stat::number_of_executed_units" in line
            or line.startswith("Done ")]
    count = int(runs[-1].split()[1]) if runs and runs[-1].startswith("Done ") else 0
    found = [f"{path.name} -> {_save(target, path.read_bytes())}" for path in work.glob("crash-*")]
    found += [f"{path.name} -> {_save(target, path.read_bytes())}" for path in work.glob("timeout-*")]
    if done.returncode not in (0, 1) and not found:
        found.append(f"atheris exited {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
    shutil.rmtree(work, ignore_errors=True)
    return count, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="per target")
    parser.add_argument("--target", action="append", choices=TARGETS)
    parser.add_argument("--engine", choices=("hypothesis", "atheris"), default="hypothesis")
    args = parser.parse_args()
    run = run_atheris if args.engine == "atheris" else run_hypothesis
    print(f"{'target':<14} {'engine':<10} {'inputs':>8} {'seconds':>8} {'inputs/s':>9}  found")
    anything = False
    for target in args.target or TARGETS:
        started = time.monotonic()
        count, found = run(target, args.seconds)
        seconds = time.monotonic() - started
        anything |= bool(found)
        print(f"{target:<14} {args.engine:<10} {count:>8} {seconds:>8.1f} {count / seconds:>9.1f}  "
              + ("; ".join(found) if found else "nothing"), flush=True)
    return 1 if anything else 0


if __name__ == "__main__":
    sys.exit(main())
