"""The peer: LangChain's FAISS vector store with HuggingFaceEmbeddings, on the same chunks.

Same model folder (the bundled all-MiniLM-L6-v2), same chunk texts as our index, normalised
embeddings, LangChain's defaults otherwise (a flat L2 FAISS index, batch size 32, torch on CPU).
Build = embeddings object + ``FAISS.from_texts`` + ``save_local``; query = ``similarity_search``
with k=5; cold start = a fresh process that loads the saved store and runs one query.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

from bench.common import (
    MARK,
    PYTHON,
    child_env,
    cpu_seconds,
    median,
    peak_rss_mb,
    summarize,
    time_until_mark,
)

_COLD_CHILD = """
import sys
from langchain_community.vectorstores import FAISS
from langchain_huggingface import HuggingFaceEmbeddings
embeddings = HuggingFaceEmbeddings(model=sys.argv[2], model_kwargs={{"device": "cpu"}},
                                   encode_kwargs={{"normalize_embeddings": True}})
store = FAISS.load_local(sys.argv[1], embeddings, allow_dangerous_deserialization=True)
docs = store.similarity_search(sys.argv[3], k=5)
print(docs[0].page_content[:200])
print({mark!r}, flush=True)
"""


def embeddings():
    """LangChain's embeddings object over the bundled model folder."""
    from langchain_huggingface import HuggingFaceEmbeddings

    from rag.embedding import bundled_model_path

    return HuggingFaceEmbeddings(
        model=str(bundled_model_path()),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
    )


def build(texts: list[str], metadatas: list[dict], store_dir: Path) -> dict:
    """Embed the chunk texts into a LangChain FAISS store and save it."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    started, cpu = time.perf_counter(), cpu_seconds()
    from langchain_community.vectorstores import FAISS

    emb = embeddings()
    loaded = time.perf_counter()
    store = FAISS.from_texts(texts, emb, metadatas=metadatas)
    store.save_local(str(store_dir))
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    return {
        "seconds": round(seconds, 3),
        "model_load_s": round(loaded - started, 3),
        "chunks": len(texts),
        "chunks_per_s": round(len(texts) / seconds, 1),
        "cpu_s": round(cpu, 2),
        "chunks_per_cpu_s": round(len(texts) / max(cpu, 1e-9), 1),
        "peak_rss_mb": peak_rss_mb(),
    }


def query_latency(store_dir: Path, questions: list[str], passes: int = 2) -> dict:
    """p50/p95 of ``similarity_search(q, k=5)`` with the store loaded and warm."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from langchain_community.vectorstores import FAISS

    store = FAISS.load_local(str(store_dir), embeddings(), allow_dangerous_deserialization=True)
    store.similarity_search(questions[0], k=5)  # warm-up
    times = []
    for _ in range(passes):
        for q in questions:
            started = time.perf_counter()
            store.similarity_search(q, k=5)
            times.append(time.perf_counter() - started)
    return {"search": summarize(times), "peak_rss_mb": peak_rss_mb()}


def cold_start(store_dir: Path, question: str, runs: int = 3) -> dict:
    """Median seconds from spawning a process to its first LangChain search result."""
    from rag.embedding import bundled_model_path

    script = _COLD_CHILD.format(mark=MARK)
    cmd = [
        PYTHON,
        "-W",
        "ignore",
        "-c",
        script,
        str(store_dir),
        str(bundled_model_path()),
        question,
    ]
    timed = [time_until_mark(cmd, child_env()) for _ in range(runs)]
    return {
        "seconds": round(median([t["to_answer_s"] for t in timed]), 3),
        "runs_s": [round(t["to_answer_s"], 3) for t in timed],
    }
