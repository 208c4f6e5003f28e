"""Ingest a folder through the core (load, segment, chunk) and check every chunk's offsets.

This is the indexing path minus embedding: ``rag.documents.load_folder``, then
``rag.segments.segment`` and ``rag.chunking.chunk_document`` per document, as the index does.
"""

from __future__ import annotations

import time
from pathlib import Path


def ingest(folder: Path, chunk_size: int, overlap: int) -> tuple[dict, list]:
    """Load, segment and chunk every file through the core; check every chunk's offsets.

    Returns (metrics, chunks). A chunk is good when ``doc.text[start:end] == chunk.text``; for
    a sample of files the loader's ``read_text(path)`` is re-read from disk to prove the same
    offsets index the file's extracted text.
    """
    from rag.chunking import chunk_document
    from rag.documents import load_folder, read_text
    from rag.segments import segment

    started = time.perf_counter()
    docs = load_folder(folder)
    loaded = time.perf_counter()
    chunks = []
    for doc in docs:
        chunks += chunk_document(doc, segment(doc).segments, chunk_size, overlap, len(chunks))
    chunked = time.perf_counter()
    text_of = {d.doc_id: d.text for d in docs}
    bad = sum(text_of[c.doc_id][c.start : c.end] != c.text for c in chunks)
    bad_sentences = sum(
        not (c.start <= s.start < s.end <= c.end) for c in chunks for s in c.sentences
    )
    sample = docs[:: max(1, len(docs) // 25)]
    path_of = {d.doc_id: d.path for d in docs}
    reread = {d.doc_id: read_text(path_of[d.doc_id]) for d in sample}
    bad_reread = sum(
        reread[c.doc_id][c.start : c.end] != c.text for c in chunks if c.doc_id in reread
    )
    metrics = {
        "files": len(docs),
        "chars": sum(len(d.text) for d in docs),
        "chunks": len(chunks),
        "load_s": round(loaded - started, 2),
        "segment_chunk_s": round(chunked - loaded, 2),
        "ingest_chunks_per_s": round(len(chunks) / (chunked - started), 1),
        "offset_errors": bad + bad_sentences,
        "reread_sample_files": len(sample),
        "reread_offset_errors": bad_reread,
        "chunks_per_file": chunks_per_file(chunks),
    }
    return metrics, chunks


def chunks_per_file(chunks: list) -> dict[str, int]:
    """``doc_id -> how many chunks``, in name order."""
    counts: dict[str, int] = {}
    for c in chunks:
        counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
    return dict(sorted(counts.items()))


def chunk_rows(chunks: list) -> list[dict]:
    """Chunks as JSON rows: the text and where it comes from (for the peer's metadata)."""
    return [
        {"text": c.text, "meta": {"doc_id": c.doc_id, "start": c.start, "end": c.end}}
        for c in chunks
    ]
