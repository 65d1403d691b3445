"""Helper processes die with putlint, Ctrl-C exits 130 with the cache valid,
and a worker that dies ends the run instead of hanging it (putlint run as a
real process; faults from PUTLINT_FAULTS, see src/putlint/faults.py)."""

import signal

import pytest

from faultkit import (
    alive,
    fingerprints,
    helpers_of,
    index_is_valid,
    indexed_files,
    kill_group,
    make_tree,
    putlint,
    start,
    wait_for,
)

SLOW_INDEX = "extract=sleep:0.3"  # 0.3 s a file: a cold index of the tree below takes a minute


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return make_tree(tmp_path_factory.mktemp("tree") / "linux", fillers=400)


@pytest.fixture(scope="module")
def clean(tree, tmp_path_factory):
    """Fingerprints of a lone, undisturbed run."""
    done = putlint("scan", str(tree), "-f", "json", "-j", "2", "--cache-dir", str(tmp_path_factory.mktemp("clean")))
    assert done.returncode == 1, done.stderr
    found = fingerprints(done.stdout)
    assert len(found) == 43  # 42 reported, 1 suppressed by a comment
    return found


def scan_args(tree, cache):
    return ("scan", str(tree), "-f", "json", "-j", "2", "--cache-dir", str(cache))


def test_kill_9_of_scan_during_a_cold_index_takes_its_helpers_with_it(tree, clean, tmp_path):
    running = start(*scan_args(tree, tmp_path), faults=SLOW_INDEX)
    # The index updater and its two workers.
    helpers = helpers_of(running, 3)
    assert helpers is not None, running.stderr.read() if running.poll() is not None else "no helpers"
    running.kill()  # SIGKILL to the main process only
    running.wait()
    assert wait_for(lambda: not any(alive(pid) for pid in helpers), 30), [p for p in helpers if alive(p)]
    # They died with it, not after finishing the index (which they would only stop writing then).
    assert indexed_files(tmp_path) < 400
    again = putlint(*scan_args(tree, tmp_path))
    assert again.returncode == 1, again.stderr
    assert fingerprints(again.stdout) == clean


def test_sigint_during_a_cold_index_exits_130_and_leaves_the_cache_valid(tree, clean, tmp_path):
    running = start(*scan_args(tree, tmp_path), faults=SLOW_INDEX)
    helpers = helpers_of(running, 3)
    assert helpers is not None
    wait_for(lambda: index_is_valid(tmp_path), 30)  # a batch or more written
    kill_group(running, signal.SIGINT)  # Ctrl-C reaches the whole process group
    out, err = running.communicate(timeout=60)
    assert running.returncode == 130, err
    assert err.strip().splitlines()[-1] == "putlint: interrupted"
    assert "Traceback" not in err and out == ""
    assert wait_for(lambda: not any(alive(pid) for pid in helpers), 30)
    assert index_is_valid(tmp_path)
    again = putlint(*scan_args(tree, tmp_path))
    assert again.returncode == 1 and fingerprints(again.stdout) == clean


def test_sigint_during_the_search_exits_130(tree, tmp_path):
    done = putlint(*scan_args(tree, tmp_path), faults="search=sigint")
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.strip().endswith("putlint: interrupted")
    assert index_is_valid(tmp_path)


def test_a_worker_that_dies_parsing_a_file_costs_that_file_only(tree, clean, tmp_path):
    done = putlint(*scan_args(tree, tmp_path), faults="extract:drivers/filler/f7.c=kill")
    assert done.returncode == 1, done.stderr
    assert "drivers/filler/f7.c: crashed: the parser died on this file (exit code -9); not analysed" in done.stderr
    assert fingerprints(done.stdout) == clean  # the filler holds no finding


def test_a_search_worker_that_dies_is_an_internal_error_not_a_hang(tree, tmp_path):
    done = putlint(*scan_args(tree, tmp_path), faults="search=kill", timeout=120)
    assert done.returncode == 123, done.stderr
    assert "a worker process died before it finished" in done.stderr and "Traceback" not in done.stderr


def _work(item):
    if item == "hang":
        import time

        time.sleep(60)
    if item == "die":
        import os

        os._exit(3)
    if item == "raise":
        raise ValueError("raised in a worker")
    return item * 2


def test_unordered_map_reports_a_task_over_its_time_and_a_worker_that_dies_and_goes_on():
    from putlint.processes import unordered_map

    items = ["a", "hang", "b", "die", "c", "d", "e"]
    results = sorted(map(str, unordered_map(_work, items, 2, timeout=1.0, failed=lambda item, why: (item, why))))
    assert results == ["('die', 'died:3')", "('hang', 'timeout:1')", "aa", "bb", "cc", "dd", "ee"]


def _wait_or_release(item):
    import time
    from pathlib import Path

    what, flag = item
    if what == "release":
        Path(flag).touch()
        return "released"
    while not Path(flag).exists():
        time.sleep(0.01)
    return "waited"


def test_unordered_map_with_one_task_ahead_gives_the_next_task_to_an_idle_worker(tmp_path):
    from putlint.processes import unordered_map

    # Queued behind "wait" on the same worker, "release" runs only once "wait" has timed out.
    items = [("wait", str(tmp_path / "one")), ("release", str(tmp_path / "one"))]
    failed = lambda item, why: f"{item[0]} {why}"  # noqa: E731
    assert sorted(unordered_map(_wait_or_release, items, 2, timeout=3.0, failed=failed)) == [
        "released", "wait timeout:3"]
    items = [("wait", str(tmp_path / "two")), ("release", str(tmp_path / "two"))]
    assert sorted(unordered_map(_wait_or_release, items, 2, timeout=30.0, failed=failed, ahead=1)) == [
        "released", "waited"]


def test_unordered_map_raises_a_worker_exception_here_and_a_death_without_failed():
    from putlint.processes import HelperDied, unordered_map

    with pytest.raises(ValueError, match="raised in a worker"):
        list(unordered_map(_work, ["a", "raise", "b"], 2))
    with pytest.raises(HelperDied, match="exit code 3"):
        list(unordered_map(_work, ["a", "die", "b"], 2))
