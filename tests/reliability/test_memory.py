"""Memory stays flat: after 1,000 questions in one process, and after 100 chat sessions served.

RSS is read from ``/proc`` after a warm-up (the first questions load the model, fill the
allocator's pools and gradio's caches), then after the measured run; both figures are printed.
The bound (50 MB) is generous on purpose: a leak of one answer per question (~20 KB) or one
session's state per session (~200 KB) would still cross it, allocator noise would not.
"""

from __future__ import annotations

import gc
import json
import time

import pytest
from conftest import ROOT
from serving import app, chains, launched, report, rss_mb

BOUND_MB = 50
QUESTIONS = 1_000
SESSIONS = 100


def eval_questions() -> list[str]:
    with open(ROOT / "eval" / "qa.jsonl", encoding="utf-8") as f:
        return [q for line in f if line.strip() for q in json.loads(line)["turns"]]


@pytest.mark.slow
def test_a_thousand_questions_grow_rss_by_less_than_the_bound(assistant, request):
    questions = eval_questions()  # ~120 questions, answered and abstained, asked in turn
    for question in questions:
        assistant.ask(question)
    gc.collect()
    before = rss_mb()
    for i in range(QUESTIONS):
        assistant.ask(questions[i % len(questions)], history=questions[i - 1 : i])
    gc.collect()
    grown = rss_mb() - before
    report(request.config, f"RSS after {QUESTIONS} asks: {before:.0f} -> +{grown:.1f} MB")
    assert grown < BOUND_MB


def chat_session(client, chain: list[str]) -> None:
    """A new session (a new tab, as gradio counts them) that asks one chain and leaves."""
    client.reset_session()
    for question in chain:
        client.predict(question, 5, 0.45, api_name="/chat")


@pytest.mark.slow
def test_a_hundred_chat_sessions_grow_rss_by_less_than_the_bound(assistant, request):
    from gradio_client import Client

    topics = chains()
    with launched(assistant) as (demo, url):
        client = Client(url, verbose=False)
        for i in range(10):
            chat_session(client, topics[i % len(topics)])
        gc.collect()
        before = rss_mb()
        for i in range(SESSIONS):
            chat_session(client, topics[i % len(topics)])
        gc.collect()
        grown = rss_mb() - before
        held = len(demo.state_holder.session_data)
        client.close()
    report(
        request.config,
        f"RSS after {SESSIONS} chat sessions: {before:.0f} -> +{grown:.1f} MB "
        f"({grown * 1024 / SESSIONS:.0f} KB a session; {held} sessions held)",
    )
    assert grown < BOUND_MB


@pytest.mark.slow
def test_an_idle_session_is_forgotten_whole(assistant, monkeypatch):
    """Gradio drops only a session's ``gr.State`` when it expires; the session itself (a copy of
    every component's config, and its last chat and document view) stayed until 1,000 newer
    sessions pushed it out. Idle for ``SESSION_TTL``, a session is now dropped whole."""
    from gradio_client import Client

    monkeypatch.setattr(app, "SESSION_TTL", 2)
    with launched(assistant) as (demo, url):
        client = Client(url, verbose=False)
        for chain in chains()[:3]:
            chat_session(client, chain)
        holder = demo.state_holder
        # Held until idle (on a loaded machine the first may already have expired: TTL is 2 s).
        assert len(holder.session_data) >= 1
        deadline = time.monotonic() + 20
        while holder.session_data and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(holder.session_data) == 0
        # A session that comes back after that starts a new conversation, without an error.
        messages, *_ = client.predict(chains()[0][1], 5, 0.45, api_name="/chat")
        assert len(messages) == 2
        client.close()
