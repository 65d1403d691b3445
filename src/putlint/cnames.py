"""Kernel naming knowledge the extractor needs: which calls register or queue
deferred work, and how macro-made names are spelled. Pure data and string
functions, no tree-sitter."""

from __future__ import annotations

import re

# API -> (index of the handler argument, index of the object it is bound to).
# These hand a function to another context; they are registrations, never calls.
REGISTRATION_APIS: dict[str, tuple[int, int | None]] = {
    **{
        api: (1, 0)
        for api in (
            "INIT_WORK",
            "INIT_WORK_ONSTACK",
            "INIT_DELAYED_WORK",
            "INIT_DELAYED_WORK_ONSTACK",
            "INIT_DEFERRABLE_WORK",
            "INIT_RCU_WORK",
            "INIT_RCU_WORK_ONSTACK",
            "DECLARE_WORK",
            "DECLARE_DELAYED_WORK",
            "DECLARE_DEFERRABLE_WORK",
            "kthread_init_work",
            "kthread_init_delayed_work",
            "timer_setup",
            "timer_setup_on_stack",
            "call_rcu",
            "call_rcu_hurry",
            "init_task_work",
            "tasklet_setup",
            "tasklet_init",
            "init_irq_work",
        )
    },
    "call_srcu": (2, 1),
    "DEFINE_TIMER": (1, 0),
    "kthread_run": (0, None),
    "kthread_create": (0, None),
    "kthread_create_on_node": (0, None),
    "kthread_create_on_cpu": (0, None),
    "kthread_run_on_cpu": (0, None),
    **{
        api: (0, None)
        for api in (
            "module_init",
            "module_exit",
            "early_initcall",
            "core_initcall",
            "postcore_initcall",
            "arch_initcall",
            "subsys_initcall",
            "fs_initcall",
            "rootfs_initcall",
            "device_initcall",
            "late_initcall",
            "late_initcall_sync",
        )
    },
}

# API -> (index of the queue argument or None, index of the work argument,
# queue used when the API names none).
QUEUEING_APIS: dict[str, tuple[int | None, int, str]] = {
    "queue_work": (0, 1, ""),
    "queue_delayed_work": (0, 1, ""),
    "mod_delayed_work": (0, 1, ""),
    "queue_rcu_work": (0, 1, ""),
    "queue_work_on": (1, 2, ""),
    "queue_delayed_work_on": (1, 2, ""),
    "mod_delayed_work_on": (1, 2, ""),
    "queue_work_node": (1, 2, ""),
    "schedule_work": (None, 0, "system_wq"),
    "schedule_delayed_work": (None, 0, "system_wq"),
    "schedule_work_on": (None, 1, "system_wq"),
    "schedule_delayed_work_on": (None, 1, "system_wq"),
    "kthread_queue_work": (0, 1, ""),
    "kthread_queue_delayed_work": (0, 1, ""),
    "task_work_add": (0, 1, ""),
    "irq_work_queue": (None, 0, "irq_work"),
}

_CONSTANT = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_SYSCALL_MACRO = re.compile(r"^(COMPAT_)?SYSCALL_DEFINE[0-6]$")


def is_constant_name(name: str) -> bool:
    """NULL, GFP_KERNEL, SZ_4K: names that are macros by kernel convention."""
    return bool(_CONSTANT.match(name))


def syscall_name(macro: str, first_argument: str) -> str | None:
    """`SYSCALL_DEFINE3(read, ...)` defines `sys_read`; compat ones `compat_sys_*`."""
    if not _SYSCALL_MACRO.match(macro) or not first_argument.isidentifier():
        return None
    prefix = "compat_sys_" if macro.startswith("COMPAT_") else "sys_"
    return prefix + first_argument
