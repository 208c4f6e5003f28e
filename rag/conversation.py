"""History, and the rewriting of follow-ups into standalone queries.

A follow-up is rewritten only when it needs it: it leans on the conversation (a pronoun, "that",
"what about...", a bare fragment). The rewrite keeps the user's words and appends the earlier
turn's key terms and the names its answer quoted, e.g. "What did he propose?" after a question
about a letter to Dunford becomes "What did he propose? (letter Dunford; Valery Gerasimov)".
The rewritten query is shown to the user. Left out: a generative rewriter (none can be
downloaded here); coreference is resolved by context terms, not by naming the antecedent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.lexical import STOPWORDS
from rag.records import Answer, Turn

_REFERS_BACK = frozenset(
    "he him his she her hers it its they them their theirs that this those these there then "
    "latter former same such".split()
)
_OPENERS = re.compile(r"^\s*(and|also|what about|how about|so|then|but)\b", re.IGNORECASE)
_NAME = re.compile(r"\b(?:[A-Z][\w.'’-]+(?:\s+(?:al-|de\s)?[A-Z][\w.'’-]+)*)")
_NUMBER = re.compile(r"\$?\d[\d,.]*(?:\s(?:billion|million|thousand))?")
MAX_CONTEXT_TERMS = 8


def needs_context(question: str) -> bool:
    """Whether a question leans on earlier turns.

    Example:
        >>> needs_context("What did he propose?"), needs_context("Who wrote the op-ed?")
        (True, False)
    """
    words = re.findall(r"[\w’']+", question.lower())
    content = [w for w in words if w not in STOPWORDS]
    return bool(_REFERS_BACK & set(words)) or bool(_OPENERS.match(question)) or len(content) <= 1


def context_terms(turn: Turn) -> list[str]:
    """Key terms of an earlier turn: its query's content words and the names its answer quoted.

    Example:
        >>> context_terms(Turn("Who wrote to Dunford?", "Who wrote to Dunford?", "“Gerasimov”"))
        ['wrote', 'Dunford', 'Gerasimov']
    """
    words = [w for w in re.findall(r"[\w’'-]+", turn.query) if w.lower() not in STOPWORDS]
    names: list[str] = []
    for quote in re.findall(r"“(.*?)”", turn.answer_text)[:2]:
        names += [m.group().strip(".") for m in _NAME.finditer(quote)]
        names += [m.group() for m in _NUMBER.finditer(quote)]
    terms: list[str] = []
    for term in [*words, *names]:
        if term.lower() not in {t.lower() for t in terms} and term.lower() not in STOPWORDS:
            terms.append(term)
    return terms[: MAX_CONTEXT_TERMS * 2]


def standalone(question: str, history: Sequence[Turn]) -> str:
    """The query to search: the question itself, or the question plus context from history."""
    if not history or not needs_context(question):
        return question
    terms = [t for t in context_terms(history[-1]) if t.lower() not in question.lower()]
    if not terms:
        return question
    return f"{question} ({' '.join(terms)})"


def as_turns(history: Sequence[Turn | str] | None) -> list[Turn]:
    """Accept earlier user questions as plain strings or as ``Turn`` records."""
    return [h if isinstance(h, Turn) else Turn(question=h, query=h) for h in history or ()]


class Chat:
    """A conversation: ``chat.ask(q)`` remembers turns; ``chat.reset()`` forgets them.

    Example:
        >>> chat = assistant.chat()                    # doctest: +SKIP
        >>> chat.ask("Who sent the letter to Dunford?") # doctest: +SKIP
        >>> chat.ask("What did he propose?").query      # doctest: +SKIP
    """

    def __init__(self, ask: Callable[..., Answer], max_turns: int = 6) -> None:
        self._ask = ask
        self.max_turns = max_turns
        self.history: list[Turn] = []

    def ask(self, question: str, **options: object) -> Answer:
        answer = self._ask(question, history=self.history, **options)
        if answer.query:  # an empty question is not a turn
            # An abstention's related passages are not context for the next question.
            said = "" if answer.abstained else answer.text
            self.history.append(Turn(answer.question, answer.query, said))
            del self.history[: -self.max_turns]
        return answer

    def reset(self) -> None:
        self.history.clear()
