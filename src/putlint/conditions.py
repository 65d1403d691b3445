"""What the conditions at a call site say (see `sitefacts`).

Two uses. Constants a caller passes down a chain decide branches in the
callees: `xfs_icwalk(mp, XFS_ICWALK_RECLAIM, ...)` never reaches the
`case XFS_ICWALK_BLOCKGC:` call below it, and `request_demote(..., false)`
never gets past `if (!remote) return;` in a `->go_callback`. And a put site's
conditions can say what the put drops: `dput(dn)` in the else branch of
`if (d_really_is_positive(dn))` drops a negative dentry.

Values are ints (literals, true/false/NULL) or constant names (str); two
different constant names are taken to be different values, as the labels of
one switch must be. Anything else is unknown (None), and an unknown never
rules a path out.
"""

from __future__ import annotations

from .sitefacts import CallSite, Condition, FunctionBody

Bindings = dict  # parameter name -> int | str


def value(expr: tuple, bindings: Bindings):
    kind = expr[0]
    if kind == "num":
        return expr[1]
    if kind == "sym":
        return expr[1]
    if kind == "var":
        return bindings.get(expr[1])
    return None


def truth(expr: tuple, bindings: Bindings) -> bool | None:
    kind = expr[0]
    if kind == "not":
        inner = truth(expr[1], bindings)
        return None if inner is None else not inner
    if kind == "and":
        left, right = truth(expr[1], bindings), truth(expr[2], bindings)
        if left is False or right is False:
            return False
        return True if left and right else None
    if kind == "or":
        left, right = truth(expr[1], bindings), truth(expr[2], bindings)
        if left or right:
            return True
        return False if left is False and right is False else None
    if kind in ("eq", "ne"):
        same = _equal(value(expr[1], bindings), value(expr[2], bindings))
        return same if same is None or kind == "eq" else not same
    if kind == "case":
        return _case(expr, bindings)
    known = value(expr, bindings)
    return known != 0 if isinstance(known, int) else None


def _equal(left, right) -> bool | None:
    if left is None or right is None or isinstance(left, int) != isinstance(right, int):
        return None
    return left == right


def _case(expr: tuple, bindings: Bindings) -> bool | None:
    _, subject, labels, default_reaches, all_labels = expr
    known = value(subject, bindings)
    if known is None:
        return None
    into = [_equal(known, value(label, bindings)) for label in labels]
    if True in into:
        return True
    matches = [_equal(known, value(label, bindings)) for label in all_labels]
    if default_reaches:
        if all(m is False for m in matches):
            return True
        if True not in matches:
            return None
    return False if all(i is False for i in into) else None


def contradiction(site: CallSite, bindings: Bindings) -> Condition | None:
    """The first condition of `site` that `bindings` decide the other way."""
    if not bindings:
        return None
    for condition in site.conditions:
        if truth(condition.expr, bindings) is (not condition.holds):
            return condition
    return None


def callee_bindings(site: CallSite, callee: FunctionBody, bindings: Bindings) -> Bindings:
    """The callee's parameters that the call fixes: a constant argument, or a
    caller parameter fixed itself; not those the callee assigns to."""
    result = {}
    for parameter, argument in zip(callee.parameters, site.arguments):
        if not parameter or parameter in callee.reassigned:
            continue
        known = value(argument, bindings)
        if known is not None:
            result[parameter] = known
    return result


def text(expr: tuple) -> str:
    """Compact C text of an expression, for matching rule conditions."""
    kind = expr[0]
    if kind in ("num", "sym", "var", "text"):
        return str(expr[1])
    if kind == "not":
        return "!" + _operand(expr[1])
    if kind in ("and", "or", "eq", "ne"):
        operator = {"and": "&&", "or": "||", "eq": "==", "ne": "!="}[kind]
        return _operand(expr[1]) + operator + _operand(expr[2])
    return ""


def _operand(expr: tuple) -> str:
    inner = text(expr)
    return f"({inner})" if expr[0] in ("and", "or", "eq", "ne") else inner


def known_atoms(site: CallSite) -> dict[str, tuple[bool, int]]:
    """Simple facts known at `site`: atom text -> (holds, line decided).

    `if (a && b)` gives a and b in its then branch; `if (a || b) return;` gives
    !a and !b after it; a `!` flips.
    """
    found: dict[str, tuple[bool, int]] = {}
    for condition in site.conditions:
        _atoms(condition.expr, condition.holds, condition.line, found)
    return found


def _atoms(expr: tuple, holds: bool, line: int, found: dict) -> None:
    kind = expr[0]
    if kind == "not":
        _atoms(expr[1], not holds, line, found)
    elif (kind == "and" and holds) or (kind == "or" and not holds):
        _atoms(expr[1], holds, line, found)
        _atoms(expr[2], holds, line, found)
    elif kind in ("var", "text", "eq", "ne"):
        found.setdefault(text(expr), (holds, line))


def template_atom(template: str, argument: str) -> tuple[str, bool]:
    """`!d_inode($ARG)` for argument `dn` -> ("d_inode(dn)", False)."""
    compact = "".join(template.split())
    if argument.startswith("&"):
        # `$ARG->i_nlink` for `&ii->vfs_inode` is written `ii->vfs_inode.i_nlink`.
        compact = compact.replace("$ARG->", argument[1:] + ".")
    compact = compact.replace("$ARG", argument)
    holds = True
    while compact.startswith("!"):
        compact = compact[1:]
        holds = not holds
    return compact, holds


def known_at(
    site: CallSite,
    body: FunctionBody,
    templates,
    argument: str,
    lost_after: frozenset[str],
    lost_unless_found: frozenset[str] = frozenset(),
):
    """The first of `templates` (objects with `.condition`) known to hold at
    `site` for the put argument `argument`, unless a call in `lost_after`
    taking the argument runs between where it was decided and the site; one
    in `lost_unless_found` does not count when its result is known non-NULL
    there (`realdn = d_splice_alias(inode, dn); if (realdn) dput(dn);`)."""
    atoms = known_atoms(site)

    def lost(call, since: int) -> bool:
        if call is site or call.callee not in lost_after or argument not in call.argument_texts:
            return False
        if not since <= call.line <= site.line:
            return False
        return not (call.callee in lost_unless_found and call.result and atoms.get(call.result, (False,))[0])

    for template in templates:
        atom, holds = template_atom(template.condition, argument)
        known = atoms.get(atom)
        if known is None or known[0] != holds:
            continue
        if any(lost(call, known[1]) for call in body.calls):
            continue
        return template
    return None


def decided_at(site: CallSite, template: str, argument: str) -> int:
    """The line where the condition `template` on `argument` was decided for
    `site` (see `known_at`), the site's own line when not found."""
    atom, _holds = template_atom(template, argument)
    known = known_atoms(site).get(atom)
    return known[1] if known else site.line
