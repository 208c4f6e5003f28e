"""One writer per index folder: a second build waits (or fails fast); stale locks never block."""

from __future__ import annotations

import errno
import logging
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest
from conftest import FakeEncoder

from rag.build_files import current, read_build
from rag.build_lock import LOCK, IndexBusy, IndexWriteError, build_lock
from rag.documents import load_folder
from rag.index import open_index
from rag.settings import Settings

FORK = multiprocessing.get_context("fork")


class SlowEncoder(FakeEncoder):
    """The fake encoder, 50 ms a call: a build that lasts long enough to race."""

    def encode(self, texts):
        time.sleep(0.05)
        return super().encode(texts)


def build(corpus: Path, root: Path, out) -> None:
    """A child process: open (or build) the index, report what it had to do."""
    index = open_index(root, load_folder(corpus), Settings(encode_step=1), SlowEncoder)
    out.put((os.getpid(), index.embedded, index.from_cache, index.folder.name))


def wait_for_lock_holder(root: Path, pid: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (root / LOCK).is_file() and (root / LOCK).read_text().strip() == str(pid):
            return
        time.sleep(0.005)
    raise AssertionError("the first build never took the lock")


def test_two_builds_at_once_one_waits_and_reuses_the_others_build(tiny_corpus, tmp_path, caplog):
    root = tmp_path / "idx"
    out = FORK.Queue()
    first = FORK.Process(target=build, args=(tiny_corpus, root, out))
    first.start()
    wait_for_lock_holder(root, first.pid)
    with pytest.raises(IndexBusy, match="another build is running"):  # the fail-fast flag
        open_index(root, load_folder(tiny_corpus), Settings(), SlowEncoder, wait=False)
    second = FORK.Process(target=build, args=(tiny_corpus, root, out))
    second.start()
    first.join(60)
    second.join(60)
    results = {pid: rest for pid, *rest in (out.get(timeout=5), out.get(timeout=5))}
    assert results[first.pid][0] > 0  # the first one encoded everything
    assert results[second.pid][:2] == [0, 0]  # the second waited, then loaded that build
    assert results[second.pid][2] == results[first.pid][2] == current(root).name
    assert [p.name for p in (root / "builds").iterdir()] == [current(root).name]
    docs = load_folder(tiny_corpus)
    assert read_build(current(root), docs, Settings(), full=True).manifest.chunks == 3


def test_a_waiting_build_says_so(tiny_corpus, tmp_path, caplog):
    root = tmp_path / "idx"
    ready, release = FORK.Event(), FORK.Event()

    def hold() -> None:
        with build_lock(root):
            ready.set()
            release.wait(30)

    holder = FORK.Process(target=hold)
    holder.start()
    assert ready.wait(30)
    FORK.Process(target=lambda: (time.sleep(0.5), release.set())).start()
    with caplog.at_level(logging.WARNING, logger="rag.build_lock"):
        open_index(root, load_folder(tiny_corpus), Settings(), FakeEncoder)
    assert any("waiting" in r.getMessage() for r in caplog.records)
    holder.join(10)


def test_the_lock_of_a_killed_build_does_not_block(tiny_corpus, tmp_path):
    root = tmp_path / "idx"
    ready = FORK.Event()

    def hold_forever() -> None:
        with build_lock(root):
            ready.set()
            time.sleep(60)

    holder = FORK.Process(target=hold_forever)
    holder.start()
    assert ready.wait(30)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(10)
    assert (root / LOCK).read_text().strip() == str(holder.pid)  # the file is still there
    started = time.monotonic()
    index = open_index(root, load_folder(tiny_corpus), Settings(), FakeEncoder, wait=False)
    assert index.embedded > 0 and time.monotonic() - started < 20


def test_a_killed_builds_temporary_folders_are_removed_by_the_next_build(tiny_corpus, tmp_path):
    root = tmp_path / "idx"
    open_index(root, load_folder(tiny_corpus), Settings(), FakeEncoder)
    left = [root / "builds" / ".tmp-deadbeef", root / "onnx" / ".all-MiniLM-L6-v2-x.abc123"]
    for folder in left:
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text("{}")
    (root / ".current-deadbeef").write_text("deadbeef")
    (tiny_corpus / "orchard.md").write_text("# Orchard\n\nThe orchard closed.\n", encoding="utf-8")
    open_index(root, load_folder(tiny_corpus), Settings(), FakeEncoder)
    assert not any(f.exists() for f in left) and not (root / ".current-deadbeef").exists()
    assert [p.name for p in (root / "builds").iterdir()] == [current(root).name]


def test_a_read_only_index_folder_gives_a_clear_error(tiny_corpus, tmp_path, monkeypatch):
    root = tmp_path / "idx"
    real_open = os.open

    def read_only(path, *args, **kwargs):
        if str(path).startswith(str(root)):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("rag.build_lock.os.open", read_only)
    with pytest.raises(IndexWriteError, match=r"cannot write the index folder .*Read-only"):
        open_index(root, load_folder(tiny_corpus), Settings(), FakeEncoder)
