"""Search latency in a Milvus-protocol server next to in-process FAISS and bm25s, at 100k passages.

The server is ``milvus-lite``'s (``rag.stores.lite``), a single-process stand-in on this
machine: its figures are for the protocol round trip and the engine's search, not for a Milvus
cluster. Passages are synthetic: unit vectors on random centres (``bench.synthetic``) with texts
spliced from the wiki suite's paragraphs; the same rows go into both back ends through the
product's own code (``MilvusStore``'s schema and upserts; ``VectorStore`` and ``LexicalIndex``).
Queries: 200 vectors from the same centres, and 200 eight-word snippets as BM25 terms.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from bench.common import ROOT, summarize
from bench.scale import query_texts
from bench.synthetic import clustered_vectors, random_centres, spliced_texts

QUERIES = 200
DIM = 384


def _texts(n: int) -> list[str]:
    paras = [
        p.strip()
        for f in sorted((ROOT / "eval" / "wiki" / "corpus").glob("*.txt"))
        for p in f.read_text(encoding="utf-8").split("\n\n")
        if len(p.strip()) > 200
    ]
    return spliced_texts(n, paras)


def _timed(fn, items) -> dict[str, float]:
    seconds = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        seconds.append(time.perf_counter() - t)
    return summarize(seconds)


def run(size: int = 100_000) -> dict:
    """Insert ``size`` passages into both back ends; search latency of each, and agreement."""
    from rag.lexical import LexicalIndex, tokenize
    from rag.settings import Settings
    from rag.stores.base import passage_key
    from rag.stores.lite import MilvusServer
    from rag.stores.milvus import Address, MilvusStore, _client
    from rag.vectors import VectorStore

    centres = random_centres(64, DIM)
    vectors = clustered_vectors(size, centres, seed=3)
    texts = _texts(size)
    queries = clustered_vectors(QUERIES, centres, seed=9)
    terms = [tokenize(q) for q in query_texts(texts, QUERIES)]
    settings = Settings()
    out: dict[str, object] = {"passages": size, "queries": QUERIES, "server": "milvus-lite"}

    t = time.perf_counter()
    faiss_store, bm25 = VectorStore.build(vectors, settings), LexicalIndex().fit(texts)
    out["faiss_build_s"] = round(time.perf_counter() - t, 2)
    out["faiss_dense"] = _timed(lambda v: faiss_store.search(v, 30), queries)
    out["bm25s_lexical"] = _timed(lambda q: bm25.search(q, 30), terms)

    with tempfile.TemporaryDirectory() as tmp, MilvusServer(Path(tmp)) as url:
        address = Address.parse(f"{url}/bench")
        stub = SimpleNamespace(chunks=(), sentences=(), chunk_vectors=vectors[:1])
        store = MilvusStore(_client(address.uri), address, stub, settings)
        # As a process that indexed these passages: ids map back, no foreign rows to fetch.
        store._chunk_ids = {passage_key("bench", i, i + 1): i for i in range(size)}
        t = time.perf_counter()
        store._create(DIM)
        rows = (
            {"pk": passage_key("bench", i, i + 1), "doc_id": "bench", "title": "bench",
             "path": "bench", "span_start": i, "span_end": i + 1, "text": text,
             "terms": " ".join(tokenize(text)) or "_", "author": "", "publisher": "",
             "kind": "article", "page": 0, "page_end": 0, "dense": vectors[i].tolist()}
            for i, text in enumerate(texts)
        )  # fmt: skip
        store._upsert(store.chunks_name, rows)
        out["milvus_insert_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        while store.count() < size and time.perf_counter() - t < 300:
            time.sleep(0.5)  # rows become searchable once the server has sealed them
        out["milvus_dense"] = _timed(lambda v: store.dense(v, 30), queries)
        out["milvus_lexical"] = _timed(lambda q: store.lexical(q, 30), terms)
        agree = []
        for v in queries[:50]:
            _, ids = faiss_store.search(v, 10)
            agree.append(len(set(store.dense(v, 10).ids) & set(ids[0].tolist())) / 10)
        out["dense_top10_agreement"] = round(float(np.mean(agree)), 3)
        store.drop()
    return out
