"""Shared fixtures: the index folder in tmp, the real corpus index once, a tiny corpus, encoders.

- Every test sees ``RAG_INDEX_DIR`` pointed at its own ``tmp_path`` (and no other ``RAG_*``
  variable), so nothing is written to the working folder and the shell cannot change settings.
- ``assistant`` builds the real index over ``corpus/`` once per session, with the real model.
- ``tiny_corpus`` is three small documents whose right answers are known exactly.
- ``FakeEncoder`` is a deterministic bag-of-words encoder for tests about the index machinery;
  ``fake_encoder`` / ``real_encoder`` make ``Assistant`` use it / the session's real encoder.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
FORUM = "001_f9f5b180c0b2a01b.txt"

# --- the tiny corpus: three documents, each sentence's answer known exactly -------------------
BRIDGE = (
    "The old bridge over the Tamar river was closed in March 2019.\n\n"
    "Engineers found cracks in its steel cables. "
    "Repairs will cost 4 million euros, according to the council.\n"
)
ORCHARD = (
    "# Orchard notes\n\nThe Hartley orchard grows 300 pear trees. Its cider won a prize in 2021.\n"
)
FESTIVAL = (
    "Mayor Lund said the \u201criver festival\u201d will return in July.\u00a0"
    "Tickets cost 12 dollars at the town\u2019s library.\n"
)
TINY = {"bridge.txt": BRIDGE, "orchard.md": ORCHARD, "festival.txt": FESTIVAL}
TINY_META = {
    "bridge.txt": {
        "title": "Tamar bridge closed",
        "publisher": "Valley Gazette",
        "author": "Ana Ruiz",
        "date": "2019-03-02",
    }
}


def read(path: str | Path) -> str:
    """A file's text exactly as the citation invariant reads it."""
    return Path(path).read_bytes().decode("utf-8")


def write_tiny(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in TINY.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "metadata.json").write_text(json.dumps(TINY_META), encoding="utf-8")
    return folder


def assert_citations_verify(answer) -> None:
    """Every citation and related passage is the exact span of its file."""
    for c in (*answer.citations, *answer.related):
        assert read(c.path)[c.start : c.end] == c.quote, (c.doc_id, c.start, c.end)


class FakeEncoder:
    """Deterministic hashed bag of words: similar wording gives similar vectors, no model."""

    name = "fake"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from rag.lexical import tokenize

        self.calls += 1
        self.texts += list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokenize(text) or ["\x00"]:
                out[row, zlib.crc32(token.encode()) % self.dim] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _index_in_tmp(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "rag_index"))


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    """bridge.txt (with sidecar metadata), orchard.md, festival.txt (curly quotes, NBSP)."""
    return write_tiny(tmp_path / "tiny")


@pytest.fixture(scope="session")
def corpus_index_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("corpus_index")


@pytest.fixture(scope="session")
def assistant(corpus_index_dir):
    """The real index over corpus/, real model and real FAISS, built once per session."""
    from rag import Assistant, Settings

    started = time.perf_counter()
    built = Assistant.from_directory(CORPUS, settings=Settings(), index_dir=corpus_index_dir)
    built.search("warm up the encoder")
    print(f"\n[conftest] corpus index built in {time.perf_counter() - started:.1f} s")
    return built


@pytest.fixture
def index_copy(assistant, tmp_path) -> Path:
    """A private copy of the session's index folder (with its encoder export), to damage."""
    return Path(shutil.copytree(assistant.index_dir, tmp_path / "index_copy"))


@pytest.fixture
def fake_encoder(monkeypatch) -> FakeEncoder:
    """Make every Assistant in this test use one FakeEncoder."""
    encoder = FakeEncoder()
    monkeypatch.setattr("rag.assistant.load_encoder", lambda *a, **k: encoder)
    return encoder


@pytest.fixture
def real_encoder(assistant, monkeypatch):
    """Make every Assistant in this test reuse the session's loaded model (no second load)."""
    encoder = assistant.encoder
    monkeypatch.setattr("rag.assistant.load_encoder", lambda *a, **k: encoder)
    return encoder


# --- a tiny PDF manual: three pages whose texts (and so page numbers) are known ----------------
MANUAL_PAGES = (
    "Tiny Manual\nThe default block size is 900k.",
    "Chapter two\nThe cache lives in /var/cache/tiny.",
    "Chapter three\nSet TINY_HOME to move the config file.\nThe default block size is 900k.",
)


def write_manual(path: Path) -> Path:
    """``MANUAL_PAGES`` as a PDF at ``path``, one page each, a text line per line (fpdf2)."""
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.set_font("Helvetica", size=12)
    for page in MANUAL_PAGES:
        pdf.add_page()
        for line in page.split("\n"):
            pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(pdf.output()))
    return path
