"""Twenty users at once on multi-turn chats, for a minute: no error and no cross-talk.

Each user is its own ``gradio_client`` session over the real server and the shipped corpus. It
talks through one of the eval set's multi-turn chains (a question, then follow-ups that need
the earlier answers), starts a new chat, and goes round again until the time is up. Every reply
must equal, to the character, the reply the same chain got when asked alone before the load
began: a follow-up resolved with another user's history, or a message from another session,
would differ. ``LOAD_TEST_SECONDS`` sets the duration (default 60, as CI runs it).
"""

from __future__ import annotations

import os
import statistics
import threading
import time

import pytest
from serving import chains, launched, report

USERS = 20
SECONDS = float(os.environ.get("LOAD_TEST_SECONDS", "60"))
REPLY_TIMEOUT = 60  # seconds one reply may take under load before it counts as an error
K, STRICTNESS = 5, 0.45


def talk(client, question: str) -> list[dict]:
    """One /chat turn; the conversation as the client receives it."""
    messages, *_ = client.submit(question, K, STRICTNESS, api_name="/chat").result(REPLY_TIMEOUT)
    return messages


def alone(client, chain: list[str]) -> list[list[dict]]:
    """The conversation after each turn of ``chain``, asked in a new session on a quiet server."""
    client.reset_session()
    return [talk(client, question) for question in chain]


@pytest.mark.slow
def test_twenty_users_for_a_minute_get_no_error_and_no_cross_talk(assistant, request):
    from gradio_client import Client

    topics = chains()
    assert len(topics) >= 10 and len({c[0] for c in topics}) == len(topics)
    with launched(assistant) as (_, url):
        quiet = Client(url, verbose=False)
        expected = [alone(quiet, chain) for chain in topics]
        quiet.close()
        # The chains test history: most follow-ups are searched with words of earlier turns.
        rewritten = sum("Searched for" in str(e[-1][-1]) for e in expected)
        assert rewritten >= len(topics) // 2, rewritten
        clients = [Client(url, verbose=False) for _ in range(USERS)]
        errors: list[str] = []
        crossed: list[str] = []
        seconds: list[float] = []
        rounds = [0] * USERS
        lock = threading.Lock()
        start = threading.Barrier(USERS)

        def user(u: int) -> None:
            client, c = clients[u], u % len(topics)
            start.wait()
            deadline = time.monotonic() + SECONDS
            while time.monotonic() < deadline:
                for t, question in enumerate(topics[c]):
                    began = time.monotonic()
                    try:
                        got = talk(client, question)
                    except Exception as err:  # noqa: BLE001 - every failure is a finding
                        with lock:
                            errors.append(f"user {u} chain {c} turn {t}: {err!r}")
                        break
                    with lock:
                        seconds.append(time.monotonic() - began)
                        if got != expected[c][t]:
                            crossed.append(f"user {u} chain {c} turn {t}: {question!r}")
                else:
                    rounds[u] += 1
                try:
                    client.predict(api_name="/new_chat")
                except Exception as err:  # noqa: BLE001
                    with lock:
                        errors.append(f"user {u} new_chat: {err!r}")

        threads = [threading.Thread(target=user, args=(u,)) for u in range(USERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(SECONDS + 3 * REPLY_TIMEOUT)
        for client in clients:
            client.close()

    assert not any(thread.is_alive() for thread in threads), "a user never finished"
    p50, p95 = statistics.median(seconds), statistics.quantiles(seconds, n=20)[-1]
    report(
        request.config,
        f"load: {USERS} users x {SECONDS:.0f} s, {len(seconds)} replies "
        f"({len(seconds) / SECONDS:.1f}/s), {sum(rounds)} whole chains, {len(errors)} errors, "
        f"{len(crossed)} replies unlike the chain asked alone; reply p50 {p50:.2f} s, "
        f"p95 {p95:.2f} s",
    )
    assert errors == []
    assert crossed == []
    assert min(rounds) >= 1  # every user finished at least one whole chain
