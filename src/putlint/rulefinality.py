"""The rule parts that decide finality (DESIGN.md, "Finality"), read for the
`Put` and `Context` keys that `ruleset` declares with `rule_key`:

- `pins` (context): how a context pins the object it waits on, and whether
  that pin is a reference (writeback pins the inode it writes by `I_SYNC`,
  with none);
- `nonfinal_if_from` (put): the put's argument was found from another object
  (`d_find_alias(inode)`): its teardown ends that object only when that
  object's last reference goes, so the put is not final for it when that
  object is held across the put;
- `drops_others` (put): calls that drop the object's other references; one
  between the take and the put makes the put last by design;
- `last_by_design` (put): functions whose put drops the reference whose
  release is the object's end;
- `last_if_others_leave` (context): puts that are the last only when other
  holders leave in between (a reference the function looked up itself);
- and the parts of the keys that rule a put out (`finality.FILTERS`):
  `distinct_objects`, `held_across_by` brackets, `harmless_when` conditions,
  `nonfinal_if_argument` holders.

Every part remembers where it was written (`where`, file:line) and may name
the functions whose code it assumes something about (`assumes`); see
`assumptions`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rulefile import Mapping, check_condition, check_regex


@dataclass(frozen=True, slots=True)
class Pin:
    """A context keeps `object` (a put id) alive `by` something; when that is
    not a `reference`, no reasoning that "the caller holds it" applies."""

    object: str
    by: str
    reference: bool
    why: str
    where: str = ""
    assumes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HeldOrigin:
    """The put's argument came from `x = function(object, ...)`: it hangs on
    that first argument, an object of put kind `holder` (default: the put's
    own)."""

    function: str
    holder: str
    why: str
    where: str = ""
    assumes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FunctionReason:
    """A function a rule names, and why: one that defers a put or is opaque to
    the searches (deferrals.yaml), or one that drops the other references of
    the object it is given (`drops_others`) or a lower filesystem's object
    (`drops_lower`)."""

    function: str
    why: str
    where: str = ""
    assumes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ByDesign:
    """A put made by `function`, or by a target of one of `ops` that it calls,
    drops the reference whose release is the object's end."""

    function: str
    ops: tuple[str, ...]
    why: str
    where: str = ""
    assumes: tuple[str, ...] = ()


def pins(mapping: Mapping, key: str) -> tuple[Pin, ...]:
    found = []
    for item in mapping.mappings(key):
        item.check_keys({"object", "by", "reference", "why", "assumes"})
        node = item.items.get("reference")
        reference = str(getattr(node, "value", "")).lower()
        if reference not in ("true", "false"):
            raise item.error(item.key_lines.get("reference", item.line), "reference must be true or false")
        found.append(
            Pin(item.text("object"), item.text("by"), reference == "true", item.text("why"), item.where, item.words("assumes"))
        )
    return tuple(found)


def held_origins(mapping: Mapping, key: str) -> tuple[HeldOrigin, ...]:
    found = []
    for item in mapping.mappings(key):
        item.check_keys({"function", "holder", "why", "assumes"})
        found.append(
            HeldOrigin(
                item.text("function"), item.text("holder", required=False), item.text("why"), item.where, item.words("assumes")
            )
        )
    return tuple(found)


def function_reasons(mapping: Mapping, key: str) -> tuple[FunctionReason, ...]:
    found = []
    for item in mapping.mappings(key):
        item.check_keys({"function", "why", "assumes"})
        found.append(FunctionReason(item.text("function"), item.text("why"), item.where, item.words("assumes")))
    return tuple(found)


def by_design(mapping: Mapping, key: str) -> tuple[ByDesign, ...]:
    found = []
    for item in mapping.mappings(key):
        item.check_keys({"function", "ops", "why", "assumes"})
        ops = item.words("ops")
        for name in ops:
            if name.count(".") != 1:
                raise item.error(item.key_lines["ops"], f"ops {name!r} must be struct_type.field")
        found.append(ByDesign(item.text("function"), ops, item.text("why"), item.where, item.words("assumes")))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class DistinctObject:
    """A put that drops another object than the ones the context waits on, told
    by all of those given of: `origin`, a regular expression on the function
    whose result the put's local argument last came from; `argument`, one on
    the argument's text (`req->r_parent`); `function`, the function making the
    put; `condition`, a condition known at the put site (`S_ISDIR($ARG->i_mode)`,
    see `conditions.known_at`)."""

    why: str
    origin: str = ""
    argument: str = ""
    function: str = ""
    condition: str = ""
    except_subsystems: tuple[str, ...] = ()  # where it does not hold (see graph.subsystem_of)
    holders: str = ""  # last_if_others_leave: who must leave for the put to be the last
    where: str = ""
    assumes: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        parts = []
        if self.function:
            parts.append(f"in {self.function}")
        if self.argument:
            parts.append(f"of {self.argument}")
        if self.origin:
            parts.append(f"of a local from {self.origin}")
        if self.condition:
            parts.append(f"when {self.condition.replace('$ARG', 'x')} is known")
        return "put " + ", ".join(parts)


@dataclass(frozen=True, slots=True)
class ArgumentReason:
    """A regular expression on the put's argument, or on what a caller on the
    chain passed for it (`d_inode(req->r_dentry)`)."""

    argument: str
    why: str
    where: str = ""
    assumes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Bracket:
    """A function on the chain calls one of `take` before the call that leads
    to the put and one of `drop` after it, on every path (see `brackets`): it
    holds a reference across the put."""

    take: tuple[str, ...]
    drop: tuple[str, ...]
    why: str
    where: str = ""
    assumes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConditionReason:
    """A condition on the put's argument `$ARG`, C syntax: `!d_inode($ARG)`."""

    condition: str
    why: str
    where: str = ""
    assumes: tuple[str, ...] = ()



def distinct_objects(mapping: Mapping, key: str) -> tuple[DistinctObject, ...]:
    distinct = []
    kinds = ("origin", "argument", "function", "condition")
    holders = key == "last_if_others_leave"
    for item in mapping.mappings(key):
        item.check_keys({*kinds, "why", "except_subsystems", "assumes", *(("holders",) if holders else ())})
        given = {kind: item.text(kind, required=False) for kind in kinds}
        if not any(given.values()):
            raise item.error(item.line, "a distinct object names one or more of 'origin', 'argument', 'function', 'condition'")
        for kind in ("origin", "argument"):
            if given[kind]:
                check_regex(item, kind, given[kind])
        if given["condition"]:
            check_condition(item, "condition", given["condition"])
        distinct.append(
            DistinctObject(
                item.text("why"), **given, except_subsystems=item.words("except_subsystems"),
                holders=item.text("holders", required=holders) if holders else "", where=item.where,
                assumes=item.words("assumes"),
            )
        )
    return tuple(distinct)


def brackets(mapping: Mapping, key: str) -> tuple[Bracket, ...]:
    found = []
    for item in mapping.mappings(key):
        item.check_keys({"take", "drop", "why", "assumes"})
        found.append(
            Bracket(
                item.words("take", required=True), item.words("drop", required=True), item.text("why"), item.where,
                item.words("assumes"),
            )
        )
    return tuple(found)


def condition_reasons(mapping: Mapping, key: str) -> tuple[ConditionReason, ...]:
    found = []
    for item in mapping.mappings(key):
        item.check_keys({"condition", "why", "assumes"})
        found.append(
            ConditionReason(
                check_condition(item, "condition", item.text("condition")), item.text("why"), item.where, item.words("assumes")
            )
        )
    return tuple(found)


def argument_reasons(mapping: Mapping, key: str) -> tuple[ArgumentReason, ...]:
    found = []
    for item in mapping.mappings(key):
        item.check_keys({"argument", "why", "assumes"})
        found.append(
            ArgumentReason(
                check_regex(item, "argument", item.text("argument")), item.text("why"), item.where, item.words("assumes")
            )
        )
    return tuple(found)



# -- assumptions ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assumption:
    """A rule part (at `where`) that assumes `what` of `function`'s code."""

    function: str
    where: str
    what: str


_NAMED = ("function", "caller", "callee", "take", "drop")


def _plain(name) -> list[str]:
    names = name if isinstance(name, tuple) else (name,)
    return [n for n in names if isinstance(n, str) and n.isidentifier()]


def assumptions(rules) -> dict[str, list[Assumption]]:
    """Function name -> the rule parts that name it (in a field naming a
    function, an `origin` that is a plain name, or `assumes`)."""
    found: dict[str, list[Assumption]] = {}
    groups = []
    for context in rules.contexts.values():
        groups.extend((f"{context.id} {key}", getattr(context, key)) for key in _CONTEXT_KEYS)
    for put in rules.puts.values():
        groups.extend((f"put {put.id} {key}", getattr(put, key)) for key in _PUT_KEYS)
    groups.extend((key, getattr(rules, key)) for key in ("deferrals", "cut_edges"))
    for label, items in groups:
        for item in items:
            where = getattr(item, "where", "")
            if not where:
                continue
            names = [n for field in _NAMED for n in _plain(getattr(item, field, ""))]
            names += _plain(getattr(item, "origin", ""))
            names += list(getattr(item, "assumes", ()))
            what = f"{label}: {item.why}"
            for name in dict.fromkeys(names):
                found.setdefault(name, []).append(Assumption(name, where, what))
    return found


_CONTEXT_KEYS = ("pins", "teardown_cuts", "distinct_objects", "last_if_others_leave", "reach_cuts")
_PUT_KEYS = (
    "held_across_by", "nonfinal_if_from", "nonfinal_if_argument", "harmless_when", "drops_others", "drops_lower",
    "last_by_design",
)
