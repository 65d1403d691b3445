"""What one search learns and a later one starts from (`search.memo`): site
readings keyed by the bytes they were read from, and edges that a patch makes
stale exactly where it can change them."""

from types import SimpleNamespace

import pytest

from putlint.checkpatch import _changes_symbols
from putlint.parse import extract_rows
from putlint.ruleset import load_rules
from putlint.scan import open_analysis
from putlint.search import Memo, search_contexts, sources as sources_module
from putlint.search.edges import EdgeView
from putlint.search.memo import stale_after
from putlint.search.sources import SourceReader, merge_readings
from putlint.search.stats import ContextStats
from test_graph import CHANGED_FILES, OPS_FILES, program
from trees import TREE as FIXTURE

NO_RULES = SimpleNamespace(callbacks=frozenset({"kref_put"}), deferrals=(), opaque=(), cut_edges=())


def _edges_by_name(prog, view: EdgeView) -> dict[tuple[str, str], list[tuple]]:
    stats = ContextStats()
    return {
        (prog.path_of(f), prog.func_name[f]): [(e.callee, e.target, e.kind, e.line, e.via) for e in view.of(f, "", stats)]
        for f in range(len(prog.func_name))
        if f not in prog.symbols.dead
    }


BASE_FILES = {**OPS_FILES, "fs/d/d.c": "void d(struct super_block *sb) { evict(sb); }\n"}


def test_saved_edges_are_stale_exactly_where_a_patch_can_change_them():
    before = program(BASE_FILES)
    view = EdgeView(before, NO_RULES)
    _edges_by_name(before, view)
    saved = view.export()

    patched = program(BASE_FILES)
    rows = {path: extract_rows(text.encode()) for path, text in {**BASE_FILES, **CHANGED_FILES}.items()}
    changes = {path: rows[path] for path in CHANGED_FILES}
    old = lambda path: extract_rows(BASE_FILES[path].encode()) if path in BASE_FILES else None  # noqa: E731
    names, fields = _changes_symbols(changes, old)
    patched.replace_files(changes, old)
    stale = stale_after(patched, changes, names, fields)

    fresh = _edges_by_name(patched, EdgeView(patched, NO_RULES))
    started = _edges_by_name(patched, EdgeView(patched, NO_RULES, saved, stale))
    assert started == fresh
    verdicts = {
        (patched.path_of(f), patched.func_name[f]): stale(f) for f, _ in saved if f not in patched.symbols.dead
    }
    assert verdicts == {
        ("fs/a/super.c", "a_evict"): True,  # its file changed
        ("fs/inode.c", "evict"): True,  # calls `helper`, defined elsewhere now, and `->evict_inode`, which gained one
        ("fs/d/d.c", "d"): False,  # calls `evict`, whose definition the patch leaves alone
    }
    # the same call is stale once a patch changes what its name resolves to
    (d,) = patched.functions_named("d")
    assert stale_after(patched, ["fs/inode.c"], {"evict"}, set())(d)


def test_a_saved_edge_to_a_function_a_patch_removed_is_resolved_again():
    before = program(BASE_FILES)
    view = EdgeView(before, NO_RULES)
    _edges_by_name(before, view)
    # a_evict goes; the initializer naming it stays, so no ops row changes
    changed = {"fs/a/super.c": BASE_FILES["fs/a/super.c"].replace("static void a_evict(struct inode *i) { a_wait(); }\n", "")}
    patched = program(BASE_FILES)
    changes = {path: extract_rows(text.encode()) for path, text in changed.items()}
    old = lambda path: extract_rows(BASE_FILES[path].encode())  # noqa: E731
    names, fields = _changes_symbols(changes, old)
    assert names == {"a_evict"} and not fields
    patched.replace_files(changes, old)
    (evict,) = patched.functions_named("evict")
    assert not stale_after(patched, changes, names, fields)(evict)
    started = _edges_by_name(patched, EdgeView(patched, NO_RULES, view.export(), stale_after(patched, changes, names, fields)))
    assert started == _edges_by_name(patched, EdgeView(patched, NO_RULES))
    assert [callee for callee, *_ in started[("fs/inode.c", "evict")]] == ["helper"]


def test_a_view_started_from_saved_edges_does_not_resolve_them_again(monkeypatch):
    prog = program(BASE_FILES)
    view = EdgeView(prog, NO_RULES)
    resolved = _edges_by_name(prog, view)
    monkeypatch.setattr(prog, "edges", lambda *args: pytest.fail("resolved again"))
    assert _edges_by_name(prog, EdgeView(prog, NO_RULES, view.export(), lambda function: False)) == resolved


def test_site_readings_are_used_for_the_same_bytes_and_read_again_for_others(tmp_path, monkeypatch):
    rules = load_rules()
    with open_analysis(FIXTURE, rules, tmp_path) as (prog, sources):
        first = SourceReader(prog, sources)
        function = next(f for f in range(len(prog.func_name)) if prog.calls_of(f))
        body = first.body(function)
        readings = first.fresh_readings()
        assert list(readings) == [prog.path_of(function)]

        parsed = []
        real = sources_module.BodyReader
        monkeypatch.setattr(sources_module, "BodyReader", lambda source: parsed.append(1) or real(source))
        same = SourceReader(prog, sources, readings)
        assert same.body(function) == body and parsed == [] and same.fresh_readings() == {}

        edited = lambda path: (sources(path) or b"") + b"\n/* edited */\n"  # noqa: E731
        other = SourceReader(prog, edited, readings)
        assert other.body(function) == body and parsed == [1]
        assert other.fresh_readings()[prog.path_of(function)][0] != readings[prog.path_of(function)][0]


def test_readings_of_the_same_bytes_unite_and_newer_bytes_replace_older():
    import pickle

    def reading(digest, bodies):
        return digest, pickle.dumps((bodies, {}))

    into = {"a.c": reading(b"1", {10: None}), "b.c": reading(b"1", {5: None})}
    merge_readings(into, {"a.c": reading(b"1", {20: None}), "b.c": reading(b"2", {7: None})})
    assert pickle.loads(into["a.c"][1])[0] == {10: None, 20: None}
    assert into["b.c"][0] == b"2" and pickle.loads(into["b.c"][1])[0] == {7: None}


def test_a_search_started_from_what_another_learned_finds_the_same(tmp_path, monkeypatch):
    rules = load_rules()
    with open_analysis(FIXTURE, rules, tmp_path) as (prog, sources):
        learned = Memo(edges={})
        first = search_contexts(prog, rules, lambda path: True, sources=sources, learned=learned)
        assert learned.readings and learned.edges
        monkeypatch.setattr(sources_module, "BodyReader", lambda source: pytest.fail("parsed again"))
        again = search_contexts(prog, rules, lambda path: True, sources=sources, known=learned, jobs=2)
    assert {c: r.findings for c, r in again.items()} == {c: r.findings for c, r in first.items()}
    assert {c: len(r.stats.fanout_cuts) for c, r in again.items()} == {c: len(r.stats.fanout_cuts) for c, r in first.items()}
