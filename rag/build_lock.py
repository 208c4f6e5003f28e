"""One writer per index folder: an ``fcntl.flock`` on ``<root>/build.lock`` while a build runs.

A second build waits for the first (saying so once) or, with ``wait=False``, fails at once with
``IndexBusy``. The lock is the kernel's, not the file's: a killed holder's lock goes with its
process, so a lock file left behind never blocks anyone. The file holds the last holder's pid,
for the message only. Readers take no lock: they only open committed builds.
Left out: Windows (no ``fcntl``) and network filesystems whose ``flock`` is not shared.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.documents import CorpusError

log = logging.getLogger(__name__)

LOCK = "build.lock"


class IndexBusy(CorpusError):
    """Another process is building this index, and we were asked not to wait."""


class IndexWriteError(CorpusError):
    """The index folder cannot be written: read-only, no space, no permission."""


@contextmanager
def held(path: Path, wait: bool = True, what: str = "build") -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (created if missing) for the ``with`` block."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise IndexWriteError(f"cannot write the index folder {path.parent}: {err}") from err
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            if not wait:
                raise IndexBusy(
                    f"another {what} is running in {path.parent} (pid {holder}); "
                    "try again when it is done"
                ) from None
            log.warning("another %s is running (pid %s), waiting…", what, holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def build_lock(root: Path, wait: bool = True) -> Iterator[None]:
    """The one-writer lock of the index folder ``root``; see the module docstring."""
    return held(Path(root) / LOCK, wait)
