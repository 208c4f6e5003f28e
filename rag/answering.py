"""Choose the sentences that answer, build citations, decide whether to abstain.

Answers are extractive: the reply is cited sentences plus framing that names who said them, so
faithfulness holds by construction. Each candidate sentence (from the best fused chunks) gets the
signals in ``FEATURES`` (its cosine to the query, how much of the question's IDF-weighted terms
it holds, whether it holds the kind of answer asked for, ...), which a linear ranker weighs
(``rag.scoring``; its weights are data). The best sentence leads; others join when they are
nearly as good and add question terms it lacks. Confidence is the abstention model's
probability over ``SIGNALS`` (the lead's cosine, the quotes' term coverage, question terms the
corpus never uses, a missing kind of answer, ...); below ``abstain_threshold`` the assistant
abstains and lists the closest passages as related.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.index import Index
from rag.lexical import tokenize
from rag.question import (
    Profile,
    capital_shares,
    holds_answer_type,
    holds_measure,
    profile,
    source_names,
)
from rag.readers.pages import page_of
from rag.records import Answer, Chunk, Citation, Hit
from rag.retrieval import Retrieved
from rag.scoring import WEIGHTS, Scorer, load_scorer
from rag.segments import normalise
from rag.settings import Settings
from rag.titles import holds_titled_name

TOP_CHUNKS = 6  # chunks whose sentences compete to be quoted
SOURCE_BONUS = 0.2  # the sentence is by the source or forum member the question names
FORUM_BONUS = 0.1  # the question asks about comments and the sentence is one
# The ranker's inputs (``Answerer.features``) and the abstention model's (``Answerer.signals``):
# the weights in rag/scoring/weights.json are over these, in this order.
FEATURES = (
    "cosine",  # the sentence's vector against the query's
    "coverage",  # share of the question's IDF weight the sentence holds
    "context_coverage",  # what the sentences either side add to it
    "chunk_rank",  # rank of the chunk it came from (0 = best)
    "chunk_score",  # that chunk's fused score over the best chunk's
    "holds_number",  # a number question, and the sentence has a number it does not state
    "holds_date",
    "holds_name",
    "type_missing",  # the question asks for a kind of answer the sentence lacks
    "headline",  # no closing punctuation: a title, rarely an answer
    "log_length",
    "bigrams",  # share of the question's term pairs the sentence has in a row
    "novelty",  # share of the sentence's tokens the question does not use
)
SIGNALS = (
    "lead_cosine",
    "lead_coverage",
    "quoted_coverage",  # question terms (less a "which X" category) the lead document's quotes hold
    "unknown_share",  # question terms the corpus never uses and no quoted word means
    "typed_unknown",  # a name/date/number question with such a term
    "type_missing",  # the quotes lack the kind of answer asked for
    "lead_score",
    "lead_margin",  # lead's score over the runner-up's
    "rarest_held",  # the question's rarest term is in the lead sentence
    "terms",  # how many content terms the question has
)
SYNONYM = 0.6  # word cosine at which a quoted word stands for a missing question term
JOIN_MARGIN = 0.12  # how close to the lead a sentence must score to join it
SURVEY_MARGIN = 0.4  # how close another member's view must score to join "what did members think"
# A lead quote shorter than this brings the next sentences of its paragraph: a forum post's
# "Tell that to the residents of Raqqa." needs its next sentence; a one-sentence news paragraph
# ("Jordan is hosting more than 650,000 Syrian refugees.") is whole, and the next one is new.
SHORT_QUOTE = 120
SAID_PENALTY = 0.5  # a follow-up wants something new: the previous answer's first quote steps back
RARE_SHARE = 0.05  # a name in at most this share of chunks (or 3) can answer "who"
PROPER_SHARE = 0.9  # a word capitalised in at least this share of its uses is a name
# Capitalised words in a row, allowing "of", "for", "and", "the" between them.
_CAPITAL_RUN = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:(?:of|for|and|the)\s+)?[A-Z][\w’'-]*)+")
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
    features: tuple[float, ...] = ()  # what the ranker weighed (FEATURES)


def holds(term: str, tokens: set[str]) -> bool:
    """Whether ``tokens`` hold ``term``, or a word it begins or that begins it ("photo").

    Example:
        >>> holds("photo", {"photograph"}), holds("war", {"ward"})
        (True, False)
    """
    if term in tokens:
        return True
    return len(term) >= 5 and any(
        len(t) >= 5 and (t.startswith(term) or term.startswith(t)) for t in tokens
    )


def coverage(question_tokens: list[str], text_tokens: set[str], idf) -> float:
    """Share of the question's IDF weight whose tokens the text holds.

    Example:
        >>> coverage(["letter", "dunford"], {"letter"}, lambda t: 1.0)
        0.5
    """
    if not question_tokens:
        return 1.0
    total = sum(idf(t) for t in question_tokens)
    return sum(idf(t) for t in question_tokens if holds(t, text_tokens)) / max(total, 1e-9)


def acronyms(text: str) -> set[str]:
    """Initials (3 letters or more) of runs of capitalised words, so "IMF" finds its long form.

    Example:
        >>> "imf" in acronyms("The International Monetary Fund said")
        True
    """
    out: set[str] = set()
    for run in _CAPITAL_RUN.finditer(text):
        letters = "".join(w[0] for w in run.group().split() if w[0].isupper()).lower()
        for i in range(len(letters)):
            for j in range(i + 3, len(letters) + 1):
                out.add(letters[i:j])
    return out


def spelled_out(question: str, text: str) -> set[str]:
    """Tokens of question words whose initials are part of an acronym in ``text``.

    Example:
        >>> sorted(spelled_out("Which Security Council resolution?", "It implements UNSCR 2254."))
        ['council', 'resolution', 'security']
    """
    caps = [w.lower() for w in re.findall(r"\b[A-Z]{3,}\b", text)]
    if not caps:
        return set()
    words = re.findall(r"[A-Za-z][\w’'-]*", question)
    out: set[str] = set()
    for i in range(len(words)):
        for j in range(i + 2, min(i + 6, len(words)) + 1):
            letters = "".join(w[0] for w in words[i:j]).lower()
            if any(letters in c for c in caps):
                out |= {t for w in words[i:j] for t in tokenize(w)}
    return out


def speaker(c: Citation) -> str:
    """Who said a quote, for framing."""
    if c.kind in ("post", "quote"):
        return c.speaker[:1].upper() + c.speaker[1:]  # "Forum member X" opens a line
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

    def __init__(
        self, index: Index, settings: Settings, encode=None, scorer: Scorer | None = None
    ) -> None:
        self.index = index
        self.settings = settings
        self.scorer = scorer or load_scorer(Path(settings.scorer) if settings.scorer else WEIGHTS)
        self.probe = None  # a callable given each answer's signals, for fitting
        self._encode = encode  # texts -> (n, dim) vectors; None disables the synonym check
        self._word_vectors: dict[str, np.ndarray] = {}
        # sentence id -> its tokens and its adjacent token pairs, memoised
        self._tokens: dict[int, tuple[frozenset[str], frozenset[tuple[str, str]]]] = {}
        self._vocabularies: dict[tuple[int, ...], frozenset[str]] = {}  # scope -> its tokens
        self._source_names = {
            d.doc_id: source_names(d.meta.publisher, d.meta.author) for d in index.documents
        }

    def profile(self, question: str) -> Profile:
        p = profile(question, self._source_names, self.index.chunks_by_author.keys())
        return replace(p, terms=tuple(self.index.lexical.correct(p.terms)))

    def _pool(self, retrieved: Retrieved, prof: Profile) -> list[Hit]:
        """The hits whose sentences compete, in rank order."""
        pool = list(retrieved.hits[:TOP_CHUNKS])
        # Chunks by a named source or forum member compete even from further down the ranking.
        pool += [
            h
            for h in retrieved.hits[TOP_CHUNKS:]
            if h.doc_id in prof.sources
            or h.author in prof.authors
            or (prof.wants_forum and h.kind != "article")
        ]
        # A passage only a shared store holds (another server indexed it) has no sentences here.
        return [h for h in pool if h.chunk_id >= 0]

    def candidates(self, retrieved: Retrieved, prof: Profile, said: str = "") -> list[Candidate]:
        """Sentences of the best chunks, scored, best first; ``said`` is normalised text."""
        idx = self.index
        seen: set[int] = set()
        out: list[Candidate] = []
        for rank, hit in enumerate(self._pool(retrieved, prof)):
            for sid in idx.chunk_sentences[hit.chunk_id]:
                if sid in seen:
                    continue
                seen.add(sid)
                if _WORDY.search(self._text(sid)):  # "5", "1.2.": a contents line's page number
                    out.append(self._score(sid, rank, hit, retrieved, prof, said))
        return sorted(out, key=lambda c: -c.score)

    def _score(
        self, sid: int, rank: int, hit: Hit, retrieved: Retrieved, prof: Profile, said: str
    ) -> Candidate:
        x = self.features(sid, rank, hit, retrieved, prof)
        score = self.scorer.rank(x)
        # Priors the fit data cannot teach (its questions name no source and have no forum),
        # in the ranker's units: one point of sentence cosine.
        chunk = self.index.chunks[hit.chunk_id]
        if said and normalise(self._text(sid)) in said and not self._answers_again(sid, prof):
            score -= SAID_PENALTY
        if chunk.doc_id in prof.sources or (chunk.author and chunk.author in prof.authors):
            score += SOURCE_BONUS
        if prof.wants_forum and chunk.kind != "article":
            score += FORUM_BONUS
        return Candidate(sid, rank, x[0], x[1], score, x)

    def _answers_again(self, sid: int, prof: Profile) -> bool:
        # "How often?" after "Who has Lavrov been meeting?" is answered by the quote already
        # given ("Twice ... Lavrov has met ..."): a follow-up that asks for a measure that
        # quote holds, and not for something else, may have it again. Only a measure: a date
        # or a name binds too loosely ("placed on a sanctions list last month" holds a date).
        asks_else = any(w.lower() in _ELSE for w in prof.words)
        return bool(prof.measure) and not asks_else and self._holds(prof, sid)

    def features(
        self, sid: int, rank: int, hit: Hit, retrieved: Retrieved, prof: Profile
    ) -> tuple[float, ...]:
        """What the ranker weighs for one candidate sentence, in the order of ``FEATURES``."""
        text = self._text(sid)
        tokens = self._sentence_tokens(sid)
        terms = list(prof.terms)
        idf = self.index.lexical.idf
        cos = float(self.index.sentence_vectors[sid] @ retrieved.query_vector)
        cov = coverage(terms, tokens, idf)
        near = set(tokens)
        for other in (sid - 1, sid + 1):
            if self._same_doc(other, sid):
                near |= self._sentence_tokens(other)
        typed = bool(prof.answer_type) and self._holds(prof, sid)
        kind = prof.answer_type
        pairs = self._tokenised(sid)[1]
        q_pairs = list(zip(terms, terms[1:], strict=False))
        bigrams = sum(p in pairs for p in q_pairs) / len(q_pairs) if q_pairs else 0.0
        novel = len(tokens - prof.question_tokens) / max(len(tokens), 1)
        top = retrieved.hits[0].score
        return (
            cos,
            cov,
            coverage(terms, near, idf) - cov,
            float(rank),
            hit.score / top if top else 0.0,
            float(typed and kind == "number"),
            float(typed and kind == "date"),
            float(typed and kind == "name"),
            float(bool(kind) and not typed),
            float(not re.search(r"[.!?\"”’)]$", text)),
            float(np.log(len(text) + 1)),
            bigrams,
            novel,
        )

    def signals(
        self,
        prof: Profile,
        ranked: list[Candidate],
        chosen: list[Candidate],
        wanted: list[str],
        quoted: set[str],
        unknown: int,
    ) -> tuple[float, ...]:
        """What the abstention model weighs for one answer, in the order of ``SIGNALS``."""
        idf = self.index.lexical.idf
        lead = ranked[0]
        second = ranked[1].score if len(ranked) > 1 else lead.score - 1.0
        terms = list(prof.terms)
        rarest = max(terms, key=idf) if terms else None
        lead_tokens = self._sentence_tokens(lead.sentence_id)
        return (
            lead.cosine,
            lead.coverage,
            coverage(wanted, quoted, idf),
            unknown / max(len(terms), 1),
            float(bool(unknown) and prof.answer_type is not None),
            float(bool(prof.answer_type) and not self._answers_type(chosen, prof)),
            lead.score,
            lead.score - second,
            float(rarest is not None and holds(rarest, lead_tokens)),
            float(len(terms)),
        )

    def _text(self, sid: int) -> str:
        doc_id, span = self.index.sentences[sid]
        return self.index.by_id[doc_id].text[span.start : span.end]

    def _sentence_tokens(self, sid: int) -> frozenset[str]:
        # Sentences recur across questions; tokenise each once (a dict write is thread-safe).
        return self._tokenised(sid)[0]

    def _tokenised(self, sid: int) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
        got = self._tokens.get(sid)
        if got is None:
            ordered = tokenize(self._text(sid))
            pairs = frozenset(zip(ordered, ordered[1:], strict=False))
            got = self._tokens[sid] = (frozenset(ordered), pairs)
        return got

    def select(self, ranked: list[Candidate], prof: Profile) -> list[Candidate]:
        """The lead sentence, plus near-equals that add question terms it lacks."""
        lead = ranked[0]
        chosen = [lead]
        q_tokens = set(prof.terms)
        covered = self._sentence_tokens(lead.sentence_id) & q_tokens
        texts = {normalise(self._text(lead.sentence_id))}
        for cand in ranked[1:]:
            if len(chosen) >= self.settings.max_quotes or cand.score < lead.score - JOIN_MARGIN:
                break
            text = normalise(self._text(cand.sentence_id))
            new_terms = (self._sentence_tokens(cand.sentence_id) & q_tokens) - covered
            if new_terms and not any(text in t or t in text for t in texts):
                chosen.append(cand)
                covered |= new_terms
                texts.add(text)
        if prof.wants_forum and not prof.authors and prof.answer_type is None:
            chosen = self._voices(chosen, ranked)
        return self._with_context(self._with_answer(chosen, prof))

    def _voices(self, chosen: list[Candidate], ranked: list[Candidate]) -> list[Candidate]:
        # "What did forum members think about X?" asks for several views: the best sentence of
        # each other member who wrote about it, while it scores near the lead.
        authors = {self._author(c.sentence_id) for c in chosen}
        floor = chosen[0].score - SURVEY_MARGIN
        for cand in ranked[1:]:
            if len(chosen) >= self.settings.max_quotes or cand.score < floor:
                break
            author = self._author(cand.sentence_id)
            if author and author not in authors:
                chosen.append(cand)
                authors.add(author)
        return chosen

    def _author(self, sid: int) -> str | None:
        chunk = self._chunk(sid)
        return chunk.author if chunk.kind == "post" else None

    def _chunk(self, sid: int) -> Chunk:
        """The first chunk holding sentence ``sid`` (overlapping chunks may share it)."""
        return self.index.chunks[self._chunk_id(sid)]

    def _chunk_id(self, sid: int) -> int:
        return self.index.sentence_chunks[sid][0]

    def _with_answer(self, chosen: list[Candidate], prof: Profile) -> list[Candidate]:
        # "Who went to Damascus?" is often answered by the sentence after the one that matches
        # best ("The Defence Minister of Iran is in Damascus." / "Gen. Amir Hatami arrived...").
        if not prof.answer_type or any(self._holds(prof, c.sentence_id) for c in chosen):
            return chosen
        ids = {c.sentence_id for c in chosen}
        for c in chosen:
            for sid in (c.sentence_id + 1, c.sentence_id + 2, c.sentence_id - 1):
                if sid not in ids and self._same_doc(sid, c.sentence_id) and self._holds(prof, sid):
                    return [*chosen, replace(c, sentence_id=sid)]
        return chosen

    def _answers_type(self, chosen: list[Candidate], prof: Profile) -> bool:
        # "Who said...?" is answered by whose words the quote is, named in the framing.
        if any(self._holds(prof, c.sentence_id) for c in chosen):
            return True
        if prof.answer_type != "name" or prof.titles:
            return False  # a publisher holds no office: "who is the envoy" needs a named holder
        cites = [self.citation(0, c) for c in chosen]
        names = {c.author for c in cites} | {c.publisher for c in cites if c.kind == "article"}
        return any(set(tokenize(n)) - prof.question_tokens for n in names if n)

    def _doc(self, cand: Candidate) -> str:
        return self.index.sentences[cand.sentence_id][0]

    def _same_doc(self, a: int, b: int) -> bool:
        n = len(self.index.sentences)
        return 0 <= a < n and self.index.sentences[a][0] == self.index.sentences[b][0]

    def _same_paragraph(self, a: int, b: int) -> bool:
        # Sentences a < b of one document with no blank line between them.
        if not self._same_doc(a, b):
            return False
        doc_id, first = self.index.sentences[a]
        _, second = self.index.sentences[b]
        return "\n\n" not in self.index.by_id[doc_id].text[first.end : second.start]

    def _holds(self, prof: Profile, sid: int) -> bool:
        text = self._text(sid)
        if prof.answer_type == "number" and prof.measure:
            return holds_measure(text, prof.measure, prof.focus)
        if prof.answer_type == "name" and prof.titles:
            previous = self._text(sid - 1) if self._same_doc(sid - 1, sid) else ""
            return holds_titled_name(text, previous, prof.titles, list(prof.words), self._is_name)
        return holds_answer_type(prof.answer_type, text, prof.question_tokens, self._is_name)

    def _with_context(self, chosen: list[Candidate]) -> list[Candidate]:
        # A quote that starts "He also said..." is unreadable alone; bring the sentence before it.
        out = list(chosen)
        ids = {c.sentence_id for c in chosen}
        lead = chosen[0].sentence_id
        length, nxt = len(self._text(lead)), lead + 1
        while (
            length < SHORT_QUOTE
            and nxt in self._chunk_sentences(lead)
            and nxt not in ids
            and self._same_paragraph(nxt - 1, nxt)
        ):
            if _WORDY.search(self._text(nxt)):  # an index line's page number is no context
                out.append(replace(chosen[0], sentence_id=nxt))
                length += len(self._text(nxt))
            ids.add(nxt)
            nxt += 1
        for c in chosen:
            prev = c.sentence_id - 1
            leans = _LEANS_BACK.match(self._text(c.sentence_id))
            if leans and prev not in ids and self._same_doc(prev, c.sentence_id):
                out.append(replace(c, sentence_id=prev))
                ids.add(prev)
        return out

    def _order_key(self, cand: Candidate, lead: Candidate) -> tuple[bool, bool, str, int]:
        # The best sentence, with the sentences brought in around it (they carry its score),
        # comes first: a reader takes the first quote as the answer. Then the lead's document,
        # then the others, each by position.
        doc_id, span = self.index.sentences[cand.sentence_id]
        return (cand.score != lead.score, doc_id != self._doc(lead), doc_id, span.start)

    def _runs(self, ordered: list[Candidate]) -> list[tuple[Candidate, int]]:
        # Sentences quoted one after the other, with only spaces or a line break between them
        # in one paragraph of one source, are one passage: one quote, one citation, one span.
        runs: list[tuple[Candidate, int]] = []
        for cand in ordered:
            sid = cand.sentence_id
            if runs and self._continues(runs[-1][1], sid):
                runs[-1] = (runs[-1][0], sid)
            else:
                runs.append((cand, sid))
        return runs

    def _continues(self, a: int, b: int) -> bool:
        """Whether sentence ``b`` follows ``a`` with nothing but spaces or one line break between,
        ``a`` ends as a sentence does (list items and headings stay apart), and in the same
        chunk's voice (a forum post's sentences, not the next member's)."""
        if b != a + 1 or not self._same_doc(a, b) or not _SENTENCE_END.search(self._text(a)):
            return False
        doc_id, first = self.index.sentences[a]
        gap = self.index.by_id[doc_id].text[first.end : self.index.sentences[b][1].start]
        if gap.strip() or gap.count("\n") > 1:
            return False
        x, y = self._chunk(a), self._chunk(b)
        return (x.kind, x.author) == (y.kind, y.author)

    def unknown_terms(self, question: str, prof: Profile, quoted_text: str) -> list[str]:
        """Question terms the corpus never uses and that no quoted word means (by word vectors).

        "population" in "What is the population of Damascus?" is such a term; "envoy" is not
        when the quote says "Special Representative". A question that names a source asks what
        that source said: "China" is unknown to an op-ed that never mentions China.
        """
        df = self._scope_vocabulary(prof) or self.index.lexical.df
        quoted = set(tokenize(quoted_text))
        initials = acronyms(quoted_text) | spelled_out(question, quoted_text)
        missing = [
            t
            for t in prof.terms
            if t not in df and not holds(t, quoted) and t not in initials and t != prof.category
        ]
        if not missing or self._encode is None:
            return missing
        words = [w for w in dict.fromkeys(re.findall(r"[^\W\d_]{4,}", quoted_text.lower()))]
        words = [w for w in words if tokenize(w)]
        surface = {t: w for w in re.findall(r"[\w'’-]+", question.lower()) for t in tokenize(w)}
        need = [
            w
            for w in [*words, *(surface.get(t, t) for t in missing)]
            if w not in self._word_vectors
        ]
        if need:
            for w, v in zip(need, self._encode(need), strict=True):
                self._word_vectors[w] = v
        if not words:
            return missing
        table = np.stack([self._word_vectors[w] for w in words])
        return [
            t
            for t in missing
            if float((table @ self._word_vectors[surface.get(t, t)]).max()) < SYNONYM
        ]

    def _scope_vocabulary(self, prof: Profile) -> frozenset[str]:
        """The tokens of the documents and forum members a question names ("" if none)."""
        idx = self.index
        scope = [c for d in sorted(prof.sources) for c in idx.chunks_by_doc.get(d, ())]
        scope += [c for a in sorted(prof.authors) for c in idx.chunks_by_author.get(a, ())]
        key = tuple(scope)
        if key not in self._vocabularies:
            self._vocabularies[key] = frozenset(
                t for c in scope for t in tokenize(idx.chunks[c].text)
            )
        return self._vocabularies[key]

    def _chunk_sentences(self, sid: int) -> tuple[int, ...]:
        return self.index.chunk_sentences[self._chunk_id(sid)]

    def citation(self, n: int, cand: Candidate, last: int | None = None) -> Citation:
        """Citation ``n`` of ``cand``'s sentence, or of the run of sentences from it to ``last``."""
        doc_id, span = self.index.sentences[cand.sentence_id]
        end = span.end if last is None else self.index.sentences[last][1].end
        doc = self.index.by_id[doc_id]
        chunk = self._chunk(cand.sentence_id)
        page, page_end = page_of(doc.pages, span.start, end)
        return Citation(
            n=n,
            doc_id=doc_id,
            title=doc.meta.title,
            path=str(doc.path),
            start=span.start,
            end=end,
            quote=doc.text[span.start : end],
            author=chunk.author,
            publisher=doc.meta.publisher,
            date=doc.meta.date,
            score=round(cand.score, 4),
            kind=chunk.kind,
            page=page,
            page_end=page_end,
        )

    def _is_name(self, word: str) -> bool:
        # A name that answers "who": always capitalised in the corpus, and not everywhere in it.
        if self._capital_shares.get(word.lower(), 1.0) < PROPER_SHARE:
            return False
        limit = max(3, RARE_SHARE * self.index.lexical.n_docs)
        return any(self.index.lexical.df.get(t, 0) <= limit for t in tokenize(word))

    @cached_property
    def _capital_shares(self) -> dict[str, float]:
        return capital_shares(self._text(i) for i in range(len(self.index.sentences)))

    def answer(
        self,
        question: str,
        query: str,
        retrieved: Retrieved,
        threshold: float | None = None,
        said: str = "",
        given: str = "",
    ) -> Answer:
        """Quote the sentences that answer ``question`` (searched as ``query``), or abstain.

        ``said`` is the previous answer's first quote: in a follow-up it steps back. ``given``
        is what a follow-up's pronoun stood for: its words need not be in the answer.
        """
        threshold = self.settings.abstain_threshold if threshold is None else threshold
        # Retrieval profiled the query; when it is the question as typed, that profile serves.
        prof = retrieved.profile if retrieved.profile and query == question else None
        prof = prof or self.profile(question)
        if given:
            known = set(tokenize(given))
            prof = replace(prof, terms=tuple(t for t in prof.terms if t not in known))
        ranked = self.candidates(retrieved, prof, normalise(said))
        if not ranked:
            return Answer(_NOTHING, (), True, query, question)
        chosen = self.select(ranked, prof)
        quoted_text = " ".join(self._text(c.sentence_id) for c in chosen)
        # Coverage counts only the lead's document: quotes from unrelated documents that each
        # hold one question word ("chemical" here, "gold" there) are no answer together.
        lead_doc = self._doc(chosen[0])
        quoted = set().union(
            *(self._sentence_tokens(c.sentence_id) for c in chosen if self._doc(c) == lead_doc)
        )
        # "Which drug..." is answered by "Captagon": the category word need not be quoted.
        wanted = [t for t in prof.terms if t != prof.category]
        unknown = len(self.unknown_terms(question, prof, quoted_text))
        signals = self.signals(prof, ranked, chosen, wanted, quoted, unknown)
        if self.probe is not None:
            self.probe(signals)
        confidence = self.scorer.confidence(signals)
        if confidence < threshold:
            related = tuple(self.citation(i + 1, c) for i, c in enumerate(ranked[:2]))
            text = _NOTHING + "\n\nRelated passages (not an answer):\n" + render(related)
            return Answer(text, (), True, query, question, related, confidence=confidence)
        ordered = sorted(chosen, key=lambda c: self._order_key(c, chosen[0]))
        citations = tuple(
            self.citation(i + 1, c, last) for i, (c, last) in enumerate(self._runs(ordered))
        )
        return Answer(render(citations), citations, False, query, question, confidence=confidence)


_NOTHING = "The documents don't answer this question."
_ELSE = frozenset({"else", "other", "others", "another", "more", "besides"})
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
_WORDY = re.compile(r"[^\W\d_]{2,}")  # a word of two letters or more: a sentence to quote
