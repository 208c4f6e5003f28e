"""What one chat turn sends over the wire: bounded by ``MAX_TURNS``, and the transcript once.

A turn is posted as clients post it (``/queue/join``, then the event stream of
``/queue/data``, as the browser and ``gradio_client`` do; or the REST ``/call/chat``) and every
byte of its stream is counted, at turn 1, at turn ``MAX_TURNS`` and at turn 30. Gradio sends a
streaming run's first update whole, the later ones as diffs, then every output's last value
whole again; the REST route sends every update whole. So the browser's event streams and ends
with nothing (its values are on screen already), and the ``/chat`` API answers in one update.
"""

from __future__ import annotations

import json
import uuid

import pytest
from serving import app, launched, report

CHAIN = ["Who sent the letter to General Dunford?", "What did he propose?", "When was it sent?"]
TURNS = 30
MEASURED = (1, app.MAX_TURNS, TURNS)


def stream(client, base: str, fn_index: int, session: str, question: str) -> tuple[int, list]:
    """(bytes of the turn's event stream, its messages) for one ``/queue/join`` call."""
    body = {"data": [question, None, 5, 0.3], "fn_index": fn_index, "session_hash": session}
    client.post(f"{base}/queue/join", json=body).raise_for_status()
    sent, messages = 0, []
    with client.stream("GET", f"{base}/queue/data", params={"session_hash": session}) as lines:
        for line in lines.iter_lines():
            sent += len(line.encode()) + 1
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message["msg"] in ("process_generating", "process_completed"):
                    messages.append(message)
                if message["msg"] == "process_completed":
                    break
    return sent, messages


def rest(client, base: str, session: str, question: str) -> tuple[int, list]:
    """(bytes of the REST route's stream, the conversation it ends with) for one question."""
    body = {"data": [question, 5, 0.3], "session_hash": session}
    event = client.post(f"{base}/call/chat", json=body).json()["event_id"]
    text = client.get(f"{base}/call/chat/{event}").text
    last = [ln for ln in text.splitlines() if ln.startswith("data:")][-1]
    return len(text.encode()), json.loads(last[5:])[0]


def browser_fn(demo) -> int:
    """The fn_index of the question box's own event (the browser's, not the API's)."""
    return next(i for i, fn in demo.fns.items() if getattr(fn.fn, "__name__", "") == "respond")


@pytest.mark.slow
def test_a_turn_sends_the_transcript_once_and_stops_growing_at_max_turns(assistant, request):
    import httpx

    with launched(assistant) as (demo, url), httpx.Client(timeout=120) as client:
        base = f"{url.rstrip('/')}/gradio_api"
        api = next(i for i, fn in demo.fns.items() if fn.api_name == "chat")
        routes = {"browser": browser_fn(demo), "api": api}
        assert routes["browser"] != routes["api"]
        sizes = {name: {} for name in (*routes, "rest")}
        sessions = {name: uuid.uuid4().hex for name in sizes}
        for turn in range(1, TURNS + 1):
            question = CHAIN[(turn - 1) % len(CHAIN)]
            for name, fn_index in routes.items():
                sent, messages = stream(client, base, fn_index, sessions[name], question)
                sizes[name][turn] = sent
                if name == "api" and turn in MEASURED:
                    transcript = len(json.dumps(messages[-1]["output"]["data"][0]))
                    viewer = len(json.dumps(messages[-1]["output"]["data"][4]))
                    # One update, holding the transcript (at most MAX_TURNS exchanges) once.
                    assert [m["msg"] for m in messages] == ["process_completed"]
                    assert sent < 1.2 * (transcript + viewer) + 2_000
                if name == "browser" and turn in MEASURED:
                    first, *later = (len(json.dumps(m["output"]["data"])) for m in messages)
                    # The first update is the whole chat (with the question and a placeholder),
                    # the later ones diffs and the document view once, the last one nothing.
                    assert sum(later) < first or sum(later) < 40_000
                    assert len(json.dumps(messages[-1]["output"]["data"])) < 200
            sizes["rest"][turn], shown = rest(client, base, sessions["rest"], question)
            assert len(shown) == 2 * min(turn, app.MAX_TURNS)
    line = "; ".join(
        f"{name} " + ", ".join(f"turn {t}: {sizes[name][t] / 1024:.1f} KB" for t in MEASURED)
        for name in sizes
    )
    report(request.config, f"bytes sent for one /chat turn: {line}")
    for name, by_turn in sizes.items():
        assert by_turn[TURNS] < 1.05 * by_turn[app.MAX_TURNS], name  # bounded, no growth
