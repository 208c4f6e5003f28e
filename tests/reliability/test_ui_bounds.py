"""The web UI is bounded and answers bad input with a message.

Unit tests drive ``ChatUI`` over the session's real index; the server tests launch the app once
(on a free port, over the same index) and talk to it over HTTP as clients do.
"""

from __future__ import annotations

import json

import gradio as gr
import pytest
from serving import app, free_port, launched

LETTER = "Who sent the letter to General Dunford?"


def final(ui: app.ChatUI, question: str, turns: list) -> tuple:
    """The /chat API's update; the browser's stream ends on the same values."""
    reply = ui.reply(question, turns, 5, 0.3)
    *_, streamed, ending = ui.respond(question, turns, 5, 0.3)
    assert ending == (gr.skip(),) * 5 and streamed[0] == reply[0] and streamed[2] == reply[2]
    return reply


@pytest.mark.slow
def test_a_session_keeps_only_its_last_turns(assistant):
    ui = app.ChatUI(assistant)
    answer = assistant.ask(LETTER)
    turns = [(f"question {i}", answer) for i in range(app.MAX_TURNS + 5)]
    messages, _, kept, *_ = final(ui, LETTER, turns)
    assert len(kept) == app.MAX_TURNS
    assert kept[0][0] == "question 6" and kept[-1][0] == LETTER
    assert len(messages) == 2 * app.MAX_TURNS  # the reply no longer grows with the session


@pytest.mark.slow
def test_api_ask_answers_a_surrogate_and_refuses_non_strings_with_a_message(assistant):
    ui = app.ChatUI(assistant)
    text, data = ui.api_ask(LETTER + "\ud800")
    assert "Gerasimov" in text and data["question"] == LETTER + "\ufffd"
    with pytest.raises(gr.Error, match="history\\[0\\] must be an earlier question"):
        ui.api_ask(LETTER, [1])
    with pytest.raises(gr.Error, match="a question must be text"):
        ui.api_ask(12)
    with pytest.raises(gr.Error, match="A question must be text, not int"):
        final(ui, 12, [])


@pytest.mark.slow
def test_state_expires_and_the_queue_is_bounded(assistant):
    demo = app.build_demo(assistant)
    states = [b for b in demo.blocks.values() if isinstance(b, gr.State)]
    assert [s.time_to_live for s in states] == [app.SESSION_TTL]
    assert demo._queue.max_size == app.QUEUE_SIZE
    assert demo.delete_cache == (app.UPLOAD_AGE, app.UPLOAD_AGE)


@pytest.fixture(scope="module")
def server(assistant):
    with launched(assistant) as served:  # uploads off: gradio's upload route takes next to nothing
        yield served


@pytest.mark.slow
def test_gradio_upload_route_refuses_large_files(server):
    import httpx

    demo, url = server
    assert demo.max_file_size == 1024 and demo.state_session_capacity == app.MAX_SESSIONS
    big = {"files": ("big.bin", b"x" * 100_000, "application/octet-stream")}
    response = httpx.post(f"{url.rstrip('/')}/gradio_api/upload", files=big, timeout=30)
    assert response.status_code == 413


def call(url: str, api: str, body: bytes) -> tuple[str, object]:
    """POST raw JSON to gradio's REST route, then read its result: (event, data)."""
    import httpx

    base = f"{url.rstrip('/')}/gradio_api/call/{api}"
    headers = {"Content-Type": "application/json"}
    event_id = httpx.post(base, content=body, headers=headers, timeout=30).json()["event_id"]
    stream = httpx.get(f"{base}/{event_id}", timeout=120).text
    lines = [ln for ln in stream.splitlines() if ln.startswith(("event:", "data:"))]
    event, data = lines[-2].split(":", 1)[1].strip(), lines[-1].split(":", 1)[1].strip()
    return event, json.loads(data)


@pytest.mark.slow
def test_http_clients_get_an_answer_or_a_readable_error(server):
    url = server[1]
    # A JSON client may send a lone surrogate as an escape (gradio_client cannot encode one).
    question = json.dumps(LETTER + "\ud800")  # '"...\\ud800"'
    event, (text, data) = call(url, "ask", f'{{"data": [{question}, null]}}'.encode())
    assert event == "complete" and "Gerasimov" in text
    assert data["question"] == LETTER + "\ufffd"
    event, message = call(url, "ask", f'{{"data": [{question}, [1, null]]}}'.encode())
    assert event == "error"
    assert message["error"] == "history[0] must be an earlier question (str) or a Turn, not int."


@pytest.mark.slow
def test_an_overloaded_queue_answers_busy_at_once(assistant, monkeypatch):
    import functools
    import threading

    import httpx

    release = threading.Event()
    answer = app.ChatUI.api_ask

    @functools.wraps(answer)
    def stuck(self, question, history=None):
        release.wait(60)  # holds the one worker until the test has filled the queue
        return answer(self, question, history)

    monkeypatch.setattr(app.ChatUI, "api_ask", stuck)
    monkeypatch.setattr(app, "QUEUE_SIZE", 1)
    monkeypatch.setattr(app, "CONCURRENCY", 1)
    demo = app.build_demo(assistant)
    _, url, _ = app.launch(demo, port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        body = {"data": [LETTER, None]}
        codes = [
            httpx.post(f"{url.rstrip('/')}/gradio_api/call/ask", json=body, timeout=30)
            for _ in range(5)
        ]
        refused = [r for r in codes if r.status_code == 503]
        assert 1 <= 5 - len(refused) <= 2  # one running, at most one waiting
        assert all("Queue is full" in r.json()["detail"] for r in refused)
    finally:
        release.set()
        demo.close()


@pytest.mark.slow
def test_the_chat_endpoint_shows_a_surrogate_as_a_replacement_character(server):
    question = json.dumps(LETTER + "\ud800")
    event, data = call(server[1], "chat", f'{{"data": [{question}, 5, 0.3]}}'.encode())
    assert event == "complete"
    messages = data[0]
    assert "Gerasimov" in json.dumps(messages)
    assert messages[0]["content"][0]["text"] == f'<div class="rag-user">{LETTER}\ufffd</div>'


@pytest.mark.slow
def test_an_answer_past_the_timeout_is_given_up_with_a_message(assistant, monkeypatch):
    import copy
    import threading

    from gradio_client import Client
    from gradio_client.exceptions import AppError

    release = threading.Event()
    answer = app.ChatUI._ask_now

    def slow(self, *args):
        release.wait(30)  # far past the timeout; set free when the test ends
        return answer(self, *args)

    monkeypatch.setattr(app.ChatUI, "_ask_now", slow)
    served = copy.copy(assistant)
    served.settings = assistant.settings.with_(request_timeout_s=0.5)
    demo = app.build_demo(served)
    _, url, _ = app.launch(demo, port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        client = Client(url, verbose=False)
        with pytest.raises(AppError, match="took too long to answer \\(over 0.5 s\\)"):
            client.predict(LETTER, None, api_name="/ask")
        release.set()
        text, _ = client.predict(LETTER, None, api_name="/ask")  # the server still answers
        assert "Gerasimov" in text
    finally:
        release.set()
        demo.close()
