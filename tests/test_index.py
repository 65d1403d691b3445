"""`putlint index` on a miniature tree: counts, warm reuse, changes, bad input."""

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from putlint import store
from putlint.cli import cli, main
from putlint.index import update_index
from putlint.tree import open_tree, read_source

FIXTURE = Path(__file__).parent / "fixtures" / "minitree"


@pytest.fixture
def tree(tmp_path) -> Path:
    copy = tmp_path / "linux"
    shutil.copytree(FIXTURE, copy)
    return copy


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


def listing(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()
    }


def run_cli(*args: str):
    result = CliRunner().invoke(cli, list(args))
    return result


def summary(output: str) -> dict[str, str]:
    return {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in output.splitlines() if ":" in line}


def test_cold_index_counts_every_fact_kind(tree, cache):
    result = run_cli("index", str(tree), "--cache-dir", str(cache), "--jobs", "1")
    assert result.exit_code == 0, result.output
    lines = summary(result.stdout)
    assert lines["files"].startswith("4 (")
    assert "parsed now 4, reused 0, removed 0" in lines["files"]
    assert lines["skipped"].startswith("1 files")
    assert lines["functions"] == "5"
    assert lines["calls"] == "5"
    assert lines["ops inits"] == "2"
    assert lines["callback refs"] == "0"  # INIT_WORK(&d->work, demo_workfn) registers, it does not call
    assert lines["members"] == "2"


def test_warm_run_parses_nothing_and_a_changed_file_alone(tree, cache):
    root = open_tree(tree)
    first = update_index(root, cache, jobs=1)
    assert first.extracted == 4
    warm = update_index(root, cache, jobs=1)
    assert (warm.extracted, warm.reused) == (0, 4)
    assert warm.totals == first.totals

    work = tree / "fs" / "demo" / "work.c"
    work.write_text(work.read_text().replace("demo_flush();", "demo_flush();\n\tiput(NULL);"))
    changed = update_index(root, cache, jobs=1)
    assert (changed.extracted, changed.reused) == (1, 3)
    assert changed.totals["calls"] == first.totals["calls"] + 1

    # A touched file with the same content is re-read but keeps its facts.
    os.utime(work, ns=(1, 1))
    touched = update_index(root, cache, jobs=1)
    assert touched.extracted == 1 and touched.totals == changed.totals


def test_removed_files_leave_the_index(tree, cache):
    root = open_tree(tree)
    first = update_index(root, cache, jobs=1)
    (tree / "fs" / "demo" / "work.c").unlink()
    run = update_index(root, cache, jobs=1)
    assert run.removed == 1 and run.totals["functions"] == first.totals["functions"] - 2


def test_paths_limit_the_run(tree, cache):
    root = open_tree(tree)
    run = update_index(root, cache, scopes=("fs/demo",), jobs=1)
    assert run.files == ("fs/demo/inode.c", "fs/demo/work.c")


def test_index_never_writes_into_the_tree(tree, cache):
    before = listing(tree)
    assert run_cli("index", str(tree), "--cache-dir", str(cache)).exit_code == 0
    assert listing(tree) == before


def test_parse_all_parses_preprocessor_only_files(tree, cache):
    root = open_tree(tree)
    assert update_index(root, cache, jobs=1).statuses == {"ok": 3, "skipped": 1}
    assert update_index(root, cache, jobs=1, skip_preprocessor_only=False).statuses == {"ok": 4}


def test_bad_files_become_diagnostics_not_failures(tree, cache):
    (tree / "fs" / "demo" / "blob.c").write_bytes(b"int x;\0\1\2")
    (tree / "fs" / "demo" / "latin1.c").write_bytes(b"/* Fran\xe7ois */\nvoid f(void) { g(); }\n")
    result = run_cli("index", str(tree), "--cache-dir", str(cache), "--jobs", "2")
    assert result.exit_code == 0
    assert "fs/demo/blob.c: unreadable: binary file (NUL byte at offset 6)" in result.stderr
    assert "fs/demo/latin1.c: ok: not UTF-8 (byte 7); invalid bytes read as U+FFFD" in result.stderr
    assert summary(result.stdout)["functions"] == "6"


def test_unreadable_file_is_reported(tree):
    read = read_source(tree, "fs/demo/missing.c")
    assert read.status == "unreadable" and read.message.startswith("cannot read:")


def test_corrupt_index_is_rebuilt_with_a_warning(tree, cache):
    root = open_tree(tree)
    first = update_index(root, cache, jobs=1)
    first.index_file.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{first.index_file}{suffix}").unlink(missing_ok=True)
    rebuilt = update_index(root, cache, jobs=1)
    assert rebuilt.warnings and "rebuilding" in rebuilt.warnings[0]
    assert rebuilt.extracted == 4 and rebuilt.totals == first.totals


def test_index_of_another_extractor_version_is_rebuilt(tree, cache):
    root = open_tree(tree)
    first = update_index(root, cache, jobs=1)
    with sqlite3.connect(first.index_file) as db:
        db.execute("UPDATE meta SET value = 'old' WHERE key = 'extractor'")
    rebuilt = update_index(root, cache, jobs=1)
    assert rebuilt.warnings == (f"warning: index {first.index_file} was written by another putlint version; rebuilding it",)
    assert rebuilt.extracted == 4


def test_damaged_fact_blob_is_an_input_error(tree, cache):
    root = open_tree(tree)
    first = update_index(root, cache, jobs=1)
    with sqlite3.connect(first.index_file) as db:
        db.execute("UPDATE files SET facts = x'00' WHERE path = 'fs/demo/work.c'")
    with store.Index(first.index_file, root) as index, pytest.raises(store.CorruptIndex):
        list(index.load())


@pytest.mark.parametrize(
    "args, message",
    [
        (["/nonexistent/linux"], "does not exist"),
        ([str(FIXTURE / "Kconfig")], "is not a directory"),
        ([str(FIXTURE / "fs")], "does not look like a Linux kernel tree"),
        ([str(FIXTURE), "no/such/dir"], "does not exist in the kernel tree"),
        ([str(FIXTURE), "/etc"], "is not inside the kernel tree"),
        ([str(FIXTURE), "--cache-dir", str(FIXTURE / "fs")], "inside the kernel tree"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(args, message, capsys):
    with pytest.raises(SystemExit) as done:
        main(["index", *args])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as done:
        main(["index", "--no-such-option"])
    assert done.value.code == 2
