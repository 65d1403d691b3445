"""The rule-test runner: a base kernel with each check's cases laid over it,
and the todoruleid/todook markers for known gaps."""

import shutil

import pytest
from click.testing import CliRunner

from putlint.cli import cli
from putlint.errors import InputError
from putlint.ruleset import load_rules
from putlint.ruletest import run_rule_tests
from trees import RULES

WBFS = "final-put-in-writeback/wbfs/fs/wbfs/inode.c"


@pytest.fixture
def fixtures(tmp_path):
    copy = tmp_path / "rules"
    shutil.copytree(RULES, copy)
    return copy


def _swap_first(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_the_cli_runs_the_layered_fixtures_and_counts_known_gaps():
    result = CliRunner().invoke(cli, ["test-rules", str(RULES)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "rule tests passed: 81 annotations, 39 findings, 0 missing, 0 unexpected;"
        " known gaps: 0 todoruleid, 0 todook"
    )


def test_a_todoruleid_that_is_reported_must_be_promoted(fixtures):
    _swap_first(fixtures / WBFS, "// ruleid: final-put-in-writeback", "// todoruleid: final-put-in-writeback")
    result = run_rule_tests(fixtures, load_rules())
    assert [(a.kind, a.path, a.line) for a in result.promote] == [("todoruleid", "fs/wbfs/inode.c", 6)]
    assert result.unexpected == () and not result.passed


def test_a_ruleid_may_name_the_finality_kind_it_expects(fixtures):
    _swap_first(fixtures / WBFS, "// ruleid: final-put-in-writeback (unknown)", "// ruleid: final-put-in-writeback (last-by-design)")
    result = run_rule_tests(fixtures, load_rules())
    assert [(a.line, a.finality, found) for a, found in result.wrong_finality] == [(6, "last-by-design", "unknown")]
    assert not result.passed
    output = CliRunner().invoke(cli, ["test-rules", str(fixtures)]).stdout
    assert "fs/wbfs/inode.c:6: finality unknown, not last-by-design [final-put-in-writeback]" in output


def test_a_todook_must_still_be_reported(fixtures):
    _swap_first(fixtures / WBFS, "// ok: final-put-in-writeback", "// todook: final-put-in-writeback")
    result = run_rule_tests(fixtures, load_rules())
    assert [a.kind for a in result.missing] == ["todook"] and not result.passed


def test_a_case_annotates_only_its_own_check(fixtures):
    _swap_first(fixtures / WBFS, "// ok: final-put-in-writeback", "// ok: final-put-in-reclaim")
    result = run_rule_tests(fixtures, load_rules())
    assert [(a.rule, a.path) for a in result.misplaced] == [("final-put-in-reclaim", "fs/wbfs/inode.c")]


def test_a_file_two_layers_give_is_an_error(fixtures):
    (fixtures / "base" / "fs" / "wbfs").mkdir()
    shutil.copy(fixtures / WBFS, fixtures / "base" / "fs" / "wbfs" / "inode.c")
    with pytest.raises(InputError, match="fs/wbfs/inode.c is already in the base or another case"):
        run_rule_tests(fixtures, load_rules())
