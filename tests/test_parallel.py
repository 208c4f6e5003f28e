"""Parsing, segmenting and chunking in worker processes: the same index for any worker count."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEncoder

from rag import Settings, parallel
from rag.documents import load_folder
from rag.index import open_index
from rag.parallel import ordered_map


def slow_square(n: int) -> int:
    time.sleep(0.02 * (n % 3))  # later items often finish first
    return n * n


def fails_on_three(n: int) -> int:
    if n == 3:
        raise ValueError("three")
    return n


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_come_in_input_order(workers):
    assert list(ordered_map(slow_square, range(12), workers)) == [n * n for n in range(12)]


def test_an_error_is_raised_when_its_item_comes_up():
    got = []
    with pytest.raises(ValueError, match="three"):
        for value in ordered_map(fails_on_three, range(6), 2):
            got.append(value)
    assert got == [0, 1, 2]


def test_only_a_few_items_are_handed_out_ahead():
    pulled = []

    def source():
        for n in range(40):
            pulled.append(n)
            yield n

    for i, _ in enumerate(ordered_map(slow_square, source(), 2)):
        assert len(pulled) <= i + 1 + 2 * 2  # the one taken, plus two per worker ahead


# --- the corpus: many HTML pages and text files -------------------------------------------------

PAGE = """<html><head><title>Page {n}</title></head><body><h1>Page {n}</h1>
<p>The ferry number {n} left the harbour at {h} o'clock. It carried {c} cars.</p>
<p>Storm {n} closed the port for {d} days. Repairs cost {c} thousand euros.</p>
<ul><li>First item of page {n}.</li><li>Second item, with a longer sentence.</li></ul>
</body></html>"""


def write_corpus(folder: Path, pages: int = 24) -> Path:
    folder.mkdir(parents=True)
    for n in range(pages):
        html = PAGE.format(n=n, h=n % 12 + 1, c=n * 7 % 50, d=n % 5 + 1)
        (folder / f"page{n:02d}.html").write_text(html, encoding="utf-8")
        text = " ".join(f"Line {n}.{i} tells of the river and the bridge." for i in range(30))
        (folder / f"notes{n:02d}.txt").write_text(text + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def corpus(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(parallel, "MIN_CHARS", 0)  # small as it is, use the pool
    return write_corpus(tmp_path / "docs")


def test_loading_gives_the_same_documents_for_any_worker_count(corpus, tmp_path):
    one = load_folder(corpus, tmp_path / "cache1", workers=1)
    three = load_folder(corpus, tmp_path / "cache3", workers=3)
    assert one == three
    assert sorted(p.name for p in (tmp_path / "cache3").rglob("*.json")) == sorted(
        p.name for p in (tmp_path / "cache1").rglob("*.json")
    )  # the workers' extractions were cached as the parent's are
    assert load_folder(corpus, tmp_path / "cache3", workers=3) == one  # from the cache


def test_the_index_is_the_same_for_any_worker_count(corpus, tmp_path):
    docs = load_folder(corpus)
    built = [
        open_index(tmp_path / f"idx{w}", docs, Settings(workers=w), FakeEncoder) for w in (1, 2, 3)
    ]
    first = built[0]
    for other in built[1:]:
        assert other.chunks == first.chunks
        assert other.sentences == first.sentences
        assert other.manifest == first.manifest
        assert np.array_equal(other.sentence_vectors, first.sentence_vectors)
        assert np.array_equal(other.chunk_vectors, first.chunk_vectors)
    assert [c.chunk_id for c in first.chunks] == list(range(len(first.chunks)))
