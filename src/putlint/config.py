"""Project configuration: `.putlint.toml`, else `[tool.putlint]` of a
`pyproject.toml`, in the tree or the nearest directory above it that has one
(kernel trees have no pyproject, hence the own file first).

```toml
format = "sarif"                     # default --format of scan and check-patch
rules = ["putlint-rules"]            # more rule directories, relative to this file
source-url = "https://elixir.bootlin.com/linux/v6.12/source/{path}#L{line}"
[checks]
select = ["final-put-in-writeback"]  # run only these
ignore = ["final-put-in-reclaim"]    # skip these
[[ignore]]                           # the allowlist (see suppress.py)
rule = "final-put-in-reclaim"
path = "fs/dcache.c"
function = "dentry_unlink_inode"     # optional
reason = "why this put is never the last"
```

An option given on the command line wins over the file. Unknown keys are
warnings naming the file and line; a value of the wrong type is an input error.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .suppress import AllowEntry

OWN_FILE = ".putlint.toml"
PYPROJECT = "pyproject.toml"
_TOP_KEYS = ("format", "rules", "source-url", "checks", "ignore")
_CHECK_KEYS = ("select", "ignore")
_ALLOW_KEYS = ("rule", "path", "function", "reason")
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


@dataclass(frozen=True)
class Config:
    path: Path | None = None  # None: no configuration file
    format: str = ""
    rules: tuple[Path, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    source_url: str = ""
    allowlist: tuple[AllowEntry, ...] = ()
    warnings: tuple[str, ...] = ()
    format_where: str = ""  # "file:line" of `format`, for messages

    def check_format(self, choices) -> str:
        """The configured format, if it is one of `choices` ("" when none is configured)."""
        if self.format and self.format not in choices:
            raise InputError(
                f"{self.format_where}: format {self.format!r} is not one of {', '.join(sorted(choices))} for this command"
            )
        return self.format


def find_config(tree: Path) -> Path | None:
    """The nearest `.putlint.toml`, or `pyproject.toml` with `[tool.putlint]`, from `tree` upward."""
    for directory in (tree, *tree.parents):
        own = directory / OWN_FILE
        if own.is_file():
            return own
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and "putlint" in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def load_config(tree: Path, explicit: Path | None = None, disabled: bool = False) -> Config:
    """The configuration for a command on `tree`: `explicit` (`--config FILE`),
    none (`--no-config`), else the one `find_config` finds."""
    if disabled and explicit is not None:
        raise InputError("--config and --no-config exclude each other")
    if disabled:
        return Config()
    if explicit is not None and not explicit.is_file():
        raise InputError(f"configuration file {explicit} does not exist")
    path = explicit or find_config(tree)
    if path is None:
        return Config()
    data = _read(path)
    prefix = ""
    if path.name == PYPROJECT:
        data = data.get("tool", {}).get("putlint", {})
        prefix = "tool.putlint"
    return _parse(path, path.read_text("utf-8", errors="replace"), data, prefix)


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{path}: cannot read configuration: {error}") from None


def _parse(path: Path, text: str, data: dict, prefix: str) -> Config:
    def where(table: str, key: str | None = None) -> str:
        line = _line_of(text, ".".join(p for p in (prefix, table) if p), key)
        return f"{path}:{line}" if line else str(path)

    warnings = [
        f"{where('', key)}: warning: unknown configuration key {key!r} (known: {', '.join(_TOP_KEYS)})"
        for key in data
        if key not in _TOP_KEYS
    ]
    checks = data.get("checks", {})
    if not isinstance(checks, dict):
        raise InputError(f"{where('', 'checks')}: [checks] must be a table")
    warnings.extend(
        f"{where('checks', key)}: warning: unknown key {key!r} in [checks] (known: {', '.join(_CHECK_KEYS)})"
        for key in checks
        if key not in _CHECK_KEYS
    )
    base = path.parent
    return Config(
        path=path,
        format=_string(data, "format", where),
        rules=tuple(base / Path(item).expanduser() for item in _strings(data, "rules", where)),
        select=_strings(checks, "select", where, "checks"),
        ignore=_strings(checks, "ignore", where, "checks"),
        source_url=_string(data, "source-url", where),
        allowlist=_allowlist(data.get("ignore", []), where, warnings),
        warnings=tuple(warnings),
        format_where=where("", "format"),
    )


def _string(data: dict, key: str, where) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise InputError(f"{where('', key)}: {key} must be a string")
    return value


def _strings(data: dict, key: str, where, table: str = "") -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InputError(f"{where(table, key)}: {key} must be a list of strings")
    return tuple(value)


def _allowlist(items, where, warnings: list[str]) -> tuple[AllowEntry, ...]:
    if not isinstance(items, list):
        raise InputError(f"{where('', 'ignore')}: ignore must be [[ignore]] tables (the allowlist)")
    entries = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict) or not {"rule", "path", "reason"} <= item.keys():
            raise InputError(f"{where('ignore')}: [[ignore]] entry {number} needs rule, path and reason")
        unknown = sorted(item.keys() - set(_ALLOW_KEYS))
        if unknown:
            raise InputError(f"{where('ignore')}: [[ignore]] entry {number} has unknown key(s) {', '.join(unknown)}")
        entries.append(AllowEntry(str(item["rule"]), str(item["path"]), str(item.get("function", "")), str(item["reason"])))
    return tuple(entries)


def _line_of(text: str, table: str, key: str | None) -> int:
    """The line of `key` in `[table]` ("" for the top level), or of the table's
    header when `key` is None; 0 when it cannot be told (dotted keys)."""
    current = ""
    key_line = re.compile(rf'^\s*(["\']?){re.escape(key)}\1\s*=') if key else None
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            current = header.group(1).replace('"', "").replace(" ", "")
            if key is None and current == table:
                return number
            continue
        if key_line is not None and current == table and key_line.match(line):
            return number
    return 0
