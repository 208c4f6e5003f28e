"""Hybrid search: dense (FAISS) and lexical (BM25) rankings fused by reciprocal rank fusion.

RRF scores a chunk ``sum(w / (rrf_k + rank))`` over the rankings it appears in, so neither
ranker's raw scale matters. The query is encoded once; the vector is returned with the hits so
answering reuses it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag.index import Index
from rag.lexical import tokenize
from rag.records import Hit
from rag.settings import Settings


@dataclass(frozen=True)
class Retrieved:
    """Fused hits, best first, plus what answering needs without recomputing it."""

    hits: tuple[Hit, ...]
    query_vector: np.ndarray  # (dim,) float32
    tokens: tuple[str, ...]


def rrf(rankings: list[tuple[list[int], float]], rrf_k: int) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of ranked id lists, each with a weight.

    Example:
        >>> rrf([([1, 2], 1.0), ([2, 3], 1.0)], rrf_k=60)[0][0]
        2
    """
    fused: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, item in enumerate(ids):
            fused[item] = fused.get(item, 0.0) + weight / (rrf_k + rank + 1)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


class Retriever:
    """Searches one index; ``encode_query(text) -> (dim,)`` is the only model call."""

    def __init__(
        self, index: Index, encode_query: Callable[[str], np.ndarray], settings: Settings
    ) -> None:
        self.index = index
        self.encode_query = encode_query
        self.settings = settings

    def retrieve(self, query: str, k: int | None = None) -> Retrieved:
        """The ``k`` best chunks for ``query`` (``Settings.candidates`` at least, for answering)."""
        s = self.settings
        k = k or s.k
        n = max(k, s.candidates)
        vector = self.encode_query(query)
        tokens = tuple(tokenize(query))
        _, dense_ids = self.index.vectors.search(vector, n)
        dense = [int(i) for i in dense_ids[0] if i >= 0]
        lexical_ids, _ = self.index.lexical.search(tokens, n)
        fused = rrf(
            [(dense, s.dense_weight), ([int(i) for i in lexical_ids], s.lexical_weight)], s.rrf_k
        )
        hits = tuple(self._hit(cid, score) for cid, score in fused[:n])
        return Retrieved(hits=hits, query_vector=vector, tokens=tokens)

    def _hit(self, chunk_id: int, score: float) -> Hit:
        c = self.index.chunks[chunk_id]
        doc = self.index.by_id[c.doc_id]
        return Hit(
            chunk_id=c.chunk_id,
            doc_id=c.doc_id,
            title=doc.meta.title,
            path=str(doc.path),
            start=c.start,
            end=c.end,
            text=c.text,
            score=float(score),
            author=c.author,
            publisher=doc.meta.publisher,
            kind=c.kind,
        )
