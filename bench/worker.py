"""One bench job in a fresh process: ``python -m bench.worker JOB '{"arg": ...}'``.

The result is printed as one JSON line, last, so logs above it do not matter. A fresh process
per job keeps peak memory (``ru_maxrss``) and import state separate between jobs.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path

from bench.common import DATA


def _build(corpus: str, index_dir: str, save_vectors: bool = False) -> dict:
    from bench.indexing import build

    out = build(Path(corpus), Path(index_dir))
    if save_vectors:
        from bench.scale import save_real_vectors

        out["saved_real_vectors"] = save_real_vectors(Path(index_dir))
    return out


def _reindex(corpus: str, workdir: str, index_from: str | None = None) -> dict:
    from bench.indexing import reindex

    return reindex(Path(corpus), Path(workdir), Path(index_from) if index_from else None)


def _reopen(corpus: str, index_dir: str) -> dict:
    from bench.indexing import reopen_at_scale

    return reopen_at_scale(Path(corpus), Path(index_dir))


def _answer(corpus: str, index_dir: str) -> dict:
    from bench.latency import answer_latency

    return answer_latency(Path(corpus), Path(index_dir))


def _ingest(folder: str, chunk_size: int, overlap: int, texts_out: str | None = None) -> dict:
    from bench.common import peak_rss_mb
    from bench.ingest import chunk_rows, ingest

    metrics, chunks = ingest(Path(folder), chunk_size, overlap)
    if texts_out:
        Path(texts_out).write_text(json.dumps(chunk_rows(chunks)), encoding="utf-8")
    metrics["peak_rss_mb"] = peak_rss_mb()
    return metrics


def _scale(size: int, lexical_size: int) -> dict:
    from bench.scale import run

    return run(size, lexical_size)


def _milvus(size: int) -> dict:
    from bench.milvus import run

    return run(size)


def _peer_build(texts_file: str, store_dir: str) -> dict:
    from bench.peer import build

    rows = json.loads(Path(texts_file).read_text(encoding="utf-8"))
    return build([r["text"] for r in rows], [r["meta"] for r in rows], Path(store_dir))


def _peer_query(store_dir: str, questions: list[str]) -> dict:
    from bench.peer import query_latency

    return query_latency(Path(store_dir), questions)


def _profile(item: str, corpus: str, index_dir: str) -> dict:
    from bench.profiling import profile

    return profile(item, Path(corpus), Path(index_dir))


def _linear(sizes: list[int]) -> dict:
    from bench.linear import measure

    return measure(tuple(sizes))


def _big(
    mb: int, old_checkout: str | None = None, old_mb: int | None = None, default_full: bool = False
) -> dict:
    from bench.big import big

    return big(mb, Path(old_checkout) if old_checkout else None, old_mb, default_full)


def _resume(folder: str) -> dict:
    from bench.big import resume

    return resume(Path(folder))


def _export() -> dict:
    from bench.common import ONNX_CACHE
    from rag.onnx_encoder import OnnxEncoder
    from rag.settings import DEFAULT_MODEL

    encoder = OnnxEncoder.load_or_export(DEFAULT_MODEL, ONNX_CACHE, 32)
    return {"ok": encoder is not None, "cache": str(ONNX_CACHE)}


JOBS = {
    "build": _build,
    "reindex": _reindex,
    "reopen": _reopen,
    "answer": _answer,
    "ingest": _ingest,
    "scale": _scale,
    "peer_build": _peer_build,
    "peer_query": _peer_query,
    "profile": _profile,
    "export": _export,
    "linear": _linear,
    "big": _big,
    "resume": _resume,
    "milvus": _milvus,
}


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    job, kwargs = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    DATA.mkdir(parents=True, exist_ok=True)
    result = JOBS[job](**kwargs)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
