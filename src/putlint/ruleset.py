"""Rule files: contexts, puts, deferrals and checks, as YAML, validated on load.

A broken rule file is an InputError naming the file, line and key. Rules ship
inside the package (`putlint.rules`); `--rules DIR` adds a user directory with
the same layout, whose files may add new ids but not redefine shipped ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from .errors import InputError

SEVERITIES = ("error", "warning", "note")
CONFIDENCES = ("high", "medium", "low")
PLACEHOLDERS = ("PUT", "OBJECT", "CONTEXT", "WAIT", "WAIT_WHY", "FUNCTION")


@dataclass(frozen=True, slots=True)
class Entry:
    """Where a context starts: a named function, or every target of an ops field."""

    function: str = ""
    ops: str = ""  # "struct.field"
    why: str = ""


@dataclass(frozen=True, slots=True)
class Wait:
    """What a context must never reach: a function, or a call whose GFP flags match."""

    function: str = ""
    gfp: str = ""  # regular expression on the call's GFP argument
    why: str = ""


@dataclass(frozen=True, slots=True)
class TeardownCut:
    """A teardown step that cannot happen in this context: `caller` -> `callee`,
    for objects of `subsystem` only when given (f2fs never evicts an inode
    under writeback: iput_final -> evict, f2fs)."""

    caller: str
    callee: str
    subsystem: str
    why: str


@dataclass(frozen=True, slots=True)
class DistinctObject:
    """A put that drops another object than the ones the context waits on, told
    by all of those given of: `origin`, a regular expression on the function
    whose result the put's local argument last came from; `argument`, one on
    the argument's text (`req->r_parent`); `function`, the function making the
    put; `condition`, a condition known at the put site (`S_ISDIR($ARG->i_mode)`,
    see `paths.known_at`)."""

    why: str
    origin: str = ""
    argument: str = ""
    function: str = ""
    condition: str = ""
    except_subsystems: tuple[str, ...] = ()  # where it does not hold (see graph.subsystem_of)


@dataclass(frozen=True, slots=True)
class Context:
    id: str
    description: str
    entries: tuple[Entry, ...]
    waits: tuple[Wait, ...]
    nofs_enter: tuple[str, ...]
    nofs_leave: tuple[str, ...]
    references: tuple[str, ...]
    source: str
    teardown_cuts: tuple[TeardownCut, ...] = ()
    distinct_objects: tuple[DistinctObject, ...] = ()
    reach_cuts: tuple[CutEdge, ...] = ()  # calls this context never makes, though others may


@dataclass(frozen=True, slots=True)
class Put:
    id: str
    object: str
    functions: tuple[str, ...]
    nonfinal_if_preceded_by: tuple[str, ...]
    description: str
    source: str
    nonfinal_if_from: tuple[FunctionReason, ...] = ()  # the put's argument came from one of these
    held_across_by: tuple[Bracket, ...] = ()  # a reference a caller on the chain holds across the call
    harmless_when: tuple[ConditionReason, ...] = ()  # known at the put site: it tears nothing down
    harmless_unless_after: tuple[str, ...] = ()  # calls on the argument that undo what a condition said
    harmless_unless_null_from: tuple[str, ...] = ()  # of those, the ones that undo it only when they return NULL
    nonfinal_if_argument: tuple[ArgumentReason, ...] = ()  # the object, as the chain passes it down


@dataclass(frozen=True, slots=True)
class ArgumentReason:
    """A regular expression on the put's argument, or on what a caller on the
    chain passed for it (`d_inode(req->r_dentry)`)."""

    argument: str
    why: str


@dataclass(frozen=True, slots=True)
class Bracket:
    """A caller on the chain calls one of `take` before the call that leads to
    the put and one of `drop` after it: it holds a reference across the put."""

    take: tuple[str, ...]
    drop: tuple[str, ...]
    why: str


@dataclass(frozen=True, slots=True)
class ConditionReason:
    """A condition on the put's argument `$ARG`, C syntax: `!d_inode($ARG)`."""

    condition: str
    why: str


@dataclass(frozen=True, slots=True)
class FunctionReason:
    function: str
    why: str


@dataclass(frozen=True, slots=True)
class CutEdge:
    caller: str
    callee: str
    why: str


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    context: str
    puts: tuple[str, ...]
    severity: str
    confidence: str
    message: str
    description: str
    references: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class Limits:
    reach_depth: int = 14
    teardown_depth: int = 10
    fanout: int = 64
    fanout_near: int = 8


@dataclass(frozen=True)
class RuleSet:
    contexts: dict[str, Context]
    puts: dict[str, Put]
    checks: dict[str, Check]
    deferrals: tuple[FunctionReason, ...]
    cut_edges: tuple[CutEdge, ...]
    callbacks: frozenset[str]
    opaque: tuple[FunctionReason, ...]
    limits: Limits

    def select(self, select: tuple[str, ...], ignore: tuple[str, ...]) -> RuleSet:
        for rule_id in (*select, *ignore):
            if rule_id not in self.checks:
                raise InputError(f"unknown rule id {rule_id!r}; `putlint rules list` shows them")
        keep = {
            check_id: check
            for check_id, check in self.checks.items()
            if (not select or check_id in select) and check_id not in ignore
        }
        return RuleSet(
            self.contexts, self.puts, keep, self.deferrals, self.cut_edges, self.callbacks, self.opaque, self.limits
        )


class _Mapping:
    """A YAML mapping that remembers lines and which keys were read."""

    def __init__(self, node: yaml.MappingNode, source: str):
        self.source = source
        self.line = node.start_mark.line + 1
        self.items: dict[str, yaml.Node] = {}
        self.key_lines: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.error(key.start_mark.line + 1, "keys must be plain words")
            self.items[key.value] = value
            self.key_lines[key.value] = key.start_mark.line + 1

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

    def number(self, key: str, default: int) -> int:
        node = self.items.get(key)
        if node is None:
            return default
        if not isinstance(node, yaml.ScalarNode) or not node.value.isdigit() or int(node.value) < 1:
            raise self.error(node.start_mark.line + 1, f"{key!r} must be a positive whole number")
        return int(node.value)

    def words(self, key: str, required: bool = False) -> tuple[str, ...]:
        node = self.items.get(key)
        if node is None:
            if required:
                raise self.error(self.line, f"missing key {key!r}")
            return ()
        if not isinstance(node, yaml.SequenceNode) or not all(isinstance(i, yaml.ScalarNode) for i in node.value):
            raise self.error(node.start_mark.line + 1, f"{key!r} must be a list of words")
        return tuple(str(item.value).strip() for item in node.value)

    def mappings(self, key: str, required: bool = False) -> list[_Mapping]:
        node = self.items.get(key)
        if node is None:
            if required:
                raise self.error(self.line, f"missing key {key!r}")
            return []
        if not isinstance(node, yaml.SequenceNode) or not all(isinstance(i, yaml.MappingNode) for i in node.value):
            raise self.error(node.start_mark.line + 1, f"{key!r} must be a list of mappings")
        return [_Mapping(item, self.source) for item in node.value]


def _read(path: Path | resources.abc.Traversable, label: str) -> _Mapping:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{label}: cannot read rule file: {error}") from None
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{label}{where}: not valid YAML: {getattr(error, 'problem', error)}") from None
    if not isinstance(node, yaml.MappingNode):
        raise InputError(f"{label}: a rule file must be a mapping")
    return _Mapping(node, label)


def _identifier(mapping: _Mapping, key: str) -> str:
    value = mapping.text(key)
    if not re.fullmatch(r"[a-z][a-z0-9-]*", value):
        raise mapping.error(mapping.key_lines[key], f"{key} {value!r} must be lower-case words joined by '-'")
    return value


def _id_matches_file(mapping: _Mapping, rule_id: str, stem: str) -> None:
    if rule_id != stem:
        raise mapping.error(mapping.key_lines["id"], f"id {rule_id!r} must equal the file name {stem!r}")


def _context(mapping: _Mapping, stem: str) -> Context:
    mapping.check_keys(
        {
            "id",
            "description",
            "entries",
            "waits",
            "nofs_scope",
            "references",
            "teardown_cuts",
            "distinct_objects",
            "reach_cuts",
        }
    )
    rule_id = _identifier(mapping, "id")
    _id_matches_file(mapping, rule_id, stem)
    entries = []
    for item in mapping.mappings("entries", required=True):
        item.check_keys({"function", "ops", "why"})
        function, ops = item.text("function", required=False), item.text("ops", required=False)
        if bool(function) == bool(ops):
            raise item.error(item.line, "an entry names exactly one of 'function' or 'ops'")
        if ops and not re.fullmatch(r"\w+\.\w+", ops):
            raise item.error(item.key_lines["ops"], f"ops {ops!r} must be struct_type.field")
        entries.append(Entry(function, ops, item.text("why", required=False)))
    waits = []
    for item in mapping.mappings("waits", required=True):
        item.check_keys({"function", "gfp", "why"})
        function, gfp = item.text("function", required=False), item.text("gfp", required=False)
        if bool(function) == bool(gfp):
            raise item.error(item.line, "a wait names exactly one of 'function' or 'gfp'")
        if gfp:
            _check_regex(item, "gfp", gfp)
        waits.append(Wait(function, gfp, item.text("why", required=True)))
    nofs_enter: tuple[str, ...] = ()
    nofs_leave: tuple[str, ...] = ()
    if "nofs_scope" in mapping.items:
        scope_node = mapping.items["nofs_scope"]
        if not isinstance(scope_node, yaml.MappingNode):
            raise mapping.error(mapping.key_lines["nofs_scope"], "nofs_scope must be a mapping")
        scope = _Mapping(scope_node, mapping.source)
        scope.check_keys({"enter", "leave"})
        nofs_enter, nofs_leave = scope.words("enter", required=True), scope.words("leave", required=True)
    cuts = []
    for item in mapping.mappings("teardown_cuts"):
        item.check_keys({"caller", "callee", "subsystem", "why"})
        cuts.append(
            TeardownCut(item.text("caller"), item.text("callee"), item.text("subsystem", required=False), item.text("why"))
        )
    distinct = []
    kinds = ("origin", "argument", "function", "condition")
    for item in mapping.mappings("distinct_objects"):
        item.check_keys({*kinds, "why", "except_subsystems"})
        given = {kind: item.text(kind, required=False) for kind in kinds}
        if not any(given.values()):
            raise item.error(item.line, "a distinct object names one or more of 'origin', 'argument', 'function', 'condition'")
        for kind in ("origin", "argument"):
            if given[kind]:
                _check_regex(item, kind, given[kind])
        if given["condition"]:
            _check_condition(item, "condition", given["condition"])
        distinct.append(DistinctObject(item.text("why"), **given, except_subsystems=item.words("except_subsystems")))
    return Context(
        rule_id,
        mapping.text("description"),
        tuple(entries),
        tuple(waits),
        nofs_enter,
        nofs_leave,
        mapping.words("references"),
        mapping.source,
        tuple(cuts),
        tuple(distinct),
        tuple(_cut_edges(mapping, "reach_cuts")),
    )


def _put(mapping: _Mapping, stem: str) -> Put:
    mapping.check_keys(
        {
            "id",
            "object",
            "functions",
            "nonfinal_if_preceded_by",
            "nonfinal_if_from",
            "held_across_by",
            "harmless_when",
            "harmless_unless_after",
            "harmless_unless_null_from",
            "nonfinal_if_argument",
            "description",
        }
    )
    rule_id = _identifier(mapping, "id")
    _id_matches_file(mapping, rule_id, stem)
    brackets = []
    for item in mapping.mappings("held_across_by"):
        item.check_keys({"take", "drop", "why"})
        brackets.append(Bracket(item.words("take", required=True), item.words("drop", required=True), item.text("why")))
    harmless = []
    for item in mapping.mappings("harmless_when"):
        item.check_keys({"condition", "why"})
        harmless.append(ConditionReason(_check_condition(item, "condition", item.text("condition")), item.text("why")))
    return Put(
        rule_id,
        mapping.text("object"),
        mapping.words("functions", required=True),
        mapping.words("nonfinal_if_preceded_by"),
        mapping.text("description"),
        mapping.source,
        tuple(_functions_with_reasons(mapping, "nonfinal_if_from")),
        tuple(brackets),
        tuple(harmless),
        mapping.words("harmless_unless_after"),
        mapping.words("harmless_unless_null_from"),
        tuple(_arguments_with_reasons(mapping, "nonfinal_if_argument")),
    )


def _arguments_with_reasons(mapping: _Mapping, key: str) -> list[ArgumentReason]:
    found = []
    for item in mapping.mappings(key):
        item.check_keys({"argument", "why"})
        found.append(ArgumentReason(_check_regex(item, "argument", item.text("argument")), item.text("why")))
    return found


def _check_regex(item: _Mapping, key: str, pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise item.error(item.key_lines[key], f"{key} is not a regular expression: {error}") from None
    return pattern


def _check_condition(item: _Mapping, key: str, condition: str) -> str:
    if "$ARG" not in condition or condition.count("(") != condition.count(")"):
        raise item.error(item.key_lines[key], f"{key} {condition!r} must be a C condition on $ARG")
    return condition


def _check(mapping: _Mapping, stem: str) -> Check:
    mapping.check_keys({"id", "context", "puts", "severity", "confidence", "message", "description", "references"})
    rule_id = _identifier(mapping, "id")
    _id_matches_file(mapping, rule_id, stem)
    severity, confidence = mapping.text("severity"), mapping.text("confidence")
    if severity not in SEVERITIES:
        raise mapping.error(mapping.key_lines["severity"], f"severity must be one of {', '.join(SEVERITIES)}")
    if confidence not in CONFIDENCES:
        raise mapping.error(mapping.key_lines["confidence"], f"confidence must be one of {', '.join(CONFIDENCES)}")
    message = mapping.text("message")
    for placeholder in re.findall(r"\$([A-Z_]+)", message):
        if placeholder not in PLACEHOLDERS:
            raise mapping.error(
                mapping.key_lines["message"],
                f"unknown placeholder ${placeholder} (known: {', '.join('$' + p for p in PLACEHOLDERS)})",
            )
    return Check(
        rule_id,
        mapping.text("context"),
        mapping.words("puts", required=True),
        severity,
        confidence,
        message,
        mapping.text("description"),
        mapping.words("references"),
        mapping.source,
    )


def _cut_edges(mapping: _Mapping, key: str) -> list[CutEdge]:
    cuts = []
    for item in mapping.mappings(key):
        item.check_keys({"caller", "callee", "why"})
        cuts.append(CutEdge(item.text("caller"), item.text("callee"), item.text("why")))
    return cuts


def _functions_with_reasons(mapping: _Mapping, key: str) -> list[FunctionReason]:
    found = []
    for item in mapping.mappings(key):
        item.check_keys({"function", "why"})
        found.append(FunctionReason(item.text("function"), item.text("why")))
    return found


def _deferrals(mapping: _Mapping) -> tuple[list[FunctionReason], list[CutEdge], list[str], list[FunctionReason], Limits | None]:
    mapping.check_keys({"deferrals", "cut_edges", "callbacks", "opaque", "limits"})
    deferrals = _functions_with_reasons(mapping, "deferrals")
    cuts = _cut_edges(mapping, "cut_edges")
    limits = None
    if "limits" in mapping.items:
        node = mapping.items["limits"]
        if not isinstance(node, yaml.MappingNode):
            raise mapping.error(mapping.key_lines["limits"], "limits must be a mapping")
        settings = _Mapping(node, mapping.source)
        settings.check_keys({"reach_depth", "teardown_depth", "fanout", "fanout_near"})
        defaults = Limits()
        limits = Limits(
            settings.number("reach_depth", defaults.reach_depth),
            settings.number("teardown_depth", defaults.teardown_depth),
            settings.number("fanout", defaults.fanout),
            settings.number("fanout_near", defaults.fanout_near),
        )
    return deferrals, cuts, list(mapping.words("callbacks")), _functions_with_reasons(mapping, "opaque"), limits


def _files(directory, sub: str) -> list:
    folder = directory.joinpath(sub)
    if not folder.is_dir():
        return []
    return sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)


def _stem(file) -> str:
    return file.name[: -len(".yaml")]


def load_rules(extra_dirs: tuple[Path, ...] = ()) -> RuleSet:
    """The shipped rules plus those in `extra_dirs`, validated as a whole."""
    directories: list = [resources.files("putlint.rules")]
    for extra in extra_dirs:
        if not Path(extra).is_dir():
            raise InputError(f"rules directory {str(extra)!r} does not exist")
        directories.append(Path(extra))
    contexts: dict[str, Context] = {}
    puts: dict[str, Put] = {}
    checks: dict[str, Check] = {}
    deferrals: list[FunctionReason] = []
    cuts: list[CutEdge] = []
    callbacks: list[str] = []
    opaque: list[FunctionReason] = []
    limits = Limits()
    for directory in directories:
        label_root = "rules" if directory is directories[0] else str(directory)
        for kind, table, parse in (("contexts", contexts, _context), ("puts", puts, _put), ("checks", checks, _check)):
            for file in _files(directory, kind):
                label = f"{label_root}/{kind}/{file.name}"
                rule = parse(_read(file, label), _stem(file))
                if rule.id in table:
                    raise InputError(f"{label}: {kind[:-1]} id {rule.id!r} is already defined in {table[rule.id].source}")
                table[rule.id] = rule
        deferral_file = directory.joinpath("deferrals.yaml")
        if deferral_file.is_file():
            more, more_cuts, more_callbacks, more_opaque, more_limits = _deferrals(
                _read(deferral_file, f"{label_root}/deferrals.yaml")
            )
            deferrals += more
            cuts += more_cuts
            callbacks += more_callbacks
            opaque += more_opaque
            limits = more_limits or limits
    for check in checks.values():
        if check.context not in contexts:
            raise InputError(f"{check.source}: context {check.context!r} is not defined in any contexts/ file")
        for put in check.puts:
            if put not in puts:
                raise InputError(f"{check.source}: put {put!r} is not defined in any puts/ file")
    return RuleSet(
        contexts, puts, checks, tuple(deferrals), tuple(cuts), frozenset(callbacks), tuple(opaque), limits
    )
