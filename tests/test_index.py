"""Persistence: cached loads embed nothing, updates embed only what changed, damage rebuilds."""

from __future__ import annotations

import errno
import gc
import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, FORUM, FakeEncoder

from rag import Assistant, Settings
from rag.build_lock import IndexWriteError
from rag.documents import load_folder
from rag.index import _current, open_index

FERRY = "Ferries returned on Monday. Tickets cost 3 euros."


def open_tiny(folder: Path, index_dir: Path, settings: Settings | None = None) -> Assistant:
    return Assistant.from_directory(folder, settings=settings or Settings(), index_dir=index_dir)


def spans(a: Assistant) -> list[tuple[str, int, int]]:
    return [(c.doc_id, c.start, c.end) for c in a._index.chunks]


def full_count(a: Assistant) -> int:
    """How many texts a build from nothing embeds: sentences, plus chunks when they are encoded."""
    s = a.stats
    return s["sentences"] + (s["chunks"] if a.settings.embed_chunks else 0)


@pytest.fixture
def built(tiny_corpus, tmp_path, fake_encoder):
    """The tiny corpus indexed once with the fake encoder: (assistant, index folder)."""
    index_dir = tmp_path / "idx"
    return open_tiny(tiny_corpus, index_dir), index_dir


# --- the machinery, on the tiny corpus with a deterministic encoder ---------------------------


def test_first_open_builds_and_second_open_embeds_nothing(built, tiny_corpus, fake_encoder):
    first, index_dir = built
    assert first.stats == {
        "documents": 3, "chunks": 3, "sentences": 8, "posts": 0, "chrome_lines": 0,
        "requotes": 0, "embedded_this_load": full_count(first), "from_vector_cache": 0,
        "warnings": (), "encoded_texts": 3 + 8,
        "encoded_chars": sum(map(len, fake_encoder.texts)),
    }  # fmt: skip
    calls = fake_encoder.calls
    second = open_tiny(tiny_corpus, index_dir)
    assert second.stats["embedded_this_load"] == 0
    assert fake_encoder.calls == calls and second._encoder is None  # no model was even loaded
    assert spans(second) == spans(first)
    assert np.array_equal(second._index.sentence_vectors, first._index.sentence_vectors)


def test_build_folder_layout_and_manifest(built, tiny_corpus):
    first, index_dir = built
    folder = _current(index_dir)
    assert folder.parent == index_dir / "builds" and folder.is_dir()
    assert sorted(p.name for p in folder.iterdir()) == [
        "checksums.json", "chunk_vectors.npy", "chunks.json", "faiss.index", "lexical",
        "manifest.json", "sentence_vectors.npy", "sentences.faiss",
    ]  # fmt: skip
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == Settings().model and manifest["dim"] == FakeEncoder.dim
    assert manifest["files"] == {d.doc_id: d.sha256 for d in first.documents}
    assert not any(p.name.startswith(".tmp") for p in (index_dir / "builds").iterdir())


def test_changing_one_file_embeds_only_its_text(built, tiny_corpus, fake_encoder):
    first, index_dir = built
    festival = tiny_corpus / "festival.txt"
    new_text = festival.read_text(encoding="utf-8") + "The parade starts at noon.\n"
    festival.write_text(new_text, encoding="utf-8")
    fake_encoder.texts.clear()
    updated = open_tiny(tiny_corpus, index_dir)
    embedded = updated.stats["embedded_this_load"]
    assert 0 < embedded < full_count(updated)
    assert len(fake_encoder.texts) == embedded
    assert all(t in new_text for t in fake_encoder.texts)  # nothing from the other two files
    assert "The parade starts at noon." in fake_encoder.texts
    assert [s for s in spans(updated) if s[0] != "festival.txt"] == [
        s for s in spans(first) if s[0] != "festival.txt"
    ]


def test_a_text_that_recurs_is_encoded_once(tmp_path, fake_encoder):
    # A one-sentence file's chunk is its sentence; a sentence repeated in two files is one text.
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.txt").write_text(f"{FERRY}\n", encoding="utf-8")
    (corpus / "b.txt").write_text("Ferries returned on Monday.\n", encoding="utf-8")
    built = open_tiny(corpus, tmp_path / "idx")
    assert built.stats["embedded_this_load"] == full_count(built) == 3 + 2
    assert sorted(fake_encoder.texts) == sorted(
        ["Ferries returned on Monday.", "Tickets cost 3 euros.", FERRY]
    )
    index = built._index
    by_text = {read_span(index, d, sp): i for i, (d, sp) in enumerate(index.sentences)}
    chunk_b = next(c.chunk_id for c in index.chunks if c.doc_id == "b.txt")
    np.testing.assert_array_equal(
        index.chunk_vectors[chunk_b], index.sentence_vectors[by_text["Ferries returned on Monday."]]
    )


def read_span(index, doc_id: str, span) -> str:
    return index.by_id[doc_id].text[span.start : span.end]


def test_removing_a_file_embeds_nothing(built, tiny_corpus, fake_encoder):
    _, index_dir = built
    (tiny_corpus / "orchard.md").unlink()
    smaller = open_tiny(tiny_corpus, index_dir)
    assert smaller.stats["embedded_this_load"] == 0
    assert {d for d, _, _ in spans(smaller)} == {"bridge.txt", "festival.txt"}


def test_crash_mid_write_leaves_the_previous_build(built, tiny_corpus, monkeypatch):
    first, index_dir = built
    before = _current(index_dir)
    (tiny_corpus / "bridge.txt").write_text("A new bridge opened in May.\n", encoding="utf-8")

    def crash(path, *args, **kwargs):
        assert Path(path).parent.name.startswith(".tmp-")  # the new build's own folder
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("rag.build_files.np.save", crash)
    with pytest.raises(IndexWriteError, match="No space left.*stays in service"):
        open_tiny(tiny_corpus, index_dir)
    monkeypatch.undo()
    assert _current(index_dir) == before
    assert sorted(p.name for p in (index_dir / "builds").iterdir()) == [before.name]
    # The old corpus still opens from the old build, with nothing to embed.
    shutil.rmtree(tiny_corpus)
    from conftest import write_tiny

    write_tiny(tiny_corpus)
    again = open_tiny(tiny_corpus, index_dir)
    assert again.stats["embedded_this_load"] == 0 and spans(again) == spans(first)


def _truncate(folder: Path) -> None:
    data = (folder / "faiss.index").read_bytes()
    (folder / "faiss.index").write_bytes(data[: len(data) // 2])


def _garble(name: str):
    def damage(folder: Path) -> None:
        (folder / name).write_text('{"half a json', encoding="utf-8")

    return damage


def _delete_vectors(folder: Path) -> None:
    (folder / "sentence_vectors.npy").unlink()


def _wrong_shape(folder: Path) -> None:
    np.save(folder / "sentence_vectors.npy", np.zeros((2, 3), dtype=np.float32))


@pytest.mark.parametrize(
    "damage",
    [_truncate, _garble("chunks.json"), _garble("manifest.json"), _delete_vectors, _wrong_shape],
    ids=["truncated-faiss", "garbled-chunks", "garbled-manifest", "missing-vectors", "bad-shape"],
)
def test_corrupt_index_is_rebuilt_with_a_warning(built, tiny_corpus, caplog, damage):
    first, index_dir = built
    damage(_current(index_dir))
    with caplog.at_level(logging.WARNING, logger="rag.index"):
        rebuilt = open_tiny(tiny_corpus, index_dir)
    assert any("corrupt" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    # The damaged build's vectors are not trusted; the vector cache has every one of them.
    assert rebuilt.stats["embedded_this_load"] == 0
    assert rebuilt.stats["from_vector_cache"] == full_count(rebuilt)
    assert spans(rebuilt) == spans(first)
    assert open_tiny(tiny_corpus, index_dir).stats["embedded_this_load"] == 0  # and it sticks


def test_pointer_to_a_missing_build_is_rebuilt(built, tiny_corpus, caplog):
    first, index_dir = built
    shutil.rmtree(_current(index_dir))
    with caplog.at_level(logging.WARNING, logger="rag.index"):
        rebuilt = open_tiny(tiny_corpus, index_dir)
    assert caplog.records and spans(rebuilt) == spans(first)


def test_index_built_with_other_chunk_settings_is_rebuilt_with_a_warning(
    built, tiny_corpus, caplog
):
    first, index_dir = built
    with caplog.at_level(logging.WARNING, logger="rag.index"):
        small = open_tiny(tiny_corpus, index_dir, Settings(chunk_size=60, chunk_overlap=0))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("chunk_size=900" in m for m in warnings), warnings
    assert small._index.manifest.chunk_size == 60
    assert len(spans(small)) > len(spans(first))
    # Sentences did not change, so their vectors were reused; only the new chunks needed one.
    s = small.stats
    assert s["embedded_this_load"] + s["from_vector_cache"] <= s["chunks"]


def test_other_chunk_settings_give_late_sentences_new_vectors(tiny_corpus, tmp_path, fake_encoder):
    late = Settings(late_chunking=True)
    open_tiny(tiny_corpus, tmp_path / "idx", late)
    small = open_tiny(tiny_corpus, tmp_path / "idx", late.with_(chunk_size=60, chunk_overlap=0))
    # Late chunking: a sentence's vector depends on its chunk, so no old sentence vector is
    # reused; what the update took from the old build and the cache is what a clean build makes.
    assert small.stats["embedded_this_load"] > small.stats["chunks"]
    clean = open_tiny(tiny_corpus, tmp_path / "clean", late.with_(chunk_size=60, chunk_overlap=0))
    assert np.array_equal(small._index.sentence_vectors, clean._index.sentence_vectors)
    assert np.array_equal(small._index.chunk_vectors, clean._index.chunk_vectors)


def test_index_of_another_model_is_rebuilt_with_a_warning(built, tiny_corpus, caplog):
    first, index_dir = built
    manifest_path = _current(index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["model"] = "some-other-model"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag.index"):
        rebuilt = open_tiny(tiny_corpus, index_dir)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("some-other-model" in m for m in warnings), warnings
    # No vector of the build is reused; this model's vector cache supplies them all.
    assert rebuilt.stats["embedded_this_load"] == 0
    assert rebuilt.stats["from_vector_cache"] == full_count(rebuilt)
    assert rebuilt._index.manifest.model == Settings().model


def test_a_cached_load_maps_its_vectors_and_leaves_the_gc_on(built, tiny_corpus):
    first, index_dir = built
    again = open_tiny(tiny_corpus, index_dir)
    assert gc.isenabled()
    assert not again._index.sentence_vectors.flags.writeable  # a read-only map of the build
    assert np.array_equal(again._index.chunk_vectors, first._index.chunk_vectors)
    _truncate(_current(index_dir))
    open_tiny(tiny_corpus, index_dir)  # a damaged build raises inside the paused GC
    assert gc.isenabled()


def test_reopening_an_unchanged_html_corpus_parses_and_embeds_nothing(tmp_path, monkeypatch):
    corpus, root = tmp_path / "pages", tmp_path / "idx"
    corpus.mkdir()
    for name, body in (("harbour.html", "The harbour reopened in May."), ("ferry.htm", FERRY)):
        (corpus / name).write_text(f"<html><body><p>{body}</p></body></html>", encoding="utf-8")
    encoder = FakeEncoder()
    first = open_index(root, load_cached(corpus, root), Settings(), lambda: encoder)

    def refuse(*args):
        raise AssertionError("an unchanged page was parsed or embedded again")

    monkeypatch.setattr("rag.readers.html.html_to_text", refuse)
    again = open_index(root, load_cached(corpus, root), Settings(), refuse)
    assert again.embedded == 0 and again.chunks == first.chunks
    assert again.documents == first.documents


def load_cached(corpus: Path, root: Path):
    """The corpus, its HTML text cached in the index folder (``<index>/text-cache``)."""
    return load_folder(corpus, text_cache=root / "text-cache")


# --- the real corpus, real model ---------------------------------------------------------------


@pytest.mark.slow
def test_second_load_of_the_corpus_embeds_nothing(assistant):
    started = time.perf_counter()
    again = Assistant.from_directory(CORPUS, settings=Settings(), index_dir=assistant.index_dir)
    seconds = time.perf_counter() - started
    print(f"\n[persistence] second load of the corpus index: {seconds * 1000:.0f} ms")
    assert again.stats["embedded_this_load"] == 0
    assert again._encoder is None  # the model is not even loaded until the first question
    nothing = {"embedded_this_load": 0, "encoded_texts": 0, "encoded_chars": 0}
    assert again.stats == {**assistant.stats, **nothing}
    assert spans(again) == spans(assistant)


@pytest.mark.slow
def test_editing_one_corpus_file_re_embeds_only_that_file(
    assistant, index_copy, tmp_path, real_encoder
):
    corpus = Path(shutil.copytree(CORPUS, tmp_path / "corpus"))
    changed = corpus / "003_95cfac26c10697da.txt"
    changed.chmod(0o644)
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\nA new paragraph about the reconstruction fund.\n",
        encoding="utf-8",
    )
    updated = Assistant.from_directory(corpus, settings=Settings(), index_dir=index_copy)
    embedded = updated.stats["embedded_this_load"]
    print(f"\n[persistence] one file changed: {embedded} of {full_count(updated)} texts embedded")
    assert 0 < embedded < updated.stats["sentences"]
    same = [s for s in spans(updated) if not s[0].startswith("003")]
    assert same == [s for s in spans(assistant) if not s[0].startswith("003")]


CHROME = ["Jump to content", "Logo Wide", "Link to comment", "Share on other sites", "Like 2",
          "800x800 (3).jpg", "Helpful keywords"]  # fmt: skip


@pytest.mark.slow
def test_no_chunk_of_the_corpus_holds_page_chrome(assistant):
    for chunk in assistant._index.chunks:
        for chrome in CHROME:
            assert chrome not in chunk.text, (chunk.chunk_id, chrome)


@pytest.mark.slow
@pytest.mark.parametrize(
    "passage, author",
    [("Leave the M.E. to China", "pegman"),
     ("Russia may have done more bombing than the west", "My Thai Life"),
     ("Hell no Russia is the one bombing", "keith101"),
     ("Tell that to the residents of Raqqa", "bristolboy")],
)  # fmt: skip
def test_requoted_passage_is_one_sentence_of_the_index(assistant, passage, author):
    index = assistant._index
    text = assistant.document(FORUM).text
    hits = [
        i
        for i, (d, s) in enumerate(index.sentences)
        if d == FORUM and passage in text[s.start : s.end]
    ]
    assert len(hits) == 1
    holders = [c for c in index.chunks if index.sentences[hits[0]][1] in c.sentences]
    assert holders and {c.author for c in holders} == {author}
