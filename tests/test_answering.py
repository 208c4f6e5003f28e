"""Answers: verbatim citations, quotes plus framing only, abstention with related passages.

These check robust facts, not the lead's tuning: spans, the $250 billion figure, abstention on
an off-topic question.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import BRIDGE, ORCHARD, assert_citations_verify

from rag import Assistant, Settings
from rag.answering import Candidate, acronyms, spelled_out

MANUALS = Path(__file__).parent.parent / "eval" / "manuals" / "corpus"

QUESTIONS = [
    "Who sent the letter to Dunford?",
    "How much will rebuilding Syria cost?",
    "What did forum member bristolboy say about Raqqa?",
    "How many people has the Syria conflict killed?",
    "What does the U.N. strategic framework do in Syria?",
    "What did Iran offer Assad for reconstruction?",
]


def one_file_assistant(tmp_path: Path, name: str, text: str) -> Assistant:
    """An assistant over a folder holding one file ``name`` with ``text``."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / name).write_text(text, encoding="utf-8")
    return Assistant.from_directory(corpus, settings=Settings(), index_dir=tmp_path / "idx")


@pytest.fixture(scope="module")
def answers(assistant):
    return {q: assistant.ask(q) for q in QUESTIONS}


def framing_only(answer) -> str:
    """The answer text with every cited quote cut out: what is left must be framing."""
    rest = answer.text
    for c in (*answer.citations, *answer.related):
        rest = rest.replace(f"\u201c{c.quote}\u201d", "")
    return rest


@pytest.mark.slow
@pytest.mark.parametrize("question", QUESTIONS)
def test_every_citation_is_the_exact_span_of_its_file(answers, assistant, question):
    answer = answers[question]
    assert answer.question == question
    assert_citations_verify(answer)
    for c in answer.citations:
        assert assistant.document(c.doc_id).text[c.start : c.end] == c.quote
        assert c.title == assistant.document(c.doc_id).meta.title
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))


@pytest.mark.slow
@pytest.mark.parametrize("question", QUESTIONS)
def test_answer_text_is_quotes_plus_framing(answers, question):
    answer = answers[question]
    for c in answer.citations:
        assert f"\u201c{c.quote}\u201d" in answer.text
    rest = framing_only(answer)
    assert "\u201c" not in rest and "\u201d" not in rest, rest  # every “…” is a cited quote
    for line in rest.splitlines():
        framing = re.sub(r"\[\d+\]", "", line).strip()
        assert len(framing.split()) <= 16, framing  # a speaker line, not prose of its own


@pytest.mark.slow
def test_rebuilding_cost_is_cited(answers):
    answer = answers["How much will rebuilding Syria cost?"]
    assert not answer.abstained
    assert any("$250 billion" in c.quote for c in answer.citations)


@pytest.mark.slow
def test_letter_question_cites_gerasimov(answers):
    answer = answers["Who sent the letter to Dunford?"]
    assert not answer.abstained and answer.confidence > 0
    assert any("Gerasimov" in c.quote for c in answer.citations)


@pytest.mark.slow
def test_forum_member_named_in_the_question_is_quoted(answers):
    answer = answers["What did forum member bristolboy say about Raqqa?"]
    assert any(c.author == "bristolboy" and c.kind == "post" for c in answer.citations)
    assert any(c.speaker == "forum member bristolboy" for c in answer.citations)


@pytest.mark.slow
def test_off_topic_question_abstains_with_related_passages_apart(assistant):
    answer = assistant.ask("What is a good recipe for hummus?")
    assert answer.abstained
    assert answer.citations == ()
    assert answer.related  # the closest passages, shown as such, never as the answer
    assert_citations_verify(answer)
    assert "\u201c" not in framing_only(answer)


@pytest.mark.slow
def test_threshold_override_decides_abstention(assistant):
    q = "How much will rebuilding Syria cost?"
    assert assistant.ask(q, abstain_threshold=10.0).abstained
    assert not assistant.ask(q, abstain_threshold=-10.0).abstained


@pytest.mark.slow
def test_tiny_corpus_answers_with_the_known_sentence(tiny_corpus, tmp_path, real_encoder):
    a = Assistant.from_directory(tiny_corpus, settings=Settings(), index_dir=tmp_path / "idx")
    cases = {
        "When was the Tamar bridge closed?": ("bridge.txt", 0, 61),
        # The lead is short and its paragraph goes on: the two sentences are one quote.
        "How many pear trees does the Hartley orchard grow?": ("orchard.md", 17, 89),
        "How much will the bridge repairs cost?": ("bridge.txt", 107, 167),
    }
    for question, span in cases.items():
        answer = a.ask(question)
        assert not answer.abstained, question
        assert span in [(c.doc_id, c.start, c.end) for c in answer.citations], question
        assert_citations_verify(answer)
    assert a.ask("What is the capital of Peru?").abstained


@pytest.mark.slow
def test_a_count_the_corpus_never_gives_abstains(assistant):
    # The corpus names Russia and Syria often, but never counts Russian troops.
    answer = assistant.ask("How many Russian soldiers are based in Syria?")
    assert answer.abstained and not answer.citations


@pytest.mark.slow
def test_a_who_question_lands_on_the_name_not_the_title(assistant):
    answer = assistant.ask("Which Syrian official is the regime's Defense Minister?")
    assert not answer.abstained
    assert any("Ali Abdullah Ayoub" in c.quote for c in answer.citations)


def test_acronyms_and_their_long_forms_meet():
    assert "imf" in acronyms("The International Monetary Fund estimates the cost")
    assert "iom" in acronyms("the International Organization for Migration (IOM)")
    assert spelled_out("Which Security Council resolution?", "UNSCR 2254") == {
        "security",
        "council",
        "resolution",
    }
    assert not spelled_out("Which Security Council resolution?", "resolution 2254")


@pytest.mark.slow
def test_an_acronym_follow_up_finds_the_long_form(assistant):
    # The corpus writes "International Monetary Fund", never "IMF".
    chat = assistant.chat()
    chat.ask("What does the UN estimate rebuilding Syria will cost?")
    answer = chat.ask("What about the IMF?")
    assert not answer.abstained
    assert any("International Monetary Fund" in c.quote for c in answer.citations)


@pytest.mark.slow
def test_a_who_question_about_a_relation_the_corpus_never_states_abstains(assistant):
    # Dunford and his post are in the corpus; who came after him is not ("replaced" never is).
    answer = assistant.ask("Who replaced General Dunford as chairman of the Joint Chiefs?")
    assert answer.abstained


@pytest.mark.slow
def test_a_follow_up_moves_past_the_quote_already_given(assistant):
    chat = assistant.chat()
    first = chat.ask("Who sent the letter to General Dunford?")
    second = chat.ask("What did he propose?")
    assert not second.abstained
    assert second.citations[0].quote != first.citations[0].quote


@pytest.mark.slow
def test_what_members_think_quotes_several_members(assistant):
    answer = assistant.ask("What did commenters say about the US role in Syria?")
    members = {c.author for c in answer.citations if c.kind == "post"}
    assert not answer.abstained and len(members) >= 2
    assert_citations_verify(answer)


@pytest.mark.slow
def test_a_short_quote_brings_the_rest_of_its_paragraph_only(tiny_corpus, tmp_path, real_encoder):
    a = Assistant.from_directory(tiny_corpus, settings=Settings(), index_dir=tmp_path / "idx")
    closed = a.ask("When was the Tamar bridge closed?")
    # A blank line ends the bridge's first paragraph: the cracks are another point.
    assert [c.quote for c in closed.citations if c.doc_id == "bridge.txt"] == [BRIDGE[:61]]
    pears = a.ask("How many pear trees does the Hartley orchard grow?")
    # "Its cider..." continues the same paragraph, and the lead is short: one passage, quoted
    # with the lead first.
    assert pears.citations[0].quote == ORCHARD[17:89]
    assert pears.citations[0].quote.endswith("Its cider won a prize in 2021.")
    assert_citations_verify(closed)
    assert_citations_verify(pears)


@pytest.mark.slow
def test_adjacent_sentences_are_one_quote_but_list_lines_and_paragraphs_stay_apart(
    tmp_path, real_encoder
):
    text = (
        "Opening hours\nMonday to Friday, 9 to 5\nSaturday, 10 to 2\n\n"
        "The shop is closed on Sundays. It opens again on Monday.\n"
    )
    a = one_file_assistant(tmp_path, "shop.txt", text)
    answerer, index = a._answerer, a._index
    ids = {text[span.start : span.end]: i for i, (_, span) in enumerate(index.sentences)}
    lines = ("Monday to Friday, 9 to 5", "Saturday, 10 to 2")
    sentences = ("The shop is closed on Sundays.", "It opens again on Monday.")
    sid = [ids[t] for t in (*lines, *sentences)]

    def quotes(*rows: int) -> list[str]:
        chosen = [Candidate(sid[r], 0, 0.5, 0.5, 1.0) for r in rows]
        return [answerer.citation(1, c, last).quote for c, last in answerer._runs(chosen)]

    assert quotes(2, 3) == ["The shop is closed on Sundays. It opens again on Monday."]
    assert quotes(0, 1) == ["Monday to Friday, 9 to 5", "Saturday, 10 to 2"]  # list lines
    assert quotes(1, 2) == ["Saturday, 10 to 2", "The shop is closed on Sundays."]  # blank line
    assert quotes(3, 2) == ["It opens again on Monday.", "The shop is closed on Sundays."]

    # The best sentence is quoted first; what came in beside it (its score) in reading order.
    def order(lead: Candidate, *others: Candidate) -> list[int]:
        ranked = sorted([lead, *others], key=lambda c: answerer._order_key(c, lead))
        return [sid.index(c.sentence_id) for c in ranked]

    lead = Candidate(sid[3], 0, 0.5, 0.5, 2.0)
    assert order(lead, Candidate(sid[2], 0, 0.5, 0.5, 1.9)) == [3, 2]
    assert order(lead, Candidate(sid[2], 0, 0.5, 0.5, 2.0)) == [2, 3]


@pytest.mark.slow
def test_a_contents_page_number_is_never_quoted(tmp_path, real_encoder):
    """The libtasn1 manual's contents list "asn1Coding program ." then its page, "5"."""
    corpus = tmp_path / "manual"
    corpus.mkdir()
    shutil.copy(MANUALS / "libtasn1.pdf", corpus)
    a = Assistant.from_directory(corpus, settings=Settings(), index_dir=tmp_path / "idx")
    answer = a.ask("What does the asn1Coding tool produce?")
    assert answer.citations
    assert all(re.search(r"[A-Za-z]{2}", c.quote) for c in answer.citations)


@pytest.mark.slow
def test_a_follow_up_asking_a_measure_the_last_quote_holds_may_quote_it_again(
    tmp_path, real_encoder
):
    text = (
        "Mayor Lund met the fishermen twice in March to discuss the harbour.\n\n"
        "The council approved a budget of 4 million euros for the quay.\n\n"
        "In March, Mayor Lund told the fishermen that the harbour will reopen.\n"
    )
    a = one_file_assistant(tmp_path, "harbour.txt", text)
    chat = a.chat()
    first = chat.ask("Whom did Mayor Lund meet to discuss the harbour?")
    assert first.citations[0].quote.startswith("Mayor Lund met the fishermen twice")
    again = chat.ask("How often?")  # the same sentence holds the answer: "twice"
    assert not again.abstained
    assert (again.citations[0].start, again.citations[0].doc_id) == (0, "harbour.txt")
    assert_citations_verify(again)
