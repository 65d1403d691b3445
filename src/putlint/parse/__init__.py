"""The one module that touches tree-sitter: C source bytes in, facts out.

One combined query (queries/facts.scm) walks the tree once; its captures are
handed, by capture name, to handlers listed in a table. Handlers make plain row
tuples through `facts.row_maker`, which names every field, so a worker process
can ship them without building objects (`extract_rows`).
"""

from __future__ import annotations

import re
from bisect import bisect_right

import tree_sitter

from .. import facts
from ..facts import CALL_ROW, FUNCTION_ROW
from ..kernel.apis import REGISTRATION_APIS, SYSCALL_STEMS, is_constant_name, syscall_name
from ._lost import lost_functions
from ._nodes import PARSER, compact_text, declared_name, line_of, load_query, node_text, parameter_list, without_spaces

FACTS_QUERY = load_query("facts.scm")

_DIRECT = facts.DIRECT
_STORAGE_WORDS = re.compile(rb"\b(static|inline|__always_inline|__inline__|__inline)\b")

_function_row = facts.row_maker(facts.Function)
_call_row = facts.row_maker(facts.Call)
_ref_row = facts.row_maker(facts.FunctionRef)
_ops_init_row = facts.row_maker(facts.OpsInit)
_ops_assign_row = facts.row_maker(facts.OpsAssign)
_member_row = facts.row_maker(facts.Member)
_diagnostic_row = facts.row_maker(facts.Diagnostic)


def extract(path: str, source: bytes) -> facts.FileFacts:
    """All facts of one file (see `facts.FileFacts`)."""
    return facts.FileFacts.decode(path, extract_rows(source))


def extract_rows(source: bytes) -> tuple:
    """Facts of one file as plain row tuples, in `facts.FACT_KINDS` order."""
    tree = PARSER.parse(source)
    return _Extraction(source, tree.root_node).run()


def _identifier_of(node) -> str | None:
    """`fn` for `fn`, `&fn`, `(fn)` and casts of them; None for anything else."""
    while node is not None:
        kind = node.type
        if kind == "identifier":
            return node_text(node)
        if kind == "pointer_expression" and node.child(0).type == "&":
            node = node.child_by_field_name("argument")
        elif kind == "parenthesized_expression":
            node = node.named_child(0)
        elif kind == "cast_expression":
            node = node.child_by_field_name("value")
        else:
            return None
    return None


def _type_name(type_node) -> str:
    """Struct/union tag or typedef name of a type specifier, "" otherwise."""
    if type_node is None:
        return ""
    kind = type_node.type
    if kind in ("struct_specifier", "union_specifier"):
        name = type_node.child_by_field_name("name")
        return node_text(name) if name is not None else ""
    if kind == "type_identifier":
        return node_text(type_node)
    return ""


def _declared_types(nodes, types: dict[str, str]) -> dict[str, str]:
    """Add name -> struct/typedef type for each (parameter) declaration node."""
    for node in nodes:
        type_name = _type_name(node.child_by_field_name("type"))
        if not type_name:
            continue
        for declarator in node.children_by_field_name("declarator"):
            name, _, is_function = declared_name(declarator)
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
        return node_text(node)
    return None


class _Types:
    """Declared types of the names of one file, read only where a member call
    or an assignment needs one."""

    def __init__(self, root):
        self.root = root
        self.block_types: dict[int, dict[str, str]] = {}
        self.global_types: dict[str, str] | None = None

    def of(self, name: str, node) -> str:
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
                parameters = parameter_list(block)
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


class _Scopes:
    """The function definitions of one file by byte range: which one's body
    holds a capture."""

    def __init__(self):
        self.names: list[str] = []
        self.ranges: list[tuple[int, int, int]] = []  # start, body start, end
        self.starts: list[int] = []
        self.last_body = (0, 0, -1)  # body start, end, index of the last lookup

    def add(self, start: int, body_start: int, end: int, name: str) -> None:
        self.names.append(name)
        self.ranges.append((start, body_start, end))
        self.starts.append(start)

    def index(self, byte: int) -> int:
        """Index of the function whose body holds `byte`, or -1."""
        last = self.last_body
        if last[0] <= byte < last[1]:
            return last[2]  # captures come in source order: mostly the same function again
        index = bisect_right(self.starts, byte) - 1
        if index < 0:
            return -1
        _start, body_start, end = self.ranges[index]
        if byte >= end or byte < body_start:
            return -1
        self.last_body = (body_start, end, index)
        return index


class _Extraction:
    """One file's extraction; handlers fill the row lists."""

    def __init__(self, source: bytes, root):
        self.source = source
        self.root = root
        self.scopes = _Scopes()
        self.rows: dict[str, list] = {name: [] for name, _ in facts.FACT_KINDS}
        self.seen_refs: set[tuple[int, bytes]] = set()
        self.call_starts: list[int] = []  # start byte of each call of rows["calls"]
        self.flags: dict[int, str] = {}  # call start byte -> its GFP argument
        self.file_functions: set[bytes] = set()
        self.names: dict[bytes, str] = {}  # one str per distinct callee name: decoded once, shared
        self.types = _Types(root)

    def run(self) -> tuple:
        captures = tree_sitter.QueryCursor(FACTS_QUERY).captures(self.root)
        self._functions(captures.get("function", ()), captures.get("syscall", ()))
        self.rows["lost"].extend(lost_functions(self.source, {body for _, body, _ in self.scopes.ranges}))
        self.file_functions = {row[FUNCTION_ROW.name].encode() for row in self.rows["functions"]}
        self.file_functions.update(node.text for node in captures.get("prototype", ()))
        for name, handler in _HANDLERS:
            nodes = captures.get(name)
            if nodes:
                if name in _FIRST_WINS:
                    # captures() lists are not in source order (it varies with the hash
                    # seed); where the first occurrence wins, make it the first in the file.
                    nodes.sort(key=_start_byte)
                handler(self, nodes)
        self._add_flags()
        errors = _error_lines(self.root) if self.root.has_error else []
        if errors:
            first = min(errors)
            message = f"{len(errors)} ERROR/MISSING node(s), first at line {first}"
            self.rows["diagnostics"].append(_diagnostic_row(line=first, kind="parse-error", message=message))
        return tuple(tuple(sorted(self.rows[name], key=_SOURCE_ORDER[name])) for name, _ in facts.FACT_KINDS)

    def _add_flags(self) -> None:
        """Give each call its GFP argument, known once every argument is read."""
        calls = self.rows["calls"]
        gfp = CALL_ROW.gfp
        for index, start in enumerate(self.call_starts):
            flag = self.flags.get(start)
            if flag:
                row = calls[index]
                calls[index] = (*row[:gfp], flag, *row[gfp + 1 :])

    # -- functions ----------------------------------------------------------

    def _functions(self, definitions, syscalls) -> None:
        candidates = []
        for node in definitions:
            body = node.child_by_field_name("body")
            name = _function_name(node) if body is not None else None
            body_start = body.start_byte if body is not None else node.start_byte
            candidates.append((node.start_byte, node.end_byte, body_start, name, node, node.end_point[0] + 1))
        for head in syscalls:
            body = head.next_named_sibling
            call = head if head.type == "call_expression" else head.named_child(0)
            name = syscall_name(node_text(call.child_by_field_name("function")), _first_argument(call))
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
            self.scopes.add(start, body_start, end, name)
            prefix = self.source[start:body_start]
            cut = prefix.find(b"(")
            words = set(_STORAGE_WORDS.findall(prefix[:cut] if cut >= 0 else prefix))
            is_static, is_inline, line = b"static" in words, bool(words - {b"static"}), line_of(node)
            self.rows["functions"].append(
                _function_row(name=name, line=line, end_line=end_line, is_static=is_static, is_inline=is_inline)
            )

    # -- calls and callbacks -------------------------------------------------

    def _direct_calls(self, nodes) -> None:
        calls = self.rows["calls"]
        starts = self.call_starts
        scopes = self.scopes
        callers = scopes.names
        names = self.names
        for callee in nodes:
            raw = callee.text
            name = names.get(raw)
            if name is None:
                name = names[raw] = raw.decode("utf-8", "replace")
            if name in REGISTRATION_APIS:
                continue  # hands the function to another context: not a call
            start = callee.start_byte
            last = scopes.last_body
            scope = last[2] if last[0] <= start < last[1] else scopes.index(start)
            if scope < 0:
                continue
            row, col = callee.start_point
            caller = callers[scope]
            calls.append(
                _call_row(caller=caller, callee=name, line=row + 1, col=col + 1, kind=_DIRECT, receiver_type="", gfp="")
            )
            starts.append(start)

    def _indirect_calls(self, nodes) -> None:
        calls = self.rows["calls"]
        for callee in nodes:
            scope = self.scopes.index(callee.start_byte)
            if scope < 0:
                continue
            kind = callee.type
            receiver_type = ""
            if kind == "field_expression":
                call_kind = facts.MEMBER
                receiver = _receiver(callee)
                if receiver is not None:
                    receiver_type = self.types.of(receiver, callee)
            elif kind == "parenthesized_expression" and callee.named_child(0).type == "pointer_expression":
                call_kind = facts.POINTER
            else:
                call_kind = facts.OTHER
            row, col = callee.start_point
            caller, text = self.scopes.names[scope], compact_text(callee)
            calls.append(
                _call_row(
                    caller=caller, callee=text, line=row + 1, col=col + 1, kind=call_kind, receiver_type=receiver_type, gfp=""
                )
            )
            self.call_starts.append(callee.start_byte)

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
            scope = self.scopes.index(node.start_byte)
            if scope < 0 or (scope, raw) in seen:
                continue
            seen.add((scope, raw))
            arguments = node.parent if node.parent.type == "argument_list" else node.parent.parent
            callee = arguments.parent.child_by_field_name("function")
            if callee is None:
                continue
            via = node_text(callee) if callee.type == "identifier" else compact_text(callee)
            if via in REGISTRATION_APIS:
                continue
            line, col = node.start_point
            caller, target = self.scopes.names[scope], raw.decode("utf-8", "replace")
            refs.append(_ref_row(caller=caller, target=target, via=via, line=line + 1, col=col + 1))

    def _note_flags(self, argument, text: bytes) -> None:
        """Remember the GFP argument of the call that `argument` is passed to."""
        arguments = argument.parent if argument.parent.type == "argument_list" else argument.parent.parent
        self.flags.setdefault(arguments.parent.start_byte, without_spaces(text.decode("utf-8", "replace")))

    def _flag_expressions(self, nodes) -> None:
        for node in nodes:
            raw = node.text
            if b"GFP_" in raw:
                self._note_flags(node, raw)

    # -- function pointers stored in objects ------------------------------

    def _inits(self, nodes) -> None:
        cache: dict[int, tuple[str, str, list[str]]] = {}
        for node in nodes:
            target = _identifier_of(node.child_by_field_name("value"))
            if target is None or is_constant_name(target):
                continue
            path = [node_text(d.named_child(0)) for d in node.children if d.type == "field_designator"]
            if not path:
                continue
            owner = node.parent
            key = owner.id if owner is not None else -1
            if key not in cache:
                cache[key] = _initialized_object(owner)
            struct_type, variable, outer = cache[key]
            field, line = ".".join(outer + path), line_of(node)
            self.rows["ops_inits"].append(
                _ops_init_row(struct_type=struct_type, field=field, target=target, variable=variable, line=line)
            )

    def _assigns(self, nodes) -> None:
        for node in nodes:
            target = _identifier_of(node.child_by_field_name("right"))
            if target is None or is_constant_name(target):
                continue
            left = node.child_by_field_name("left")
            scope = self.scopes.index(node.start_byte)
            caller = self.scopes.names[scope] if scope >= 0 else ""
            field = ""
            receiver_type = ""
            if left.type == "field_expression":
                field = node_text(left.child_by_field_name("field"))
                receiver = _receiver(left)
                if receiver is not None:
                    receiver_type = self.types.of(receiver, node)
            lhs, line = compact_text(left), line_of(node)
            self.rows["ops_assigns"].append(
                _ops_assign_row(
                    lhs=lhs, field=field, target=target, caller=caller, line=line, receiver_type=receiver_type
                )
            )

    # -- types --------------------------------------------------------------

    def _members(self, nodes) -> None:
        members = self.rows["members"]
        for node in nodes:
            owner = _member_owner(node)
            if not owner:
                continue
            type_name = _type_name(node.child_by_field_name("type"))
            for declarator in node.children_by_field_name("declarator"):
                name, pointer, is_function = declared_name(declarator)
                if name is not None:
                    member_type = "(*)()" if is_function else type_name
                    line = line_of(declarator)
                    members.append(
                        _member_row(struct_type=owner, member=name, member_type=member_type, pointer=pointer, line=line)
                    )


def _first_argument(call) -> str:
    arguments = call.child_by_field_name("arguments") if call is not None else None
    if arguments is None or arguments.named_child_count == 0:
        return ""
    return node_text(arguments.named_child(0))

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
        return syscall_name(node_text(type_node), node_text(inner) if inner is not None else "")
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
    name = node_text(name_node)
    if name.startswith(SYSCALL_STEMS):
        parameters = declarator.child_by_field_name("parameters")
        first = parameters.named_child(0) if parameters is not None else None
        return syscall_name(name, node_text(first) if first is not None else "")
    return name

def _initialized_object(node) -> tuple[str, str, list[str]]:
    """(type, variable, designators of enclosing pairs) of an initializer list."""
    outer: list[str] = []
    while node is not None:
        kind = node.type
        if kind == "initializer_list":
            node = node.parent
        elif kind == "initializer_pair":
            outer[:0] = [node_text(d.named_child(0)) for d in node.children if d.type == "field_designator"]
            node = node.parent
        elif kind == "init_declarator":
            declaration = node.parent
            name, _, _ = declared_name(node)
            type_node = declaration.child_by_field_name("type") if declaration is not None else None
            return _type_name(type_node), name or "", outer
        elif kind == "compound_literal_expression":
            descriptor = node.child_by_field_name("type")
            return _type_name(descriptor.child_by_field_name("type") if descriptor else None), "", outer
        else:
            break
    return "", "", outer

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
                return node_text(name)
            holder = owner.parent
            if holder is not None and holder.type == "type_definition":
                typedef, _, _ = declared_name(holder.child_by_field_name("declarator"))
                return typedef or ""
            node = holder
        elif node.type == "field_declaration":
            node = node.parent
        else:
            return ""
    return ""


def _error_lines(root) -> list[int]:
    """Lines of ERROR and MISSING nodes, descending only where has_error says."""
    lines = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            lines.append(line_of(node))
            if node.is_missing:
                continue
        stack.extend(child for child in node.children if child.has_error)
    return lines


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
    ("init", _Extraction._inits),
    ("assign", _Extraction._assigns),
    ("member", _Extraction._members),
)
