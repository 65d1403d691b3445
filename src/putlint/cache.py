"""A cache directory putlint cannot write (a CI cache restored read-only, a
read-only mount, another user's cache) is not an error: the run copies the
tree's files from it (index and saved state, so a warm cache stays warm) into
a private temporary directory, works there, says so on stderr, and removes the
copy when it ends (a copy left by a killed run is removed by the next such
run). Nothing is ever written to the read-only directory."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from .errors import InputError
from .processes import alive

_PRIVATE: dict[Path, Path] = {}  # read-only cache directory -> its private copy
_NOTES: dict[Path, str] = {}  # private copy -> the warning that explains it
_OWNER = os.getpid()  # forked helpers use the copy; only this process removes it


_READ_ONLY = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


def _writable(directory: Path) -> bool:
    """False for a directory putlint may not write (or create); InputError when
    it cannot be one at all (a file in the way, a full disk). Creates nothing
    that stays: the probe is a temporary file in the nearest existing directory."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"cannot create cache directory {directory}: {existing} is not a directory")
    try:
        with tempfile.TemporaryFile(dir=existing):
            return True
    except OSError as error:
        if error.errno in _READ_ONLY:
            return False
        raise InputError(f"cannot create cache directory {directory}: {error.strerror}") from None


def usable(cache_dir: Path, stem: str) -> Path:
    """`cache_dir`, or a private copy of the files of `<cache_dir>/index/<stem>*`
    when `cache_dir/index` cannot be written."""
    if cache_dir in _PRIVATE:
        return _PRIVATE[cache_dir]
    index_dir = cache_dir / "index"
    existing = sorted(index_dir.glob(glob_escape(stem) + "*")) if index_dir.is_dir() else []
    if _writable(index_dir) and all(os.access(path, os.W_OK) for path in existing):
        return cache_dir
    _remove_stale_copies()
    private = Path(tempfile.mkdtemp(prefix=f"putlint-cache-{os.getpid()}-"))
    (private / "index").mkdir()
    copied = 0
    for path in existing:
        if path.is_file() and not path.name.endswith((".lock", ".tmp")):
            try:
                shutil.copy2(path, private / "index" / path.name)
                copied += 1
            except OSError:
                pass  # what cannot be read is recomputed
    _PRIVATE[cache_dir] = private
    _NOTES[private] = (
        f"warning: cache directory {cache_dir} cannot be written; this run works on a private copy"
        f" ({copied} file(s)) in {private}, removed when it ends"
    )
    return private


def _remove_stale_copies() -> None:
    """Private copies of runs that were killed (their pid is gone)."""
    for path in Path(tempfile.gettempdir()).glob("putlint-cache-*-*"):
        pid = path.name.split("-")[2]
        if pid.isdigit() and not alive(int(pid)) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def note_for(index_file: Path) -> str:
    """The warning for an index in a private copy ("" for one in place)."""
    return _NOTES.get(index_file.parent.parent, "")


def remove_private_copies() -> None:
    """At the end of a run (of the process that made them)."""
    if os.getpid() != _OWNER:
        return
    for private in _PRIVATE.values():
        shutil.rmtree(private, ignore_errors=True)
    _PRIVATE.clear()
    _NOTES.clear()
