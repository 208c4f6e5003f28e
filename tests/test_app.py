"""The web UI (app.py): its HTML escaping, its settings, and the running app via gradio_client.

Fast tests check the pure formatting in ``rag.ui_format`` with hand-made records. The slow ones
build the real index once (in a temporary folder), launch the app on a free port and talk to it
as API clients do.
"""

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rag.records import Answer, Citation, DocMeta, Document
from rag.ui_format import answer_html, citation_dict, highlight, viewer_html

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
sys.path.insert(0, str(ROOT))  # app.py sits at the top level, outside the rag package

HOSTILE = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1"> tail'


def hostile_records() -> tuple[Document, Citation]:
    """A document whose text is markup, and a citation of its <script> span."""
    doc = Document("evil.txt", Path("evil.txt"), HOSTILE, DocMeta(title="<b>T</b>"), "")
    end = HOSTILE.index("</script>") + len("</script>")
    quote = HOSTILE[:end]
    c = Citation(1, "evil.txt", "<b>T</b>", "evil.txt", 0, end, quote, "<i>", None, None, 1.0)
    return doc, c


def test_document_markup_is_escaped_in_viewer_and_messages():
    doc, c = hostile_records()
    answer = Answer(f"“{c.quote}” [1]", (c,), False, "q", "q")
    for page in (viewer_html(doc, c), answer_html(answer, lambda _: doc.text)):
        assert "<script" not in page and "<img" not in page and "<b>T" not in page
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page


def test_highlight_marks_exactly_the_span():
    text = "before <quote> after"
    assert highlight(text, 7, 14) == "before <mark>&lt;quote&gt;</mark> after"


def test_abstention_shows_related_passages_apart_from_the_answer():
    doc, c = hostile_records()
    text = "The documents don't answer this question.\n\nRelated passages (not an answer):\n“x” [1]"
    page = answer_html(Answer(text, (), True, "q", "q", related=(c,)), lambda _: doc.text)
    assert "rag-abstained" in page and "No answer found" in page
    assert "Related, not an answer" in page and "Related passages (not an answer)" not in page


def test_citation_json_leaves_out_server_paths():
    _, c = hostile_records()
    assert "path" not in citation_dict(c)
    assert citation_dict(c)["quote"] == c.quote


def test_settings_come_from_flags_then_environment():
    import app

    env = {"RAG_HOST": "0.0.0.0", "RAG_PORT": "9001", "RAG_CORPUS": "docs"}
    expected = {"host": "0.0.0.0", "port": 9001, "corpus": "docs", "no_uploads": False}
    assert vars(app.parse_args([], env)) == expected
    args = app.parse_args(["--port", "7000", "--corpus", "c"], env)
    assert (args.host, args.port, args.corpus) == ("0.0.0.0", 7000, "c")
    defaults = {"host": "127.0.0.1", "port": 7860, "corpus": "corpus", "no_uploads": False}
    assert vars(app.parse_args([], {})) == defaults
    assert app.parse_args(["--no-uploads"], {}).no_uploads


def test_importing_app_starts_no_server():
    code = "import threading, app; print([t.name for t in threading.enumerate()])"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['MainThread']"


# --- the running app -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    from rag import Assistant

    return Assistant.from_directory(CORPUS, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def server(assistant):
    import app

    demo = app.build_demo(assistant)
    _, url, _ = app.launch(demo, port=free_port(), prevent_thread_lock=True, quiet=True)
    yield url
    demo.close()


def connect(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


def read(doc_id: str) -> str:
    return (CORPUS / doc_id).read_bytes().decode("utf-8")


@pytest.mark.slow
def test_api_lists_the_ask_endpoint_only_with_public_events(server):
    endpoints = connect(server).view_api(return_format="dict", print_info=False)
    named = endpoints["named_endpoints"]
    assert set(named) == {"/ask", "/chat", "/new_chat", "/upload", "/remove"}
    assert [p["parameter_name"] for p in named["/ask"]["parameters"]] == ["question", "history"]
    # viewer and selection plumbing stays private


@pytest.mark.slow
def test_follow_up_searches_a_rewritten_query(server):
    client = connect(server)
    first = "Who sent the letter to General Dunford?"
    text, data = client.predict(first, api_name="/ask")
    assert "Gerasimov" in text and not data["abstained"]
    follow_up = "When was that letter sent?"
    text, data = client.predict(follow_up, [first], api_name="/ask")
    assert data["question"] == follow_up
    assert data["query"] != follow_up and data["rewritten"]
    assert "July 19" in text
    # Earlier questions sent as strings are answered again, so "he" is the name quoted then.
    text, data = client.predict("What did he propose?", [first], api_name="/ask")
    assert "Gerasimov" in data["query"]


@pytest.mark.slow
def test_citations_are_exact_spans_of_the_files(server):
    client = connect(server)
    metadata = json.loads((CORPUS / "metadata.json").read_text(encoding="utf-8"))
    questions = ["How much would rebuilding Syria cost?", "Which charity did the IOM work with?"]
    for question in questions:
        _, data = client.predict(question, api_name="/ask")
        assert data["citations"], question
        for c in data["citations"]:
            assert read(c["doc_id"])[c["start"] : c["end"]] == c["quote"]
            assert c["title"] == metadata[c["doc_id"]]["title"]
            assert {"author", "publisher", "date", "speaker"} <= set(c)


@pytest.mark.slow
def test_unanswerable_question_abstains_with_related_passages(server):
    _, data = connect(server).predict("What is the capital of Australia?", api_name="/ask")
    assert data["abstained"] and not data["citations"]
    for c in data["related"]:
        assert read(c["doc_id"])[c["start"] : c["end"]] == c["quote"]


def chat_text(messages: list[dict]) -> str:
    """All text of a Chatbot value as the client returns it, for substring checks."""
    return json.dumps(messages, ensure_ascii=False)


@pytest.mark.slow
def test_two_users_at_once_keep_separate_conversations(server):
    conversations = {
        "a": ["Who sent the letter to General Dunford?", "When was that letter sent?"],
        "b": ["How much would rebuilding Syria cost?", "Who made that estimate?"],
    }
    start = threading.Barrier(len(conversations))
    seen: dict[str, str] = {}

    def talk(name: str) -> None:
        client = connect(server)  # one client, one session, one gr.State
        start.wait()
        for question in conversations[name]:
            messages, *_ = client.predict(question, 5, 0.45, api_name="/chat")
        seen[name] = chat_text(messages)

    threads = [threading.Thread(target=talk, args=(name,)) for name in conversations]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    mine, theirs = conversations["a"], conversations["b"]
    assert all(q in seen["a"] for q in mine) and not any(q in seen["a"] for q in theirs)
    assert all(q in seen["b"] for q in theirs) and not any(q in seen["b"] for q in mine)
    assert "Searched for" in seen["a"]  # the follow-up drew on this session's own history


@pytest.mark.slow
def test_new_chat_forgets_the_conversation(server):
    client = connect(server)
    client.predict("Who sent the letter to General Dunford?", 5, 0.45, api_name="/chat")
    client.predict(api_name="/new_chat")
    messages, *_ = client.predict("When was that letter sent?", 5, 0.45, api_name="/chat")
    assert "Dunford?" not in chat_text(messages) and len(messages) == 2


@pytest.mark.slow
def test_a_chat_follow_up_resolves_a_pronoun_from_the_previous_answer(server):
    client = connect(server)
    client.predict("Who sent the letter to General Dunford?", 5, 0.45, api_name="/chat")
    messages, *_ = client.predict("What did he propose?", 5, 0.45, api_name="/chat")
    # The chat passes its earlier answers, not only its questions: "he" is the sender quoted.
    assert "What did Valery Gerasimov propose?" in chat_text(messages)


# --- adding and removing documents ------------------------------------------------------------

OKAPI = "The okapi sanctuary opened in 1987 near the Ituri river.\n"
TAPIR = "The tapir enclosure was rebuilt in 2004 with a new pond.\n"


@pytest.fixture(scope="module")
def uploading(tmp_path_factory):
    """A server over a private copy of the tiny corpus, uploads on; yields (url, corpus)."""
    from conftest import write_tiny

    import app
    from rag import Assistant

    corpus = write_tiny(tmp_path_factory.mktemp("upload-corpus") / "tiny")
    assistant = Assistant.from_directory(corpus, index_dir=tmp_path_factory.mktemp("up-index"))
    demo = app.build_demo(assistant)
    _, url, _ = app.launch(demo, port=free_port(), prevent_thread_lock=True, quiet=True)
    yield url, corpus
    demo.close()


def files_in(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.mark.slow
def test_upload_indexes_the_good_file_refuses_the_bad_and_remove_undoes_it(uploading, tmp_path):
    from gradio_client import handle_file

    url, corpus = uploading
    client = connect(url)
    good, bad = tmp_path / "okapi.txt", tmp_path / "report.pdf"
    good.write_text(OKAPI, encoding="utf-8")
    bad.write_text("plain text with a .pdf name", encoding="utf-8")
    before = files_in(corpus)
    status, _, rows, picker = client.predict(  # the accordion, a layout, is not returned
        [handle_file(str(good)), handle_file(str(bad))], api_name="/upload"
    )
    assert "Added: okapi.txt" in status and "Refused report.pdf" in status and "%PDF-" in status
    assert files_in(corpus) == sorted([*before, "uploads/okapi.txt"])
    assert picker["choices"] == [["uploads/okapi.txt", "uploads/okapi.txt"]]
    assert "uploads/okapi.txt" in chat_text(rows)
    _, data = client.predict("When did the okapi sanctuary open?", api_name="/ask")
    c = data["citations"][0]
    assert c["doc_id"] == "uploads/okapi.txt" and not data["abstained"]
    assert (corpus / c["doc_id"]).read_text(encoding="utf-8")[c["start"] : c["end"]] == c["quote"]

    status, *_, picker = client.predict("uploads/okapi.txt", api_name="/remove")
    assert "Removed uploads/okapi.txt" in status and picker["choices"] == []
    assert files_in(corpus) == before
    _, data = client.predict("When did the okapi sanctuary open?", api_name="/ask")
    assert all(c["doc_id"] != "uploads/okapi.txt" for c in data["citations"] + data["related"])


@pytest.mark.slow
def test_a_file_put_in_the_folder_is_answered_from_without_a_restart(uploading):
    url, corpus = uploading
    (corpus / "tapir.txt").write_text(TAPIR, encoding="utf-8")
    try:
        _, data = connect(url).predict("When was the tapir enclosure rebuilt?", api_name="/ask")
        assert (
            data["citations"][0]["doc_id"] == "tapir.txt"
            and "2004" in data["citations"][0]["quote"]
        )
    finally:
        (corpus / "tapir.txt").unlink()


@pytest.mark.slow
def test_no_uploads_means_no_upload_endpoints(assistant):
    import app
    from rag import Assistant

    off = Assistant(
        assistant._index, assistant.settings.with_(uploads=False), assistant.index_dir,
        assistant.encoder, assistant.corpus,
    )  # fmt: skip
    demo = app.build_demo(off)
    try:
        _, url, _ = app.launch(demo, port=free_port(), prevent_thread_lock=True, quiet=True)
        named = connect(url).view_api(return_format="dict", print_info=False)["named_endpoints"]
        assert set(named) == {"/ask", "/chat", "/new_chat"}
    finally:
        demo.close()


def test_a_source_whose_document_is_gone_shows_its_quote_alone():
    from rag.ui_format import viewer_gone

    doc, c = hostile_records()
    page = answer_html(Answer(f"“{c.quote}” [1]", (c,), False, "q", "q"), lambda _: "")
    assert "no longer in the corpus as quoted" in page and "<script" not in page
    assert "evil.txt is no longer in the corpus" in viewer_gone(c) and "<script" not in viewer_gone(
        c
    )
