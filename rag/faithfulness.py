"""Is each sentence of an answer supported by the quotes it cites?

The default checker is lexical and conservative: a sentence passes when it is (normalised) a
substring of a cited quote, or when one contiguous window of a quote shares most of its words and
word pairs, every number and capitalised name, and what it negates. It does not understand
paraphrase beyond that; an embedding similarity can relax the word-overlap test, and an NLI
cross-encoder can replace the checker when a local model is given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from rag.dataset import normalise
from rag.records import Citation

_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
# A sentence ends at . ! ? (plus closing quotes/brackets and any [n] markers), or at a line break.
# A full stop before a lowercase word ("U.S. help") does not end a sentence.
_SENTENCE = re.compile(
    r".+?(?:[.!?]+[\"'”’)\]]*(?:\s*\[\d+(?:\s*,\s*\d+)*\])*(?=\s+(?![a-z])|\s*$)|$)", re.S
)
# Framing ahead of a quote: "Reuters reported:", "Forum member rooster59 wrote:", "Reuters:" alone,
# or a title that holds a colon itself ("The Legend of Zelda: Twilight Princess:").
_FRAMING = re.compile(r"^[^\"“”]{1,120}?:\s*(?=[\"“‘']|$)")
_EDGE = "\"'“”‘’«» \t\n—–-"
_WORD = re.compile(r"[\w][\w'’.,-]*[\w]|[\w]")
_NUMBER = re.compile(r"\d")
NEAR_VERBATIM = 0.8  # share of word pairs above which a sentence follows the quote's wording
_NEGATIONS = {"not", "no", "never", "nor", "none", "nothing", "cannot", "without"}
_STOP = set(
    "a an and are as at be been being but by did do does for from had has have he her his i if in "
    "into is it its of on or our she so such than that the their them then there these they this "
    "those to was we were what when where which while who whom why will with would you your also "
    "said says say according".split()
)


class SupportChecker(Protocol):
    """Decides whether ``sentence`` is backed by ``quotes``."""

    def supported(self, sentence: str, quotes: Sequence[str]) -> bool: ...


def _tokens(text: str) -> list[str]:
    """Lowercased word tokens with thousands separators and trailing dots dropped.

    Example:
        >>> _tokens("He didn't pay $1,200.")
        ['he', 'did', 'not', 'pay', '1200']
    """
    out: list[str] = []
    for tok in _WORD.findall(normalise(text)):
        tok = tok.strip(".,-'")
        if tok.endswith("n't"):  # "didn't" -> "did not": negation is its own token
            out += [tok[:-3] or "not", "not"] if tok != "can't" else ["can", "not"]
        elif tok:
            out.append(tok.replace(",", "") if _NUMBER.search(tok) else tok)
    return out


def _names(sentence: str) -> set[str]:
    """Capitalised words that are not function words, lowercased.

    Example:
        >>> sorted(_names("The letter went to Joseph Dunford in Washington."))
        ['dunford', 'joseph', 'washington']
    """
    words = re.findall(r"\b[A-Z][\w'’.-]*", sentence)
    return {t for w in words for t in _tokens(w) if t not in _STOP and t not in _NEGATIONS}


def _negated(tokens: list[str]) -> set[str]:
    """Content words within three tokens after a negation: what is being denied.

    Example:
        >>> sorted(_negated(_tokens("It has not been previously reported.")))
        ['previously', 'reported']
    """
    return {
        t
        for i, tok in enumerate(tokens)
        if tok in _NEGATIONS
        for t in _content(tokens[i + 1 : i + 4])
    }


def _anchored(content: list[str], names: set[str], pairs: set[tuple[str, str]]) -> bool:
    """Every run of names or numbers keeps at least one of its neighbours from the quote.

    Example:
        >>> quote = _pairs(["letter", "valery", "gerasimov", "chief"])
        >>> _anchored(["letter", "joseph", "dunford", "chief"], {"joseph", "dunford"}, quote)
        False
    """
    i = 0
    while i < len(content):
        j = i
        while j < len(content) and (content[j] in names or _NUMBER.search(content[j])):
            j += 1
        if j > i:
            edges = [(content[i - 1], content[i])] if i else []
            edges += [(content[j - 1], content[j])] if j < len(content) else []
            if edges and not any(e in pairs for e in edges):
                return False
        i = max(j, i + 1)
    return True


def _content(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t not in _STOP and t not in _NEGATIONS]


def _pairs(tokens: list[str]) -> set[tuple[str, str]]:
    return set(zip(tokens, tokens[1:], strict=False))


def clean_sentence(sentence: str) -> str:
    """Drop citation markers, leading framing and enclosing quote marks.

    Example:
        >>> clean_sentence('Reuters reported: "The plan was sent in July." [1]')
        'The plan was sent in July.'
    """
    text = _MARKER.sub("", sentence).strip()
    text = _FRAMING.sub("", text)
    return text.strip(_EDGE)


def split_sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """An answer's sentences, cleaned, each with the citation numbers it carries.

    Example:
        >>> split_sentences('Reuters reported: "A rose. B fell." [2] Then C.')
        [('A rose.', ()), ('B fell.', (2,)), ('Then C.', ())]
        >>> split_sentences('U.S. State Dept.:\\n“It was sent.” [1]')
        [('It was sent.', (1,))]
        >>> split_sentences('Zelda: Twilight Princess:\\n“It was sent.” [1]')
        [('It was sent.', (1,))]
    """
    out: list[tuple[str, tuple[int, ...]]] = []
    for line in text.splitlines():
        for match in _SENTENCE.finditer(_FRAMING.sub("", line.strip())):
            raw = match.group(0)
            marks = tuple(int(n) for m in _MARKER.findall(raw) for n in m.split(","))
            cleaned = clean_sentence(raw)
            if any(ch.isalnum() for ch in cleaned):
                out.append((cleaned, marks))
    return out


class LexicalNumericChecker:
    """Supported = a substring of a quote, or a close lexical match to one window of a quote.

    Args:
        min_overlap: share of the sentence's content words the window must contain.
        min_pairs: share of the sentence's adjacent content-word pairs found in the window;
            this is what rejects swapped names and numbers.
        encoder: optional; when given, a cosine >= ``min_similarity`` between the sentence and
            the quote may stand in for the two overlap tests (names, numbers, negation still apply).
    """

    def __init__(
        self,
        min_overlap: float = 0.8,
        min_pairs: float = 0.5,
        encoder: object | None = None,
        min_similarity: float = 0.8,
    ) -> None:
        self.min_overlap = min_overlap
        self.min_pairs = min_pairs
        self.encoder = encoder
        self.min_similarity = min_similarity

    def supported(self, sentence: str, quotes: Sequence[str]) -> bool:
        target = normalise(clean_sentence(sentence))
        if not target:
            return True
        if any(target in normalise(q) for q in quotes):
            return True
        return any(self._close(sentence, q) for q in quotes)

    def _close(self, sentence: str, quote: str) -> bool:
        sent = _tokens(sentence)
        window = self._best_window(sent, _tokens(quote))
        have = set(window)
        content = _content(sent)
        if not content:
            return False
        if any(_NUMBER.search(t) and t not in have for t in sent):
            return False
        if not _names(sentence) <= have:
            return False
        negated, negated_there = _negated(sent), _negated(window)
        if not negated <= negated_there or (negated_there & set(content)) - negated:
            return False  # a negation inserted, dropped or moved
        overlap = sum(t in have for t in content) / len(content)
        pairs, there = _pairs(content), _pairs(_content(window))
        pair_share = len(pairs & there) / len(pairs) if pairs else 1.0
        if pair_share >= NEAR_VERBATIM and not _anchored(content, _names(sentence), there):
            return False  # the quote's wording with names or numbers moved: a swap
        if overlap >= self.min_overlap and pair_share >= self.min_pairs:
            return True
        return self.encoder is not None and self._similar(sentence, quote)

    @staticmethod
    def _best_window(sent: list[str], quote: list[str]) -> list[str]:
        # The stretch of the quote most like the sentence; names, numbers and negation are checked
        # there, so a "not" elsewhere in a long quote cannot excuse an inserted one.
        size = len(sent) * 3 // 2 + 6
        if len(quote) <= size:
            return quote
        wanted = set(_content(sent))
        scores = [
            sum(t in wanted for t in quote[i : i + size]) for i in range(len(quote) - size + 1)
        ]
        best = int(np.argmax(scores))
        return quote[best : best + size]

    def _similar(self, sentence: str, quote: str) -> bool:
        vectors = self.encoder.encode([sentence, quote])  # (2, dim), L2-normalised
        return float(vectors[0] @ vectors[1]) >= self.min_similarity


class CrossEncoderNLIChecker:
    """Entailment by an NLI cross-encoder from a local folder (none ships with this project).

    Supported when P(entailment | quotes, sentence) >= ``threshold``.
    """

    def __init__(self, model_path: str, threshold: float = 0.5) -> None:
        from sentence_transformers import CrossEncoder  # heavy: only when asked for

        self.model = CrossEncoder(model_path, device="cpu")
        config = getattr(self.model, "config", None) or self.model.model.config
        labels = {v.lower(): int(k) for k, v in config.id2label.items()}
        self.entail = labels.get("entailment", 0)
        self.threshold = threshold

    def supported(self, sentence: str, quotes: Sequence[str]) -> bool:
        logits = np.atleast_1d(np.asarray(self.model.predict([(" ".join(quotes), sentence)]))[0])
        if logits.size == 1:  # a single-score model: the score is the entailment logit
            return float(1 / (1 + np.exp(-logits[0]))) >= self.threshold
        probs = np.exp(logits - logits.max())
        return float(probs[self.entail] / probs.sum()) >= self.threshold


def make_checker(nli_model: str | None = None) -> SupportChecker:
    """The NLI checker when a model path is given, else the lexical one."""
    return CrossEncoderNLIChecker(nli_model) if nli_model else LexicalNumericChecker()


def faithfulness(
    text: str, citations: Sequence[Citation], checker: SupportChecker
) -> tuple[int, int]:
    """``(supported, total)`` sentences of an answer; a sentence is checked against the quotes
    its ``[n]`` markers cite, or against all cited quotes when it carries none.
    """
    by_n = {c.n: c.quote for c in citations}
    supported = total = 0
    for sentence, marks in split_sentences(text):
        quotes = [by_n[n] for n in marks if n in by_n] or list(by_n.values())
        total += 1
        supported += bool(quotes) and checker.supported(sentence, quotes)
    return supported, total
