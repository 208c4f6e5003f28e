"""Chunks and sentence spans: exact offsets, whole sentences, never across a segment."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BRIDGE, read

from rag.chunking import chunk_document, sentence_spans
from rag.records import DocMeta, Document, Segment, Span


def texts(text: str, spans) -> list[str]:
    return [text[s.start : s.end] for s in spans]


def test_sentences_respect_abbreviations_initials_and_lines():
    t = "The U.S. memo said so. Gen. Dunford declined.\nA new line"
    assert texts(t, sentence_spans(t)) == [
        "The U.S. memo said so.",
        "Gen. Dunford declined.",
        "A new line",
    ]


def test_sentences_of_a_known_text_have_exact_spans():
    assert sentence_spans(BRIDGE) == [Span(0, 61), Span(63, 106), Span(107, 167)]
    assert texts(BRIDGE, sentence_spans(BRIDGE))[2] == (
        "Repairs will cost 4 million euros, according to the council."
    )


def test_sentence_spans_are_absolute_within_a_window():
    t = "Intro. First one. Second one! Third?"
    assert texts(t, sentence_spans(t, 7, 29)) == ["First one.", "Second one!"]


def test_closing_quotes_stay_with_their_sentence_and_lowercase_does_not_split():
    t = "He said \u201cyes.\u201d Then he left. It cost approx. 5 dollars. e.g. this one."
    assert texts(t, sentence_spans(t)) == [
        "He said \u201cyes.\u201d",
        "Then he left.",
        "It cost approx. 5 dollars. e.g. this one.",
    ]


def test_bullet_markers_and_punctuation_only_pieces_are_dropped():
    t = "?       A bullet point\n\u2022 Another one\n...\n"
    assert texts(t, sentence_spans(t)) == ["A bullet point", "Another one"]


def make_doc(text: str) -> Document:
    return Document("d.txt", Path("d.txt"), text, DocMeta("D"), "0")


def test_chunks_are_whole_sentences_with_exact_text_and_ids():
    sentence = "Sentence number {} talks about the harbour and its ferries."
    text = " ".join(sentence.format(i) for i in range(40))
    doc = make_doc(text)
    chunks = chunk_document(doc, (Segment("d.txt", 0, len(text), "Ana", "post"),), 300, 60, 7)
    assert [c.chunk_id for c in chunks] == list(range(7, 7 + len(chunks)))
    assert len(chunks) > 5
    starts = {s.start for s in sentence_spans(text)}
    ends = {s.end for s in sentence_spans(text)}
    for c in chunks:
        assert c.text == text[c.start : c.end]
        assert c.start in starts and c.end in ends  # never mid-sentence
        assert (c.start, c.end) == (c.sentences[0].start, c.sentences[-1].end)
        assert all(c.start <= s.start < s.end <= c.end for s in c.sentences)
        assert (c.author, c.kind, c.doc_id) == ("Ana", "post", "d.txt")
        assert len(c.text) <= 300 + len(sentence) * 2
    covered = {s for c in chunks for s in c.sentences}
    assert covered == set(sentence_spans(text))  # every sentence is in some chunk


def test_chunks_never_cross_segments():
    text = "First segment sentence one. Sentence two.\n\nSecond segment only sentence."
    doc = make_doc(text)
    cut = text.index("Second")
    segs = (
        Segment("d.txt", 0, cut - 2, "a", "post"),
        Segment("d.txt", cut, len(text), "b", "post"),
    )
    chunks = chunk_document(doc, segs, 900, 150)
    assert [(c.text, c.author) for c in chunks] == [
        ("First segment sentence one. Sentence two.", "a"),
        ("Second segment only sentence.", "b"),
    ]


@pytest.mark.slow
def test_every_chunk_and_sentence_of_the_corpus_round_trips(assistant):
    index = assistant._index
    docs = {d.doc_id: d for d in index.documents}
    files = {d.doc_id: read(d.path) for d in index.documents}
    assert len(index.chunks) > 40 and len(index.sentences) > 150
    for c in index.chunks:
        assert docs[c.doc_id].text[c.start : c.end] == c.text == files[c.doc_id][c.start : c.end]
        for s in c.sentences:
            assert c.start <= s.start < s.end <= c.end
    for doc_id, s in index.sentences:
        sentence = files[doc_id][s.start : s.end]
        assert sentence == docs[doc_id].text[s.start : s.end]
        assert sentence == sentence.strip() and sentence
    for c, ids in zip(index.chunks, index.chunk_sentences, strict=True):
        assert tuple(index.sentences[i][1] for i in ids) == c.sentences


MANUAL = Path(__file__).parent.parent / "eval" / "manuals" / "corpus" / "bzip2-manual.pdf"


def test_a_sentence_wrapped_across_pdf_lines_is_one_span_and_headings_stay_apart():
    from rag.documents import read_file

    text = read_file(MANUAL).text
    spans = sentence_spans(text)
    wrapped = (
        "The flags -1 through -9 specify the block size to be 100,000\n"
        "bytes through 900,000 bytes (the default) respectively."
    )
    at = text.index(wrapped)
    assert Span(at, at + len(wrapped)) in spans
    newline = text.index("2.5. MEMORY MANAGEMENT\n") + len("2.5. MEMORY MANAGEMENT")
    assert not any(s.start < newline < s.end for s in spans)  # a heading is not wrapped prose


def test_lines_that_end_a_sentence_or_are_short_still_end_one():
    wide = "A line of prose as wide as the rest of the text on this page"
    t = "\n".join([wide + ".", "Next one starts here", wide, "and goes on."] * 3)
    assert texts(t, sentence_spans(t))[:3] == [
        wide + ".",
        "Next one starts here",
        wide + "\nand goes on.",
    ]
