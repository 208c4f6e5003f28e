"""The index's records: the ``Manifest`` of a build and the loaded ``Index``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.lexical import LexicalIndex
from rag.records import Chunk, Document, Span
from rag.vectors import VectorStore


@dataclass(frozen=True)
class Manifest:
    version: int
    model: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    files: dict[str, str]  # doc_id -> sha256
    embed_chunks: bool = True
    late_chunking: bool = False  # builds from before the setting embedded sentences on their own
    chunks: int = 0
    sentences: int = 0
    posts: int = 0
    chrome_lines: int = 0
    requotes: int = 0


@dataclass
class Index:
    """The loaded index: ``sentences[i]`` is ``(doc_id, Span)``; its vector is row ``i``."""

    manifest: Manifest
    documents: tuple[Document, ...]
    chunks: tuple[Chunk, ...]
    sentences: tuple[tuple[str, Span], ...]
    sentence_vectors: np.ndarray  # (n_sentences, dim) float32
    chunk_vectors: np.ndarray  # (n_chunks, dim) float32
    chunk_sentences: tuple[tuple[int, ...], ...]  # chunk_id -> sentence ids
    vectors: VectorStore
    lexical: LexicalIndex
    sentence_store: VectorStore  # FAISS over sentence_vectors: a chunk ranks by its best sentence
    embedded: int = 0  # how many texts this open had to encode (0 for a cached load)
    from_cache: int = 0  # how many texts this open took from the vector cache instead
    encoded_texts: int = 0  # inputs the encoder ran this open (chunk passes, texts on their own)
    encoded_chars: int = 0  # their characters: the encoder's work this open
    folder: Path | None = None  # the build folder it was read from or written to

    @cached_property
    def by_id(self) -> dict[str, Document]:
        """doc_id -> Document."""
        return {d.doc_id: d for d in self.documents}

    @cached_property
    def sentence_chunks(self) -> dict[int, tuple[int, ...]]:
        """sentence id -> the chunks holding it (overlaps put a sentence in two)."""
        out: dict[int, list[int]] = {}
        for chunk_id, ids in enumerate(self.chunk_sentences):
            for sid in ids:
                out.setdefault(sid, []).append(chunk_id)
        return {sid: tuple(chunks) for sid, chunks in out.items()}

    @cached_property
    def chunks_by_doc(self) -> dict[str, tuple[int, ...]]:
        """doc_id -> its chunk ids."""
        return _group(self.chunks, lambda c: c.doc_id)

    @cached_property
    def chunks_by_author(self) -> dict[str, tuple[int, ...]]:
        """Forum member -> the chunk ids of their posts (article chunks are under the doc)."""
        return _group((c for c in self.chunks if c.kind != "article"), lambda c: c.author)

    @cached_property
    def comment_chunks(self) -> frozenset[int]:
        """Chunk ids of forum posts and quoted comments: everything that is not the article."""
        return frozenset(c.chunk_id for c in self.chunks if c.kind != "article")


def _group(chunks, key) -> dict[str, tuple[int, ...]]:
    out: dict[str, list[int]] = {}
    for c in chunks:
        if key(c) is not None:
            out.setdefault(key(c), []).append(c.chunk_id)
    return {k: tuple(v) for k, v in out.items()}
