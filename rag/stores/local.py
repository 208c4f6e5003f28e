"""The default store: the index's own FAISS indexes and BM25, in this process."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.index_records import Index
from rag.stores.base import Ranking


class LocalStore:
    """FAISS (chunks, sentences) and bm25s (chunks) of a loaded index.

    Example:
        >>> LocalStore(index).dense(vector, 5).ids  # doctest: +SKIP
        (12, 3, 40, 7, 8)
    """

    kind = "local"

    def __init__(self, index: Index) -> None:
        self.index = index

    def dense(self, vector: np.ndarray, n: int) -> Ranking:
        _, ids = self.index.vectors.search(vector, n)
        return Ranking(tuple(i for i in ids[0].tolist() if i >= 0))

    def sentences(self, vector: np.ndarray, n: int) -> Ranking:
        _, ids = self.index.sentence_store.search(vector, n)
        return Ranking(tuple(i for i in ids[0].tolist() if i >= 0))

    def lexical(self, tokens: Sequence[str], n: int) -> Ranking:
        ids, _ = self.index.lexical.search(tokens, n)
        return Ranking(tuple(ids.tolist()))

    def close(self) -> None:
        pass
