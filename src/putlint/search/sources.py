"""Site facts read from the source on demand: each file parsed once for
everything read at its sites, and every function whose body was read
remembered, since what a body says decides findings (a patch that changes it
must search again).

What was read is kept per version of a file (`Readings`: the digest of its
bytes, then the bodies and put arguments read from it), so that a later run
on the same text reads it without parsing: a put's argument or a body is a
function of the file's bytes and the reading code alone."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path

from ..facts import PutArgument
from ..graph import Program
from ..parse.onsite import BodyReader
from ..sitefacts import FunctionBody

Sources = Callable[[str], "bytes | None"]  # a file's text by tree path, None when unreadable

# path -> (digest of the bytes read, pickled (bodies by first line, put arguments by
# (line, col))): plain values, so a saved set loads at once and each file is decoded
# only when a search reads it.
Readings = dict[str, tuple[bytes, bytes]]


def tree_reader(root: Path, texts: dict[str, str | None] | None = None):
    """`Sources` of a tree: a file's bytes, from `texts` (a patched
    version, None when deleted) when it holds the path, else from the tree."""

    def read(path: str) -> bytes | None:
        if texts is not None and path in texts:
            text = texts[path]
            return None if text is None else text.encode("utf-8", errors="surrogateescape")
        try:
            return (root / path).read_bytes()
        except OSError:
            return None

    return read


def digest_of(source: bytes) -> bytes:
    return hashlib.blake2b(source, digest_size=16).digest()


class _File:
    """One version of a file as this process read it: what earlier runs read
    from the same bytes, and a parse made only for what they did not."""

    def __init__(self, source: bytes, known: tuple[bytes, bytes] | None):
        self.source = source
        self.digest = digest_of(source)
        self.bodies: dict[int, FunctionBody | None] = {}
        self.arguments: dict[tuple[int, int], PutArgument | None] = {}
        try:
            if known is not None and known[0] == self.digest:
                bodies, arguments = pickle.loads(known[1])
                self.bodies, self.arguments = dict(bodies), dict(arguments)
        except Exception:  # noqa: BLE001 - a damaged saved reading is read again from the text
            self.bodies, self.arguments = {}, {}
        self.fresh = False  # read something the known readings did not have
        self._reader: BodyReader | None = None

    def _parsed(self) -> BodyReader:
        if self._reader is None:
            self._reader = BodyReader(self.source)
        self.fresh = True
        return self._reader

    def body(self, line: int) -> FunctionBody | None:
        if line not in self.bodies:
            self.bodies[line] = self._parsed().body(line)
        return self.bodies[line]

    def put_argument(self, position: tuple[int, int]) -> PutArgument | None:
        if position not in self.arguments:
            self.arguments[position] = self._parsed().put_arguments([position]).get(position)
        return self.arguments[position]

    def reading(self) -> tuple[bytes, bytes]:
        return self.digest, pickle.dumps((self.bodies, self.arguments), protocol=pickle.HIGHEST_PROTOCOL)


class SourceReader:
    """`sources(path)` gives a file's bytes; without sources (None) nothing is
    read, and every rule that needs a site fact does not apply. `known` holds
    earlier readings (see `Readings`); one made from other bytes is ignored."""

    def __init__(self, program: Program, sources: Sources | None, known: Readings | None = None):
        self.program = program
        self.sources = sources
        self.known = known or {}
        self._files: dict[str, _File | None] = {}
        self.read: set[int] = set()  # the functions whose bodies were read; swapped per context

    @property
    def available(self) -> bool:
        return self.sources is not None

    def _file(self, path: str) -> _File | None:
        if self.sources is None:
            return None
        if path not in self._files:
            source = self.sources(path)
            self._files[path] = _File(source, self.known.get(path)) if source else None
        return self._files[path]

    def body(self, function: int) -> FunctionBody | None:
        """What is known at the calls of `function`."""
        if self.sources is None:
            return None
        self.read.add(function)
        file = self._file(self.program.path_of(function))
        return file.body(self.program.func_line[function]) if file is not None else None

    def noted(self, function: int) -> None:
        """`function`'s calls decided something without its body being read."""
        self.read.add(function)

    def put_argument(self, path: str, position: tuple[int, int]) -> PutArgument | None:
        """What the put at `position` ((line, col) of its name) drops and where
        it came from, None when unknown."""
        file = self._file(path)
        return file.put_argument(position) if file is not None else None

    def fresh_readings(self) -> Readings:
        """The readings of the files this reader parsed (everything read from
        them, known before or not)."""
        return {path: file.reading() for path, file in sorted(self._files.items()) if file is not None and file.fresh}


def merge_readings(into: Readings, more: Readings) -> None:
    """Add `more` to `into`: two readings of the same bytes are united, a
    reading of other bytes replaces the older one."""
    for path, (digest, blob) in more.items():
        had = into.get(path)
        if had is None or had[0] != digest:
            into[path] = (digest, blob)
        elif had[1] != blob:
            more_bodies, more_arguments = pickle.loads(blob)
            try:
                bodies, arguments = pickle.loads(had[1])
            except Exception:  # noqa: BLE001 - a damaged saved reading gives way to the new one
                bodies, arguments = {}, {}
            united = ({**bodies, **more_bodies}, {**arguments, **more_arguments})
            into[path] = (digest, pickle.dumps(united, protocol=pickle.HIGHEST_PROTOCOL))
