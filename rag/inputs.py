"""What a user may send: questions and history made into clean text, or refused with a message.

This is the one sanitising step at the API edge (``Assistant.ask``, ``search`` and, through
them, ``Chat``, the CLI and the web UI):

- A question is a ``str`` (``None`` counts as empty); anything else raises ``InputError``.
- Lone surrogates (what ``surrogateescape`` makes of an undecodable byte, or a JSON ``"\\ud800"``)
  become U+FFFD, so the tokenizer only ever sees valid text.
- Control characters become spaces; a question with no letter or digit once format (Cf),
  punctuation and symbol characters are set aside ("?!...", "🤔👍", zero-width spaces) is empty
  and gets ``EMPTY_NOTICE``.
- History is a list of earlier questions (``str``) or ``Turn`` records; a bare string, ``None``
  in the list or any other type raises ``InputError``.

Left out on purpose: guessing what a non-string meant (``str(42)`` would search for "42"), and
any change to the letters of a question (case, NFKC): matching normalises later, not here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rag.records import Turn

EMPTY_NOTICE = "Please type a question."
REPLACEMENT = "\ufffd"
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# C0 and C1 controls except tab and newline; DEL too.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class InputError(TypeError):
    """A question or history that is not text; the message says what was expected."""


@dataclass(frozen=True)
class Question:
    """A cleaned question: the text to answer, and a notice for the user if it was changed."""

    text: str  # "" when the question has no content
    shown: str  # what the user typed, made printable (for Answer.question)
    notice: str | None = None


def valid_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD.

    Example:
        >>> valid_text("caf\\udce9 ok")
        'caf\\ufffd ok'
    """
    return _SURROGATE.sub(REPLACEMENT, text)


def has_content(text: str) -> bool:
    """Whether ``text`` holds a letter or a digit (format, punctuation, symbols don't count).

    Example:
        >>> [has_content(s) for s in ("?!...;:", "🤔🤔👍", "\\u200b\\u200d", "G7?", "Что?")]
        [False, False, False, True, True]
    """
    return any(unicodedata.category(c)[0] in "LN" for c in text)


def clean_question(question: object, limit: int) -> Question:
    """A question as text to answer: see the module docstring.

    Raises:
        InputError: ``question`` is neither a ``str`` nor ``None``.

    Example:
        >>> clean_question("  Who\\x1b[2J sent it?\\ud800 ", 100)
        Question(text='Who [2J sent it?\\ufffd', shown='Who [2J sent it?\\ufffd', notice=None)
        >>> clean_question("🤔?", 100).text, clean_question(None, 100).notice
        ('', 'Please type a question.')
        >>> clean_question("abcdef", 3)
        Question(text='abc', shown='abcdef', notice='Your question was 6 characters; only the first 3 were used.')
    """  # noqa: E501 - a doctest line is as long as its output
    if question is None:
        question = ""
    if not isinstance(question, str):
        raise InputError(f"a question must be text (str), not {_kind(question)}")
    shown = _CONTROL.sub(" ", valid_text(question)).strip()
    if not has_content(shown):
        return Question("", shown, EMPTY_NOTICE)
    if len(shown) > limit:
        notice = f"Your question was {len(shown):,} characters; only the first {limit:,} were used."
        return Question(shown[:limit], shown, notice)
    return Question(shown, shown)


def clean_history(history: object) -> list[Turn | str]:
    """Earlier turns as a list of ``Turn`` records and question strings, their text made valid.

    Raises:
        InputError: ``history`` is a string, not a sequence, or holds something else.

    Example:
        >>> clean_history(["Who wrote it?", Turn("Q\\ud800", "Q", "")])
        ['Who wrote it?', Turn(question='Q\\ufffd', query='Q', answer_text='', speaker=None)]
        >>> clean_history("Who wrote it?")
        Traceback (most recent call last):
        ...
        rag.inputs.InputError: history must be a list of earlier questions or Turns, not str
    """
    if history is None:
        return []
    if isinstance(history, str | bytes) or not isinstance(history, Sequence):
        raise InputError(
            f"history must be a list of earlier questions or Turns, not {_kind(history)}"
        )
    out: list[Turn | str] = []
    for i, item in enumerate(history):
        if isinstance(item, str):
            out.append(valid_text(item))
        elif isinstance(item, Turn) and all(isinstance(v, str) for v in _fields(item)):
            speaker = item.speaker if isinstance(item.speaker, str) else None
            out.append(Turn(*(valid_text(v) for v in _fields(item)), speaker=speaker))
        else:
            raise InputError(
                f"history[{i}] must be an earlier question (str) or a Turn, not {_kind(item)}"
            )
    return out


def _fields(turn: Turn) -> tuple[object, ...]:
    return turn.question, turn.query, turn.answer_text


def _kind(value: object) -> str:
    """What a refused value is, for the message: ``None`` or its type's name."""
    return "None" if value is None else type(value).__name__
