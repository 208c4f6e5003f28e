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

Every sentence is embedded (answering quotes the best ones) and, with
``Settings.embed_chunks``, every chunk too; otherwise a chunk's vector is the normalised mean of
its sentences'. Both go to the encoder in one stream, each distinct text once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from rag import checksums
from rag.build_files import current, gc_paused, read_build, remove_stale, write_build
from rag.build_lock import build_lock
from rag.chunking import chunk_document
from rag.documents import CorpusError
from rag.embedding import Encoder
from rag.index_records import Index, Manifest
from rag.lexical import LexicalIndex
from rag.records import Chunk, Document, Span
from rag.segments import segment
from rag.settings import Settings
from rag.vector_cache import VectorCache, cache_folder, digest
from rag.vectors import VectorStore

log = logging.getLogger(__name__)

PIPELINE_VERSION = 9  # bump when segmentation, chunking or token rules change: vectors are dropped


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


def _bar(progress: bool, **kwargs):
    """A tqdm line (counts, rate, ETA) when asked for and stderr is a terminal, else None."""
    if not progress:
        return None
    from tqdm import tqdm

    bar = tqdm(disable=None, dynamic_ncols=True, **kwargs)  # disable=None: off when not a TTY
    return None if bar.disable else bar


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
    bar = _bar(progress, total=sum(len(d.text) for d in docs), desc="segmenting", unit="char",
               unit_scale=True)  # fmt: skip
    for doc in docs:
        seg = segment(doc)
        totals["posts"] += seg.posts
        totals["chrome_lines"] += seg.chrome_lines
        totals["requotes"] += seg.requotes
        chunks += chunk_document(
            doc, seg.segments, settings.chunk_size, settings.chunk_overlap, len(chunks)
        )
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
    cache = VectorCache(cache_folder(root, settings.model))
    cache.remove_temporary()
    texts = [text_of[d][sp.start : sp.end] for d, sp in (sentences[i] for i in todo)]
    texts += [chunks[i].text for i in todo_chunks]
    encoded, embedded = _encode(texts, encoder_factory, cache, settings.encode_step, progress)
    if encoded is not None:
        dim = encoded.shape[1]
    else:
        dim = previous.manifest.dim if previous is not None else cache.dim
    vectors = np.zeros((len(sentences), dim), dtype=np.float32)
    for i, (d, sp) in enumerate(sentences):
        row = reuse.get((sha_of[d], sp.start, sp.end))
        if row is not None:
            vectors[i] = row
    chunk_vectors = np.zeros((len(chunks), dim), dtype=np.float32)
    if encoded is not None:  # sentences and chunks in one stream: a text is encoded once
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
    bar = _bar(progress, total=4, desc="indexing", unit="step")
    started = time.perf_counter()
    index = Index(
        manifest=manifest,
        documents=docs,
        chunks=tuple(chunks),
        sentences=sentences,
        sentence_vectors=vectors,
        chunk_vectors=chunk_vectors,
        chunk_sentences=tuple(chunk_sentences),
        vectors=_step(bar, "chunk vectors", VectorStore.build, chunk_vectors, settings),
        lexical=_step(bar, "BM25", lambda: LexicalIndex().fit(c.text for c in chunks)),
        sentence_store=_step(bar, "sentence vectors", VectorStore.build, vectors, settings),
        embedded=embedded,
        from_cache=len(texts) - embedded,
    )
    name = _step(bar, "writing", write_build, root, index)
    index.folder = root / "builds" / name
    if bar is not None:
        bar.set_postfix_str(f"build {name} in {time.perf_counter() - started:.1f} s")
        bar.close()
    _keep_in_cache(cache, sentences, text_of, vectors, chunks, chunk_vectors, settings)
    return index


def _step(bar, what: str, fn, *args):
    """``fn(*args)``, shown on the stage's progress line as it starts and when it is done."""
    if bar is not None:
        bar.set_postfix_str(what)
    out = fn(*args)
    if bar is not None:
        bar.update(1)
    return out


def _keep_in_cache(cache, sentences, text_of, vectors, chunks, chunk_vectors, settings) -> None:
    """Every vector of the committed build in the cache (some came from an older build), then
    the shards merged when many: a damaged build is rebuilt without the encoder."""
    keys = [digest(text_of[d][sp.start : sp.end]) for d, sp in sentences]
    rows = [vectors]
    if settings.embed_chunks:
        keys += [digest(c.text) for c in chunks]
        rows.append(chunk_vectors)
    missing = [i for i, k in enumerate(keys) if not cache.has(k)]
    try:
        if missing:
            cache.add([keys[i] for i in missing], np.concatenate(rows)[missing])
        cache.compact(keys)
    except OSError as err:  # the build is committed; the cache only saves work later
        log.warning("could not update the vector cache in %s: %s", cache.folder, err)


def _mean(rows: np.ndarray) -> np.ndarray:
    v = rows.mean(axis=0)
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _encode(
    texts: list[str], encoder_factory, cache: VectorCache, step: int, progress: bool
) -> tuple[np.ndarray | None, int]:
    """((len(texts), dim) vectors or None when there are no texts, how many were encoded).

    Each distinct text is looked up in the vector cache first; the misses go to the encoder
    shortest first, ``step`` at a time (a batch pads to its longest text), and each call's
    vectors become one cache shard before the next call, so a kill loses one call's work.
    Pages repeat themselves (python-doc: 12% of sentences and chunks are another's text), and a
    text's vector does not depend on where it stands.
    """
    if not texts:
        return None, 0
    unique = list(dict.fromkeys(texts))
    keys = [digest(t) for t in unique]
    count = {}  # unique row -> how many of ``texts`` it stands for
    for t in texts:
        count[t] = count.get(t, 0) + 1
    found, cached = cache.fetch(keys)
    done = set(found)
    misses = sorted((i for i in range(len(unique)) if i not in done), key=lambda i: len(unique[i]))
    encoder: Encoder | None = encoder_factory() if misses else None
    if encoder is not None and found and encoder.dim != cache.dim:
        log.warning("the vector cache has dim %s, the encoder %s; not using it", cache.dim,
                    encoder.dim)  # fmt: skip
        found, misses = [], sorted(range(len(unique)), key=lambda i: len(unique[i]))
    dim = encoder.dim if encoder is not None else cache.dim
    out = np.zeros((len(unique), dim), dtype=np.float32)
    if found:
        out[found] = cached
    embedded = sum(count[unique[i]] for i in misses)
    bar = _bar(progress, total=len(misses), desc="embedding", unit="text", initial=0)
    if bar is not None and found:
        bar.set_postfix(cached=len(found), refresh=False)
    for at in range(0, len(misses), max(1, step)):
        ids = misses[at : at + max(1, step)]
        rows = encoder.encode([unique[i] for i in ids])
        out[ids] = rows
        cache.add([keys[i] for i in ids], rows)
        if bar is not None:
            bar.update(len(ids))
    if bar is not None:
        bar.close()
    row_of = {t: i for i, t in enumerate(unique)}
    return out[[row_of[t] for t in texts]], embedded
