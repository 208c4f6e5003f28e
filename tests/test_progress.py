"""`rag index` progress: one line per stage with counts, rate and ETA on a terminal, else quiet;
``--json`` prints the stats."""

from __future__ import annotations

import io
import json
import logging
import sys

from rag import cli
from rag.documents import load_folder
from rag.index import open_index
from rag.settings import Settings


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_each_stage_has_a_line_on_a_terminal(tiny_corpus, tmp_path, monkeypatch, fake_encoder):
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    open_index(tmp_path / "idx", load_folder(tiny_corpus), Settings(), lambda: fake_encoder, True)
    # A bar redraws itself after "\r"; its last drawing is the line a person sees.
    final = [line.split("\r")[-1] for line in err.getvalue().split("\n") if line.strip()]
    stages = [line.split(":")[0] for line in final]
    assert stages == ["segmenting", "embedding", "indexing"], final
    assert "11/11" in final[1] and "text/s" in final[1]  # counts and rate
    assert "chunks=3" in final[0] and "4/4" in final[2]


def test_no_progress_when_stderr_is_not_a_terminal(tiny_corpus, tmp_path, capsys, fake_encoder):
    open_index(tmp_path / "idx", load_folder(tiny_corpus), Settings(), lambda: fake_encoder, True)
    assert capsys.readouterr().err == ""


def test_index_json_prints_the_stats(tiny_corpus, tmp_path, capsys, fake_encoder):
    code = cli.main(["--index-dir", str(tmp_path / "idx"), "index", str(tiny_corpus), "--json"])
    stats = json.loads(capsys.readouterr().out)
    assert code == 0
    assert stats["chunks"] == 3 and stats["embedded_this_load"] == 11
    assert stats["from_vector_cache"] == 0 and stats["index_dir"] == str(tmp_path / "idx")


def test_index_verbose_logs_each_encoder_call(tiny_corpus, tmp_path, caplog, fake_encoder):
    argv = ["--index-dir", str(tmp_path / "idx"), "index", str(tiny_corpus), "--json"]
    logger = logging.getLogger("rag")
    try:
        with caplog.at_level(logging.WARNING):  # the root logger's level, as the CLI sets it
            caplog.handler.setLevel(logging.INFO)  # ...but what reaches it is captured
            assert cli.main(argv) == 0  # a build, quietly
            assert cli.main([*argv[:2], "index", str(tiny_corpus), "--verbose"]) == 0  # cached
            (tmp_path / "idx2").mkdir()
            assert cli.main(["--index-dir", str(tmp_path / "idx2"), *argv[2:], "--verbose"]) == 0
    finally:
        logger.setLevel(logging.NOTSET)
    calls = [r.getMessage() for r in caplog.records if "encoder call" in r.getMessage()]
    assert calls == ["encoder call 1/1: 11 texts, 713 chars"]  # the third build's, from scratch


def test_index_no_wait_and_no_rebuild_are_one_line_errors(tiny_corpus, tmp_path, capsys,
                                                          fake_encoder):  # fmt: skip
    from rag.build_files import current
    from rag.build_lock import build_lock

    root = tmp_path / "idx"
    argv = ["--index-dir", str(root), "index", str(tiny_corpus)]
    assert cli.main(argv) == 0
    (current(root) / "faiss.index").write_bytes(b"garbage")
    capsys.readouterr()
    assert cli.main([*argv, "--no-rebuild"]) == cli.EXIT_INPUT
    assert "damaged" in capsys.readouterr().err
    with build_lock(root):  # another build holds the folder
        assert cli.main([*argv, "--no-wait"]) == cli.EXIT_INPUT
    assert "another build is running" in capsys.readouterr().err
