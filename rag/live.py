"""A running app's assistant, kept in step with its corpus folder without a restart.

``LiveAssistant.current`` is the assistant to use now. ``check()`` compares the folder's listing
(name, size and modification time of each document and of the metadata sidecar: a few stat
calls, no reading) with the one the assistant was opened from and, when it differs, re-opens it
with ``Assistant.refresh`` (unchanged files keep their vectors). One refresh runs at a time;
``check()`` does not wait for one another thread has under way (the question is answered from
the assistant as it was), ``check(wait=True)`` does. The swap is one attribute assignment, so a
question being answered keeps the assistant it started with. A refresh that fails (the folder
emptied) keeps the last good assistant and reports why; one that may pass later (a full disk, a
read-only or busy index folder) is tried again on a check ``RETRY_S`` seconds on, the others
when the folder next changes. Left out: watching the folder with
inotify; a change is seen on the next check.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag.build_lock import IndexBusy, IndexWriteError
from rag.documents import SIDECAR, CorpusError
from rag.readers import SUFFIXES

if TYPE_CHECKING:
    from rag.assistant import Assistant

log = logging.getLogger(__name__)

RETRY_S = 30.0  # after a refresh failed for want of space or a writable index folder

Listing = frozenset[tuple[str, int, int]]  # (path inside the folder, bytes, mtime in ns)


def listing(folder: str | Path) -> Listing:
    """What ``load_folder`` would read, as cheap facts: every non-hidden document and the
    sidecar, with size and modification time. A missing folder lists nothing."""
    root = Path(folder)
    out = set()
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() not in SUFFIXES and rel.as_posix() != SIDECAR:
            continue
        try:
            st = path.stat()
        except OSError:  # removed while listing
            continue
        if path.is_file():
            out.add((rel.as_posix(), st.st_size, st.st_mtime_ns))
    return frozenset(out)


@dataclass(frozen=True)
class Refreshed:
    """What a check did: re-opened or not, in how long, and the error that kept the old one."""

    changed: bool
    seconds: float = 0.0
    error: str | None = None


class LiveAssistant:
    """The current assistant of a corpus folder; see the module docstring."""

    def __init__(self, assistant: Assistant) -> None:
        if assistant.corpus is None:
            raise ValueError("a live assistant needs one opened from a folder")
        self._assistant = assistant
        self._seen = listing(assistant.corpus)
        self._lock = threading.Lock()
        self._retry_at = 0.0  # monotonic time before which a failed refresh is not retried

    @property
    def current(self) -> Assistant:
        return self._assistant

    @property
    def folder(self) -> Path:
        return Path(self._assistant.corpus)

    def check(self, wait: bool = False, progress: bool = False) -> Refreshed:
        """Re-open the assistant if the folder changed since it was opened."""
        if listing(self.folder) == self._seen or time.monotonic() < self._retry_at:
            return Refreshed(False)
        if not self._lock.acquire(blocking=wait):
            return Refreshed(False)  # another thread is refreshing; answer from the old one
        try:
            seen = listing(self.folder)  # taken before reading, so a later change is seen again
            if seen == self._seen:
                return Refreshed(False)
            started = time.perf_counter()
            try:
                fresh = self._assistant.refresh(progress=progress)
            except CorpusError as err:
                if isinstance(err, IndexWriteError | IndexBusy):  # may pass later: try again
                    self._retry_at = time.monotonic() + RETRY_S
                else:
                    self._seen = seen  # not retried before the folder changes again
                log.warning("corpus changed but cannot be re-opened (%s); keeping the last", err)
                return Refreshed(False, time.perf_counter() - started, str(err))
            self._assistant, self._seen = fresh, seen
            return Refreshed(True, time.perf_counter() - started)
        finally:
            self._lock.release()
