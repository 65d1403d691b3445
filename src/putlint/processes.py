"""Helper processes that die with the putlint process that started them.

putlint forks helpers: the index updater that runs while the saved state is
read, and the worker pools that parse files and search contexts. A helper
left behind by a killed parent would go on writing the cache while the next
run starts, so each one calls `die_with_parent` first thing: on Linux the
kernel sends it SIGKILL when its parent goes (`prctl(PR_SET_PDEATHSIG)`),
elsewhere a thread polls `getppid()`. The kernel's signal chains: the index
updater's own workers die with the updater.

Ctrl-C reaches the whole process group; helpers ignore SIGINT, and only the
main process decides what it means (see `cli.main`: exit 130).

`unordered_map` runs a pool of such helpers, with a time limit per task: a
task over it, or one whose worker dies, is reported, never waited for forever.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence

_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.5


def _set_parent_death_signal() -> bool:
    """Ask the kernel for SIGKILL when the parent exits; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_POLL_SECONDS)
    os._exit(1)


_SIGINT = {signal.SIGINT}


def _hold_sigint() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGINT)


def _release_sigint() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGINT)


def _child_ignores_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C pending since the fork is dropped
    _release_sigint()


# A Ctrl-C between a fork and the child's `die_with_parent` would raise in the
# child's at-fork hooks and print their traceback: SIGINT is held across the
# fork (delivered to the parent right after it) and ignored by the child.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_hold_sigint, after_in_parent=_release_sigint, after_in_child=_child_ignores_sigint)


def alive(pid: int) -> bool:
    """Whether process `pid` exists (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def die_with_parent(parent: int) -> None:
    """Called first in a forked helper: SIGINT ignored, and gone with `parent`
    (the pid of the process that forked it, read before the fork)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _set_parent_death_signal():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)  # the parent died before the death signal was set


def pool_initializer(parent: int, then=None) -> None:
    """`initializer` of a worker pool: `die_with_parent`, then `then()`."""
    die_with_parent(parent)
    if then is not None:
        then()


class HelperDied(RuntimeError):
    """A worker process ended without its result."""


def _serve(connection, function: Callable, parent: int, initializer: Callable | None) -> None:
    """A worker: (index, item) in, (index, ok, result or exception) out, until None."""
    pool_initializer(parent, initializer)
    while True:
        task = connection.recv()
        if task is None:
            return
        index, item = task
        try:
            connection.send((index, True, function(item)))
        except Exception as error:  # noqa: BLE001 - raised again in the parent
            try:
                connection.send((index, False, error))
            except Exception:  # noqa: BLE001 - an exception that does not pickle
                connection.send((index, False, RuntimeError(f"{type(error).__name__}: {error}")))


_AHEAD = 2  # tasks queued to a worker: it goes on while this process writes results


class _Pool:
    """Forked workers, each with a queue of up to `ahead` tasks, and the time the
    task it is on (the oldest unanswered one) started."""

    def __init__(self, function: Callable, initializer: Callable | None, ahead: int = _AHEAD):
        self.function = function
        self.initializer = initializer
        self.ahead = ahead
        self.context = multiprocessing.get_context("fork")
        self.parent = os.getpid()
        self.workers: dict = {}  # connection -> process
        self.queued: dict = {}  # connection -> deque of (index, item) sent, unanswered
        self.started: dict = {}  # connection -> when its oldest queued task started

    def start(self) -> None:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(
            target=_serve, args=(theirs, self.function, self.parent, self.initializer), daemon=True
        )
        process.start()
        theirs.close()
        self.workers[ours] = process
        self.queued[ours] = deque()

    def busy(self) -> list:
        return [connection for connection, tasks in self.queued.items() if tasks]

    def feed(self, todo: deque) -> None:
        """Queue tasks to the workers. A worker that died meanwhile takes none
        (its pipe is broken); one that has none left is replaced at once, one
        that has some is found out when its answer does not come."""
        for connection, tasks in list(self.queued.items()):
            while todo and len(tasks) < self.ahead:
                task = todo.popleft()
                try:
                    connection.send(task)
                except OSError:
                    todo.appendleft(task)
                    if not tasks:
                        self.workers.pop(connection).join()
                        del self.queued[connection]
                        connection.close()
                        self.start()
                    break
                if not tasks:
                    self.started[connection] = time.monotonic()
                tasks.append(task)

    def answered(self, connection) -> None:
        tasks = self.queued[connection]
        tasks.popleft()
        self.started[connection] = time.monotonic()

    def retire(self, connection, kill: bool, todo: deque) -> tuple:
        """The task a worker was on (the others it had go back to `todo`); the
        worker is gone (killed first if `kill`)."""
        process = self.workers.pop(connection)
        tasks = self.queued.pop(connection)
        self.started.pop(connection, None)
        if kill:
            process.kill()
        process.join()
        connection.close()
        task = tasks.popleft()
        todo.extendleft(reversed(tasks))
        return task, process.exitcode

    def close(self) -> None:
        for connection, process in self.workers.items():
            if self.queued[connection]:
                process.kill()
            else:
                try:
                    connection.send(None)
                except OSError:
                    process.kill()
            process.join()
            connection.close()
        self.workers.clear()
        self.queued.clear()


def unordered_map(
    function: Callable,
    items: Sequence,
    jobs: int,
    initializer: Callable | None = None,
    timeout: float | None = None,
    failed: Callable[[object, str], object] | None = None,
    ahead: int = _AHEAD,
) -> Iterator:
    """`function(item)` for every item, in `jobs` forked workers, yielded as
    they finish; an exception in `function` is raised here. `function` and the
    items are pickled: module-level only.

    A task that runs over `timeout` seconds has its worker killed (the only way
    to stop C code such as a tree-sitter query) and yields `failed(item, why)`;
    so does a task whose worker dies (a crash). Without `failed`, a worker's
    death raises HelperDied. A new worker takes the place of one that is gone.
    When the caller stops early (an error, Ctrl-C), the workers are killed.
    `ahead` tasks are queued to each worker: 1 for a few long tasks of uneven
    length, which a worker that is done first should take."""
    pool = _Pool(function, initializer, ahead)
    todo = deque(enumerate(items))
    try:
        for _ in range(min(jobs, len(todo))):
            pool.start()
        while todo or pool.busy():
            pool.feed(todo)
            busy = pool.busy()
            wait = None
            if timeout is not None:
                wait = max(0.0, min(pool.started[c] for c in busy) + timeout - time.monotonic())
            for connection in multiprocessing.connection.wait(busy, wait):
                yield _result(pool, connection, failed, todo)
            if timeout is not None:
                now = time.monotonic()
                for connection in [c for c in pool.busy() if now - pool.started[c] > timeout]:
                    (_, item), _ = pool.retire(connection, True, todo)
                    if todo or not pool.workers:
                        pool.start()
                    yield failed(item, f"timeout:{timeout:g}")
    finally:
        pool.close()


def _result(pool: _Pool, connection, failed, todo: deque):
    try:
        _, ok, value = connection.recv()
    except (EOFError, OSError):
        (_, item), code = pool.retire(connection, False, todo)
        if failed is None:
            raise HelperDied(f"a worker process died before it finished (exit code {code}; killed, or out of memory?)")
        if todo or not pool.workers:
            pool.start()
        return failed(item, f"died:{code}")
    pool.answered(connection)
    if not ok:
        raise value
    return value
