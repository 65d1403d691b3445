"""Call resolution on small programs parsed from snippets: C linkage, ops
resolution by type, by unambiguous field name, subsystem affinity and caps."""

from putlint.graph import CALLBACK, MEMBER, Program, subsystem_of
from putlint.parse import extract_rows


def program(files: dict[str, str], fanout: int = 64, fanout_near: int = 8) -> Program:
    return Program.build(((path, extract_rows(text.encode())) for path, text in sorted(files.items())), fanout, fanout_near)


def targets(prog: Program, caller_path: str, caller: str, affinity: str = "", callbacks=frozenset()) -> list[tuple]:
    (function,) = [f for f in prog.functions_named(caller) if prog.path_of(f) == caller_path]
    return [
        (edge.callee, prog.path_of(edge.target) if edge.target >= 0 else None, edge.kind)
        for edge in prog.edges(function, affinity, callbacks)
    ]


def test_subsystems():
    assert subsystem_of("fs/ceph/caps.c") == subsystem_of("net/ceph/osd_client.c") == "ceph"
    assert subsystem_of("fs/xfs/libxfs/xfs_bmap.c") == "xfs"
    assert subsystem_of("fs/inode.c") == subsystem_of("include/linux/fs.h") == subsystem_of("mm/vmscan.c") == ""
    assert subsystem_of("drivers/block/nbd.c") == "block"


def test_direct_calls_link_like_c():
    prog = program(
        {
            "fs/a/a.c": "static void helper(void) {}\nvoid f(void) { helper(); shared(); inl(); relax(); gone(); }\n",
            "fs/b/b.c": "static void helper(void) {}\nvoid shared(void) {}\n",
            "include/linux/x.h": "static inline void inl(void) {}\n",
            "arch/arm/relax.c": "void relax(void) {}\n",
            "arch/x86/relax.c": "void relax(void) {}\n",
            "tools/lib/gone.c": "void gone(void) {}\n",
        }
    )
    assert targets(prog, "fs/a/a.c", "f") == [
        ("helper", "fs/a/a.c", "call"),
        ("shared", "fs/b/b.c", "call"),
        ("inl", "include/linux/x.h", "call"),
        ("relax", "arch/x86/relax.c", "call"),
        ("gone", None, "call"),
    ]


OPS = {
    "include/linux/fs.h": (
        "struct super_operations { void (*evict_inode)(struct inode *); };\n"
        "struct super_block { const struct super_operations *s_op; };\n"
        "struct inode { struct super_block *i_sb; };\n"
    ),
    "fs/inode.c": (
        "void evict(struct inode *inode) { inode->i_sb->s_op->evict_inode(inode); mystery->evict_inode(inode);"
        " other->release(inode); }\n"
    ),
    "fs/ceph/super.c": "static void ceph_evict(struct inode *i) {}\n"
    "static const struct super_operations ceph_sops = { .evict_inode = ceph_evict };\n",
    "fs/ext4/super.c": "static void ext4_evict(struct inode *i) {}\n"
    "static const struct super_operations ext4_sops = { .evict_inode = ext4_evict };\n"
    "static int r1(void) { return 0; }\n"
    "static const struct file_operations fops = { .release = r1 };\n"
    "static const struct seq_operations sops = { .release = r1 };\n",
}


def test_ops_calls_resolve_by_type_and_by_unambiguous_field():
    prog = program(OPS)
    assert targets(prog, "fs/inode.c", "evict") == [
        ("inode->i_sb->s_op->evict_inode", "fs/ceph/super.c", MEMBER),
        ("inode->i_sb->s_op->evict_inode", "fs/ext4/super.c", MEMBER),
        ("mystery->evict_inode", "fs/ceph/super.c", MEMBER),
        ("mystery->evict_inode", "fs/ext4/super.c", MEMBER),
    ]  # ->release is set in two struct types: an untyped call to it resolves to nothing


def test_affinity_keeps_the_subsystems_own_methods():
    prog = program(OPS)
    assert [t[1] for t in targets(prog, "fs/inode.c", "evict", affinity="ceph")] == ["fs/ceph/super.c"] * 2
    assert targets(prog, "fs/inode.c", "evict", affinity="nfs") == []


def test_fanout_caps():
    files = dict(OPS)
    files["fs/ceph/more.c"] = "".join(
        f"static void e{i}(struct inode *i) {{}}\nstatic const struct super_operations s{i} = {{ .evict_inode = e{i} }};\n"
        for i in range(3)
    )
    assert len(targets(program(files, fanout_near=8), "fs/inode.c", "evict", affinity="ceph")) == 8
    assert targets(program(files, fanout_near=3), "fs/inode.c", "evict", affinity="ceph") == []
    assert targets(program(files, fanout=4), "fs/inode.c", "evict") == []


def test_callbacks_only_for_synchronous_apis_and_local_iterators():
    prog = program(
        {
            "fs/c/c.c": (
                "static void release(struct kref *k) {}\n"
                "static void cb(void *p) {}\n"
                "static void each(void (*fn)(void *)) {}\n"
                "void f(struct kref *k) { kref_put(k, release); each(cb); create_thread(cb); }\n"
            ),
        }
    )
    assert targets(prog, "fs/c/c.c", "f", callbacks=frozenset({"kref_put"})) == [
        ("kref_put", None, "call"),
        ("release", "fs/c/c.c", CALLBACK),
        ("each", "fs/c/c.c", "call"),
        ("cb", "fs/c/c.c", CALLBACK),
        ("create_thread", None, "call"),
    ]


def _all_edges(prog: Program) -> dict[tuple[str, str], list[tuple]]:
    """Every live function's resolved edges, by (path, name): comparable across programs."""
    result = {}
    for name in sorted(set(prog.func_name)):
        for function in prog.functions_named(name):
            result[(prog.path_of(function), name)] = [
                (e.callee, prog.path_of(e.target) if e.target >= 0 else None, e.kind, e.line, e.via)
                for e in prog.edges(function, "", frozenset({"kref_put"}))
            ]
    return result


OPS_FILES = {
    "include/linux/fs.h": "struct super_operations { void (*evict_inode)(struct inode *); };\n"
    "struct super_block { const struct super_operations *s_op; };\n",
    "fs/inode.c": "void evict(struct super_block *sb) { sb->s_op->evict_inode(0); helper(); }\n",
    "fs/a/super.c": "static void a_evict(struct inode *i) { a_wait(); }\n"
    "static const struct super_operations a_ops = { .evict_inode = a_evict };\n"
    "void a_wait(void) {}\n",
    "fs/b/super.c": "void helper(void) { a_wait(); }\n",
}


CHANGED_FILES = {
    # a_wait moves out, a new method and a second ops table arrive, helper goes away
    "fs/a/super.c": "static void a_evict(struct inode *i) { b_new(); }\n"
    "static void a_other(struct inode *i) {}\n"
    "static const struct super_operations a_ops = { .evict_inode = a_other };\n",
    "fs/b/super.c": "void a_wait(void) {}\nvoid b_new(void) { a_wait(); }\n",
    "fs/c/new.c": "void helper(void) { b_new(); }\n",
}


def test_replacing_files_gives_the_program_built_from_scratch():
    before = program(OPS_FILES)
    changed = CHANGED_FILES
    after_files = {**OPS_FILES, **changed}
    patched = program(OPS_FILES)
    rows = {path: extract_rows(text.encode()) for path, text in after_files.items()}
    patched.replace_files({p: rows[p] for p in changed}, lambda p: extract_rows(OPS_FILES[p].encode()))
    assert _all_edges(patched) == _all_edges(program(after_files))
    assert _all_edges(patched) != _all_edges(before)
    # a file removed by a patch takes its definitions with it
    patched.replace_files({"fs/c/new.c": None}, lambda p: rows[p])
    assert patched.functions_named("helper") == []
    assert targets(patched, "fs/inode.c", "evict") == [("sb->s_op->evict_inode", "fs/a/super.c", MEMBER), ("helper", None, "call")]


def test_saved_tables_load_back_to_the_same_program():
    import marshal

    built = program(OPS_FILES)
    rows = {path: extract_rows(text.encode()) for path, text in OPS_FILES.items()}
    fetched = []

    def fetch(path):
        fetched.append(path)
        return rows[path]

    loaded = Program.from_tables(marshal.loads(marshal.dumps(built.tables())), fetch)
    assert _all_edges(loaded) == _all_edges(built)
    assert sorted(fetched) == ["fs/a/super.c", "fs/b/super.c", "fs/inode.c"]  # on demand, once per file


def test_replacing_files_of_saved_tables_never_reads_their_old_bodies():
    """Loaded from saved tables, no body is read yet: a patched file's bodies
    must come from the patch, never from the index."""
    import marshal

    old_rows = {path: extract_rows(text.encode()) for path, text in OPS_FILES.items()}
    tables = marshal.loads(marshal.dumps(program(OPS_FILES).tables()))
    loaded = Program.from_tables(tables, lambda path: old_rows.get(path))
    new_rows = {path: extract_rows(text.encode()) for path, text in CHANGED_FILES.items()}
    loaded.replace_files(new_rows, old_rows.get)
    assert _all_edges(loaded) == _all_edges(program({**OPS_FILES, **CHANGED_FILES}))
    loaded.replace_files({"fs/b/super.c": None}, new_rows.get)
    remaining = {path: text for path, text in {**OPS_FILES, **CHANGED_FILES}.items() if path != "fs/b/super.c"}
    assert _all_edges(loaded) == _all_edges(program(remaining))
