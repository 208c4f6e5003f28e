"""Search latency and recall at 100k and 1M passages, one size per process (peak RSS apart).

Dense: synthetic vectors clustered around real python-doc chunk vectors (``bench.synthetic``)
go through the core's ``VectorStore.build`` (exact below ``Settings.exact_below``, HNSW above)
and ``search``. Queries are real: ~8-word snippets of python-doc chunks, encoded by the ONNX
encoder. Recall@10 compares the store's top 10 with brute force.

Lexical: the core's ``LexicalIndex`` (bm25s) fitted on spliced real chunk texts.

Hybrid: what one ``Assistant.search`` does per query before building hits: encode, dense top
``candidates``, lexical top ``candidates``, reciprocal rank fusion.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from bench.common import DATA, ONNX_CACHE, peak_rss_mb, summarize
from bench.synthetic import (
    clustered_vectors,
    exact_top_k,
    random_centres,
    recall_at_k,
    recall_within,
    spliced_texts,
)

CHUNK_TEXTS = DATA / "pydoc_chunks.json"  # rows {text, meta}, written by the python-doc ingest
CHUNK_VECTORS = DATA / "pydoc_chunk_vectors.npy"  # written after the python-doc build
QUERIES = 200
EPS = 0.01  # cosine slack for epsilon-recall: a miss this close to the 10th best is a near-tie


def query_texts(texts: list[str], n: int, seed: int = 7) -> list[str]:
    """``n`` snippets of 8 consecutive words from random texts (skipping tiny ones).

    Example:
        >>> query_texts(["one two three four five six seven eight nine ten"], 1)[0].count(" ")
        7
    """
    rng = np.random.default_rng(seed)
    usable = [t.split() for t in texts if len(t.split()) >= 12] or [t.split() for t in texts]
    out = []
    for i in rng.integers(0, len(usable), n).tolist():
        words = usable[i]
        at = int(rng.integers(0, max(1, len(words) - 8)))
        out.append(" ".join(words[at : at + 8]))
    return out


def run(size: int, lexical_size: int, hnsw_m: int | None = None) -> dict:
    """Build both sides at ``size`` (lexical at ``lexical_size``) and time single queries."""
    from rag.lexical import LexicalIndex, tokenize
    from rag.onnx_encoder import OnnxEncoder
    from rag.retrieval import rrf
    from rag.settings import DEFAULT_MODEL, Settings
    from rag.vectors import VectorStore

    settings = Settings() if hnsw_m is None else Settings(hnsw_m=hnsw_m)
    texts = [row["text"] for row in json.loads(CHUNK_TEXTS.read_text(encoding="utf-8"))]
    real = CHUNK_VECTORS.is_file()
    centres = np.load(CHUNK_VECTORS) if real else random_centres(4_000, 384)
    encoder = OnnxEncoder.load_or_export(DEFAULT_MODEL, ONNX_CACHE, 32)
    queries = query_texts(texts, QUERIES)
    query_vectors = encoder.encode(queries)
    out: dict = {"size": size, "real_centres": real, "centres": len(centres)}

    started = time.perf_counter()
    vectors = clustered_vectors(size, centres)
    out["generate_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    store = VectorStore.build(vectors, settings)
    out["dense_build_s"] = round(time.perf_counter() - started, 1)
    out["dense_kind"] = store.kind
    if store.kind == "hnsw":
        out["hnsw"] = {
            "M": settings.hnsw_m,
            "efSearch": settings.hnsw_ef_search,
            "efConstruction": max(40, settings.hnsw_m * 2),
        }
    truth, truth_scores = exact_top_k(vectors, query_vectors, 10)
    del vectors  # the store holds its own copy; free ~1.5 GB before the lexical side
    out["dense"], out["recall_at_10"], out["recall_at_10_eps"] = _dense_pass(
        store, query_vectors, truth, truth_scores
    )
    if store.kind == "hnsw":
        out["ef_sweep"] = ef_sweep(store, query_vectors, truth, truth_scores)

    started = time.perf_counter()
    lexical = LexicalIndex().fit(spliced_texts(lexical_size, texts))
    out["lexical_size"] = lexical_size
    out["lexical_build_s"] = round(time.perf_counter() - started, 1)
    lexical_times = []
    for q in queries:
        started = time.perf_counter()
        lexical.search(tokenize(q), settings.candidates)
        lexical_times.append(time.perf_counter() - started)
    out["lexical"] = summarize(lexical_times)

    hybrid_times = []
    n = settings.candidates
    for q in queries:
        started = time.perf_counter()
        v = encoder.encode([q])[0]
        _, dense_ids = store.search(v, n)
        lexical_ids, _ = lexical.search(tokenize(q), n)
        rrf([(dense_ids[0].tolist(), 1.0), (lexical_ids.tolist(), 1.0)], settings.rrf_k)
        hybrid_times.append(time.perf_counter() - started)
    out["hybrid"] = summarize(hybrid_times)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _dense_pass(store, queries, truth, truth_scores) -> tuple[dict, float, float]:
    """Latency summary, recall@10 and epsilon-recall@10 of single-query dense searches."""
    times, ids, scores = [], [], []
    for v in queries:
        started = time.perf_counter()
        s, i = store.search(v, 10)
        times.append(time.perf_counter() - started)
        ids.append(i[0])
        scores.append(s[0])
    recall = recall_at_k(np.array(ids), truth)
    within = recall_within(np.array(scores), truth_scores, EPS)
    return summarize(times), round(recall, 4), round(within, 4)


def ef_sweep(store, queries: np.ndarray, truth: np.ndarray, truth_scores: np.ndarray) -> list:
    """Recall@10 and latency for other HNSW ``efSearch`` values: what more recall would cost.

    Reaches into the store's FAISS index to change ``efSearch`` (the store exposes it only
    through Settings at build time), and restores it after.
    """
    index = store._index
    default = index.hnsw.efSearch
    rows = []
    for ef in (64, 128, 256, 512):
        index.hnsw.efSearch = ef
        latency, recall, within = _dense_pass(store, queries, truth, truth_scores)
        rows.append(
            {"ef_search": ef, "recall_at_10": recall, "recall_at_10_eps": within, **latency}
        )
    index.hnsw.efSearch = default
    return rows


def save_chunk_vectors(index_dir: Path) -> int:
    """Copy a built index's chunk vectors to ``CHUNK_VECTORS``; returns how many.

    Reads the core's saved FAISS file (``builds/<current>/faiss.index``), so it depends on the
    index layout; the scale step falls back to random centres if this file is missing.
    """
    import faiss

    current = (index_dir / "current").read_text(encoding="utf-8").strip()
    index = faiss.read_index(str(index_dir / "builds" / current / "faiss.index"))
    vectors = index.reconstruct_n(0, index.ntotal)
    np.save(CHUNK_VECTORS, np.ascontiguousarray(vectors, dtype=np.float32))
    return int(index.ntotal)
