"""The kernel APIs the extractor knows by name (`apis.yaml`): which calls
register a function rather than call it, which names are constants, and the
names that syscall macros define. Plain data and string functions."""

from __future__ import annotations

import re

from . import load

_APIS = load("apis.yaml")

REGISTRATION_APIS: frozenset[str] = frozenset(_APIS["registrations"])

_CONSTANT = re.compile(_APIS["constant_name"])
SYSCALL_MACRO = _APIS["syscalls"]["macro"]
_SYSCALL_MACRO = re.compile(SYSCALL_MACRO)
_SYSCALL_PREFIXES: dict[str, str] = _APIS["syscalls"]["defines"]
SYSCALL_STEMS = tuple(_SYSCALL_PREFIXES)


def is_constant_name(name: str) -> bool:
    """NULL, GFP_KERNEL, SZ_4K: names that are macros by kernel convention."""
    return bool(_CONSTANT.match(name))


def syscall_name(macro: str, first_argument: str) -> str | None:
    """`SYSCALL_DEFINE3(read, ...)` defines `sys_read`; compat ones `compat_sys_*`."""
    if not _SYSCALL_MACRO.match(macro) or not first_argument.isidentifier():
        return None
    stem = next(stem for stem in SYSCALL_STEMS if macro.startswith(stem))
    return _SYSCALL_PREFIXES[stem] + first_argument
