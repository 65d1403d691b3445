"""A short property-based fuzz run of each reader (a few seconds each) and the
regression corpus of what fuzzing found: every input ends in a result or an
InputError (exit 2), never another exception. The long run is
`benchmarks/fuzz.py`."""

import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings

import fuzz_targets as targets
from faultkit import PUTLINT, environment, make_tree

SHORT = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


@pytest.fixture(scope="module")
def patch_tree():
    root = targets.make_patch_tree()
    yield root
    shutil.rmtree(root, ignore_errors=True)


@SHORT
@given(targets.patch_inputs())
def test_fuzz_patch_reader(data):
    targets.patch_reader(data)


@SHORT
@given(data=targets.patch_inputs())
def test_fuzz_patch_applier(patch_tree, data):
    targets.patch_applier(data, patch_tree)


@SHORT
@given(targets.c_sources())
def test_fuzz_extractor(data):
    targets.extractor(data)


@settings(SHORT, max_examples=100)
@given(targets.rule_files())
def test_fuzz_rule_loader(data):
    targets.rule_loader(data, "contexts")


@pytest.mark.parametrize("target", ["patch_reader", "patch_applier", "extractor", "rule_loader"])
def test_the_regression_corpus(target, patch_tree):
    files = targets.corpus(target)
    assert files, f"tests/fuzz_corpus/{target} is empty"
    for path in files:
        data = path.read_bytes()
        if target == "patch_applier":
            targets.patch_applier(data, patch_tree)
        else:
            getattr(targets, target)(data)


def test_the_corpus_through_check_patch_exits_0_1_or_2(tmp_path):
    """The whole command on every patch-shaped input found: a verdict or exit 2, never 123."""
    tree = make_tree(tmp_path / "linux")
    for path in targets.corpus("patch_reader") + targets.corpus("patch_applier"):
        done = subprocess.run([*PUTLINT, "check-patch", "-", "--tree", str(tree), "--cache-dir", str(tmp_path / "c")],
                              input=path.read_bytes(), capture_output=True, env=environment(), timeout=120)
        assert done.returncode in (0, 1, 2), (path.name, done.stderr)
        assert b"Traceback" not in done.stderr and b"internal error" not in done.stderr, path.name
