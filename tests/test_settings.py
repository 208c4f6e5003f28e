"""Settings: one frozen dataclass; the environment is read in one place."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from rag.settings import Settings, default_index_root


def test_defaults_and_with_make_copies():
    s = Settings()
    t = s.with_(k=8, abstain_threshold=0.5)
    assert (s.k, t.k, t.abstain_threshold) == (5, 8, 0.5)
    assert t.with_(k=5).k == 5 and s == Settings()


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().k = 3  # type: ignore[misc]


def test_from_env_parses_each_type_and_ignores_the_rest():
    s = Settings.from_env(
        {
            "RAG_K": "8",
            "RAG_ABSTAIN_THRESHOLD": "0.3",
            "RAG_MODEL": "other-model",
            "RAG_EMBED_CHUNKS": "false",
            "RAG_UNKNOWN": "x",
            "K": "99",
        }
    )
    assert (s.k, s.abstain_threshold, s.model, s.embed_chunks) == (8, 0.3, "other-model", False)
    assert Settings.from_env({"RAG_EMBED_CHUNKS": "yes"}).embed_chunks is True
    assert Settings.from_env({}) == Settings()


def test_from_env_rejects_a_malformed_number():
    with pytest.raises(ValueError):
        Settings.from_env({"RAG_K": "eight"})


def test_from_env_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("RAG_CHUNK_SIZE", "500")
    assert Settings.from_env().chunk_size == 500


def test_index_root_is_redirected_to_tmp_for_every_test(tmp_path):
    assert default_index_root() == tmp_path / "rag_index"
    assert Path(os.environ["RAG_INDEX_DIR"]).parent == tmp_path


def test_index_root_defaults_to_a_local_folder(monkeypatch):
    monkeypatch.delenv("RAG_INDEX_DIR")
    assert default_index_root() == Path(".rag_index")
