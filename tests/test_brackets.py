"""Reference brackets (brackets.py): a take before a call and a drop after it
enclose the call only when the function's structure shows it on every path."""

import pytest

from putlint import brackets
from putlint.parse.onsite import BodyReader

TAKES = frozenset({"ihold", "igrab"})
DROPS = frozenset({"iput"})


def judged(source: str, middle: str = "g"):
    body = BodyReader(source.encode()).body(1)
    (call,) = [c for c in body.calls if c.callee == middle]
    found = brackets.find(body, call, call.argument_texts[0], TAKES, DROPS, own=middle == "iput")
    if found is None:
        return None
    return (found.kind, found.take.line if found.take else None, found.drop.line if found.drop else None, found.why)


def test_a_take_before_and_a_drop_after_enclose_the_call():
    assert judged("void f(struct inode *i)\n{\n\tstruct inode *x = igrab(i);\n\tif (!x)\n\t\treturn;\n\tg(x);\n\tiput(x);\n}\n") == (
        "encloses", 3, 7, "")


@pytest.mark.parametrize(
    "body, why",
    [
        ("ihold(i);\n\tg(i);\n\tif (a)\n\t\tiput(i);", "the drop at line 6 runs only in the then-branch of the if at line 5"),
        ("ihold(i);\n\tg(i);\n\tif (a)\n\t\treturn;\n\tiput(i);", "the return at line 6 leaves before the drop at line 7"),
        ("ihold(i);\n\tg(i);\n\twhile (a--)\n\t\tiput(i);", "the drop at line 6 runs only in the loop at line 5"),
        ("if (a)\n\t\tihold(i);\n\tg(i);\n\tif (a)\n\t\tiput(i);",
         "the take at line 4 runs only in the then-branch of the if at line 3"),
        ("if (a)\n\t\tgoto in;\n\tihold(i);\nin:\n\tg(i);\n\tif (a)\n\t\tiput(i);",
         "a goto to the label at line 6 skips the take at line 5"),
        ("ihold(i);\n\tg(i);\n\tif (a)\n\t\tgoto out;\n\tiput(i);\nout:\n\treturn;",
         "the goto at line 6 jumps past the drop at line 7"),
        ("ihold(i);\n\tg(i);\n\ta ? iput(i) : 0;", "the drop at line 5 runs only in a conditional expression at line 5"),
        ("ihold(i);\n\tg(i);\n\tihold(i);\n\tiput(i);", "ihold() at line 5 takes or drops it again in between"),
    ],
)
def test_what_is_not_shown_keeps_the_bracket_unproven(body, why):
    source = f"void f(struct inode *i, int a)\n{{\n\t{body}\n}}\n"
    kind, _take, _drop, found = judged(source)
    assert (kind, found) == ("unproven", why)


def test_gotos_that_land_before_the_drop_and_loops_around_both_keep_it():
    forward = "void f(struct inode *i, int a)\n{\n\tihold(i);\n\tg(i);\n\tif (a)\n\t\tgoto out;\n\th(i);\nout:\n\tiput(i);\n}\n"
    assert judged(forward)[0] == "encloses"
    loop = "void f(struct inode *i, int n)\n{\n\twhile (n--) {\n\t\tihold(i);\n\t\tg(i);\n\t\tiput(i);\n\t}\n}\n"
    assert judged(loop)[0] == "encloses"
    inner = "void f(struct inode *i, int n)\n{\n\tihold(i);\n\tg(i);\n\tfor (; n; n--) {\n\t\tif (n == 3)\n\t\t\tbreak;\n\t}\n\tiput(i);\n}\n"
    assert judged(inner)[0] == "encloses"
    taken = "void f(struct inode *i, int a)\n{\n\tihold(i);\n\tif (a) {\n\t\tg(i);\n\t\tgoto out;\n\t}\n\tif (!h())\n\t\treturn;\nout:\n\tiput(i);\n}\n"
    assert judged(taken)[0] == "encloses"  # the branch's own goto skips the return below it
    broken = "void f(struct inode *i, int n)\n{\n\tihold(i);\n\tfor (;;) {\n\t\tg(i);\n\t\tbreak;\n\t}\n\tiput(i);\n}\n"
    assert judged(broken)[0] == "encloses"
    once = "void f(struct inode *i, int a)\n{\n\tihold(i);\n\tdo {\n\t\tg(i);\n\t} while (0);\n\tiput(i);\n}\n"
    assert judged(once)[0] == "encloses"


def test_a_drop_on_every_path_after_the_call_shows_a_reference_the_function_owns():
    # taken by the caller (d_splice_alias consumes its inode's), or taken here on some paths only
    consumed = "void f(struct inode *i)\n{\n\tg(i);\n\tiput(i);\n}\n"
    assert judged(consumed) == ("encloses", None, 4, "")
    some_paths = "void f(struct inode *i, int a)\n{\n\tif (a)\n\t\tgoto in;\n\tihold(i);\nin:\n\tg(i);\n\tiput(i);\n}\n"
    assert judged(some_paths) == ("encloses", None, 8, "")
    # a copy made before the call may hold another object by the drop
    copied = "void f(struct inode *i)\n{\n\tstruct inode *last = i;\n\ti = h();\n\tg(i);\n\tiput(last);\n}\n"
    assert judged(copied) is None
    looped = "void f(struct inode *i, int n)\n{\n\twhile (n--) {\n\t\ti = h();\n\t\tg(i);\n\t}\n\tiput(i);\n}\n"
    assert judged(looped) is None


def test_a_take_whose_drop_is_the_call_is_balanced_and_a_spent_take_is_nothing():
    own = "void f(struct inode *i)\n{\n\tihold(i);\n\th(i);\n\tiput(i);\n}\n"
    assert judged(own, "iput") == ("balanced", 3, None, "")
    spent = "void f(struct inode *i)\n{\n\tihold(i);\n\tiput(i);\n\tg(i);\n}\n"
    assert judged(spent) is None
    other = "void f(struct inode *i)\n{\n\tstruct inode *x = igrab(i);\n\tx = h();\n\tg(x);\n\tiput(x);\n}\n"
    assert judged(other) == ("encloses", None, 6, "")  # not igrab's: the drop shows x = h() is owned
    # a drop after the name holds another object drops that one
    renamed = "void f(struct inode *i)\n{\n\tihold(i);\n\tg(i);\n\ti = h();\n\tiput(i);\n}\n"
    assert judged(renamed) == ("unproven", 3, None, "no drop of i after the call is in view")


def test_the_flow_of_a_body_lists_regions_exits_labels_and_writes():
    body = BodyReader(b"void f(int a)\n{\nagain:\n\tif (a && m())\n\t\tgoto again;\n\ta = k() ? 1 : l();\n}\n").body(1)
    regions = {c.callee: [(r.kind, r.line) for r in body.flow.regions[i]] for i, c in enumerate(body.calls)}
    assert regions == {"m": [("branch", 4)], "k": [], "l": [("branch", 6)]}
    assert [(e.kind, e.line) for e in body.flow.exits] == [("goto", 5)]
    assert body.flow.exits[0].target == body.flow.labels[0][0] and body.flow.labels[0][1] == 3
    assert [(name, line) for name, _offset, line in body.flow.writes] == [("a", 6)]
