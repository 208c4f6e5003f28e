"""Score any answerer on an eval set, item by item, then aggregate and slice.

An answerer is an ``Assistant`` (anything with ``.ask(question, history=...)``) or a callable
``(question, history) -> Answer``. When it also has ``.search(query, k)`` retrieval is scored.
Writing reports and comparing runs is ``rag.report``'s job; this module only measures.
Metric definitions live in ``eval/README.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from time import perf_counter

import numpy as np

from rag.conversation import replay
from rag.dataset import EvalItem, Evidence, facts_found
from rag.documents import read_text
from rag.faithfulness import LexicalNumericChecker, SupportChecker, faithfulness
from rag.records import Answer, Citation

Answerer = Callable[[str, list[str]], Answer]
MRR_DEPTH = 10


@dataclass(frozen=True)
class ItemResult:
    """What one eval item scored. ``None`` means the measure does not apply to this item."""

    id: str
    tags: tuple[str, ...]
    turns: int
    question: str
    query: str
    answerable: bool
    abstained: bool
    confidence: float
    text: str
    citations: tuple[Citation, ...]
    latency_ms: float
    correct: bool  # answerable: answered with every key fact; unanswerable: abstained
    crag: int  # +1 correct, 0 abstained on an answerable item, -1 wrong
    facts_found: int
    facts_total: int
    quotes_exact: int  # over citations and related passages
    quotes_total: int
    evidence_precision: float | None
    evidence_recall: float | None
    hit_rank: int | None  # 1-based rank of the first hit on gold in the top 10; 0 = none
    recall_at_k: float | None
    supported: int  # answer sentences backed by their cited quotes
    sentences: int
    semantic: float | None = None
    error: str | None = None
    lead_facts: bool = False  # answered, and the first quote alone holds every key fact
    quote_facts: bool = False  # answered, and the quotes (not the framing) hold every key fact
    quoted_words: int = 0  # words in the answer's quotes: a whole paragraph cannot look good
    page_correct: bool | None = None  # the first citation on a gold quote shows its gold page


@dataclass(frozen=True)
class Metrics:
    """Aggregates over a set of items; ``None`` when no item in the set is eligible."""

    n: int
    answerable: int
    unanswerable: int
    hit_at_1: float | None
    hit_at_k: float | None
    recall_at_k: float | None
    mrr_at_10: float | None
    quote_exactness: float | None
    evidence_precision: float | None
    evidence_recall: float | None
    page_accuracy: float | None
    key_fact_recall: float | None
    key_fact_accuracy: float | None
    answer_in_lead_quote: float | None
    answer_in_quotes: float | None
    quoted_words: float | None
    semantic: float | None
    faithfulness: float | None
    correct_rejection: float | None
    false_refusal: float | None
    crag_score: float | None
    accuracy: float | None
    multi_turn_accuracy: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    errors: int


@dataclass(frozen=True)
class EvalResult:
    """A whole run: per-item records, overall metrics and slices by tag and by turn count."""

    name: str
    k: int
    items: tuple[ItemResult, ...]
    overall: Metrics
    by_tag: dict[str, Metrics]
    by_turns: dict[str, Metrics]
    seconds: float


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def aggregate(items: Sequence[ItemResult], k: int) -> Metrics:
    """Metrics over ``items``; retrieval only over items where it was measured."""
    ans = [r for r in items if r.answerable]
    una = [r for r in items if not r.answerable]
    ranked = [r for r in ans if r.hit_rank is not None]
    multi = [r for r in items if r.turns > 1]
    lat = [r.latency_ms for r in items]
    return Metrics(
        n=len(items),
        answerable=len(ans),
        unanswerable=len(una),
        hit_at_1=_mean([r.hit_rank == 1 for r in ranked]),
        hit_at_k=_mean([0 < r.hit_rank <= k for r in ranked]),
        recall_at_k=_mean([r.recall_at_k for r in ranked]),
        mrr_at_10=_mean([1 / r.hit_rank if r.hit_rank else 0.0 for r in ranked]),
        quote_exactness=_share(
            sum(r.quotes_exact for r in items), sum(r.quotes_total for r in items)
        ),
        evidence_precision=_mean(
            [r.evidence_precision for r in ans if r.evidence_precision is not None]
        ),
        evidence_recall=_mean([r.evidence_recall for r in ans]),
        page_accuracy=_mean([r.page_correct for r in ans if r.page_correct is not None]),
        key_fact_recall=_mean([r.facts_found / r.facts_total for r in ans]),
        key_fact_accuracy=_mean([r.correct for r in ans]),
        answer_in_lead_quote=_mean([r.lead_facts for r in ans]),
        answer_in_quotes=_mean([r.quote_facts for r in ans]),
        quoted_words=_mean([r.quoted_words for r in items if r.citations and not r.abstained]),
        semantic=_mean([r.semantic for r in ans if r.semantic is not None]),
        faithfulness=_share(sum(r.supported for r in items), sum(r.sentences for r in items)),
        correct_rejection=_mean([r.abstained for r in una]),
        false_refusal=_mean([r.abstained for r in ans]),
        crag_score=_mean([r.crag for r in items]),
        accuracy=_mean([r.correct for r in items]),
        multi_turn_accuracy=_mean([r.correct for r in multi]),
        latency_p50_ms=float(np.percentile(lat, 50)) if lat else None,
        latency_p95_ms=float(np.percentile(lat, 95)) if lat else None,
        errors=sum(r.error is not None for r in items),
    )


class _Files:
    """Corpus files' texts by citation path, read once as the index reads them (a PDF's
    extracted text, via ``rag.documents.read_text``); a missing file reads as ``None``."""

    def __init__(self, corpus_dir: Path | None) -> None:
        self.corpus_dir = corpus_dir
        self.texts: dict[str, str | None] = {}

    def text(self, path: str) -> str | None:
        if path not in self.texts:
            candidates = [Path(path)]
            if self.corpus_dir is not None and not Path(path).is_absolute():
                candidates.append(self.corpus_dir / Path(path).name)
            found = next((p for p in candidates if p.is_file()), None)
            self.texts[path] = read_text(found) if found else None
        return self.texts[path]

    def exact(self, c: Citation) -> bool:
        text = self.text(c.path)
        return text is not None and 0 <= c.start <= c.end and text[c.start : c.end] == c.quote


def as_answerer(answerer: object) -> Answerer:
    """The ``(question, history) -> Answer`` form of an assistant or a callable."""
    ask = getattr(answerer, "ask", None)
    if callable(ask):
        return lambda question, history: ask(question, history=history)
    if callable(answerer):
        return answerer
    raise TypeError(f"not an answerer: {answerer!r}")


def _answer(ask: Answerer, item: EvalItem) -> tuple[Answer, float, str | None]:
    started = perf_counter()
    try:
        history = replay(ask, item.history)  # earlier turns as a chat user lived them
        started = perf_counter()  # the latency is the scored turn's alone
        answer, error = ask(item.question, history), None
    except Exception as err:  # one broken item must not hide the other ninety
        answer = Answer(text="", citations=(), abstained=False, query=item.question)
        error = f"{type(err).__name__}: {err}"
    return answer, (perf_counter() - started) * 1000, error


def _retrieval(search: Callable, item: EvalItem, query: str, k: int) -> tuple[int, float]:
    hits = search(query, max(k, MRR_DEPTH))
    ranks = [i for i, h in enumerate(hits[:MRR_DEPTH], 1) if item.on_gold(h.doc_id, h.start, h.end)]
    covered = sum(
        any(ev.touches(h.doc_id, h.start, h.end) for h in hits[:k]) for ev in item.evidence
    )
    return (ranks[0] if ranks else 0), covered / len(item.evidence)


def gold_page_shown(evidence: Sequence[Evidence], cites: Sequence[Citation]) -> bool | None:
    """Whether the first citation on a gold quote with a ``page`` shows that page (as its first
    or last page); ``None`` when no gold quote states a page. No such citation scores False.

    Example:
        >>> from types import SimpleNamespace as C
        >>> gold = [Evidence("m.pdf", "q", ((100, 120),), page=4)]
        >>> on, off = C(doc_id="m.pdf", start=90, end=110, page=3, page_end=4), C(
        ...     doc_id="m.pdf", start=0, end=50, page=1, page_end=1)
        >>> shown = gold_page_shown
        >>> shown(gold, [off, on]), shown(gold, [off]), shown([], [on])
        (True, False, None)
    """
    paged = [ev for ev in evidence if ev.page is not None]
    if not paged:
        return None
    for c in cites:
        gold = {ev.page for ev in paged if ev.touches(c.doc_id, c.start, c.end)}
        if gold:
            return c.page in gold or c.page_end in gold
    return False


def score_item(
    item: EvalItem,
    ask: Answerer,
    search: Callable | None,
    k: int,
    files: _Files,
    checker: SupportChecker,
) -> ItemResult:
    """Ask one item (earlier turns as history) and score the answer to its last turn."""
    answer, latency, error = _answer(ask, item)
    cites = answer.citations
    # Multi-turn retrieval is scored on the standalone query the answerer actually searched.
    query = (answer.query or item.question) if len(item.turns) > 1 else item.question
    rank, recall = None, None
    if search is not None and item.answerable:
        rank, recall = _retrieval(search, item, query, k)
    found = 0 if answer.abstained else facts_found(answer.text, item.key_facts)
    if item.answerable:
        correct = not answer.abstained and found == len(item.key_facts)
        crag = 0 if answer.abstained else (1 if correct else -1)
    else:
        correct = answer.abstained
        crag = 1 if correct else -1
    precision = recall_ev = None
    if item.answerable:
        gold = item.evidence
        recall_ev = sum(any(ev.touches(c.doc_id, c.start, c.end) for c in cites) for ev in gold)
        recall_ev /= len(gold)
        if cites:
            precision = sum(item.on_gold(c.doc_id, c.start, c.end) for c in cites) / len(cites)
    shown = cites + answer.related
    answered = item.answerable and not answer.abstained and bool(cites)
    every = len(item.key_facts)
    lead = answered and facts_found(cites[0].quote, item.key_facts) == every
    quoted = answered and facts_found(" … ".join(c.quote for c in cites), item.key_facts) == every
    supported, sentences = (0, 0) if answer.abstained else faithfulness(answer.text, cites, checker)
    return ItemResult(
        id=item.id,
        tags=item.tags,
        turns=len(item.turns),
        question=item.question,
        query=query,
        answerable=item.answerable,
        abstained=answer.abstained,
        confidence=answer.confidence,
        text=answer.text,
        citations=cites,
        latency_ms=latency,
        correct=correct,
        crag=crag,
        facts_found=found,
        facts_total=len(item.key_facts),
        quotes_exact=sum(files.exact(c) for c in shown),
        quotes_total=len(shown),
        evidence_precision=precision,
        evidence_recall=recall_ev,
        hit_rank=rank,
        recall_at_k=recall,
        supported=supported,
        sentences=sentences,
        error=error,
        lead_facts=lead,
        quote_facts=quoted,
        quoted_words=0 if answer.abstained else sum(len(c.quote.split()) for c in cites),
        page_correct=(
            None
            if not item.answerable
            else gold_page_shown(item.evidence, () if answer.abstained else cites)
        ),
    )


def _with_semantic(results: list[ItemResult], items: Sequence[EvalItem], encoder) -> None:
    # One batch each for answers and references: two encoder calls for the whole run.
    todo = [i for i, r in enumerate(results) if r.answerable and not r.abstained]
    if not todo:
        return
    got = encoder.encode([results[i].text for i in todo])  # (n, dim), L2-normalised
    ref = encoder.encode([items[i].answer for i in todo])
    for i, cos in zip(todo, np.sum(got * ref, axis=1), strict=True):
        results[i] = replace(results[i], semantic=float(cos))
    for i, r in enumerate(results):
        if r.answerable and r.abstained:
            results[i] = replace(r, semantic=0.0)


def slices(items: Sequence[ItemResult], k: int) -> tuple[dict[str, Metrics], dict[str, Metrics]]:
    """Metrics per tag and per turn count (keys are strings, as in JSON)."""
    tags = sorted({t for r in items for t in r.tags})
    by_tag = {t: aggregate([r for r in items if t in r.tags], k) for t in tags}
    turns = sorted({r.turns for r in items})
    by_turns = {str(n): aggregate([r for r in items if r.turns == n], k) for n in turns}
    return by_tag, by_turns


def evaluate(
    answerer: object,
    dataset: Sequence[EvalItem],
    *,
    k: int = 5,
    corpus_dir: Path | str | None = None,
    checker: SupportChecker | None = None,
    encoder: object | None = None,
    semantic: bool = True,
    name: str = "ours",
) -> EvalResult:
    """Ask every item and score the answers.

    Args:
        answerer: an ``Assistant`` or a ``(question, history) -> Answer`` callable; retrieval is
            scored when it has ``.search(query, k)``.
        dataset: items from ``load_dataset``.
        k: depth for hit@k and recall@k.
        corpus_dir: where to look for a cited file whose relative ``path`` does not resolve.
        checker: faithfulness checker; the lexical-numeric one by default.
        encoder: for the semantic score; the project's encoder is loaded once when not given.
        semantic: set False to skip the semantic score (and the encoder load).
        name: the label reports use for this run.
    """
    started = perf_counter()
    ask = as_answerer(answerer)
    search = getattr(answerer, "search", None)
    files = _Files(Path(corpus_dir) if corpus_dir is not None else None)
    checker = checker or LexicalNumericChecker()
    results = [score_item(item, ask, search, k, files, checker) for item in dataset]
    if semantic:
        if encoder is None:
            from rag.embedding import load_encoder
            from rag.settings import Settings

            encoder = load_encoder(Settings())
        _with_semantic(results, dataset, encoder)
    by_tag, by_turns = slices(results, k)
    overall = aggregate(results, k)
    return EvalResult(name, k, tuple(results), overall, by_tag, by_turns, perf_counter() - started)


@dataclass(frozen=True)
class ThresholdPoint:
    """Abstention at one threshold: an item abstains when its confidence is below it."""

    threshold: float
    correct_rejection: float | None
    false_refusal: float | None
    crag_score: float | None


def sweep(items: Sequence[ItemResult], grid: Sequence[float]) -> tuple[ThresholdPoint, ...]:
    """Replay abstention over ``grid`` from answers computed once with no threshold.

    Items that abstained anyway (no hits, empty question) abstain at every threshold.

    Example:
        >>> r = ItemResult("a", (), 1, "q", "q", False, False, 0.3, "", (), 1.0, False, -1,
        ...                0, 0, 0, 0, None, None, None, None, 0, 0)
        >>> [p.correct_rejection for p in sweep([r], [0.2, 0.4])]
        [0.0, 1.0]
    """
    points = []
    for t in grid:
        abstains = [r.abstained or r.confidence < t for r in items]
        una = [a for r, a in zip(items, abstains, strict=True) if not r.answerable]
        ans = [a for r, a in zip(items, abstains, strict=True) if r.answerable]
        crag = [
            (1 if a else -1) if not r.answerable else 0 if a else (1 if r.correct else -1)
            for r, a in zip(items, abstains, strict=True)
        ]
        points.append(ThresholdPoint(float(t), _mean(una), _mean(ans), _mean(crag)))
    return tuple(points)


def recommend(
    points: Sequence[ThresholdPoint], min_cr: float = 0.9, max_fr: float = 0.05
) -> ThresholdPoint | None:
    """The lowest threshold with correct rejection >= ``min_cr`` and false refusal <= ``max_fr``.

    Returns ``None`` when no threshold on the grid meets both.
    """
    for p in sorted(points, key=lambda p: p.threshold):
        if (p.correct_rejection or 0.0) >= min_cr and (p.false_refusal or 0.0) <= max_fr:
            return p
    return None
