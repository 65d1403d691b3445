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

`unordered_map` runs a pool of such helpers; a worker that dies (killed, out
of memory) ends the run with `HelperDied` instead of leaving it waiting forever.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

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


def _chunk(function: Callable, items: Sequence) -> list:
    return [function(item) for item in items]


def unordered_map(
    function: Callable, items: Sequence, jobs: int, initializer: Callable | None = None, chunksize: int = 1
) -> Iterator:
    """`function(item)` for every item, in `jobs` forked workers, yielded as
    they finish. `function` and the items are pickled: module-level only. When
    the caller stops early (an error, Ctrl-C), the workers are killed at once."""
    executor = ProcessPoolExecutor(
        jobs,
        mp_context=multiprocessing.get_context("fork"),
        initializer=pool_initializer,
        initargs=(os.getpid(), initializer),
    )
    finished = False
    try:
        futures = [executor.submit(_chunk, function, items[i : i + chunksize]) for i in range(0, len(items), chunksize)]
        for future in as_completed(futures):
            yield from future.result()
        finished = True
    except BrokenProcessPool:
        raise HelperDied("a worker process died before it finished (killed, or out of memory?)") from None
    finally:
        if not finished:
            for process in list(getattr(executor, "_processes", {}).values()):
                process.kill()
        executor.shutdown(wait=finished, cancel_futures=not finished)
