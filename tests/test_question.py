"""Question analysis: answer types, what a number question counts, names versus titles."""

from __future__ import annotations

import pytest

from rag.lexical import tokenize
from rag.question import (
    answer_type,
    capital_shares,
    holds_answer_type,
    holds_measure,
    measure_of,
    profile,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When was the charity sanctioned?", "date"),
        ("Where was the photo taken, and when?", "date"),
        ("What year did the war start?", "date"),
        ("How did the agency respond when reporters asked?", None),  # "when" inside a clause
        ("What does the memo say about when refugees may return?", None),
        ("How many people died?", "number"),
        ("Who wrote the op-ed?", "name"),
        ("Which agency ran it?", "name"),
    ],
)
def test_answer_type(question, kind):
    assert answer_type(question) == kind


@pytest.mark.parametrize(
    ("question", "measure", "focus"),
    [
        ("How many Syrian refugees does Lebanon host?", "count", ("syrian", "refug")),
        ("In how many municipalities is the plan used?", "count", ("municipality",)),
        ("How many years of crimes are there?", "count", ("year",)),
        ("How much will rebuilding cost?", "amount", ()),
        ("How long was the visit?", "duration", ()),
        ("How old is he?", "age", ()),
        ("How often did the ministers meet?", "frequency", ()),
        ("Who went?", None, ()),
    ],
)
def test_measure_of(question, measure, focus):
    assert measure_of(question) == (measure, focus)


def test_a_count_must_be_bound_to_what_is_counted():
    focus = ("russian", "troop")
    assert holds_measure("Russia has 4,000 troops in the country.", "count", focus)
    # "Russia" is not "Russian": the words after the number must be what is counted.
    assert not holds_measure("On August 25 Turkey met Russia.", "count", focus)
    assert not holds_measure("Two former foes met over troops.", "count", ("refug",))
    assert holds_measure("$388 billion in damage in the 89-month war", "count", ("month",))


def test_amounts_durations_and_ages():
    assert holds_measure("It will cost at least $250 billion.", "amount", ())
    assert holds_measure("Estimates run to 200 billion dollars.", "amount", ())
    assert not holds_measure("It was funded by Kuwait last year.", "amount", ())
    assert holds_measure("during a two-day visit", "duration", ())
    assert not holds_measure("two officials visited", "duration", ())
    assert holds_measure("The 52-year-old general left.", "age", ())


def test_ages_and_counts_in_words():
    # Ages as written in prose, digits or words; "aged by" and "the age of the" are none.
    for sentence in (
        "She joined the cast at the age of fifty.",
        "It began after a talent show at age seven.",
        "Aged five, she attended her first concert.",
        "A sixteen-year-old wrote it.",
        "He was twenty-one years old.",
    ):
        assert holds_measure(sentence, "age", ()), sentence
    assert not holds_measure("The wine was aged by the monks.", "age", ())
    assert not holds_measure("At the age of the machine, nothing changed.", "age", ())
    # A count in words: "eighty years" answers "how many years".
    assert holds_measure("Tammany Hall fell after eighty years in power.", "count", ("year",))
    assert not holds_measure("Tammany Hall fell after years in power.", "count", ("year",))


def test_how_often_is_answered_by_a_frequency():
    assert answer_type("How often?") == "number"
    for sentence in (
        "Twice in the last two weeks the ministers met.",
        "They met three times before the vote.",
        "Elections are held every four years.",
        "The ferry sails daily.",
    ):
        assert holds_measure(sentence, "frequency", ()), sentence
    # "Syria Daily" is a name; a date or a count of things is no frequency.
    assert not holds_measure("See Syria Daily, August 25.", "frequency", ())
    assert not holds_measure("The ministers met on 4 May with 12 aides.", "frequency", ())


def test_titles_and_common_words_are_no_names():
    shares = capital_shares(["The defence minister spoke.", "So Hatami met the Defence Minister."])
    assert shares["defence"] == 0.5 and shares["hatami"] == 1.0  # never lower case
    sentence = "The Defence Minister of Iran is in Damascus."
    tokens = frozenset(tokenize("Who is the defence minister of Iran in Damascus?"))
    assert not holds_answer_type("name", sentence, tokens)  # a title, and the question's words
    assert holds_answer_type("name", "Gen. Amir Hatami arrived on Sunday.", tokens)
    rare = {"Hatami"}.__contains__
    assert not holds_answer_type("name", "Then Syria and Iran met.", tokens, rare)


def test_profile_names_sources_and_forum_only_when_asked():
    sources = {"d1": ["Syria Daily"], "d2": ["Reuters"]}
    p = profile("How much damage, according to Syria Daily?", sources, {"bristolboy"})
    assert p.sources == frozenset({"d1"}) and "daily" not in p.terms and p.measure == "amount"
    assert profile("What did forum members say?", sources, set()).wants_forum
    assert not profile("Which council members voted?", sources, set()).wants_forum
    assert profile("What did bristolboy say?", sources, {"bristolboy"}).authors == {"bristolboy"}


def test_a_date_answers_when_a_question_word_stands_near_it():
    tokens = frozenset(tokenize("When was the letter sent?"))
    assert holds_answer_type("date", "It was sent in a July 19 letter.", tokens)
    far = (
        "The letter asked the two armies to repurpose a hub that was designed and built by both "
        "of them to monitor a fragile and often broken 2017 ceasefire in the south."
    )
    assert not holds_answer_type("date", far, tokens)


def test_years_before_1800_eras_and_centuries_are_dates():
    tokens = frozenset(tokenize("When was the regime overthrown?"))
    for sentence in (
        "In 1358, the regime was overthrown in a rebellion.",
        "The regime was overthrown during the period (907–960).",
        "The regime was overthrown around 500 BC.",
        "The regime was overthrown in the 13th century.",
    ):
        assert holds_answer_type("date", sentence, tokens), sentence
    # A count, a page range with a hyphen and a bare three-digit number are no dates.
    for sentence in (
        "The regime was overthrown by 1,500 troops.",
        "The regime was overthrown, see pages 120-135.",
        "The regime was overthrown in 200 cities.",
    ):
        assert not holds_answer_type("date", sentence, tokens), sentence


def test_times_and_amounts_in_other_currencies():
    # "How many times" names no word after the number; a bare year is still no count.
    assert holds_measure("They performed together on seven occasions.", "count", ("time",))
    assert not holds_measure("They performed together in 1833.", "count", ("time",))
    # "How many people" still wants the number bound to what is counted.
    assert not holds_measure("Rose wrote on January 1 about addicts.", "count", ("peopl",))
    assert holds_measure("The funeral cost 5,000 francs.", "amount", ())
    assert holds_measure("It sold for 300 rupees.", "amount", ())
