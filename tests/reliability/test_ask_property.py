"""A property over ``Assistant.ask``: any input is answered, or refused with ``InputError``.

Inputs mix real questions with surrogates, control characters, emoji, zero-width characters,
and values that are not text. Every citation and related passage must be the exact span of its
file, whatever was asked.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag import InputError
from rag.documents import read_text

WORDS = ["Who sent the letter to Dunford?", "rebuilding Syria cost", "IOM", "he", "Gerasimov"]
ODD = [
    "\ud800",
    "\udce9",
    "\x1b[2J",
    "\x1b]0;t\x07",
    "\x00",
    "\u200b",
    "\ufeff",
    "🤔",
    "👍🏽",
    "?!",
]
pieces = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(ODD),
    st.text(max_size=8),
    st.text(st.characters(categories=["Cs", "Cc", "Cf", "So"]), max_size=4),
)
texts = st.lists(pieces, max_size=5).map(" ".join)
not_text = st.one_of(
    st.integers(), st.binary(max_size=4), st.lists(st.text(max_size=3), max_size=2)
)
questions = st.one_of(texts, texts, texts, st.none(), not_text)
histories = st.one_of(
    st.none(),
    st.lists(texts, max_size=1),
    st.lists(st.one_of(texts, st.none(), st.integers()), min_size=1, max_size=2),
)


def is_text(value: object) -> bool:
    return value is None or isinstance(value, str)


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(question=questions, history=histories)
def test_ask_answers_or_refuses_and_every_quote_is_verbatim(assistant, question, history):
    valid = is_text(question) and (history is None or all(isinstance(h, str) for h in history))
    if not valid:
        with pytest.raises(InputError):
            assistant.ask(question, history=history)
        return
    answer = assistant.ask(question, history=history)
    assert isinstance(answer.text, str) and answer.text
    assert not any("\ud800" <= c <= "\udfff" for c in answer.question + answer.query)
    for c in (*answer.citations, *answer.related):
        assert read_text(c.path)[c.start : c.end] == c.quote
