"""Choose the sentences that answer, build citations, decide whether to abstain.

Answers are extractive: the reply is cited sentences plus framing that names who said them, so
faithfulness holds by construction. Each candidate sentence (from the best fused chunks) is
scored by its cosine to the query plus how much of the question's IDF-weighted terms it holds.
The best sentence leads; others join when they are nearly as good and add question terms it
lacks. Confidence is the lead sentence's cosine and the question-term coverage of the quotes;
below ``abstain_threshold`` the assistant abstains and lists the closest passages as related.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from rag.index import Index
from rag.lexical import tokenize
from rag.records import Answer, Citation, Document
from rag.retrieval import Retrieved
from rag.segments import normalise
from rag.settings import Settings

TOP_CHUNKS = 6  # chunks whose sentences compete to be quoted
LEX_WEIGHT = 0.5  # weight of question-term coverage against cosine when ranking sentences
JOIN_MARGIN = 0.12  # how close to the lead a sentence must score to join it
# Sentences that lean on the one before them ("He also said...") bring it along for context.
_LEANS_BACK = re.compile(
    r"^(he|she|it|they|this|that|these|those|such|but|however|moreover)\b", re.I
)


@dataclass(frozen=True)
class Candidate:
    sentence_id: int
    chunk_rank: int
    cosine: float
    coverage: float
    score: float


def coverage(question_tokens: list[str], text_tokens: set[str], idf) -> float:
    """Share of the question's IDF weight whose tokens the text holds.

    Example:
        >>> coverage(["letter", "dunford"], {"letter"}, lambda t: 1.0)
        0.5
    """
    if not question_tokens:
        return 1.0
    total = sum(idf(t) for t in question_tokens)
    return sum(idf(t) for t in question_tokens if t in text_tokens) / max(total, 1e-9)


def correct_tokens(tokens: list[str], vocabulary: dict[str, int]) -> list[str]:
    """Map misspelt tokens the corpus never uses to a close one it does ("sanctoined").

    Example:
        >>> correct_tokens(["sanctoin", "letter"], {"sanction": 2, "letter": 3})
        ['sanction', 'letter']
    """
    out = []
    for t in dict.fromkeys(tokens):
        if t in vocabulary or len(t) < 5 or not t.isalpha():
            out.append(t)
            continue
        near = difflib.get_close_matches(t, [v for v in vocabulary if v[:1] == t[:1]], 1, 0.85)
        out.append(near[0] if near else t)
    return out


def speaker(c: Citation) -> str:
    """Who said a quote, for framing."""
    if c.kind in ("post", "quote"):
        return f"Forum member {c.author}" if c.author else "A forum member"
    if c.publisher and c.author and c.author != c.publisher:
        return f"{c.author} ({c.publisher})"
    return c.publisher or c.author or c.title


def render(citations: tuple[Citation, ...]) -> str:
    """The reply: each source's quotes under a line naming who said them."""
    lines: list[str] = []
    last = None
    for c in citations:
        who = speaker(c)
        if who != last:
            lines.append(f"{who}:" if not lines else f"\n{who}:")
            last = who
        lines.append(f"“{c.quote}” [{c.n}]")
    return "\n".join(lines)


class Answerer:
    """Turns retrieved chunks into an ``Answer``; holds nothing per question."""

    def __init__(self, index: Index, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self._docs: dict[str, Document] = {d.doc_id: d for d in index.documents}
        self._chunk_of: dict[int, int] = {}  # sentence id -> first chunk holding it
        for chunk_id, ids in enumerate(index.chunk_sentences):
            for sid in ids:
                self._chunk_of.setdefault(sid, chunk_id)

    def candidates(self, retrieved: Retrieved, question: str) -> list[Candidate]:
        idx = self.index
        q_tokens = correct_tokens(tokenize(question), idx.lexical.df)
        seen: set[int] = set()
        out: list[Candidate] = []
        for rank, hit in enumerate(retrieved.hits[:TOP_CHUNKS]):
            for sid in idx.chunk_sentences[hit.chunk_id]:
                if sid in seen:
                    continue
                seen.add(sid)
                cos = float(idx.sentence_vectors[sid] @ retrieved.query_vector)
                cov = coverage(q_tokens, set(tokenize(self._text(sid))), idx.lexical.idf)
                score = cos + LEX_WEIGHT * cov - 0.01 * rank
                out.append(Candidate(sid, rank, cos, cov, score))
        return sorted(out, key=lambda c: -c.score)

    def _text(self, sid: int) -> str:
        doc_id, span = self.index.sentences[sid]
        return self._docs[doc_id].text[span.start : span.end]

    def select(self, ranked: list[Candidate], question: str) -> list[Candidate]:
        """The lead sentence, plus near-equals that add question terms it lacks."""
        lead = ranked[0]
        chosen = [lead]
        q_tokens = set(correct_tokens(tokenize(question), self.index.lexical.df))
        covered = set(tokenize(self._text(lead.sentence_id))) & q_tokens
        texts = {normalise(self._text(lead.sentence_id))}
        for cand in ranked[1:]:
            if len(chosen) >= self.settings.max_quotes or cand.score < lead.score - JOIN_MARGIN:
                break
            text = normalise(self._text(cand.sentence_id))
            new_terms = (set(tokenize(text)) & q_tokens) - covered
            if new_terms and not any(text in t or t in text for t in texts):
                chosen.append(cand)
                covered |= new_terms
                texts.add(text)
        return self._with_context(chosen)

    def _with_context(self, chosen: list[Candidate]) -> list[Candidate]:
        # A quote that starts "He also said..." is unreadable alone; bring the sentence before it.
        out = list(chosen)
        ids = {c.sentence_id for c in chosen}
        for c in chosen:
            prev = c.sentence_id - 1
            same_doc = (
                prev >= 0
                and self.index.sentences[prev][0] == self.index.sentences[c.sentence_id][0]
            )
            if same_doc and prev not in ids and _LEANS_BACK.match(self._text(c.sentence_id)):
                out.append(Candidate(prev, c.chunk_rank, c.cosine, c.coverage, c.score))
                ids.add(prev)
        return out

    def _order_key(self, cand: Candidate, lead_doc: str) -> tuple[bool, str, int]:
        doc_id, span = self.index.sentences[cand.sentence_id]
        return (doc_id != lead_doc, doc_id, span.start)

    def citation(self, n: int, cand: Candidate) -> Citation:
        doc_id, span = self.index.sentences[cand.sentence_id]
        doc = self._docs[doc_id]
        chunk = self.index.chunks[self._chunk_of[cand.sentence_id]]
        return Citation(
            n=n,
            doc_id=doc_id,
            title=doc.meta.title,
            path=str(doc.path),
            start=span.start,
            end=span.end,
            quote=doc.text[span.start : span.end],
            author=chunk.author,
            publisher=doc.meta.publisher,
            date=doc.meta.date,
            score=round(cand.score, 4),
            kind=chunk.kind,
        )

    def answer(
        self, question: str, query: str, retrieved: Retrieved, threshold: float | None = None
    ) -> Answer:
        threshold = self.settings.abstain_threshold if threshold is None else threshold
        ranked = self.candidates(retrieved, question)
        if not ranked:
            return Answer(_NOTHING, (), True, query, question)
        chosen = self.select(ranked, question)
        q_tokens = correct_tokens(tokenize(question), self.index.lexical.df)
        quoted = set().union(*(set(tokenize(self._text(c.sentence_id))) for c in chosen))
        confidence = 0.5 * ranked[0].cosine + 0.5 * coverage(
            q_tokens, quoted, self.index.lexical.idf
        )
        if confidence < threshold:
            related = tuple(self.citation(i + 1, c) for i, c in enumerate(ranked[:2]))
            text = _NOTHING + "\n\nRelated passages (not an answer):\n" + render(related)
            return Answer(text, (), True, query, question, related, confidence=confidence)
        # Source order: the lead's document first, then by position within each document.
        lead_doc = self.index.sentences[chosen[0].sentence_id][0]
        ordered = sorted(chosen, key=lambda c: self._order_key(c, lead_doc))
        citations = tuple(self.citation(i + 1, c) for i, c in enumerate(ordered))
        return Answer(render(citations), citations, False, query, question, confidence=confidence)


_NOTHING = "The documents don't answer this question."
