"""Syntax-tree helpers shared by the extractor (`parse`) and the on-demand
readings (`parse.onsite`): the parser, query loading, and the node readings
both need. Part of the extractor: it is in the index's fingerprint."""

from __future__ import annotations

import re
from importlib import resources

import tree_sitter
import tree_sitter_c

LANGUAGE = tree_sitter.Language(tree_sitter_c.language())
PARSER = tree_sitter.Parser(LANGUAGE)

_SPACES = re.compile(r"\s+")
_TRANSPARENT_DECLARATORS = frozenset(
    {"init_declarator", "array_declarator", "parenthesized_declarator", "attributed_declarator"}
)


def load_query(name: str) -> tree_sitter.Query:
    """A query of `putlint/queries`, compiled."""
    return tree_sitter.Query(LANGUAGE, resources.files("putlint.queries").joinpath(name).read_text("utf-8"))


def node_text(node) -> str:
    return node.text.decode("utf-8", "replace")


def compact_text(node) -> str:
    """The node's text with all white space removed: `a->b`, `GFP_NOFS|__GFP_NOFAIL`."""
    return _SPACES.sub("", node_text(node))


def without_spaces(text: str) -> str:
    return _SPACES.sub("", text)


def line_of(node) -> int:
    """1-based line where the node starts."""
    return node.start_point[0] + 1


def declared_name(declarator) -> tuple[str | None, int, bool]:
    """(name, pointer depth, is function) of a (field/init/plain) declarator."""
    pointer = 0
    is_function = False
    node = declarator
    while node is not None:
        kind = node.type
        if kind in ("identifier", "field_identifier", "type_identifier"):
            return node_text(node), pointer, is_function
        if kind == "pointer_declarator":
            pointer += 1
        elif kind == "function_declarator":
            is_function = True
        elif kind not in _TRANSPARENT_DECLARATORS:
            return None, pointer, is_function
        inner = node.child_by_field_name("declarator")
        if inner is None and kind == "parenthesized_declarator":
            inner = node.named_child(0)
        node = inner
    return None, pointer, is_function


def parameter_list(definition):
    """The parameter list of a function definition, None when it has none."""
    declarator = definition.child_by_field_name("declarator")
    while declarator is not None and declarator.type != "function_declarator":
        declarator = declarator.child_by_field_name("declarator")
    return declarator.child_by_field_name("parameters") if declarator is not None else None
