"""Damage inside a build's files is found on load: a warning and a rebuild, or a clear error."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEncoder

from rag import checksums
from rag.build_files import current
from rag.documents import load_folder
from rag.index import IndexDamaged, open_index
from rag.settings import Settings


def open_tiny(corpus: Path, root: Path, **options):
    return open_index(root, load_folder(corpus), Settings(), FakeEncoder, **options)


@pytest.fixture
def root(tiny_corpus, tmp_path) -> Path:
    """The tiny corpus indexed, and loaded once (so its build is marked as fully verified)."""
    root = tmp_path / "idx"
    open_tiny(tiny_corpus, root)
    assert not checksums.fully_verified(root, current(root).name)  # the builder does not vouch
    assert open_tiny(tiny_corpus, root).embedded == 0
    assert checksums.fully_verified(root, current(root).name)
    return root


def garbage_inside(name: str):
    def damage(folder: Path) -> None:
        path = folder / name
        data = bytearray(path.read_bytes())
        at = len(data) // 3
        data[at : at + 4096] = os.urandom(min(4096, len(data) - at))  # same size
        path.write_bytes(bytes(data))

    return damage


def shift_sentences(folder: Path) -> None:
    path = folder / "chunks.json"
    store = json.loads(path.read_text(encoding="utf-8"))
    store["sentences"] = [[d, a + 7, b + 7] for d, a, b in store["sentences"]]
    path.write_text(json.dumps(store), encoding="utf-8")


DAMAGE = [garbage_inside("faiss.index"), garbage_inside("sentence_vectors.npy"), shift_sentences]
IDS = ["garbage-in-faiss", "garbage-in-sentence-vectors", "spans-shifted-by-7"]


@pytest.mark.parametrize("damage", DAMAGE, ids=IDS)
def test_damage_is_a_warning_and_a_rebuild_from_the_vector_cache(root, tiny_corpus, caplog, damage):
    damage(current(root))
    with caplog.at_level(logging.WARNING, logger="rag.index"):
        rebuilt = open_tiny(tiny_corpus, root)
    assert any("corrupt" in r.getMessage() for r in caplog.records)
    assert rebuilt.embedded == 0 and rebuilt.from_cache > 0  # no encoder: the cache had it all
    assert open_tiny(tiny_corpus, root).embedded == 0  # and the new build is sound


@pytest.mark.parametrize("damage", DAMAGE, ids=IDS)
def test_damage_is_an_error_when_rebuilding_is_not_allowed(root, tiny_corpus, damage):
    damage(current(root))
    with pytest.raises(IndexDamaged, match="damaged"):
        open_tiny(tiny_corpus, root, rebuild=False)


def test_a_quick_load_trusts_size_and_mtime_and_verify_hashes_everything(root, tiny_corpus):
    folder = current(root)
    path = folder / "sentence_vectors.npy"
    stat = path.stat()
    vectors = np.load(path)
    np.save(path, vectors[::-1])  # finite, same shape and size: only the hash can tell
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same mtime
    assert open_tiny(tiny_corpus, root, rebuild=False).embedded == 0  # the cheap check passes
    with pytest.raises(IndexDamaged, match="sentence_vectors.npy does not match"):
        open_tiny(tiny_corpus, root, rebuild=False, verify=True)


def test_non_finite_vectors_are_damage(root, tiny_corpus):
    folder = current(root)
    vectors = np.load(folder / "chunk_vectors.npy")
    vectors[1, 3] = np.nan
    np.save(folder / "chunk_vectors.npy", vectors)
    checksums.record(folder)  # even with checksums that agree, NaN is refused
    with pytest.raises(IndexDamaged, match="NaN"):
        open_tiny(tiny_corpus, root, rebuild=False)


def test_every_build_file_has_a_checksum(root):
    sums = json.loads((current(root) / checksums.SUMS).read_text(encoding="utf-8"))
    assert {"chunks.json", "faiss.index", "sentence_vectors.npy", "chunk_vectors.npy"} <= set(sums)
    assert any(name.startswith("lexical/") for name in sums)
    assert all(len(v) == 3 and len(v[2]) == 32 for v in sums.values())  # size, mtime, hash
