"""What the caches are keyed by: the package's own files, found from the code
rather than listed by hand, so that a module split or a new data file cannot
leave a cache keyed by stale code.

- The index is keyed by the extractor: the modules that turn a file's bytes
  into its stored record (`parse`, and `tree`, which decides what is parsed),
  every package module they import, directly or not, and the data files those
  modules name (`queries/facts.scm`, `kernel/apis.yaml`).
- The saved program tables by the call graph, found the same way from `graph`.
- Saved site readings (what `parse.onsite` read from a file's bytes) by
  `parse.onsite` found the same way, and the module that stores them
  (`search/sources.py`); each reading also carries the digest of its file.
- Saved findings by every file of the package but the presentation modules
  (`PRESENTATION`: the command line, its options and outputs, the report
  formats, the hook; a test checks that nothing else imports them) and the
  shipped rules (the loaded rules are part of that key). A new module is in
  that key until it is listed there.

A module names a data file when one of its string literals ends with the
file's name: `load_query("facts.scm")`, `load("apis.yaml")`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

PACKAGE = "putlint"
ROOT = Path(__file__).resolve().parent
EXTRACTOR = ("putlint.parse", "putlint.tree")
GRAPH = ("putlint.graph",)
READINGS = ("putlint.parse.onsite", "putlint.sitefacts")
READINGS_STORE = "search/sources.py"
PRESENTATION = ("__main__.py", "cli.py", "hook.py", "options.py", "outputs.py", "report/")
_DATA_SUFFIXES = (".scm", ".yaml")
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]*)|import[ \t]+([^\n#]*))", re.M
)
_COMMENT = re.compile(r"#[^\n]*")
_DATA_NAME = re.compile(r"[\w/.-]+\.(?:scm|yaml)(?=[\"'])")
_NOT_ANALYSIS = (*PRESENTATION, "rules/")


def fingerprint(files: Iterable[str], *salts: str) -> str:
    """SHA-1 (hex) of `salts` and of these package files, names and contents."""
    digest = hashlib.sha1()
    for salt in salts:
        digest.update(salt.encode() + b"\0")
    for name in sorted(files):
        digest.update(name.encode() + b"\0")
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


@cache
def package_files() -> tuple[str, ...]:
    """Every module and data file of the package, relative to it."""
    return tuple(
        sorted(
            path.relative_to(ROOT).as_posix()
            for path in ROOT.rglob("*")
            if path.suffix in (".py", *_DATA_SUFFIXES) and "__pycache__" not in path.parts
        )
    )


@cache
def extractor_files() -> tuple[str, ...]:
    return closure(EXTRACTOR)


@cache
def graph_files() -> tuple[str, ...]:
    return closure(GRAPH)


@cache
def readings_files() -> tuple[str, ...]:
    return tuple(sorted({*closure(READINGS), READINGS_STORE}))


@cache
def analysis_files() -> tuple[str, ...]:
    return tuple(name for name in package_files() if not name.startswith(_NOT_ANALYSIS))


def closure(modules: Iterable[str]) -> tuple[str, ...]:
    """The files of `modules`, of the package modules they import (with the
    packages that hold them), and the data files all of these name."""
    todo = [_module_file(module) for module in modules]
    found: set[str] = set()
    while todo:
        name = todo.pop()
        if name is None or name in found:
            continue
        found.add(name)
        todo.extend(_package_inits(name))
        todo.extend(imported_files(name))
    data = [name for name in package_files() if name.endswith(_DATA_SUFFIXES)]
    named = {name for module in found for name in data if _names_file(module, name)}
    return tuple(sorted(found | named))


def imported_files(name: str) -> tuple[str, ...]:
    """Package modules that the module file `name` imports."""
    return _read_module(name)[0]


def _names_file(module: str, data: str) -> bool:
    base = data.rsplit("/", 1)[-1]
    return any(text.endswith(base) for text in _read_module(module)[1])


@cache
def _read_module(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(package modules it imports, its string literals that name a data file)
    of one module file. Read with regular expressions, not `ast`: every scan
    computes two closures, and parsing their modules would cost more than the
    rest of opening the saved program (a test checks them against `ast`)."""
    text = (ROOT / name).read_text("utf-8")
    module = _module_name(name)
    package = module if name.endswith("__init__.py") else module.rsplit(".", 1)[0]
    modules: list[str] = []
    for dots, base, names, plain in _IMPORT.findall(text):
        if plain:
            modules.extend(part.split()[0] for part in plain.split(",") if part.strip())
            continue
        base = _absolute(len(dots), base, package)
        modules.append(base)
        # `from . import facts` imports the module `facts`
        names = _COMMENT.sub("", names).strip("()")
        modules.extend(f"{base}.{part.split()[0]}" for part in names.split(",") if part.strip())
    files = sorted({file for file in map(_module_file, modules) if file is not None})
    return tuple(files), tuple(_DATA_NAME.findall(text))


def _absolute(level: int, module: str, package: str) -> str:
    if not level:
        return module
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - level + 1])
    return f"{base}.{module}" if module else base


def _module_name(name: str) -> str:
    dotted = name.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    return PACKAGE if dotted == "__init__" else f"{PACKAGE}.{dotted}"


def _module_file(module: str) -> str | None:
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    relative = module.removeprefix(PACKAGE).lstrip(".").replace(".", "/")
    for candidate in (f"{relative}.py", f"{relative}/__init__.py" if relative else "__init__.py"):
        if (ROOT / candidate).is_file():
            return candidate
    return None


def _package_inits(name: str) -> list[str]:
    """The `__init__.py` of every package that holds `name`: importing it runs them."""
    parts = name.split("/")[:-1]
    return [f"{'/'.join(parts[:depth])}/__init__.py".lstrip("/") for depth in range(len(parts) + 1)]
