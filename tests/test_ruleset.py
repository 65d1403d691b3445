"""Rule files are validated on load: each mistake is one clear error naming the
file and line; the shipped rules lint clean."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from putlint.cli import cli, main
from putlint.errors import InputError
from putlint.ruleset import PLACEHOLDERS, load_rules

from trees import RULES, TREE as FIXTURE

CONTEXT = """id: extra
description: a test context
entries:
  - function: extra_workfn
waits:
  - function: extra_wait
    why: waits for itself
"""
CHECK = """id: final-put-in-extra
context: extra
puts: [inode]
severity: error
confidence: high
message: "$PUT() in $CONTEXT reaches $WAIT"
description: a test check
"""


def write_rules(root: Path, context: str = CONTEXT, check: str = CHECK) -> Path:
    (root / "contexts").mkdir(parents=True)
    (root / "checks").mkdir()
    (root / "contexts" / "extra.yaml").write_text(context)
    (root / "checks" / "final-put-in-extra.yaml").write_text(check)
    return root


def test_shipped_rules_lint_clean():
    rules = load_rules()
    assert set(rules.checks) == {"final-put-in-writeback", "final-put-in-ceph-messenger", "final-put-in-reclaim"}
    for check in rules.checks.values():
        assert check.context in rules.contexts and all(p in rules.puts for p in check.puts)
        assert set(re.findall(r"\$([A-Z_]+)", check.message)) <= set(PLACEHOLDERS)
        assert check.references and check.description
    for context in rules.contexts.values():
        assert context.entries and context.waits and context.references
        assert all(wait.why for wait in context.waits)


def test_user_rules_are_added(tmp_path):
    rules = load_rules((write_rules(tmp_path),))
    assert rules.checks["final-put-in-extra"].context == "extra"
    assert "final-put-in-writeback" in rules.checks


@pytest.mark.parametrize(
    "context, check, message",
    [
        (CONTEXT + "colour: blue\n", CHECK, r"contexts/extra.yaml:8: unknown key 'colour'"),
        (CONTEXT.replace("description: a test context\n", ""), CHECK, r"contexts/extra.yaml:1: missing key 'description'"),
        (CONTEXT.replace("id: extra", "id: other"), CHECK, r"contexts/extra.yaml:1: id 'other' must equal the file name"),
        (CONTEXT.replace("function: extra_workfn", "ops: no_dot"), CHECK, r"extra.yaml:4: ops 'no_dot' must be"),
        (CONTEXT.replace("    why: waits for itself\n", ""), CHECK, r"extra.yaml:6: missing key 'why'"),
        (CONTEXT + "  - gfp: '(unclosed'\n    why: x\n", CHECK, r"extra.yaml:8: gfp is not a regular expression"),
        (CONTEXT, CHECK.replace("severity: error", "severity: fatal"), r"final-put-in-extra.yaml:4: severity must be"),
        (CONTEXT, CHECK.replace("$WAIT", "$WAITING"), r"final-put-in-extra.yaml:6: unknown placeholder \$WAITING"),
        (CONTEXT, CHECK.replace("context: extra", "context: nowhere"), r"context 'nowhere' is not defined"),
        (CONTEXT, CHECK.replace("puts: [inode]", "puts: [inode, socket]"), r"put 'socket' is not defined"),
        (CONTEXT, CHECK.replace("puts: [inode]", "puts: inode"), r"final-put-in-extra.yaml:3: 'puts' must be a list"),
        ("id: [unclosed\n", CHECK, r"contexts/extra.yaml:2: not valid YAML"),
        (CONTEXT + "description: again\n", CHECK, r"contexts/extra.yaml:8: key 'description' is given twice \(first on line 2\)"),
        (CONTEXT.replace("    why: waits for itself\n", "    why: a\n    why: b\n"), CHECK, r"extra.yaml:8: key 'why' is given twice \(first on line 7\)"),
        (CONTEXT, CHECK + "kind: no-such-analysis\n", r"final-put-in-extra.yaml:8: kind must be one of final-put"),
    ],
)
def test_broken_rule_files_name_file_line_and_key(tmp_path, context, check, message):
    with pytest.raises(InputError, match=message):
        load_rules((write_rules(tmp_path, context, check),))


def test_redefining_a_shipped_rule_is_an_error(tmp_path):
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "final-put-in-writeback.yaml").write_text(
        CHECK.replace("final-put-in-extra", "final-put-in-writeback").replace("context: extra", "context: writeback")
    )
    with pytest.raises(InputError, match="is already defined in rules/checks/final-put-in-writeback.yaml"):
        load_rules((tmp_path,))


def test_broken_rules_exit_2_through_the_cli(tmp_path, capsys):
    rules = write_rules(tmp_path / "r", CONTEXT + "colour: blue\n")
    with pytest.raises(SystemExit) as done:
        main(["scan", str(FIXTURE), "--rules", str(rules), "--cache-dir", str(tmp_path)])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("putlint: error: ") and "contexts/extra.yaml:8: unknown key 'colour'" in err


def test_rules_list_and_show():
    listed = CliRunner().invoke(cli, ["rules", "list"])
    assert listed.exit_code == 0
    assert listed.stdout.splitlines() == [
        "final-put-in-ceph-messenger  context=ceph-messenger  severity=error  confidence=medium",
        "final-put-in-reclaim  context=reclaim  severity=warning  confidence=medium",
        "final-put-in-writeback  context=writeback  severity=error  confidence=high",
    ]
    shown = CliRunner().invoke(cli, ["rules", "show", "final-put-in-writeback"])
    assert shown.exit_code == 0
    assert "entries: wb_workfn, (struct address_space_operations)->writepages" in shown.stdout
    assert "  inode_wait_for_writeback: sleeps until I_SYNC clears" in shown.stdout


def test_every_rule_key_that_rules_puts_out_has_one_filter():
    from putlint.finality import FILTERS
    from putlint.ruleset import Context, Put, rule_keys
    from putlint.search.stats import ContextStats

    counted = {(cls, f.name) for cls in (Put, Context) for f in rule_keys(cls) if f.metadata["stat"]}
    filtered = [(row.on, row.key) for row in FILTERS]
    assert sorted(filtered, key=str) == sorted(counted, key=str) and len(set(filtered)) == len(filtered)
    assert all(hasattr(ContextStats(), row.stat) for row in FILTERS)


def test_limits_live_in_their_own_file(tmp_path):
    (tmp_path / "deferrals.yaml").write_text("opaque: []\nlimits:\n  reach_depth: 3\n")
    with pytest.raises(InputError, match=r"deferrals.yaml:2: limits live in limits.yaml"):
        load_rules((tmp_path,))
    (tmp_path / "deferrals.yaml").write_text("opaque: []\n")
    (tmp_path / "limits.yaml").write_text("reach_depth: 3\n")
    limits = load_rules((tmp_path,)).limits
    assert (limits.reach_depth, limits.teardown_depth) == (3, 10)
