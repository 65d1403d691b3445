"""`putlint hook` in a temporary kernel git repository: staged changes against HEAD."""

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from putlint.cli import cli, main

from trees import TREE


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    repo = tmp_path / "linux"
    shutil.copytree(TREE, repo)
    git(repo, "init", "-q")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "base")
    monkeypatch.chdir(repo)
    return repo


def run_hook(tmp_path):
    return CliRunner().invoke(cli, ["hook", "--cache-dir", str(tmp_path / "cache")])


def test_nothing_staged(repo, tmp_path):
    result = run_hook(tmp_path)
    assert result.exit_code == 0 and result.stdout == "putlint: nothing staged\n"


def test_staged_iput_on_the_writepages_path_is_reported(repo, tmp_path):
    source = repo / "fs" / "wbfs" / "inode.c"
    source.write_text(source.read_text().replace(
        "\tqueue_work(system_wq, &w->work);\n", "\tif (!queue_work(system_wq, &w->work))\n\t\tiput(w->inode);\n"))
    git(repo, "add", "fs/wbfs/inode.c")
    result = run_hook(tmp_path)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("fs/wbfs/inode.c:22:3: error: iput() may drop the last inode reference in writeback")
    assert "  introduced by the added line fs/wbfs/inode.c:22" in lines
    assert lines[-1] == "putlint: 1 new finding(s) in the staged changes"


def test_unstaged_changes_are_not_checked_and_fixes_pass(repo, tmp_path):
    source = repo / "fs" / "wbfs" / "inode.c"
    text = source.read_text()
    source.write_text(text.replace("\t// ruleid: final-put-in-writeback (unknown)\n\tiput(inode);\n", "\twbfs_forget(inode);\n", 1))
    git(repo, "add", "fs/wbfs/inode.c")
    # An unstaged bad change on top (an iput on the writepages path) must not count.
    source.write_text(source.read_text().replace(
        "\tqueue_work(system_wq, &w->work);\n", "\tif (!queue_work(system_wq, &w->work))\n\t\tiput(w->inode);\n"))
    result = run_hook(tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout == "putlint: 0 new finding(s) in the staged changes\n"


def test_outside_a_git_repository_is_an_input_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(["hook", "--cache-dir", str(tmp_path / "cache")])
    assert done.value.code == 2
    assert "is not inside a git repository" in capsys.readouterr().err


PRE_COMMIT_CONFIG = """repos:
  - repo: local
    hooks:
      - id: putlint
        name: putlint
        entry: putlint hook --cache-dir {cache}
        language: system
        pass_filenames: false
        files: '\\.[ch]$'
        require_serial: true
"""


@pytest.mark.skipif(shutil.which("pre-commit") is None or shutil.which("putlint") is None,
                    reason="pre-commit and putlint must be on PATH (the test command installs both)")
def test_a_real_pre_commit_run_blocks_the_bad_change(repo, tmp_path):
    (repo / ".pre-commit-config.yaml").write_text(PRE_COMMIT_CONFIG.format(cache=tmp_path / "cache"))
    source = repo / "fs" / "wbfs" / "inode.c"
    source.write_text(source.read_text().replace(
        "\tqueue_work(system_wq, &w->work);\n", "\tif (!queue_work(system_wq, &w->work))\n\t\tiput(w->inode);\n"))
    git(repo, "add", "-A")
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PATH": __import__("os").environ["PATH"],
           "HOME": str(tmp_path)}
    done = subprocess.run(["pre-commit", "run"], cwd=repo, capture_output=True, text=True, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "putlint" in done.stdout and "Failed" in done.stdout
    assert "fs/wbfs/inode.c:22:3: error: iput() may drop the last inode reference" in done.stdout
