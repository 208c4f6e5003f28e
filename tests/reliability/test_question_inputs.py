"""Every input is text or a clear message: surrogates, non-strings, questions with no content.

The surrogate tests use the session's real index and model: the old failure was the real
tokenizer's ``TypeError: TextInputSequence must be str``.
"""

from __future__ import annotations

import re

import pytest
from conftest import assert_citations_verify

from rag import InputError
from rag.inputs import EMPTY_NOTICE

LETTER = "Who sent the letter to General Dunford?"


@pytest.mark.slow
@pytest.mark.parametrize("junk", ["\ud800", "\udce9", "\udcff\ud83d"])
def test_a_lone_surrogate_is_replaced_not_passed_to_the_tokenizer(assistant, junk):
    answer = assistant.ask(f"{LETTER}{junk}")
    assert answer.question == LETTER + "\ufffd" * len(junk)
    assert not any("\ud800" <= c <= "\udfff" for c in answer.query)
    assert "Gerasimov" in answer.text
    assert_citations_verify(answer)
    hits = assistant.search(f"Gerasimov letter{junk}", k=3)
    assert [h.doc_id for h in hits] == [h.doc_id for h in assistant.search("Gerasimov letter", k=3)]
    chat = assistant.chat()
    assert "Gerasimov" in chat.ask(f"{LETTER}{junk}").text
    assert chat.ask(f"What did he propose?{junk}").query.startswith("What did Valery Gerasimov")


@pytest.mark.slow
def test_a_surrogate_in_history_is_replaced(assistant):
    answer = assistant.ask("What did he propose?", history=[f"{LETTER}\ud800"])
    assert "Gerasimov" in answer.query


@pytest.mark.parametrize(
    ("question", "history", "says"),
    [
        (42, None, "a question must be text (str), not int"),
        (["Who?"], None, "a question must be text (str), not list"),
        (b"Who sent it?", None, "a question must be text (str), not bytes"),
        (
            "Who?",
            "Who sent the letter?",
            "history must be a list of earlier questions or Turns, not str",
        ),
        ("Who?", 7, "history must be a list of earlier questions or Turns, not int"),
        (
            "Who?",
            ["Who sent it?", None],
            "history[1] must be an earlier question (str) or a Turn, not None",
        ),
        ("Who?", [3], "history[0] must be an earlier question (str) or a Turn, not int"),
    ],
)
def test_non_strings_are_refused_with_a_readable_message(
    tiny_corpus, fake_encoder, question, history, says
):
    from rag import Assistant

    assistant = Assistant.from_directory(tiny_corpus)
    before = fake_encoder.calls
    with pytest.raises(InputError, match=f"^{re.escape(says)}$"):
        assistant.ask(question, history=history)
    assert fake_encoder.calls == before  # refused before anything was searched
    assert issubclass(InputError, TypeError)


def test_search_refuses_a_non_string(tiny_corpus, fake_encoder):
    from rag import Assistant

    with pytest.raises(InputError, match="not int"):
        Assistant.from_directory(tiny_corpus).search(12)


@pytest.mark.parametrize(
    "question", ["?!...;:", "🤔🤔👍", "\u200b\u200c\u200d\ufeff", "— … ¿¡ «»", "\ud800", "\x1b[ ]"]
)
def test_a_question_with_no_letter_or_digit_gets_the_notice_and_no_search(
    tiny_corpus, fake_encoder, monkeypatch, question
):
    from rag import Assistant

    assistant = Assistant.from_directory(tiny_corpus)

    def no_search(*args, **kwargs):
        raise AssertionError("a question without content must not be searched")

    monkeypatch.setattr(assistant._retriever, "retrieve", no_search)
    answer = assistant.ask(question)
    assert (answer.text, answer.notice, answer.citations, answer.query) == (
        EMPTY_NOTICE,
        EMPTY_NOTICE,
        (),
        "",
    )
    assert answer.abstained and assistant.search(question) == []
    chat = assistant.chat()
    chat.ask(question)
    assert chat.history == []  # not a turn


def test_a_digit_or_a_letter_in_any_script_is_content(tiny_corpus, fake_encoder):
    from rag import Assistant

    assistant = Assistant.from_directory(tiny_corpus)
    for question in ("2019?", "Tamar?", "Мост?"):
        assert assistant.ask(question).query == question
