"""The public API and bad input: corpus errors, HTML offsets, odd questions never crash."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, FORUM, assert_citations_verify

import rag
from rag import Answer, Assistant, CorpusError, Settings
from rag.assistant import EMPTY_NOTICE, default_index_dir
from rag.documents import read_text

HTML = (
    "<html><head><title>Port news</title><script>var hidden = 'tracking pixel';</script></head>"
    "<body><nav>Home | Contact</nav><h1>Harbour reopens</h1>"
    "<p>The harbour of Lowmouth reopened on May 3 after a storm closed it.</p>"
    "<script>document.write('Lowmouth casino jackpot');</script>"
    "<p>Fishing boats &amp; ferries returned the same week.</p></body></html>"
)


def test_public_api_is_declared_once():
    assert {"Assistant", "Answer", "Citation", "Hit", "Settings", "CorpusError", "Chat"} <= set(
        rag.__all__
    )
    with pytest.raises(AttributeError):
        rag.NotAThing  # noqa: B018


def test_import_rag_is_light():
    import subprocess

    code = "import rag, sys; print([m for m in ('torch', 'faiss', 'gradio') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("make", ["missing", "empty", "only-chrome", "only-undecodable"])
def test_bad_corpus_folders_raise_a_clear_corpus_error(tmp_path, make, fake_encoder):
    folder = tmp_path / "corpus"
    if make != "missing":
        folder.mkdir()
    if make == "only-chrome":
        (folder / "a.txt").write_text("Jump to content\nLink to comment\n", encoding="utf-8")
    if make == "only-undecodable":
        (folder / "a.txt").write_bytes(random.Random(0).randbytes(4096))  # not text
    with pytest.raises(CorpusError) as err:
        Assistant.from_directory(folder)
    assert str(folder) in str(err.value) or "a.txt" in str(err.value)
    assert fake_encoder.calls == 0


def test_default_index_folder_is_under_the_index_root(tmp_path):
    assert default_index_dir(CORPUS).parent == tmp_path / "rag_index"
    assert default_index_dir(CORPUS) == default_index_dir(CORPUS / ".." / "corpus")
    assert default_index_dir(CORPUS) != default_index_dir(tmp_path)


def test_tiny_assistant_api(tiny_corpus, fake_encoder, tmp_path):
    a = Assistant.from_directory(tiny_corpus)  # index under $RAG_INDEX_DIR, i.e. tmp_path
    assert a.index_dir.parent == tmp_path / "rag_index" and a.index_dir.is_dir()
    assert [d.doc_id for d in a.documents] == ["bridge.txt", "festival.txt", "orchard.md"]
    assert a.document("bridge.txt").meta.author == "Ana Ruiz"
    with pytest.raises(KeyError):
        a.document("nope.txt")
    answer = a.ask("When was the Tamar bridge closed?")
    assert isinstance(answer, Answer) and answer.question == "When was the Tamar bridge closed?"
    assert_citations_verify(answer)
    assert answer.timings["total_ms"] > 0


def test_html_offsets_index_the_extracted_text_and_scripts_are_not_indexed(tmp_path, fake_encoder):
    folder = tmp_path / "site"
    folder.mkdir()
    page = folder / "port.html"
    page.write_text(HTML, encoding="utf-8")
    a = Assistant.from_directory(folder, index_dir=tmp_path / "idx")
    text = read_text(page)
    assert a.document("port.html").text == text
    chunks = a._index.chunks
    assert chunks
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert "casino" not in c.text and "tracking" not in c.text and "Home" not in c.text
    assert "The harbour of Lowmouth reopened on May 3" in " ".join(c.text for c in chunks)
    hit = a.search("Lowmouth harbour")[0]
    assert read_text(hit.path)[hit.start : hit.end] == hit.text


def test_undecodable_file_is_skipped_and_the_rest_indexed(tiny_corpus, fake_encoder, caplog):
    (tiny_corpus / "bad.txt").write_bytes(random.Random(0).randbytes(4096))  # not text
    a = Assistant.from_directory(tiny_corpus)
    assert "bad.txt" not in [d.doc_id for d in a.documents]
    assert any("bad.txt" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "\x00\x01\x02"])
def test_empty_question_gets_a_notice_and_no_search(
    tiny_corpus, fake_encoder, monkeypatch, question
):
    assistant = Assistant.from_directory(tiny_corpus)

    def no_search(*args, **kwargs):
        raise AssertionError("an empty question must not be searched")

    monkeypatch.setattr(assistant._retriever, "retrieve", no_search)
    answer = assistant.ask(question)
    assert answer.abstained and answer.citations == () and answer.query == ""
    assert answer.notice == EMPTY_NOTICE
    assert assistant.search(question) == []


@pytest.mark.slow
def test_huge_question_is_truncated_with_a_notice(assistant):
    question = "Who sent the letter to Dunford? " + "very " * 20_000
    assert len(question) > 100_000
    answer = assistant.ask(question)
    limit = assistant.settings.max_question_chars
    assert answer.notice and f"{limit:,}" in answer.notice
    assert len(answer.question) == limit
    assert_citations_verify(answer)


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "¿Quién envió la carta a Dunford?",
        "Кто отправил письмо Данфорду?",
        "谁给邓福德写了信？",
        "🙂🙂🙂 rebuilding Syria 💸?",
        "Who\x00 sent\x1b[31m the letter\x7f to Dunford?",
        "' OR 1=1; DROP TABLE documents; --",
        "<script>alert('x')</script> Raqqa",
        "\u202e\u200b\ufeffRaqqa\u00a0bombing",
    ],
)
def test_odd_questions_are_answered_or_abstained_never_crash(assistant, question):
    answer = assistant.ask(question)
    assert isinstance(answer, Answer)
    assert answer.abstained or answer.citations
    assert not any(ch in answer.query for ch in "\x00\x1b\x7f")
    assert_citations_verify(answer)


@pytest.mark.slow
def test_stats_and_documents_of_the_corpus(assistant):
    s = assistant.stats
    assert s["documents"] == 4 and s["posts"] == 18
    assert s["chrome_lines"] > 50 and s["requotes"] > 20
    assert s["sentences"] > 150 and s["chunks"] > 40
    assert assistant.document(FORUM).path == (CORPUS / FORUM).resolve()
    assert Path(assistant.index_dir).is_dir()
    assert assistant.settings == Settings()
