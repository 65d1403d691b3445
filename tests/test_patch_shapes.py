"""Patches as they arrive: renames, copies, mode changes, new and deleted
files, binary diffs, a missing final newline, CRLF, 8-bit and encoded headers,
a series that touches the same hunk twice, a file the tree lacks, and hunks at
an offset (applied, and said) or needing fuzz (refused, exit 2)."""

import json
from pathlib import Path

import pytest

from putlint.cli import main
from putlint.patches import PatchError, apply_series, read_patches

A_C = "line1\nline2\nline3\nline4\nline5\n"


@pytest.fixture
def tree(tmp_path) -> Path:
    (tmp_path / "fs").mkdir()
    (tmp_path / "fs" / "a.c").write_text(A_C)
    (tmp_path / "fs" / "nonl.c").write_text("x\ny\nz")
    (tmp_path / "fs" / "dos.c").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    return tmp_path


def applied(tree, diff: str, notes=None):
    return apply_series(tree, read_patches(diff.encode(), "t.patch"), notes=notes)


EDIT_A = """--- a/fs/a.c
+++ b/fs/a.c
@@ -1,3 +1,3 @@
 line1
-line2
+LINE2
 line3
"""


@pytest.mark.parametrize("diff, expected", [
    ("diff --git a/fs/a.c b/fs/b.c\nsimilarity index 100%\nrename from fs/a.c\nrename to fs/b.c\n",
     {"fs/a.c": None, "fs/b.c": A_C}),
    ("diff --git a/fs/a.c b/fs/b.c\nsimilarity index 80%\nrename from fs/a.c\nrename to fs/b.c\n"
     + EDIT_A.replace("+++ b/fs/a.c", "+++ b/fs/b.c"),
     {"fs/a.c": None, "fs/b.c": A_C.replace("line2", "LINE2")}),
    ("diff --git a/fs/a.c b/fs/c.c\nsimilarity index 100%\ncopy from fs/a.c\ncopy to fs/c.c\n", {"fs/c.c": A_C}),
    ("diff --git a/fs/a.c b/fs/a.c\nold mode 100644\nnew mode 100755\n", {"fs/a.c": A_C}),
    ("diff --git a/fs/n.c b/fs/n.c\nnew file mode 100644\n--- /dev/null\n+++ b/fs/n.c\n@@ -0,0 +1,1 @@\n+int x;\n",
     {"fs/n.c": "int x;\n"}),
    ("diff --git a/fs/a.c b/fs/a.c\ndeleted file mode 100644\n--- a/fs/a.c\n+++ /dev/null\n@@ -1,5 +0,0 @@\n"
     + "".join(f"-line{i}\n" for i in range(1, 6)), {"fs/a.c": None}),
    ("diff --git a/fs/logo.png b/fs/logo.png\nnew file mode 100644\nBinary files /dev/null and b/fs/logo.png differ\n",
     {}),
    ("--- a/fs/nonl.c\n+++ b/fs/nonl.c\n@@ -1,3 +1,3 @@\n x\n y\n-z\n\\ No newline at end of file\n+Z\n"
     "\\ No newline at end of file\n", {"fs/nonl.c": "x\ny\nZ"}),
    ("--- a/fs/nonl.c\n+++ b/fs/nonl.c\n@@ -1,3 +1,3 @@\n x\n y\n-z\n\\ No newline at end of file\n+z\n",
     {"fs/nonl.c": "x\ny\nz\n"}),
    (EDIT_A.replace("\n", "\r\n"), {"fs/a.c": A_C.replace("line2", "LINE2")}),
    ("--- a/fs/dos.c\n+++ b/fs/dos.c\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n", {"fs/dos.c": "one\r\nTWO\nthree\r\n"}),
], ids=["rename", "rename-and-edit", "copy", "mode-change", "new-file", "deleted-file", "binary-other",
        "no-newline-kept", "newline-added", "crlf-patch", "crlf-file"])
def test_each_shape_applies_as_git_would(tree, diff, expected):
    assert applied(tree, diff) == expected


def test_a_binary_diff_of_a_c_source_is_refused(tree):
    diff = "diff --git a/fs/a.c b/fs/a.c\nindex 1111111..2222222 100644\nBinary files a/fs/a.c and b/fs/a.c differ\n"
    with pytest.raises(PatchError, match=r"a binary diff of fs/a.c, a C source, cannot be applied"):
        applied(tree, diff)


def test_a_hunk_at_an_offset_is_applied_and_said(tree):
    notes = []
    out = applied(tree, EDIT_A.replace("@@ -1,3 +1,3 @@", "@@ -40,3 +40,3 @@"), notes)
    assert out == {"fs/a.c": A_C.replace("line2", "LINE2")}
    assert notes == ["hunk 1 of fs/a.c applied at line 1, 39 line(s) earlier than its header says"]


def test_a_hunk_that_needs_fuzz_is_refused(tree):
    with pytest.raises(PatchError, match=r"hunk 1 \(@@ -1,3\) does not apply to fs/a.c .*never with fuzz"):
        applied(tree, EDIT_A.replace(" line1\n", " lineX\n"))


def test_a_series_that_touches_the_same_hunk_twice(tree):
    second = EDIT_A.replace("-line2\n+LINE2", "-LINE2\n+Line2")
    texts = {}
    apply_series(tree, read_patches(EDIT_A.encode(), "1.patch"), texts)
    apply_series(tree, read_patches(second.encode(), "2.patch"), texts)
    assert texts == {"fs/a.c": A_C.replace("line2", "Line2")}


def test_a_patch_for_a_file_the_tree_lacks_is_refused(tree):
    with pytest.raises(PatchError, match=r"fs/none.c does not exist in the tree \(a patch for another tree\?\)"):
        applied(tree, EDIT_A.replace("fs/a.c", "fs/none.c"))


@pytest.mark.parametrize("headers, subject", [
    (b"From: J\xc3\xb6rg <j@x>\nSubject: [PATCH] fs: f\xc3\xbcx\n", "[PATCH] fs: f\u00fcx"),
    (b"From: J\xf6rg <j@x>\nSubject: [PATCH] fs: f\xfcx\n", "[PATCH] fs: f\ufffdx"),  # 8-bit, not UTF-8
    (b"From: =?utf-8?q?J=C3=B6rg?= <j@x>\nSubject: =?utf-8?b?W1BBVENIXSBmczogZsO8eA==?=\n", "[PATCH] fs: f\u00fcx"),
    (b"From: x\nSubject: =?x-unknown?q?[PATCH]_odd?=\n", "[PATCH] odd"),
], ids=["utf8", "latin1-raw", "encoded-word", "unknown-charset"])
def test_8_bit_and_encoded_headers(headers, subject):
    (patch,) = read_patches(headers + b"\nbody\n---\n" + EDIT_A.encode(), "mail")
    assert patch.subject == subject


def test_check_patch_says_where_an_offset_hunk_went(tmp_path, capsys):
    from faultkit import make_tree

    tree = make_tree(tmp_path / "linux")
    patch = Path(__file__).parent / "fixtures" / "patches" / "0001-wbfs-drop-at-once.patch"
    moved = tmp_path / "moved.patch"
    moved.write_bytes(patch.read_bytes().replace(b"@@ -18,7 +18,8 @@", b"@@ -28,7 +28,8 @@"))
    with pytest.raises(SystemExit) as done:
        main(["check-patch", str(moved), "--tree", str(tree), "--cache-dir", str(tmp_path / "c"), "-f", "json"])
    assert done.value.code == 1
    (result,) = json.loads(capsys.readouterr().out)["patches"]
    assert result["notes"] == ["hunk 1 of fs/wbfs/inode.c applied at line 18, 10 line(s) earlier than its header says"]
