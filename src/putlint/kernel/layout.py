"""The tree layout the call graph needs (`layout.yaml`): subsystems,
userspace programs, and which of several definitions of a name C links."""

from __future__ import annotations

from collections.abc import Callable

from . import load

_LAYOUT = load("layout.yaml")
_GENERIC = frozenset(_LAYOUT["subsystems"]["generic"])
_BY_FIRST_DIRECTORY = frozenset(_LAYOUT["subsystems"]["by_first_directory"])
_USERSPACE = tuple(_LAYOUT["userspace"])
_ALTERNATIVES = _LAYOUT["definitions"]["alternatives"]
_PREFERRED = _LAYOUT["definitions"]["preferred"]


def subsystem_of(path: str) -> str:
    """The subsystem a file belongs to, "" for generic code.

    fs/ceph/caps.c and net/ceph/osd_client.c are both "ceph"; fs/xfs/libxfs/*
    is "xfs"; drivers/block/nbd.c is "block"; fs/inode.c, mm/*.c and
    include/* are generic.
    """
    parts = path.split("/")
    if len(parts) < 3 or parts[0] in _GENERIC:
        return ""
    if parts[0] in _BY_FIRST_DIRECTORY:
        return parts[1]
    return parts[-2]


def is_userspace(path: str) -> bool:
    return path.startswith(_USERSPACE)


def linked_definitions(functions: list[int], path_of: Callable[[int], str]) -> list[int]:
    """Of several exported definitions of one name, those C links: generic
    code first, else the preferred alternative (arch/x86/), else all."""
    if len(functions) < 2:
        return functions
    generic = [f for f in functions if not path_of(f).startswith(_ALTERNATIVES)]
    if generic:
        return generic
    preferred = [f for f in functions if path_of(f).startswith(_PREFERRED)]
    return preferred or functions
