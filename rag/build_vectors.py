"""The build's vectors: every sentence's and chunk's, reused, read from the cache, or encoded.

A row's vector comes from, in order: the previous build (same file hash and span, embedded the
same way), the vector cache (``rag.vector_cache``, by key), else the encoder. Two ways to embed
a sentence (``Settings.late_chunking``):

- on its own: each distinct sentence text is one more encoder input, beside each chunk;
- late (``rag.late_chunking``): pooled from the forward pass of the chunk that hosts it, so
  the encoder runs once per chunk and each token goes through it once (a sentence past its
  chunk's window is still encoded on its own).

Keys: a chunk's vector, and a sentence's encoded on its own, are filed under the digest of the
text (a text's vector does not depend on where it stands); a late sentence's under its host
chunk's digest and its span in that chunk, since it depends on that context. The misses go to
the encoder shortest first, ``Settings.encode_step`` characters a call (at least one input);
each call's vectors become one cache shard before the next call, so a kill loses one call's work
(~50,000 characters: a few seconds of encoding, whatever the corpus's size). A text that recurs
(python-doc pages repeat 12% of their sentences and chunks) is encoded once.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import numpy as np

from rag import late_chunking
from rag.build_lock import IndexWriteError
from rag.progress import bar as progress_bar
from rag.records import Chunk, Document, Span
from rag.settings import Settings
from rag.vector_cache import VectorCache, digest

log = logging.getLogger(__name__)


@dataclass
class Vectors:
    """The build's vectors, where they came from, and what the encoder did for them."""

    rows: np.ndarray  # (n_sentences + n_chunks, dim) float32: the sentences', then the chunks'
    sentences: np.ndarray  # a view of the first n_sentences rows
    chunks: np.ndarray  # a view of the rest
    keys: list[bytes]  # cache keys of the rows: each sentence's, then each embedded chunk's
    embedded: int = 0  # rows computed this load
    from_cache: int = 0  # rows read from the vector cache
    encoded_texts: int = 0  # encoder inputs: chunk passes and texts encoded on their own
    encoded_chars: int = 0  # the characters of those inputs: the encoder's work


def span_key(chunk_key: bytes, start: int, end: int) -> bytes:
    """The cache key of the span ``[start:end]`` of a chunk, pooled from that chunk's pass.

    Example:
        >>> span_key(digest("A b. C d."), 0, 4) == span_key(digest("A b. C d."), 5, 9)
        False
    """
    tail = b"late:%d:%d" % (start, end)
    return hashlib.blake2b(chunk_key + tail, digest_size=16).digest()


def embedded_like(manifest, settings: Settings) -> bool:
    """Whether an older build's sentence vectors are what ``settings`` would compute."""
    late = getattr(manifest, "late_chunking", False)
    if late != settings.late_chunking:
        return False
    same_chunks = (manifest.chunk_size, manifest.chunk_overlap) == (
        settings.chunk_size,
        settings.chunk_overlap,
    )  # a late vector depends on the chunk around it
    return same_chunks or not late


def build_vectors(
    chunks: list[Chunk],
    chunk_sentences: list[tuple[int, ...]],
    sentences: tuple[tuple[str, Span], ...],
    docs: tuple[Document, ...],
    settings: Settings,
    previous,
    cache: VectorCache,
    encoder_factory,
    progress: bool = False,
) -> Vectors:
    """Every row's vector; ``previous`` is the last build (an ``Index``) or None."""
    text_of = {d.doc_id: d.text for d in docs}
    sha_of = {d.doc_id: d.sha256 for d in docs}
    late = settings.late_chunking
    chunk_keys = [digest(c.text) for c in chunks]
    if late:
        host = late_chunking.hosts(chunk_sentences, len(sentences))
        sentence_keys = []
        for (_, span), h in zip(sentences, host, strict=True):
            c = chunks[h]
            sentence_keys.append(span_key(chunk_keys[h], span.start - c.start, span.end - c.start))
    else:
        sentence_keys = [digest(text_of[d][sp.start : sp.end]) for d, sp in sentences]
    keys = sentence_keys + (chunk_keys if settings.embed_chunks else [])
    rows = len(sentences) + len(chunks)

    # Rows reused from the previous build, by (file hash, start, end).
    reused: dict[int, np.ndarray] = {}
    if previous is not None:
        if embedded_like(previous.manifest, settings):
            old = {}
            for i, (doc_id, span) in enumerate(previous.sentences):
                old[(previous.manifest.files.get(doc_id), span.start, span.end)] = i
            for j, (d, sp) in enumerate(sentences):
                if (i := old.get((sha_of[d], sp.start, sp.end))) is not None:
                    reused[j] = previous.sentence_vectors[i]
        if settings.embed_chunks and previous.manifest.embed_chunks:
            old = {}
            for i, c in enumerate(previous.chunks):
                old[(previous.manifest.files.get(c.doc_id), c.start, c.end)] = i
            for i, c in enumerate(chunks):
                if (k := old.get((sha_of[c.doc_id], c.start, c.end))) is not None:
                    reused[len(sentences) + i] = previous.chunk_vectors[k]
    needed = [r for r in range(len(keys)) if r not in reused]
    first: dict[bytes, int] = {}  # key -> the first row that needs it
    for r in needed:
        first.setdefault(keys[r], r)
    wanted = list(first)
    found, cached = cache.fetch(wanted)
    known = {wanted[i] for i in found}
    misses = [k for k in wanted if k not in known]
    encoder = encoder_factory() if misses else None
    if encoder is not None and found and encoder.dim != cache.dim:
        log.warning("the vector cache has dim %s, the encoder %s; not using it", cache.dim,
                    encoder.dim)  # fmt: skip
        found, cached, known, misses = [], None, set(), wanted
    if encoder is not None:
        dim = encoder.dim
    elif found:
        dim = cached.shape[1]
    else:
        dim = previous.manifest.dim if previous is not None else cache.dim
    out = np.zeros((rows, dim), dtype=np.float32)
    for r, v in reused.items():
        out[r] = v
    if found:
        out[[first[wanted[i]] for i in found]] = cached
    del cached
    done = Vectors(out, out[: len(sentences)], out[len(sentences) :], keys)
    if misses:
        if late:
            jobs = _late_jobs(misses, first, chunks, chunk_keys, host, sentences, len(sentences))
        else:
            jobs = [(k, _text(first[k], chunks, sentences, text_of), ()) for k in misses]
        _run(jobs, encoder, cache, settings.encode_step, first, out, done, progress)
    for r in needed:  # rows whose key another row brought in
        if first[keys[r]] != r:
            out[r] = out[first[keys[r]]]
    done.embedded = sum(keys[r] not in known for r in needed)
    done.from_cache = len(needed) - done.embedded
    if not settings.embed_chunks:  # a chunk's vector is the normalised mean of its sentences'
        for i, ids in enumerate(chunk_sentences):
            v = done.sentences[list(ids)].mean(axis=0)
            done.chunks[i] = v / max(float(np.linalg.norm(v)), 1e-12)
    return done


def _text(row: int, chunks, sentences, text_of) -> str:
    if row < len(sentences):
        d, sp = sentences[row]
        return text_of[d][sp.start : sp.end]
    return chunks[row - len(sentences)].text


def _late_jobs(misses, first, chunks, chunk_keys, host, sentences, n_sentences) -> list:
    """One job per chunk text that a missing vector needs: (chunk key, text, spans with keys)."""
    jobs: dict[bytes, tuple[str, dict]] = {}
    for key in misses:
        row = first[key]
        if row >= n_sentences:  # a chunk's own vector
            c = row - n_sentences
            jobs.setdefault(chunk_keys[c], (chunks[c].text, {}))
            continue
        h = host[row]
        c, span = chunks[h], sentences[row][1]
        _, spans = jobs.setdefault(chunk_keys[h], (c.text, {}))
        spans[key] = (span.start - c.start, span.end - c.start)
    return [(k, text, tuple((a, b, sk) for sk, (a, b) in spans.items()))
            for k, (text, spans) in jobs.items()]  # fmt: skip


def _run(jobs, encoder, cache, step, first, out, done: Vectors, progress: bool) -> None:
    """Encode ``jobs`` shortest first, calls of ``step`` characters (at least one job each);
    each call's vectors one cache shard."""
    jobs.sort(key=lambda j: len(j[1]))
    line = progress_bar(progress, total=len(jobs), desc="embedding", unit="text")
    calls = _calls([len(text) for _, text, _ in jobs], step)
    for n, (at, end) in enumerate(calls, 1):
        batch = jobs[at:end]
        texts = [text for _, text, _ in batch]
        chars = sum(map(len, texts))
        log.info("encoder call %d/%d: %d texts, %d chars", n, len(calls), len(texts), chars)
        spans = [[(a, b) for a, b, _ in s] for _, _, s in batch]
        if any(spans):
            vectors, span_vectors, alone = late_chunking.encode(encoder, texts, spans)
        else:
            vectors, span_vectors, alone = encoder.encode(texts), None, []
        keys = [k for k, _, _ in batch]
        rows = [vectors]
        if span_vectors is not None:
            keys += [sk for _, _, s in batch for _, _, sk in s]
            rows.append(span_vectors)
        rows = np.concatenate(rows) if len(rows) > 1 else rows[0]
        for key, row in zip(keys, rows, strict=True):
            if (r := first.get(key)) is not None:
                out[r] = row
        try:
            cache.add(keys, rows)
        except OSError as err:  # a full disk: say so; the shards written so far are kept
            raise IndexWriteError(
                f"could not save vectors in {cache.folder}: {err}. Free some space and index "
                "again: the vectors saved so far are reused"
            ) from err
        done.encoded_texts += len(texts) + len(alone)
        done.encoded_chars += chars + sum(b - a for _, a, b in alone)
        if line is not None:
            line.update(len(batch))
    if line is not None:
        line.close()


def _calls(lengths: list[int], step: int) -> list[tuple[int, int]]:
    """``[start, end)`` runs of ``lengths`` holding at most ``step`` in all (or one item).

    Example:
        >>> _calls([3, 3, 3, 9, 1], 6)
        [(0, 2), (2, 3), (3, 4), (4, 5)]
    """
    out, start, size = [], 0, 0
    for i, n in enumerate(lengths):
        if i > start and size + n > step:
            out.append((start, i))
            start, size = i, 0
        size += n
    if start < len(lengths):
        out.append((start, len(lengths)))
    return out


def keep_in_cache(cache: VectorCache, vectors: Vectors) -> None:
    """Every vector of the committed build in the cache (some came from an older build), then
    the shards merged when many: a damaged build is rebuilt without the encoder."""
    missing = [i for i, k in enumerate(vectors.keys) if not cache.has(k)]
    try:
        if missing:
            cache.add([vectors.keys[i] for i in missing], vectors.rows[missing])
        cache.compact(vectors.keys, vectors.rows[: len(vectors.keys)])
    except OSError as err:  # the build is committed; the cache only saves work later
        log.warning("could not update the vector cache in %s: %s", cache.folder, err)
