"""The store interface: three rankings over the passages (chunks) and sentences of an index.

Ids are the index's own: chunk ids for ``dense`` and ``lexical``, sentence ids for
``sentences``. A shared store may also hold passages this process has not indexed (another
app server added them): those come back as ``Ranking.foreign`` hits under negative ids, so
search shows them with their exact offsets while answering quotes only what it has indexed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from rag.records import Hit


@dataclass(frozen=True)
class Ranking:
    """Ids best first; ``foreign`` gives the hit of each negative id."""

    ids: tuple[int, ...]
    foreign: Mapping[int, Hit] = field(default_factory=dict)


def passage_key(doc_id: str, start: int, end: int) -> str:
    """A passage's id in a shared store: stable across builds and processes.

    Example:
        >>> passage_key("a.txt", 0, 10) == passage_key("a.txt", 0, 10)
        True
        >>> len(passage_key("a.txt", 0, 10))
        32
    """
    return hashlib.blake2b(f"{doc_id}\x1f{start}\x1f{end}".encode(), digest_size=16).hexdigest()


def foreign_id(key: str) -> int:
    """A negative id for a passage this process has not indexed, the same in every ranking.

    Example:
        >>> foreign_id(passage_key("a.txt", 0, 10)) < 0
        True
    """
    return -1 - int(key[:15], 16)


class PassageStore(Protocol):
    """Dense, sentence and lexical search over one index's passages."""

    kind: str  # "local" or "milvus"

    def dense(self, vector: np.ndarray, n: int) -> Ranking:
        """Chunks by cosine to ``vector`` (dim,)."""
        ...

    def sentences(self, vector: np.ndarray, n: int) -> Ranking:
        """Sentences by cosine to ``vector``."""
        ...

    def lexical(self, tokens: Sequence[str], n: int) -> Ranking:
        """Chunks by BM25 over ``tokens`` (``rag.lexical.tokenize``'s)."""
        ...

    def close(self) -> None: ...
