"""Build, update, save and load the index: FAISS, BM25, the chunk store and the manifest.

The index is a cache of the corpus. Its folder holds ``builds/<name>/`` and a ``current`` file
naming the live build; a new build is written beside it and ``current`` is swapped with an
atomic rename, so a crash mid-write leaves the previous build intact. The manifest records the
model, its dimension, the chunk settings, the pipeline version and a SHA-256 per file. On open:
an unchanged corpus is loaded with no embedding; changed files are re-embedded and the rest
reuse their vectors; a corrupt build or another model means a rebuild with a warning. A loaded
build's vectors are memory-mapped from its files, which are never rewritten in place. Beside
``builds/`` the folder may hold ``text-cache/``, the corpus's HTML text by content hash (see
``rag.text_cache``; ``load_folder(corpus, text_cache=root / "text-cache")``).

Every sentence is embedded (answering quotes the best ones) and, with
``Settings.embed_chunks``, every chunk too; otherwise a chunk's vector is the normalised mean of
its sentences'. Both go to the encoder in one stream, each distinct text once.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.chunking import chunk_document
from rag.documents import CorpusError
from rag.embedding import Encoder
from rag.lexical import LexicalIndex
from rag.records import Chunk, Document, Span
from rag.segments import segment
from rag.settings import Settings
from rag.vectors import VectorStore

log = logging.getLogger(__name__)

PIPELINE_VERSION = 9  # bump when segmentation, chunking or token rules change: vectors are dropped


@dataclass(frozen=True)
class Manifest:
    version: int
    model: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    files: dict[str, str]  # doc_id -> sha256
    embed_chunks: bool = True
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


def _key(settings: Settings, docs: tuple[Document, ...]) -> dict[str, object]:
    return {
        "version": PIPELINE_VERSION,
        "model": settings.model,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "embed_chunks": settings.embed_chunks,
        "files": {d.doc_id: d.sha256 for d in docs},
    }


def _read_build(folder: Path, docs: tuple[Document, ...], settings: Settings) -> Index:
    manifest = Manifest(**json.loads((folder / "manifest.json").read_text(encoding="utf-8")))
    store = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
    sent_rows = store["sentences"]
    sentences = tuple((doc_id, Span(a, b)) for doc_id, a, b in sent_rows)
    vectors = _mapped(folder / "sentence_vectors.npy")
    if vectors.shape != (len(sentences), manifest.dim):
        raise ValueError(f"sentence vectors {vectors.shape} do not match the store")
    by_id = {d.doc_id: d for d in docs}
    chunks, chunk_sentences = [], []
    for c in store["chunks"]:
        doc = by_id.get(c["doc_id"])  # None when the file left the corpus: only reused, never shown
        ids = tuple(c["sentences"])
        spans = tuple(sentences[i][1] for i in ids)
        text = doc.text[c["start"] : c["end"]] if doc is not None else ""
        chunks.append(
            Chunk(
                c["chunk_id"],
                c["doc_id"],
                c["start"],
                c["end"],
                text,
                c["author"],
                c["kind"],
                spans,
            )
        )
        chunk_sentences.append(ids)
    chunk_vectors = _mapped(folder / "chunk_vectors.npy")
    store_vectors = VectorStore.load(folder / "faiss.index", settings)
    if store_vectors.size != len(chunks) or len(chunk_vectors) != len(chunks):
        raise ValueError("the FAISS index and the chunk store disagree")
    sentence_store = VectorStore.load(folder / "sentences.faiss", settings)
    if sentence_store.size != len(sentences):
        raise ValueError("the sentence FAISS index and the sentence store disagree")
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


@contextmanager
def _gc_paused():
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


def _current(root: Path) -> Path | None:
    pointer = root / "current"
    if not pointer.is_file():
        return None
    return root / "builds" / pointer.read_text(encoding="utf-8").strip()


def open_index(
    root: Path,
    docs: tuple[Document, ...],
    settings: Settings,
    encoder_factory,
    progress: bool = False,
) -> Index:
    """Load the index under ``root`` if it matches ``docs`` and ``settings``, else (re)build it.

    ``encoder_factory()`` is called only when something must be embedded.
    """
    previous: Index | None = None
    folder = _current(root)
    if folder is not None:
        try:
            with _gc_paused():
                previous = _read_build(folder, docs, settings)
        except Exception as err:  # noqa: BLE001 - any damage means a rebuild, never a crash
            log.warning("index at %s is corrupt or unreadable (%s); rebuilding", folder, err)
    key = _key(settings, docs)
    if previous is not None:
        m = asdict(previous.manifest)
        if all(m[k] == v for k, v in key.items()):
            return previous
        if m["model"] != settings.model or m["version"] != PIPELINE_VERSION:
            log.warning(
                "index at %s was built with model %r (pipeline v%s); rebuilding for %r (v%s)",
                root, m["model"], m["version"], settings.model, PIPELINE_VERSION,
            )  # fmt: skip
            previous = None
        else:
            changed = sorted(k for k, v in key["files"].items() if m["files"].get(k) != v)
            other = [f"{k}={m[k]!r}" for k in key if k != "files" and m[k] != key[k]]
            if other:  # a stale cache from other settings is worth a warning, not a silent rebuild
                log.warning("index at %s was built with %s; rebuilding", root, ", ".join(other))
            log.info("corpus changed (%d files); updating the index", len(changed))
    return _build(root, docs, settings, encoder_factory, previous, progress)


def _build(root, docs, settings, encoder_factory, previous, progress) -> Index:
    # Reuse a sentence's vector when its file's content hash and its span are unchanged.
    reuse: dict[tuple[str, int, int], np.ndarray] = {}
    reuse_chunks: dict[tuple[str, int, int], np.ndarray] = {}
    if previous is not None:
        for i, (doc_id, span) in enumerate(previous.sentences):
            sha = previous.manifest.files.get(doc_id)
            reuse[(sha, span.start, span.end)] = previous.sentence_vectors[i]
        if previous.manifest.embed_chunks == settings.embed_chunks:
            for c, row in zip(previous.chunks, previous.chunk_vectors, strict=True):
                reuse_chunks[(previous.manifest.files.get(c.doc_id), c.start, c.end)] = row
    chunks: list[Chunk] = []
    totals = {"posts": 0, "chrome_lines": 0, "requotes": 0}
    for doc in docs:
        seg = segment(doc)
        totals["posts"] += seg.posts
        totals["chrome_lines"] += seg.chrome_lines
        totals["requotes"] += seg.requotes
        chunks += chunk_document(
            doc, seg.segments, settings.chunk_size, settings.chunk_overlap, len(chunks)
        )
    if not chunks:
        raise CorpusError(
            "nothing to index: once page chrome is dropped, no document holds any text "
            f"({', '.join(d.doc_id for d in docs)})"
        )
    sha_of = {d.doc_id: d.sha256 for d in docs}
    text_of = {d.doc_id: d.text for d in docs}
    sentence_ids: dict[tuple[str, int, int], int] = {}
    chunk_sentences = []
    for c in chunks:
        ids = []
        for s in c.sentences:
            ids.append(sentence_ids.setdefault((c.doc_id, s.start, s.end), len(sentence_ids)))
        chunk_sentences.append(tuple(ids))
    sentences = tuple((d, Span(a, b)) for (d, a, b) in sentence_ids)
    todo = [i for i, (d, sp) in enumerate(sentences) if (sha_of[d], sp.start, sp.end) not in reuse]
    todo_chunks = [
        i
        for i, c in enumerate(chunks)
        if settings.embed_chunks and (sha_of[c.doc_id], c.start, c.end) not in reuse_chunks
    ]
    encoder: Encoder | None = encoder_factory() if todo or todo_chunks else None
    dim = encoder.dim if encoder is not None else previous.manifest.dim
    vectors = np.zeros((len(sentences), dim), dtype=np.float32)
    for i, (d, sp) in enumerate(sentences):
        row = reuse.get((sha_of[d], sp.start, sp.end))
        if row is not None:
            vectors[i] = row
    chunk_vectors = np.zeros((len(chunks), dim), dtype=np.float32)
    if todo or todo_chunks:  # sentences and chunks in one stream: a text is encoded once
        texts = [text_of[d][sp.start : sp.end] for d, sp in (sentences[i] for i in todo)]
        encoded = _encode(texts + [chunks[i].text for i in todo_chunks], encoder, progress)
        vectors[todo] = encoded[: len(todo)]
        chunk_vectors[todo_chunks] = encoded[len(todo) :]
    for i, c in enumerate(chunks):
        if settings.embed_chunks:
            row = reuse_chunks.get((sha_of[c.doc_id], c.start, c.end))
        else:
            row = _mean(vectors[list(chunk_sentences[i])])
        if row is not None:
            chunk_vectors[i] = row
    manifest = Manifest(
        **{**_key(settings, docs), "dim": dim},  # type: ignore[arg-type]
        chunks=len(chunks),
        sentences=len(sentences),
        **totals,
    )
    index = Index(
        manifest=manifest,
        documents=docs,
        chunks=tuple(chunks),
        sentences=sentences,
        sentence_vectors=vectors,
        chunk_vectors=chunk_vectors,
        chunk_sentences=tuple(chunk_sentences),
        vectors=VectorStore.build(chunk_vectors, settings),
        lexical=LexicalIndex().fit(c.text for c in chunks),
        sentence_store=VectorStore.build(vectors, settings),
        embedded=len(todo) + len(todo_chunks),
    )
    _write(root, index)
    return index


def _mean(rows: np.ndarray) -> np.ndarray:
    v = rows.mean(axis=0)
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _encode(texts: list[str], encoder: Encoder, progress: bool) -> np.ndarray:
    """(len(texts), dim) vectors, each distinct text encoded once.

    Pages repeat themselves (python-doc: 12% of sentences and chunks are another's text, e.g. a
    one-sentence chunk), and a text's vector does not depend on where it stands. Texts go to
    the encoder shortest first, in calls of ``step``: a batch pads to its longest text.
    """
    unique = list(dict.fromkeys(texts))
    row_of = {t: i for i, t in enumerate(unique)}
    order = sorted(range(len(unique)), key=lambda i: len(unique[i]))
    out = np.zeros((len(unique), encoder.dim), dtype=np.float32)
    step = 2048  # large calls keep both cores busy; the bar moves once per call
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), desc="embedding", unit="text")
    for at in range(0, len(order), step):
        ids = order[at : at + step]
        out[ids] = encoder.encode([unique[i] for i in ids])
        if bar is not None:
            bar.update(round(len(ids) * len(texts) / len(unique)))
    if bar is not None:
        bar.close()
    return out[[row_of[t] for t in texts]]


def _write(root: Path, index: Index) -> None:
    """Write a new build, then swap the ``current`` pointer atomically and drop old builds."""
    builds = root / "builds"
    name = uuid.uuid4().hex[:12]
    tmp = builds / f".tmp-{name}"
    tmp.mkdir(parents=True, exist_ok=True)
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
    # The manifest goes last: a build without one is never read.
    (tmp / "manifest.json").write_text(json.dumps(asdict(index.manifest)), encoding="utf-8")
    os.replace(tmp, builds / name)
    pointer = root / f".current-{name}"
    pointer.write_text(name, encoding="utf-8")
    os.replace(pointer, root / "current")
    for old in builds.iterdir():
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
