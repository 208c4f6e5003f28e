"""History, and the rewriting of follow-ups into standalone queries.

A follow-up is rewritten only when it needs it: it leans on the conversation (a pronoun, "that",
"what about...", a bare fragment). A rewrite is a question a person could have typed when the
rules are sure: "What did he propose?" after "Who sent the letter to Dunford?" searches "What did
Valery Gerasimov propose?"; "And in the US?" after "When was Spectre released in the United
Kingdom?" searches "When was Spectre released in the US?" (``elliptical``). When they are not
sure, the user's words are kept and the earlier turn's key terms and the names its answer quoted
are appended: "What did it say? (sent letter Dunford Valery Gerasimov July)". The searched query
is shown to the user.

A personal pronoun is replaced by whom it most likely means (``rewrite``): the person a
"who is Rami Makhlouf" turn asked about; the source an "according to Hargreaves" turn named;
the person a "who/which member" turn's answer gave (the forum member or author quoted for
"who said", else the first full name in the quote); else the office the turn asked about
("the IOM spokesperson"). So "What's his name?" after "What did the IOM spokesperson say?"
asks for the spokesperson's name, and abstains when no quote names them.
Left out: a generative rewriter (none can be downloaded here); these are surface rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.chunking import sentence_spans
from rag.lexical import STOPWORDS
from rag.records import Answer, Turn
from rag.titles import is_title

_REFERS_BACK = frozenset(
    "he him his she her hers it its they them their theirs that this those these there then "
    "latter former same such".split()
)
_OPENERS = re.compile(r"^\s*(and|also|what about|how about|so|then|but)\b", re.IGNORECASE)
_NAME = re.compile(r"\b(?:[A-Z][\w.'’-]+(?:\s+(?:al-|de\s)?[A-Z][\w.'’-]+)*)")
_NUMBER = re.compile(r"\$?\d[\d,.]*(?:\s(?:billion|million|thousand))?")
MAX_CONTEXT_TERMS = 8
_DETERMINERS = frozenset({"the", "a", "an", "this", "that", "these", "those"})
_QUESTION_WORDS = frozenset(
    {"which", "what", "who", "whom", "whose", "when", "where", "why", "how"}
)
_QUOTE = re.compile(r"“(.*?)” \[\d+\]")  # a cited quote in an answer's text
_PRONOUN = re.compile(r"\b(he|him|she|they|them|his|their|her)\b", re.IGNORECASE)
_POSSESSIVE = frozenset({"his", "their", "her"})
_SUBJECT = frozenset({"he", "she", "they"})
_WHO_IS_NAME = re.compile(r"^\W*who\s+(?:is|was)\s+(?!the\b|a\b|an\b)([\w .'’-]+?)\W*$", re.I)
_WHO_PERSON = re.compile(
    r"^\W*(who|whom)\b|\bwhich\s+(?:\w+\s+)?(member|person|official|commenter|poster|"
    r"reader|user|author|writer|minister|general)\b",
    re.IGNORECASE,
)
_SAID = re.compile(r"\b(wrote|write|writes|said|say|says|argued|argue|claimed|thinks?)\b", re.I)
_NAMED_SOURCE = re.compile(r"\baccording to ([A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*)")


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
        >>> context_terms(Turn("Who wrote to Dunford?", "Who wrote to Dunford?", "“Gerasimov” [1]"))
        ['wrote', 'Dunford', 'Gerasimov']
    """
    words = [w for w in re.findall(r"[\w’'-]+", turn.query) if w.lower() not in STOPWORDS]
    names: list[str] = []
    quote = first_quote(turn.answer_text)
    names += [m.group().strip(".") for m in _NAME.finditer(quote)]
    names += [m.group() for m in _NUMBER.finditer(quote)]
    terms: list[str] = []
    for term in [*words, *names]:
        if term.lower() not in {t.lower() for t in terms} and term.lower() not in STOPWORDS:
            terms.append(term)
    return terms[: MAX_CONTEXT_TERMS * 2]


def quoted_sentences(answer_text: str) -> list[str]:
    """The sentences an answer's text quotes, in order: one quote may run over several.

    Example:
        >>> quoted_sentences("Reuters: “It was sent. He left.” [1] “Later.” [2]")
        ['It was sent.', 'He left.', 'Later.']
    """
    return [s for m in _QUOTE.finditer(answer_text) for s in _sentences(m.group(1))]


def _sentences(quote: str) -> list[str]:
    return [quote[s.start : s.end] for s in sentence_spans(quote)] or [quote]


def first_quote(answer_text: str) -> str:
    """The first sentence an answer's text quotes ("" if none): what it said first.

    Example:
        >>> first_quote("Reuters: “It was sent. He left.” [1] “Later.” [2]")
        'It was sent.'
    """
    m = _QUOTE.search(answer_text)  # only the first quote is split: this runs every follow-up
    return _sentences(m.group(1))[0] if m else ""


def speaker_of(answer_text: str) -> str | None:
    """The forum member an answer quotes first, from its framing line ("Forum member X:").

    Only that framing is unambiguous: "Spectre (2015 film):" is a title, not "Author (Publisher)",
    so an article's author comes from ``Turn.speaker``, which the answer's citation fills.

    Example:
        >>> speaker_of("Forum member Thaidream:"), speaker_of("Spectre (2015 film):")
        ('Thaidream', None)
    """
    first = answer_text.split("\n", 1)[0].strip()
    if not first.endswith(":") or first.startswith("“"):
        return None
    who = first[:-1]
    if who.lower().startswith("forum member "):
        return who[len("forum member ") :]
    return None  # a publisher ("Fox News") or a title is no "he"


def named_in_quote(turn: Turn) -> str | None:
    """The one full name (two capitalised words or more) in the answer's first quote that the
    question did not use: "Valery Gerasimov" for "Who sent the letter?". For "which think
    tank...", the name the word "think" follows most closely ("the Syria Institute, an
    independent think tank"). When the quote holds several such names and the question's
    category word does not pick one, nobody is sure which is meant: ``None``, so the follow-up
    is searched with its context rather than with a guessed name ("Fort William Henry")."""
    text = first_quote(turn.answer_text)
    if not text:
        return None
    asked = {w.lower() for w in re.findall(r"[\w'’-]+", turn.question)}
    category = re.search(r"\bwhich\s+([a-z]+)", turn.question, re.IGNORECASE)
    found: list[tuple[int, str]] = []
    for m in _NAME.finditer(text):
        words = m.group().strip(".").split()
        while words and words[0].lower() in _DETERMINERS:  # "The Normans" names no person
            words = words[1:]
        names = [w for w in words if not is_title(w)]
        if m.start() == 0 or len(names) < 2 or any(w.lower() in asked for w in names):
            continue
        after = text[m.end() :].lower().find(category.group(1).lower()) if category else -1
        found.append((after if after >= 0 else len(text) + m.start(), " ".join(words)))
    distinct = {name for _, name in found}
    if len(distinct) > 1 and min(found)[0] >= len(text):
        return None  # several names and nothing to choose between them
    return min(found)[1] if found else None


def office_asked(question: str) -> str | None:
    """The office a question names, with the capitalised words before it.

    Example:
        >>> office_asked("What did the IOM spokesperson say?")
        'the IOM spokesperson'
        >>> office_asked("Which Scottish king introduced Normans to Scotland?")
        'the Scottish king'
    """
    words = question.rstrip("?!. ").split()
    for i, w in enumerate(words):
        if w[:1].islower() and is_title(w):
            start = i
            while start > 0 and (words[start - 1][:1].isupper() or is_title(words[start - 1])):
                if words[start - 1].lower() in _QUESTION_WORDS | _DETERMINERS:
                    break  # "Which Scottish king" is asked about "the Scottish king"
                start -= 1
            return " ".join(["the", *words[start : i + 1]])
    return None


def antecedent(turn: Turn) -> str | None:
    """Whom "he", "she" or "they" in the next question most likely means (see module doc)."""
    q = turn.question.strip()
    if m := _WHO_IS_NAME.match(q):
        return m.group(1).strip()
    if m := _NAMED_SOURCE.search(q):
        return m.group(1)
    if turn.answer_text and _WHO_PERSON.search(q):
        speaker = turn.speaker or speaker_of(turn.answer_text)
        if speaker and (_SAID.search(q) or "member" in q.lower()):
            return speaker
        return named_in_quote(turn) or speaker
    if turn.answer_text and re.match(r"\W*which\b", q, re.IGNORECASE):
        return named_in_quote(turn) or office_asked(q)
    return office_asked(q)


_ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about)\s+(.+?)[\s?.!]*$", re.IGNORECASE)
_ASKING = _QUESTION_WORDS | frozenset(
    "is are was were do does did can could will would should has have had".split()
)
_PREPOSITIONS = frozenset("in on at for from during by with to into of".split())


def unquestioned(query: str) -> str:
    """A turn's query without the context terms a rewrite appended.

    Example:
        >>> unquestioned("When did he reign? (Ming emperor)")
        'When did he reign?'
    """
    return re.sub(r"\s*\([^()]*\)\s*$", "", query)


def elliptical(question: str, previous: str) -> str | None:
    """The previous question with the part a fragment replaces: "And in the US?" after "When was
    Spectre released in the United Kingdom?" asks "When was Spectre released in the US?".

    A fragment that opens with a preposition replaces the previous question's phrase after the
    same preposition; a name replaces the phrase that shares a word with it ("And the iPod
    Shuffle?" after "...the iPod Touch...") or the question's one name. ``None`` when the
    fragment is a question of its own, leans on a pronoun, or has no counterpart.

    Example:
        >>> elliptical("And on the GameCube?", "How many copies did it sell on the Wii?")
        'How many copies did it sell on the GameCube?'
        >>> elliptical("What about Jay Z?", "When was Beyoncé born?")
        'When was Jay Z born?'
        >>> elliptical("And who wrote it?", "Who directed the film?") is None
        True
    """
    m = _ELLIPSIS.match(question)
    if not m:
        return None
    fragment = m.group(1)
    words = fragment.split()
    if words[0].lower() in _ASKING or _PRONOUN.search(fragment):
        return None
    prev = previous.strip()
    end = len(prev.rstrip("?!. "))
    body, tail = prev[:end], prev[end:] or "?"
    tokens = [(t.group(), t.start(), t.end()) for t in re.finditer(r"\S+", body)]
    span = _counterpart(words, tokens)
    if span is None:
        return None
    start, stop = span
    return body[:start] + fragment + body[stop:] + tail


def _counterpart(words: list[str], tokens: list[tuple[str, int, int]]) -> tuple[int, int] | None:
    # The character span of the previous question that the fragment stands in for.
    def bare(w: str) -> str:
        return re.sub(r"[’']s$", "", w.strip(",;:")).lower()

    def phrase_end(i: int) -> int:
        # From token i to the next preposition or clause word, or the end.
        j = i + 1
        while j < len(tokens) and bare(tokens[j][0]) not in _PREPOSITIONS | _ASKING:
            j += 1
        return tokens[j - 1][2]

    first = words[0].lower()
    if first in _PREPOSITIONS:
        at = [i for i, t in enumerate(tokens) if t[0].lower() == first]
        return (tokens[at[-1]][1], phrase_end(at[-1])) if at else None
    if not any(w[:1].isupper() for w in words):
        return None  # a common-noun fragment ("and the price?") is too loose to place
    wanted = {bare(w) for w in words if bare(w) not in STOPWORDS}
    shared = [i for i, t in enumerate(tokens) if bare(t[0]) in wanted]
    if shared:
        i = shared[0]
        j = i
        while j + 1 < len(tokens) and (
            tokens[j + 1][0][:1].isupper() or bare(tokens[j + 1][0]) in wanted
        ):
            j += 1
        if i > 0 and words[0].lower() in _DETERMINERS and tokens[i - 1][0].lower() in _DETERMINERS:
            i -= 1
        return tokens[i][1], tokens[j][2]
    runs: list[tuple[int, int]] = []
    i = 1  # the first word is capitalised anyway
    while i < len(tokens):
        if tokens[i][0][:1].isupper():
            j = i
            while j + 1 < len(tokens) and tokens[j + 1][0][:1].isupper():
                j += 1
            runs.append((i, j))
            i = j + 1
        else:
            i += 1
    if len(runs) != 1:
        return None
    i, j = runs[0]
    possessive = re.search(r"[’']s$", tokens[j][0])
    return tokens[i][1], tokens[j][2] - (2 if possessive else 0)


@dataclass(frozen=True)
class Rewrite:
    """A follow-up made standalone: what to search, what was asked, what the pronoun meant."""

    query: str  # searched: the resolved question, or the question plus the earlier turn's terms
    asked: str  # the question with its pronoun replaced by the antecedent
    # The antecedent when the pronoun is the subject: "What did he propose?" need not name
    # him, but "Who funds them?" must name them.
    given: str = ""


def rewrite(question: str, history: Sequence[Turn]) -> Rewrite:
    """The follow-up as a standalone query; a self-contained question is left as it is.

    Example:
        >>> turn = Turn("Who is Rami Makhlouf?", "Who is Rami Makhlouf?")
        >>> rewrite("What did he build?", [turn])
        Rewrite(query='What did Rami Makhlouf build?', asked='What did Rami Makhlouf build?', \
given='Rami Makhlouf')
    """
    if not history or not needs_context(question):
        return Rewrite(question, question)
    # "And in the US?": the earlier question with its place, thing or name swapped, a question
    # a person could have typed; it needs no appended terms.
    if whole := elliptical(question, unquestioned(history[-1].query)):
        return Rewrite(whole, whole)
    pronoun = _PRONOUN.search(question)
    # "the two of them", "both of them": a group, which one earlier name cannot stand for.
    group = pronoun and re.search(r"\bof\s+them\b", question, re.IGNORECASE)
    who = antecedent(history[-1]) if pronoun and not group else None
    if not who:
        asked, given = question, ""
    else:
        possessive = pronoun.group().lower() in _POSSESSIVE
        asked = _PRONOUN.sub(f"{who}’s" if possessive else who, question, count=1)
        given = who if pronoun.group().lower() in _SUBJECT else ""
    terms = [t for t in context_terms(history[-1]) if t.lower() not in asked.lower()]
    return Rewrite(f"{asked} ({' '.join(terms)})" if terms and not who else asked, asked, given)


def replay(
    ask: Callable[..., Answer], history: Sequence[Turn | str] | None, keep: int | None = None
) -> list[Turn]:
    """The last ``keep`` turns of ``history`` as ``Turn`` records.

    A plain string is an earlier question: it is asked again, after the turns before it, so its
    answer is context for pronouns exactly as in a chat ("What did he propose?" needs the name
    the previous answer quoted). Blank strings are not turns.

    Example:
        >>> replay(assistant.ask, ["Who sent the letter to Dunford?"])  # doctest: +SKIP
        [Turn(question='Who sent the letter to Dunford?', query=..., answer_text='Arshad...')]
    """
    earlier = [h for h in history or () if isinstance(h, Turn) or h.strip()]
    turns: list[Turn] = []
    for h in earlier[-keep:] if keep else earlier:
        turns.append(h if isinstance(h, Turn) else Turn.of(ask(h, turns)))
    return turns


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
            self.history.append(Turn.of(answer))
            del self.history[: -self.max_turns]
        return answer

    def reset(self) -> None:
        self.history.clear()
