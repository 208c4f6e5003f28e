"""The ONNX encoder matches sentence-transformers, exports once, and runs without torch."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.onnx_encoder import OnnxEncoder, _is_fresh, model_key
from rag.settings import DEFAULT_MODEL

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture(autouse=True)
def _index_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One export shared by the slow tests (exporting takes ~10 s)."""
    path = tmp_path_factory.mktemp("onnx_cache")
    assert OnnxEncoder.load_or_export(DEFAULT_MODEL, path, 32) is not None
    return path


@pytest.fixture(scope="session")
def export_dir(cache_dir) -> Path:
    return cache_dir / "onnx" / model_key(DEFAULT_MODEL)


def corpus_sentences() -> list[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt")))
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    # Whole ~900-character passages too: the lengths the index actually embeds.
    passages = [text[i : i + 900] for i in range(0, len(text), 4_000)]
    return sentences[:120] + passages


def test_model_key_is_a_safe_folder_name():
    assert model_key("sentence-transformers/all-MiniLM-L6-v2").startswith("all-MiniLM-L6-v2-")
    assert "/" not in model_key("/some/local path/model")
    assert model_key("a/model") != model_key("b/model")


def test_unknown_model_falls_back_to_none(tmp_path):
    assert OnnxEncoder.load_or_export("no-such-org/no-such-model", tmp_path, 32) is None


def test_unsupported_model_stack_falls_back_to_none(tmp_path):
    folder = tmp_path / "weird-model"
    folder.mkdir()
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Dense"}]
    (folder / "modules.json").write_text(json.dumps(modules))
    assert OnnxEncoder.load_or_export(str(folder), tmp_path / "cache", 32) is None
    assert not (tmp_path / "cache" / "onnx" / model_key(str(folder))).exists()


@pytest.mark.slow
def test_vectors_match_torch_on_corpus(cache_dir):
    from rag.embedding import TorchEncoder

    texts = corpus_sentences()
    onnx = OnnxEncoder.load_or_export(DEFAULT_MODEL, cache_dir, 32)
    got = onnx.encode(texts)
    want = TorchEncoder(DEFAULT_MODEL).encode(texts)
    assert got.shape == want.shape == (len(texts), 384)
    assert got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(got * want, axis=1))) >= 0.9999


@pytest.mark.slow
def test_rows_come_back_in_input_order(cache_dir):
    encoder = OnnxEncoder.load_or_export(DEFAULT_MODEL, cache_dir, 4)
    texts = corpus_sentences()[:20]
    forward = encoder.encode(texts)
    backward = encoder.encode(texts[::-1])[::-1]
    np.testing.assert_allclose(forward, backward, atol=1e-5)
    single = encoder.encode([texts[7]])[0]
    np.testing.assert_allclose(forward[7], single, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


@pytest.mark.slow
def test_several_batches_run_side_by_side_with_the_same_vectors(export_dir):
    texts = corpus_sentences()[:40]
    one_by_one = OnnxEncoder(export_dir, batch_size=4, threads=1)
    side_by_side = OnnxEncoder(export_dir, batch_size=4, threads=2)
    want = one_by_one.encode(texts)
    np.testing.assert_allclose(side_by_side.encode(texts), want, atol=1e-6)
    assert one_by_one._bulk_session is None and side_by_side._bulk_session is not None
    # One batch (a query) stays on the multi-threaded session.
    np.testing.assert_allclose(side_by_side.encode(texts[:3]), want[:3], atol=1e-6)


@pytest.mark.slow
def test_second_load_reuses_the_export(cache_dir, export_dir):
    before = (export_dir / "model.onnx").stat().st_mtime_ns
    meta_before = (export_dir / "meta.json").read_text()
    encoder = OnnxEncoder.load_or_export(DEFAULT_MODEL, cache_dir, 32)
    assert encoder is not None and encoder.dim == 384 and encoder.name == DEFAULT_MODEL
    assert (export_dir / "model.onnx").stat().st_mtime_ns == before
    assert (export_dir / "meta.json").read_text() == meta_before
    # No half-written temp folders are left beside the export (only the exporters' lock file).
    assert sorted(p.name for p in export_dir.parent.iterdir()) == [".export.lock", export_dir.name]


@pytest.mark.slow
def test_changed_source_files_make_the_export_stale(export_dir, tmp_path):
    from rag.embedding import resolve_model

    source = resolve_model(DEFAULT_MODEL)
    assert _is_fresh(export_dir, DEFAULT_MODEL, source)
    copy = tmp_path / "export"
    copy.mkdir()
    for name in ("model.onnx", "tokenizer.json"):
        (copy / name).symlink_to(export_dir / name)
    meta = json.loads((export_dir / "meta.json").read_text())
    meta["files"]["model.safetensors"][0] += 1  # as if the weights were replaced
    (copy / "meta.json").write_text(json.dumps(meta))
    assert not _is_fresh(copy, DEFAULT_MODEL, source)
    assert not _is_fresh(export_dir, "another-model", source)


@pytest.mark.slow
def test_encoding_from_an_export_does_not_import_torch(cache_dir):
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from rag.onnx_encoder import OnnxEncoder\n"
        f"enc = OnnxEncoder.load_or_export({DEFAULT_MODEL!r}, Path({str(cache_dir)!r}), 32)\n"
        "vectors = enc.encode(['Who wrote to General Dunford?'])\n"
        "assert vectors.shape == (1, 384), vectors.shape\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.slow
def test_default_model_export_has_fused_attention(export_dir):
    # Not required for correctness (an unfused graph is kept when fusion fails), but the
    # bundled MiniLM should get the faster graph.
    meta = json.loads((export_dir / "meta.json").read_text())
    assert meta["fused"] is True
    assert meta["format"] >= 2
