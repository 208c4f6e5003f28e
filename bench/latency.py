"""Cold start to first answer, and answer / search latency with the index loaded.

Cold start: a fresh ``python`` process over an index that is already built (and a model export
that already exists), timed by the parent from spawning it until the answer is printed. Two
forms: the Python API (the child prints a mark right after the answer, so interpreter exit is
not counted) and the ``rag ask`` CLI (timed to exit: what a shell user waits for).

Latency: ``Assistant.ask`` on the last turn of every eval item, with its earlier turns as
history, after one warm-up question; and ``Assistant.search`` on the same queries.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.common import (
    MARK,
    PYTHON,
    child_env,
    conversations,
    median,
    peak_rss_mb,
    summarize,
)

QUESTION = "Who wrote to General Dunford?"

_API_CHILD = """
import sys
from rag import Assistant
assistant = Assistant.from_directory(sys.argv[1], index_dir=sys.argv[2])
answer = assistant.ask(sys.argv[3])
print(answer.text)
print({mark!r}, flush=True)
"""


def cold_start(corpus: Path, index_dir: Path, runs: int = 3) -> dict:
    """Median seconds to the first answer in a fresh process, API and CLI."""
    from bench.common import time_until_mark

    env = child_env()
    api = [PYTHON, "-c", _API_CHILD.format(mark=MARK), str(corpus), str(index_dir), QUESTION]
    cli = [
        PYTHON,
        "-m",
        "rag.cli",
        "--index-dir",
        str(index_dir),
        "ask",
        QUESTION,
        "--corpus",
        str(corpus),
    ]
    api_runs = [time_until_mark(api, env) for _ in range(runs)]
    result = {
        "api_s": round(median([r["to_answer_s"] for r in api_runs]), 3),
        "api_runs_s": [round(r["to_answer_s"], 3) for r in api_runs],
        "api_exit_s": round(median([r["to_exit_s"] for r in api_runs]), 3),
        "answer_excerpt": api_runs[0]["stdout"].split(MARK)[0].strip()[:160],
    }
    try:
        cli_runs = [time_until_mark(cli, env) for _ in range(runs)]
        result["cli_exit_s"] = round(median([r["to_exit_s"] for r in cli_runs]), 3)
    except RuntimeError as error:  # the CLI is optional for this figure
        result["cli_error"] = str(error)[-300:]
    return result


def answer_latency(corpus: Path, index_dir: Path, passes: int = 2) -> dict:
    """p50/p95 of ``ask`` and ``search`` over the eval questions, index loaded and warm."""
    from rag import Assistant

    assistant = Assistant.from_directory(corpus, index_dir=index_dir)
    assistant.ask(QUESTION)  # loads the encoder: cold start is measured on its own
    asks, searches, abstained = [], [], 0
    chats = conversations(assistant.ask)
    for _ in range(passes):
        for question, history in chats:
            started = time.perf_counter()
            answer = assistant.ask(question, history=history)
            asks.append(time.perf_counter() - started)
            abstained += answer.abstained
            started = time.perf_counter()
            assistant.search(question)
            searches.append(time.perf_counter() - started)
    encode = []
    for question, _ in chats:
        started = time.perf_counter()
        assistant.encoder.encode([question])
        encode.append(time.perf_counter() - started)
    return {
        "questions": len(chats),
        "passes": passes,
        "ask": summarize(asks),
        "search": summarize(searches),
        "query_encode": summarize(encode),
        "abstained_share": round(abstained / max(1, len(asks)), 3),
        "encoder": type(assistant.encoder).__name__,
        "peak_rss_mb": peak_rss_mb(),
    }
