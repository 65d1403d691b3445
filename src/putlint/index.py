"""Bring the on-disk index of a tree up to date: only new or changed files are
parsed, in a process pool, largest first; results are written in batches.

Checking that the tree is unchanged (a stat of every file) takes about a
second on the whole tree; `update_index_while` does it in a forked process
while the caller reads its saved state."""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import faults, parse, store
from .errors import InputError
from .processes import die_with_parent, unordered_map
from .tree import CRASHED, OK, SKIPPED, TIMEOUT, UNREADABLE, SourceFile, discover, in_scope, read_source

_PREPROCESSOR_ONLY = "preprocessor lines and comments only"
_BATCH_ROWS = 2000
_DEFAULT_PARSE_TIMEOUT = 30.0
_TIMEOUT_LIMIT = re.compile(r"over ([\d.]+) s")


def parse_timeout() -> float:
    """Seconds one file may take to parse and extract (PUTLINT_PARSE_TIMEOUT)."""
    try:
        value = float(os.environ.get("PUTLINT_PARSE_TIMEOUT") or _DEFAULT_PARSE_TIMEOUT)
    except ValueError:
        raise InputError("PUTLINT_PARSE_TIMEOUT must be a number of seconds") from None
    if value <= 0:
        raise InputError("PUTLINT_PARSE_TIMEOUT must be a number of seconds") from None
    return value


@dataclass(frozen=True)
class IndexRun:
    """What one `update_index` call did, for the summary line."""

    tree: Path
    index_file: Path
    files: tuple[str, ...]
    extracted: int
    reused: int
    removed: int
    totals: dict[str, int]
    statuses: dict[str, int]
    skipped_bytes: int
    problems: tuple[tuple[str, str, str], ...]  # (path, status, message) for unreadable/odd files
    seconds: float
    warnings: tuple[str, ...] = field(default=())
    content_key: str = ""  # changes when any file's facts in `files` may have changed
    scopes: tuple[str, ...] = ("",)


@dataclass(frozen=True)
class _Job:
    root: Path
    file: SourceFile
    cached_sha1: str
    skip_preprocessor_only: bool


def _extract(job: _Job) -> tuple:
    """Worker: (record, counts, blob); blob None means "content unchanged"."""
    faults.point("extract", job.file.path)
    read = read_source(job.root, job.file.path, job.skip_preprocessor_only)
    record = store.FileRecord(job.file.path, job.file.size, job.file.mtime_ns, read.sha1, read.status, read.message)
    if read.sha1 and read.sha1 == job.cached_sha1:
        return record, None, None
    if read.status != OK:
        return record, {}, None
    rows = parse.extract_rows(read.data)
    counts = {name: len(kind_rows) for name, kind_rows in zip(store.COUNT_COLUMNS, rows)}
    return record, counts, store.encode_facts(rows)


def _worker_init() -> None:
    # Extraction makes many short-lived objects and no cycles worth collecting.
    gc.disable()


def _failed(job: _Job, why: str) -> tuple:
    """The result of a file whose parse ran over the time limit or killed its worker."""
    kind, _, detail = why.partition(":")
    if kind == "timeout":
        status, message = TIMEOUT, f"parsing took over {detail} s (PUTLINT_PARSE_TIMEOUT); not analysed"
    else:
        status, message = CRASHED, f"the parser died on this file (exit code {detail}); not analysed"
    file = job.file
    return store.FileRecord(file.path, file.size, file.mtime_ns, "", status, message), {}, None


def update_index(
    root: Path,
    cache_dir: Path,
    scopes: tuple[str, ...] = ("",),
    excludes: tuple[str, ...] = (),
    jobs: int | None = None,
    skip_preprocessor_only: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> IndexRun:
    """Index every .c/.h file under `scopes` of `root`; reuse what is unchanged."""
    started = time.monotonic()
    files = discover(root, scopes, excludes)
    # A name that is not UTF-8 cannot be a key of the index: reported, not indexed.
    unnamed = [f for f in files if not _utf8(f.path)]
    if unnamed:
        files = [f for f in files if _utf8(f.path)]
    index_file = store.index_path(cache_dir, root)
    with store.IndexLock(index_file), store.Index(index_file, root, rebuild=True) as index:
        try:
            known = index.records()
        except store.CorruptIndex as why:
            index.rebuild(str(why))
            known = {}
        found = {f.path for f in files}
        gone = [path for path in known if path not in found and in_scope(path, scopes)]
        if gone:
            index.forget(gone)
        todo = [f for f in files if _needs_extraction(known.get(f.path), f, skip_preprocessor_only)]
        todo.sort(key=lambda f: -f.size)
        job_list = [_Job(root, f, _reusable_sha1(known.get(f.path)), skip_preprocessor_only) for f in todo]
        _run_jobs(index, job_list, jobs, progress)
        records = index.records() if job_list else known
        totals = index.totals(None if found == records.keys() else found)
    statuses: dict[str, int] = {}
    problems = []
    skipped_bytes = 0
    content = hashlib.sha1(store.extractor_fingerprint().encode())
    for path in sorted(found):
        record = records[path]
        content.update(f"{path}\0{record.sha1}\0{record.status}\n".encode())
        statuses[record.status] = statuses.get(record.status, 0) + 1
        if record.status == SKIPPED:
            skipped_bytes += record.size
        if record.message and record.message != _PREPROCESSOR_ONLY:
            problems.append((path, record.status, record.message))
    problems.extend(
        (f.path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"), UNREADABLE,
         "file name is not valid UTF-8; not analysed")
        for f in unnamed
    )
    return IndexRun(
        tree=root,
        index_file=index.path,
        files=tuple(sorted(found)),
        extracted=len(todo),
        reused=len(files) - len(todo),
        removed=len(gone),
        totals=totals,
        statuses=statuses,
        skipped_bytes=skipped_bytes,
        problems=tuple(problems),
        seconds=time.monotonic() - started,
        warnings=tuple(index.warnings),
        content_key=content.hexdigest(),
        scopes=scopes,
    )


def _utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _needs_extraction(record: store.FileRecord | None, file: SourceFile, skip_preprocessor_only: bool) -> bool:
    if record is None or record.size != file.size or record.mtime_ns != file.mtime_ns:
        return True
    if record.status == UNREADABLE:
        return True  # permissions may have been fixed
    if record.status == TIMEOUT:
        limit = _TIMEOUT_LIMIT.search(record.message)
        return limit is None or float(limit.group(1)) < parse_timeout()  # a longer limit now
    return not skip_preprocessor_only and record.message == _PREPROCESSOR_ONLY


def _reusable_sha1(record: store.FileRecord | None) -> str:
    """The cached content hash, when facts of equal content may be kept as they are."""
    if record is None or record.status != OK:
        return ""
    return record.sha1


def _run_jobs(index: store.Index, job_list: list[_Job], jobs: int | None, progress) -> None:
    if not job_list:
        return
    jobs = max(1, jobs or os.cpu_count() or 1)
    batch: list[tuple] = []
    unchanged: list[store.FileRecord] = []
    done = 0

    def flush() -> None:
        if batch:
            index.write(batch)
            batch.clear()
        if unchanged:
            index.touch(unchanged)
            unchanged.clear()

    def take(result: tuple) -> None:
        nonlocal done
        record, counts, blob = result
        if counts is None:
            unchanged.append(record)
        else:
            batch.append((record, counts, blob))
        done += 1
        if progress is not None:
            progress(done, len(job_list))
        if len(batch) + len(unchanged) >= _BATCH_ROWS:
            flush()

    if not hasattr(os, "fork"):
        for job in job_list:
            take(_extract(job))  # no time limit without fork
    else:
        # Even one job runs in a worker: a file that takes too long is killed with it.
        for result in unordered_map(_extract, job_list, jobs, _worker_init, parse_timeout(), _failed):
            take(result)
    flush()


def _index_in_child(sender, arguments: dict, parent: int) -> None:
    die_with_parent(parent)
    try:
        sender.send(("ok", update_index(**arguments)))
    except InputError as error:
        sender.send(("input", str(error)))
    except BaseException as error:  # noqa: BLE001 - reported by the parent
        sender.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        sender.close()


def update_index_while(work: Callable[[], Any], **arguments) -> tuple[IndexRun, Any]:
    """`update_index(**arguments)` in a forked process while `work()` runs here.

    If this process is interrupted (or `work` fails), the child is killed: its
    writes are transactions, so the index it leaves is valid."""
    if not hasattr(os, "fork"):
        return update_index(**arguments), work()
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_index_in_child, args=(sender, arguments, os.getpid()))
    child.start()
    sender.close()
    try:
        result = work()
        try:
            status, payload = receiver.recv()
        except EOFError:
            child.join()
            status, payload = "error", f"the indexing process ended with code {child.exitcode}"
    except BaseException:
        child.kill()
        raise
    finally:
        receiver.close()
        child.join()
    if status == "input":
        raise InputError(payload)
    if status != "ok":
        raise RuntimeError(f"indexing failed: {payload}")
    return payload, result
