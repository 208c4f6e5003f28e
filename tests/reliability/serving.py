"""The app served for real on 127.0.0.1, for tests that talk to it as clients do.

``launched(assistant)`` builds the demo exactly as ``python app.py`` does, serves it on a free
port without blocking, and closes it afterwards. ``chains()`` are the eval set's multi-turn
conversations (a question, then follow-ups), each about its own topic. ``rss_mb()`` is this
process's resident memory, which includes the server's: it runs in a thread of this process.
"""

from __future__ import annotations

import copy
import json
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT))  # app.py sits at the top level, outside the rag package
import app  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def launched(assistant, uploads: bool = False) -> Iterator[tuple[object, str]]:
    """(demo, url) of the app over ``assistant``, uploads off unless asked for."""
    served = copy.copy(assistant)
    served.settings = assistant.settings.with_(uploads=uploads)
    demo = app.build_demo(served)
    _, url, _ = app.launch(demo, port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield demo, url
    finally:
        demo.close()


def chains() -> list[list[str]]:
    """The multi-turn items of ``eval/qa.jsonl``, in file order: [question, follow-up, ...]."""
    with open(ROOT / "eval" / "qa.jsonl", encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    return [item["turns"] for item in items if len(item["turns"]) > 1]


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux ``/proc``); skips the test elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            line = next(ln for ln in f if ln.startswith("VmRSS:"))
    except OSError:
        pytest.skip("no /proc/self/status to read RSS from")
    return int(line.split()[1]) / 1024


def report(config, line: str) -> None:
    """Print a measured figure on the terminal, whatever pytest captures."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"[measured] {line}")
