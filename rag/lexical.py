"""The lexical side: tokens, a light stemmer, and a BM25 index (bm25s) with the four verbs.

Dense vectors miss names, numbers and dates; BM25 catches them. Tokens are lowercased NFKC
words without accents, with English stop words dropped and a light suffix stemmer (so
"sanctioned" meets "sanctions"). Left out: language-specific stemmers for other languages;
non-English words are kept as they are (less their accents), so they still match themselves.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves also s t don didn doesn isn wasn weren won wouldn shouldn couldn many much
    tell say said says does did get got according please know""".split()
)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


# Common irregular verb forms, so "went" meets "go" and "fell" meets "fall".
IRREGULAR = {
    "went": "go", "gone": "go", "ran": "run", "spoke": "speak", "spoken": "speak",
    "built": "build", "paid": "pay", "fell": "fall", "fallen": "fall", "brought": "bring",
    "took": "take", "taken": "take", "made": "make", "sent": "send", "met": "meet",
    "led": "lead", "won": "win", "held": "hold", "gave": "give", "given": "give", "told": "tell",
    "thought": "think", "became": "become", "began": "begin", "begun": "begin", "left": "leave",
    "kept": "keep", "sought": "seek", "found": "find", "wrote": "write", "written": "write",
    "saw": "see", "seen": "see", "knew": "know", "known": "know", "chose": "choose",
    "bought": "buy", "sold": "sell", "struck": "strike", "fought": "fight", "grew": "grow",
    "drove": "drive", "driven": "drive", "stood": "stand", "lost": "lose", "spent": "spend",
}  # fmt: skip


# British spellings mapped to American ones, so "defence" meets "defense" and "neighbourhood"
# meets "neighborhood": the corpus mixes both, and so do its readers.
_SPELLINGS = (
    (re.compile(r"(?<=\w{3})our(hood|s|ed|ing|ite|ites|able)?$"), r"or\1"),
    (re.compile(r"(?<=\w{3})is(e|ed|es|ing|ation|ations)$"), r"iz\1"),
    (re.compile(r"(?<=\w{3})ence(s)?$"), r"ense\1"),
    (re.compile(r"(?<=\w{3})tre(s)?$"), r"ter\1"),
)


def american(word: str) -> str:
    """A word in American spelling.

    Example:
        >>> [american(w) for w in ("defence", "neighbourhood", "normalisation", "centre")]
        ['defense', 'neighborhood', 'normalization', 'center']
    """
    for pattern, repl in _SPELLINGS:
        word = pattern.sub(repl, word)
    return word


def unaccented(word: str) -> str:
    """A word without its combining accents, so "Beyonce" as typed meets "Beyoncé".

    Example:
        >>> unaccented("frédéric"), unaccented("wodzińska"), unaccented("東京")
        ('frederic', 'wodzinska', '東京')
    """
    if word.isascii():
        return word
    folded = unicodedata.normalize("NFKD", word)
    return "".join(c for c in folded if not unicodedata.combining(c))


@functools.lru_cache(maxsize=200_000)  # words recur: each is stemmed once per process
def stem(word: str) -> str:
    """A light English suffix stemmer with common irregular verbs and one spelling; accents are
    dropped first.

    Example:
        >>> [stem(w) for w in ("sanctioned", "sanctions", "rebuilding", "carried", "went")]
        ['sanction', 'sanction', 'rebuild', 'carry', 'go']
        >>> stem("beyoncé") == stem("beyonce")
        True
    """
    word = unaccented(word)
    if word in IRREGULAR:
        return IRREGULAR[word]
    word = american(word)
    if len(word) <= 4 or not word.isalpha() or word.endswith("ss"):
        return word  # "class" stays "class", as "classes" and "classed" become
    for suffix, repl in (
        ("ies", "y"),
        ("ied", "y"),
        ("ing", ""),
        ("ed", ""),
        ("es", "e"),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + repl
            break
    if word.endswith("ss"):
        return word
    return word.rstrip("e") if len(word) > 5 and word.endswith("e") else word


def tokenize(text: str) -> list[str]:
    """Search tokens of a text.

    Example:
        >>> tokenize("When was the charity sanctioned by the U.S. Treasury?")
        ['charity', 'sanction', 'u', 'treasury']
    """
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    words = (w.split("'")[0] for w in _WORD.findall(text))
    return [stem(w) for w in words if w and w not in STOPWORDS]


def _bm25s():
    import bm25s

    # bm25s sets its logger to DEBUG on import, so "Building index from tokens" reached stderr.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class LexicalIndex:
    """BM25 over token lists: fit, search, save, load; plus document frequencies for IDF."""

    def __init__(self) -> None:
        self._bm25 = None
        self.df: dict[str, int] = {}
        self.n_docs = 0
        self._by_initial: dict[str, list[str]] | None = None  # df's words by first letter
        self._spelling: dict[str, str] = {}  # unknown token -> its correction, memoised

    def fit(self, texts: Iterable[str]) -> LexicalIndex:
        bm25s = _bm25s()

        tokens = [tokenize(t) or ["\x00"] for t in texts]
        self.n_docs = len(tokens)
        self.df, self._by_initial, self._spelling = {}, None, {}
        for toks in tokens:
            for tok in set(toks):
                self.df[tok] = self.df.get(tok, 0) + 1
        self._bm25 = bm25s.BM25()
        self._bm25.index(tokens, show_progress=False)
        return self

    def idf(self, token: str) -> float:
        """Inverse document frequency; a token the corpus never uses gets the highest value."""
        return math.log((self.n_docs + 1) / (self.df.get(token, 0) + 0.5))

    def correct(self, tokens: Sequence[str]) -> list[str]:
        """Map misspelt tokens the corpus never uses to a close one it does ("sanctoined").

        Each token once, in order. Example:
            >>> LexicalIndex().fit(["sanction letter"]).correct(["sanctoin", "letter", "letter"])
            ['sanction', 'letter']
        """
        out = []
        for t in dict.fromkeys(tokens):
            if t in self.df or len(t) < 5 or not t.isalpha():
                out.append(t)
                continue
            if t not in self._spelling:
                if len(self._spelling) >= 10_000:  # a long-running server meets endless typos
                    self._spelling.clear()
                near = difflib.get_close_matches(t, self._initials().get(t[0], ()), 1, 0.85)
                self._spelling[t] = near[0] if near else t
            out.append(self._spelling[t])
        return out

    def _initials(self) -> dict[str, list[str]]:
        # A typo keeps its first letter; comparing with those words only is ~20x fewer ratios.
        if self._by_initial is None:
            groups: dict[str, list[str]] = {}
            for word in self.df:
                groups.setdefault(word[:1], []).append(word)
            self._by_initial = groups
        return self._by_initial

    def search(self, query_tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the ``k`` best documents, best first; zero scores are dropped."""
        known = [t for t in query_tokens if t in self.df]
        if not known or self._bm25 is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self._bm25.get_scores(known)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return top.astype(np.int64), scores[top].astype(np.float32)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(folder / "bm25"), show_progress=False)
        (folder / "df.json").write_text(
            json.dumps({"n_docs": self.n_docs, "df": self.df}), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        bm25s = _bm25s()

        index = cls()
        index._bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
        raw = json.loads((folder / "df.json").read_text(encoding="utf-8"))
        index.n_docs, index.df = int(raw["n_docs"]), {k: int(v) for k, v in raw["df"].items()}
        return index
