"""The live assistant: a folder's changes are seen on the next check, cheaply, one at a time."""

from __future__ import annotations

import threading

from rag import Assistant, LiveAssistant
from rag.live import listing

OKAPI = "The okapi sanctuary opened in 1987 near the Ituri river.\n"


def test_listing_sees_documents_and_the_sidecar_only(tiny_corpus):
    before = listing(tiny_corpus)
    assert {name for name, _, _ in before} == {
        "bridge.txt",
        "orchard.md",
        "festival.txt",
        "metadata.json",
    }
    (tiny_corpus / ".hidden.txt").write_text("x", encoding="utf-8")
    (tiny_corpus / "image.png").write_bytes(b"\x89PNG")
    assert listing(tiny_corpus) == before


def test_added_changed_and_removed_files_are_picked_up(tiny_corpus, fake_encoder, tmp_path):
    live = LiveAssistant(Assistant.from_directory(tiny_corpus, index_dir=tmp_path / "index"))
    first = live.current
    assert not live.check().changed and live.current is first
    (tiny_corpus / "okapi.txt").write_text(OKAPI, encoding="utf-8")
    got = live.check()
    assert got.changed and got.error is None and live.current is not first
    assert "okapi.txt" in {d.doc_id for d in live.current.documents}
    assert live.current.stats["embedded_this_load"] <= 4  # only the new file's texts
    assert live.current.ask("When did the okapi sanctuary open?").citations[0].doc_id == "okapi.txt"
    assert live.current.encoder is first.encoder
    (tiny_corpus / "okapi.txt").unlink()
    assert live.check().changed
    assert "okapi.txt" not in {d.doc_id for d in live.current.documents}


def test_an_emptied_folder_keeps_the_last_assistant(tiny_corpus, fake_encoder, tmp_path):
    live = LiveAssistant(Assistant.from_directory(tiny_corpus, index_dir=tmp_path / "index"))
    kept = live.current
    for path in tiny_corpus.iterdir():
        path.unlink()
    got = live.check()
    assert not got.changed and "no readable documents" in got.error and live.current is kept
    assert live.check().error is None  # not retried until the folder changes again


def test_a_check_does_not_wait_for_a_refresh_under_way(tiny_corpus, fake_encoder, tmp_path):
    live = LiveAssistant(Assistant.from_directory(tiny_corpus, index_dir=tmp_path / "index"))
    (tiny_corpus / "okapi.txt").write_text(OKAPI, encoding="utf-8")
    live._lock.acquire()  # as if another thread were refreshing
    try:
        result: list = []
        t = threading.Thread(target=lambda: result.append(live.check()))
        t.start()
        t.join(timeout=5)
        assert result and not result[0].changed
    finally:
        live._lock.release()
    assert live.check(wait=True).changed
