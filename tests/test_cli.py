"""The `rag` command: each subcommand's output, JSON that verifies, errors as exit code 2."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, read

import rag
from rag import cli


@pytest.fixture
def run(assistant, real_encoder, capsys):
    """Run `rag --index-dir <session index> ...` in this process; returns (code, out, err)."""

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = cli.main(["--index-dir", str(assistant.index_dir), *argv, "--corpus", str(CORPUS)])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_formatting_helpers():
    assert cli.excerpt("a  b\n c", 10) == "a b c"
    assert cli.excerpt("word " * 100, 20) == "word word word word…"
    assert json.loads(cli.to_json([{"p": Path("x/y.txt")}])) == [{"p": "x/y.txt"}]


@pytest.mark.slow
def test_ask_json_parses_and_its_citations_verify(run, assistant):
    code, out, _ = run("ask", "How much will rebuilding Syria cost?", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["question"] == "How much will rebuilding Syria cost?"
    assert data["abstained"] is False and data["rewritten"] is False
    assert data["citations"]
    for c in data["citations"]:
        assert read(c["path"])[c["start"] : c["end"]] == c["quote"]
    assert any("$250 billion" in c["quote"] for c in data["citations"])
    expected = assistant.ask("How much will rebuilding Syria cost?")
    assert [(c["doc_id"], c["start"], c["end"]) for c in data["citations"]] == [
        (c.doc_id, c.start, c.end) for c in expected.citations
    ]


@pytest.mark.slow
def test_ask_prints_the_answer_then_numbered_citations_with_spans(run, assistant):
    code, out, _ = run("ask", "Who sent the letter to Dunford?")
    assert code == 0
    answer = assistant.ask("Who sent the letter to Dunford?")
    assert out.startswith(answer.text)
    assert "Citations:" in out and "Searched for" not in out
    for c in answer.citations:
        assert f"[{c.n}] {c.title}" in out
        assert f"{c.doc_id} [{c.start}:{c.end}]" in out
        assert c.publisher in out and c.date in out


@pytest.mark.slow
def test_ask_marks_an_abstention_and_lists_related_passages_apart(run):
    code, out, _ = run("ask", "What is a good recipe for hummus?")
    assert code == 0
    assert "[No answer]" in out
    assert "Citations:" not in out
    assert out.count("Related passages (not an answer):") == 1  # once, in the answer text
    assert "Sources of the related passages:" in out
    assert out.count("answer this") == 1  # one sentence says the documents don't answer it


@pytest.mark.slow
def test_search_prints_ranked_hits_with_spans(run, assistant):
    code, out, _ = run("search", "Gerasimov letter to Dunford", "--k", "3")
    assert code == 0
    hits = assistant.search("Gerasimov letter to Dunford", k=3)
    for rank, h in enumerate(hits, 1):
        assert f"{rank}. {h.score:.4f}  {h.doc_id} [{h.start}:{h.end}]  {h.title}" in out
    assert "4. " not in out


@pytest.mark.slow
def test_search_json_hits_are_exact_spans(run):
    code, out, _ = run("search", "$250 billion", "--json", "--k", "2")
    hits = json.loads(out)
    assert code == 0 and len(hits) == 2
    for h in hits:
        assert read(h["path"])[h["start"] : h["end"]] == h["text"]


@pytest.mark.slow
def test_index_prints_stats_and_folder(assistant, real_encoder, capsys):
    code = cli.main(["--index-dir", str(assistant.index_dir), "index", str(CORPUS)])
    out = capsys.readouterr().out
    assert code == 0
    s = assistant.stats
    for label, key in [("documents", "documents"), ("chunks", "chunks"), ("sentences", "sentences"),
                       ("forum posts", "posts"), ("re-quotes skipped", "requotes")]:  # fmt: skip
        assert any(line.split()[-1] == str(s[key]) for line in out.splitlines() if label in line)
    assert "embedded this load  0" in out
    assert f"Index folder: {assistant.index_dir}" in out


@pytest.mark.slow
def test_chat_loop_reads_stdin_until_quit(monkeypatch, run):
    lines = iter(["Who sent the letter to Dunford?", "What did he propose?", "/reset", "", "quit"])
    prompts: list[str] = []

    def fake_input(prompt: str) -> str:
        prompts.append(prompt)
        return next(lines)

    monkeypatch.setattr("builtins.input", fake_input)
    code, out, _ = run("chat")
    assert code == 0 and len(prompts) == 5
    assert out.count("Citations:") >= 1
    assert "Searched for: What did Valery Gerasimov propose?" in out
    assert "(new conversation)" in out


@pytest.mark.slow
def test_chat_ends_on_eof(monkeypatch, run):
    def eof(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", eof)
    assert run("chat")[0] == 0


@pytest.mark.slow
def test_chat_subprocess_over_stdin(assistant):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run(
        [sys.executable, "-m", "rag", "--index-dir", str(assistant.index_dir), "chat",
         "--corpus", str(CORPUS)],
        input="Who sent the letter to Dunford?\nWhat did he propose?\nquit\n",
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Gerasimov" in out.stdout
    assert "Searched for: What did Valery Gerasimov propose?\n" in out.stdout
    assert "Traceback" not in out.stderr


def test_index_of_an_empty_folder_exits_2_with_one_clear_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["index", str(tmp_path / "empty")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [
        f"rag: error: no readable documents in {tmp_path / 'empty'} "
        "(looked for .txt, .md, .html, .htm, .pdf, .docx files)"
    ]


def test_missing_corpus_exits_2(tmp_path, capsys):
    assert cli.main(["ask", "anything?", "--corpus", str(tmp_path / "nowhere")]) == 2
    assert "corpus folder not found" in capsys.readouterr().err


def test_console_script_reports_corpus_errors_without_a_traceback(tmp_path):
    script = Path(sys.executable).parent / "rag"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "rag.cli"]
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "bad.txt").write_bytes(random.Random(0).randbytes(4096))  # not text
    out = subprocess.run(
        [*command, "index", str(tmp_path / "empty")], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "bad.txt" in out.stderr  # the skipped file's warning shows at WARNING level
    assert out.stderr.strip().splitlines()[-1].startswith("rag: error: no readable documents")


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["ask"])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        cli.main([])
    assert exit_.value.code == 2


def test_eval_is_delegated_with_the_global_index_dir(monkeypatch, tmp_path):
    cli_eval = pytest.importorskip("rag.cli_eval")
    seen = {}

    def fake_run(args) -> int:
        seen.update(vars(args))
        return 0

    monkeypatch.setattr(cli_eval, "run", fake_run)
    assert cli.main(["--index-dir", str(tmp_path), "eval", "--corpus", "c"]) == 0
    assert seen["index_dir"] == str(tmp_path) and seen["corpus"] == "c"


def test_eval_stub_when_cli_eval_cannot_load(monkeypatch, capsys):
    monkeypatch.delattr(rag, "cli_eval", raising=False)
    monkeypatch.setitem(sys.modules, "rag.cli_eval", None)  # import fails as if absent
    assert cli.main(["eval", "--dataset", "x.jsonl", "-h"]) == 2
    assert "eval is unavailable" in capsys.readouterr().err
    assert cli.build_parser().parse_args(["search", "x"]).query == "x"  # the rest still works
