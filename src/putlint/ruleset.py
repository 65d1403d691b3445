"""Rule files: contexts, puts, checks, deferrals and limits, as YAML,
validated on load.

Every rule key is one field of a rule dataclass below, declared with
`rule_key`: how it is read and validated, what `putlint rules show` says of
it, and (for the keys that rule a put out, see `finality.FILTERS`) the stat
that counts it. The loader, the allowed-key check and `describe` are loops
over those fields.

A broken rule file is an InputError naming the file, line and key. Rules ship
inside the package (`putlint.rules`); `--rules DIR` adds a user directory with
the same layout, whose files may add new ids but not redefine shipped ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path

from . import rulefinality
from .rulefinality import ArgumentReason, Bracket, ConditionReason, DistinctObject, FunctionReason, function_reasons
from .errors import InputError
from .waits import CYCLES, SEVERITIES, Wait, Worker, read_waits, read_workers
from .rulefile import (
    Mapping,
    check_regex,
    identifier,
    number,
    read_rule_file,
    required_text,
    required_words,
    text,
    words,
)

CONFIDENCES = ("high", "medium", "low")
PLACEHOLDERS = ("PUT", "OBJECT", "CONTEXT", "WAIT", "WAIT_WHY", "FUNCTION", "CYCLE")

Show = Callable[[object, object], list[str]]  # (the rule, the key's value) -> lines of `rules show`


def rule_key(read: Callable[[Mapping, str], object], *, show: Show | None = None, stat: str = "", default=()):
    """A YAML key of a rule file: `read(mapping, key)` reads and validates it;
    `stat` names the `ContextStats` counter of the puts it rules out."""
    return field(default=default, metadata={"read": read, "show": show, "stat": stat})


def rule_keys(cls) -> list:
    """The fields of a rule dataclass that are rule keys, in file order."""
    return [f for f in fields(cls) if "read" in f.metadata]


# -- the parts of rules ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """Where a context starts: a named function, or every target of an ops field."""

    function: str = ""
    ops: str = ""  # "struct.field"
    why: str = ""

    @property
    def text(self) -> str:
        return self.function or f"(struct {self.ops.replace('.', ')->')}"


@dataclass(frozen=True, slots=True)
class MaskedScope:
    """Calls that open and close a scope in which GFP waits do not apply
    (`memalloc_nofs_save` ... `memalloc_nofs_restore`)."""

    enter: tuple[str, ...] = ()
    leave: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TeardownCut:
    """A teardown step that cannot happen in this context: `caller` -> `callee`,
    for objects of `subsystem` only when given (f2fs never evicts an inode
    under writeback: iput_final -> evict, f2fs)."""

    caller: str
    callee: str
    subsystem: str
    why: str
    where: str = ""
    assumes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CutEdge:
    caller: str
    callee: str
    why: str
    where: str = ""
    assumes: tuple[str, ...] = ()


# -- readers of the keys that hold parts -------------------------------------


def _entries(mapping: Mapping, key: str) -> tuple[Entry, ...]:
    entries = []
    for item in mapping.mappings(key, required=True):
        item.check_keys({"function", "ops", "why"})
        function, ops = item.text("function", required=False), item.text("ops", required=False)
        if bool(function) == bool(ops):
            raise item.error(item.line, "an entry names exactly one of 'function' or 'ops'")
        if ops and not re.fullmatch(r"\w+\.\w+", ops):
            raise item.error(item.key_lines["ops"], f"ops {ops!r} must be struct_type.field")
        entries.append(Entry(function, ops, item.text("why", required=False)))
    return tuple(entries)


def _masked_scope(mapping: Mapping, key: str) -> MaskedScope:
    scope = mapping.mapping(key)
    if scope is None:
        return MaskedScope()
    scope.check_keys({"enter", "leave"})
    return MaskedScope(scope.words("enter", required=True), scope.words("leave", required=True))


def _teardown_cuts(mapping: Mapping, key: str) -> tuple[TeardownCut, ...]:
    cuts = []
    for item in mapping.mappings(key):
        item.check_keys({"caller", "callee", "subsystem", "why", "assumes"})
        cuts.append(
            TeardownCut(
                item.text("caller"), item.text("callee"), item.text("subsystem", required=False), item.text("why"),
                item.where, item.words("assumes"),
            )
        )
    return tuple(cuts)


def _cut_edges(mapping: Mapping, key: str) -> tuple[CutEdge, ...]:
    cuts = []
    for item in mapping.mappings(key):
        item.check_keys({"caller", "callee", "why", "assumes"})
        cuts.append(CutEdge(item.text("caller"), item.text("callee"), item.text("why"), item.where, item.words("assumes")))
    return tuple(cuts)


def _one_of(choices: tuple[str, ...], name: str):
    def read(mapping: Mapping, key: str) -> str:
        value = mapping.text(key)
        if value not in choices:
            raise mapping.error(mapping.key_lines[key], f"{name} must be one of {', '.join(choices)}")
        return value

    return read


def _severity_by_cycle(mapping: Mapping, key: str) -> tuple[tuple[str, str], ...]:
    table = mapping.mapping(key)
    if table is None:
        return ()
    table.check_keys(set(CYCLES))
    return tuple((cycle, _one_of(SEVERITIES, f"the severity of a {cycle}")(table, cycle)) for cycle in CYCLES if cycle in table.items)


def _message(mapping: Mapping, key: str) -> str:
    message = mapping.text(key)
    for placeholder in re.findall(r"\$([A-Z_]+)", message):
        if placeholder not in PLACEHOLDERS:
            raise mapping.error(
                mapping.key_lines[key],
                f"unknown placeholder ${placeholder} (known: {', '.join('$' + p for p in PLACEHOLDERS)})",
            )
    return message


def _check_kind(mapping: Mapping, key: str) -> str:
    from .checks import BY_KIND  # the analyses import the rule types

    kind = mapping.text(key, required=False, default="final-put")
    if kind not in BY_KIND:
        raise mapping.error(mapping.key_lines[key], f"kind must be one of {', '.join(sorted(BY_KIND))}")
    return kind


def _put_lines(template: str, item_text: Callable[[object], tuple]):
    """A `show` for a put key: one line per entry, the put named by its first function."""
    return lambda rule, value: [template.format(rule.functions[0], *item_text(item)) for item in value]


# -- the rules ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Context:
    id: str
    source: str
    description: str = rule_key(required_text, default="", show=lambda r, v: [f"context {r.id}: {v}"])
    entries: tuple[Entry, ...] = rule_key(_entries, show=lambda r, v: ["entries: " + ", ".join(e.text for e in v)])
    waits: tuple[Wait, ...] = rule_key(
        read_waits,
        show=lambda r, v: [
            "waits:",
            *(
                f"  {w.function or 'gfp ~ ' + w.gfp}: {w.why}"
                + (f" [completed by {w.completed_by}{' (' + '/'.join(w.completed_on) + ')' if w.completed_on else ''}]" if w.completed_by else "")
                + (f" [pinned: {w.pinned.issuer} takes {'/'.join(w.pinned.take)}]" if w.pinned else "")
                for w in v
            ),
        ],
    )
    workers: tuple[Worker, ...] = rule_key(  # which worker of the context's pool a chain runs on
        read_workers, show=lambda r, v: [f"workers: " + ", ".join(f"{w.function} ({w.worker})" for w in v)] if v else []
    )
    nofs_scope: MaskedScope = rule_key(
        _masked_scope,
        default=MaskedScope(),
        show=lambda r, v: [f"masked GFP waits between {'/'.join(v.enter)} and {'/'.join(v.leave)}"] if v.enter else [],
    )
    references: tuple[str, ...] = rule_key(words)
    teardown_cuts: tuple[TeardownCut, ...] = rule_key(
        _teardown_cuts,
        show=lambda r, v: [
            f"never: {c.caller} -> {c.callee}" + (f" ({c.subsystem})" if c.subsystem else "") + f": {c.why}" for c in v
        ],
    )
    distinct_objects: tuple[DistinctObject, ...] = rule_key(
        rulefinality.distinct_objects, stat="distinct_objects", show=lambda r, v: [f"another object: {d.text}: {d.why}" for d in v]
    )
    reach_cuts: tuple[CutEdge, ...] = rule_key(  # calls this context never makes, though others may
        _cut_edges, show=lambda r, v: [f"never in this context: {c.caller} -> {c.callee}: {c.why}" for c in v]
    )
    pins: tuple[rulefinality.Pin, ...] = rule_key(  # how the context keeps alive what it waits on
        rulefinality.pins,
        stat="nonfinal",
        show=lambda r, v: [
            f"pins the {p.object} by {p.by}" + ("" if p.reference else ", with no reference") + f": {p.why}" for p in v
        ],
    )
    last_if_others_leave: tuple[DistinctObject, ...] = rule_key(  # reported as last only if others leave
        rulefinality.distinct_objects, show=lambda r, v: [f"last only if others leave: {d.text}: {d.holders}: {d.why}" for d in v]
    )


@dataclass(frozen=True, slots=True)
class Put:
    id: str
    source: str
    object: str = rule_key(required_text, default="")
    functions: tuple[str, ...] = rule_key(required_words)
    description: str = rule_key(required_text, default="")
    takes: tuple[str, ...] = rule_key(  # calls that take (or return) a reference on the object
        words,
        stat="nonfinal",
        show=lambda r, v: [
            f"not final: {r.functions[0]}() enclosed by a take ({'/'.join(v)}) before and a drop after, on every path"
        ]
        if v
        else [],
    )
    nonfinal_if_from: tuple[rulefinality.HeldOrigin, ...] = rule_key(  # found from an object held across the put
        rulefinality.held_origins,
        stat="nonfinal",
        show=_put_lines("not final: {}({}(x)) while x is held across it: {}", lambda i: (i.function, i.why)),
    )
    held_across_by: tuple[Bracket, ...] = rule_key(  # a reference a caller on the chain holds across the call
        rulefinality.brackets,
        stat="nonfinal",
        show=lambda r, v: [
            f"not final: a caller on the chain calls {'/'.join(b.take)} before and {'/'.join(b.drop)} after: {b.why}"
            for b in v
        ],
    )
    nonfinal_if_argument: tuple[ArgumentReason, ...] = rule_key(  # the object, as the chain passes it down
        rulefinality.argument_reasons, stat="nonfinal", show=_put_lines("not final: {}() of {}: {}", lambda i: (i.argument, i.why))
    )
    harmless_when: tuple[ConditionReason, ...] = rule_key(  # known at the put site: it tears nothing down
        rulefinality.condition_reasons,
        stat="harmless_puts",
        show=_put_lines("harmless: {}() when {} is known at the put: {}", lambda i: (i.condition.replace("$ARG", "x"), i.why)),
    )
    harmless_unless_after: tuple[str, ...] = rule_key(  # calls on the argument that undo what a condition said
        words, show=lambda r, v: [f"  unless after {'/'.join(v)}()"] if v else []
    )
    harmless_unless_null_from: tuple[str, ...] = rule_key(  # of those, the ones that undo it only when they return NULL
        words, show=lambda r, v: [f"  ({'/'.join(v)} only when it returns NULL)"] if v else []
    )
    accessors: tuple[str, ...] = rule_key(words)  # give the same object in another type: ceph_inode(inode)
    owned_by: tuple[str, ...] = rule_key(words)  # ops struct types whose definers own the object (search.owners)
    holders: str = rule_key(text, default="")  # who else holds the object, as "last if others leave" names them
    drops_others: tuple[FunctionReason, ...] = rule_key(  # a call of one before the put makes it last by design
        function_reasons, show=_put_lines("last by design: {}() after {}(): {}", lambda i: (i.function, i.why))
    )
    drops_lower: tuple[FunctionReason, ...] = rule_key(  # puts of another filesystem's object (stacking)
        function_reasons, show=_put_lines("teardown goes on below: {}() in {}(): {}", lambda i: (i.function, i.why))
    )
    last_by_design: tuple[rulefinality.ByDesign, ...] = rule_key(
        rulefinality.by_design, show=_put_lines("last by design: {}() in {}(): {}", lambda i: (i.function, i.why))
    )


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    source: str
    kind: str = rule_key(_check_kind, default="final-put")  # the analysis (putlint.checks) that runs it
    context: str = rule_key(required_text, default="")
    puts: tuple[str, ...] = rule_key(required_words)
    severity: str = rule_key(_one_of(SEVERITIES, "severity"), default="")  # of findings whose wait has no model
    severity_by_cycle: tuple[tuple[str, str], ...] = rule_key(_severity_by_cycle)  # (cycle kind, severity)
    confidence: str = rule_key(_one_of(CONFIDENCES, "confidence"), default="")
    message: str = rule_key(_message, default="")
    description: str = rule_key(required_text, default="")
    references: tuple[str, ...] = rule_key(words)

    def severity_for(self, cycle: str) -> str:
        """The severity of a finding whose teardown closes a `cycle` (waits.CYCLES)."""
        return dict(self.severity_by_cycle).get(cycle, self.severity)


@dataclass(frozen=True, slots=True)
class Deferrals:
    """deferrals.yaml: what stops a search in every context (see `search.edges`)."""

    deferrals: tuple[FunctionReason, ...] = rule_key(function_reasons)
    cut_edges: tuple[CutEdge, ...] = rule_key(_cut_edges)
    callbacks: tuple[str, ...] = rule_key(words)
    opaque: tuple[FunctionReason, ...] = rule_key(function_reasons)


@dataclass(frozen=True, slots=True)
class Limits:
    """limits.yaml: how far the searches go; the last file that sets a limit wins."""

    reach_depth: int = rule_key(number, default=14)
    teardown_depth: int = rule_key(number, default=10)
    fanout: int = rule_key(number, default=64)
    fanout_near: int = rule_key(number, default=8)


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
        return replace(self, checks=keep)


# -- loading -----------------------------------------------------------------


_REMOVED = {
    "nonfinal_if_preceded_by": "an earlier take in the same function is no evidence that a put is not the last"
    " (it is how a put becomes the last); list the taking functions under 'takes', which count only when"
    " a take before and a drop after enclose the put on every path",
}


def _keyed_values(cls, mapping: Mapping, extra: set[str] = frozenset()) -> dict:
    keys = rule_keys(cls)
    for key, why in _REMOVED.items():
        if key in mapping.key_lines:
            raise mapping.error(mapping.key_lines[key], f"{key!r} is no longer a rule key: {why}")
    mapping.check_keys({f.name for f in keys} | extra)
    return {f.name: f.metadata["read"](mapping, f.name) for f in keys}


def _rule(cls, mapping: Mapping, stem: str):
    rule_id = identifier(mapping, "id")
    if rule_id != stem:
        raise mapping.error(mapping.key_lines["id"], f"id {rule_id!r} must equal the file name {stem!r}")
    return cls(rule_id, mapping.source, **_keyed_values(cls, mapping, {"id"}))


def _files(directory, sub: str) -> list:
    folder = directory.joinpath(sub)
    if not folder.is_dir():
        return []
    return sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)


def _settings(directory, name: str, label_root: str, cls):
    """The keys of `directory/name` when it exists, read as `cls` fields, else None."""
    file = directory.joinpath(name)
    if not file.is_file():
        return None
    mapping = read_rule_file(file, f"{label_root}/{name}")
    if cls is Deferrals and "limits" in mapping.items:
        raise mapping.error(mapping.key_lines["limits"], "limits live in limits.yaml beside deferrals.yaml")
    return _keyed_values(cls, mapping)


def load_rules(extra_dirs: tuple[Path, ...] = ()) -> RuleSet:
    """The shipped rules plus those in `extra_dirs`, validated as a whole."""
    directories: list = [resources.files("putlint.rules")]
    for extra in extra_dirs:
        if not Path(extra).is_dir():
            raise InputError(f"rules directory {str(extra)!r} does not exist")
        directories.append(Path(extra))
    tables: dict[str, dict] = {"contexts": {}, "puts": {}, "checks": {}}
    classes = {"contexts": Context, "puts": Put, "checks": Check}
    stops: dict[str, list] = {f.name: [] for f in rule_keys(Deferrals)}
    limits: dict = {}
    for directory in directories:
        label_root = "rules" if directory is directories[0] else str(directory)
        for kind, table in tables.items():
            for file in _files(directory, kind):
                label = f"{label_root}/{kind}/{file.name}"
                rule = _rule(classes[kind], read_rule_file(file, label), file.name[: -len(".yaml")])
                if rule.id in table:
                    raise InputError(f"{label}: {kind[:-1]} id {rule.id!r} is already defined in {table[rule.id].source}")
                table[rule.id] = rule
        for key, value in (_settings(directory, "deferrals.yaml", label_root, Deferrals) or {}).items():
            stops[key].extend(value)
        limits.update((k, v) for k, v in (_settings(directory, "limits.yaml", label_root, Limits) or {}).items() if v is not None)
    _never_registrations(stops)
    contexts, puts, checks = tables["contexts"], tables["puts"], tables["checks"]
    for check in checks.values():
        if check.context not in contexts:
            raise InputError(f"{check.source}: context {check.context!r} is not defined in any contexts/ file")
        for put in check.puts:
            if put not in puts:
                raise InputError(f"{check.source}: put {put!r} is not defined in any puts/ file")
    for rule in (*contexts.values(), *puts.values()):
        for item in (*getattr(rule, "pins", ()), *getattr(rule, "nonfinal_if_from", ())):
            kind = getattr(item, "object", "") or getattr(item, "holder", "")
            if kind and kind not in puts:
                raise InputError(f"{item.where}: {kind!r} is not a put defined in any puts/ file")
    return RuleSet(
        contexts,
        puts,
        checks,
        tuple(stops["deferrals"]),
        tuple(stops["cut_edges"]),
        frozenset(stops["callbacks"]),
        tuple(stops["opaque"]),
        Limits(**limits),
    )


def _never_registrations(stops: dict[str, list]) -> None:
    """A deferral, opaque function or cut callee that is a registration API can
    never match: registrations are never call edges (kernel/apis.yaml)."""
    from .kernel.apis import REGISTRATION_APIS

    for key in ("deferrals", "opaque"):
        for entry in stops[key]:
            if entry.function in REGISTRATION_APIS:
                raise InputError(
                    f"{key}: {entry.function} is a registration API (kernel/apis.yaml): it never becomes a call,"
                    " so this entry can never match"
                )
    for cut in stops["cut_edges"]:
        if cut.callee in REGISTRATION_APIS:
            raise InputError(f"cut_edges: {cut.caller} -> {cut.callee}: {cut.callee} is a registration API, never a call")


def describe(rules: RuleSet, check_id: str) -> list[str]:
    """`putlint rules show`: a check with its context and puts, one line or
    more per rule key that has something to say."""
    check = rules.checks[check_id]
    context = rules.contexts[check.context]
    puts = [rules.puts[put_id] for put_id in check.puts]
    lines = [f"{check.id} ({check.severity}, confidence {check.confidence}) [{check.source}]", check.description]
    for key in rule_keys(Context):
        if key.metadata["show"] is not None:
            lines.extend(key.metadata["show"](context, getattr(context, key.name)))
    lines.append("puts: " + ", ".join(name for put in puts for name in put.functions))
    for key in rule_keys(Put):
        for put in puts:
            if key.metadata["show"] is not None:
                lines.extend(key.metadata["show"](put, getattr(put, key.name)))
    lines.extend(f"see {reference}" for reference in dict.fromkeys((*check.references, *context.references)))
    return lines
