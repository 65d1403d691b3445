"""Fuzz targets and input strategies, shared by tests/test_fuzz.py (a short
hypothesis run and the regression corpus), benchmarks/fuzz.py (a long run that
prints inputs per second) and atheris (coverage-guided, when installed).

Each target takes bytes and holds putlint to its contract: a result, or an
InputError (exit 2); any other exception is a bug. Structured strategies build
inputs shaped like the real thing (mails, diffs, C, rule files) so the fuzzer
gets past the first checks; raw bytes cover the rest."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import strategies as st

from putlint import facts, parse
from putlint.errors import InputError
from putlint.parse.onsite import BodyReader
from putlint.patches import added_lines, apply_series, read_patches, removed_lines
from putlint.ruleset import load_rules

CORPUS = Path(__file__).parent / "fuzz_corpus"
TREE_FILES = {
    "fs/a.c": "static void a(struct inode *inode)\n{\n\tiput(inode);\n}\n",
    "fs/b.h": "line one\nline two\nline three\n",
    "fs/nonl.c": "x\ny\nz",
}


def make_patch_tree() -> Path:
    root = Path(tempfile.mkdtemp(prefix="putlint-fuzz-"))
    for path, text in TREE_FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


# -- targets -------------------------------------------------------------------


def patch_reader(data: bytes) -> None:
    """read_patches: every patch has text fields that print."""
    try:
        patches = read_patches(data, "fuzz")
    except InputError:
        return
    assert patches
    for patch in patches:
        patch.subject.encode("utf-8", "backslashreplace")
        assert isinstance(patch.diff, str) and patch.number >= 0


def patch_applier(data: bytes, root: Path) -> None:
    """read_patches then apply_series on a small tree, as check-patch does."""
    try:
        patches = read_patches(data, "fuzz")
        texts = apply_series(root, patches, notes=[])
        for patch in patches:
            added_lines(patch)
            removed_lines(patch)
    except InputError:
        return
    for path, text in texts.items():
        assert text is None or isinstance(text, str), path


def extractor(data: bytes) -> None:
    """extract_rows, and the on-site reader at every function found."""
    rows = parse.extract_rows(data)
    assert len(rows) == len(facts.FACT_KINDS)
    for (_, kind), kind_rows in zip(facts.FACT_KINDS, rows):
        for row in kind_rows:
            kind(*row)  # right arity
    reader = BodyReader(data)
    for name, line, *_ in rows[0]:
        reader.body(line)


def rule_loader(data: bytes, kind: str = "contexts") -> None:
    """A rule file of `kind` (contexts, puts, checks) beside the shipped rules."""
    directory = Path(tempfile.mkdtemp(prefix="putlint-rules-"))
    try:
        (directory / kind).mkdir()
        (directory / kind / "fuzzed.yaml").write_bytes(data)
        try:
            load_rules((directory,))
        except InputError:
            pass
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# -- strategies ----------------------------------------------------------------

_C_TOKENS = (
    "{", "}", "(", ")", ";", ",", "*", "&", "->", ".", "=", "==", "!", "?", ":", "[", "]", "\n", "\n{\n", "\n}\n",
    " ", "\t", "static", "void", "int", "struct inode", "if", "else", "for", "while", "return", "switch", "case 1:",
    "goto out;", "out:", "f", "g", "x", "inode", "iput", "iput(inode);", "ihold(inode);", "INIT_WORK(&w, fn);",
    "SYSCALL_DEFINE1(x, int, a)", "list_for_each_entry(p, h, l)", "for_each_cpu(i)", "__releases(x)", "/*", "*/",
    "//", '"', "'", "\\", "#if 0\n", "#endif\n", "#define M(a) a\n", "#ifdef X\n", "#else\n", "0x1f", "GFP_NOFS",
    ".writepages = f,", "static const struct address_space_operations ops = {", "\xe9", "\x00", "\r\n",
)


def c_sources() -> st.SearchStrategy[bytes]:
    tokens = st.lists(st.sampled_from(_C_TOKENS), max_size=200).map("".join)
    return st.one_of(tokens.map(lambda text: text.encode("utf-8", "surrogatepass")), st.binary(max_size=400))


def _hunk() -> st.SearchStrategy[str]:
    body = st.lists(
        st.one_of(
            st.sampled_from([" line one", " line two", "-line one", "-line two", "+added", " x", "-z", "+Z",
                             "\\ No newline at end of file", "", " ", "+\tiput(inode);", "-\tiput(inode);"]),
            st.text(max_size=12).map(lambda t: " " + t),
        ),
        max_size=8,
    )
    numbers = st.integers(min_value=0, max_value=60)
    return st.builds(
        lambda a, b, c, d, lines: f"@@ -{a},{b} +{c},{d} @@\n" + "".join(f"{line}\n" for line in lines),
        numbers, numbers, numbers, numbers, body,
    )


def _file_diff() -> st.SearchStrategy[str]:
    paths = st.sampled_from(["fs/a.c", "fs/b.h", "fs/nonl.c", "fs/new.c", "fs/none.c", "fs/x.bin", "/dev/null"])
    extra = st.lists(st.sampled_from([
        "new file mode 100644", "deleted file mode 100644", "old mode 100644", "new mode 100755",
        "similarity index 90%", "rename from fs/a.c", "rename to fs/r.c", "copy from fs/a.c", "copy to fs/c.c",
        "index 1234567..89abcde 100644", "Binary files a/fs/x.bin and b/fs/x.bin differ", "GIT binary patch",
        "literal 0", "HcmV?d00001",
    ]), max_size=3)
    return st.builds(
        lambda old, new, lines, hunks, git: (f"diff --git a/{old} b/{new}\n" if git else "")
        + "".join(f"{line}\n" for line in lines)
        + f"--- {'a/' + old if old != '/dev/null' else old}\n+++ {'b/' + new if new != '/dev/null' else new}\n"
        + "".join(hunks),
        paths, paths, extra, st.lists(_hunk(), max_size=3), st.booleans(),
    )


def _mail(diff: str, subject: str, encoding: str, charset: str, crlf: bool) -> bytes:
    body = diff.encode(charset if charset in ("utf-8", "latin-1") else "utf-8", "replace")
    if encoding == "base64":
        import base64

        body = base64.encodebytes(body)
    elif encoding == "quoted-printable":
        import quopri

        body = quopri.encodestring(body)
    head = (f"From 0000 Mon Sep 17 00:00:00 2001\nFrom: Dev <d@x>\nSubject: {subject}\n"
            f"Content-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {encoding}\n\nmessage\n---\n")
    data = head.encode("utf-8", "surrogatepass") + body
    return data.replace(b"\n", b"\r\n") if crlf else data


def patch_inputs() -> st.SearchStrategy[bytes]:
    diffs = st.lists(_file_diff(), min_size=1, max_size=3).map("".join)
    subjects = st.one_of(
        st.sampled_from(["[PATCH] x", "[PATCH 1/2] a", "[PATCH 0/2] cover", "Re: [PATCH] x", "=?utf-8?b?W1BBVENIXQ==?=",
                         "=?bogus?q?x?=", "[PATCH 2/1] odd", ""]),
        st.text(max_size=20),
    )
    mails = st.builds(_mail, diffs, subjects, st.sampled_from(["8bit", "base64", "quoted-printable", "7bit"]),
                      st.sampled_from(["utf-8", "latin-1", "no-such-charset"]), st.booleans())
    series = st.lists(mails, min_size=1, max_size=3).map(lambda parts: b"\n".join(parts))
    return st.one_of(diffs.map(lambda d: d.encode("utf-8", "surrogatepass")), mails, series, st.binary(max_size=300))


_RULE_KEYS = ("id", "description", "entries", "waits", "function", "ops", "why", "gfp", "nofs_scope", "enter",
              "leave", "teardown_cuts", "caller", "callee", "distinct_objects", "argument", "origin", "condition",
              "object", "functions", "context", "puts", "severity", "confidence", "message", "references",
              "reach_cuts", "nonfinal_if_from", "held_across_by", "take", "drop", "harmless_when", "unknown")
_yaml_values = st.recursive(
    st.one_of(st.sampled_from(["fuzzed", "writeback", "inode", "iput", "a.b", "error", "high", "(", "[", "$ARG",
                               "S_ISDIR($ARG->i_mode)"]), st.integers(-3, 3), st.none(), st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(_RULE_KEYS), inner, max_size=4)),
    max_leaves=12,
)


def rule_files() -> st.SearchStrategy[bytes]:
    import yaml

    documents = st.dictionaries(st.sampled_from(_RULE_KEYS), _yaml_values, max_size=8).map(
        lambda d: yaml.safe_dump(d).encode())
    return st.one_of(documents, st.binary(max_size=200), st.text(max_size=200).map(str.encode))


def corpus(target: str) -> list[Path]:
    """Inputs found by fuzzing (and fixed), one file each under fuzz_corpus/<target>/."""
    directory = CORPUS / target
    return sorted(directory.iterdir()) if directory.is_dir() else []
