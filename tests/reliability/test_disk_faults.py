"""A full disk and a read-only index folder: a clear error, the last build kept, a retry that
works once the fault is gone. Real filesystems (a 2 MB tmpfs, a read-only bind mount) inside a
user and mount namespace (``unshare -rm``), and a mocked ENOSPC for the in-process paths."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_tiny

import rag.live
from rag import Assistant, LiveAssistant
from rag.build_lock import IndexWriteError
from rag.vector_cache import VectorCache

SCRIPT = Path(__file__).with_name("disk_faults.py")
OKAPI = "The okapi sanctuary opened in 1987 near the Ituri river.\n"


def in_namespace(mode: str, root: Path) -> dict:
    """``disk_faults.py MODE ROOT`` as root of a new user and mount namespace."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to mount a tmpfs or a read-only folder")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"user namespaces are not allowed here: {probe.stderr.decode().strip()}")
    root.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["unshare", "-rm", sys.executable, str(SCRIPT), mode, str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_full_tmpfs_is_a_clear_error_keeps_the_last_build_and_is_retried(tmp_path):
    got = in_namespace("full", tmp_path / "fs")
    assert "could not save vectors" in got["error"] and "No space left" in got["error"]
    assert not got["changed_when_full"] and got["kept_answer"]
    assert got["tmp_left"] == []  # no half-written shard holds the little space there is
    assert not got["retried_too_soon"]
    assert got["retried"] and got["new_doc_cited"]


def test_a_read_only_index_folder_serves_and_refuses_to_build_with_a_message(tmp_path):
    got = in_namespace("readonly", tmp_path / "ro")
    assert got["same_answer"]
    assert got["changed"].startswith("IndexWriteError: ")
    assert "Read-only file system" in got["changed"]


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_enospc_while_caching_vectors_is_an_index_write_error(
    tiny_corpus, fake_encoder, tmp_path, monkeypatch
):
    index = tmp_path / "index"
    first = Assistant.from_directory(tiny_corpus, index_dir=index)
    (tiny_corpus / "okapi.txt").write_text(OKAPI, encoding="utf-8")
    with monkeypatch.context() as m:
        m.setattr(VectorCache, "_write", no_space)
        with pytest.raises(IndexWriteError, match="Free some space"):
            Assistant.from_directory(tiny_corpus, index_dir=index)
    again = Assistant.from_directory(tiny_corpus, index_dir=index)
    assert again.ask("When did the okapi sanctuary open?").citations[0].doc_id == "okapi.txt"
    assert first.index_dir == again.index_dir


def test_a_live_refresh_that_hit_a_full_disk_is_tried_again(
    tiny_corpus, fake_encoder, tmp_path, monkeypatch
):
    live = LiveAssistant(Assistant.from_directory(tiny_corpus, index_dir=tmp_path / "index"))
    kept = live.current
    (tiny_corpus / "okapi.txt").write_text(OKAPI, encoding="utf-8")
    with monkeypatch.context() as m:
        m.setattr(VectorCache, "_write", no_space)
        failed = live.check()
    assert not failed.changed and "No space left" in failed.error and live.current is kept
    assert not live.check().changed  # not before RETRY_S
    monkeypatch.setattr(rag.live, "RETRY_S", 0.0)
    live._retry_at = 0.0
    assert live.check().changed
    assert "okapi.txt" in {d.doc_id for d in live.current.documents}


def test_a_corpus_that_cannot_be_read_is_not_retried_before_it_changes(tmp_path, fake_encoder):
    corpus = write_tiny(tmp_path / "tiny")
    live = LiveAssistant(Assistant.from_directory(corpus, index_dir=tmp_path / "index"))
    for path in corpus.iterdir():
        path.unlink()
    assert "no readable documents" in live.check().error
    assert live.check().error is None
