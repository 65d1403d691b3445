"""Which functions sit behind a member call: member types, the functions that
ops initializers and runtime assignments store, and function-pointer
variables."""

from __future__ import annotations

import re
from collections import defaultdict

from ..facts import KINDS
from .symbols import Symbols

MEMBER_PATH = re.compile(r"->|\.")

# An ops target: (function, line, file of the initializer or assignment).
OpsEntry = tuple[int, int, int]
_FILE = 2


class OpsTable:
    """Member types and ops targets of the whole tree.

    Member types only gain entries when a patch changes a file (a patch that
    changes the type of an existing member keeps the old one), and field
    owners only grow; ops targets and pointer variables are replaced exactly.
    """

    TABLES = ("member_types", "ops_by_key", "ops_by_field", "field_owners", "pointer_vars")

    def __init__(self, symbols: Symbols):
        self.symbols = symbols
        self.member_types: dict[tuple[str, str], str] = {}
        # (struct, field) / field -> the functions stored there
        self.ops_by_key: dict[tuple[str, str], list[OpsEntry]] = defaultdict(list)
        self.ops_by_field: dict[str, list[OpsEntry]] = defaultdict(list)
        self.field_owners: dict[str, set[str]] = defaultdict(set)  # field -> struct types ("" = unknown)
        self.pointer_vars: dict[tuple[int, str], list[int]] = defaultdict(list)
        # file -> the ops keys and fields with targets from it, built on the first drop_file (a
        # patch): scanning every table entry per patched file costs more than the patch itself

    # -- saved tables -------------------------------------------------------

    def tables(self) -> tuple:
        """Member types are kept only where they name a struct that has members or
        ops targets: `__u32 count` leads nowhere, and dropping such members makes
        the tables load four times faster."""
        structs = {struct_type for struct_type, _ in self.member_types} | {s for s, _ in self.ops_by_key}
        member_types = {key: type_ for key, type_ in self.member_types.items() if type_ in structs}
        return (
            member_types,
            dict(self.ops_by_key),
            dict(self.ops_by_field),
            dict(self.field_owners),
            dict(self.pointer_vars),
        )

    @classmethod
    def from_tables(cls, symbols: Symbols, values: tuple) -> OpsTable:
        ops = cls(symbols)
        for name, value in zip(cls.TABLES, values):
            current = getattr(ops, name)
            if isinstance(current, defaultdict):
                current.update(value)
            else:
                setattr(ops, name, value)
        return ops

    # -- building and patching ------------------------------------------------

    def add_file(self, file_index: int, rows: tuple) -> None:
        for struct_type, member, member_type, _pointer, _line in rows[KINDS["members"]]:
            if member_type:
                self.member_types.setdefault((struct_type, member), member_type)

    def link_file(self, file_index: int, rows: tuple) -> None:
        """The file's ops targets: once every file's definitions and member types are in."""
        for struct_type, field_path, target, _variable, line in rows[KINDS["ops_inits"]]:
            parts = field_path.split(".")
            owner = self.struct_of_path(struct_type, parts[:-1]) if struct_type else ""
            self._add_target(file_index, owner, parts[-1], target, line)
        for lhs, field, target, _caller, line, receiver_type in rows[KINDS["ops_assigns"]]:
            if not field:
                for function in self.symbols.resolve_name(target, file_index):
                    self.pointer_vars[(file_index, lhs)].append(function)
                continue
            parts = MEMBER_PATH.split(lhs)
            owner = self.struct_of_path(receiver_type, parts[1:-1]) if receiver_type else ""
            self._add_target(file_index, owner, field, target, line)

    def _add_target(self, file_index: int, struct_type: str, field: str, target: str, line: int) -> None:
        self.field_owners[field].add(struct_type)
        for function in self.symbols.resolve_name(target, file_index):
            entry = (function, line, file_index)
            if struct_type:
                self.ops_by_key[(struct_type, field)].append(entry)
            self.ops_by_field[field].append(entry)

    def drop_file(self, file_index: int, old: tuple | None, new: tuple | None) -> None:
        if old:
            for struct_type, member, member_type, _pointer, _line in old[KINDS["members"]]:
                if self.member_types.get((struct_type, member)) == member_type:
                    del self.member_types[(struct_type, member)]
        for key in [key for key in self.pointer_vars if key[0] == file_index]:
            del self.pointer_vars[key]
        # The file's entries sit under the fields its linked rows name, and under
        # (struct, field) for a struct that field has had an entry for.
        fields = {field_path.split(".")[-1] for _s, field_path, *_ in old[KINDS["ops_inits"]]} if old else set()
        if old:
            fields |= {field for _lhs, field, *_ in old[KINDS["ops_assigns"]] if field}
        for field in sorted(fields):
            self._drop_entries(self.ops_by_field, field, file_index)
            for struct_type in self.field_owners.get(field, ()):
                if struct_type:
                    self._drop_entries(self.ops_by_key, (struct_type, field), file_index)

    @staticmethod
    def _drop_entries(table: dict, key, file_index: int) -> None:
        entries = table.get(key)
        if entries and any(entry[_FILE] == file_index for entry in entries):
            table[key] = [entry for entry in entries if entry[_FILE] != file_index]

    # -- lookups ------------------------------------------------------------

    def member_type(self, struct_type: str, member: str) -> str:
        return self.member_types.get((struct_type, member), "")

    def struct_of_path(self, root_type: str, members: list[str]) -> str:
        """Type reached by following `members` from `root_type`, "" when unknown."""
        current = root_type
        for member in members:
            if not current:
                return ""
            current = self.member_type(current, member.strip("()*&"))
        return current

    def ops_targets(self, struct_type: str, field: str) -> list[int]:
        entries = self.ops_by_key.get((struct_type, field), ())
        return sorted({function for function, _line, _file in entries} - self.symbols.dead)
