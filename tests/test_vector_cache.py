"""The vector cache: shards written whole, found by text digest, merged when many."""

from __future__ import annotations

import numpy as np
import pytest

from rag import vector_cache
from rag.vector_cache import VectorCache, digest


def rows(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 4)).astype(np.float32)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> VectorCache:
    monkeypatch.setattr(vector_cache, "COMPACT_ABOVE", 2)
    got = VectorCache(tmp_path / "cache")
    for i in range(4):  # four shards of two texts
        got.add([digest(f"t{2 * i}"), digest(f"t{2 * i + 1}")], rows(2, i))
    return got


def test_vectors_are_found_by_text_after_a_reopen(cache):
    again = VectorCache(cache.folder)
    found, vectors = again.fetch([digest("t3"), digest("nope"), digest("t6")])
    assert found == [0, 2] and again.shards == 4
    np.testing.assert_array_equal(vectors, np.stack([rows(2, 1)[1], rows(2, 3)[0]]))


def test_compacting_keeps_only_the_listed_texts(cache):
    keep = [digest("t1"), digest("t4"), digest("t1")]
    cache.compact(keep)
    again = VectorCache(cache.folder)
    assert again.shards == 1 and len(again) == 2
    _, vectors = again.fetch([digest("t1"), digest("t4")])
    np.testing.assert_array_equal(vectors, np.stack([rows(2, 0)[1], rows(2, 2)[0]]))


def test_compacting_writes_the_rows_it_is_given(cache):
    keep = [digest("t1"), digest("new")]
    given = rows(2, 9)
    cache.compact(keep, given)
    again = VectorCache(cache.folder)
    found, vectors = again.fetch(keep)
    assert again.shards == 1 and found == [0, 1]
    np.testing.assert_array_equal(vectors, given)
