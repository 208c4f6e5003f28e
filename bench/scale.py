"""Search latency and recall at 100k and 1M passages, one size per process (peak RSS apart).

Dense: synthetic vectors blended from real python-doc chunk and sentence vectors
(``bench.synthetic``) go through the core's ``VectorStore.build`` (exact below
``Settings.exact_below``, HNSW above, with the product's HNSW parameters; ``RAG_HNSW_*``
variables try others) and ``search``. Queries are real: ~8-word snippets of
python-doc chunks, encoded by the ONNX encoder. Recall@10 compares the store's top 10 with brute
force; epsilon-recall also counts results within 0.01 cosine of the true 10th (near-ties).

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
REAL_VECTORS = DATA / "pydoc_vectors.npy"  # chunk + sentence vectors of the python-doc build
QUERIES = 200
EF_SWEEP = (128, 256, 384, 512)  # efSearch values tried on the same HNSW graph
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


def _inputs() -> tuple[list[str], np.ndarray, bool, object, list[str], np.ndarray]:
    """(chunk texts, centres, whether they are real, encoder, query texts, query vectors)."""
    from rag.onnx_encoder import OnnxEncoder
    from rag.settings import DEFAULT_MODEL

    texts = [row["text"] for row in json.loads(CHUNK_TEXTS.read_text(encoding="utf-8"))]
    real = REAL_VECTORS.is_file()
    centres = np.load(REAL_VECTORS) if real else random_centres(4_000, 384)
    encoder = OnnxEncoder.load_or_export(DEFAULT_MODEL, ONNX_CACHE, 32)
    queries = query_texts(texts, QUERIES)
    return texts, centres, real, encoder, queries, encoder.encode(queries)


def run(size: int, lexical_size: int) -> dict:
    """Build both sides at ``size`` (lexical at ``lexical_size``) and time single queries."""
    from rag.lexical import LexicalIndex, tokenize
    from rag.retrieval import rrf
    from rag.settings import Settings
    from rag.vectors import VectorStore

    settings = Settings.from_env()  # the defaults, unless RAG_* variables say otherwise
    texts, centres, real, encoder, queries, query_vectors = _inputs()
    out: dict = {"size": size, "real_centres": real, "centres": len(centres)}

    started = time.perf_counter()
    vectors = clustered_vectors(size, centres)
    out["generate_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    store = VectorStore.build(vectors, settings)
    out["dense_build_s"] = round(time.perf_counter() - started, 1)
    out["dense_kind"] = store.kind
    truth, truth_scores = exact_top_k(vectors, query_vectors, 10)
    out["dense"], out["recall_at_10"], out["recall_at_10_eps"] = _dense_pass(
        lambda v, k: store.search(v, k), query_vectors, truth, truth_scores
    )
    if store.kind == "hnsw":
        out["hnsw"] = {
            "M": settings.hnsw_m,
            "efSearch": settings.hnsw_ef_search,
            "efConstruction": settings.hnsw_ef_construction,
        }
        # The store exposes efSearch only through Settings at build time; the sweep reaches
        # into its FAISS index to try other values on the same graph.
        out["ef_sweep"] = ef_sweep(store._index, query_vectors, truth, truth_scores)
    else:
        out["numpy_exact"] = numpy_exact(vectors, query_vectors)
    del vectors  # the store holds its own copy; free ~1.5 GB before the lexical side

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


def numpy_exact(vectors: np.ndarray, queries: np.ndarray) -> dict:
    """Exact top-10 by one BLAS matrix-vector product per query: the flat store's alternative.

    The store scans a single query on one thread (see ``VectorStore.search``); numpy's BLAS
    uses both cores, which is faster on idle cores and slower on busy ones.
    """
    times = []
    for v in queries:
        started = time.perf_counter()
        scores = vectors @ v
        top = np.argpartition(-scores, 10)[:10]
        top[np.argsort(-scores[top])]
        times.append(time.perf_counter() - started)
    return summarize(times)


def _dense_pass(search, queries, truth, truth_scores) -> tuple[dict, float, float]:
    """Latency summary, recall@10 and epsilon-recall@10 of single-query dense searches."""
    times, ids, scores = [], [], []
    for v in queries:
        started = time.perf_counter()
        s, i = search(v, 10)
        times.append(time.perf_counter() - started)
        ids.append(i[0])
        scores.append(s[0])
    recall = recall_at_k(np.array(ids), truth)
    within = recall_within(np.array(scores), truth_scores, EPS)
    return summarize(times), round(recall, 4), round(within, 4)


def ef_sweep(index, queries: np.ndarray, truth: np.ndarray, truth_scores: np.ndarray) -> list:
    """Recall@10 and latency of a FAISS HNSW index per ``efSearch``; restores it after."""
    default = index.hnsw.efSearch
    rows = []
    for ef in EF_SWEEP:
        index.hnsw.efSearch = ef
        latency, recall, within = _dense_pass(
            lambda v, k: index.search(v[None, :], k), queries, truth, truth_scores
        )
        rows.append(
            {"ef_search": ef, "recall_at_10": recall, "recall_at_10_eps": within, **latency}
        )
    index.hnsw.efSearch = default
    return rows


def save_real_vectors(index_dir: Path) -> int:
    """Copy a built index's chunk and sentence vectors to ``REAL_VECTORS``; returns how many.

    Both are embeddings of real text (~12k for the 2,000-chunk sample), so blends of them
    stay on the real embeddings' manifold. Reads the core's saved files
    (``builds/<current>/faiss.index`` and ``sentence_vectors.npy``), so it depends on the index
    layout; the scale step falls back to random centres if nothing was saved.
    """
    import faiss

    build = index_dir / "builds" / (index_dir / "current").read_text(encoding="utf-8").strip()
    index = faiss.read_index(str(build / "faiss.index"))
    parts = [index.reconstruct_n(0, index.ntotal)]
    if (build / "sentence_vectors.npy").is_file():
        parts.append(np.load(build / "sentence_vectors.npy"))
    vectors = np.ascontiguousarray(np.vstack(parts), dtype=np.float32)
    vectors = vectors[np.linalg.norm(vectors, axis=1) > 0.5]  # drop any all-zero placeholder
    np.save(REAL_VECTORS, vectors)
    return len(vectors)
