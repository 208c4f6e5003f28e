"""Loading a folder: decoding, file types, the metadata sidecar, and bad input."""

from __future__ import annotations

import hashlib
import logging
import random

import pytest
from conftest import BRIDGE, CORPUS, FESTIVAL, ORCHARD, read

from rag.documents import CorpusError, load_folder, read_text
from rag.readers import ReadError
from rag.readers.html import html_to_text
from rag.readers.text import decode

GARBAGE = random.Random(0).randbytes(4096)  # no encoding reads this as text

PAGE = (
    "<html><head><title>Ignored</title><style>p{color:red}</style></head><body>"
    "<nav>Home | About</nav>"
    "<h1>Harbour&nbsp;report</h1>"
    "<p>The harbour   reopened on <b>May 3</b>.</p>"
    "<script>var secret = 'do not index me';</script>"
    "<p>Fishing boats &amp; ferries returned.</p>"
    "</body></html>"
)


def test_tiny_corpus_loads_sorted_with_sidecar_metadata(tiny_corpus):
    docs = load_folder(tiny_corpus)
    assert [d.doc_id for d in docs] == ["bridge.txt", "festival.txt", "orchard.md"]
    bridge, festival, orchard = docs
    assert (bridge.text, festival.text, orchard.text) == (BRIDGE, FESTIVAL, ORCHARD)
    assert bridge.meta.title == "Tamar bridge closed"
    assert (bridge.meta.publisher, bridge.meta.author) == ("Valley Gazette", "Ana Ruiz")
    # Without a sidecar entry: a heading line is the title, else the file name made readable.
    assert festival.meta.title == "festival"
    assert orchard.meta.title == "Orchard notes"
    assert festival.meta.publisher is None and orchard.meta.author is None
    for d in docs:
        assert d.path == (tiny_corpus / d.doc_id).resolve()
        assert d.sha256 == hashlib.sha256(d.path.read_bytes()).hexdigest()


def test_real_corpus_text_is_the_decoded_file_unaltered():
    docs = load_folder(CORPUS)
    assert [d.doc_id for d in docs] == sorted(p.name for p in CORPUS.glob("*.txt"))
    for d in docs:
        assert d.text == read(d.path)
    assert "\u00a0" in docs[1].text  # NBSP kept as is: offsets index the file, not a cleaned copy


def test_decode_accepts_utf8_with_and_without_bom_and_utf16_with_bom():
    assert decode("café".encode()) == ("café", "utf-8")
    assert decode(b"\xef\xbb\xbfcaf\xc3\xa9") == ("café", "utf-8-sig")
    assert decode("café".encode("utf-16")) == ("café", "utf-16")
    with pytest.raises(ReadError):
        decode(GARBAGE)
    with pytest.raises(ReadError, match="BOM"):
        decode(b"\xef\xbb\xbfcaf\xe9")


def test_undecodable_file_is_skipped_with_a_warning_naming_it(tiny_corpus, caplog):
    (tiny_corpus / "garbage.txt").write_bytes(GARBAGE)
    with caplog.at_level(logging.WARNING, logger="rag.documents"):
        docs = load_folder(tiny_corpus)
    assert "garbage.txt" not in [d.doc_id for d in docs]
    assert len(docs) == 3
    warning = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("garbage.txt" in m and "not UTF-8" in m for m in warning), warning


def test_empty_folder_raises_a_clear_corpus_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no readable documents in .*empty"):
        load_folder(tmp_path / "empty")


def test_missing_folder_raises_a_clear_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus folder not found: .*nowhere"):
        load_folder(tmp_path / "nowhere")


def test_folder_of_unreadable_or_blank_files_raises(tmp_path, caplog):
    (tmp_path / "bad.txt").write_bytes(GARBAGE)
    (tmp_path / "blank.md").write_text(" \n\t\n", encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    with caplog.at_level(logging.WARNING), pytest.raises(CorpusError):
        load_folder(tmp_path)
    assert any("blank.md" in r.getMessage() for r in caplog.records)


def test_hidden_files_and_other_suffixes_are_ignored(tiny_corpus):
    (tiny_corpus / ".draft.txt").write_text("A hidden draft sentence.", encoding="utf-8")
    (tiny_corpus / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tiny_corpus / "scan.pdf").write_bytes(b"%PDF-1.4")  # a damaged PDF: skipped, warned
    assert len(load_folder(tiny_corpus)) == 3


def test_broken_sidecar_is_a_warning_and_titles_come_from_the_file(tiny_corpus, caplog):
    (tiny_corpus / "metadata.json").write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag.documents"):
        docs = load_folder(tiny_corpus)
    assert docs[0].meta.title == "bridge"  # its first line is a sentence, never a title
    assert any("metadata" in r.getMessage() for r in caplog.records)


def test_html_text_drops_scripts_and_chrome_elements():
    text = html_to_text(PAGE)
    assert text == (
        "Harbour\u00a0report\n\nThe harbour reopened on May 3.\n\nFishing boats & ferries returned."
    )
    assert "secret" not in text and "Home" not in text and "color" not in text
    assert html_to_text(PAGE) == text  # deterministic, so offsets are reproducible


def test_html_document_text_is_what_read_text_gives(tmp_path):
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    (doc,) = load_folder(tmp_path)
    assert doc.text == read_text(doc.path) == html_to_text(PAGE)
    at = doc.text.index("The harbour")
    assert read_text(doc.path)[at : at + 11] == "The harbour"


# --- the text cache: an unchanged page is not parsed again --------------------------------------


def html_corpus(folder):
    folder.mkdir()
    (folder / "page.html").write_text(PAGE, encoding="utf-8")
    (folder / "other.htm").write_text("<p>Another page, about ferries.</p>", encoding="utf-8")
    (folder / "notes.txt").write_text("Plain notes are not cached.\n", encoding="utf-8")
    return folder


def no_parsing(monkeypatch):
    def refuse(html):
        raise AssertionError("an unchanged page was parsed again")

    monkeypatch.setattr("rag.readers.html.html_to_text", refuse)


def test_cached_load_equals_a_fresh_load_and_parses_nothing(tmp_path, monkeypatch):
    corpus, cache = html_corpus(tmp_path / "corpus"), tmp_path / "cache"
    fresh = load_folder(corpus)
    assert load_folder(corpus, text_cache=cache) == fresh
    assert len(list(cache.rglob("*.json"))) == 2  # the two HTML pages, not the .txt
    no_parsing(monkeypatch)
    assert load_folder(corpus, text_cache=cache) == fresh


def test_a_changed_page_is_parsed_again(tmp_path):
    corpus, cache = html_corpus(tmp_path / "corpus"), tmp_path / "cache"
    load_folder(corpus, text_cache=cache)
    (corpus / "page.html").write_text(PAGE.replace("May 3", "June 9"), encoding="utf-8")
    doc = {d.doc_id: d for d in load_folder(corpus, text_cache=cache)}["page.html"]
    assert "reopened on June 9." in doc.text
    assert doc.text == read_text(doc.path)
    assert len(list(cache.rglob("*.json"))) == 2  # the old version's entry was dropped


def test_a_damaged_cache_entry_is_parsed_again_and_rewritten(tmp_path, monkeypatch):
    corpus, cache = html_corpus(tmp_path / "corpus"), tmp_path / "cache"
    fresh = load_folder(corpus, text_cache=cache)
    for entry in cache.rglob("*.json"):
        data = entry.read_bytes()
        entry.write_bytes(data.replace(b"harbour", b"HARBOUR").replace(b"ferries", b"barges"))
    assert load_folder(corpus, text_cache=cache) == fresh
    no_parsing(monkeypatch)
    assert load_folder(corpus, text_cache=cache) == fresh


def test_an_unwritable_cache_still_loads(tmp_path, caplog):
    corpus, cache = html_corpus(tmp_path / "corpus"), tmp_path / "cache"
    cache.write_text("not a folder", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag.text_cache"):
        assert load_folder(corpus, text_cache=cache) == load_folder(corpus)
    assert any("text cache" in r.getMessage() for r in caplog.records)


def test_plain_files_take_a_heading_line_or_their_file_name_as_title(tmp_path):
    (tmp_path / "Huguenots.txt").write_text("Huguenots\n\nThey were French.\n", encoding="utf-8")
    body = "Huguenot numbers peaked near an estimated two million by 1562, concentrated mainly.\n"
    (tmp_path / "European_Union_law.txt").write_text(body, encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Field notes\n\nRain all day.\n", encoding="utf-8")
    titles = {d.doc_id: d.meta.title for d in load_folder(tmp_path)}
    assert titles == {
        "European_Union_law.txt": "European Union law",
        "Huguenots.txt": "Huguenots",
        "notes.md": "Field notes",
    }
