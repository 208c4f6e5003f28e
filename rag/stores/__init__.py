"""Where passages are searched: in this process (FAISS + bm25s, the default) or in Milvus.

``open_store(index, settings, origin)`` picks the back end from ``Settings.store``
(``RAG_STORE``): empty for the in-process store, ``milvus://host:port/collection`` for a
Milvus server (Standalone, Distributed, or the ``milvus-lite`` server in tests). Retrieval
speaks only ``PassageStore``'s verbs.

Example:
    >>> open_store(index, Settings(), origin=Path(".rag_index")).kind  # doctest: +SKIP
    'local'
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from rag.index_records import Index
from rag.settings import Settings
from rag.stores.base import PassageStore, Ranking, passage_key
from rag.stores.local import LocalStore

__all__ = ["LocalStore", "PassageStore", "Ranking", "open_store", "passage_key", "scoped"]


def open_store(index: Index, settings: Settings, origin: Path | None = None) -> PassageStore:
    """The store ``settings.store`` names, holding ``index``'s passages.

    ``origin`` (the index folder) marks the files this process put in a shared store, so a
    file removed from its corpus is removed from the store and another process's files stay.

    Raises:
        ValueError: an unknown store URL.
    """
    url = settings.store.strip()
    if not url or url == "local":
        return LocalStore(index)
    if url.startswith("milvus://"):
        from rag.stores.milvus import MilvusStore

        return MilvusStore.connect(url, index, settings, origin)
    raise ValueError(f"unknown store {url!r}: use milvus://host:port/collection or nothing")


def scoped(url: str, key: str) -> str:
    """``url`` with a collection of its own for ``key`` (a corpus folder); "" stays "".

    Example:
        >>> scoped("milvus://db:19530/docs", "/data/a")
        'milvus://db:19530/docs_0f6d4e4c'
        >>> scoped("", "/data/a")
        ''
    """
    if not url.strip() or url.strip() == "local":
        return url
    tag = hashlib.blake2b(key.encode(), digest_size=4).hexdigest()
    base = url.strip().rstrip("/")
    return f"{base}_{tag}" if base.count("/") > 2 else f"{base}/rag_{tag}"
