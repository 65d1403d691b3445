"""Faults in the cache and in runs: a damaged, foreign, read-only or full cache,
a run killed halfway through a write or a check, and three runs at once. After
each, the run reports exactly the findings (fingerprints) of an undisturbed one,
and the index passes SQLite's integrity check. putlint runs as a real process;
faults come from PUTLINT_FAULTS (src/putlint/faults.py)."""

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from faultkit import PATCHES, PUTLINT, environment, fingerprints, index_is_valid, make_tree, putlint

PATCH = PATCHES / "0001-wbfs-drop-at-once.patch"


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return make_tree(tmp_path_factory.mktemp("tree") / "linux", fillers=20)


def scan(tree, cache, faults=""):
    return putlint("scan", str(tree), "-f", "json", "-j", "2", "--cache-dir", str(cache), faults=faults)


def check(tree, cache, faults=""):
    return putlint("check-patch", str(PATCH), "--tree", str(tree), "-f", "json", "--cache-dir", str(cache), faults=faults)


@pytest.fixture(scope="module")
def warm(tree, tmp_path_factory):
    """A warm cache (index, saved program and findings) and the clean results."""
    cache = tmp_path_factory.mktemp("warm")
    scanned, checked = scan(tree, cache), check(tree, cache)
    assert scanned.returncode == 1 and checked.returncode == 1, scanned.stderr + checked.stderr
    return cache, fingerprints(scanned.stdout), json.loads(checked.stdout)


def copy_of(warm, tmp_path) -> Path:
    shutil.copytree(warm[0], tmp_path / "cache")
    return tmp_path / "cache"


def the(cache, pattern) -> Path:
    (path,) = (cache / "index").glob(pattern)
    return path


def checkpoint(index: Path) -> None:
    """Fold the WAL into the main file, so damage to the file is damage to the index."""
    db = sqlite3.connect(index)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def same_check(done, warm) -> bool:
    data = json.loads(done.stdout)
    clean = warm[2]
    return (
        fingerprints(done.stdout) == fingerprints(json.dumps(clean))
        and [n["fingerprint"] for n in data["new"]] == [n["fingerprint"] for n in clean["new"]]
        and [f["fingerprint"] for f in data["fixed"]] == [f["fingerprint"] for f in clean["fixed"]]
    )


@pytest.mark.parametrize("damage", ["truncated", "overwritten", "foreign"])
def test_a_damaged_index_is_rebuilt_and_the_findings_are_the_same(tree, warm, tmp_path, damage):
    cache = copy_of(warm, tmp_path)
    index = the(cache, "*.sqlite")
    checkpoint(index)
    data = index.read_bytes()
    if damage == "truncated":
        index.write_bytes(data[: len(data) // 2])
    elif damage == "overwritten":
        index.write_bytes(data[:8192] + os.urandom(len(data) - 8192))
    else:
        db = sqlite3.connect(index)
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
        db.commit()
        db.close()
    done = scan(tree, cache)
    assert done.returncode == 1, done.stderr
    assert f"warning: index {index}" in done.stderr and "rebuil" in done.stderr
    assert fingerprints(done.stdout) == warm[1]
    assert index_is_valid(cache)


@pytest.mark.parametrize("saved", ["program", "findings", "edges", "bodies", "readings"])
def test_a_damaged_saved_file_is_recomputed(tree, warm, tmp_path, saved):
    cache = copy_of(warm, tmp_path)
    path = the(cache, f"*.{saved}-*")
    path.write_bytes(path.read_bytes()[:100])
    done = check(tree, cache)
    assert done.returncode == 1, done.stderr
    assert f"warning: cache {path} is damaged" in done.stderr
    assert same_check(done, warm)
    again = check(tree, cache)
    assert "is damaged" not in again.stderr
    assert same_check(again, warm)


@contextmanager
def read_only(directory: Path):
    """`directory` made read-only: a read-only bind mount for root (whom modes
    do not stop), else its write bits removed."""
    if os.geteuid() != 0:
        for path in (directory, *directory.rglob("*")):
            path.chmod(path.stat().st_mode & ~0o222)
        try:
            yield
        finally:
            for path in (directory, *directory.rglob("*")):
                path.chmod(path.stat().st_mode | 0o200)
        return
    bound = subprocess.run(["mount", "--bind", str(directory), str(directory)], capture_output=True)
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount as root here: {bound.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(directory)], check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(directory)], check=True, capture_output=True)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_a_read_only_cache_is_used_through_a_private_copy(tree, warm, tmp_path):
    cache = copy_of(warm, tmp_path)
    before = snapshot(cache)
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that has ended: the copy of a killed run
    stale = Path(tempfile.gettempdir()) / f"putlint-cache-{gone.pid}-killed"
    (stale / "index").mkdir(parents=True)
    with read_only(cache):
        done = check(tree, cache)
    assert done.returncode == 1, done.stderr
    assert f"warning: cache directory {cache} cannot be written; this run works on a private copy" in done.stderr
    assert same_check(done, warm)
    assert snapshot(cache) == before
    private = done.stderr.split(" in ", 1)[1].split(",", 1)[0]
    assert private.startswith("/") and not Path(private).exists()  # removed when the run ended
    assert not stale.exists()  # and the one a killed run left


def test_a_full_disk_while_indexing_is_exit_2_and_the_next_run_is_clean(tree, warm, tmp_path):
    done = scan(tree, tmp_path, faults="index-batch=enospc")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("putlint: error: cannot write the index ")
    assert "database or disk is full" in done.stderr and "Traceback" not in done.stderr
    assert index_is_valid(tmp_path)
    again = scan(tree, tmp_path)
    assert again.returncode == 1 and fingerprints(again.stdout) == warm[1]


def test_a_full_disk_while_saving_state_is_a_warning_and_the_findings_are_the_same(tree, warm, tmp_path):
    done = check(tree, tmp_path, faults="saved-write=enospc")
    assert done.returncode == 1, done.stderr
    assert "warning: cannot write cache " in done.stderr and "No space left on device" in done.stderr
    assert same_check(done, warm)
    assert not list((tmp_path / "index").glob("*.tmp"))


@pytest.mark.parametrize(
    "command, fault",
    [
        ("index", "index-batch=kill"),  # in the middle of a cold index's transaction
        ("scan", "saved-write=kill"),  # halfway through writing the saved program
        ("check", "saved-write=kill@2"),  # halfway through writing the saved findings
        ("check", "search=kill"),  # in the middle of a check's search
    ],
)
def test_a_run_killed_halfway_leaves_a_cache_the_next_run_trusts(tree, warm, tmp_path, command, fault):
    if command == "index":
        done = putlint("index", str(tree), "-j", "1", "--cache-dir", str(tmp_path), faults=fault)
    elif command == "scan":
        done = scan(tree, tmp_path, faults=fault)
    else:
        done = putlint("check-patch", str(PATCH), "--tree", str(tree), "-j", "1", "--cache-dir", str(tmp_path),
                       faults=fault)
    assert done.returncode == -9, done.stderr
    again = check(tree, tmp_path) if command == "check" else scan(tree, tmp_path)
    assert again.returncode == 1, again.stderr
    assert same_check(again, warm) if command == "check" else fingerprints(again.stdout) == warm[1]
    assert index_is_valid(tmp_path)
    assert not list((tmp_path / "index").glob("*.tmp"))  # the killed run's temporary file is gone


def test_three_runs_at_once_on_one_cold_cache_agree_with_a_lone_run(tree, warm, tmp_path):
    env = environment(PUTLINT_FAULTS="extract=sleep:0.05")
    cache = str(tmp_path / "cache")
    commands = [
        ["check-patch", str(PATCH), "--tree", str(tree), "-f", "json", "--cache-dir", cache],  # the hook
        ["scan", str(tree), "-f", "json", "-j", "2", "--cache-dir", cache],  # the editor
        ["scan", str(tree), "-f", "json", "-j", "2", "--cache-dir", cache],  # the scan
    ]
    running = [subprocess.Popen([*PUTLINT, *c], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for c in commands]
    results = [(p.communicate(timeout=300), p.returncode) for p in running]
    for (out, err), code in results:
        assert code == 1, err
        assert "Traceback" not in err and "warning" not in err, err
    checked, first, second = (out for (out, _), _ in results)
    assert same_check(subprocess.CompletedProcess([], 1, checked), warm)
    assert fingerprints(first) == fingerprints(second) == warm[1]
    assert index_is_valid(tmp_path / "cache")
    waited = [err for (_, err), _ in results if "waiting for another putlint process" in err]
    assert waited  # they did overlap: two waited for the one indexing
