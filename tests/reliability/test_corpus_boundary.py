"""The corpus folder is a boundary: links out are skipped with a warning, each file is read once.

Every test builds its corpus in ``tmp_path`` with a file *outside* it (``outside/secret.txt``)
and links pointing at it; ``load_folder`` and, through it, ``Assistant`` and the web UI's source
viewer must never return that file's text.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from conftest import BRIDGE, ORCHARD, write_tiny

from rag.documents import SUFFIXES, load_folder

SECRET = "The vault code of the harbour office is 4471 and only the mayor knows it.\n"


@pytest.fixture
def corpus(tmp_path) -> Path:
    """The tiny corpus, and a secret file in a sibling folder."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text(SECRET, encoding="utf-8")
    return write_tiny(tmp_path / "tiny")


def ids(folder: Path) -> list[str]:
    return [d.doc_id for d in load_folder(folder)]


def test_a_link_to_a_file_outside_the_corpus_is_skipped_with_a_warning(corpus, caplog):
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "leak.txt").symlink_to(corpus.parent / "outside" / "secret.txt")
    with caplog.at_level(logging.WARNING):
        docs = load_folder(corpus)
    assert [d.doc_id for d in docs] == ["bridge.txt", "festival.txt", "orchard.md"]
    assert all(SECRET not in d.text and "root:" not in d.text for d in docs)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("leak.txt" in m and "outside the corpus" in m for m in warned)
    assert any("passwd.txt" in m and "outside the corpus" in m for m in warned)


def test_a_folder_link_out_of_the_corpus_is_skipped_with_a_warning(corpus, caplog):
    (corpus / "more").symlink_to(corpus.parent / "outside", target_is_directory=True)
    with caplog.at_level(logging.WARNING):
        assert ids(corpus) == ["bridge.txt", "festival.txt", "orchard.md"]
    assert any("more" in r.getMessage() and "outside" in r.getMessage() for r in caplog.records)


def test_a_relative_link_climbing_out_is_caught_too(corpus):
    (corpus / "up.txt").symlink_to(Path("..") / "outside" / "secret.txt")
    assert "up.txt" not in ids(corpus)


def test_one_file_reached_by_two_links_is_indexed_once_under_its_own_name(corpus):
    (corpus / "a_alias.txt").symlink_to(corpus / "bridge.txt")
    (corpus / "z_alias.txt").symlink_to("bridge.txt")
    docs = load_folder(corpus)
    assert [d.doc_id for d in docs] == ["bridge.txt", "festival.txt", "orchard.md"]
    assert [d.text for d in docs].count(BRIDGE) == 1
    assert docs[0].path == (corpus / "bridge.txt").resolve()


def test_a_link_inside_the_corpus_to_an_unlisted_file_is_indexed_once_by_the_link(corpus):
    store = corpus / "store"
    store.mkdir()
    (store / "pears.md").write_text(ORCHARD.replace("300", "301"), encoding="utf-8")
    (corpus / "b1.md").symlink_to(store / "pears.md")
    (corpus / "b2.md").symlink_to(store / "pears.md")
    # store/pears.md is listed itself, so it wins over both links.
    assert ids(corpus) == ["bridge.txt", "festival.txt", "orchard.md", "store/pears.md"]


def test_a_hidden_file_reached_by_a_link_is_indexed_once_under_the_link(corpus):
    (corpus / ".drafts").mkdir()
    (corpus / ".drafts" / "pears.md").write_text("Pears ripen in September.\n", encoding="utf-8")
    (corpus / "pears.md").symlink_to(corpus / ".drafts" / "pears.md")
    (corpus / "pears2.md").symlink_to(corpus / ".drafts" / "pears.md")
    from rag.corpus_files import corpus_files

    files = corpus_files(corpus, SUFFIXES)
    assert [f.doc_id for f in files if "pears" in f.doc_id] == ["pears.md"]


def test_a_hard_link_is_the_same_file(corpus):
    os.link(corpus / "bridge.txt", corpus / "bridge_copy.txt")
    assert ids(corpus) == ["bridge.txt", "festival.txt", "orchard.md"]


def test_a_dangling_link_is_skipped_with_a_warning(corpus, caplog):
    (corpus / "gone.txt").symlink_to(corpus / "deleted.txt")
    with caplog.at_level(logging.WARNING):
        assert "gone.txt" not in ids(corpus)
    assert any(
        "gone.txt" in r.getMessage() and "not exist" in r.getMessage() for r in caplog.records
    )


def test_the_corpus_folder_may_itself_be_a_link(corpus, tmp_path):
    (tmp_path / "via").symlink_to(corpus, target_is_directory=True)
    assert ids(tmp_path / "via") == ["bridge.txt", "festival.txt", "orchard.md"]


def test_a_link_out_never_reaches_an_answer_or_the_viewer(corpus, fake_encoder):
    from rag import Assistant

    (corpus / "leak.txt").symlink_to(corpus.parent / "outside" / "secret.txt")
    assistant = Assistant.from_directory(corpus)
    answer = assistant.ask("What is the vault code of the harbour office?")
    quoted = [*answer.citations, *answer.related]
    assert all(c.doc_id != "leak.txt" and "secret" not in c.path for c in quoted)
    assert all("4471" not in h.text for h in assistant.search("vault code harbour office"))
    # The web UI's viewer reads documents by doc_id from the loaded corpus only.
    with pytest.raises(KeyError):
        assistant.document("leak.txt")
