"""Site facts read from the source on demand: each file parsed once for
everything read at its sites, and every function whose body was read
remembered, since what a body says decides findings (a patch that changes it
must search again)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..facts import PutArgument
from ..graph import Program
from ..parse.onsite import BodyReader
from ..sitefacts import FunctionBody

Sources = Callable[[str], "bytes | None"]  # a file's text by tree path, None when unreadable


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


class SourceReader:
    """`sources(path)` gives a file's bytes; without sources (None) nothing is
    read, and every rule that needs a site fact does not apply."""

    def __init__(self, program: Program, sources: Sources | None):
        self.program = program
        self.sources = sources
        self._files: dict[str, BodyReader | None] = {}
        self._arguments: dict[str, dict[tuple[int, int], PutArgument | None]] = {}
        self.read: set[int] = set()  # the functions whose bodies were read; swapped per context

    @property
    def available(self) -> bool:
        return self.sources is not None

    def _file(self, path: str) -> BodyReader | None:
        if self.sources is None:
            return None
        if path not in self._files:
            source = self.sources(path)
            self._files[path] = BodyReader(source) if source else None
        return self._files[path]

    def body(self, function: int) -> FunctionBody | None:
        """What is known at the calls of `function`."""
        if self.sources is None:
            return None
        self.read.add(function)
        reader = self._file(self.program.path_of(function))
        return reader.body(self.program.func_line[function]) if reader is not None else None

    def noted(self, function: int) -> None:
        """`function`'s calls decided something without its body being read."""
        self.read.add(function)

    def put_argument(self, path: str, position: tuple[int, int]) -> PutArgument | None:
        """What the put at `position` ((line, col) of its name) drops and where
        it came from, None when unknown."""
        arguments = self._arguments.setdefault(path, {})
        if position not in arguments:
            reader = self._file(path)
            arguments[position] = reader.put_arguments([position]).get(position) if reader is not None else None
        return arguments[position]
