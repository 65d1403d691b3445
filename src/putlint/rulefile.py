"""Reading one rule file: a YAML mapping that remembers the line of every key,
rejects a key given twice, and reads values with errors naming file and line."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import yaml

from .errors import InputError


class Mapping:
    """A YAML mapping node with its keys' lines."""

    def __init__(self, node: yaml.MappingNode, source: str):
        self.source = source
        self.line = node.start_mark.line + 1
        self.items: dict[str, yaml.Node] = {}
        self.key_lines: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.error(key.start_mark.line + 1, "keys must be plain words")
            line = key.start_mark.line + 1
            if key.value in self.items:
                raise self.error(line, f"key {key.value!r} is given twice (first on line {self.key_lines[key.value]})")
            self.items[key.value] = value
            self.key_lines[key.value] = line

    @property
    def where(self) -> str:
        """`file:line` of this mapping, as evidence and notes cite a rule."""
        return f"{self.source}:{self.line}"

    def error(self, line: int, message: str) -> InputError:
        return InputError(f"{self.source}:{line}: {message}")

    def check_keys(self, allowed: set[str]) -> None:
        for key, line in self.key_lines.items():
            if key not in allowed:
                raise self.error(line, f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")

    def text(self, key: str, required: bool = True, default: str = "") -> str:
        node = self.items.get(key)
        if node is None:
            if required:
                raise self.error(self.line, f"missing key {key!r}")
            return default
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith((":null", ":bool")):
            raise self.error(node.start_mark.line + 1, f"{key!r} must be text")
        return str(node.value).strip()

    def words(self, key: str, required: bool = False) -> tuple[str, ...]:
        node = self.items.get(key)
        if node is None:
            if required:
                raise self.error(self.line, f"missing key {key!r}")
            return ()
        if not isinstance(node, yaml.SequenceNode) or not all(isinstance(i, yaml.ScalarNode) for i in node.value):
            raise self.error(node.start_mark.line + 1, f"{key!r} must be a list of words")
        return tuple(str(item.value).strip() for item in node.value)

    def mapping(self, key: str) -> Mapping | None:
        node = self.items.get(key)
        if node is None:
            return None
        if not isinstance(node, yaml.MappingNode):
            raise self.error(self.key_lines[key], f"{key} must be a mapping")
        return Mapping(node, self.source)

    def mappings(self, key: str, required: bool = False) -> list[Mapping]:
        node = self.items.get(key)
        if node is None:
            if required:
                raise self.error(self.line, f"missing key {key!r}")
            return []
        if not isinstance(node, yaml.SequenceNode) or not all(isinstance(i, yaml.MappingNode) for i in node.value):
            raise self.error(node.start_mark.line + 1, f"{key!r} must be a list of mappings")
        return [Mapping(item, self.source) for item in node.value]


def read_rule_file(path: Path | resources.abc.Traversable, label: str) -> Mapping:
    try:
        source = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{label}: cannot read rule file: {error}") from None
    try:
        node = yaml.compose(source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{label}{where}: not valid YAML: {getattr(error, 'problem', error)}") from None
    if not isinstance(node, yaml.MappingNode):
        raise InputError(f"{label}: a rule file must be a mapping")
    return Mapping(node, label)


# Readers of plain values: (mapping, key) -> value, as `ruleset.rule_key` takes them.


def text(mapping: Mapping, key: str) -> str:
    return mapping.text(key, required=False)


def required_text(mapping: Mapping, key: str) -> str:
    return mapping.text(key)


def words(mapping: Mapping, key: str) -> tuple[str, ...]:
    return mapping.words(key)


def required_words(mapping: Mapping, key: str) -> tuple[str, ...]:
    return mapping.words(key, required=True)


def number(mapping: Mapping, key: str) -> int | None:
    """A positive whole number, None when the key is absent."""
    node = mapping.items.get(key)
    if node is None:
        return None
    if not isinstance(node, yaml.ScalarNode) or not node.value.isdigit() or int(node.value) < 1:
        raise mapping.error(node.start_mark.line + 1, f"{key!r} must be a positive whole number")
    return int(node.value)


def identifier(mapping: Mapping, key: str) -> str:
    value = mapping.text(key)
    if not re.fullmatch(r"[a-z][a-z0-9-]*", value):
        raise mapping.error(mapping.key_lines[key], f"{key} {value!r} must be lower-case words joined by '-'")
    return value


def check_regex(item: Mapping, key: str, pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise item.error(item.key_lines[key], f"{key} is not a regular expression: {error}") from None
    return pattern


def check_condition(item: Mapping, key: str, condition: str) -> str:
    if "$ARG" not in condition or condition.count("(") != condition.count(")"):
        raise item.error(item.key_lines[key], f"{key} {condition!r} must be a C condition on $ARG")
    return condition
