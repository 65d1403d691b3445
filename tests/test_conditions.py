"""Conditions under constants (conditions.py): three-valued, never ruling out on an unknown."""

from putlint import conditions
from putlint.sitefacts import CallSite, Condition, FunctionBody

LABELS = (("sym", "A"), ("sym", "B"), ("sym", "C"))


def site(*conditions, arguments=(), texts=(), callee="f", line=10):
    return CallSite(line, 2, callee, arguments, texts, tuple(conditions))


def test_truth_is_three_valued():
    remote = ("var", "remote")
    assert conditions.truth(("not", remote), {"remote": 0}) is True
    assert conditions.truth(("or", ("not", remote), ("var", "other")), {"remote": 0}) is True
    assert conditions.truth(("and", remote, ("var", "other")), {"remote": 0}) is False
    assert conditions.truth(("and", remote, ("var", "other")), {"remote": 1}) is None
    assert conditions.truth(("eq", ("var", "goal"), ("sym", "A")), {"goal": "A"}) is True
    assert conditions.truth(("ne", ("var", "goal"), ("sym", "A")), {"goal": "B"}) is True
    # a constant name's value is unknown, so it is neither true nor compared to a number
    assert conditions.truth(("var", "goal"), {"goal": "A"}) is None
    assert conditions.truth(("eq", ("var", "goal"), ("num", 1)), {"goal": "A"}) is None


def test_switch_groups():
    into_a = ("case", ("var", "goal"), (("sym", "A"),), False, LABELS)
    default = ("case", ("var", "goal"), (), True, LABELS)
    assert conditions.truth(into_a, {"goal": "A"}) is True
    assert conditions.truth(into_a, {"goal": "B"}) is False
    assert conditions.truth(into_a, {}) is None
    assert conditions.truth(default, {"goal": "B"}) is False
    assert conditions.truth(default, {"goal": "D"}) is True
    assert conditions.truth(default, {"goal": 3}) is None


def test_contradiction_and_what_a_callee_is_passed():
    guarded = site(Condition(("not", ("var", "remote")), False, 3))
    assert conditions.contradiction(guarded, {"remote": 0}) == guarded.conditions[0]
    assert conditions.contradiction(guarded, {"remote": 1}) is None
    assert conditions.contradiction(guarded, {}) is None
    call = site(arguments=(("var", "inode"), ("sym", "A"), ("var", "remote"), ("num", 0)))
    callee = FunctionBody(("inode", "goal", "remote", "flags"), frozenset({"flags"}), ())
    assert conditions.callee_bindings(call, callee, {"remote": 1}) == {"goal": "A", "remote": 1}


def test_known_at_reads_templates_and_forgets_after_calls_that_change_the_object():
    class Template:
        def __init__(self, condition):
            self.condition = condition

    negative = Template("!d_really_is_positive($ARG)")
    put = site(Condition(("text", "d_really_is_positive(dn)"), False, 4), callee="dput", texts=("dn",))
    body = FunctionBody(("dn",), frozenset(), (put,))
    assert conditions.known_at(put, body, (negative,), "dn", frozenset({"d_add"})) is negative
    assert conditions.known_at(put, body, (negative,), "other", frozenset()) is None
    added = site(callee="d_add", texts=("dn", "inode"), line=6)
    body = FunctionBody(("dn",), frozenset(), (added, put))
    assert conditions.known_at(put, body, (negative,), "dn", frozenset({"d_add"})) is None
    linked = Template("$ARG->i_nlink")
    kept = site(Condition(("or", ("text", "!ii->vfs_inode.i_nlink"), ("var", "mounting")), False, 2))
    # `if (!x || y) ... else put` gives x; and `&ii->vfs_inode` is written `ii->vfs_inode.`
    assert conditions.known_atoms(kept) == {"!ii->vfs_inode.i_nlink": (False, 2), "mounting": (False, 2)}
    assert conditions.template_atom("$ARG->i_nlink", "&ii->vfs_inode") == ("ii->vfs_inode.i_nlink", True)
