"""Bind a name to the office a "who" question asks about.

"Who is Iran's foreign minister?" is not answered by "Russian Foreign Minister Sergei Lavrov":
the name holds the right office with another country. A name answers such a question only when
it stands with one of the question's office words ("minister", "chief", "spokesperson") and every
capitalised word around that office is one the question uses too ("Iran" for "Iranian"). Three
news patterns carry that binding:

- the office before the name: "the regime's Defense Minister Ali Abdullah Ayoub";
- an apposition after it: "Valery Gerasimov, the chief of the Russian military's General Staff";
- the office in one sentence, the name opening the next: "The Defence Minister of Iran is in
  Damascus." / "Gen. Amir Hatami arrived on Sunday...".

Left out: a parser or a trained named-entity model (none can be downloaded here); these are
surface rules over capitalised runs.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable

from rag.lexical import STOPWORDS, american

# Capitalised words that name an office, not who holds it: "Defence Minister" answers no "who".
TITLES = frozenset(
    "minister ministers president vice prime secretary general gen chairman chairwoman chair "
    "spokesperson spokesman spokeswoman director ambassador envoy representative special chief "
    "chiefs head commander king queen prince deputy foreign defence defense interior finance "
    "state senator governor mayor mr mrs ms dr sir lord marine army navy advisor adviser "
    "national security council officials official leader supreme counterpart".split()
)
# Words for any holder of an office: "Which official..." is answered by a minister too.
GENERIC = frozenset("official officials leader person chief head".split())
_WORD = re.compile(r"[^\W\d_][\w’'-]*\.?")
_APPOSITION = re.compile(r"\s*(,|\bis\b|\bwas\b|\bas\b)")  # "X, the chief of", "X is the envoy"
APPOSITION_WORDS = 8  # how far after a name its ", the chief of ..." may run


@functools.lru_cache(maxsize=65_536)
def key(word: str) -> str:
    """A word's comparison form: lower case, no possessive or full stop, one spelling.

    Example:
        >>> key("Defence"), key("Iran’s"), key("Gen.")
        ('defense', 'iran', 'gen')
    """
    w = word.lower().rstrip(".")
    return american(re.sub(r"[’']s?$", "", w))


@functools.lru_cache(maxsize=65_536)
def same_word(a: str, b: str) -> bool:
    """Equal keys, or the same stem of four letters or more: "iran"/"iranian", "chief"/"chiefs".

    Example:
        >>> same_word("Iranian", "iran"), same_word("Russian", "iran"), same_word("minster", "head")
        (True, False, False)
    """
    a, b = key(a), key(b)
    if a == b:
        return True
    n = min(len(a), len(b))
    if n >= 4 and a[:n] == b[:n] and abs(len(a) - len(b)) <= 3:
        return True
    # one slip of the keyboard in a long word: "minster" for "minister"
    return n >= 6 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.85


def is_title(word: str) -> bool:
    return key(word) in TITLES


def asked_titles(question: str) -> tuple[str, ...]:
    """The office words of what a question asks about (its first clause); "General Dunford"
    names a person, not an office.

    Example:
        >>> asked_titles("Who sent the letter to General Dunford?")
        ()
        >>> asked_titles("Who is Iran's foreign minister?")
        ('foreign', 'minister')
        >>> asked_titles("Which body ran the review, and what did its spokesperson say?")
        ()
    """
    words = _WORD.findall(re.split(r",|;|\band\b", question)[0])
    out = []
    for i, w in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        names_next = following[:1].isupper() and not is_title(following)
        if is_title(w) and not names_next and key(w) not in out:
            out.append(key(w))
    return tuple(out)


def holds_titled_name(
    sentence: str,
    previous: str,
    titles: tuple[str, ...],
    question_words: list[str],
    is_name: Callable[[str], bool],
) -> bool:
    """Whether ``sentence`` names someone holding the office the question asks about.

    ``previous`` is the sentence before it in the same document ("" if none); ``question_words``
    are the question's words; ``is_name(word)`` says whether a capitalised word is a name.

    Example:
        >>> words = "Who is Iran's foreign minister".split()
        >>> holds_titled_name("Russian Foreign Minister Sergei Lavrov met him.", "",
        ...                   ("foreign", "minister"), words, lambda w: True)
        False
        >>> holds_titled_name("Iran's Foreign Minister Javad Zarif met him.", "",
        ...                   ("foreign", "minister"), words, lambda w: True)
        True
    """
    asked = [w for w in question_words if key(w) not in STOPWORDS]
    # "Which official..." takes any office; "Who is the foreign minister" only that one.
    specific = not set(titles) <= GENERIC
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(sentence)]
    for first, last in _runs(words):
        run = [w for w, _, _ in words[first : last + 1]]
        offices = [i for i, w in enumerate(run) if is_title(w)]
        names = run[offices[-1] + 1 :] if offices else run
        if not any(is_name(w) and not _used(w, asked) for w in names):
            continue
        if any(_used(w, asked) for w in names):
            continue  # the question's own person ("General Joseph Dunford")
        before = run[: offices[-1] + 1] if offices else []
        if _office_fits(" ".join(before), titles, asked, specific, window=len(before)):
            return True
        tail = _APPOSITION.match(sentence[words[last][2] :])
        appositive = _clause(sentence[words[last][2] + tail.end() :]) if tail else ""
        if appositive and _office_fits(appositive, titles, asked, specific):
            return True
        if first <= 2 and previous and _office_fits(previous, titles, asked, specific):
            return True
    return False


def _runs(words: list[tuple[str, int, int]]) -> list[tuple[int, int]]:
    # Runs of capitalised words with nothing but spaces between them.
    runs: list[tuple[int, int]] = []
    start = None
    for i, (w, s, _) in enumerate(words):
        joined = start is not None and words[i - 1][2] == s - 1
        if w[:1].isupper() or (w.startswith("al-") and joined):
            if start is None or not joined:
                if start is not None:
                    runs.append((start, i - 1))
                start = i
        elif start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(words) - 1))
    return runs


def _used(word: str, asked: list[str]) -> bool:
    return key(word) in STOPWORDS or any(same_word(word, q) for q in asked)


def _clause(text: str) -> str:
    return " ".join(re.split(r"[,;.()]", text, maxsplit=1)[0].split()[:APPOSITION_WORDS])


def _office_fits(
    text: str, titles: tuple[str, ...], asked: list[str], specific: bool, window: int = 3
) -> bool:
    # An office word the question asks about, and no capitalised word the question lacks
    # within ``window`` words of it ("the chief of the Russian military's General Staff").
    # A specific office also rules out other offices ("Defence" for a foreign minister).
    words = _WORD.findall(text)
    for i, w in enumerate(words):
        if not (key(w) in titles or (not specific and is_title(w))):
            continue
        near = words[max(0, i - window) : i + window + 1]
        if all(_used(n, asked) or (is_title(n) and not specific) for n in near if n[:1].isupper()):
            return True
    return False
