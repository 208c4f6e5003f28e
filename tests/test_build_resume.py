"""A build killed with SIGKILL mid-embedding resumes: only the texts not yet cached are encoded.

A real ``rag index`` process (real model, real FAISS) is killed once the vector cache holds a
few shards; the second run must encode exactly the rest, and end with the index a clean build
makes: the same chunks, the same vectors, the same answers.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from rag import Assistant, Settings
from rag.vector_cache import FOLDER

WORDS = (
    "river bridge council harbour ferry orchard pear cider festival ticket mayor library "
    "engineer cable steel repair budget storm winter summer market bakery school station"
).split()
QUESTIONS = ("How much did the repair of the cable cost?", "When does the festival return?")


def write_corpus(folder: Path, files: int = 4, paragraphs: int = 5) -> Path:
    """Small files of distinct multi-sentence paragraphs: no chunk is also a sentence's text,
    so texts counted by the index and texts in the cache are the same number."""
    folder.mkdir(parents=True)
    n = 0
    for f in range(files):
        paras = []
        for _ in range(paragraphs):
            sentences = []
            for _ in range(4):
                n += 1
                a, b, c = (WORDS[(n * k) % len(WORDS)] for k in (1, 3, 7))
                sentences.append(f"The {a} near the {b} was {c} number {n}.")
            paras.append(" ".join(sentences))
        (folder / f"doc{f}.txt").write_text("\n\n".join(paras) + "\n", encoding="utf-8")
    return folder


def cached_rows(root: Path) -> int:
    return sum(
        len(np.load(p)["shas"]) for p in (root / FOLDER).rglob("shard-*.npz")
    )  # every shard is whole: written under a temporary name, then renamed


def rag_index(corpus: Path, root: Path, **env: str) -> subprocess.Popen:
    environ = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        **env,
    }
    cmd = [sys.executable, "-m", "rag", "--index-dir", str(root), "index", str(corpus), "--json"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ)


def kill_after_shards(proc: subprocess.Popen, root: Path, shards: int) -> int:
    """SIGKILL ``proc`` once the vector cache has ``shards`` shards; the rows cached then."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if len(list((root / FOLDER).rglob("shard-*.npz"))) >= shards:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return cached_rows(root)
        if proc.poll() is not None:
            raise AssertionError(f"the build ended before it could be killed: {proc.stderr.read()}")
        time.sleep(0.005)
    proc.kill()
    raise AssertionError("no shard appeared in 180 s")


def seeded_root(path: Path, assistant) -> Path:
    """An index folder holding the session's ONNX export, so the child does not export again."""
    export = Path(assistant.index_dir) / "onnx"
    if export.is_dir():
        shutil.copytree(export, path / "onnx")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("late", ["0", "1"])
def test_a_killed_build_encodes_only_the_texts_it_had_not_cached(
    tmp_path, assistant, real_encoder, late
):
    corpus = write_corpus(tmp_path / "docs")
    root = seeded_root(tmp_path / "idx", assistant)
    env = {"RAG_ENCODE_STEP": "2", "RAG_LATE_CHUNKING": late}  # a call per text (or chunk)
    cached = kill_after_shards(rag_index(corpus, root, **env), root, shards=5)
    assert not (root / "current").exists()  # killed before anything was committed

    done = rag_index(corpus, root, **env)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err.decode()
    stats = json.loads(out)
    total = stats["sentences"] + stats["chunks"]
    assert 0 < cached < total
    assert stats["from_vector_cache"] == cached
    assert stats["embedded_this_load"] == total - cached

    settings = Settings(late_chunking=late == "1")
    resumed = Assistant.from_directory(corpus, settings=settings, index_dir=root)
    clean = Assistant.from_directory(corpus, settings=settings, index_dir=tmp_path / "clean")
    assert resumed.stats["embedded_this_load"] == 0
    a, b = resumed._index, clean._index
    assert [(c.doc_id, c.start, c.end) for c in a.chunks] == [
        (c.doc_id, c.start, c.end) for c in b.chunks
    ]
    assert a.sentences == b.sentences
    gap = max(
        float(np.abs(a.sentence_vectors - b.sentence_vectors).max()),
        float(np.abs(a.chunk_vectors - b.chunk_vectors).max()),
    )
    print(f"\n[resume] killed at {cached}/{total} texts cached; vectors differ by <= {gap:.1e}")
    assert gap < 1e-5  # batches of 2 vs 2048 texts pad differently: float noise, no more
    for q in QUESTIONS:
        x, y = resumed.ask(q), clean.ask(q)
        assert [(c.doc_id, c.start, c.end) for c in x.citations] == [
            (c.doc_id, c.start, c.end) for c in y.citations
        ]
        assert x.text == y.text
