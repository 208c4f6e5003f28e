"""Hybrid search: dense (FAISS) and lexical (BM25) rankings fused by reciprocal rank fusion.

RRF scores a chunk ``sum(w / (rrf_k + rank))`` over the rankings it appears in, so neither
ranker's raw scale matters. Three rankings take part:
- dense: chunk vectors by cosine to the query;
- sentences: chunks by their best sentence's cosine. A one-sentence fact ("$388 billion in
  damage") is diluted in a 900-character chunk's vector but stands out as a sentence;
- lexical: BM25 over the question's content terms (frame words such as "according to" and the
  names of sources dropped, misspellings mapped to corpus words) when a ``Profile`` is given.
A question that names a source ("according to Syria Daily", "what did bristolboy say") or asks
about the comments is scoped: that source's chunks, ranked by cosine, join the fusion and come
first. The query is encoded once; the vector is returned with the hits so answering reuses it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from rag.index import Index
from rag.lexical import tokenize
from rag.question import Profile
from rag.readers.pages import page_of
from rag.records import Hit
from rag.settings import Settings
from rag.stores import LocalStore, PassageStore


@dataclass(frozen=True)
class Retrieved:
    """Fused hits, best first, plus what answering needs without recomputing it."""

    hits: tuple[Hit, ...]
    query_vector: np.ndarray  # (dim,) float32
    tokens: tuple[str, ...]
    profile: Profile | None = None  # the query's, when retrieval was given one


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
    """Searches one index through its store (``rag.stores``: in-process unless given another);
    ``encode_query(text) -> (dim,)`` is the only model call."""

    def __init__(
        self,
        index: Index,
        encode_query: Callable[[str], np.ndarray],
        settings: Settings,
        store: PassageStore | None = None,
    ) -> None:
        self.index = index
        self.encode_query = encode_query
        self.settings = settings
        self.store = store or LocalStore(index)

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        profile: Profile | None = None,
        keep: int | None = None,
    ) -> Retrieved:
        """The ``k`` best chunks for ``query`` (``Settings.candidates`` at least, for answering).

        ``profile`` (from ``Answerer.profile(query)``) gives the lexical terms and the scope;
        ``keep`` caps the hits returned (each ranking still looks ``candidates`` deep).
        """
        s = self.settings
        k = k or s.k
        n = max(k, s.candidates)
        vector = self.encode_query(query)
        tokens = tuple(profile.terms if profile and profile.terms else tokenize(query))
        dense = self.store.dense(vector, n)
        lexical = self.store.lexical(tokens, n)
        foreign = {**dense.foreign, **lexical.foreign}  # passages another server indexed
        rankings = [(list(dense.ids), s.dense_weight), (list(lexical.ids), s.lexical_weight)]
        if s.sentence_weight > 0:
            rankings.append((self._by_sentence(vector, n), s.sentence_weight))
        scope = self.scope(profile) if s.scope_sources and profile else frozenset()
        if scope:
            ids = np.fromiter(sorted(scope), dtype=np.int64)
            sims = self.index.chunk_vectors[ids] @ vector
            rankings.append(([int(ids[i]) for i in np.argsort(-sims)[:n]], s.dense_weight))
        fused = rrf(rankings, s.rrf_k)
        if scope:  # the named source's words first: stable, so each part keeps its fused order
            fused = [f for f in fused if f[0] in scope] + [f for f in fused if f[0] not in scope]
        hits = tuple(
            replace(foreign[cid], score=float(score)) if cid < 0 else self._hit(cid, score)
            for cid, score in fused[: min(n, keep or n)]
        )
        return Retrieved(hits=hits, query_vector=vector, tokens=tokens, profile=profile)

    def _by_sentence(self, vector: np.ndarray, n: int) -> list[int]:
        # Three sentences per wanted chunk: neighbours often share a chunk.
        sentence_ids = self.store.sentences(vector, 3 * n).ids
        chunks = self.index.sentence_chunks
        ranked = (c for sid in sentence_ids for c in chunks.get(sid, ()))
        return list(dict.fromkeys(ranked))[:n]

    def scope(self, profile: Profile) -> frozenset[int]:
        """Chunk ids of the sources a question names, or of the comments it asks about.

        Example:
            >>> retriever.scope(answerer.profile("What did Syria Daily report?"))  # doctest: +SKIP
            frozenset({56, 57, 58, 59, 60})
        """
        idx = self.index
        if profile.sources or profile.authors:
            named = [idx.chunks_by_doc.get(d, ()) for d in profile.sources]
            named += [idx.chunks_by_author.get(a, ()) for a in profile.authors]
            return frozenset(c for group in named for c in group)
        return idx.comment_chunks if profile.wants_forum else frozenset()

    def _hit(self, chunk_id: int, score: float) -> Hit:
        c = self.index.chunks[chunk_id]
        doc = self.index.by_id[c.doc_id]
        page, page_end = page_of(doc.pages, c.start, c.end)
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
            page=page,
            page_end=page_end,
        )
