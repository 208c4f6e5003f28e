"""Per-file work in worker processes: results in input order, a bounded number in flight.

``ordered_map(fn, items, workers)`` yields ``fn(item)`` for each item in the order given,
whatever the number of workers, so what is built from the results does not depend on it. At most
``2 * workers`` items are handed out ahead of the one the caller waits for, so a slow consumer
holds a few results, not the whole corpus. Workers are started by a fork server (a fresh
process that forks the workers), never forked from the caller, which may run threads
(onnxruntime, the web UI) whose locks a fork would copy mid-use. An exception in ``fn`` is
raised in the caller when its item comes up.

Which work is worth a pool is the caller's choice (``worth_it``): starting the workers costs
~0.3-1 s of imports, so small corpora stay in-process. Left out: splitting one big file across
workers (a file's segmentation compares each line with its page's earlier lines).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_CHARS = 2_000_000  # below this much text (or bytes to parse) the work stays in-process
PRELOAD = ["rag.documents", "rag.segments", "rag.chunking"]


def worker_count(setting: int) -> int:
    """``Settings.workers`` as a count: 0 means one per core, at most 8.

    Example:
        >>> worker_count(3)
        3
    """
    return setting if setting > 0 else min(os.cpu_count() or 1, 8)


def worth_it(workers: int, items: int, size: int) -> bool:
    """Whether ``items`` pieces of work holding ``size`` characters are worth a pool.

    Example:
        >>> worth_it(2, 10, 5_000_000), worth_it(1, 10, 5_000_000), worth_it(2, 10, 1_000)
        (True, False, False)
    """
    return workers > 1 and items > 1 and size >= MIN_CHARS


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``fn`` over ``items`` in order, on ``workers`` processes (in-process for 1 or fewer).

    ``fn`` must be a module-level function and items and results picklable.
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    ahead = 2 * workers
    with ProcessPoolExecutor(workers, mp_context=_context()) as pool:
        pending: deque = deque()
        source = iter(items)
        for item in source:
            pending.append(pool.submit(fn, item))
            if len(pending) >= ahead:
                break
        while pending:
            result = pending.popleft().result()
            for item in source:  # one more handed out for the one taken
                pending.append(pool.submit(fn, item))
                break
            yield result


def _context():
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")
