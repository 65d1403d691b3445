"""Kernel knowledge kept as data (src/putlint/kernel/*.yaml) agrees with the
query that cannot read it, and reads back as the code expects."""

import re
from importlib import resources

from putlint.kernel import apis
from putlint.kernel.layout import is_userspace, linked_definitions


def test_the_query_matches_the_syscall_macros_of_apis_yaml():
    query = resources.files("putlint.queries").joinpath("facts.scm").read_text("utf-8")
    patterns = re.findall(r'\(#match\? @syscall\.macro "([^"]*)"\)', query)
    assert len(patterns) == 3
    assert set(patterns) == {apis.SYSCALL_MACRO}


def test_syscall_names():
    assert apis.syscall_name("SYSCALL_DEFINE3", "read") == "sys_read"
    assert apis.syscall_name("COMPAT_SYSCALL_DEFINE1", "x") == "compat_sys_x"
    assert apis.syscall_name("SYSCALL_DEFINE7", "read") is None
    assert apis.syscall_name("SYSCALL_DEFINE1", "(x)") is None


def test_registrations_and_constants():
    assert {"INIT_WORK", "call_rcu", "kthread_run", "module_init"} <= apis.REGISTRATION_APIS
    assert "queue_work" not in apis.REGISTRATION_APIS
    assert apis.is_constant_name("GFP_KERNEL") and not apis.is_constant_name("gfp_mask")


def test_userspace_and_the_definition_c_links():
    assert is_userspace("tools/lib/x.c") and is_userspace("scripts/mod/y.c") and not is_userspace("fs/x.c")
    paths = {1: "arch/arm/relax.c", 2: "arch/x86/relax.c", 3: "kernel/relax.c"}
    assert linked_definitions([1, 2, 3], paths.get) == [3]
    assert linked_definitions([1, 2], paths.get) == [2]
    assert linked_definitions([1], paths.get) == [1]
