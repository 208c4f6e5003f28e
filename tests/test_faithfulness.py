"""The support checker: verbatim and close restatements pass; perturbed facts do not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.faithfulness import (
    LexicalNumericChecker,
    clean_sentence,
    faithfulness,
    make_checker,
    split_sentences,
)
from rag.records import Citation

ROOT = Path(__file__).resolve().parents[1]
DOC = "001_f9f5b180c0b2a01b.txt"
GERASIMOV = (
    "The proposal was sent in a July 19 letter by Valery Gerasimov, the chief of the Russian "
    "military's General Staff, to U.S. Marine General Joseph Dunford, chairman of the Joint "
    "Chiefs of Staff, according to the memo which was seen by Reuters."
)
PLAN = (
    "The Russian plan, which has not been previously reported, has received an icy reception in "
    "Washington."
)
QUOTES = [GERASIMOV + "\n\n \n\n" + PLAN]


def test_the_quotes_are_real_corpus_text() -> None:
    text = (ROOT / "corpus" / DOC).read_bytes().decode("utf-8")
    assert GERASIMOV in text and PLAN in text


@pytest.mark.parametrize(
    "sentence",
    [
        GERASIMOV,
        PLAN,
        "The Russian plan, which has not been previously reported,",  # a fragment
        "the  proposal was sent in a July 19 letter by Valery Gerasimov",  # case and spaces
        "Valery Gerasimov sent the proposal in a July 19 letter.",  # reordered restatement
        "The Russian plan has received an icy reception in Washington.",  # negation elsewhere
    ],
)
def test_verbatim_and_close_restatements_are_supported(sentence: str) -> None:
    assert LexicalNumericChecker().supported(sentence, QUOTES)


@pytest.mark.parametrize(
    "sentence",
    [
        # swapped numbers
        "The proposal was sent in a July 21 letter by Valery Gerasimov.",
        GERASIMOV.replace("July 19", "July 9"),
        # swapped names: one from outside the quote, and two swapped within it
        GERASIMOV.replace("Valery Gerasimov", "Sergei Shoigu"),
        GERASIMOV.replace("Valery Gerasimov", "@")
        .replace("Joseph Dunford", "Valery Gerasimov")
        .replace("@", "Joseph Dunford"),
        # inserted and dropped negation
        GERASIMOV.replace("was sent", "was not sent"),
        GERASIMOV.replace("was sent", "was never sent"),
        PLAN.replace("has received", "hasn't received"),
        PLAN.replace("has not been", "has been"),
    ],
)
def test_perturbed_quotes_are_rejected(sentence: str) -> None:
    assert not LexicalNumericChecker().supported(sentence, QUOTES)


def test_unrelated_sentence_and_no_quotes_are_rejected() -> None:
    checker = LexicalNumericChecker()
    assert not checker.supported("Kuwait funded the carpet cooperatives.", QUOTES)
    assert not checker.supported(GERASIMOV, [])


def test_splitting_strips_markers_framing_and_quote_marks() -> None:
    text = f"Reuters:\n“{PLAN}” [1]\n“Russia seeks U.S. help. No.” [2, 3]"
    got = split_sentences(text)
    # "U.S. help" stays whole (lowercase follows); "U.S. Marine" would split, harmlessly.
    assert got == [(PLAN, (1,)), ("Russia seeks U.S. help.", ()), ("No.", (2, 3))]
    assert clean_sentence("Forum member rooster59 wrote: “Yes.” [4]") == "Yes."


def test_faithfulness_checks_each_sentence_against_its_own_citation() -> None:
    def cite(n: int, quote: str) -> Citation:
        return Citation(n, DOC, "t", "p", 0, len(quote), quote, None, None, None, 1.0)

    cites = [cite(1, GERASIMOV), cite(2, PLAN)]
    checker = LexicalNumericChecker()
    assert faithfulness(f"Reuters:\n“{GERASIMOV}” [1]\n“{PLAN}” [2]", cites, checker) == (3, 3)
    # Right text, wrong marker: the plan sentence is not in quote [1].
    assert faithfulness(f"“{PLAN}” [1]", cites, checker) == (0, 1)
    # No marker: checked against every cited quote; the invented sentence is not supported.
    assert faithfulness(f"{PLAN} Moscow agreed to pay.", cites, checker) == (1, 2)
    assert faithfulness("Framing only:", cites, checker) == (0, 0)


class SameVector:
    """Every text gets the same unit vector: cosine 1 for any pair."""

    name, dim = "same", 2

    def encode(self, texts):
        return np.tile(np.array([1.0, 0.0], dtype=np.float32), (len(texts), 1))


def test_embedding_relaxes_word_overlap_but_not_the_hard_checks() -> None:
    loose = "Gerasimov sent a July 19 message about the proposal."
    assert not LexicalNumericChecker().supported(loose, QUOTES)
    assert LexicalNumericChecker(encoder=SameVector()).supported(loose, QUOTES)
    wrong = "Gerasimov sent a July 20 message about the proposal."
    assert not LexicalNumericChecker(encoder=SameVector()).supported(wrong, QUOTES)


def test_default_checker_is_lexical() -> None:
    assert isinstance(make_checker(None), LexicalNumericChecker)
