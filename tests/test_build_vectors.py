"""Where the build's vectors come from: one pass per chunk text, the cache, the old build."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEncoder

from rag import Assistant, Settings
from rag.build_vectors import span_key
from rag.late_chunking import hosts
from rag.vector_cache import digest

PARAGRAPH = (
    "The ferry left at noon. It carried forty cars. The crossing took an hour.\n\n"
    "Storms closed the port in May. Repairs took a week.\n"
)


class SpanEncoder(FakeEncoder):
    """The fake encoder with a pass that pools spans: a span's vector is the bag of words of
    its text plus a word naming the pass's length (so it depends on its chunk), and a span
    ending past ``window`` characters is not pooled, as past a model's 256 tokens."""

    def __init__(self, window: int = 10_000) -> None:
        super().__init__()
        self.window = window
        self.passes: list[str] = []

    def encode_spans(self, texts, spans):
        self.passes += list(texts)
        out = FakeEncoder().encode(texts)
        pieces = [(t, a, b) for t, s in zip(texts, spans, strict=True) for a, b in s]
        pooled = np.array([b <= self.window for _, _, b in pieces], dtype=bool)
        rows = FakeEncoder().encode([context(t, t[a:b]) for t, a, b in pieces] or [""])
        rows = rows[: len(pieces)] * pooled[:, None]
        return out, rows.astype(np.float32), pooled


def context(chunk: str, sentence: str) -> str:
    return f"chunk{len(chunk)} {sentence}"


@pytest.fixture
def span_encoder(monkeypatch) -> SpanEncoder:
    encoder = SpanEncoder()
    monkeypatch.setattr("rag.assistant.load_encoder", lambda *a, **k: encoder)
    return encoder


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def open_at(corpus: Path, index_dir: Path, **settings) -> Assistant:
    """Late chunking on, unless ``settings`` say otherwise."""
    chosen = Settings(**{"late_chunking": True, **settings})
    return Assistant.from_directory(corpus, settings=chosen, index_dir=index_dir)


def test_each_chunk_text_goes_through_the_encoder_once(tmp_path, span_encoder):
    corpus = write(tmp_path / "docs", {"a.txt": PARAGRAPH, "b.txt": PARAGRAPH})  # twice
    built = open_at(corpus, tmp_path / "idx", chunk_size=80, chunk_overlap=30)
    index = built._index
    texts = {c.text for c in index.chunks}
    assert sorted(span_encoder.passes) == sorted(texts)  # one pass per distinct chunk text
    assert span_encoder.texts == []  # ...and nothing on its own
    s = built.stats
    assert s["encoded_texts"] == len(texts) and s["encoded_chars"] == sum(map(len, texts))
    assert s["embedded_this_load"] == s["chunks"] + s["sentences"]
    # Each sentence's vector is its host chunk's pooled span: the last chunk holding it.
    host = hosts(index.chunk_sentences, len(index.sentences))
    for sid, (doc_id, span) in enumerate(index.sentences):
        h = host[sid]
        assert h == max(i for i, ids in enumerate(index.chunk_sentences) if sid in ids)
        chunk = index.chunks[h]
        text = index.by_id[doc_id].text[span.start : span.end]
        expected = FakeEncoder().encode([context(chunk.text, text)])[0]
        np.testing.assert_allclose(index.sentence_vectors[sid], expected, atol=1e-6)


def test_a_sentence_past_the_window_is_encoded_on_its_own(tmp_path, monkeypatch):
    encoder = SpanEncoder(window=40)
    monkeypatch.setattr("rag.assistant.load_encoder", lambda *a, **k: encoder)
    corpus = write(tmp_path / "docs", {"a.txt": PARAGRAPH})
    built = open_at(corpus, tmp_path / "idx")
    alone = [t for t in encoder.texts if t not in encoder.passes]
    # one chunk; the sentences ending past its 40th character
    assert alone == ["It carried forty cars.", "The crossing took an hour.",
                     "Storms closed the port in May.", "Repairs took a week."]  # fmt: skip
    index = built._index
    by_text = {
        index.by_id[d].text[sp.start : sp.end]: i for i, (d, sp) in enumerate(index.sentences)
    }
    np.testing.assert_allclose(
        index.sentence_vectors[by_text["Repairs took a week."]],
        FakeEncoder().encode(["Repairs took a week."])[0],
        atol=1e-6,
    )
    assert len(index.chunks) == 1 and built.stats["encoded_texts"] == 1 + 4


def test_a_second_build_takes_every_vector_from_the_cache(tmp_path, span_encoder):
    corpus = write(tmp_path / "docs", {"a.txt": PARAGRAPH})
    first = open_at(corpus, tmp_path / "idx", chunk_size=80, chunk_overlap=30)
    shutil.rmtree(tmp_path / "idx" / "builds")  # the build is lost, the vector cache stays
    (tmp_path / "idx" / "current").unlink()
    passes = len(span_encoder.passes)
    again = open_at(corpus, tmp_path / "idx", chunk_size=80, chunk_overlap=30)
    assert len(span_encoder.passes) == passes
    assert again.stats["from_vector_cache"] == first.stats["embedded_this_load"]
    assert again.stats["encoded_texts"] == 0
    assert np.array_equal(again._index.sentence_vectors, first._index.sentence_vectors)


def test_switching_late_chunking_rebuilds_the_sentence_vectors(tmp_path, span_encoder, caplog):
    corpus = write(tmp_path / "docs", {"a.txt": PARAGRAPH})
    late = open_at(corpus, tmp_path / "idx")
    with caplog.at_level(logging.WARNING, logger="rag.index"):
        alone = open_at(corpus, tmp_path / "idx", late_chunking=False)
    assert any("late_chunking=True" in r.getMessage() for r in caplog.records)
    assert alone._index.manifest.late_chunking is False
    s = alone.stats  # the chunks' own vectors are the same either way: reused
    assert s["embedded_this_load"] == s["sentences"] and s["from_vector_cache"] == 0
    assert not np.allclose(alone._index.sentence_vectors, late._index.sentence_vectors)
    np.testing.assert_array_equal(alone._index.chunk_vectors, late._index.chunk_vectors)


def test_span_keys_name_the_chunk_and_the_span():
    a, b = digest("One. Two."), digest("One. Three.")
    keys = {span_key(a, 0, 4), span_key(a, 5, 9), span_key(b, 0, 4), digest("One.")}
    assert len(keys) == 4
