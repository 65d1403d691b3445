"""The one module that touches tree-sitter: C source bytes in, facts out.

One combined query (queries/facts.scm) walks the tree once; its captures are
handed, by capture name, to handlers listed in a table. Handlers append rows in
the field order of the fact dataclasses, so a worker process can ship them
without building objects (`extract_rows`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from importlib import resources

import tree_sitter
import tree_sitter_c

from .. import facts
from ..cnames import QUEUEING_APIS, REGISTRATION_APIS, is_constant_name, syscall_name

LANGUAGE = tree_sitter.Language(tree_sitter_c.language())


def _load_query(name: str) -> tree_sitter.Query:
    return tree_sitter.Query(LANGUAGE, resources.files("putlint.queries").joinpath(name).read_text("utf-8"))


FACTS_QUERY = _load_query("facts.scm")
_PARSER = tree_sitter.Parser(LANGUAGE)

_OPEN_BRACE_LINE = re.compile(rb"^\{", re.M)
_CLOSE_BRACE_LINE = re.compile(rb"^\}", re.M)
_HEAD_STOP = re.compile(rb"[;}]\s*$|^\s*$|^#")
_HEAD_NAME = re.compile(rb"([A-Za-z_]\w*)\s*\(")
# Attribute macros that take arguments and come before a function's name.
_HEAD_ATTRIBUTES = frozenset(
    {b"__printf", b"__scanf", b"__attribute__", b"__aligned", b"__section", b"__diag_ignore", b"__alloc_size",
     b"__malloc", b"__must_hold", b"__acquires", b"__releases", b"__cond_acquires", b"EXPORT_SYMBOL"}
)
_DECLARE_ARGS = re.compile(rb"\(\s*(\w+)\s*,\s*&?\s*(\w+)")
_SPACES = re.compile(r"\s+")
_STORAGE_WORDS = re.compile(rb"\b(static|inline|__always_inline|__inline__|__inline)\b")
_TRANSPARENT_DECLARATORS = frozenset(
    {"init_declarator", "array_declarator", "parenthesized_declarator", "attributed_declarator"}
)


def extract(path: str, source: bytes) -> facts.FileFacts:
    """All facts of one file (see `facts.FileFacts`)."""
    return facts.FileFacts.decode(path, extract_rows(source))


def extract_rows(source: bytes) -> tuple:
    """Facts of one file as plain row tuples, in `facts.FACT_KINDS` order."""
    tree = _PARSER.parse(source)
    return _Extraction(source, tree.root_node).run()


def _text(node) -> str:
    return node.text.decode("utf-8", "replace")


def _compact(node) -> str:
    return _SPACES.sub("", _text(node))


def _line(node) -> int:
    return node.start_point[0] + 1


def _identifier_of(node) -> str | None:
    """`fn` for `fn`, `&fn`, `(fn)` and casts of them; None for anything else."""
    while node is not None:
        kind = node.type
        if kind == "identifier":
            return _text(node)
        if kind == "pointer_expression" and node.child(0).type == "&":
            node = node.child_by_field_name("argument")
        elif kind == "parenthesized_expression":
            node = node.named_child(0)
        elif kind == "cast_expression":
            node = node.child_by_field_name("value")
        else:
            return None
    return None


def _declared_name(declarator) -> tuple[str | None, int, bool]:
    """(name, pointer depth, is function) of a (field/init/plain) declarator."""
    pointer = 0
    is_function = False
    node = declarator
    while node is not None:
        kind = node.type
        if kind in ("identifier", "field_identifier", "type_identifier"):
            return _text(node), pointer, is_function
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


def _type_name(type_node) -> str:
    """Struct/union tag or typedef name of a type specifier, "" otherwise."""
    if type_node is None:
        return ""
    kind = type_node.type
    if kind in ("struct_specifier", "union_specifier"):
        name = type_node.child_by_field_name("name")
        return _text(name) if name is not None else ""
    if kind == "type_identifier":
        return _text(type_node)
    return ""


def _declared_types(nodes, types: dict[str, str]) -> dict[str, str]:
    """Add name -> struct/typedef type for each (parameter) declaration node."""
    for node in nodes:
        type_name = _type_name(node.child_by_field_name("type"))
        if not type_name:
            continue
        for declarator in node.children_by_field_name("declarator"):
            name, _, is_function = _declared_name(declarator)
            if name is not None and not is_function:
                types.setdefault(name, type_name)
    return types


def _receiver(node) -> str | None:
    """The first name of a member path: `mapping` in `mapping->a_ops->f`."""
    while node is not None and node.type == "field_expression":
        node = node.child_by_field_name("argument")
    while node is not None and node.type in ("parenthesized_expression", "pointer_expression"):
        node = node.named_child(0) if node.type == "parenthesized_expression" else node.child_by_field_name("argument")
    if node is not None and node.type == "identifier":
        return _text(node)
    return None


class _Extraction:
    """One file's extraction; handlers fill the row lists."""

    def __init__(self, source: bytes, root):
        self.source = source
        self.root = root
        self.scopes: list[tuple[int, int, int, str, object]] = []  # start, body start, end, name, node
        self.starts: list[int] = []
        self.rows: dict[str, list] = {name: [] for name, _ in facts.FACT_KINDS}
        self.seen_refs: set[tuple[int, bytes]] = set()
        self.flags: dict[int, str] = {}  # call start byte -> its GFP argument
        self.last_body = (0, 0, -1)  # body start, end, scope index of the last lookup
        self.file_functions: set[bytes] = set()
        self.names: dict[bytes, str] = {}  # one str per distinct callee name: decoded once, shared
        self.block_types: dict[int, dict[str, str]] = {}
        self.global_types: dict[str, str] | None = None
        self.errors: list[int] = []

    def run(self) -> tuple:
        captures = tree_sitter.QueryCursor(FACTS_QUERY).captures(self.root)
        self._functions(captures.get("function", ()), captures.get("syscall", ()))
        self._lost_functions()
        self.file_functions = {row[0].encode() for row in self.rows["functions"]}
        self.file_functions.update(node.text for node in captures.get("prototype", ()))
        for name, handler in _HANDLERS:
            nodes = captures.get(name)
            if nodes:
                if name in _FIRST_WINS:
                    # captures() lists are not in source order (it varies with the hash
                    # seed); where the first occurrence wins, make it the first in the file.
                    nodes.sort(key=_start_byte)
                handler(self, nodes)
        flags = self.flags
        self.rows["calls"] = [(*call[:-1], flags.get(call[-1], "")) for call in self.rows["calls"]]
        if self.root.has_error:
            self._collect_errors(self.root)
        if self.errors:
            first = min(self.errors)
            self.rows["diagnostics"].append(
                (first, "parse-error", f"{len(self.errors)} ERROR/MISSING node(s), first at line {first}")
            )
        return tuple(tuple(sorted(self.rows[name], key=_SOURCE_ORDER[name])) for name, _ in facts.FACT_KINDS)

    def _scope_index(self, byte: int, body_only: bool = True) -> int:
        """Index in `scopes` of the function whose body holds byte, or -1."""
        last = self.last_body
        if body_only and last[0] <= byte < last[1]:
            return last[2]  # captures come in source order: mostly the same function again
        index = bisect_right(self.starts, byte) - 1
        if index < 0:
            return -1
        start, body_start, end, _, _ = self.scopes[index]
        if byte >= end or (body_only and byte < body_start):
            return -1
        if body_only:
            self.last_body = (body_start, end, index)
        return index

    def _caller(self, byte: int) -> str:
        index = self._scope_index(byte)
        return self.scopes[index][3] if index >= 0 else ""

    def _type_of(self, name: str, node) -> str:
        """Declared type of the local, parameter or global `name` seen from node.

        Walks the enclosing blocks outwards, as C scoping does, so only the
        few member calls and assignments that need a type pay for it.
        """
        block = node.parent
        while block is not None:
            kind = block.type
            if kind == "compound_statement" or kind == "for_statement":
                types = self.block_types.get(block.id)
                if types is None:
                    declarations = [c for c in block.named_children if c.type == "declaration"]
                    types = self.block_types[block.id] = _declared_types(declarations, {})
                if name in types:
                    return types[name]
            elif kind == "function_definition":
                declarator = block.child_by_field_name("declarator")
                while declarator is not None and declarator.type != "function_declarator":
                    declarator = declarator.child_by_field_name("declarator")
                parameters = declarator.child_by_field_name("parameters") if declarator is not None else None
                if parameters is not None:
                    found = _declared_types(
                        [c for c in parameters.named_children if c.type == "parameter_declaration"], {}
                    )
                    if name in found:
                        return found[name]
                break
            block = block.parent
        if self.global_types is None:
            top = [child for child in self.root.named_children if child.type == "declaration"]
            self.global_types = _declared_types(top, {})
        return self.global_types.get(name, "")

    # -- functions ----------------------------------------------------------

    def _functions(self, definitions, syscalls) -> None:
        candidates = []
        for node in definitions:
            body = node.child_by_field_name("body")
            name = self._function_name(node) if body is not None else None
            body_start = body.start_byte if body is not None else node.start_byte
            candidates.append((node.start_byte, node.end_byte, body_start, name, node, node.end_point[0] + 1))
        for head in syscalls:
            body = head.next_named_sibling
            call = head if head.type == "call_expression" else head.named_child(0)
            name = syscall_name(_text(call.child_by_field_name("function")), self._first_argument(call))
            if name and body is not None:
                candidates.append((head.start_byte, body.end_byte, body.start_byte, name, head, body.end_point[0] + 1))
        candidates.sort(key=lambda c: (c[0], -c[1]))
        end_of_last = -1
        for start, end, body_start, name, node, end_line in candidates:
            if start < end_of_last:
                continue  # nested nameless "definition" from a macro loop: keep the outer caller
            end_of_last = end
            if name is None:
                continue
            self.scopes.append((start, body_start, end, name, node))
            self.starts.append(start)
            prefix = self.source[start:body_start]
            cut = prefix.find(b"(")
            words = set(_STORAGE_WORDS.findall(prefix[:cut] if cut >= 0 else prefix))
            self.rows["functions"].append(
                (name, node.start_point[0] + 1, end_line, b"static" in words, bool(words - {b"static"}))
            )

    def _lost_functions(self) -> None:
        """Function-shaped `{` lines in column 0 that open no function found."""
        source = self.source
        bodies = {scope[1] for scope in self.scopes}
        line, counted = 1, 0
        for match in _OPEN_BRACE_LINE.finditer(source):
            start = match.start()
            if start in bodies:
                continue
            line += source.count(b"\n", counted, start)
            counted = start
            head = self._head_before(start)
            if not head.rstrip().endswith(b")"):
                continue  # a struct, an initializer, a block of odd style
            names = [n for n in _HEAD_NAME.findall(head) if n not in _HEAD_ATTRIBUTES]
            close = _CLOSE_BRACE_LINE.search(source, start)
            end = line + source.count(b"\n", start, close.start()) if close else line
            self.rows["lost"].append((names[0].decode("utf-8", "replace") if names else "", line, end))

    def _head_before(self, start: int) -> bytes:
        """The lines before `start` back to a statement end, a blank line or a directive."""
        lines = self.source[max(0, start - 2000) : start].split(b"\n")[:-1]
        head: list[bytes] = []
        for text in reversed(lines[-8:]):
            if _HEAD_STOP.search(text):
                break
            head.append(text)
        return b"\n".join(reversed(head))

    @staticmethod
    def _first_argument(call) -> str:
        arguments = call.child_by_field_name("arguments") if call is not None else None
        if arguments is None or arguments.named_child_count == 0:
            return ""
        return _text(arguments.named_child(0))

    @staticmethod
    def _function_name(node) -> str | None:
        declarator = node.child_by_field_name("declarator")
        type_node = node.child_by_field_name("type")
        if (
            declarator is not None
            and declarator.type == "parenthesized_declarator"
            and type_node is not None
            and type_node.type in ("identifier", "type_identifier")
        ):
            # SYSCALL_DEFINE0(sync) { ... }
            inner = declarator.named_child(0)
            return syscall_name(_text(type_node), _text(inner) if inner is not None else "")
        while declarator is not None and declarator.type != "function_declarator":
            if declarator.type not in ("pointer_declarator", "parenthesized_declarator", "attributed_declarator"):
                return None
            inner = declarator.child_by_field_name("declarator")
            declarator = inner if inner is not None else declarator.named_child(0)
        if declarator is None:
            return None
        name_node = declarator.child_by_field_name("declarator")
        if name_node is None or name_node.type != "identifier":
            return None
        name = _text(name_node)
        if name.startswith(("SYSCALL_DEFINE", "COMPAT_SYSCALL_DEFINE")):
            parameters = declarator.child_by_field_name("parameters")
            first = parameters.named_child(0) if parameters is not None else None
            return syscall_name(name, _text(first) if first is not None else "")
        return name

    # -- calls, registrations, callbacks --------------------------------------

    def _direct_calls(self, nodes) -> None:
        calls = self.rows["calls"]
        scopes = self.scopes
        names = self.names
        for callee in nodes:
            raw = callee.text
            name = names.get(raw)
            if name is None:
                name = names[raw] = raw.decode("utf-8", "replace")
            registration = REGISTRATION_APIS.get(name)
            if registration is not None:
                self._registration(name, registration, callee.parent)
                continue
            start = callee.start_byte
            last = self.last_body
            scope = last[2] if last[0] <= start < last[1] else self._scope_index(start)
            if scope < 0:
                continue
            caller = scopes[scope][3]
            line, col = callee.start_point
            calls.append((caller, name, line + 1, col + 1, facts.DIRECT, "", start))
            queueing = QUEUEING_APIS.get(name)
            if queueing is not None:
                self._queueing(name, queueing, caller, callee.parent)

    def _indirect_calls(self, nodes) -> None:
        calls = self.rows["calls"]
        for callee in nodes:
            scope = self._scope_index(callee.start_byte)
            if scope < 0:
                continue
            kind = callee.type
            receiver_type = ""
            if kind == "field_expression":
                call_kind = facts.MEMBER
                receiver = _receiver(callee)
                if receiver is not None:
                    receiver_type = self._type_of(receiver, callee)
            elif kind == "parenthesized_expression" and callee.named_child(0).type == "pointer_expression":
                call_kind = facts.POINTER
            else:
                call_kind = facts.OTHER
            line, col = callee.start_point
            calls.append(
                (self.scopes[scope][3], _compact(callee), line + 1, col + 1, call_kind, receiver_type, callee.start_byte)
            )

    def _refs(self, nodes) -> None:
        """Identifier arguments that name a function this file defines or declares.

        Callbacks are nearly always static functions of the same file or
        declared in it; restricting to those keeps locals out cheaply.
        """
        refs = self.rows["refs"]
        seen = self.seen_refs
        functions = self.file_functions
        for node in nodes:
            raw = node.text
            if raw not in functions:
                if raw.startswith((b"GFP_", b"__GFP_")):
                    self._note_flags(node, raw)
                continue
            scope = self._scope_index(node.start_byte)
            if scope < 0 or (scope, raw) in seen:
                continue
            seen.add((scope, raw))
            arguments = node.parent if node.parent.type == "argument_list" else node.parent.parent
            callee = arguments.parent.child_by_field_name("function")
            if callee is None:
                continue
            via = _text(callee) if callee.type == "identifier" else _compact(callee)
            if via in REGISTRATION_APIS:
                continue
            line, col = node.start_point
            refs.append((self.scopes[scope][3], raw.decode("utf-8", "replace"), via, line + 1, col + 1))

    def _note_flags(self, argument, text: bytes) -> None:
        """Remember the GFP argument of the call that `argument` is passed to."""
        arguments = argument.parent if argument.parent.type == "argument_list" else argument.parent.parent
        self.flags.setdefault(arguments.parent.start_byte, _SPACES.sub("", text.decode("utf-8", "replace")))

    def _flag_expressions(self, nodes) -> None:
        for node in nodes:
            raw = node.text
            if b"GFP_" in raw:
                self._note_flags(node, raw)

    def _registration(self, api, spec, call) -> None:
        handler_index, obj_index = spec
        arguments = call.child_by_field_name("arguments")
        args = arguments.named_children if arguments is not None else []
        if handler_index >= len(args):
            return
        handler = _identifier_of(args[handler_index]) or _compact(args[handler_index])
        obj = _compact(args[obj_index]) if obj_index is not None and obj_index < len(args) else ""
        self.rows["registrations"].append((api, handler, obj, self._caller(call.start_byte), _line(call)))

    def _queueing(self, api, spec, caller, call) -> None:
        queue_index, work_index, default_queue = spec
        arguments = call.child_by_field_name("arguments")
        args = arguments.named_children if arguments is not None else []
        if work_index >= len(args):
            return
        queue = _compact(args[queue_index]) if queue_index is not None else default_queue
        self.rows["queueings"].append((api, queue, _compact(args[work_index]), caller, _line(call)))

    def _declares(self, nodes) -> None:
        for node in nodes:
            api = _text(node.child_by_field_name("name"))
            found = _DECLARE_ARGS.search(node.text)
            if found is None and node.parent is not None:
                # The handler can land outside the macro node: read the statement.
                found = _DECLARE_ARGS.search(node.parent.text)
            if found is None:
                continue
            obj, handler = (group.decode("utf-8", "replace") for group in found.groups())
            self.rows["registrations"].append((api, handler, obj, self._caller(node.start_byte), _line(node)))

    # -- function pointers stored in objects ------------------------------

    def _inits(self, nodes) -> None:
        cache: dict[int, tuple[str, str, list[str]]] = {}
        for node in nodes:
            target = _identifier_of(node.child_by_field_name("value"))
            if target is None or is_constant_name(target):
                continue
            path = [_text(d.named_child(0)) for d in node.children if d.type == "field_designator"]
            if not path:
                continue
            owner = node.parent
            key = owner.id if owner is not None else -1
            if key not in cache:
                cache[key] = self._initialized_object(owner)
            struct_type, variable, outer = cache[key]
            self.rows["ops_inits"].append((struct_type, ".".join(outer + path), target, variable, _line(node)))

    @staticmethod
    def _initialized_object(node) -> tuple[str, str, list[str]]:
        """(type, variable, designators of enclosing pairs) of an initializer list."""
        outer: list[str] = []
        while node is not None:
            kind = node.type
            if kind == "initializer_list":
                node = node.parent
            elif kind == "initializer_pair":
                outer[:0] = [_text(d.named_child(0)) for d in node.children if d.type == "field_designator"]
                node = node.parent
            elif kind == "init_declarator":
                declaration = node.parent
                name, _, _ = _declared_name(node)
                type_node = declaration.child_by_field_name("type") if declaration is not None else None
                return _type_name(type_node), name or "", outer
            elif kind == "compound_literal_expression":
                descriptor = node.child_by_field_name("type")
                return _type_name(descriptor.child_by_field_name("type") if descriptor else None), "", outer
            else:
                break
        return "", "", outer

    def _assigns(self, nodes) -> None:
        for node in nodes:
            target = _identifier_of(node.child_by_field_name("right"))
            if target is None or is_constant_name(target):
                continue
            left = node.child_by_field_name("left")
            scope = self._scope_index(node.start_byte)
            caller = self.scopes[scope][3] if scope >= 0 else ""
            field = ""
            receiver_type = ""
            if left.type == "field_expression":
                field = _text(left.child_by_field_name("field"))
                receiver = _receiver(left)
                if receiver is not None:
                    receiver_type = self._type_of(receiver, node)
            self.rows["ops_assigns"].append((_compact(left), field, target, caller, _line(node), receiver_type))

    # -- types --------------------------------------------------------------

    def _members(self, nodes) -> None:
        members = self.rows["members"]
        for node in nodes:
            owner = self._member_owner(node)
            if not owner:
                continue
            type_name = _type_name(node.child_by_field_name("type"))
            for declarator in node.children_by_field_name("declarator"):
                name, pointer, is_function = _declared_name(declarator)
                if name is not None:
                    members.append((owner, name, "(*)()" if is_function else type_name, pointer, _line(declarator)))

    @staticmethod
    def _member_owner(field_declaration) -> str:
        """Struct/union that owns a member; anonymous unions belong to their parent."""
        node = field_declaration.parent
        while node is not None:
            if node.type == "field_declaration_list":
                owner = node.parent
                if owner is None:
                    return ""
                name = owner.child_by_field_name("name")
                if name is not None:
                    return _text(name)
                holder = owner.parent
                if holder is not None and holder.type == "type_definition":
                    typedef, _, _ = _declared_name(holder.child_by_field_name("declarator"))
                    return typedef or ""
                node = holder
            elif node.type == "field_declaration":
                node = node.parent
            else:
                return ""
        return ""

    def _collect_errors(self, node) -> None:
        """Lines of ERROR and MISSING nodes, descending only where has_error says."""
        stack = [node]
        while stack:
            node = stack.pop()
            if node.is_error or node.is_missing:
                self.errors.append(node.start_point[0] + 1)
                if node.is_missing:
                    continue
            stack.extend(child for child in node.children if child.has_error)


def _source_order(kind: type):
    """Sort key of a row of `kind`: its line, then its column where it has one."""
    names = facts.field_names(kind)
    line = names.index("line")
    if "col" in names:
        col = names.index("col")
        return lambda row: (row[line], row[col])
    return lambda row: row[line]


_SOURCE_ORDER = {name: _source_order(kind) for name, kind in facts.FACT_KINDS}

_FIRST_WINS = frozenset({"ref", "flags"})


def _start_byte(node) -> int:
    return node.start_byte


# Capture name -> handler, in the order they run (functions come first, in run()).
_HANDLERS = (
    ("call.direct", _Extraction._direct_calls),
    ("call.indirect", _Extraction._indirect_calls),
    ("ref", _Extraction._refs),
    ("flags", _Extraction._flag_expressions),
    ("declare", _Extraction._declares),
    ("init", _Extraction._inits),
    ("assign", _Extraction._assigns),
    ("member", _Extraction._members),
)
