"""The stop vocabulary's cuts name a call by its text or by the function it reaches."""

from types import SimpleNamespace

from putlint.graph import MEMBER, Edge
from putlint.search.edges import EdgeView


def _view(names):
    view = EdgeView.__new__(EdgeView)  # only `cuts` and `target_name` are used: they read func_name
    view.program = SimpleNamespace(func_name=names)
    return view


def test_a_cut_names_an_ops_call_by_one_of_its_targets_and_leaves_the_others():
    view = _view(["afs_put_operation", "afs_rename_put", "afs_create_put"])
    rename = Edge(1, "op->ops->put", 229, 3, MEMBER, "(struct afs_operation_ops)->put", "")
    create = Edge(2, "op->ops->put", 229, 3, MEMBER, "(struct afs_operation_ops)->put", "")
    cut = frozenset({("afs_put_operation", "afs_rename_put")})
    assert view.cuts(cut, "afs_put_operation", rename)
    assert not view.cuts(cut, "afs_put_operation", create)
    assert not view.cuts(cut, "afs_store_data", rename)
    # the call's text still names every target of the call
    assert view.cuts(frozenset({("afs_put_operation", "op->ops->put")}), "afs_put_operation", create)


def test_a_call_with_no_definition_is_cut_by_its_text():
    view = _view(["caller"])
    edge = Edge(-1, "some_macro", 10, 1, "call", "", "")
    assert view.cuts(frozenset({("caller", "some_macro")}), "caller", edge)
    assert not view.cuts(frozenset(), "caller", edge)
