"""File contents that used to go wrong quietly: UTF-16 without a BOM, one endless line."""

from __future__ import annotations

import logging

from conftest import write_tiny

from rag.documents import load_folder, read_text

TEXT = "The harbour reopened on 3 May.\nShips from Cork arrive on Tuesdays.\n"


def test_utf16le_without_bom_is_decoded_not_indexed_with_nul_bytes(tmp_path):
    corpus = write_tiny(tmp_path / "tiny")
    for name, codec in (("le.txt", "utf-16-le"), ("be.txt", "utf-16-be")):
        (corpus / name).write_bytes(TEXT.encode(codec))
    docs = {d.doc_id: d for d in load_folder(corpus)}
    for name in ("le.txt", "be.txt"):
        assert docs[name].text == TEXT
        assert read_text(docs[name].path) == TEXT  # what citations are checked against


def test_cyrillic_utf16le_without_bom_is_decoded(tmp_path):
    corpus = write_tiny(tmp_path / "tiny")
    text = "Порт снова открыт с 3 мая, сообщили в городском совете.\n"
    (corpus / "ru.txt").write_bytes(text.encode("utf-16-le"))
    assert {d.doc_id: d.text for d in load_folder(corpus)}["ru.txt"] == text


def test_utf8_text_is_not_mistaken_for_utf16(tmp_path):
    corpus = write_tiny(tmp_path / "tiny")
    (corpus / "short.txt").write_bytes(b"ab")  # even length, no NUL
    assert {d.doc_id: d.text for d in load_folder(corpus)}["short.txt"] == "ab"


def test_an_endless_line_without_spaces_is_named_in_a_warning(tmp_path, caplog):
    corpus = write_tiny(tmp_path / "tiny")
    (corpus / "blob.txt").write_text("x" * 1_000_000 + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        load_folder(corpus)
    warned = [r.getMessage() for r in caplog.records if "blob.txt" in r.getMessage()]
    assert len(warned) == 1 and "1000000 characters without a space" in warned[0]
    assert not any("bridge.txt" in r.getMessage() for r in caplog.records)
