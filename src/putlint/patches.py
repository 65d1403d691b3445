"""Patches and mbox series: read them, order them, apply them in memory.

Nothing is written anywhere: `apply_series` returns the new contents of the
files a series touches (None for a deleted file), on top of the tree as it is.
A hunk that does not apply is a PatchError naming the patch, file and hunk.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from pathlib import Path

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from .errors import InputError

_SUBJECT_NUMBER = re.compile(r"\[[^\]]*?(\d+)/(\d+)[^\]]*\]")
_DIFF_START = re.compile(r"^(diff --git |--- \S)", re.M)
_MBOX_SEPARATOR = re.compile(rb"^From [^\n]*\n", re.M)
_MAX_OFFSET = 200  # how far a hunk may have moved, in lines, like patch(1) without fuzz
_C_SUFFIXES = (".c", ".h")


class PatchError(InputError):
    """A patch that cannot be read or applied: exit 2."""


@dataclass(frozen=True, slots=True)
class Patch:
    subject: str
    number: int  # n of [PATCH n/m]; 1 for a lone patch
    total: int
    source: str  # the file it came from, for messages
    diff: str


def _subject_numbers(subject: str) -> tuple[int, int]:
    found = _SUBJECT_NUMBER.search(subject)
    return (int(found.group(1)), int(found.group(2))) if found else (1, 1)


def _message_text(message) -> str:
    """The text/plain body of a mail, decoded (quoted-printable, base64, charset)."""
    parts = [message] if not message.is_multipart() else list(message.walk())
    texts = []
    for part in parts:
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        try:
            texts.append(payload.decode(charset, errors="replace"))
        except LookupError:
            texts.append(payload.decode("utf-8", errors="replace"))
    return "\n".join(texts)


def _diff_of(text: str) -> str:
    text = text.replace("\r\n", "\n")
    start = _DIFF_START.search(text)
    if start is None:
        return ""
    diff = text[start.start() :]
    # format-patch ends with "-- \n<version>"; unidiff would take it for content.
    signature = re.search(r"^-- \n", diff, re.M)
    return diff[: signature.start()] if signature else diff


def read_patches(data: bytes, source: str) -> list[Patch]:
    """Patches in one input: an mbox series, a format-patch mail, or a plain diff."""
    if not data.strip():
        raise PatchError(f"{source}: empty input, no patch in it")
    if b"\0" in data:
        raise PatchError(f"{source}: binary data, not a patch or mbox")
    if data.startswith(b"From ") or re.match(rb"(?i)^(subject|from|date|message-id):", data):
        return _read_mails(data, source)
    diff = _diff_of(data.decode("utf-8", errors="replace"))
    if not diff:
        raise PatchError(f"{source}: no unified diff found")
    return [Patch(Path(source).name, 1, 1, source, diff)]


def _read_mails(data: bytes, source: str) -> list[Patch]:
    chunks = [c for c in _MBOX_SEPARATOR.split(data) if c.strip()] if data.startswith(b"From ") else [data]
    patches = []
    for chunk in chunks:
        message = email.message_from_bytes(chunk, policy=email.policy.default)
        subject = " ".join(str(message.get("Subject", "")).split())
        if not subject and not message.keys():
            raise PatchError(f"{source}: malformed mbox: a message without headers")
        number, total = _subject_numbers(subject)
        diff = _diff_of(_message_text(message))
        if not diff:
            if number == 0:
                continue  # the cover letter
            if len(chunks) > 1 and re.match(r"(?i)^re:", subject):
                continue  # a reply in the thread
            raise PatchError(f"{source}: mail {subject!r} holds no patch")
        patches.append(Patch(subject, number, total, source, diff))
    if not patches:
        raise PatchError(f"{source}: no patch in this mbox")
    return sorted(patches, key=lambda p: p.number)


def patch_set_of(patch: Patch) -> PatchSet:
    """The parsed diff; PatchError when it is not a valid one."""
    try:
        return PatchSet(patch.diff)
    except UnidiffParseError as error:
        raise PatchError(f"{patch.source}: {patch.subject!r}: not a valid diff: {error}") from None
    except Exception as error:  # noqa: BLE001 - unidiff trips over some malformed headers itself (fuzzing found
        # AttributeError and UnboundLocalError): for hostile input that is "not a valid diff" too
        raise PatchError(f"{patch.source}: {patch.subject!r}: not a valid diff ({type(error).__name__})") from None


def tree_path(path: str) -> str:
    """`fs/x.c` for the `a/fs/x.c` or `b/fs/x.c` of a diff header."""
    return path[2:] if path.startswith(("a/", "b/")) else path


def touched_paths(patches: list[Patch]) -> set[str]:
    """Tree paths the series names (a diff that cannot be read names none)."""
    paths: set[str] = set()
    for patch in patches:
        try:
            patch_set = patch_set_of(patch)
        except PatchError:
            continue
        for patched in patch_set:
            paths.update(tree_path(p) for p in (patched.source_file, patched.target_file) if p != "/dev/null")
    return paths


def apply_series(
    root: Path,
    patches: list[Patch],
    overlay: dict[str, str | None] | None = None,
    notes: list[str] | None = None,
) -> dict[str, str | None]:
    """New text of every file the series touches, applied in order (None = deleted).

    `overlay` holds what earlier patches made of the tree; it is extended in place.
    A hunk whose context stands elsewhere than its header says (up to 200 lines
    away) is applied there and noted in `notes`; a hunk whose context does not
    match exactly anywhere is refused (no fuzz). Binary diffs of files that are
    not C sources are left out; of a C source, refused.
    """
    overlay = {} if overlay is None else overlay
    for patch in patches:
        patch_set = patch_set_of(patch)
        if not len(patch_set):
            raise PatchError(f"{patch.source}: {patch.subject!r}: the diff touches no file")
        for patched in patch_set:
            _apply_file(root, overlay, patch, patched, notes if notes is not None else [])
    return overlay


def _current(root: Path, overlay: dict[str, str | None], path: str, patch: Patch) -> str | None:
    if path in overlay:
        return overlay[path]
    file = root / path
    try:
        if not file.is_file():
            return None
        return file.read_bytes().decode("utf-8", errors="surrogateescape")
    except OSError as error:
        raise PatchError(f"{patch.source}: {patch.subject!r}: cannot read {path!r}: {error.strerror}") from None


def _is_copy(patched) -> bool:
    return any(str(line).startswith("copy to ") for line in getattr(patched, "patch_info", ()) or ())


def _apply_file(root: Path, overlay: dict[str, str | None], patch: Patch, patched, notes: list[str]) -> None:
    source, target = tree_path(patched.source_file), tree_path(patched.target_file)
    where = f"{patch.source}: {patch.subject!r}"
    for path in (source, target):
        if path != "/dev/null" and (not path or path.startswith("/") or "\0" in path or ".." in path.split("/")):
            raise PatchError(f"{where}: {path!r} is not a path inside the tree")
    if getattr(patched, "is_binary_file", False):
        if target.endswith(_C_SUFFIXES) or source.endswith(_C_SUFFIXES):
            raise PatchError(f"{where}: a binary diff of {target}, a C source, cannot be applied")
        return  # nothing putlint reads
    if patched.is_added_file:
        if _current(root, overlay, target, patch) is not None:
            raise PatchError(f"{where}: {target} already exists; the patch creates it")
        old_lines: list[str] = []
    else:
        text = _current(root, overlay, source, patch)
        if text is None:
            raise PatchError(f"{where}: {source} does not exist in the tree (a patch for another tree?)")
        old_lines = text.splitlines(keepends=True)
    if patched.is_removed_file:
        overlay[source] = None
        return
    new_lines = list(old_lines)
    shift = 0
    for number, hunk in enumerate(patched, start=1):
        expected, replacement = _sides(hunk)
        wanted = max(hunk.source_start - 1, 0) + shift
        at = _locate(new_lines, expected, wanted)
        if at is None:
            raise PatchError(
                f"{where}: hunk {number} (@@ -{hunk.source_start},{hunk.source_length}) does not apply to {source}"
                " (its context is not in the file; putlint applies hunks at an offset, never with fuzz)"
            )
        if at != wanted:
            notes.append(f"hunk {number} of {source} applied at line {at + 1},"
                         f" {abs(at - wanted)} line(s) {'later' if at > wanted else 'earlier'} than its header says")
        kept = [new_lines[at + item] if isinstance(item, int) else item for item in replacement]
        new_lines[at : at + len(expected)] = kept
        shift += at - wanted + len(kept) - len(expected)
    if patched.is_rename and source != target and not _is_copy(patched):
        overlay[source] = None
    overlay[target] = "".join(new_lines)


def _sides(hunk) -> tuple[list[str], list[str | int]]:
    """(lines the hunk expects, lines it leaves), "\\ No newline at end of file"
    honoured; a context line it leaves is the index of the expected line, so
    that the file's own line (its line end) is kept."""
    expected: list[str] = []
    replacement: list[str | int] = []
    last = ""
    for line in hunk:
        if line.is_context:
            expected.append(line.value)
            replacement.append(len(expected) - 1)
            last = "context"
        elif line.is_removed:
            expected.append(line.value)
            last = "removed"
        elif line.is_added:
            replacement.append(line.value)
            last = "added"
        elif last:  # the marker: the line before it has no newline
            if last != "added":
                expected[-1] = expected[-1].rstrip("\n")
            if last != "removed":
                item = replacement[-1]
                replacement[-1] = (expected[item] if isinstance(item, int) else item).rstrip("\n")
    return expected, replacement


def _locate(lines: list[str], expected: list[str], wanted: int) -> int | None:
    """Where `expected` stands in `lines`: at `wanted`, else the nearest offset.
    Line ends do not count (a CRLF file matches a patch whose mail lost the CRs)."""
    if not expected:
        return min(wanted, len(lines))
    normalized = [line.rstrip("\r\n") for line in expected]
    for distance in range(_MAX_OFFSET + 1):
        for at in (wanted - distance, wanted + distance) if distance else (wanted,):
            if 0 <= at <= len(lines) - len(expected) and all(
                lines[at + i].rstrip("\r\n") == normalized[i] for i in range(len(expected))
            ):
                return at
    return None


def added_lines(patch: Patch) -> dict[str, set[int]]:
    """Tree path -> line numbers (after the patch) of the lines it adds."""
    added: dict[str, set[int]] = {}
    for patched in patch_set_of(patch):
        lines = {line.target_line_no for hunk in patched for line in hunk if line.is_added}
        if lines:
            added[tree_path(patched.target_file)] = lines
    return added


def removed_lines(patch: Patch) -> dict[str, set[int]]:
    """Tree path -> line numbers (before the patch) of the lines it removes."""
    removed: dict[str, set[int]] = {}
    for patched in patch_set_of(patch):
        lines = {line.source_line_no for hunk in patched for line in hunk if line.is_removed}
        if lines:
            removed[tree_path(patched.source_file)] = lines
    return removed
