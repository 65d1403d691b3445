"""Readings taken on demand, at the few sites a search finds, never indexed:
what a put drops and where it came from, and what is known at the calls of a
function on a chain (its arguments, the conditions that decide whether it
runs). Part of the parse package; kept out of the extractor's fingerprint, so
changing it does not reindex a tree."""

from __future__ import annotations

import time

import tree_sitter

from .. import facts, kernel
from ..kernel.apis import is_constant_name
from ..sitefacts import CallSite, Condition, Exit, Flow, FunctionBody, Region
from ._nodes import PARSER, compact_text, declared_name, line_of, load_query, node_text, parameter_list

ORIGINS_QUERY = load_query("origins.scm")
BODY_QUERY = load_query("body.scm")

_EXITS = frozenset({"return_statement", "goto_statement", "break_statement", "continue_statement"})
_LOOPS = frozenset({"for_statement", "while_statement", "do_statement"})
_COMPARISONS = {"&&": "and", "||": "or", "==": "eq", "!=": "ne"}
_ASSERTIONS = frozenset(kernel.load("assertions.yaml")["assertions"])
_MAX_ENCLOSING = 64  # statements walked out from a call for its conditions (kernel code: under 15)
_MAX_EXPRESSION_DEPTH = 64  # nesting of a condition read as an expression tuple
# Reading one function's body may take this long; past it the body is unknown (None), which
# rules nothing out. Node.parent costs the node's depth, so hostile nesting is quadratic.
_BODY_SECONDS = 10.0


class _OutOfTime(Exception):
    pass


def _put_arguments(root, sites) -> dict[tuple[int, int], facts.PutArgument]:
    result = {}
    for line, col in sites:
        name = root.descendant_for_point_range((line - 1, col - 1), (line - 1, col - 1))
        call = name.parent if name is not None else None
        if call is None or call.type != "call_expression":
            continue
        arguments = call.child_by_field_name("arguments")
        first = arguments.named_child(0) if arguments is not None and arguments.named_child_count else None
        if first is None:
            continue
        result[(line, col)] = facts.PutArgument(compact_text(first), _origin(first, call))
    return result


def _origin(argument, call) -> str:
    if argument.type != "identifier":
        return ""
    function = call.parent
    while function is not None and function.type != "function_definition":
        function = function.parent
    if function is None:
        return ""
    cursor = tree_sitter.QueryCursor(ORIGINS_QUERY)
    cursor.set_byte_range(function.start_byte, call.start_byte)
    wanted = argument.text
    last = (-1, "")
    for _pattern, match in cursor.matches(function):
        (name,) = match["name"]
        (source,) = match["source"]
        if name.text == wanted and name.end_byte <= call.start_byte and name.start_byte > last[0]:
            last = (name.start_byte, node_text(source))
    return last[1]


class BodyReader:
    """One file parsed once, read function by function as a search needs them."""

    def __init__(self, source: bytes):
        self.root = PARSER.parse(source).root_node
        self._bodies: dict[int, FunctionBody | None] = {}

    def put_arguments(self, sites) -> dict[tuple[int, int], facts.PutArgument]:
        """What the calls at `sites` ((line, col) of the callee name, 1-based) take as
        their first argument, and where a local argument's value came from: the
        last `x = f(...)`, `T *x = f(...)` or `f(..., &x)` before the call."""
        return _put_arguments(self.root, sites)

    def body(self, line: int) -> FunctionBody | None:
        """The `FunctionBody` of the function definition that starts on `line`
        (1-based), None when none does."""
        if line not in self._bodies:
            node = self.root.descendant_for_point_range((line - 1, 0), (line - 1, 0))
            while node is not None and node.type != "function_definition":
                node = node.parent
            if node is None:
                # The line may start with whitespace or a comment before the definition.
                node = _definition_on_line(self.root, line)
            found = node is not None and node.start_point[0] == line - 1
            try:
                self._bodies[line] = _Body(node).read() if found else None
            except _OutOfTime:
                self._bodies[line] = None
        return self._bodies[line]


def _definition_on_line(root, line: int):
    for node in root.named_children:
        if node.start_point[0] > line - 1:
            break
        if node.type == "function_definition" and node.start_point[0] == line - 1:
            return node
    return None


class _Body:
    def __init__(self, function):
        self.function = function
        self.labels: dict[bytes, int] = {}
        self.assigned: set[str] = set()
        self.calls = []
        self._block_exits: dict[int, list] = {}
        self._expressions: dict[int, tuple] = {}
        self.deadline = time.monotonic() + _BODY_SECONDS
        self._label_lines: dict[int, int] = {}
        self._label_nodes: dict[int, object] = {}

    def _expression(self, node) -> tuple:
        """`expression(node)`, once per node (nested ifs share their conditions)."""
        if node is None:
            return expression(node)
        if node.id not in self._expressions:
            self._expressions[node.id] = expression(node)
        return self._expressions[node.id]

    def read(self) -> FunctionBody:
        captures = tree_sitter.QueryCursor(BODY_QUERY).captures(self.function)
        for node in captures.get("label", ()):
            self.labels[node.text] = node.start_byte
            self._label_lines[node.start_byte] = line_of(node)
            self._label_nodes[node.start_byte] = node.parent
        self.assigned = {node_text(node) for node in captures.get("assigned", ())}
        calls = sorted(captures.get("call", ()), key=lambda n: n.start_byte)
        sites = []
        for call in calls:
            callee = call.child_by_field_name("function")
            arguments = call.child_by_field_name("arguments")
            argument_nodes = arguments.named_children if arguments is not None else []
            argument_nodes = [a for a in argument_nodes if a.type != "comment"]
            sites.append(
                CallSite(
                    line=callee.start_point[0] + 1,
                    col=callee.start_point[1] + 1,
                    callee=compact_text(callee),
                    arguments=tuple(expression(a) for a in argument_nodes),
                    argument_texts=tuple(compact_text(a) for a in argument_nodes),
                    conditions=tuple(self._conditions(call)),
                    result=_result_name(call),
                )
            )
        parameters = self._parameters()
        names = sorted(captures.get("alias.name", ()), key=lambda n: n.start_byte)
        values = sorted(captures.get("alias.value", ()), key=lambda n: n.start_byte)
        assignments = tuple((node_text(name), compact_text(value)) for name, value in zip(names, values))
        written = {n.start_byte: n for n in (*captures.get("assigned", ()), *names)}
        flow = Flow(
            tuple(call.start_byte for call in calls),
            tuple(self._regions(call) for call in calls),
            tuple(self._exit(node) for node in sorted(captures.get("exit", ()), key=lambda n: n.start_byte)),
            tuple(sorted((start, self._label_lines[start]) for start in self._label_lines)),
            tuple((node_text(n), start, line_of(n)) for start, n in sorted(written.items())),
            tuple(self._regions(self._label_nodes[start]) for start in sorted(self._label_nodes)),
        )
        return FunctionBody(
            parameters, frozenset(p for p in parameters if p in self.assigned), tuple(sites), assignments, flow
        )

    def _regions(self, call) -> tuple[Region, ...]:
        """The regions around `call` that may run fewer times than the body
        (see `sitefacts.Region`), outermost first."""
        found = []
        child = call
        node = call.parent
        while node is not None and node != self.function:
            kind = _region_kind(node, child)
            if kind:
                part = child if kind in ("then", "else", "branch") else node
                found.append(Region(kind, part.start_byte, part.end_byte, line_of(node)))
            child = node
            node = node.parent
        return tuple(reversed(found))

    def _exit(self, node) -> Exit:
        kind = node.type.removesuffix("_statement")
        regions = self._regions(node)
        if kind == "goto":
            label = node.child_by_field_name("label")
            target = self.labels.get(label.text, -1) if label is not None else -1
            return Exit(kind, node.start_byte, line_of(node), target, regions=regions)
        if kind in ("break", "continue"):
            left = node.parent
            wanted = _LOOPS if kind == "continue" else _LOOPS | {"switch_statement"}
            while left is not None and left != self.function and left.type not in wanted:
                left = left.parent
            if left is not None and left != self.function:
                return Exit(kind, node.start_byte, line_of(node), left.start_byte, left.end_byte, regions)
        return Exit(kind, node.start_byte, line_of(node), regions=regions)

    def _parameters(self) -> tuple[str, ...]:
        parameters = parameter_list(self.function)
        names = []
        for node in parameters.named_children if parameters is not None else ():
            if node.type != "parameter_declaration":
                continue
            declarator = node.child_by_field_name("declarator")
            name = declared_name(declarator)[0] if declarator is not None else None
            names.append(name or "")
        return tuple(names)

    def _conditions(self, call) -> list[Condition]:
        """What decides that `call` runs, walking out to the function body (at
        most _MAX_ENCLOSING statements out: what lies further is unknown, and
        an unknown condition never rules a call out)."""
        found = []
        child = call
        node = call.parent
        levels = 0
        while node is not None and node != self.function and levels < _MAX_ENCLOSING:
            levels += 1
            if time.monotonic() > self.deadline:
                raise _OutOfTime
            kind = node.type
            if kind == "if_statement":
                condition = node.child_by_field_name("condition")
                if child == node.child_by_field_name("consequence"):
                    found.append(Condition(self._expression(condition), True, line_of(condition)))
                elif child == node.child_by_field_name("alternative"):
                    found.append(Condition(self._expression(condition), False, line_of(condition)))
            elif kind in ("compound_statement", "case_statement"):
                found.extend(self._earlier_exits(node, child, call))
                if kind == "case_statement":
                    found.extend(self._switch(node))
            child = node
            node = node.parent
        return found

    def _earlier_exits(self, block, child, call) -> list[Condition]:
        """`if (c) return;` and `BUG_ON(c);` before `child` in `block`: c is false.

        A goto leaves only when its label is not between the test and the call.
        """
        exits = self._block_exits.get(block.id)
        if exits is None:
            exits = self._block_exits[block.id] = self._exits_of(block)
        return [
            condition
            for start, end, condition, label in exits
            if start < child.start_byte and (label is None or not end <= label <= call.start_byte)
        ]

    def _exits_of(self, block) -> list[tuple[int, int, Condition, int | None]]:
        """(start, end, condition false after it, goto label position or None)
        for each statement of `block` after which a condition is known."""
        found = []
        for statement in block.named_children:
            kind = statement.type
            if kind == "if_statement" and statement.child_by_field_name("alternative") is None:
                leaves, label = self._leaves(statement.child_by_field_name("consequence"))
                if leaves:
                    condition = statement.child_by_field_name("condition")
                    found.append(
                        (statement.start_byte, statement.end_byte, Condition(expression(condition), False, line_of(condition)), label)
                    )
            elif kind == "expression_statement" and statement.named_child_count:
                inner = statement.named_child(0)
                if inner.type == "call_expression" and node_text(inner.child_by_field_name("function")) in _ASSERTIONS:
                    arguments = inner.child_by_field_name("arguments")
                    if arguments is not None and arguments.named_child_count == 1:
                        condition = Condition(expression(arguments.named_child(0)), False, line_of(inner))
                        found.append((statement.start_byte, statement.end_byte, condition, None))
        return found

    def _leaves(self, statement) -> tuple[bool, int | None]:
        """Whether `statement` always leaves, never falling to what follows, and
        for a goto where its label is."""
        while statement is not None and statement.type == "compound_statement":
            inner = [c for c in statement.named_children if c.type != "comment"]
            statement = inner[-1] if inner else None
        if statement is None or statement.type not in _EXITS:
            return False, None
        if statement.type == "goto_statement":
            label = statement.child_by_field_name("label")
            target = self.labels.get(label.text) if label is not None else None
            return target is not None, target
        return True, None

    def _switch(self, case) -> list[Condition]:
        body = case.parent
        switch = body.parent if body is not None else None
        if body is None or switch is None or switch.type != "switch_statement":
            return []
        groups = [c for c in body.named_children if c.type == "case_statement"]
        reaching = []  # labels of the groups that run on into `case`
        default = False
        for group in groups:
            value = group.child_by_field_name("value")
            if value is None:
                default = True
            else:
                reaching.append(expression(value))
            if group == case:
                break
            statements = [c for c in group.named_children if c != value and c.type != "comment"]
            if statements and _ends_group(statements[-1]):
                reaching = []
                default = False
        else:
            return []
        reaching_labels = tuple(reaching)
        all_labels = tuple(expression(g.child_by_field_name("value")) for g in groups if g.child_by_field_name("value"))
        subject = switch.child_by_field_name("condition")
        return [Condition(("case", expression(subject), reaching_labels, default, all_labels), True, line_of(case))]


def _result_name(call) -> str:
    """`x` for `x = f(...)` and `T *x = f(...)`, "" otherwise."""
    parent = call.parent
    if parent is None:
        return ""
    if parent.type == "assignment_expression" and parent.child_by_field_name("right") == call:
        left = parent.child_by_field_name("left")
        return compact_text(left) if left is not None else ""
    if parent.type == "init_declarator" and parent.child_by_field_name("value") == call:
        name = declared_name(parent.child_by_field_name("declarator"))[0]
        return name or ""
    return ""


def _region_kind(node, child) -> str:
    """What region of `node` its `child` is (see `sitefacts.Region`), "" for none."""
    kind = node.type
    if kind == "if_statement":
        if child == node.child_by_field_name("consequence"):
            return "then"
        if child == node.child_by_field_name("alternative"):
            return "else"
        return ""
    if kind in _LOOPS:
        if child == node.child_by_field_name("initializer"):
            return ""
        if kind == "do_statement" and _never_repeats(node):
            return ""
        return "loop"
    if kind == "case_statement":
        return "case"
    if kind == "conditional_expression":
        return "branch" if child != node.child_by_field_name("condition") else ""
    if kind == "binary_expression":
        operator = node.child_by_field_name("operator")
        if operator is not None and operator.type in ("&&", "||") and child == node.child_by_field_name("right"):
            return "branch"
    return ""


def _never_repeats(loop) -> bool:
    """`do { ... } while (0)`: the body runs once."""
    return expression(loop.child_by_field_name("condition")) == ("num", 0)


def _ends_group(statement) -> bool:
    while statement is not None and statement.type == "compound_statement":
        inner = [c for c in statement.named_children if c.type != "comment"]
        statement = inner[-1] if inner else None
    return statement is not None and statement.type in _EXITS


def expression(node, depth: int = 0) -> tuple:
    """The expression tuple of a C expression (see `sitefacts`); nested deeper
    than _MAX_EXPRESSION_DEPTH, the rest is kept as text (never decided)."""
    while node is not None and node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_child(0)
    if node is None:
        return ("text", "")
    if depth > _MAX_EXPRESSION_DEPTH:
        return ("text", compact_text(node))
    depth += 1
    kind = node.type
    if kind == "number_literal":
        value = _number(node_text(node))
        return ("num", value) if value is not None else ("text", compact_text(node))
    if kind in ("true", "false", "null"):
        return ("num", 1 if kind == "true" else 0)
    if kind == "identifier":
        name = node_text(node)
        if name == "NULL":
            return ("num", 0)
        return ("sym", name) if is_constant_name(name) else ("var", name)
    if kind == "unary_expression" and node.child(0).type == "!":
        return ("not", expression(node.child_by_field_name("argument"), depth))
    if kind == "binary_expression":
        operator = node.child_by_field_name("operator")
        name = _COMPARISONS.get(operator.type if operator is not None else "")
        if name is not None:
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            return (name, expression(left, depth), expression(right, depth))
    return ("text", compact_text(node))


def _number(text: str) -> int | None:
    text = text.rstrip("uUlL")
    try:
        return int(text, 0)
    except ValueError:
        return int(text, 8) if text.startswith("0") and text.isdigit() else None
