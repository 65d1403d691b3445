"""Reading mbox series and patches, and applying them in memory (groundwork for check-patch)."""

import base64
import quopri
from pathlib import Path

import pytest

from putlint.patches import PatchError, apply_series, read_patches

WORK_C = "void f(void)\n{\n\ta();\n\tb();\n}\n\nvoid g(void)\n{\n\tc();\n}\n"

DIFF_1 = """diff --git a/fs/demo/work.c b/fs/demo/work.c
--- a/fs/demo/work.c
+++ b/fs/demo/work.c
@@ -2,4 +2,5 @@ void f(void)
 {
 \ta();
+\tiput(inode);
 \tb();
 }
"""
DIFF_2 = """diff --git a/fs/demo/work.c b/fs/demo/work.c
--- a/fs/demo/work.c
+++ b/fs/demo/work.c
@@ -8,3 +8,3 @@ void g(void)
 {
-\tc();
+\td();
 }
diff --git a/fs/demo/new.c b/fs/demo/new.c
new file mode 100644
--- /dev/null
+++ b/fs/demo/new.c
@@ -0,0 +1,2 @@
+/* new */
+int x;
"""


def mail(subject: str, body: str, encoding: str = "8bit", charset: str = "utf-8") -> bytes:
    payload = body.encode(charset)
    if encoding == "quoted-printable":
        payload = quopri.encodestring(payload)
    elif encoding == "base64":
        payload = base64.encodebytes(payload)
    headers = (
        "From 1234567890abcdef Mon Sep 17 00:00:00 2001\n"
        "From: A Developer <dev@example.org>\n"
        f"Subject: {subject}\n"
        f"Content-Type: text/plain; charset={charset}\n"
        f"Content-Transfer-Encoding: {encoding}\n\n"
    )
    return headers.encode() + payload + b"\n"


@pytest.fixture
def tree(tmp_path) -> Path:
    (tmp_path / "fs" / "demo").mkdir(parents=True)
    (tmp_path / "fs" / "demo" / "work.c").write_text(WORK_C)
    return tmp_path


def test_mbox_series_is_ordered_and_skips_the_cover_letter(tree):
    data = (
        mail("[PATCH 2/2] demo: rename c", "Second.\n---\n" + DIFF_2 + "-- \n2.39.5\n", "quoted-printable")
        + mail("[PATCH 0/2] demo: cover", "Cover letter, no diff.\n")
        + mail("[PATCH 1/2] demo: add iput", "First.\n---\n" + DIFF_1, "base64")
    )
    patches = read_patches(data, "series.mbox")
    assert [(p.number, p.total, p.subject) for p in patches] == [
        (1, 2, "[PATCH 1/2] demo: add iput"),
        (2, 2, "[PATCH 2/2] demo: rename c"),
    ]
    result = apply_series(tree, patches)
    assert result == {
        "fs/demo/work.c": "void f(void)\n{\n\ta();\n\tiput(inode);\n\tb();\n}\n\nvoid g(void)\n{\n\td();\n}\n",
        "fs/demo/new.c": "/* new */\nint x;\n",
    }
    assert (tree / "fs" / "demo" / "work.c").read_text() == WORK_C  # nothing written


def test_plain_diff_crlf_and_latin1_mail(tree):
    (plain,) = read_patches(DIFF_1.replace("\n", "\r\n").encode(), "fix.patch")
    assert plain.subject == "fix.patch" and "\r" not in plain.diff
    assert apply_series(tree, [plain])["fs/demo/work.c"].count("iput") == 1
    (latin,) = read_patches(mail("[PATCH] caf\xe9", "Fran\xe7ois\n---\n" + DIFF_1, "8bit", "latin-1"), "m")
    assert latin.subject == "[PATCH] caf\xe9"


def test_offsets_are_found_and_deleted_and_renamed_files(tree):
    (tree / "fs" / "demo" / "work.c").write_text("/* one */\n/* two */\n" + WORK_C)
    (shifted,) = read_patches(DIFF_1.encode(), "p")
    assert "\tiput(inode);\n" in apply_series(tree, [shifted])["fs/demo/work.c"]
    removal = (
        "diff --git a/fs/demo/work.c b/fs/demo/work.c\ndeleted file mode 100644\n--- a/fs/demo/work.c\n"
        "+++ /dev/null\n@@ -1,2 +0,0 @@\n-/* one */\n-/* two */\n"
    )
    assert apply_series(tree, read_patches(removal.encode(), "rm")) == {"fs/demo/work.c": None}
    rename = (
        "diff --git a/fs/demo/work.c b/fs/demo/moved.c\nsimilarity index 100%\n"
        "rename from fs/demo/work.c\nrename to fs/demo/moved.c\n"
    )
    renamed = apply_series(tree, read_patches(rename.encode(), "mv"))
    assert renamed["fs/demo/work.c"] is None and renamed["fs/demo/moved.c"].startswith("/* one */")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty input"),
        (b"\x00\x01binary", "binary data"),
        (b"just some text\n", "no unified diff found"),
        (mail("[PATCH] words only", "No diff here.\n"), "holds no patch"),
        (mail("[PATCH 0/1] cover", "Only a cover letter.\n"), "no patch in this mbox"),
    ],
)
def test_bad_input_is_a_clear_patch_error(data, message):
    with pytest.raises(PatchError, match=message):
        read_patches(data, "input")


def test_hunk_that_does_not_apply_names_patch_file_and_hunk(tree):
    broken = DIFF_1.replace(" \ta();", " \tz();")
    with pytest.raises(PatchError, match=r"'p': hunk 1 \(@@ -2,4\) does not apply to fs/demo/work.c"):
        apply_series(tree, read_patches(broken.encode(), "p"))


def test_patch_for_another_tree(tree):
    other = DIFF_1.replace("fs/demo/work.c", "drivers/other.c")
    with pytest.raises(PatchError, match="drivers/other.c does not exist in the tree"):
        apply_series(tree, read_patches(other.encode(), "p"))
