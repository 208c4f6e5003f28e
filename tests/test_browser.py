"""The UI in a real browser: Debian's chromium, headless, driven by Playwright.

A user asks, reads the answer with its citation, opens the source and sees the exact quote
highlighted; an older answer's sources still open its own quote; and a corpus of hostile files
renders as inert text. Screenshots land in test-artifacts/ (git-ignored) for a human to look at.
Needs /usr/bin/chromium (`make browser` installs it); Playwright's own browser download is not
used.
"""

import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # app.py sits at the top level, outside the rag package
CORPUS = ROOT / "corpus"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium: run `make browser`"),
]

EVIL_TXT = (
    "Zebra committee minutes.\n\n"
    "The zebra committee approved a budget of 4,200 dollars for the annual picnic.\n"
    "<script>window.__pwned=1</script>\n"
    '<img src=x onerror="window.__pwned=1">\n'
    "The picnic will be held by the lake.\n"
)
# In HTML the live tags are markup (dropped on extraction) and the escaped ones become text.
EVIL_HTML = (
    "<html><head><title>Okapi notes</title><script>window.__pwned=1</script></head><body>"
    "<p>The okapi sanctuary opened in 1987 near the Ituri river.</p>"
    "<p>&lt;script&gt;window.__pwned=1&lt;/script&gt; "
    '&lt;img src=x onerror="window.__pwned=1"&gt;</p>'
    '<img src=x onerror="window.__pwned=1"></body></html>'
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def serve():
    """Launch the app over an assistant on a free port; every server stops at session end."""
    import app

    demos = []

    def start(assistant) -> str:
        demo = app.build_demo(assistant)
        demos.append(demo)
        return app.launch(demo, port=free_port(), prevent_thread_lock=True, quiet=True)[1]

    yield start
    for demo in demos:
        demo.close()


@pytest.fixture(scope="session")
def corpus_assistant(tmp_path_factory):
    from rag import Assistant

    return Assistant.from_directory(CORPUS, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def hostile_assistant(tmp_path_factory):
    from rag import Assistant

    folder = tmp_path_factory.mktemp("hostile")
    (folder / "evil.txt").write_text(EVIL_TXT, encoding="utf-8")
    (folder / "okapi.html").write_text(EVIL_HTML, encoding="utf-8")
    return Assistant.from_directory(folder, index_dir=tmp_path_factory.mktemp("hostile-index"))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    page.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def ask(page, question: str, answers_before: int) -> None:
    """Type a question, press Enter, wait until the new answer and its sources are shown."""
    page.fill("#rag-question textarea", question)
    page.keyboard.press("Enter")
    done = "#rag-chat .rag-msg:is(.rag-answered, .rag-abstained)"
    page.wait_for_function(
        f"document.querySelectorAll('{done}').length > {answers_before}", timeout=TIMEOUT_MS
    )
    page.wait_for_selector("#rag-viewer mark")


def flat(text: str) -> str:
    """Whitespace-insensitive form: the page shows the quote's newlines as line breaks."""
    return " ".join(text.split())


def test_answer_cites_and_source_highlights_the_exact_quote(page, serve, corpus_assistant):
    url = serve(corpus_assistant)
    page.goto(url)
    page.wait_for_selector("#rag-question textarea")
    shot(page, "01-first-visit.png")

    first = "Who sent the letter to General Dunford?"
    cited = corpus_assistant.ask(first).citations[0]
    quote = cited.quote
    ask(page, first, 0)
    answer = page.locator("#rag-chat .rag-answered").last
    assert "[1]" in answer.inner_text()
    assert answer.locator(".rag-source").count() >= 1

    # Open the citation inside the message: the quote, marked, in its context.
    answer.locator(".rag-source summary .rag-n").first.click()
    in_message = answer.locator(".rag-context mark").first
    in_message.wait_for(state="visible")
    assert flat(in_message.inner_text()) == flat(quote)

    # And in the document viewer, via the source picker.
    page.locator("#rag-picker label").first.click()
    page.wait_for_selector("#rag-viewer mark")
    assert flat(page.inner_text("#rag-viewer mark")) == flat(quote)
    assert f"{cited.start}–{cited.end}" in page.inner_text("#rag-viewer .rag-offsets")
    shot(page, "02-answer-and-source.png")

    # A second answer, then back to the first message: its own source opens again.
    ask(page, "How much would rebuilding Syria cost?", 1)
    page.locator("#rag-chat .rag-answered .rag-text").first.click()
    page.wait_for_function(
        "document.querySelector('#rag-picker').innerText.includes('answer 1')", timeout=TIMEOUT_MS
    )
    page.wait_for_function(
        "(q) => document.querySelector('#rag-viewer mark')?.innerText.replace(/\\s+/g, ' ')"
        ".trim() === q",
        arg=flat(quote),
        timeout=TIMEOUT_MS,
    )
    shot(page, "03-reopened-older-source.png")


def test_abstention_looks_different(page, serve, corpus_assistant):
    page.goto(serve(corpus_assistant))
    page.wait_for_selector("#rag-question textarea")
    ask(page, "What is the capital of Australia?", 0)
    answer = page.locator("#rag-chat .rag-msg").last
    assert "rag-abstained" in answer.get_attribute("class")
    assert "No answer found" in answer.inner_text()
    assert "related, not an answer" in answer.inner_text().lower()  # the heading is upper-cased
    shot(page, "04-abstention.png")


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("How much was the zebra committee budget?", "txt"),
        ("When did the okapi sanctuary open?", "html"),
    ],
)
def test_hostile_document_renders_as_text(page, serve, hostile_assistant, question, name):
    page.goto(serve(hostile_assistant))
    page.wait_for_selector("#rag-question textarea")
    ask(page, question, 0)
    answer = page.locator("#rag-chat .rag-msg").last
    answer.locator(".rag-source summary .rag-n").first.click()
    page.locator("#rag-picker label").first.click()
    page.wait_for_selector("#rag-viewer mark")
    page.wait_for_timeout(500)  # give any injected handler the chance to run
    assert page.evaluate("typeof window.__pwned") == "undefined"
    viewer = page.inner_text("#rag-viewer")
    assert "<script>" in viewer and "onerror" in viewer
    assert page.locator("#rag-viewer script, #rag-viewer img, #rag-chat img[onerror]").count() == 0
    shot(page, f"05-hostile-{name}.png")


def test_example_question_asks_at_once_and_corpus_panel_lists_documents(
    page, serve, corpus_assistant
):
    page.goto(serve(corpus_assistant))
    page.wait_for_selector("#rag-question textarea")
    page.get_by_text("How much would rebuilding Syria cost?").click()
    page.wait_for_selector("#rag-chat .rag-answered .rag-sources")
    assert "$250 billion" in page.inner_text("#rag-chat .rag-answered")
    page.get_by_text("Documents in the corpus").click()
    for doc in corpus_assistant.documents:
        page.get_by_text(doc.meta.title).first.wait_for(state="visible")
    shot(page, "06-example-and-corpus.png")


# --- PDF sources: the cited page, its quote boxed ----------------------------------------------

PICNIC_PAGES = [
    "Orchard report.\nThe Hartley orchard grows pear trees along the river bank.",
    "Zebra committee minutes.\nThe zebra committee approved a budget of 4,200 dollars for the "
    "annual picnic by the lake.\nThe picnic will be held in June.",
]


@pytest.fixture(scope="session")
def pdf_assistant(tmp_path_factory):
    from test_pdf_view import make_pdf

    from rag import Assistant

    folder = tmp_path_factory.mktemp("pdf-corpus")
    make_pdf(folder / "minutes.pdf", PICNIC_PAGES)
    return Assistant.from_directory(folder, index_dir=tmp_path_factory.mktemp("pdf-index"))


def test_pdf_citation_shows_its_page_with_exactly_the_quote_boxed(page, serve, pdf_assistant):
    import json

    from test_pdf_view import assert_covers_exactly, pdfium_boxes

    question = "How much was the zebra committee budget?"
    cited = pdf_assistant.ask(question).citations[0]
    assert (cited.doc_id, cited.page, cited.page_end) == ("minutes.pdf", 2, 2)
    page.goto(serve(pdf_assistant))
    page.wait_for_selector("#rag-question textarea")
    ask(page, question, 0)
    page.locator("#rag-picker label").first.click()
    figure = page.locator("#rag-viewer .rag-page").first
    figure.wait_for(state="visible")
    assert f"{cited.start}–{cited.end}" in page.inner_text("#rag-viewer .rag-offsets")
    assert figure.get_attribute("data-page") == "2"
    shown = page.evaluate(
        "() => { const i = document.querySelector('#rag-viewer .rag-page img');"
        " return [i.complete, i.naturalWidth, i.naturalHeight]; }"
    )
    assert shown[0] and shown[1:] == json.loads(figure.get_attribute("data-size"))
    points = [tuple(b) for b in json.loads(figure.get_attribute("data-points"))]
    chars, near = pdfium_boxes(pdf_assistant.document("minutes.pdf").path, 2, cited.quote)
    assert_covers_exactly(tuple(points), chars, near)
    assert json.loads(figure.get_attribute("data-boxes"))  # and drawn, in pixels
    shot(page, "07-pdf-page-with-quote.png")


# --- adding documents from the chat -----------------------------------------------------------


@pytest.fixture(scope="session")
def upload_assistant(tmp_path_factory):
    from conftest import BRIDGE

    from rag import Assistant, Settings

    folder = tmp_path_factory.mktemp("upload-corpus")
    (folder / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
    settings = Settings(upload_max_bytes=200_000)
    index = tmp_path_factory.mktemp("upload-index")
    return Assistant.from_directory(folder, settings=settings, index_dir=index)


def files_in(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def docx_bytes(text: str) -> bytes:
    import io

    from docx import Document

    out = io.BytesIO()
    doc = Document()
    doc.add_paragraph(text)
    doc.save(out)
    return out.getvalue()


def upload(page, files: list[dict], done: str) -> str:
    """Drop files on the "Add documents" box; wait until the report shows ``done``."""
    page.locator("#rag-upload input[type=file]").set_input_files(files)
    page.wait_for_function(
        # The status box may be re-rendered while the upload runs: absent is "not yet".
        "(t) => { const e = document.querySelector('#rag-upload-status');"
        " return !!e && e.innerText.includes(t); }",
        arg=done,
        timeout=TIMEOUT_MS,
    )
    return page.inner_text("#rag-upload-status")


def cited_span(page) -> tuple[str, int, int]:
    """(doc_id, start, end) as the viewer states them."""
    import re

    line = page.inner_text("#rag-viewer .rag-offsets")
    doc_id, start, end = re.match(r"(\S+) · .*?characters (\d+)–(\d+)", line).groups()
    return doc_id, int(start), int(end)


def test_uploads_are_checked_stored_indexed_and_cited(page, serve, upload_assistant, tmp_path):
    from test_pdf_view import make_pdf

    from rag.documents import read_text

    corpus = upload_assistant.corpus
    page.goto(serve(upload_assistant))
    page.wait_for_selector("#rag-upload input[type=file]", state="attached")
    before = files_in(corpus)
    text = "text/plain"
    report = upload(
        page,
        [
            {"name": "../../etc/passwd.txt", "mimeType": text, "buffer": b"root:x:0:0"},
            {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": b"plain words"},
            {"name": "big.txt", "mimeType": text, "buffer": b"word " * 50_000},
        ],
        "Refused big.txt",
    )
    assert "Refused ../../etc/passwd.txt: the name holds a folder path" in report
    assert "Refused notes.pdf: a .pdf file must start with %PDF-" in report
    assert "Refused big.txt: 250,000 bytes is over the 200,000 bytes limit" in report
    assert "Added" not in report and files_in(corpus) == before
    shot(page, "08-upload-refused.png")

    pdf = make_pdf(tmp_path / "minutes.pdf", PICNIC_PAGES).read_bytes()
    okapi = "The okapi sanctuary opened in 1987 near the Ituri river."
    report = upload(
        page,
        [
            {"name": "minutes.pdf", "mimeType": "application/pdf", "buffer": pdf},
            {
                "name": "okapi.docx",
                "mimeType": "application/octet-stream",
                "buffer": docx_bytes(okapi),
            },
        ],
        "Indexed",
    )
    assert "Added: minutes.pdf, okapi.docx" in report and "Refused" not in report
    assert files_in(corpus) == sorted([*before, "uploads/minutes.pdf", "uploads/okapi.docx"])

    ask(page, "When did the okapi sanctuary open?", 0)
    doc_id, start, end = cited_span(page)
    assert doc_id == "uploads/okapi.docx"
    assert read_text(corpus / doc_id)[start:end] == okapi
    assert flat(page.inner_text("#rag-viewer mark")) == okapi

    ask(page, "How much was the zebra committee budget?", 1)
    page.wait_for_selector("#rag-viewer .rag-page img")
    doc_id, start, end = cited_span(page)
    assert doc_id == "uploads/minutes.pdf"
    quote = read_text(corpus / doc_id)[start:end]
    assert "4,200 dollars" in quote and flat(page.inner_text("#rag-viewer mark")) == flat(quote)
    shot(page, "09-uploaded-pdf-cited.png")
