"""The HTML text cache: round trips, damaged entries are misses, unwritable is a warning, prune."""

from __future__ import annotations

import hashlib
import logging

import pytest

from rag.text_cache import TextCache

TEXT = "Harbour\u00a0report\n\nThe harbour reopened on May 3 \u2014 caf\u00e9s too."
SHA = hashlib.sha256(b"<p>the raw page</p>").hexdigest()


def entry(cache: TextCache, sha: str = SHA):
    return cache.folder / f"{sha}.txt"


@pytest.mark.parametrize("text", [TEXT, "", "one line\r\nwith CRLF\n"])
def test_put_then_get_gives_the_text_back_exactly(tmp_path, text):
    cache = TextCache(tmp_path / "cache")
    assert cache.get(SHA) is None
    cache.put(SHA, text)
    assert TextCache(tmp_path / "cache").get(SHA) == text
    assert [p.name for p in cache.folder.iterdir()] == [f"{SHA}.txt"]  # no temporary file left


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


@pytest.mark.parametrize("damage", [_truncated, _flipped, _no_checksum, _empty, _invalid_utf8])
def test_a_damaged_entry_is_a_miss_and_a_put_repairs_it(tmp_path, damage):
    cache = TextCache(tmp_path)
    cache.put(SHA, TEXT)
    entry(cache).write_bytes(damage(entry(cache).read_bytes()))
    assert cache.get(SHA) is None
    cache.put(SHA, TEXT)
    assert cache.get(SHA) == TEXT


def test_a_folder_in_place_of_an_entry_is_a_miss(tmp_path):
    cache = TextCache(tmp_path)
    entry(cache).mkdir(parents=True)
    assert cache.get(SHA) is None
    cache.put(SHA, TEXT)  # cannot replace a folder: a warning, not an error
    assert cache.get(SHA) is None


def test_an_unwritable_cache_warns_once_and_carries_on(tmp_path, caplog):
    (tmp_path / "cache").write_text("a file where the folder should be", encoding="utf-8")
    cache = TextCache(tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger="rag.text_cache"):
        cache.put(SHA, TEXT)
        cache.put("0" * 64, TEXT)
    assert cache.get(SHA) is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "text cache" in warnings[0], warnings


def test_prune_keeps_the_listed_entries_only(tmp_path):
    cache = TextCache(tmp_path)
    other = "f" * 64
    cache.put(SHA, TEXT)
    cache.put(other, "gone")
    (cache.folder / f".{other}-1234abcd.tmp").write_bytes(b"left by a crash")
    cache.prune({SHA, "a" * 64})
    assert [p.name for p in cache.folder.iterdir()] == [f"{SHA}.txt"]
    assert cache.get(SHA) == TEXT and cache.get(other) is None


def test_another_extractor_version_reads_nothing_and_prune_drops_the_old(tmp_path, monkeypatch):
    TextCache(tmp_path).put(SHA, TEXT)
    monkeypatch.setattr("rag.text_cache.VERSION", 999)
    newer = TextCache(tmp_path)
    assert newer.get(SHA) is None
    newer.put(SHA, "the new extractor's text")
    newer.prune({SHA})
    assert [p.name for p in tmp_path.iterdir()] == ["html-v999"]
    assert newer.get(SHA) == "the new extractor's text"


def test_prune_of_a_missing_folder_does_nothing(tmp_path):
    TextCache(tmp_path / "never-written").prune(set())
    assert not (tmp_path / "never-written").exists()
