"""Hybrid search: rank fusion, exact spans in hits, and known passages of the corpus."""

from __future__ import annotations

import pytest
from conftest import FORUM, read

from rag import Assistant, Settings
from rag.lexical import tokenize
from rag.retrieval import rrf


def test_rrf_sums_reciprocal_ranks():
    fused = rrf([([1, 2, 3], 1.0), ([3, 2], 1.0)], rrf_k=60)
    assert [i for i, _ in fused] == [3, 2, 1]  # 1/61 + 1/63 edges out 2/62
    scores = dict(fused)
    assert scores[2] == pytest.approx(1 / 62 + 1 / 62)
    assert scores[3] == pytest.approx(1 / 63 + 1 / 61)
    assert scores[1] == pytest.approx(1 / 61)


def test_rrf_weights_and_ties():
    assert rrf([([1], 1.0), ([2], 2.0)], rrf_k=60)[0][0] == 2  # the heavier ranking wins
    assert [i for i, _ in rrf([([5], 1.0), ([4], 1.0)], rrf_k=60)] == [4, 5]  # ties by id
    assert rrf([([], 1.0)], rrf_k=60) == []


def test_rrf_constant_softens_rank_gaps():
    sharp = dict(rrf([([1, 2], 1.0)], rrf_k=0))
    soft = dict(rrf([([1, 2], 1.0)], rrf_k=1000))
    assert sharp[1] / sharp[2] > soft[1] / soft[2]


def test_tiny_search_hits_carry_exact_spans_and_metadata(tiny_corpus, tmp_path, fake_encoder):
    a = Assistant.from_directory(tiny_corpus, settings=Settings(), index_dir=tmp_path / "idx")
    hits = a.search("Tamar bridge cables", k=3)
    top = hits[0]
    assert (top.doc_id, top.start, top.end) == ("bridge.txt", 0, 167)
    assert (top.title, top.publisher, top.author, top.kind) == (
        "Tamar bridge closed", "Valley Gazette", "Ana Ruiz", "article",
    )  # fmt: skip
    for h in hits:
        assert read(h.path)[h.start : h.end] == h.text
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(a.search("pear", k=1)) == 1
    assert a.search("   ") == [] and a.search("") == []


@pytest.mark.slow
def test_name_query_finds_the_letter(assistant):
    top = assistant.search("Gerasimov letter to Dunford")[0]
    assert top.doc_id == FORUM and "July 19 letter" in top.text
    assert read(top.path)[top.start : top.end] == top.text


@pytest.mark.slow
def test_number_query_finds_its_chunk_through_bm25(assistant):
    index = assistant._index
    ids, _ = index.lexical.search(tokenize("$250 billion"), 5)
    assert "$250 billion" in index.chunks[int(ids[0])].text
    hits = assistant.search("$250 billion", k=3)
    assert any("$250 billion" in h.text for h in hits)


@pytest.mark.slow
def test_straight_quotes_find_curly_quoted_text(assistant):
    top = assistant.search("Russia's initiative looks like a quick-fix arrangement")[0]
    assert "Russia\u2019s initiative looks like a quick-fix" in top.text
    top = assistant.search('the U.N.\'s "strategic framework" paradox')[0]
    assert "\u201cstrategic framework\u201d" in top.text


@pytest.mark.slow
def test_search_k_and_spans_on_the_corpus(assistant):
    hits = assistant.search("refugees returning to Syria", k=7)
    assert len(hits) == 7 and len({h.chunk_id for h in hits}) == 7
    for h in hits:
        assert read(h.path)[h.start : h.end] == h.text
        assert assistant.document(h.doc_id).meta.title == h.title


@pytest.mark.slow
def test_a_named_source_is_searched_first(assistant):
    hits = assistant.search("What did Syria Daily say about John Bolton?", k=5)
    digest = next(d.doc_id for d in assistant.documents if d.meta.publisher == "Syria Daily")
    assert [h.doc_id for h in hits] == [digest] * 5
    assert "Bolton" in hits[0].text
    member = assistant.search("what did bristolboy write about Raqqa", k=3)[0]
    assert member.author == "bristolboy" and "Raqqa" in member.text


@pytest.mark.slow
def test_questions_about_the_comments_search_the_comments_first(assistant):
    hits = assistant.search("What did commenters say about China?", k=5)
    assert all(h.kind != "article" for h in hits)
    assert any("China" in h.text for h in hits)
    # "members" alone is no forum: a council has members too.
    hits = assistant.search("Which members of the U.N. Security Council backed resolution 2254?")
    assert hits[0].kind == "article"


@pytest.mark.slow
def test_one_sentence_ranks_its_chunk(assistant):
    index = assistant._index
    doc_id, span = index.sentences[100]
    sentence = assistant.document(doc_id).text[span.start : span.end]
    ranked = assistant._retriever._by_sentence(assistant._encode_query(sentence), 5)
    assert ranked[0] in index.sentence_chunks[100]
    assert len(ranked) == len(set(ranked)) == 5


def test_sentence_ranking_and_scope_can_be_switched_off(tiny_corpus, tmp_path, fake_encoder):
    plain = Settings(sentence_weight=0.0, scope_sources=False)
    a = Assistant.from_directory(tiny_corpus, settings=plain, index_dir=tmp_path / "idx")
    b = Assistant.from_directory(tiny_corpus, settings=Settings(), index_dir=tmp_path / "idx")
    query = "What did the Valley Gazette say about cables?"
    assert a.search(query, k=3)[0].doc_id == b.search(query, k=3)[0].doc_id == "bridge.txt"
    assert b._retriever.scope(b._answerer.profile(query)) == frozenset(
        c.chunk_id for c in b._index.chunks if c.doc_id == "bridge.txt"
    )
