"""Each query pattern on a tiny snippet: "this snippet yields exactly these facts"."""

import typing

from putlint.facts import (
    FACT_KINDS,
    Call,
    FileFacts,
    Function,
    FunctionRef,
    Member,
    OpsAssign,
    OpsInit,
    field_names,
)
from putlint.parse import extract, extract_rows
from putlint.parse.onsite import BodyReader


def facts_of(source: str) -> FileFacts:
    return extract("t.c", source.encode())


def test_function_definitions_with_static_inline_and_annotations():
    found = facts_of(
        "static inline int a(void) { return 0; }\n"
        "int __init b(int x) __releases(x)\n"
        "{\n"
        "\treturn x;\n"
        "}\n"
        "static struct inode *c(void) { return 0; }\n"
        "static __always_inline void d(void) { }\n"
    )
    assert found.functions == (
        Function("a", 1, 1, True, True),
        Function("b", 2, 5, False, False),
        Function("c", 6, 6, True, False),
        Function("d", 7, 7, True, True),
    )
    # __releases(x) sits outside the body: an annotation, not a call.
    assert found.calls == ()


def test_direct_member_pointer_and_other_calls_with_receiver_types():
    found = facts_of(
        "void evict(struct inode *inode)\n"
        "{\n"
        "\tconst struct super_operations *op = inode->i_sb->s_op;\n"
        "\top->evict_inode(inode);\n"
        "\tinode->i_mapping->a_ops->writepages(inode->i_mapping, 0);\n"
        "\t(*fn)(inode);\n"
        "\tguard(mutex)(&lock);\n"
        "\tiput(inode);\n"
        "}\n"
    )
    assert found.calls == (
        Call("evict", "op->evict_inode", 4, 2, "member", "super_operations", ""),
        Call("evict", "inode->i_mapping->a_ops->writepages", 5, 2, "member", "inode", ""),
        Call("evict", "(*fn)", 6, 2, "pointer", "", ""),
        Call("evict", "guard", 7, 2, "direct", "", ""),
        Call("evict", "guard(mutex)", 7, 2, "other", "", ""),
        Call("evict", "iput", 8, 2, "direct", "", ""),
    )


def test_gfp_arguments_of_calls():
    found = facts_of(
        "void f(int n)\n"
        "{\n"
        "\tkmalloc(n, GFP_KERNEL);\n"
        "\tkzalloc(n, GFP_NOFS | __GFP_NOFAIL);\n"
        "\tkmalloc(n, gfp);\n"
        "\tg(n + 1);\n"
        "}\n"
    )
    assert [(c.callee, c.gfp) for c in found.calls] == [
        ("kmalloc", "GFP_KERNEL"),
        ("kzalloc", "GFP_NOFS|__GFP_NOFAIL"),
        ("kmalloc", ""),
        ("g", ""),
    ]


def test_global_receiver_type_and_unknown_receiver():
    found = facts_of(
        "static struct shrinker *my_shrinker;\n"
        "void f(void) { my_shrinker->scan_objects(0, 0); mystery->g(); }\n"
    )
    assert [(c.callee, c.receiver_type) for c in found.calls] == [
        ("my_shrinker->scan_objects", "shrinker"),
        ("mystery->g", ""),
    ]


def test_call_statements_with_a_type_argument_are_calls():
    found = facts_of(
        "void f(struct list_head *list)\n"
        "{\n"
        "\t__dentry_kill(list_first_entry(list, struct dentry, d_lru));\n"
        "\tfree_vfsmnt(container_of(head, struct mount, mnt_rcu));\n"
        "}\n"
    )
    assert [(c.callee, c.line, c.col) for c in found.calls] == [
        ("__dentry_kill", 3, 2),
        ("list_first_entry", 3, 16),
        ("free_vfsmnt", 4, 2),
        ("container_of", 4, 14),
    ]
    assert found.diagnostics == ()


def test_syscall_define_bodies_are_functions():
    found = facts_of(
        "SYSCALL_DEFINE3(read, unsigned int, fd, char __user *, buf, size_t, count)\n"
        "{\n"
        "\treturn ksys_read(fd, buf, count);\n"
        "}\n"
        "SYSCALL_DEFINE0(sync)\n"
        "{\n"
        "\tksys_sync();\n"
        "\treturn 0;\n"
        "}\n"
        "COMPAT_SYSCALL_DEFINE1(x, int, a)\n"
        "{\n"
        "\tdo_x(a);\n"
        "}\n"
    )
    assert [(f.name, f.line, f.end_line) for f in found.functions] == [
        ("sys_read", 1, 4),
        ("sys_sync", 5, 9),
        ("compat_sys_x", 10, 13),
    ]
    assert [(c.caller, c.callee) for c in found.calls] == [
        ("sys_read", "ksys_read"),
        ("sys_sync", "ksys_sync"),
        ("compat_sys_x", "do_x"),
    ]


def test_macro_loops_keep_their_calls_in_the_outer_function():
    found = facts_of(
        "void f(struct list_head *h)\n"
        "{\n"
        "\tint cpu;\n"
        "\tfor_each_possible_cpu(cpu) {\n"
        "\t\tg(cpu);\n"
        "\t}\n"
        "\tlist_for_each_entry(p, h, list) {\n"
        "\t\tiput(p->inode);\n"
        "\t}\n"
        "}\n"
    )
    assert [f.name for f in found.functions] == ["f"]
    assert {c.callee for c in found.calls} >= {"g", "iput", "list_for_each_entry"}
    assert {c.caller for c in found.calls} == {"f"}


def test_designated_initializers_plain_nested_array_and_compound_literal():
    found = facts_of(
        "static const struct address_space_operations ceph_aops = {\n"
        "\t.writepages = ceph_writepages_start,\n"
        "\t.dirty_folio = &ceph_dirty_folio,\n"
        "\t.flags = AOP_FLAG,\n"
        "};\n"
        "static struct ops_table tbl[] = {\n"
        "\t[0] = { .ops = { .release = r0 } },\n"
        "\t{ .open = o1 },\n"
        "};\n"
        "void f(void) { g(&(struct file_operations){ .release = r2 }); }\n"
    )
    assert found.ops_inits == (
        OpsInit("address_space_operations", "writepages", "ceph_writepages_start", "ceph_aops", 2),
        OpsInit("address_space_operations", "dirty_folio", "ceph_dirty_folio", "ceph_aops", 3),
        OpsInit("ops_table", "ops.release", "r0", "tbl", 7),
        OpsInit("ops_table", "open", "o1", "tbl", 8),
        OpsInit("file_operations", "release", "r2", "", 10),
    )


def test_runtime_assignments_of_functions():
    found = facts_of(
        "static int f(struct super_block *s)\n"
        "{\n"
        "\ts->s_shrink->scan_objects = super_cache_scan;\n"
        "\treq->r_callback = &finish_read;\n"
        "\tfn = helper;\n"
        "\ts->s_flags = SB_ACTIVE;\n"
        "\treturn 0;\n"
        "}\n"
    )
    assert found.ops_assigns == (
        OpsAssign("s->s_shrink->scan_objects", "scan_objects", "super_cache_scan", "f", 3, "super_block"),
        OpsAssign("req->r_callback", "r_callback", "finish_read", "f", 4, ""),
        OpsAssign("fn", "", "helper", "f", 5, ""),
    )


def test_callbacks_are_arguments_naming_functions_of_the_file():
    found = facts_of(
        "static void release_fn(struct kref *kref);\n"
        "struct inode *lookup_cb(void *arg);\n"
        "static int cb(struct inode *inode, void *arg) { return 0; }\n"
        "void f(struct r *r, struct session *session)\n"
        "{\n"
        "\tkref_put(&r->kref, release_fn);\n"
        "\tkref_put(&r->kref2, release_fn);\n"
        "\titerate(session, &cb, lookup_cb, GFP_KERNEL);\n"
        "}\n"
    )
    assert found.refs == (
        FunctionRef("f", "release_fn", "kref_put", 6, 21),
        FunctionRef("f", "cb", "iterate", 8, 20),
        FunctionRef("f", "lookup_cb", "iterate", 8, 24),
    )


def test_registrations_are_neither_calls_nor_callbacks():
    found = facts_of(
        "static DECLARE_DELAYED_WORK(delayed_fput_work, delayed_fput);\n"
        "void f(struct bdi_writeback *wb, struct file *file)\n"
        "{\n"
        "\tINIT_DELAYED_WORK(&wb->dwork, wb_workfn);\n"
        "\tinit_task_work(&file->f_task_work, ____fput);\n"
        "\ttimer_setup(&t, timer_fn, 0);\n"
        "\ttsk = kthread_run(kswapd, pgdat, \"kswapd%d\", nid);\n"
        "\tcall_rcu(&inode->i_rcu, i_callback);\n"
        "\tDECLARE_WORK(w, plain_fn);\n"
        "\tqueue_work(ceph_inode_wq, &ci->i_work);\n"
        "}\n"
        "static void wb_workfn(struct work_struct *work) {}\n"
        "module_init(init_ceph);\n"
    )
    # Queueing a work item is a call (rules list it as opaque); handing a function over is not.
    assert [c.callee for c in found.calls] == ["queue_work"]
    assert found.refs == ()  # arguments of registration APIs are data, not callbacks


def test_every_row_has_the_fields_of_its_dataclass():
    rows = extract_rows(
        b"struct s { const struct ops *o; };\n"
        b"static void cb(void) {}\n"
        b"static const struct ops o = { .run = cb };\n"
        b"void f(struct s *p) { kref_put(x, cb); p->o->run(); kmalloc(1, GFP_KERNEL); p->h = cb; int = ; }\n"
        # a braceless macro loop swallows the function after it: a lost function
        b"static int r(void)\n{\n\tint i, t = 0;\n\n\tfor_each_online_cpu(i)\n\t\tt += per_cpu(a, i).nr;\n"
        b"\treturn t;\n}\n\nstatic void swallowed(int x)\n{\n\th(x);\n}\n"
    )
    assert rows[-1] == (("swallowed", 15, 17),)
    assert len(rows) == len(FACT_KINDS)
    for (name, kind), kind_rows in zip(FACT_KINDS, rows):
        assert kind_rows, f"the snippet has no {name}"
        types = typing.get_type_hints(kind)
        for row in kind_rows:
            assert type(row) is tuple
            assert [type(value) for value in row] == [types[field] for field in field_names(kind)], (name, row)


def test_struct_members_with_types_anonymous_unions_and_function_pointers():
    found = facts_of(
        "struct super_block {\n"
        "\tconst struct super_operations *s_op;\n"
        "\tstruct list_head s_list, *s_p;\n"
        "\tunion {\n"
        "\t\tstruct shrinker *s_shrink;\n"
        "\t};\n"
        "\tvoid (*evict)(struct inode *);\n"
        "};\n"
        "typedef struct { int x; } anon_t;\n"
    )
    assert found.members == (
        Member("super_block", "s_op", "super_operations", 1, 2),
        Member("super_block", "s_list", "list_head", 0, 3),
        Member("super_block", "s_p", "list_head", 1, 3),
        Member("super_block", "s_shrink", "shrinker", 1, 5),
        Member("super_block", "evict", "(*)()", 1, 7),
        Member("anon_t", "x", "", 0, 9),
    )


def test_parse_errors_are_counted_as_one_diagnostic():
    found = facts_of("void f(void) { int = ; }\nvoid g(void) { h(); }\n")
    assert [d.kind for d in found.diagnostics] == ["parse-error"]
    assert found.diagnostics[0].line == 1
    assert [c.callee for c in found.calls] == ["h"]


def test_clean_file_has_no_diagnostics():
    assert facts_of("int f(void) { return g(); }\n").diagnostics == ()


def test_encode_decode_round_trip():
    found = facts_of("static int f(void) { return g(&h); }\nstatic struct x y = { .a = f };\n")
    assert FileFacts.decode("t.c", found.encode()) == found


def test_put_arguments_name_the_object_and_where_a_local_came_from():
    from putlint.facts import PutArgument

    source = b"""\
void f(struct super_block *sb, struct inode *p, struct ceph_inode_info *ci)
{
	struct inode *inode = ilookup(sb, 3);
	struct inode *other;

	iput(inode);
	other = igrab(p);
	ext4_xattr_inode_iget(p, 1, &other);
	iput(other);
	iput(p);
	iput(&ci->netfs.inode);
}
"""
    assert BodyReader(source).put_arguments([(6, 2), (9, 2), (10, 2), (11, 2), (3, 1)]) == {
        (6, 2): PutArgument("inode", "ilookup"),
        (9, 2): PutArgument("other", "ext4_xattr_inode_iget"),  # the last assignment before the put
        (10, 2): PutArgument("p", ""),  # a parameter
        (11, 2): PutArgument("&ci->netfs.inode", ""),
    }


def test_function_bodies_read_arguments_and_the_conditions_that_decide_each_call():
    from putlint.sitefacts import CallSite, Condition, FunctionBody

    source = b"""static void walk(struct inode *inode, int goal, bool remote)
{
	if (!remote)
		return;
	switch (goal) {
	case A:
		drop(inode);
		break;
	case B:
	case C:
		flush(inode, 0x10, NULL);
	default:
		goal = next(inode);
	}
	if (d_inode(dn) && ok) {
		keep(dn);
	} else {
		BUG_ON(busy);
		gone(dn);
	}
}
"""
    body = BodyReader(source).body(1)
    early = Condition(("not", ("var", "remote")), False, 3)
    labels = (("sym", "A"), ("sym", "B"), ("sym", "C"))
    assert body == FunctionBody(
        ("inode", "goal", "remote"),
        frozenset({"goal"}),
        (
            CallSite(7, 3, "drop", (("var", "inode"),), ("inode",),
                     (Condition(("case", ("var", "goal"), (("sym", "A"),), False, labels), True, 6), early)),
            CallSite(11, 3, "flush", (("var", "inode"), ("num", 16), ("num", 0)), ("inode", "0x10", "NULL"),
                     (Condition(("case", ("var", "goal"), (("sym", "B"), ("sym", "C")), False, labels), True, 10), early)),
            CallSite(13, 10, "next", (("var", "inode"),), ("inode",),
                     (Condition(("case", ("var", "goal"), (("sym", "B"), ("sym", "C")), True, labels), True, 12), early),
                     result="goal"),
            CallSite(15, 6, "d_inode", (("var", "dn"),), ("dn",), (early,)),
            CallSite(16, 3, "keep", (("var", "dn"),), ("dn",),
                     (Condition(("and", ("text", "d_inode(dn)"), ("var", "ok")), True, 15), early)),
            CallSite(18, 3, "BUG_ON", (("var", "busy"),), ("busy",),
                     (Condition(("and", ("text", "d_inode(dn)"), ("var", "ok")), False, 15), early)),
            CallSite(19, 3, "gone", (("var", "dn"),), ("dn",),
                     (Condition(("var", "busy"), False, 18),
                      Condition(("and", ("text", "d_inode(dn)"), ("var", "ok")), False, 15), early)),
        ),
        (("goal", "next(inode)"),),
    )
    assert body.related("goal", "inode") and not body.related("goal", "dn")


def test_a_goto_leaves_only_when_its_label_is_not_between_the_test_and_the_call():
    source = b"""void f(int a, int b)
{
	if (a)
		goto out;
	if (b)
		goto found;
	g();
found:
	h();
out:
	return;
}
"""
    body = BodyReader(source).body(1)
    known = {call.callee: {(c.expr, c.holds) for c in call.conditions} for call in body.calls}
    assert known["g"] == {(("var", "a"), False), (("var", "b"), False)}
    assert known["h"] == {(("var", "a"), False)}
