"""What a question asks for: its content terms, the type of answer, and any source it names.

- *Answer type*: "how many/much" wants a number, "when/what year" a date, "who/name of" a name.
  A sentence holding such an answer (one the question does not already contain) is a better
  quote, and a lead quote without one is weaker evidence.
- *Frame words* ("according to", "forum members", "think", "say") describe the discourse, not
  the content; they do not count as terms an answer must contain.
- *Named sources*: a publisher, author or forum member named in the question points to their
  words ("what did bristolboy say", "according to Syria Daily").
Left out: a trained question classifier; these are English surface rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rag.lexical import tokenize
from rag.segments import normalise
from rag.titles import asked_titles, is_title

_FRAME = frozenset(
    tokenize(
        "forum forums member members commenter commenters comment comments poster posters "
        "reader readers thread article articles report reported reporting according think "
        "thought thinks say says said write wrote written writes argue argued argues claim "
        "claimed view views opinion opinions believe believed mention mentioned document "
        "documents author op-ed piece story explain explained describe described people "
        "someone anyone one react reacted respond responded answer answered "
        # words that frame a question rather than name its content
        "name named date time number kind type way idea role happened happen else done apart "
        "instead first often per whose exactly ever still now detail details specific "
        "mentioned called call refer refers cite cites cited quote quotes quoted "
        # hedges and intensifiers: "who can ultimately lead..." asks no more than "who can lead"
        "ultimately finally actually really currently recently mainly mostly specifically "
        "basically eventually apparently reportedly allegedly exactly"
    )
)
# "members" alone may be a council's; "comment" alone may be an official's "no comment".
_FORUM = re.compile(
    r"\b(forums?|commenters?|posters?|readers?|thread|comments|commented)\b",
    re.I,
)
_NUMBER_Q = re.compile(
    r"\bhow (many|much|long|old|far|big|large|often)\b|\bwhat (number|amount|percentage|share)\b",
    re.I,
)
# "when" asks for a date only as a question word: not in "How did X respond when Y asked?".
_DATE_Q = re.compile(
    r"^\W*when\b|(,|\band|\bor)\s+when\b|\b(what|which) (date|day|year|month|time)\b|"
    r"\bin what year\b|\bwhat year\b",
    re.I,
)
_NAME_Q = re.compile(
    r"^\W*(who|whom|whose)\b|\bwho('s| is| was| were| are)?\b|\bname of\b|\bwhat is the name\b|"
    r"\bnames?\W*$|"
    r"\bwhich (?:[a-z]+ ){0,2}(organi[sz]ation|agency|group|charity|country|countries|person|"
    r"official|"
    r"member|ngo|city|cities|body|minister|general|newspaper|outlet)\b",
    re.I,
)
_CATEGORY = re.compile(r"\b[Ww](?:hich|hat)\s+(?:[A-Z][\w.]*\s+){0,2}([a-z]{3,})\b")
_HOW = re.compile(r"\bhow (?P<how>many|much|long|old|often)\b(?P<rest>[^?,.;]*)", re.I)
# Words after "how much" that ask for money ("how much aid"), or compare ("how much more").
_AMOUNT_WORDS = frozenset(
    "money aid funding funds cash revenue profit tax debt damage cost price value investment "
    "budget spending income more".split()
)
# A quantity: a number that is not a bare year ("22,700 L", "2 GB", "4,700 m2"; not "1872").
_QUANTITY = re.compile(r"\b(?!(?:1[0-9]|20)\d\d\b)\d[\d,.]*")
_AUXILIARIES = frozenset(
    "is are was were be been do does did has have had will would can could should may might "
    "of in on at for from by to".split()
)
_MEASURES = {
    "many": "count", "much": "amount", "long": "duration", "old": "age", "often": "frequency"
}  # fmt: skip
_AMOUNT = re.compile(
    r"[$€£¥₹]\s?\d|\d\s?%|\b(million|billion|trillion|dollars?|euros?|pounds?|percent|per cent|"
    r"francs?|rubles?|roubles?|yen|yuan|renminbi|rupees?|pesos?|lira|liras|lire|krona|kronor|"
    r"crowns?|guilders?|florins?|ducats?|shillings?|pence|cents?)\b",
    re.I,
)
# "How many times" is answered by "on seven occasions": no word after the number names it.
# ("How many people" is not: "12.4 million viewers" would count, but so would "January 1".)
_GENERIC_COUNTS = frozenset(tokenize("time times"))
_BARE_YEAR = re.compile(r"(?:1\d|20)\d\d")
_UNITS = frozenset(tokenize("hour hours day days week weeks month months year years decade"))
# Numbers as digits or words: "fifty", "sixteen", "twenty-one".
_NUMBER_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(?:thir|four|fif|six|"
    r"seven|eigh|nine)teen|(?:twen|thir|for|fif|six|seven|eigh|nine)ty(?:-\w+)?|dozens?|"
    r"hundreds?|thousands?|millions?|billions?|half)"
)
_NUMBER = re.compile(rf"\d|\b{_NUMBER_WORD}\b", re.I)
_WHOLE_NUMBER = re.compile(rf"\d(?:[\d,.]*\d)?|\b{_NUMBER_WORD}\b", re.I)
# An age: "15-year-old", "six years old", "aged 20", "at the age of fifty".
_AGE = re.compile(
    rf"(?:\b\d+|\b{_NUMBER_WORD})\s*(?:-year-old|years? old)\b|"
    rf"\b(?:aged?|age of)\s+(?:\d+|{_NUMBER_WORD}\b)",
    re.I,
)
# How often: "twice", "every year", "three times", "weekly", "rarely". Lower case: "Syria Daily"
# is a name (a sentence's first word is matched in lower case).
_FREQUENCY = re.compile(
    r"\b(?:once|twice|thrice|hourly|daily|nightly|weekly|fortnightly|monthly|quarterly|yearly|"
    r"annually|every|rarely|seldom|often|frequently|regularly|occasionally|repeatedly)\b|"
    rf"(?:\b\d+|\b(?i:{_NUMBER_WORD}))\s+times\b|\b(?:a|per|each)\s+(?:day|week|month|year)\b"
)
# Years from 1000 (a history's "In 1358" as much as a news story's "2017"), earlier ones when a
# range, an era or a century marks them ("907–960", "c. 500 BC", "the 13th century").
_DATE = re.compile(
    r"\b(1\d\d\d|20\d\d)\b|\b\d{3,4}\s?–\s?\d{2,4}\b|\b\d{1,4}\s?(BCE?|AD|CE)\b|\b(AD|CE)\s?\d{1,4}\b|"
    r"\b\d{1,2}(st|nd|rd|th)[\s-]century\b|"
    r"\b(january|february|march|april|may|june|july|august|september|"
    r"october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|"
    r"\b(last|next|this) (week|month|year)\b|\b(yesterday|today|ago)\b",
    re.I,
)
DATE_REACH = 90  # characters either side of a date where a question word binds it
_DATE_WORDS = frozenset(tokenize("date day year month time week"))
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z’'-]{2,}")
_WORD = re.compile(r"\b[A-Za-z][a-zA-Z’'-]*")
_OPENS = re.compile(r"[“\"(:\u2018]\s*$")


@dataclass(frozen=True)
class Profile:
    """A question, analysed once and used to score every candidate sentence."""

    terms: tuple[str, ...]  # content tokens an answer should hold
    answer_type: str | None  # "number", "date", "name" or None
    sources: frozenset[str]  # doc ids whose publisher or author the question names
    authors: frozenset[str]  # forum members (chunk authors) the question names
    wants_forum: bool  # asks about comments / forum members
    question_tokens: frozenset[str]
    measure: str | None = None  # for numbers: "count", "amount", "duration", "age", "frequency"
    focus: tuple[str, ...] = ()  # what is counted: "refugee" in "how many Syrian refugees"
    titles: tuple[str, ...] = ()  # for names: the office asked about ("foreign", "minister")
    words: tuple[str, ...] = ()  # the question's words as typed
    category: str | None = None  # what "which X" asks for: "body" in "Which UN body..."


def answer_type(question: str) -> str | None:
    """The kind of answer a question wants.

    Example:
        >>> [answer_type(q) for q in ("How much is it?", "When was it sent?", "Who said it?")]
        ['number', 'date', 'name']
    """
    if _NUMBER_Q.search(question):
        return "number"
    if _DATE_Q.search(question):
        return "date"
    if _NAME_Q.search(question):
        return "name"
    return None


def category_of(question: str) -> str | None:
    """The token of the noun a "which/what X" question asks for; the answer names one, often
    without the noun itself ("UNDP" answers "Which UN body...").

    Example:
        >>> category_of("Which UN body coordinated the review?"), category_of("What is it?")
        ('body', None)
    """
    m = _CATEGORY.search(question)
    tokens = tokenize(m.group(1)) if m else []
    return tokens[0] if tokens else None


def measure_of(question: str) -> tuple[str | None, tuple[str, ...]]:
    """What a number question measures, and the words naming what is counted.

    Example:
        >>> measure_of("How many Syrian refugees does Lebanon host?")
        ('count', ('syrian', 'refug'))
        >>> measure_of("How much did it cost?")
        ('amount', ())
        >>> measure_of("How much water could it produce?")
        ('quantity', ())
    """
    m = _HOW.search(question)
    if m is None:
        return None, ()
    measure = _MEASURES[m.group("how").lower()]
    focus: list[str] = []
    following = m.group("rest").split()[:1]
    if (
        measure == "amount"
        and following
        and following[0].lower() not in _AUXILIARIES | _AMOUNT_WORDS
    ):
        # "How much water could it produce?" asks a quantity in any unit ("22,700 L"), not money.
        return "quantity", ()
    if measure == "count":  # the words up to the verb: "how many [Syrian refugees] does..."
        for word in m.group("rest").split()[:3]:
            if word.lower() in _AUXILIARIES:
                break
            focus += tokenize(word)
    return measure, tuple(focus)


def holds_measure(sentence: str, measure: str | None, focus: tuple[str, ...]) -> bool:
    """Whether a sentence holds the number a question asks for, bound to what it counts.

    "How many troops" wants a number followed closely by "troops", not any number; "how much"
    wants an amount ($, %, million), "how much water" a number that is no bare year, "how long"
    a number of days or years.

    Example:
        >>> holds_measure("Jordan hosts 650,000 Syrian refugees.", "count", ("refug",))
        True
        >>> holds_measure("Two sides met over refugees.", "count", ("refugee",))
        False
    """
    if measure == "amount":
        return bool(_AMOUNT.search(sentence))
    if measure == "quantity":
        return bool(_QUANTITY.search(sentence) or _AMOUNT.search(sentence))
    if measure == "age":
        return bool(_AGE.search(sentence))
    if measure == "frequency":
        return bool(_FREQUENCY.search(sentence[:1].lower() + sentence[1:]))
    wanted = _UNITS if measure == "duration" else frozenset(focus)
    if not wanted:
        return bool(_NUMBER.search(sentence))
    if wanted & _GENERIC_COUNTS:
        return any(not _BARE_YEAR.fullmatch(m.group()) for m in _WHOLE_NUMBER.finditer(sentence))
    for m in _NUMBER.finditer(sentence):
        after = tokenize(sentence[m.end() : m.end() + 40])[:3]
        if any(t in wanted for t in after):
            return True
    return False


def holds_answer_type(
    kind: str | None, sentence: str, question_tokens: frozenset[str], is_name=lambda w: True
) -> bool:
    """Whether a sentence holds an answer of ``kind`` that the question does not already state.

    For names, ``is_name(word)`` must hold for a capitalised word: a title ("Defence Minister")
    or a name the corpus uses everywhere ("Syria") is no answer to "who".

    Example:
        >>> holds_answer_type("date", "It was sent on July 19.", frozenset({"send"}))
        True
    """
    if kind is None:
        return False
    if kind == "number":
        return any(m.group() not in question_tokens for m in _NUMBER.finditer(sentence.lower()))
    if kind == "date":
        return any(_bound_date(m, sentence, question_tokens) for m in _DATE.finditer(sentence))
    words = (m.group() for m in _CAPITALISED.finditer(sentence))
    return any(not is_title(w) and set(tokenize(w)) - question_tokens and is_name(w) for w in words)


def _bound_date(m: re.Match, sentence: str, question_tokens: frozenset[str]) -> bool:
    # A date the question does not state, with one of its words close by: "sent in a July 19
    # letter" answers "when was the letter sent"; "a 2017 ceasefire" a sentence later does not.
    first = tokenize(m.group())[:1]
    if not first or first[0] in question_tokens:
        return False
    near = set(tokenize(sentence[max(0, m.start() - DATE_REACH) : m.end() + DATE_REACH]))
    return bool((near - set(first)) & (question_tokens - _DATE_WORDS))


def capital_shares(sentences: Iterable[str]) -> dict[str, float]:
    """Lower-cased word -> the share of its mid-sentence uses that are capitalised.

    A proper name is capitalised wherever it stands; a title or common word ("defence",
    "minister") is also written in lower case somewhere in a corpus. Words after an opening
    quote or a colon are skipped: they may start a quoted sentence.

    Example:
        >>> capital_shares(["Hatami met the defence minister.", "The Defence Minister left."])
        {'met': 0.0, 'the': 0.0, 'defence': 0.5, 'minister': 0.5, 'left': 0.0}
    """
    caps: dict[str, list[int]] = {}
    for text in sentences:
        for m in _WORD.finditer(text):
            if m.start() == 0 or _OPENS.search(text[max(0, m.start() - 4) : m.start()]):
                continue
            counts = caps.setdefault(m.group().lower(), [0, 0])
            counts[m.group()[0].isupper()] += 1
    return {w: up / (low + up) for w, (low, up) in caps.items()}


def _mentions(question_norm: str, name: str) -> bool:
    pattern = _name_pattern(name)
    return pattern is not None and pattern.search(question_norm) is not None


@lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern[str] | None:
    # A corpus has a few dozen source and member names, tried against every question.
    name = normalise(name)
    return re.compile(rf"\b{re.escape(name)}\b") if len(name) >= 4 else None


def profile(question: str, sources: dict[str, list[str]], authors: Iterable[str]) -> Profile:
    """Analyse a question against the corpus's source names and forum authors.

    ``sources`` maps a doc id to the names it goes by (publisher, author parts).
    """
    q_norm = normalise(question)
    named_sources = frozenset(
        d for d, names in sources.items() if any(_mentions(q_norm, n) for n in names)
    )
    named_authors = frozenset(a for a in authors if _mentions(q_norm, a))
    named_tokens = set()
    for d in named_sources:
        for n in sources[d]:
            named_tokens |= set(tokenize(n))
    for a in named_authors:
        named_tokens |= set(tokenize(a))
    tokens = tokenize(question)
    measure, focus = measure_of(question)
    terms = tuple(t for t in dict.fromkeys(tokens) if t not in _FRAME and t not in named_tokens)
    kind = answer_type(question)
    return Profile(
        terms=terms,
        answer_type=kind,
        sources=named_sources,
        authors=named_authors,
        wants_forum=bool(_FORUM.search(question)) or bool(named_authors),
        question_tokens=frozenset(tokens),
        measure=measure,
        focus=focus,
        titles=asked_titles(question) if kind == "name" else (),
        words=tuple(_WORD.findall(question)),
        category=category_of(question),
    )


def source_names(publisher: str | None, author: str | None) -> list[str]:
    """The names a document goes by, for spotting them in questions.

    Example:
        >>> source_names("Asharq al-Awsat, republished by The Observer", "Jonathan Hargreaves")
        ['Asharq al-Awsat', 'The Observer', 'Observer', 'Jonathan Hargreaves', 'Hargreaves']
    """
    names: list[str] = []
    for field in (publisher, author):
        for part in re.split(r",|\band\b|\brepublished by\b", field or ""):
            part = part.strip()
            if not part:
                continue
            names.append(part)
            if part.lower().startswith("the "):
                names.append(part[4:])
            words = part.split()
            if len(words) == 2 and field is author and author != publisher:
                names.append(words[-1])  # a surname alone: "Hargreaves"
    return names
