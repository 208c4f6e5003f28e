"""The web UI: chat with a document corpus; every answer is verbatim quotes with their sources.

    python app.py [--host 127.0.0.1] [--port 7860] [--corpus corpus]

(or RAG_HOST, RAG_PORT, RAG_CORPUS) loads or builds the index, then serves the chat. Importing
this file starts nothing: ``build_demo(assistant)`` returns the Blocks and only ``__main__``
launches them. API clients get a stateless ``/ask`` endpoint (question plus earlier questions).

"Add documents" stores files in the corpus's ``uploads/`` folder (checked by ``rag.uploads``)
and re-indexes; the app also notices files added, changed or removed in the corpus folder before
each question (``rag.LiveAssistant``). ``--no-uploads`` or ``RAG_UPLOADS=0`` turns uploads off.
Left out on purpose: logins, and any way for the browser to name a file outside ``uploads/``.
The document viewer looks sources up by index in the session's own answers, then by ``doc_id``
through ``assistant.document``; a PDF source shows its page with the quote boxed. All HTML is
built, and escaped, in ``rag.ui_format``.

Bounded on purpose: a session keeps its last ``MAX_TURNS`` exchanges, it is forgotten whole
after ``SESSION_TTL`` seconds without a question, at most ``MAX_SESSIONS`` sessions are held, the
queue holds ``QUEUE_SIZE`` waiting events (then answers "Queue is full"), an answer taking over
``Settings.request_timeout_s`` is given up with a message (``TIMED_OUT``), and gradio's own
upload route takes files of at most ``MAX_UPLOAD``, deleted within ``UPLOAD_AGE`` seconds.
"""

import argparse
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as AnswerTimeout
from pathlib import Path

import gradio as gr
from gradio.data_classes import ListFiles

from rag import Answer, Assistant, Citation, CorpusError, InputError, LiveAssistant, Settings, Turn
from rag import uploads as up
from rag.readers.pdf_view import document_pages
from rag.ui_format import (
    CSS,
    answer_dict,
    answer_html,
    answer_steps,
    citation_label,
    document_rows,
    pending_html,
    title_questions,
    upload_html,
    user_html,
    viewer_gone,
    viewer_html,
    viewer_placeholder,
)

CONCURRENCY = 4  # events run at once per listener; more users wait in the queue
QUEUE_SIZE = 64  # events waiting at most; more are refused at once ("Queue is full")
MAX_TURNS = 20  # exchanges a session keeps and shows; follow-ups use fewer (history_turns)
SESSION_TTL = 3600  # seconds an idle session's conversation is kept
MAX_SESSIONS = 1_000  # sessions held in memory (gradio's default is 10,000), oldest dropped
MAX_UPLOAD = "1kb"  # gradio's /upload route with uploads off: it exists whatever the app
UPLOAD_AGE = 600  # seconds before a file that reached it anyway is deleted
TIMED_OUT = "That took too long to answer (over {:g} s). Please try again in a moment."
STREAM_PAUSE = 0.04  # seconds between streamed paragraphs, so the reply visibly builds up

# Questions about the shipped corpus, shown only when its documents are the ones loaded.
SHIPPED_DOCS = {
    "000_70497b1872f53ef0.txt",
    "001_f9f5b180c0b2a01b.txt",
    "002_db0603ede08a9b90.txt",
    "003_95cfac26c10697da.txt",
}
SHIPPED_QUESTIONS = [
    "Who sent the letter to General Dunford?",
    "How much would rebuilding Syria cost?",
    "Which charity did the IOM work with?",
    "Why did Iran's defence minister visit Damascus?",
]

PAGE_CACHE = "page-cache"  # rendered PDF pages, under the index folder, by file hash and page

# Scroll the document box so the highlighted quote is in view, and a PDF's pages so its first
# box is. Runs in the browser, after the viewer's HTML is replaced; the short delay lets the new
# HTML land first.
SCROLL_TO_MARK = """() => { setTimeout(() => {
  const m = document.querySelector('#rag-viewer mark');
  const box = m && m.closest('.rag-doc');
  if (box) box.scrollTop = Math.max(0, m.offsetTop - box.clientHeight / 3);
  const fig = document.querySelector('#rag-viewer .rag-page');
  const pages = fig && fig.closest('.rag-pages');
  if (pages) {
    const first = JSON.parse(fig.dataset.boxes || '[]')[0];
    const img = fig.querySelector('img');
    const y = first ? first[1] / JSON.parse(fig.dataset.size)[1] * img.clientHeight : 0;
    pages.scrollTop = Math.max(0, fig.offsetTop + y - pages.clientHeight / 3);
  }
}, 120); }"""


Exchange = tuple[str, Answer]  # (what the user typed, the assistant's answer)


def _said(html: str) -> dict:
    """An assistant message for the chat."""
    return {"role": "assistant", "content": html}


class ChatUI:
    """The UI's callbacks over one Assistant. Per-user state lives in ``gr.State``, not here."""

    def __init__(self, assistant: Assistant) -> None:
        # No lock here: the assistant is safe for concurrent reads and serialises query
        # encoding itself, so several users' questions can be answered at once. When the corpus
        # folder changes, ``live`` swaps in a re-opened one; a question keeps the one it began on.
        self.live = LiveAssistant(assistant) if assistant.corpus is not None else None
        self._fixed = assistant
        # Answers run here so that a request can be given up on after request_timeout_s (gradio
        # has no timeout for an event). A given-up answer still ends in its own thread (a
        # thread cannot be stopped); the pool's size bounds how many threads there are.
        self._pool = ThreadPoolExecutor(2 * CONCURRENCY, thread_name_prefix="answer")

    @property
    def assistant(self) -> Assistant:
        return self.live.current if self.live is not None else self._fixed

    def text_of(self, doc_id: str) -> str:
        """A corpus document's text; doc_ids come from the assistant's own citations."""
        try:
            return self.assistant.document(doc_id).text
        except KeyError:  # removed since it was quoted: the source shows its quote alone
            return ""

    def ask(self, question: str, history: Sequence[Turn | str], k=None, threshold=None) -> Answer:
        """One answer, with the earlier turns of the same conversation as context; a
        ``gr.Error`` saying so after ``Settings.request_timeout_s``."""
        timeout = self.assistant.settings.request_timeout_s
        job = self._pool.submit(self._ask_now, question, history, k, threshold)
        try:
            return job.result(timeout=timeout if timeout > 0 else None)
        except AnswerTimeout:
            job.cancel()  # still waiting for a thread: never starts
            raise gr.Error(TIMED_OUT.format(timeout)) from None

    def _ask_now(self, question, history, k, threshold) -> Answer:
        if self.live is not None:
            self.live.check()  # a few stat calls; re-opens only when the folder changed
        return self.assistant.ask(question, history=history, k=k, abstain_threshold=threshold)

    def messages(self, turns: list[Exchange]) -> list[dict]:
        """The chat's messages, re-rendered from the session's turns."""
        out = []
        for question, answer in turns:
            out.append({"role": "user", "content": user_html(question)})
            out.append(_said(answer_html(answer, self.text_of)))
        return out

    def _kept(self, question, turns: list[Exchange]) -> list[Exchange] | None:
        """The earlier turns to keep for ``question``; None when there is nothing to answer."""
        if question is not None and not isinstance(question, str):
            raise gr.Error(f"A question must be text, not {type(question).__name__}.")
        if not (question or "").strip():
            return None
        # Only the last MAX_TURNS are kept (this one included), so neither the session's state
        # nor the reply, which carries the whole conversation, grows without bound.
        return turns[-(MAX_TURNS - 1) :]

    def _answer(self, question: str, kept: list[Exchange], k: float, strictness: float) -> Answer:
        # The earlier answers, not just the questions: "What did he propose?" needs the name
        # the previous answer quoted.
        history = [Turn.of(a) for _, a in kept]
        return self.ask(question, history, int(k), float(strictness))

    def respond(self, question: str, turns: list[Exchange], k: float, strictness: float):
        """Answer ``question`` in the browser's chat, streaming the reply paragraph by paragraph.

        Yields (chat, textbox, turns, source picker, viewer). Gradio sends the first update
        whole and the later ones as diffs, then every output's last value whole again; so the
        last update is all ``gr.skip()``: what it would repeat is on screen already.
        """
        kept = self._kept(question, turns)
        if kept is None:
            yield (gr.skip(),) * 5
            return
        shown = self.messages(kept) + [{"role": "user", "content": user_html(question)}]
        yield shown + [_said(pending_html())], "", gr.skip(), gr.skip(), gr.skip()
        answer = self._answer(question, kept, k, strictness)
        *partial, final = answer_steps(answer, self.text_of)
        for step in partial:
            yield shown + [_said(step)], gr.skip(), gr.skip(), gr.skip(), gr.skip()
            time.sleep(STREAM_PAUSE)
        turns = kept + [(question, answer)]
        yield shown + [_said(final)], "", turns, *self.sources(turns, len(turns) - 1)
        yield (gr.skip(),) * 5

    def reply(self, question: str, turns: list[Exchange], k: float, strictness: float):
        """The ``/chat`` API: the same turn as ``respond``, answered in one update.

        Returns (chat, textbox, turns, source picker, viewer): the conversation (its last
        ``MAX_TURNS`` exchanges), an emptied textbox, and the new answer's sources.
        """
        kept = self._kept(question, turns)
        if kept is None:
            return (gr.skip(),) * 5
        turns = kept + [(question, self._answer(question, kept, k, strictness))]
        return self.messages(turns), "", turns, *self.sources(turns, len(turns) - 1)

    def sources(self, turns: list[Exchange], t: int):
        """The source picker and viewer for answer ``t``: its citations, else related passages."""
        if not 0 <= t < len(turns):
            return gr.update(choices=[], value=None, visible=False), viewer_placeholder()
        answer = turns[t][1]
        choices = [(citation_label(c), f"{t}:{i}") for i, c in enumerate(answer.citations)]
        offset = len(answer.citations)
        choices += [
            (citation_label(c, related=True), f"{t}:{offset + i}")
            for i, c in enumerate(answer.related)
        ]
        value = choices[0][1] if choices else None
        label = f"Sources of answer {t + 1}" if choices else f"Answer {t + 1} has no sources"
        picker = gr.update(choices=choices, value=value, label=label, visible=True)
        return picker, self.view(value, turns)

    def view(self, key: str | None, turns: list[Exchange]) -> str:
        """The document behind source ``key`` ("answer:source"), quote marked.

        The key only indexes this session's answers, so a client cannot name another file.
        """
        try:
            t, i = (int(part) for part in (key or "").split(":"))
            answer = turns[t][1] if t >= 0 else None
        except (ValueError, IndexError):
            return viewer_placeholder()
        pool = [*answer.citations, *answer.related] if answer else []
        if not 0 <= i < len(pool):
            return viewer_placeholder()
        return self.show(pool[i], related=i >= len(answer.citations))

    def show(self, c: Citation, related: bool = False) -> str:
        """The viewer for one source: a PDF's cited pages with the quote boxed, then the text."""
        try:
            doc = self.assistant.document(c.doc_id)
        except KeyError:
            return viewer_gone(c)
        pages = document_pages(doc, c.start, c.end, self.assistant.index_dir / PAGE_CACHE)
        return viewer_html(doc, c, related, pages)

    def select(self, turns: list[Exchange], evt: gr.SelectData):
        """A click on a message opens that message's sources, however old it is."""
        index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        return self.sources(turns, int(index) // 2)  # messages alternate: question, answer

    @staticmethod
    def example(evt: gr.SelectData) -> str:
        """The text of the example question that was clicked."""
        return evt.value["text"]

    def new_chat(self):
        """An empty conversation: (chat, textbox, turns, source picker, viewer)."""
        return [], "", [], *self.sources([], -1)

    def api_ask(self, question: str, history: list[str] | None = None) -> tuple[str, dict]:
        """Answer a question from the documents, in verbatim quotes.

        Args:
            question: what to ask.
            history: earlier questions of the same conversation, oldest first, for follow-ups.
        Returns:
            The answer text, and a JSON with the searched query, abstention and the citations
            (doc_id, start, end, quote, title, author, publisher, date) and related passages.
        """
        try:
            answer = self.ask(question, history or [])
        except InputError as err:  # a gr.Error reaches the client with its message
            raise gr.Error(f"{err}.") from err
        return answer.text, answer_dict(answer)


def named_files(**options) -> gr.File:
    """A ``gr.File`` whose value is ``(path on the server, name the browser gave)`` pairs.

    The stock one passes only the path, whose name Gradio has already stripped of folders, so
    an upload named "../../etc/passwd.txt" could not be told from "passwd.txt" and refused.
    Paths are still checked by Gradio (inside its upload folder) before ``preprocess``. The
    method is replaced on the instance: a subclass would make Gradio write an ``app.pyi``.
    """
    files = gr.File(**options)

    def preprocess(payload) -> list[tuple[str, str]]:
        if payload is None:
            return []
        given = list(payload) if isinstance(payload, ListFiles) else [payload]
        return [(f.path, f.orig_name or Path(f.path).name) for f in given]

    files.preprocess = preprocess
    return files


class CorpusUI:
    """Adding and removing documents: uploads land in ``<corpus>/uploads/``, then re-index."""

    def __init__(self, ui: ChatUI) -> None:
        self.ui = ui
        self.live = ui.live
        self.folder = Path(ui.assistant.corpus) / "uploads"
        s = ui.assistant.settings
        self.limits = up.Limits(max_bytes=s.upload_max_bytes, max_files=s.upload_max_files)

    def removable(self) -> list[str]:
        """doc_ids of the uploaded documents, the only ones the UI may remove."""
        docs = self.ui.assistant.documents
        inside = {str(p) for p in up.removable(self.folder, [d.path for d in docs])}
        return [d.doc_id for d in docs if str(d.path) in inside]

    def panel(self, status: str):
        """(status, files box, corpus table, accordion label, remove picker) after a change."""
        docs = self.ui.assistant.documents
        choices = self.removable()
        return (
            status,
            None,
            document_rows(docs),
            gr.update(label=f"Documents in the corpus ({len(docs)})"),
            gr.update(choices=choices, value=choices[0] if choices else None),
        )

    def upload(self, files: list[tuple[str, str]] | None, progress=gr.Progress(track_tqdm=True)):
        """Add documents: check and store them, then index them; yields the panel's updates.

        Args:
            files: the files to add (PDF, DOCX, TXT, MD, HTML).
        Returns:
            The report (HTML), the emptied file box, the corpus table, and the remove picker.
        """
        pairs = [(name, path) for path, name in files or []]
        if not pairs:
            yield self.panel("")
            return
        got = up.accept(pairs, self.folder, self.limits)
        new = [n for n in got.stored if n not in got.existing]
        if not new:
            yield self.panel(upload_html(got.stored, got.refused, got.existing))
            return
        yield self.panel(upload_html(got.stored, got.refused, got.existing, "Indexing…"))
        result = self.live.check(wait=True, progress=True)
        known = {str(d.path) for d in self.ui.assistant.documents}
        unread = [n for n in new if str((self.folder / n).resolve()) not in known]
        for name in unread:  # stored, but no reader could make text of it: not kept
            up.remove(self.folder, name)
        if unread:
            self.live.check(wait=True)
        refused = [*got.refused, *((n, "no readable text in it; not kept") for n in unread)]
        kept = [n for n in got.stored if n not in unread]
        note = result.error or f"Indexed in {result.seconds:.1f} s; ask away."
        yield self.panel(upload_html(kept, refused, got.existing, note))

    def remove(self, doc_id: str | None):
        """Remove an uploaded document from the corpus and the index.

        Args:
            doc_id: the document, as the picker lists it (``uploads/<name>``).
        Returns:
            The report (HTML), the emptied file box, the corpus table, and the remove picker.
        """
        if not doc_id or doc_id not in self.removable():
            return self.panel(upload_html([], [(doc_id or "", "not an uploaded document")]))
        if len(self.ui.assistant.documents) < 2:
            return self.panel(upload_html([], [(doc_id, "the corpus would be empty")]))
        name = Path(self.ui.assistant.document(doc_id).path).name
        if not up.remove(self.folder, name):
            return self.panel(upload_html([], [(doc_id, "could not be removed")]))
        result = self.live.check(wait=True)
        return self.panel(upload_html([], note=result.error or f"Removed {doc_id}."))

    def refresh(self):
        """Pick up files added, changed or removed in the corpus folder by other means."""
        result = self.live.check(wait=True, progress=True)
        note = result.error or ("Re-indexed." if result.changed else "No change.")
        return self.panel(upload_html([], note=note))


def corpus_controls(ui: ChatUI, table: gr.Dataframe, accordion: gr.Accordion) -> None:
    """The "Add documents" box and the remove/refresh row, with their events (inside Blocks)."""
    corpus = CorpusUI(ui)
    files = named_files(
        label="Add documents (PDF, Word, text, Markdown, HTML)",
        file_count="multiple",
        file_types=list(up.SUFFIXES),
        height=120,
        elem_id="rag-upload",
    )
    status = gr.HTML("", elem_id="rag-upload-status")
    with gr.Row():
        choices = corpus.removable()
        pick = gr.Dropdown(
            choices=choices,
            value=choices[0] if choices else None,
            label="Uploaded documents",
            elem_id="rag-remove-pick",
            scale=3,
        )
        remove = gr.Button("Remove", size="sm", elem_id="rag-remove", scale=1)
        refresh = gr.Button("Refresh", size="sm", elem_id="rag-refresh", scale=1)
    outputs = [status, files, table, accordion, pick]
    files.upload(corpus.upload, files, outputs, api_name="upload", concurrency_limit=1)
    remove.click(corpus.remove, pick, outputs, api_name="remove", concurrency_limit=1)
    refresh.click(corpus.refresh, None, outputs, api_visibility="private")


def example_questions(assistant: Assistant) -> list[str]:
    """Curated questions for the shipped corpus, else one generic question per title."""
    if SHIPPED_DOCS <= {d.doc_id for d in assistant.documents}:
        return SHIPPED_QUESTIONS
    return title_questions(assistant.documents)


def build_demo(assistant: Assistant) -> gr.Blocks:
    """The chat UI and the ``/ask`` API over ``assistant``; launch it with ``launch``."""
    ui = ChatUI(assistant)
    n_docs = len(assistant.documents)
    with gr.Blocks(title="Ask the documents", delete_cache=(UPLOAD_AGE, UPLOAD_AGE)) as demo:
        turns = gr.State([], time_to_live=SESSION_TTL)
        gr.Markdown(
            f"## Ask the documents\nAnswers are **verbatim quotes** from {n_docs} documents, "
            "each with its source. Open a source to check the quote in its document."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Conversation",
                    elem_id="rag-chat",
                    height=600,
                    buttons=["copy"],
                    feedback_options=None,
                    placeholder="**Ask a question about the documents**, or pick an example:",
                    examples=[{"text": q} for q in example_questions(assistant)],
                )
                box = gr.Textbox(
                    label="Question",
                    placeholder="Ask a question about the documents…",
                    show_label=False,
                    submit_btn="Ask",
                    autofocus=True,
                    elem_id="rag-question",
                )
                new = gr.Button("New chat", size="sm", elem_id="rag-new")
                uploads = ui.live is not None and assistant.settings.uploads
                upload_slot = gr.Column() if uploads else None  # filled below, by corpus_controls
            with gr.Column(scale=2):
                picker = gr.Radio(
                    label="Sources",
                    info="Click any answer in the chat to list its sources here.",
                    choices=[],
                    visible=False,
                    elem_id="rag-picker",
                )
                viewer = gr.HTML(viewer_placeholder(), elem_id="rag-viewer")
        with gr.Accordion("Settings", open=False):
            with gr.Row():
                k = gr.Slider(
                    1, 20, value=assistant.settings.k, step=1, label="Passages searched (k)"
                )
                strictness = gr.Slider(
                    0.0,
                    1.0,
                    value=assistant.settings.abstain_threshold,
                    step=0.05,
                    label="Abstention strictness",
                    info="Higher: say 'not found' sooner; lower: answer more often.",
                )
        with gr.Accordion(f"Documents in the corpus ({n_docs})", open=False) as listed:
            table = gr.Dataframe(
                document_rows(assistant.documents),
                headers=["Title", "Publisher", "Author", "Date", "Kind", "File"],
                column_widths=["30%", "18%", "16%", "10%", "12%", "14%"],
                interactive=False,
                wrap=True,
            )
        if upload_slot is not None:
            with upload_slot:
                corpus_controls(ui, table, listed)
        outputs = [chat, box, turns, picker, viewer]
        ask_inputs = [box, turns, k, strictness]
        hidden = {"api_visibility": "private"}  # UI plumbing, not part of the API
        # The browser streams its replies; API clients get /chat, one update a turn (the
        # conversation sent once, not twice as a stream ends). Both share one concurrency limit.
        asked = {"concurrency_id": "chat"}
        api_chat = gr.Button(visible=False)  # /chat's trigger; only API clients call it
        api_chat.click(ui.reply, ask_inputs, outputs, api_name="chat", **asked)
        # Every event that may replace the viewer then scrolls its quote into view.
        box.submit(ui.respond, ask_inputs, outputs, **asked, **hidden).then(None, js=SCROLL_TO_MARK)
        clicked = chat.example_select(ui.example, None, box, **hidden)
        clicked.then(ui.respond, ask_inputs, outputs, **asked, **hidden).then(
            None, js=SCROLL_TO_MARK
        )
        new.click(ui.new_chat, None, outputs, api_name="new_chat")
        chat.clear(ui.new_chat, None, outputs, **hidden)  # the chat's own bin icon
        picker.input(ui.view, [picker, turns], viewer, **hidden).then(None, js=SCROLL_TO_MARK)
        chat.select(ui.select, turns, [picker, viewer], **hidden).then(None, js=SCROLL_TO_MARK)
        gr.api(ui.api_ask, api_name="ask")
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
    # gradio's upload route serves "Add documents"; without that feature nothing needs it. With
    # it, the route stops only what is far over the limit: rag.uploads refuses the rest with a
    # message that names the file, which a bare HTTP 413 would not.
    demo.rag_upload_limit = 2 * assistant.settings.upload_max_bytes if uploads else MAX_UPLOAD
    return demo


def forget_idle_sessions(holder, idle: float) -> None:
    """Make gradio's once-a-second expiry of ``gr.State`` also drop whole idle sessions.

    Gradio deletes only a session's State values when they expire; the session itself (a copy
    of every component's config, and the last value of each output: the chat, the document
    view) stays until ``MAX_SESSIONS`` newer ones push it out, ~300 KB each. ``holder`` is the
    running app's ``StateHolder``; a session not used for ``idle`` seconds is dropped whole, and
    if it comes back it starts a new conversation, as when its State expires.
    """
    expire = holder.delete_all_expired_state

    def sweep() -> None:
        expire()
        now = time.time()
        for session, used in dict(holder.time_last_used).items():
            if now - used.timestamp() > idle:
                with holder.lock:
                    holder.session_data.pop(session, None)
                    holder.time_last_used.pop(session, None)

    holder.delete_all_expired_state = sweep


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, **kwargs):
    """Serve ``demo`` with the app's bounds (see the module docstring); in Gradio 6 the page's
    CSS is a launch option, so it is passed here. Blocks unless ``prevent_thread_lock``."""
    kwargs.setdefault("max_file_size", getattr(demo, "rag_upload_limit", MAX_UPLOAD))
    kwargs.setdefault("state_session_capacity", MAX_SESSIONS)
    block = not kwargs.pop("prevent_thread_lock", False)
    # Started without blocking, so the session sweep is in place before the first request.
    served = demo.launch(
        server_name=host, server_port=port, css=CSS, prevent_thread_lock=True, **kwargs
    )
    forget_idle_sessions(demo.server_app.state_holder, SESSION_TTL)
    if block:
        demo.block_thread()
    return served


def parse_args(argv: list[str] | None = None, environ: dict | None = None) -> argparse.Namespace:
    """Flags, defaulting to RAG_HOST, RAG_PORT and RAG_CORPUS, then to 127.0.0.1:7860 corpus/."""
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(description="Chat with a document corpus in verbatim quotes.")
    parser.add_argument("--host", default=env.get("RAG_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env.get("RAG_PORT", "7860")))
    parser.add_argument("--corpus", default=env.get("RAG_CORPUS", "corpus"))
    parser.add_argument(
        "--no-uploads",
        action="store_true",
        help="no 'Add documents' box (also RAG_UPLOADS=0)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Load or build the index (with a progress bar), then serve until interrupted."""
    args = parse_args(argv)
    print(f"Loading the index for {args.corpus} (built on first run, reused after)…", flush=True)
    try:
        settings = Settings.from_env()
        if args.no_uploads:
            settings = settings.with_(uploads=False)
        assistant = Assistant.from_directory(args.corpus, settings=settings, progress=True)
    except CorpusError as error:
        sys.exit(f"error: {error}")
    print(f"Ready: {len(assistant.documents)} documents.", flush=True)
    launch(build_demo(assistant), args.host, args.port)


if __name__ == "__main__":
    main()
