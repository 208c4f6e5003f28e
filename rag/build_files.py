"""One build folder on disk: write it whole, then swap it in; read it back, checked.

Layout of an index folder ``root``::

    builds/<name>/   chunks.json, sentence_vectors.npy, chunk_vectors.npy, faiss.index,
                     sentences.faiss, lexical/, checksums.json, manifest.json (written last)
    current          the live build's name, swapped by an atomic rename
    verified         the build last checked in full (rag.checksums)
    build.lock       the one-writer lock (rag.build_lock)
    vector-cache/    vectors by text hash (rag.vector_cache)

``write_build`` runs under the build lock: it writes ``builds/.tmp-<name>/``, renames it, swaps
``current``, then removes what no live writer can own: the build ``current`` named before and
the temporary folders and pointers of killed builds. A failed write (a full disk, a read-only
folder) removes its own temporary folder and raises ``IndexWriteError``; ``current`` still names
the previous build. ``read_build`` checks checksums and structure and raises on any damage.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path

import numpy as np

from rag import checksums
from rag.build_lock import IndexWriteError
from rag.index_records import Index, Manifest
from rag.lexical import LexicalIndex
from rag.records import Chunk, Document, Span
from rag.settings import Settings
from rag.vectors import VectorStore

log = logging.getLogger(__name__)

SAMPLED_ROWS = 1024  # rows checked for finite values on a quick load


class DamagedBuild(ValueError):
    """A build's files disagree with their checksums or with each other."""


def current(root: Path) -> Path | None:
    """The live build's folder, or None before the first build."""
    pointer = root / "current"
    if not pointer.is_file():
        return None
    return root / "builds" / pointer.read_text(encoding="utf-8").strip()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: reading a build makes ~1M small objects (spans,
    chunks, JSON rows) and none of them form cycles, but the collector would rescan them over
    and over (at 214k sentences: 1.2-2.0 s to read with it, 0.6 s without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _mapped(path: Path) -> np.ndarray:
    """A saved array, memory-mapped read-only: opening copies nothing, pages load on use."""
    return np.asarray(np.load(path, mmap_mode="r"))


def _finite(x: np.ndarray, full: bool) -> bool:
    # A full check reads every row (it follows a full hash, so the pages are warm); otherwise
    # SAMPLED_ROWS evenly spaced rows, so a quick load stays quick at any size.
    rows = x if full or len(x) <= SAMPLED_ROWS else x[:: len(x) // SAMPLED_ROWS]
    return bool(np.isfinite(rows).all())


def read_build(
    folder: Path, docs: tuple[Document, ...], settings: Settings, full: bool = False
) -> Index:
    """The build in ``folder``; ``DamagedBuild`` (or any read error) when it is damaged."""
    if (folder / checksums.SUMS).is_file():
        problems = checksums.verify(folder, full)
        if problems:
            raise DamagedBuild("; ".join(problems[:3]))
    manifest = Manifest(**json.loads((folder / "manifest.json").read_text(encoding="utf-8")))
    store = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
    sentences = tuple((doc_id, Span(a, b)) for doc_id, a, b in store["sentences"])
    vectors = _mapped(folder / "sentence_vectors.npy")
    if vectors.shape != (len(sentences), manifest.dim):
        raise DamagedBuild(f"sentence vectors {vectors.shape} do not match the store")
    by_id = {d.doc_id: d for d in docs}
    chunks, chunk_sentences = [], []
    for c in store["chunks"]:
        doc = by_id.get(c["doc_id"])  # None when the file left the corpus: only reused, never shown
        ids = tuple(c["sentences"])
        spans = tuple(sentences[i][1] for i in ids)
        start, end = c["start"], c["end"]
        if doc is None or doc.sha256 != manifest.files.get(doc.doc_id):
            doc = None  # a changed file: its old spans are reuse keys only, checked no further
        if doc is not None and not 0 <= start < end <= len(doc.text):
            raise DamagedBuild(f"chunk {c['chunk_id']} [{start}:{end}] is outside its document")
        if any(s.start < start or s.end > end for s in spans):
            raise DamagedBuild(f"chunk {c['chunk_id']} has a sentence outside it")
        text = doc.text[start:end] if doc is not None else ""
        chunks.append(
            Chunk(c["chunk_id"], c["doc_id"], start, end, text, c["author"], c["kind"], spans)
        )
        chunk_sentences.append(ids)
    chunk_vectors = _mapped(folder / "chunk_vectors.npy")
    if not (_finite(vectors, full) and _finite(chunk_vectors, full)):
        raise DamagedBuild("the vectors hold NaN or infinite values")
    store_vectors = VectorStore.load(folder / "faiss.index", settings)
    if store_vectors.size != len(chunks) or len(chunk_vectors) != len(chunks):
        raise DamagedBuild("the FAISS index and the chunk store disagree")
    sentence_store = VectorStore.load(folder / "sentences.faiss", settings)
    if sentence_store.size != len(sentences):
        raise DamagedBuild("the sentence FAISS index and the sentence store disagree")
    return Index(
        manifest=manifest,
        documents=docs,
        chunks=tuple(chunks),
        sentences=sentences,
        sentence_vectors=vectors,
        chunk_vectors=chunk_vectors,
        chunk_sentences=tuple(chunk_sentences),
        vectors=store_vectors,
        lexical=LexicalIndex.load(folder / "lexical"),
        sentence_store=sentence_store,
    )


def write_build(root: Path, index: Index) -> str:
    """Write ``index`` as a new build and make it current (call under the build lock)."""
    builds = root / "builds"
    before = current(root)
    name = uuid.uuid4().hex[:12]
    tmp = builds / f".tmp-{name}"
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        _write_files(tmp, index)
        os.replace(tmp, builds / name)
        pointer = root / f".current-{name}"
        pointer.write_text(name, encoding="utf-8")
        os.replace(pointer, root / "current")
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        with suppress(OSError):
            (root / f".current-{name}").unlink(missing_ok=True)
        if current(root) == builds / name:  # only the old build's removal failed: committed
            return name
        shutil.rmtree(builds / name, ignore_errors=True)
        kept = f"; the build {before.name} stays in service" if before else ""
        raise IndexWriteError(f"could not write the index in {root}: {err}{kept}") from err
    if before is not None and before.name != name:
        shutil.rmtree(before, ignore_errors=True)
    remove_stale(root, keep=name)
    return name


def _write_files(tmp: Path, index: Index) -> None:
    store = {
        "sentences": [[d, sp.start, sp.end] for d, sp in index.sentences],
        "chunks": [
            {
                "chunk_id": c.chunk_id,
                "doc_id": c.doc_id,
                "start": c.start,
                "end": c.end,
                "author": c.author,
                "kind": c.kind,
                "sentences": list(ids),
            }
            for c, ids in zip(index.chunks, index.chunk_sentences, strict=True)
        ],
    }
    (tmp / "chunks.json").write_text(json.dumps(store), encoding="utf-8")
    np.save(tmp / "sentence_vectors.npy", index.sentence_vectors)
    np.save(tmp / "chunk_vectors.npy", index.chunk_vectors)
    index.vectors.save(tmp / "faiss.index")
    index.sentence_store.save(tmp / "sentences.faiss")
    index.lexical.save(tmp / "lexical")
    checksums.record(tmp)
    # The manifest goes last: a build without one is never read.
    (tmp / "manifest.json").write_text(json.dumps(asdict(index.manifest)), encoding="utf-8")


def remove_stale(root: Path, keep: str | None = None) -> None:
    """Remove what killed builds left: temporary folders and pointers, and any build that is
    not ``keep`` (the current one). Only under the build lock: no other writer is alive."""
    if keep is None:
        live = current(root)
        keep = live.name if live is not None else None
    builds = root / "builds"
    if builds.is_dir():
        for folder in builds.iterdir():
            if folder.name != keep:
                shutil.rmtree(folder, ignore_errors=True)
    for pointer in root.glob(".current-*"):
        with suppress(OSError):
            pointer.unlink()
