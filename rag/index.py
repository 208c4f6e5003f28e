"""Build, update and open the index: FAISS, BM25, the chunk store and the manifest.

The index is a cache of the corpus, kept in one folder (layout: ``rag.build_files``). The
manifest records the model, its dimension, the chunk settings, the pipeline version and a
SHA-256 per file. On open: an unchanged corpus is loaded with no embedding (its files checked
against their checksums, in full on the first load of a build); changed files are re-embedded
and the rest reuse their vectors; a damaged build or another model means a rebuild with a
warning (``rebuild=False``: an ``IndexDamaged`` error instead). Builds take the folder's
one-writer lock (``rag.build_lock``); a build that finds ``current`` refreshed by the writer it
waited for uses that build instead. Every vector is written to the vector cache
(``rag.vector_cache``) as it is computed, so a build killed at any point costs at most the
encoder call in flight. Beside ``builds/`` the folder may hold ``text-cache/``, the corpus's
HTML text by content hash (``load_folder(corpus, text_cache=root / "text-cache")``).

Every sentence has a vector (answering quotes the best ones) and, with ``Settings.embed_chunks``,
every chunk has its own; otherwise a chunk's vector is the normalised mean of its sentences'.
Where each comes from (the previous build, the vector cache, the encoder; a sentence pooled from
its chunk's pass with ``Settings.late_chunking``) is ``rag.build_vectors``' job.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, replace
from pathlib import Path

from rag import checksums
from rag.build_files import current, gc_paused, read_build, remove_stale, write_build
from rag.build_lock import build_lock
from rag.build_vectors import build_vectors, keep_in_cache
from rag.chunking import chunk_document
from rag.documents import CorpusError
from rag.index_records import Index, Manifest
from rag.lexical import LexicalIndex
from rag.parallel import ordered_map, worker_count, worth_it
from rag.progress import bar as _bar
from rag.records import Chunk, Document, Span
from rag.segments import segment
from rag.settings import Settings
from rag.vector_cache import VectorCache, cache_folder
from rag.vectors import VectorStore

log = logging.getLogger(__name__)

PIPELINE_VERSION = 11  # bump when segmentation, chunking or token rules change: vectors are dropped


class IndexDamaged(CorpusError):
    """The index's files are damaged and a rebuild was not allowed (``rebuild=False``)."""


_current = current  # the name tests and tools have used


def _key(settings: Settings, docs: tuple[Document, ...]) -> dict[str, object]:
    return {
        "version": PIPELINE_VERSION,
        "model": settings.model,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "embed_chunks": settings.embed_chunks,
        "late_chunking": settings.late_chunking,
        "files": {d.doc_id: d.sha256 for d in docs},
    }


def open_index(
    root: Path,
    docs: tuple[Document, ...],
    settings: Settings,
    encoder_factory,
    progress: bool = False,
    *,
    verify: bool = False,
    rebuild: bool = True,
    wait: bool = True,
) -> Index:
    """Load the index under ``root`` if it matches ``docs`` and ``settings``, else (re)build it.

    Args:
        encoder_factory: called only when something must be embedded.
        progress: one progress line per stage on stderr, when it is a terminal.
        verify: hash every file of the current build, as on its first load.
        rebuild: False raises ``IndexDamaged`` instead of rebuilding a damaged build.
        wait: False raises ``IndexBusy`` instead of waiting for another build.
    """
    root = Path(root)
    seen = current(root)
    previous, fresh = _load_current(root, docs, settings, verify, rebuild)
    if fresh:
        return previous
    with build_lock(root, wait):
        if current(root) != seen:  # another build finished while we waited: start from it
            previous, fresh = _load_current(root, docs, settings, False, rebuild)
            if fresh:
                return previous
        remove_stale(root)  # temporary folders of killed builds; only a lock holder may
        _remove_stale_exports(root)
        return _build(root, docs, settings, encoder_factory, previous, progress)


def _load_current(root, docs, settings, verify, rebuild) -> tuple[Index | None, bool]:
    """(the current build or None, whether it matches ``docs`` and ``settings`` as it is)."""
    folder = current(root)
    if folder is None:
        return None, False
    full = verify or not checksums.fully_verified(root, folder.name)
    try:
        with gc_paused():
            previous = read_build(folder, docs, settings, full)
    except Exception as err:  # noqa: BLE001 - any damage means a rebuild, never a crash
        if not rebuild:
            raise IndexDamaged(
                f"the index at {folder} is damaged ({err}); run `rag index` to rebuild it"
            ) from err
        log.warning("index at %s is corrupt or unreadable (%s); rebuilding", folder, err)
        return None, False
    previous.folder = folder
    if full and (folder / checksums.SUMS).is_file():
        checksums.mark_verified(root, folder.name)
    key = _key(settings, docs)
    m = asdict(previous.manifest)
    if all(m[k] == v for k, v in key.items()):
        return previous, True
    if m["model"] != settings.model or m["version"] != PIPELINE_VERSION:
        log.warning(
            "index at %s was built with model %r (pipeline v%s); rebuilding for %r (v%s)",
            root, m["model"], m["version"], settings.model, PIPELINE_VERSION,
        )  # fmt: skip
        return None, False
    changed = sorted(k for k, v in key["files"].items() if m["files"].get(k) != v)
    other = [f"{k}={m[k]!r}" for k in key if k != "files" and m[k] != key[k]]
    if other:  # a stale cache from other settings is worth a warning, not a silent rebuild
        log.warning("index at %s was built with %s; rebuilding", root, ", ".join(other))
    log.info("corpus changed (%d files); updating the index", len(changed))
    return previous, False


def _remove_stale_exports(root: Path) -> None:
    try:
        from rag.onnx_encoder import remove_stale_exports
    except ImportError:  # the optional backend is absent: nothing of it to clean
        return
    remove_stale_exports(root)


def _build(root, docs, settings, encoder_factory, previous, progress) -> Index:
    chunks: list[Chunk] = []
    totals = {"posts": 0, "chrome_lines": 0, "requotes": 0}
    bar = _bar(progress, total=sum(len(d.text) for d in docs), desc="segmenting", unit="char",
               unit_scale=True)  # fmt: skip
    workers = worker_count(settings.workers)
    size = sum(len(d.text) for d in docs)
    pool = workers if worth_it(workers, len(docs), size) else 1
    tasks = ((d, settings.chunk_size, settings.chunk_overlap) for d in docs)
    for doc, (counts, got) in zip(docs, ordered_map(segment_and_chunk, tasks, pool), strict=True):
        for k, v in counts.items():
            totals[k] += v
        first = len(chunks)  # ids count on across documents
        chunks += [replace(c, chunk_id=first + i) for i, c in enumerate(got)] if first else got
        if bar is not None:
            bar.update(len(doc.text))
            bar.set_postfix(chunks=len(chunks), refresh=False)
    if bar is not None:
        bar.close()
    if not chunks:
        raise CorpusError(
            "nothing to index: once page chrome is dropped, no document holds any text "
            f"({', '.join(d.doc_id for d in docs)})"
        )
    sentence_ids: dict[tuple[str, int, int], int] = {}
    chunk_sentences = []
    for c in chunks:
        ids = []
        for s in c.sentences:
            ids.append(sentence_ids.setdefault((c.doc_id, s.start, s.end), len(sentence_ids)))
        chunk_sentences.append(tuple(ids))
    sentences = tuple((d, Span(a, b)) for (d, a, b) in sentence_ids)
    cache = VectorCache(cache_folder(root, settings.model))
    cache.remove_temporary()
    got = build_vectors(
        chunks, chunk_sentences, sentences, docs, settings, previous, cache, encoder_factory,
        progress,
    )  # fmt: skip
    manifest = Manifest(
        **{**_key(settings, docs), "dim": got.rows.shape[1]},  # type: ignore[arg-type]
        chunks=len(chunks),
        sentences=len(sentences),
        **totals,
    )
    bar = _bar(progress, total=4, desc="indexing", unit="step")
    started = time.perf_counter()
    index = Index(
        manifest=manifest,
        documents=docs,
        chunks=tuple(chunks),
        sentences=sentences,
        sentence_vectors=got.sentences,
        chunk_vectors=got.chunks,
        chunk_sentences=tuple(chunk_sentences),
        vectors=_step(bar, "chunk vectors", VectorStore.build, got.chunks, settings),
        lexical=_step(bar, "BM25", lambda: LexicalIndex().fit(c.text for c in chunks)),
        sentence_store=_step(bar, "sentence vectors", VectorStore.build, got.sentences, settings),
        embedded=got.embedded,
        from_cache=got.from_cache,
        encoded_texts=got.encoded_texts,
        encoded_chars=got.encoded_chars,
    )
    name = _step(bar, "writing", write_build, root, index)
    index.folder = root / "builds" / name
    if bar is not None:
        bar.set_postfix_str(f"build {name} in {time.perf_counter() - started:.1f} s")
        bar.close()
    keep_in_cache(cache, got)
    return index


def segment_and_chunk(task: tuple[Document, int, int]) -> tuple[dict[str, int], list[Chunk]]:
    """(what segmentation dropped, the chunks numbered from 0) of one document; run in a worker
    process or here."""
    doc, size, overlap = task
    seg = segment(doc)
    counts = {"posts": seg.posts, "chrome_lines": seg.chrome_lines, "requotes": seg.requotes}
    return counts, chunk_document(doc, seg.segments, size, overlap)


def _step(bar, what: str, fn, *args):
    """``fn(*args)``, shown on the stage's progress line as it starts and when it is done."""
    if bar is not None:
        bar.set_postfix_str(what)
    out = fn(*args)
    if bar is not None:
        bar.update(1)
    return out
