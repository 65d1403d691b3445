"""A kernel source tree on disk: validation, file discovery and reading.

Reading a file is where bad input shows up (unreadable, binary, not UTF-8,
too large, nothing but preprocessor lines); each becomes a per-file status and
message, never an exception.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import faults
from .errors import InputError

SOURCE_SUFFIXES = (".c", ".h")
SKIP_DIRS = frozenset({".git", ".pc", ".putlint-cache"})
MAX_FILE_BYTES = 16 * 1024 * 1024

# A line that starts with something other than a preprocessor directive, a
# comment or white space. A file with no such line holds no function, call or
# initializer (macro bodies are not parsed), like the 470 MB of generated
# register headers under drivers/gpu/drm/amd.
_CODE_LINE = re.compile(rb"^[ \t]*[^#*/ \t\r\n\f\v]", re.M)

# File statuses.
OK = "ok"
SKIPPED = "skipped"  # read, holds nothing to extract (preprocessor only, or too large)
UNREADABLE = "unreadable"  # could not be read or is not C text
TIMEOUT = "timeout"  # its parse ran over the per-file time limit
CRASHED = "crashed"  # the worker parsing it died


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file found by discovery: its path relative to the tree and its stat."""

    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class ReadResult:
    status: str
    data: bytes
    sha1: str
    message: str


def open_tree(tree: str | os.PathLike) -> Path:
    """The tree's resolved path; InputError when it is missing or not a kernel."""
    root = Path(tree).expanduser()
    if not root.exists():
        raise InputError(f"kernel tree {str(tree)!r} does not exist")
    if not root.is_dir():
        raise InputError(f"kernel tree {str(tree)!r} is not a directory")
    try:
        root = root.resolve(strict=True)
    except (OSError, RuntimeError) as error:  # a symlink loop
        raise InputError(f"kernel tree {str(tree)!r} cannot be resolved: {error}") from None
    missing = [name for name, present in (("Kconfig", (root / "Kconfig").is_file()),
                                          ("include/linux/", (root / "include" / "linux").is_dir())) if not present]
    if missing:
        raise InputError(
            f"{str(tree)!r} does not look like a Linux kernel tree (no {' and no '.join(missing)}); "
            "give the top directory of a kernel source tree"
        )
    return root


def relative_scopes(root: Path, paths: tuple[str, ...]) -> tuple[str, ...]:
    """PATHS given on the command line as tree-relative prefixes ("" = all)."""
    scopes = []
    for given in paths:
        candidate = Path(given)
        absolute = candidate if candidate.is_absolute() else root / candidate
        if not absolute.exists() and not candidate.is_absolute() and Path.cwd().joinpath(candidate).exists():
            absolute = Path.cwd() / candidate
        try:
            relative = absolute.resolve().relative_to(root)
        except ValueError:
            raise InputError(f"path {given!r} is not inside the kernel tree {root}") from None
        if not absolute.exists():
            raise InputError(f"path {given!r} does not exist in the kernel tree {root}")
        scopes.append("" if str(relative) == "." else relative.as_posix())
    return tuple(sorted(set(scopes))) or ("",)


def in_scope(path: str, scopes: tuple[str, ...]) -> bool:
    return any(not s or path == s or path.startswith(s + "/") for s in scopes)


def discover(root: Path, scopes: tuple[str, ...] = ("",), excludes: tuple[str, ...] = ()) -> list[SourceFile]:
    """Every .c/.h regular file under the scopes, sorted by path; links are not followed."""
    found: dict[str, SourceFile] = {}
    for scope in scopes:
        start = root / scope if scope else root
        if start.is_file():
            _add(found, scope, os.stat(start), excludes)
            continue
        # Plain strings, not Path objects: pathlib costs seconds on 60,000 files.
        prefix = str(root).rstrip("/") + "/"
        stack = [str(start)]
        while stack:
            directory = stack.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS:
                        stack.append(entry.path)
                elif entry.name.endswith(SOURCE_SUFFIXES) and entry.is_file(follow_symlinks=False):
                    _add(found, entry.path.removeprefix(prefix), entry.stat(follow_symlinks=False), excludes)
    return [found[path] for path in sorted(found)]


def _add(found, relative, stat, excludes) -> None:
    if not relative.endswith(SOURCE_SUFFIXES):
        return
    if excludes and any(fnmatch.fnmatchcase(relative, pattern) for pattern in excludes):
        return
    found[relative] = SourceFile(relative, stat.st_size, stat.st_mtime_ns)


def read_source(root: Path, path: str, skip_preprocessor_only: bool = True) -> ReadResult:
    """Read one file and say whether it can be extracted."""
    try:
        faults.point("read", path)
        data = (root / path).read_bytes()
    except OSError as error:
        return ReadResult(UNREADABLE, b"", "", f"cannot read: {error.strerror or error}")
    sha1 = hashlib.sha1(data).hexdigest()
    nul = data.find(b"\0")
    if nul >= 0:
        return ReadResult(UNREADABLE, b"", sha1, f"binary file (NUL byte at offset {nul})")
    if skip_preprocessor_only and _CODE_LINE.search(data) is None:
        return ReadResult(SKIPPED, b"", sha1, "preprocessor lines and comments only")
    if len(data) > MAX_FILE_BYTES:
        return ReadResult(SKIPPED, b"", sha1, f"too large to index ({len(data)} bytes)")
    message = ""
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            message = f"not UTF-8 (byte {error.start}); invalid bytes read as U+FFFD"
    return ReadResult(OK, data, sha1, message)
