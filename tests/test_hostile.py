"""Hostile C and odd trees: each file is parsed, or skipped with a diagnostic
within the per-file time limit; nothing is written into the tree; and what
could not be analysed is said in the summary, in JSON and by --strict (exit 2),
never a silent "clean". putlint runs as a real process."""

import json
import os
import subprocess

import pytest

from faultkit import fingerprints, make_tree, putlint

LOST = b"""#include <linux/fs.h>

static int recalc_state(void)
{
\tint i, tot = 0;

\tfor_each_online_cpu(i)
\t\ttot += per_cpu(bh_accounting, i).nr;
\treturn tot;
}

static void wbfs_lost_drop(struct inode *inode)
{
\tiput(inode);
}
"""

LOST_PATCH = """diff --git a/fs/wbfs/lost.c b/fs/wbfs/lost.c
--- a/fs/wbfs/lost.c
+++ b/fs/wbfs/lost.c
@@ -12,4 +12,5 @@ static int recalc_state(void)
 static void wbfs_lost_drop(struct inode *inode)
 {
+\tinode_lock(inode);
 \tiput(inode);
 }
"""


def hostile_files(tree):
    """The pathological C of issue 13, small enough for the suite."""
    hostile = tree / "drivers" / "hostile"
    hostile.mkdir(parents=True)
    (hostile / "deep.c").write_bytes(b"void deep(void)\n{\n" + b"if (a) {" * 30000 + b"x();" + b"}" * 30000 + b"\n}\n")
    (hostile / "long.c").write_bytes(
        b"".join(b"static int f%d(int x)\n{\n\treturn g%d(x);\n}\n" % (i, i) for i in range(25000)))
    (hostile / "soup.c").write_bytes(
        b"".join(b"#define M%d(a,b) M%d(b,a) ## x\nM%d(f,(g)) { M%d(1,2) } IF(X)(Y) {{ ;; }\n" % (i, i + 1, i, i)
                 for i in range(2000)))
    (hostile / "if0.c").write_bytes(b"#if 0\nvoid gone(void)\n{\n\tx(\n#endif\nvoid kept(void) { y(); }\n")
    (hostile / "comment.c").write_bytes(b"void f(void)\n{\n\tx();\n}\n/* never ends\nvoid g(void) { y(); }\n")
    (hostile / "string.c").write_bytes(b'void f(void)\n{\n\tx("abc);\n}\nvoid g(void) { y(); }\n')
    (hostile / "generated.h").write_bytes(b"static const int table[] = {\n" + b"\t0x1, 0x2, 0x3, 0x4,\n" * 2_700_000 + b"};\n")
    (hostile / "binary.c").write_bytes(b"\x7fELF\x00\x01")


@pytest.fixture(scope="module")
def hostile_tree(tmp_path_factory):
    tree = make_tree(tmp_path_factory.mktemp("hostile") / "linux")
    hostile_files(tree)
    return tree


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    tree = make_tree(tmp_path_factory.mktemp("clean") / "linux")
    done = putlint("scan", str(tree), "-f", "json", "--cache-dir", str(tmp_path_factory.mktemp("cache")))
    return fingerprints(done.stdout)


@pytest.fixture(scope="module")
def hostile_scan(hostile_tree, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    done = putlint("scan", str(hostile_tree), "-f", "json", "-j", "2", "--cache-dir", str(cache),
                   env={"PUTLINT_PARSE_TIMEOUT": "8"})
    return done, cache


def test_pathological_c_is_parsed_or_reported_and_the_findings_are_the_same(hostile_scan, clean):
    done, _ = hostile_scan
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert fingerprints(done.stdout) == clean
    data = json.loads(done.stdout)
    files = {u["path"]: u["reason"] for u in data["unanalysed"] if u["kind"] == "file"}
    assert files == {
        "drivers/hostile/deep.c": "timeout: parsing took over 8 s (PUTLINT_PARSE_TIMEOUT); not analysed",
        "drivers/hostile/generated.h": "skipped: too large to index (56700032 bytes)",
        "drivers/hostile/binary.c": "unreadable: binary file (NUL byte at offset 4)",
    }
    assert "drivers/hostile/deep.c: timeout: parsing took over 8 s" in done.stderr


def test_the_text_summary_says_what_could_not_be_analysed(hostile_tree, hostile_scan):
    done = putlint("scan", str(hostile_tree), "--cache-dir", str(hostile_scan[1]), env={"PUTLINT_PARSE_TIMEOUT": "8"})
    assert done.returncode == 1
    tail = done.stdout.splitlines()[-2:]
    assert tail[0] == "42 finding(s), 1 suppressed"
    assert tail[1].startswith("could not analyse: 3 file(s): drivers/hostile/binary.c (unreadable: binary file")
    assert "drivers/hostile/deep.c (timeout: parsing took over 8 s" in tail[1]


def test_strict_turns_what_could_not_be_analysed_into_exit_2(hostile_tree, hostile_scan):
    done = putlint("scan", str(hostile_tree), "--strict", "--cache-dir", str(hostile_scan[1]),
                   env={"PUTLINT_PARSE_TIMEOUT": "8"})
    assert done.returncode == 2
    assert done.stderr.strip().endswith("putlint: --strict: 3 thing(s) could not be analysed (listed in the report)")


def test_a_longer_time_limit_parses_the_file_again(tmp_path):
    tree = make_tree(tmp_path / "linux")
    (tree / "fs" / "deep.c").write_bytes(b"void deep(void)\n{\n" + b"if (a) {" * 3000 + b"}" * 3000 + b"\n}\n")
    args = ("scan", str(tree), "-f", "json", "--cache-dir", str(tmp_path / "cache"))
    timed_out = putlint(*args, env={"PUTLINT_PARSE_TIMEOUT": "0.05"})
    assert [u["path"] for u in json.loads(timed_out.stdout)["unanalysed"]] == ["fs/deep.c"]
    kept = putlint(*args, env={"PUTLINT_PARSE_TIMEOUT": "0.05"})  # a warm run keeps the verdict
    assert "parsing took over 0.05 s" in kept.stderr
    longer = putlint(*args, env={"PUTLINT_PARSE_TIMEOUT": "120"})
    assert longer.returncode == 1 and json.loads(longer.stdout)["unanalysed"] == []


@pytest.fixture
def lost_tree(tmp_path):
    tree = make_tree(tmp_path / "linux")
    (tree / "fs" / "wbfs" / "lost.c").write_bytes(LOST)
    return tree


def test_a_function_lost_to_a_parse_error_is_named_by_scan(lost_tree, tmp_path):
    done = putlint("scan", str(lost_tree), "--cache-dir", str(tmp_path / "cache"))
    assert done.stdout.splitlines()[-1] == (
        "could not analyse: 1 function(s) lost to parse errors: fs/wbfs/lost.c:13 wbfs_lost_drop")


def test_check_patch_says_it_could_not_check_lines_in_a_lost_function(lost_tree, tmp_path):
    patch = tmp_path / "lost.patch"
    patch.write_text(LOST_PATCH)
    args = ("check-patch", str(patch), "--tree", str(lost_tree), "--cache-dir", str(tmp_path / "cache"))
    done = putlint(*args)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == [
        "lost.patch",
        "could not check: fs/wbfs/lost.c:13-16 wbfs_lost_drop(): the index could not parse this function;"
        " a parse error or a macro hides this definition (after the patch)",
    ]
    assert "  no change in findings" not in lines
    data = json.loads(putlint(*args, "-f", "json").stdout)
    assert [(u["kind"], u["path"], u["function"]) for u in data["patches"][0]["unanalysed"]] == [
        ("function", "fs/wbfs/lost.c", "wbfs_lost_drop")]
    b4 = json.loads(putlint(*args, "-f", "b4").stdout)
    assert b4[0]["status"] == "warn" and "could not check: fs/wbfs/lost.c:13 wbfs_lost_drop" in b4[0]["details"]
    assert putlint(*args, "--strict").returncode == 2


def snapshot(directory):
    """Every entry's mtime and content (links as links: some of them loop)."""
    return {
        str(p): (p.lstat().st_mtime_ns, b"" if p.is_symlink() or not p.is_file() else p.read_bytes())
        for p in sorted(directory.rglob("*"))
    }


def test_odd_trees_symlink_loops_spaces_and_names_that_are_not_utf8(tmp_path, clean):
    tree = make_tree(tmp_path / "my linux é")
    (tree / "fs" / "loop").symlink_to("loop")
    (tree / "fs" / "a").symlink_to("b")
    (tree / "fs" / "b").symlink_to("a")
    (tree / "fs" / "up").symlink_to("..")
    (tree / "fs" / "ünïcödé file.c").write_text("static void ok(void)\n{\n}\n")
    bad = os.fsencode(tree / "fs") + b"/bad\xff.c"
    with open(bad, "wb") as handle:
        handle.write(b"static void bad(void)\n{\n}\n")
    before = snapshot(tree)
    done = putlint("scan", str(tree), "-f", "json", "--cache-dir", str(tmp_path / "cache"))
    assert done.returncode == 1, done.stderr
    assert fingerprints(done.stdout) == clean
    assert [(u["path"], u["reason"]) for u in json.loads(done.stdout)["unanalysed"]] == [
        ("fs/bad\\xff.c", "unreadable: file name is not valid UTF-8; not analysed")]
    assert snapshot(tree) == before  # nothing written into the tree


def test_an_unreadable_file_is_named_and_the_rest_is_analysed(tmp_path, clean):
    tree = make_tree(tmp_path / "linux")
    secret = tree / "fs" / "secret.c"
    secret.write_text("static void hidden(void)\n{\n}\n")
    secret.chmod(0)
    # root reads any file: there the error a user would get is injected.
    faults = "read:fs/secret.c=eacces" if os.geteuid() == 0 else ""
    done = putlint("scan", str(tree), "-f", "json", "--cache-dir", str(tmp_path / "cache"), faults=faults)
    assert done.returncode == 1, done.stderr
    assert fingerprints(done.stdout) == clean
    assert json.loads(done.stdout)["unanalysed"] == [
        {"kind": "file", "path": "fs/secret.c", "line": 0, "end_line": 0, "function": "", "context": "",
         "reason": "unreadable: cannot read: Permission denied"}]
    assert "fs/secret.c: unreadable: cannot read: Permission denied" in done.stderr


def test_a_read_only_tree_is_scanned_without_writing_to_it(tmp_path, clean):
    tree = make_tree(tmp_path / "linux")
    if os.geteuid() == 0:
        if subprocess.run(["mount", "--bind", str(tree), str(tree)], capture_output=True).returncode:
            pytest.skip("cannot bind-mount as root here")
        subprocess.run(["mount", "-o", "remount,ro,bind", str(tree)], check=True)
    else:
        for path in (tree, *tree.rglob("*")):
            path.chmod(path.stat().st_mode & ~0o222)
    try:
        done = putlint("scan", str(tree), "-f", "json", "--cache-dir", str(tmp_path / "cache"))
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(tree)], check=True)
    assert done.returncode == 1, done.stderr
    assert fingerprints(done.stdout) == clean


@pytest.mark.parametrize("missing, message", [
    ("Kconfig", "does not look like a Linux kernel tree (no Kconfig); give the top directory"),
    ("include", "does not look like a Linux kernel tree (no include/linux/); give the top directory"),
])
def test_a_tree_that_is_not_a_kernel_names_what_is_missing(tmp_path, missing, message):
    tree = make_tree(tmp_path / "linux")
    subprocess.run(["rm", "-rf", str(tree / missing)], check=True)
    done = putlint("scan", str(tree), "--cache-dir", str(tmp_path / "cache"))
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.splitlines()) == 1
