"""The on-disk index: one SQLite file per kernel tree, outside the tree.

A row per source file holds its stat, content hash, status, fact counts and
the facts themselves as one compressed marshal blob. SQLite transactions make
every write atomic; a crash loses at most the batch being written. A file that
is not a putlint index of this schema and extractor is rebuilt with a warning,
by the process that updates it: one process at a time updates an index (an
exclusive lock on `<index>.lock`; others wait, then find it up to date), while
any number read it. A cache directory putlint cannot write is used through a
private copy (see `cache.py`).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sqlite3
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import cache, facts, faults, fingerprints
from .errors import InputError

try:
    import fcntl
except ImportError:  # not POSIX: no locking
    fcntl = None

SCHEMA_VERSION = 1
COUNT_COLUMNS = tuple(name for name, _ in facts.FACT_KINDS)
_MAGIC = "putlint-index"
_BUSY_SECONDS = 60.0  # how long a statement waits for another process's transaction


@dataclass(frozen=True, slots=True)
class FileRecord:
    """What the index knows of one file, without its facts."""

    path: str
    size: int
    mtime_ns: int
    sha1: str
    status: str
    message: str


def extractor_fingerprint() -> str:
    """Changes whenever the extraction code, queries or data change: facts must be redone."""
    return fingerprints.fingerprint(fingerprints.extractor_files(), str(SCHEMA_VERSION))[:16]


def encode_facts(rows: tuple) -> bytes:
    return zlib.compress(marshal.dumps(rows), 1)


def decode_facts(blob: bytes) -> tuple:
    return marshal.loads(zlib.decompress(blob))


def default_cache_dir() -> Path:
    base = os.environ.get("PUTLINT_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "putlint"


def index_path(cache_dir: Path, tree: Path) -> Path:
    """Where the index of `tree` lives; never inside the tree (a private copy
    when the cache directory cannot be written, see `cache.usable`)."""
    cache_dir = cache_dir.expanduser().resolve()
    if cache_dir == tree or tree in cache_dir.parents:
        raise InputError(f"cache directory {cache_dir} is inside the kernel tree; putlint never writes there")
    key = hashlib.sha1(os.fsencode(tree)).hexdigest()[:12]
    stem = f"{os.fsencode(tree.name).decode('utf-8', 'replace')}-{key}"
    return cache.usable(cache_dir, stem) / "index" / f"{stem}.sqlite"


class IndexLock:
    """Held while a process updates, rebuilds or discards an index. A process
    that finds it taken says so on stderr and waits."""

    def __init__(self, index_file: Path):
        self.path = Path(f"{index_file}.lock")
        self.fd = -1

    def __enter__(self) -> IndexLock:
        if fcntl is None:
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise InputError(f"cannot create {self.path}: {error.strerror}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            sys.stderr.write(f"putlint: waiting for another putlint process updating {self.path.parent}\n")
            sys.stderr.flush()
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # releases the lock
            self.fd = -1


def discard(index_file: Path) -> None:
    """Remove a damaged index (the next update rebuilds it)."""
    with IndexLock(index_file):
        _remove_files(index_file)


def once_more_if_damaged(index_file: Path, attempt: Callable[[], Any]) -> tuple[Any, str]:
    """`attempt()`, and if the index turns out damaged halfway through it (a
    fact blob that does not decode), the index discarded and `attempt()` run
    again from a rebuilt one: (its result, a warning or "")."""
    try:
        return attempt(), ""
    except CorruptIndex as why:
        discard(index_file)
        return attempt(), f"warning: index {index_file} {why}; rebuilt it and ran again"


def _remove_files(index_file: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(f"{index_file}{suffix}")
        except FileNotFoundError:
            pass
        except OSError as error:
            raise InputError(f"cannot replace damaged index {index_file}: {error.strerror}") from None


def _write_error(path: Path, error: sqlite3.Error) -> InputError:
    return InputError(
        f"cannot write the index {path}: {error}; free space there or choose another --cache-dir"
        " (what was written before is kept)"
    )


def _tree_key(tree: Path) -> str:
    """The tree's path as SQLite can store it (any bytes, even not UTF-8)."""
    return os.fsencode(tree).decode("utf-8", "backslashreplace")


class CorruptIndex(Exception):
    """The index file is damaged or foreign."""


def _fact_rows(db: sqlite3.Connection, path: str) -> tuple | None:
    try:
        row = db.execute("SELECT facts FROM files WHERE path = ?", (path,)).fetchone()
        if row is None or row[0] is None:
            return None
        rows = decode_facts(row[0])
    except (sqlite3.DatabaseError, ValueError, EOFError, TypeError, zlib.error) as error:
        raise CorruptIndex(f"is damaged ({error})") from None
    if not isinstance(rows, tuple) or len(rows) != len(facts.FACT_KINDS):
        raise CorruptIndex(f"is damaged ({path}: fact record has the wrong shape)")
    return rows


class Reader:
    """Read-only access to the facts of an existing index, for reading ahead
    while another process may be updating it (what was read is trusted only
    once the update shows nothing changed)."""

    def __init__(self, path: Path):
        try:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        except sqlite3.Error as error:
            raise CorruptIndex(f"cannot be read ({error})") from None

    def load_file(self, path: str) -> tuple | None:
        return _fact_rows(self.db, path)

    def close(self) -> None:
        self.db.close()


class Index:
    """An open index. Use as a context manager. `rebuild` (for the process
    holding the `IndexLock`) replaces a damaged or foreign index with an empty
    one; otherwise such an index is a CorruptIndex."""

    def __init__(self, path: Path, tree: Path, rebuild: bool = False):
        self.path = path
        self.tree = tree
        self.warnings: list[str] = [note for note in (cache.note_for(path),) if note]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"cannot create cache directory {path.parent}: {error.strerror}") from None
        fingerprint = extractor_fingerprint()
        try:
            self.db = self._open(fingerprint)
        except CorruptIndex as why:
            if not rebuild:
                raise
            self.warnings.append(f"warning: index {path} {why}; rebuilding it")
            self._remove()
            self.db = self._open(fingerprint)

    def rebuild(self, why: str) -> None:
        """Start again from an empty index (records turned out unreadable)."""
        self.db.close()
        self.warnings.append(f"warning: index {self.path} {why}; rebuilding it")
        self._remove()
        self.db = self._open(extractor_fingerprint())

    def _open(self, fingerprint: str) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_SECONDS)
        except sqlite3.Error as error:
            raise InputError(f"cannot open index {self.path}: {error}") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables:
                try:
                    self._create(db, fingerprint)
                except sqlite3.OperationalError as error:
                    db.close()
                    raise _write_error(self.path, error) from None
                return db
            if tables != {"meta", "files"}:
                raise CorruptIndex("is not a putlint index")
            meta = dict(db.execute("SELECT key, value FROM meta"))
            if meta.get("magic") != _MAGIC:
                raise CorruptIndex("is not a putlint index")
            if meta.get("schema") != str(SCHEMA_VERSION) or meta.get("extractor") != fingerprint:
                raise CorruptIndex("was written by another putlint version")
            if meta.get("tree") != _tree_key(self.tree):
                raise CorruptIndex("belongs to another tree")
            return db
        except sqlite3.DatabaseError as error:
            db.close()
            raise CorruptIndex(f"is damaged ({error})") from None
        except CorruptIndex:
            db.close()
            raise

    def _create(self, db: sqlite3.Connection, fingerprint: str) -> None:
        counts = ", ".join(f"n_{name} INTEGER NOT NULL DEFAULT 0" for name in COUNT_COLUMNS)
        db.execute("BEGIN")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute(
            "CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
            f" sha1 TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL, {counts}, facts BLOB)"
        )
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("magic", _MAGIC), ("schema", str(SCHEMA_VERSION)), ("extractor", fingerprint), ("tree", _tree_key(self.tree))],
        )
        db.execute("COMMIT")

    def _remove(self) -> None:
        _remove_files(self.path)

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # -- reading ------------------------------------------------------------

    def records(self) -> dict[str, FileRecord]:
        try:
            rows = self.db.execute("SELECT path, size, mtime_ns, sha1, status, message FROM files").fetchall()
            return {row[0]: FileRecord(*row) for row in rows}
        except sqlite3.DatabaseError as error:
            raise CorruptIndex(f"is damaged ({error})") from None

    def totals(self, paths: Iterable[str] | None = None) -> dict[str, int]:
        """Sums of the fact counts and byte sizes over `paths` (all when None)."""
        columns = ", ".join(f"SUM(n_{name})" for name in COUNT_COLUMNS)
        query = f"SELECT COUNT(*), SUM(size), {columns} FROM files"
        if paths is None:
            row = self.db.execute(query).fetchone()
        else:
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (path TEXT PRIMARY KEY)")
            self.db.execute("DELETE FROM wanted")
            self.db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", ((p,) for p in paths))
            row = self.db.execute(query + " WHERE path IN (SELECT path FROM wanted)").fetchone()
        names = ("files", "bytes", *COUNT_COLUMNS)
        return {name: int(value or 0) for name, value in zip(names, row)}

    def load(self, paths: Iterable[str] | None = None) -> Iterator[facts.FileFacts]:
        """Facts of the indexed files (of `paths` when given), sorted by path."""
        for path, rows in self.load_rows(paths):
            try:
                yield facts.FileFacts.decode(path, rows)
            except (ValueError, TypeError) as error:
                raise CorruptIndex(f"is damaged ({path}: {error})") from None

    def load_rows(self, paths: Iterable[str] | None = None) -> Iterator[tuple[str, tuple]]:
        """(path, fact rows in `facts.FACT_KINDS` order), sorted by path: no objects built."""
        wanted = None if paths is None else set(paths)
        try:
            for path, blob in self.db.execute("SELECT path, facts FROM files WHERE facts IS NOT NULL ORDER BY path"):
                if wanted is not None and path not in wanted:
                    continue
                rows = decode_facts(blob)
                if not isinstance(rows, tuple) or len(rows) != len(facts.FACT_KINDS):
                    raise ValueError(f"{path}: fact record has the wrong shape")
                yield path, rows
        except (sqlite3.DatabaseError, ValueError, EOFError, TypeError, zlib.error) as error:
            raise CorruptIndex(f"is damaged ({error})") from None

    def load_file(self, path: str) -> tuple | None:
        """Fact rows of one file, None when it has none."""
        return _fact_rows(self.db, path)

    def lost_functions(self, paths: Iterable[str]) -> Iterator[tuple[str, tuple]]:
        """(path, `lost` fact rows) of the files among `paths` where the parse lost a function."""
        wanted = set(paths)
        lost = COUNT_COLUMNS.index("lost")
        try:
            found = [row[0] for row in self.db.execute("SELECT path FROM files WHERE n_lost > 0 ORDER BY path")]
        except sqlite3.DatabaseError as error:
            raise CorruptIndex(f"is damaged ({error})") from None
        for path in found:
            rows = self.load_file(path) if path in wanted else None
            if rows:
                yield path, rows[lost]

    # -- writing ------------------------------------------------------------

    def write(self, rows: Iterable[tuple]) -> None:
        """Store (record, counts dict, blob or None) triples in one transaction."""
        placeholders = ", ".join("?" * (7 + len(COUNT_COLUMNS)))
        self.db.execute("BEGIN")
        try:
            self.db.executemany(
                f"INSERT OR REPLACE INTO files VALUES ({placeholders})",
                (
                    (
                        record.path,
                        record.size,
                        record.mtime_ns,
                        record.sha1,
                        record.status,
                        record.message,
                        *(counts.get(name, 0) for name in COUNT_COLUMNS),
                        blob,
                    )
                    for record, counts, blob in rows
                ),
            )
            faults.point("index-batch")
            self.db.execute("COMMIT")
        except BaseException as error:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            if isinstance(error, sqlite3.OperationalError):
                raise _write_error(self.path, error) from None
            raise

    def touch(self, records: Iterable[FileRecord]) -> None:
        """Update stat data of files whose content did not change."""
        self._transaction(
            "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?", ((r.size, r.mtime_ns, r.path) for r in records)
        )

    def forget(self, paths: Iterable[str]) -> None:
        self._transaction("DELETE FROM files WHERE path = ?", ((p,) for p in paths))

    def _transaction(self, statement: str, rows: Iterable[tuple]) -> None:
        try:
            self.db.execute("BEGIN")
            self.db.executemany(statement, rows)
            self.db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise _write_error(self.path, error) from None
