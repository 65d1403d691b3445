"""`.putlint.toml` / `[tool.putlint]`: found from the tree upward, `--config`
and `--no-config`, defaults for format, rules, select/ignore and the
allowlist, unknown keys warned about with file and line."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from putlint.cli import cli, main
from putlint.config import find_config, load_config
from trees import TREE as FIXTURE

FIXTURES = Path(__file__).parent / "fixtures"
ALLOW_DCACHE = '[[ignore]]\nrule = "final-put-in-reclaim"\npath = "fs/dcache.c"\nreason = "generic dcache put"\n'


@pytest.fixture
def tree(tmp_path) -> Path:
    """The fixture kernel one level down, so that a configuration can sit above it."""
    tree = tmp_path / "work" / "linux"
    shutil.copytree(FIXTURE, tree)
    return tree


def scan(tree, *args, cache):
    return CliRunner().invoke(cli, ["scan", str(tree), *args, "--cache-dir", str(cache), "-j", "1"])


def test_the_nearest_file_wins_and_putlint_toml_before_pyproject(tree, tmp_path):
    assert find_config(tree) is None
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no [tool.putlint]: not a config
    assert find_config(tree) is None
    (tmp_path / "work" / "pyproject.toml").write_text('[tool.putlint]\nformat = "json"\n')
    assert find_config(tree) == tmp_path / "work" / "pyproject.toml"
    (tmp_path / "work" / ".putlint.toml").write_text('format = "gcc"\n')
    assert find_config(tree) == tmp_path / "work" / ".putlint.toml"
    (tree / "pyproject.toml").write_text('[tool.putlint]\nformat = "sarif"\n')
    assert load_config(tree).format == "sarif"


def test_defaults_from_the_configuration_and_the_command_line_wins(tree, tmp_path):
    (tmp_path / "work" / ".putlint.toml").write_text(
        'format = "json"\n[checks]\nselect = ["final-put-in-reclaim"]\n' + ALLOW_DCACHE)
    cache = tmp_path / "c"
    data = json.loads(scan(tree, cache=cache).stdout)
    # the shrinker's generic put: one finding per filesystem whose teardown it runs
    assert [(f["path"], f["line"], f["suppressed"]) for f in data["findings"]] == [
        *[("fs/dcache.c", 9, True)] * 4, ("fs/gfpfs/inode.c", 16, False), ("fs/nofailfs/inode.c", 18, False)]
    text = scan(tree, "-f", "text", "--select", "final-put-in-writeback", cache=cache)
    assert text.exit_code == 1 and text.stdout.count("[final-put-in-writeback]") == 30
    assert "[final-put-in-reclaim]" not in text.stdout and text.stdout.endswith("30 finding(s), 1 suppressed\n")
    bare = scan(tree, "--no-config", cache=cache)
    # text, every check, and only the in-source comment suppresses
    assert bare.stdout.endswith("42 finding(s), 1 suppressed\n")


def test_pyproject_tool_putlint_with_rules_relative_to_it_and_an_ignore_list(tree, tmp_path):
    rules = tmp_path / "work" / "more-rules" / "checks"
    rules.mkdir(parents=True)
    (rules / "final-put-in-wb-too.yaml").write_text(
        "id: final-put-in-wb-too\ncontext: writeback\nputs: [inode]\nseverity: note\nconfidence: low\n"
        'message: "$PUT() in $CONTEXT"\ndescription: the writeback check again, as a note\n')
    (tmp_path / "work" / "pyproject.toml").write_text(
        '[tool.putlint]\nrules = ["more-rules"]\n[tool.putlint.checks]\n'
        'ignore = ["final-put-in-reclaim", "final-put-in-ceph-messenger"]\n'
        '[[tool.putlint.ignore]]\nrule = "final-put-in-wb-too"\npath = "fs/wbfs/inode.c"\nreason = "a note"\n')
    result = scan(tree, "fs/wbfs/inode.c", "-f", "json", cache=tmp_path / "c")
    findings = json.loads(result.stdout)["findings"]
    assert {f["rule"] for f in findings} == {"final-put-in-writeback", "final-put-in-wb-too"}
    assert {f["suppression"] for f in findings if f["rule"] == "final-put-in-wb-too"} == {"allowlist: a note"}


def test_unknown_keys_are_warnings_with_file_and_line(tree, tmp_path):
    config = tmp_path / "work" / ".putlint.toml"
    config.write_text('# putlint\nformat = "text"\nfromat = "json"\n\n[checks]\nselect = []\nexclude = ["x"]\n')
    result = scan(tree, "fs/otherfs", cache=tmp_path / "c")
    assert result.exit_code == 0 and result.stdout == "0 finding(s)\n"
    assert result.stderr == (
        f"{config}:3: warning: unknown configuration key 'fromat' (known: format, rules, source-url, checks, ignore)\n"
        f"{config}:7: warning: unknown key 'exclude' in [checks] (known: select, ignore)\n"
    )


def test_unknown_keys_in_pyproject_name_their_line_too(tree, tmp_path):
    config = tmp_path / "work" / "pyproject.toml"
    config.write_text('[project]\nname = "x"\nformat = 1\n\n[tool.putlint]\nformat = "text"\nsource_url = "x"\n')
    result = scan(tree, "fs/otherfs", cache=tmp_path / "c")
    assert result.stderr == (
        f"{config}:7: warning: unknown configuration key 'source_url' (known: format, rules, source-url, checks,"
        " ignore)\n"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ('format = 3\n', ":1: format must be a string"),
        ('\n[checks]\nselect = "x"\nignore = [1]\n', ":4: ignore must be a list of strings"),
        ('\nformat = "b4"\n', ":2: format 'b4' is not one of gcc, html, json, sarif, text for this command"),
        ('format = "text"\nnot toml at all\n', ": cannot read configuration: "),
        ('[[ignore]]\nrule = "x"\n', ":1: [[ignore]] entry 1 needs rule, path and reason"),
    ],
)
def test_bad_values_are_input_errors(tree, tmp_path, capsys, text, message):
    config = tmp_path / "work" / ".putlint.toml"
    config.write_text(text)
    with pytest.raises(SystemExit) as done:
        main(["scan", str(tree), "--cache-dir", str(tmp_path / "c")])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"putlint: error: {config}{message}") and "Traceback" not in err


def test_config_file_and_no_config(tree, tmp_path, capsys):
    elsewhere = tmp_path / "allow.toml"
    elsewhere.write_text(ALLOW_DCACHE)
    (tree / ".putlint.toml").write_text('format = "json"\n')
    result = scan(tree, "fs/dcache.c", "--config", str(elsewhere), cache=tmp_path / "c")
    assert result.exit_code == 0 and result.stdout == "0 finding(s), 4 suppressed\n"  # text: the tree's file is unread
    with pytest.raises(SystemExit) as done:
        main(["scan", str(tree), "--config", str(tmp_path / "missing.toml"), "--cache-dir", str(tmp_path / "c")])
    assert done.value.code == 2
    assert capsys.readouterr().err == f"putlint: error: configuration file {tmp_path / 'missing.toml'} does not exist\n"
    with pytest.raises(SystemExit) as done:
        main(["scan", str(tree), "--config", str(elsewhere), "--no-config", "--cache-dir", str(tmp_path / "c")])
    assert done.value.code == 2
    assert capsys.readouterr().err == "putlint: error: --config and --no-config exclude each other\n"


def test_check_patch_takes_its_format_and_allowlist_from_the_tree(tree, tmp_path):
    (tree / ".putlint.toml").write_text(
        'format = "json"\n[[ignore]]\nrule = "final-put-in-writeback"\npath = "fs/wbfs/inode.c"\n'
        'function = "wbfs_drop_later"\nreason = "the work holds a reference"\n')
    result = CliRunner().invoke(cli, ["check-patch", str(FIXTURES / "patches" / "0001-wbfs-drop-at-once.patch"),
                                      "--tree", str(tree), "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    (new,) = json.loads(result.stdout)["new"]
    assert (new["function"], new["suppression"]) == ("wbfs_drop_later", "allowlist: the work holds a reference")
