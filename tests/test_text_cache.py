"""The extraction cache: round trips, damaged entries are misses, unwritable is a warning, prune."""

from __future__ import annotations

import dataclasses
import hashlib
import logging

import pytest

from rag.readers import Extracted, html, pdf
from rag.text_cache import TextCache

TEXT = "Harbour\u00a0report\n\nThe harbour reopened on May 3 \u2014 caf\u00e9s too."
SHA = hashlib.sha256(b"<p>the raw page</p>").hexdigest()
HTML = html.READER
PAGED = Extracted(
    "Manual\nOne.\n\n\f\n\nManual\nTwo.",
    pages=((0, 11), (16, 27)),
    title="The manual",
    encoding=None,
    chrome=((0, 6), (16, 22)),
    warnings=("page 3 has no text layer",),
)


def entry(cache: TextCache, sha: str = SHA):
    return cache.folder(HTML) / f"{sha}.json"


def put(cache: TextCache, text: str, sha: str = SHA) -> None:
    cache.put(sha, HTML, Extracted(text, encoding="utf-8"))


def get(cache: TextCache, sha: str = SHA) -> str | None:
    got = cache.get(sha, HTML)
    return None if got is None else got.text


@pytest.mark.parametrize("text", [TEXT, "", "one line\r\nwith CRLF\n"])
def test_put_then_get_gives_the_text_back_exactly(tmp_path, text):
    cache = TextCache(tmp_path / "cache")
    assert cache.get(SHA, HTML) is None
    put(cache, text)
    assert TextCache(tmp_path / "cache").get(SHA, HTML) == Extracted(text, encoding="utf-8")
    assert [p.name for p in cache.folder(HTML).iterdir()] == [f"{SHA}.json"]  # no temp file left


def test_pages_chrome_and_warnings_come_back_as_they_went_in(tmp_path):
    cache = TextCache(tmp_path)
    cache.put(SHA, pdf.READER, PAGED)
    assert cache.get(SHA, pdf.READER) == PAGED
    assert cache.get(SHA, HTML) is None  # each reader has its own entries


def _truncated(data: bytes) -> bytes:
    return data[:-5]


def _flipped(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


def _no_checksum(data: bytes) -> bytes:
    return data.partition(b"\n")[2]


def _empty(data: bytes) -> bytes:
    return b""


def _invalid_utf8(data: bytes) -> bytes:
    body = b"caf\xe9 \xff"
    return hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def _not_a_record(data: bytes) -> bytes:
    body = b'{"text": 3}'
    return hashlib.sha256(body).hexdigest().encode() + b"\n" + body


@pytest.mark.parametrize(
    "damage", [_truncated, _flipped, _no_checksum, _empty, _invalid_utf8, _not_a_record]
)
def test_a_damaged_entry_is_a_miss_and_a_put_repairs_it(tmp_path, damage):
    cache = TextCache(tmp_path)
    put(cache, TEXT)
    entry(cache).write_bytes(damage(entry(cache).read_bytes()))
    assert get(cache) is None
    put(cache, TEXT)
    assert get(cache) == TEXT


def test_a_folder_in_place_of_an_entry_is_a_miss(tmp_path):
    cache = TextCache(tmp_path)
    entry(cache).mkdir(parents=True)
    assert get(cache) is None
    put(cache, TEXT)  # cannot replace a folder: a warning, not an error
    assert get(cache) is None


def test_an_unwritable_cache_warns_once_and_carries_on(tmp_path, caplog):
    (tmp_path / "cache").write_text("a file where the folder should be", encoding="utf-8")
    cache = TextCache(tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger="rag.text_cache"):
        put(cache, TEXT)
        put(cache, TEXT, "0" * 64)
    assert get(cache) is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "text cache" in warnings[0], warnings


def test_prune_keeps_the_listed_entries_only(tmp_path):
    cache = TextCache(tmp_path)
    other = "f" * 64
    put(cache, TEXT)
    put(cache, "gone", other)
    (cache.folder(HTML) / f".{other}-1234abcd.tmp").write_bytes(b"left by a crash")
    (cache.folder(HTML) / f"{SHA}.txt").write_bytes(b"an entry of the older format")
    cache.prune({SHA, "a" * 64})
    assert [p.name for p in cache.folder(HTML).iterdir()] == [f"{SHA}.json"]
    assert get(cache) == TEXT and get(cache, other) is None


def test_another_extractor_version_reads_nothing_and_prune_drops_the_old(tmp_path, monkeypatch):
    cache = TextCache(tmp_path)
    put(cache, TEXT)
    newer = dataclasses.replace(HTML, version=999)
    monkeypatch.setattr("rag.text_cache.READERS", (newer,))
    assert cache.get(SHA, newer) is None
    cache.put(SHA, newer, Extracted("the new extractor's text"))
    cache.prune({SHA})
    assert [p.name for p in tmp_path.iterdir()] == ["html-v999"]
    assert cache.get(SHA, newer) == Extracted("the new extractor's text")


def test_prune_of_a_missing_folder_does_nothing(tmp_path):
    TextCache(tmp_path / "never-written").prune(set())
    assert not (tmp_path / "never-written").exists()
