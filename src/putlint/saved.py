"""Saved analysis state next to the index: the program's symbol tables and the findings.

Building the program's symbol tables reads the facts of every file (about 18 s
on the whole 6.12 tree); loading the saved tables takes well under a second,
and function bodies are then read from the index only for the files a search
reaches. Each saved file is keyed by what it was computed from (the index
content and the code that computed it, see `fingerprints`, and for findings
the rules) and replaced atomically; a damaged or stale one is recomputed.

While the saved files are read, `index.update_index_while` checks in a forked
process that the tree is unchanged; their keys are compared afterwards.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import marshal
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from . import faults, fingerprints, store
from .processes import alive
from .graph import Program
from .index import IndexRun
from .facts import FACT_KINDS, KINDS
from .ruleset import Limits
from .search.sources import merge_readings


def cache_file(index_file: Path, scopes: tuple[str, ...], suffix: str) -> Path:
    """A file beside the index, one per graph scope: `<index>.<suffix>-<scope hash>`."""
    scope = hashlib.sha1("\n".join(scopes).encode()).hexdigest()[:10]
    return index_file.with_name(f"{index_file.stem}.{suffix}-{scope}")


def write_atomically(path: Path, data: bytes) -> None:
    """Write a temporary file beside `path`, then rename it over `path`: a
    reader sees the old file or the new one, never part of one. A temporary
    file left by a killed run is removed by the next write (its pid is gone)."""
    _remove_stale_temporaries(path)
    handle = tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=f"{path.name}.{os.getpid()}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            handle.write(data[: len(data) // 2])
            faults.point("saved-write")
            handle.write(data[len(data) // 2 :])
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def _remove_stale_temporaries(path: Path) -> None:
    """`<name>.<pid>.<random>.tmp` files beside `path` whose process is gone."""
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if not (name.startswith(path.name + ".") and name.endswith(".tmp")):
            continue
        pid = name[len(path.name) + 1 :].split(".", 1)[0]
        if pid.isdigit() and not alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(path.parent / name)


def _unmarshal_without_gc(data: bytes) -> Any:
    # Millions of small containers and no cycles: collecting while they are
    # built costs more than the unmarshalling itself.
    gc.disable()
    try:
        return marshal.loads(data)
    finally:
        gc.enable()


class Saved:
    """One saved value: a magic line, a key line, then the encoded value."""

    def __init__(self, path: Path, magic: bytes, decode: Callable[[bytes], Any], encode: Callable[[Any], bytes]):
        self.path = path
        self.magic = magic
        self.decode = decode
        self.encode = encode
        self.key = ""
        self.value: Any = None
        self.problem = ""

    def read(self) -> Saved:
        try:
            with open(self.path, "rb") as handle:
                if handle.readline() != self.magic:
                    return self  # another version: recomputed quietly
                key = handle.readline().rstrip(b"\n").decode("ascii")
                self.value = self.decode(handle.read())
                self.key = key
        except FileNotFoundError:
            pass
        except (OSError, EOFError, ValueError, TypeError, UnicodeDecodeError, AttributeError, pickle.UnpicklingError) as error:
            self.problem = f"warning: cache {self.path} is damaged ({error}); recomputing it"
        return self

    def get(self, key: str, warnings: list[str]) -> Any:
        """The value if it was saved under `key`, else None."""
        if self.problem:
            warnings.append(self.problem)
        return self.value if self.key == key and self.value is not None else None

    def write(self, key: str, value: Any, warnings: list[str]) -> None:
        try:
            write_atomically(self.path, self.magic + key.encode("ascii") + b"\n" + self.encode(value))
        except OSError as error:
            warnings.append(f"warning: cannot write cache {self.path}: {error}")


def _marshalled(index_file: Path, scopes: tuple[str, ...], suffix: str, version: int) -> Saved:
    """A saved value of plain containers, under the magic line `putlint-<suffix> <version>`."""
    magic = f"putlint-{suffix} {version}\n".encode()
    return Saved(cache_file(index_file, scopes, suffix), magic, _unmarshal_without_gc, marshal.dumps)


def saved_program(index_file: Path, scopes: tuple[str, ...]) -> Saved:
    return _marshalled(index_file, scopes, "program", 4)


def saved_findings(index_file: Path, scopes: tuple[str, ...]) -> Saved:
    return Saved(
        cache_file(index_file, scopes, "findings"),
        b"putlint-findings 1\n",
        pickle.loads,
        lambda value: pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL),
    )


def saved_edges(index_file: Path, scopes: tuple[str, ...]) -> Saved:
    """The edges the saved findings' searches saw (`search.edges.EdgeRows`), under their key."""
    return _marshalled(index_file, scopes, "edges", 1)


def saved_readings(index_file: Path, scopes: tuple[str, ...]) -> Saved:
    """Site readings (`search.sources.Readings`) of the files searches read."""
    return _marshalled(index_file, scopes, "readings", 1)


def readings_key() -> str:
    return fingerprints.fingerprint(fingerprints.readings_files())


def known_readings(saved: Saved, warnings: list[str]) -> dict:
    """The saved readings when the reading code is the one they were made with, else none."""
    value = saved.get(readings_key(), warnings)
    if not isinstance(value, dict):
        return {}
    return {
        path: reading
        for path, reading in value.items()
        if isinstance(reading, tuple) and len(reading) == 2 and all(isinstance(part, bytes) for part in reading)
    }


def keep_readings(saved: Saved, known: dict, learned: dict, warnings: list[str]) -> None:
    """Save `known` with what a search of the whole tree `learned`, when it learned anything."""
    if learned:
        united = dict(known)
        merge_readings(united, learned)
        saved.write(readings_key(), united, warnings)


def program_key(index_run: IndexRun) -> str:
    """What saved program tables are computed from: the index content and the graph code."""
    return fingerprints.fingerprint(fingerprints.graph_files(), index_run.content_key)


def saved_bodies(index_file: Path, scopes: tuple[str, ...]) -> Saved:
    """The call and callback rows of the files the saved findings' searches read
    (path -> (calls, refs)), under the key of the program tables they go with:
    one read instead of a query and a decompression per file."""
    return _marshalled(index_file, scopes, "bodies", 1)


def keep_bodies(saved: Saved, index: store.Index, index_run: IndexRun, paths: Iterable[str], warnings: list[str]) -> None:
    """Save the bodies of the files at `paths`, as the index holds them now."""
    bodies = {}
    for path in sorted(paths):
        rows = index.load_file(path)
        if rows is not None:
            bodies[path] = (rows[KINDS["calls"]], rows[KINDS["refs"]])
    saved.write(program_key(index_run), bodies, warnings)


def _body_rows(calls_and_refs: tuple) -> tuple:
    """A file record with only the rows `graph.Bodies` reads."""
    rows: list[tuple] = [()] * len(FACT_KINDS)
    rows[KINDS["calls"]], rows[KINDS["refs"]] = calls_and_refs
    return tuple(rows)


def read_ahead(saved: Saved, index_file: Path, limits: Limits, paths: Iterable[str],
               bodies: Saved | None = None) -> Program | None:
    """The saved program with the bodies of `paths` read (from `bodies`, when
    saved with the same key as the tables, else from the index), while another
    process may still be updating the index: `open_program` keeps it only if
    the saved tables turn out to be those of the updated index."""
    if saved.value is None:
        return None
    try:
        reader = store.Reader(index_file)
    except store.CorruptIndex:
        return None
    known = bodies.value if bodies is not None and bodies.key == saved.key and isinstance(bodies.value, dict) else {}

    def fetch(path: str) -> tuple | None:
        rows = known.get(path)
        return reader.load_file(path) if rows is None else _body_rows(rows)

    gc.disable()  # as in `_unmarshal_without_gc`: millions of new rows, and nothing to collect
    try:
        program = Program.from_tables(saved.value, fetch, limits.fanout, limits.fanout_near)
        program.load_bodies(paths)
    except (store.CorruptIndex, ValueError, TypeError):
        return None
    finally:
        gc.enable()
        reader.close()
    program.set_fetch(None)
    return program


def open_program(
    index: store.Index,
    index_run: IndexRun,
    limits: Limits,
    warnings: list[str],
    saved: Saved | None = None,
    ready: Program | None = None,
) -> Program:
    """The program of the indexed files; bodies are fetched from `index`, which
    must stay open while the program is searched. `saved` may be read already,
    and `ready` made from it by `read_ahead`."""
    saved = saved or saved_program(index_run.index_file, index_run.scopes).read()
    key = program_key(index_run)
    tables = saved.get(key, warnings)
    program = None
    if ready is not None and tables is not None:
        program = ready
        program.set_fetch(index.load_file)
    elif tables is not None:
        try:
            program = Program.from_tables(tables, index.load_file, limits.fanout, limits.fanout_near)
        except (ValueError, TypeError) as error:
            warnings.append(f"warning: cache {saved.path} is damaged ({error}); recomputing it")
    if program is None:
        program = Program.build(index.load_rows(index_run.files), limits.fanout, limits.fanout_near)
        saved.write(key, program.tables(), warnings)
    # The tables live until the process ends: keep the collector from walking
    # their millions of containers on every full collection during the search,
    # and keep the last program from being freed object by object when its
    # command returns (most of a second; `cli.run` leaves without freeing).
    gc.freeze()
    _LAST_PROGRAM[:] = [program]
    return program


_LAST_PROGRAM: list[Program] = []
