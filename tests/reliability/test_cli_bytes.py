"""The `rag` command never dies on a bad byte, and never prints a document's control characters.

The byte tests run the real command in a subprocess (argv and stdin are decoded by Python's
start-up, which a test in this process cannot reproduce) over the session's index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import CORPUS, ROOT, write_tiny

from rag import cli
from rag.documents import read_text

HOSTILE = (
    "The lighthouse keeper \x1b]0;owned\x07 rang the bell at dawn.\x1b[2J\n\n"
    "Fishing boats left the lighthouse harbour \x9b31m at six.\n"
)


def rag(assistant, *argv: bytes | str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONIOENCODING"}
    env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8")
    command = [sys.executable, "-m", "rag", "--index-dir", str(assistant.index_dir), *argv]
    return subprocess.run(
        [*command, "--corpus", str(CORPUS)], input=stdin, capture_output=True, env=env,
        cwd=ROOT, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_a_latin1_byte_in_argv_is_replaced_not_a_traceback(assistant):
    out = rag(assistant, "ask", b"Who sent the letter to General Dunford?\xe9", "--json")
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-2000:]
    assert b"Traceback" not in out.stderr
    data = json.loads(out.stdout.decode("utf-8"))
    assert data["question"] == "Who sent the letter to General Dunford?\ufffd"
    assert any("Gerasimov" in c["quote"] for c in data["citations"])


@pytest.mark.slow
def test_a_latin1_byte_typed_into_chat_does_not_end_the_session(assistant):
    stdin = b"caf\xe9 \xff?\nWho sent the letter to General Dunford?\nquit\n"
    out = rag(assistant, "chat", stdin=stdin)
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-2000:]
    assert b"Traceback" not in out.stderr
    assert "Gerasimov" in out.stdout.decode("utf-8")  # the line after the bad one was answered


@pytest.fixture
def hostile_corpus(tmp_path, fake_encoder):
    corpus = write_tiny(tmp_path / "tiny")
    (corpus / "keeper.txt").write_text(HOSTILE, encoding="utf-8")
    return corpus


@pytest.mark.parametrize("command", ["ask", "search"])
def test_documents_control_characters_are_printed_visibly(hostile_corpus, capsys, command):
    code = cli.main([command, "When did the lighthouse keeper ring the bell?", "--corpus",
                     str(hostile_corpus)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert not any(c in out for c in "\x1b\x07\x9b")
    assert "\\x1b]0;owned\\x07" in out or "\\x1b[2J" in out or "\\x9b31m" in out


def test_json_output_escapes_every_control_character_and_still_verifies(hostile_corpus, capsys):
    question = "When did the lighthouse keeper ring the bell?"
    assert cli.main(["ask", question, "--json", "--corpus", str(hostile_corpus)]) == 0
    out = capsys.readouterr().out
    assert not any(c in out for c in "\x1b\x07\x9b")
    data = json.loads(out)
    spans = [*data["citations"], *data["related"]]
    assert any(c["doc_id"] == "keeper.txt" for c in spans)
    for c in spans:
        assert read_text(c["path"])[c["start"] : c["end"]] == c["quote"]


def test_printable_keeps_text_and_shows_controls():
    assert cli.printable("a\x1b[2Jb\tc\n\x07\x7f\x9b") == "a\\x1b[2Jb\tc\n\\x07\\x7f\\x9b"
    assert cli.printable("Grüße, 東京 🤔") == "Grüße, 東京 🤔"
    assert cli.printable("one\r\ntwo\rthree") == "one\ntwo\\x0dthree"  # CRLF files stay readable


def test_a_file_name_with_control_characters_is_logged_visibly(tmp_path):
    corpus = tmp_path / "bad"
    corpus.mkdir()
    (corpus / "x\x1b[2J.txt").write_bytes(b"caf\xe9")  # not UTF-8: skipped with a warning
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    out = subprocess.run(
        [sys.executable, "-m", "rag", "index", str(corpus)],
        capture_output=True, env=env, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert out.returncode == 2  # no readable document: no model is loaded
    assert b"\x1b" not in out.stderr and b"x\\x1b[2J.txt" in out.stderr
