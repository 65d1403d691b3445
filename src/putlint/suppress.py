"""Suppressed findings: a `putlint: ignore[rule-id] reason` comment on the put
line or the line above, or an `[[ignore]]` entry of the allowlist
(`.putlint.toml`). A suppressed finding is kept, marked, with its reason."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import InputError
from .findings import Finding

_IGNORE_COMMENT = re.compile(r"putlint:\s*ignore\[([\w,\s-]+)\]\s*(.*?)\s*(?:\*/|$)")


@dataclass(frozen=True, slots=True)
class AllowEntry:
    rule: str
    path: str
    function: str
    reason: str


def load_allowlist(config: Path | None) -> tuple[AllowEntry, ...]:
    """`[[ignore]]` tables of `.putlint.toml`: rule, path, optional function, reason."""
    if config is None or not config.is_file():
        return ()
    try:
        data = tomllib.loads(config.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{config}: cannot read configuration: {error}") from None
    entries = []
    for index, item in enumerate(data.get("ignore", [])):
        if not isinstance(item, dict) or not {"rule", "path", "reason"} <= item.keys():
            raise InputError(f"{config}: [[ignore]] entry {index + 1} needs rule, path and reason")
        unknown = item.keys() - {"rule", "path", "function", "reason"}
        if unknown:
            raise InputError(f"{config}: [[ignore]] entry {index + 1} has unknown key(s) {', '.join(sorted(unknown))}")
        entries.append(AllowEntry(str(item["rule"]), str(item["path"]), str(item.get("function", "")), str(item["reason"])))
    return tuple(entries)


def suppression_for(finding: Finding, lines: list[str], allowlist: tuple[AllowEntry, ...]) -> str:
    """Why a finding is suppressed ("" if it is not); `lines` are its file's."""
    for number in (finding.line, finding.line - 1):
        if 1 <= number <= len(lines):
            found = _IGNORE_COMMENT.search(lines[number - 1])
            if found and finding.rule in {r.strip() for r in found.group(1).split(",")}:
                return f"comment: {found.group(2) or 'no reason given'}"
    for entry in allowlist:
        if entry.rule == finding.rule and entry.path == finding.path and entry.function in ("", finding.function):
            return f"allowlist: {entry.reason}"
    return ""


def mark_suppressed(
    findings: Iterable[Finding], read: Callable[[str], bytes | None], allowlist: tuple[AllowEntry, ...]
) -> list[Finding]:
    """The findings, each marked suppressed when the text `read(path)` gives
    (the tree's, or as a patch made it) or the allowlist says so."""
    lines_of: dict[str, list[str]] = {}
    result = []
    for finding in findings:
        if finding.path not in lines_of:
            source = read(finding.path) or b""
            lines_of[finding.path] = source.decode("utf-8", errors="replace").splitlines()
        reason = suppression_for(finding, lines_of[finding.path], allowlist)
        result.append(replace(finding, suppressed=True, suppression=reason) if reason else finding)
    return result
