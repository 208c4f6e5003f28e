"""The FAISS store: its type follows its size, HNSW takes its parameters from Settings."""

from __future__ import annotations

import numpy as np
import pytest

from rag.settings import Settings
from rag.vectors import VectorStore

SMALL_HNSW = Settings(exact_below=50, hnsw_m=8, hnsw_ef_construction=60, hnsw_ef_search=70)


def unit_vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_exact_below_the_threshold_finds_each_vector_first():
    vectors = unit_vectors(49)
    store = VectorStore.build(vectors, SMALL_HNSW)
    assert (store.kind, store.size) == ("exact", 49)
    scores, ids = store.search(vectors, 3)
    assert ids[:, 0].tolist() == list(range(49))
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)


def test_hnsw_from_the_threshold_on_with_the_settings_parameters():
    store = VectorStore.build(unit_vectors(50), SMALL_HNSW)
    assert store.kind == "hnsw"
    hnsw = store._index.hnsw
    assert (hnsw.efConstruction, hnsw.efSearch) == (60, 70)
    assert hnsw.nb_neighbors(0) == 2 * 8  # the base layer keeps 2M links per node


def test_the_defaults_build_hnsw_with_ef_construction_200():
    assert Settings().hnsw_ef_construction == 200
    assert Settings().hnsw_ef_search >= 256


def test_load_applies_the_settings_ef_search(tmp_path):
    VectorStore.build(unit_vectors(60), SMALL_HNSW).save(tmp_path / "v.faiss")
    loaded = VectorStore.load(tmp_path / "v.faiss", SMALL_HNSW.with_(hnsw_ef_search=90))
    assert (loaded.kind, loaded.size, loaded._index.hnsw.efSearch) == ("hnsw", 60, 90)


@pytest.mark.parametrize("n", [20, 60])
def test_one_query_gives_the_rows_of_a_batch_and_keeps_the_thread_count(n):
    import faiss

    vectors = unit_vectors(n)
    store = VectorStore.build(vectors, SMALL_HNSW)
    queries = unit_vectors(5, seed=1)
    threads = faiss.omp_get_max_threads()
    batch_scores, batch_ids = store.search(queries, 4)
    for row, q in enumerate(queries):
        scores, ids = store.search(q, 4)
        assert ids.tolist() == [batch_ids[row].tolist()]
        assert np.allclose(scores, batch_scores[row])
    assert faiss.omp_get_max_threads() == threads


def test_k_is_capped_at_the_store_size():
    scores, ids = VectorStore.build(unit_vectors(3), Settings()).search(unit_vectors(1), 10)
    assert ids.shape == (1, 3) and sorted(ids[0].tolist()) == [0, 1, 2]
