"""Names bound to the office a "who" question asks about (rag/titles.py)."""

from __future__ import annotations

import pytest

from rag.titles import asked_titles, holds_titled_name, same_word


def holds(sentence: str, question: str, previous: str = "") -> bool:
    words = question.rstrip("?").split()
    return holds_titled_name(sentence, previous, asked_titles(question), words, lambda w: True)


def test_a_title_before_a_person_in_the_question_is_not_asked():
    assert asked_titles("Who wrote to General Dunford?") == ()
    assert asked_titles("Who is the UN Special Envoy for Syria?") == ("special", "envoy")


@pytest.mark.parametrize(
    "sentence",
    [
        "Iran's Foreign Minister Javad Zarif arrived.",
        "Javad Zarif, the Iranian foreign minister, arrived.",
        "Javad Zarif is Iran's foreign minister.",
    ],
)
def test_a_name_with_the_asked_office_answers(sentence):
    assert holds(sentence, "Who is Iran's foreign minister?")


@pytest.mark.parametrize(
    "sentence",
    [
        "Russian Foreign Minister Sergei Lavrov arrived.",  # another country's
        "Iran's Defence Minister Amir Hatami arrived.",  # another office
        "Sergei Lavrov, the chief of the Russian mission, arrived.",
        "The foreign minister arrived in Tehran on Sunday.",  # no name bound to it
    ],
)
def test_a_name_with_another_office_or_country_does_not(sentence):
    assert not holds(sentence, "Who is Iran's foreign minister?")


def test_the_office_in_one_sentence_and_the_name_opening_the_next():
    previous = "The Defence Minister of Iran is in Damascus."
    assert holds("Gen. Amir Hatami arrived on Sunday.", "Who is Iran's defense minister?", previous)
    assert not holds("Gen. Amir Hatami arrived.", "Who is Iran's foreign minister?", previous)


def test_any_office_answers_which_official():
    assert holds("US National Security Advisor John Bolton went.", "Which US official went?")


def test_the_question_own_person_is_no_answer():
    question = "Who replaced Joseph Dunford as chairman?"
    assert not holds("General Joseph Dunford, chairman of the Joint Chiefs, spoke.", question)


def test_words_meet_across_forms_and_one_typo():
    assert same_word("Iranian", "Iran's") and same_word("Defense", "defence")
    assert same_word("minster", "minister") and not same_word("Russian", "Iran")
