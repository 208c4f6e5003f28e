"""HTML and JSON views of answers and documents, for the web UI and its API.

Pure functions: records in, strings or dicts out. Every piece of document or user text is passed
through ``html.escape`` here, so a corpus file holding ``<script>`` shows as text. This module does
not import gradio (nothing in ``rag`` does) and keeps no state; the UI owns sessions.

The chat renders messages as Markdown with HTML allowed, and a Markdown HTML block ends at the
first blank line. So every fragment is built on a single line: newlines become ``<br>``.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from rag.inputs import valid_text
from rag.records import Answer, Citation, Document

if TYPE_CHECKING:
    from rag.readers.pdf_view import PageImage

CONTEXT_CHARS = 240  # characters of context shown either side of a quote inside a message
TITLE_CHARS = 70  # titles longer than this are shortened in compact labels
QUOTE_CHARS = 80  # how much of a quote a source picker's label shows

# The page's styles for the classes used below (Gradio 6 takes them as ``launch(css=...)``).
CSS = """
.rag-user { white-space: pre-wrap; }
.rag-msg .rag-text { margin: 0 0 .6em; }
.rag-pending { color: var(--body-text-color-subdued); font-style: italic; }
.rag-searched, .rag-notice { color: var(--body-text-color-subdued); font-size: .88em;
  margin-bottom: .4em; }
.rag-banner { font-weight: 600; color: #92400e; background: #fef3c7;
  border-left: 4px solid #f59e0b; padding: 4px 10px; border-radius: 4px; margin-bottom: .5em; }
.rag-abstained .rag-text { color: var(--body-text-color-subdued); }
.rag-sources { margin-top: .6em; padding-top: .4em;
  border-top: 1px solid var(--border-color-primary); }
.rag-sources-h { font-size: .75em; font-weight: 600; letter-spacing: .06em;
  text-transform: uppercase; color: var(--body-text-color-subdued); margin-bottom: .3em; }
.rag-source { margin: .25em 0; }
.rag-source summary { cursor: pointer; font-size: .88em; }
.rag-source summary .rag-title { font-weight: 500; }
.rag-n { display: inline-block; min-width: 1.6em; text-align: center; font-size: .8em;
  font-weight: 700; border-radius: 4px; background: #e0e7ff; color: #3730a3; }
.rag-related .rag-n { background: #e5e7eb; color: #374151; }
.rag-by { color: var(--body-text-color-subdued); font-size: .88em; }
.rag-quote { display: block; font-style: italic; margin: .15em 0 .2em 2.1em; }
.rag-context { font-size: .88em; margin: .3em 0 .2em 2.1em; padding: .4em .6em; border-radius: 6px;
  background: var(--background-fill-secondary); }
.rag-offsets { font-family: var(--font-mono); font-size: .78em;
  color: var(--body-text-color-subdued); }
.rag-source .rag-offsets { margin-left: 2.7em; }
mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
#rag-viewer .rag-viewer-h h3 { margin: .1em 0; }
#rag-viewer .rag-status { font-size: .75em; font-weight: 600; text-transform: uppercase;
  letter-spacing: .06em; color: #3730a3; }
#rag-viewer .rag-status-related { color: #92400e; }
#rag-viewer .rag-doc { position: relative; max-height: 520px; overflow-y: auto; margin-top: .5em;
  padding: .8em 1em; white-space: pre-wrap; line-height: 1.55; font-size: .92em;
  border: 1px solid var(--border-color-primary); border-radius: 8px;
  background: var(--background-fill-secondary); }
#rag-viewer .rag-pages { max-height: 640px; overflow-y: auto; margin-top: .5em; }
#rag-viewer .rag-page { margin: 0 0 .6em; }
#rag-viewer .rag-page img { width: 100%; height: auto; display: block;
  border: 1px solid var(--border-color-primary); border-radius: 4px; }
#rag-viewer .rag-page figcaption { font-size: .78em; color: var(--body-text-color-subdued); }
.rag-upload div { margin: .15em 0; font-size: .92em; }
.rag-upload .rag-refused { color: #b91c1c; }
.rag-upload .rag-stored { color: #166534; }
.rag-viewer-empty { color: var(--body-text-color-subdued); padding: 1em; font-size: .95em;
  border: 1px dashed var(--border-color-primary); border-radius: 8px; }
"""


def escape(text: str) -> str:
    """Escape text for HTML and keep its line breaks, on one line.

    Example:
        >>> escape('<b>"hi"</b>\\nthere')
        '&lt;b&gt;&quot;hi&quot;&lt;/b&gt;<br>there'
    """
    return html.escape(text).replace("\r\n", "\n").replace("\n", "<br>")


def shorten(text: str, limit: int = TITLE_CHARS) -> str:
    """Cut ``text`` to ``limit`` characters with an ellipsis.

    Example:
        >>> shorten("abcdef", 4)
        'abc…'
    """
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def user_html(question: str) -> str:
    """A user's message, escaped; the ``div`` keeps Markdown from reading ``*`` or ``#`` in it.
    A lone surrogate (from an API client) is shown as U+FFFD, as the answer treats it.

    Example:
        >>> user_html("<b>Who?\\ud800")
        '<div class="rag-user">&lt;b&gt;Who?\\ufffd</div>'
    """
    return f'<div class="rag-user">{escape(valid_text(question))}</div>'


def pending_html() -> str:
    """The placeholder shown while the assistant searches."""
    return '<div class="rag-msg rag-pending">Searching the documents…</div>'


def highlight(text: str, start: int, end: int, width: int | None = None) -> str:
    """``text`` with ``text[start:end]`` in a ``<mark>``.

    With ``width``, only that many characters of context show either side, and their runs of
    blank lines shrink to one break so a snippet stays compact; the quote is never altered.

    Example:
        >>> highlight("one <two> three", 4, 9)
        'one <mark>&lt;two&gt;</mark> three'
        >>> highlight("aaaa\\n\\n\\nbbb cccc", 7, 10, width=5)
        '…<br><mark>bbb</mark> cccc'
        >>> highlight("one two three four five", 8, 13, width=6)
        '…two <mark>three</mark> four…'
    """
    before, quote, after = text[:start], text[start:end], text[end:]
    if width is not None and start > width:  # cut context at a word boundary, mark the cut
        before = "…" + re.sub(r"^\S*\s", "", before[-width:], count=1)
    if width is not None and len(after) > width:
        after = re.sub(r"\s\S*$", "", after[:width]) + "…"
    if width is not None:
        before, after = _squeeze(before), _squeeze(after)
    return f"{escape(before)}<mark>{escape(quote)}</mark>{escape(after)}"


def _squeeze(text: str) -> str:
    """Blank-line runs to a single newline: 'a\\n \\n\\nb' -> 'a\\nb'."""
    return re.sub(r"[ \t\r]*\n\s*\n\s*", "\n", text)


def citation_label(c: Citation, related: bool = False) -> str:
    """A one-line label for a source picker: number, speaker and the quote's opening words.

    Example:
        >>> c = Citation(2, "d.txt", "Title", "d.txt", 0, 3, "abc", None, "Reuters", None, 1.0)
        >>> citation_label(c)
        '[2] Reuters: “abc”'
    """
    prefix = f"R{c.n}" if related else str(c.n)
    return f"[{prefix}] {c.speaker}: “{shorten(' '.join(c.quote.split()), QUOTE_CHARS)}”"


def _byline(c: Citation) -> str:
    """'Reuters · 2018-08-04 · p. 3', escaped; the speaker says whose words the quote is."""
    parts = [c.speaker] + [p for p in (c.date, c.pages_label) if p]
    return html.escape(" · ".join(parts))


def _where(c: Citation) -> str:
    """The file and, in a paged document, its pages: 'manual.pdf · p. 12', escaped.

    Example:
        >>> from dataclasses import replace
        >>> c = Citation(1, "m.pdf", "M", "m.pdf", 0, 3, "abc", None, None, None, 1.0, page=4)
        >>> _where(c), _where(replace(c, doc_id="a&b.txt", page=None))
        ('m.pdf · p. 4', 'a&amp;b.txt')
    """
    label = c.pages_label
    return html.escape(f"{c.doc_id} · {label}" if label else c.doc_id)


def source_html(c: Citation, text: str, related: bool = False) -> str:
    """One numbered source: title, speaker, date and quote; opening it shows the quote in context.

    ``text`` is the whole document text, for the context around the quote.
    """
    number = f"R{c.n}" if related else str(c.n)
    return (
        '<details class="rag-source">'
        f'<summary><span class="rag-n">{number}</span> '
        f'<span class="rag-title">{html.escape(c.title)}</span>'
        f' <span class="rag-by">· {_byline(c)}</span>'
        f'<span class="rag-quote">“{escape(c.quote)}”</span></summary>'
        f'<div class="rag-context">{_context(c, text)}</div>'
        f'<div class="rag-offsets">{_where(c)} · characters {c.start}–{c.end}</div>'
        "</details>"
    )


def _context(c: Citation, text: str) -> str:
    """The quote marked in its context; the quote alone once its document has changed or gone.

    Example:
        >>> c = Citation(1, "d.txt", "T", "d.txt", 4, 7, "two", None, None, None, 1.0)
        >>> _context(c, "one two three"), _context(c, "")
        ('one <mark>two</mark> three', '<mark>two</mark> (no longer in the corpus as quoted)')
    """
    if text[c.start : c.end] != c.quote:
        return f"<mark>{escape(c.quote)}</mark> (no longer in the corpus as quoted)"
    return highlight(text, c.start, c.end, CONTEXT_CHARS)


def sources_html(
    citations: Sequence[Citation], text_of: Callable[[str], str], related: bool = False
) -> str:
    """The block of numbered sources under an answer ('Related, not an answer' when abstaining)."""
    if not citations:
        return ""
    heading = "Related, not an answer" if related else "Sources"
    items = "".join(source_html(c, text_of(c.doc_id), related) for c in citations)
    kind = "rag-related" if related else "rag-cited"
    return (
        f'<div class="rag-sources {kind}"><div class="rag-sources-h">{heading}</div>{items}</div>'
    )


def _head_html(answer: Answer) -> str:
    """What precedes the answer text: the searched query, a notice, the abstention banner."""
    head = ""
    if answer.rewritten and answer.query:
        head += f'<div class="rag-searched">Searched for: “{html.escape(answer.query)}”</div>'
    if answer.notice:
        head += f'<div class="rag-notice">{escape(answer.notice)}</div>'
    if answer.abstained:
        head += '<div class="rag-banner">⚠ No answer found in the documents</div>'
    return head


def answer_steps(answer: Answer, text_of: Callable[[str], str]) -> Iterator[str]:
    """The assistant's message as it grows: paragraph by paragraph, then the sources.

    The last string yielded is the complete message; streaming shows the ones before it.
    """
    kind = "rag-abstained" if answer.abstained else "rag-answered"
    open_, close = f'<div class="rag-msg {kind}">{_head_html(answer)}', "</div>"
    paragraphs = [p for p in answer.text.split("\n\n") if p.strip()]
    if answer.abstained and answer.related:
        # The text goes on to quote the related passages; they show below as sources instead,
        # with their titles and context, so only the opening statement is kept here.
        paragraphs = paragraphs[:1]
    body = ""
    for paragraph in paragraphs:
        body += f'<div class="rag-text">{escape(paragraph.strip())}</div>'
        yield open_ + body + close
    cited = sources_html(answer.citations, text_of)
    related = sources_html(answer.related, text_of, related=True) if answer.abstained else ""
    yield open_ + body + cited + related + close


def answer_html(answer: Answer, text_of: Callable[[str], str]) -> str:
    """The complete assistant message for ``answer``."""
    *_, last = answer_steps(answer, text_of)
    return last


def viewer_placeholder() -> str:
    """What the document viewer shows before a source is picked."""
    return (
        '<div class="rag-viewer-empty">Ask a question, then pick one of its sources here: the '
        "document opens with the quote highlighted and its character offsets.</div>"
    )


def page_html(shown: PageImage) -> str:
    """One rendered page as an inline PNG; its boxes (pixels and PDF points) ride along as data
    attributes for tests and tools, escaped like everything else.

    Example:
        >>> from rag.readers.pdf_view import PageImage
        >>> page_html(PageImage(2, b"png", 10, 20, ((1, 2, 3, 4),), ((0.5, 1.0, 2.0, 3.0),)))[:60]
        '<figure class="rag-page" data-page="2" data-size="[10, 20]" '
    """
    data = {
        "page": str(shown.page),
        "size": json.dumps([shown.width, shown.height]),
        "boxes": json.dumps([list(b) for b in shown.boxes]),
        "points": json.dumps([list(b) for b in shown.points]),
    }
    attrs = "".join(f' data-{k}="{html.escape(v, quote=True)}"' for k, v in data.items())
    src = "data:image/png;base64," + base64.b64encode(shown.png).decode("ascii")
    return (
        f'<figure class="rag-page"{attrs}>'
        f'<img src="{src}" alt="Page {shown.page}, the quote boxed" '
        f'width="{shown.width}" height="{shown.height}">'
        f"<figcaption>Page {shown.page}</figcaption></figure>"
    )


def viewer_html(
    doc: Document, c: Citation, related: bool = False, pages: Sequence[PageImage] = ()
) -> str:
    """The whole document with the quoted span marked, headed by its metadata and the offsets.

    ``pages`` are the rendered pages of a PDF quote (``rag.readers.pdf_view.document_pages``),
    shown above the text with the quote's characters boxed.
    """
    meta = doc.meta
    facts = [meta.publisher, meta.author, meta.date, meta.kind]
    line = " · ".join(html.escape(f) for f in facts if f)
    status = "Related passage, not an answer" if related else f"Source {c.n}"
    tone = "rag-status rag-status-related" if related else "rag-status"
    ok = doc.text[c.start : c.end] == c.quote
    check = (
        "the quote matches the document exactly"
        if ok
        else "<b>warning: the quote differs from the document at these offsets</b>"
    )
    pictures = "".join(page_html(p) for p in pages)
    pictures = f'<div class="rag-pages">{pictures}</div>' if pictures else ""
    return (
        '<div class="rag-viewer">'
        f'<div class="rag-viewer-h"><span class="{tone}">{status}</span>'
        f"<h3>{html.escape(meta.title)}</h3><div>{line}</div>"
        f'<div class="rag-offsets">{_where(c)} · characters {c.start}–{c.end}'
        f" of {len(doc.text)} · {check}</div></div>"
        f"{pictures}"
        f'<div class="rag-doc">{highlight(doc.text, c.start, c.end)}</div></div>'
    )


def viewer_gone(c: Citation) -> str:
    """The viewer for a source whose document has left the corpus since it was quoted."""
    return (
        '<div class="rag-viewer-empty">'
        f"{html.escape(c.doc_id)} is no longer in the corpus (removed or changed since this "
        f"answer). The quote was: “{escape(c.quote)}”</div>"
    )


def upload_html(
    stored: Sequence[str],
    refused: Sequence[tuple[str, str]] = (),
    existing: Sequence[str] = (),
    note: str = "",
) -> str:
    """What an upload did, escaped: the files added, those already there, those refused and why.

    Example:
        >>> upload_html([], [("<x>", "a folder")])
        '<div class="rag-upload"><div class="rag-refused">Refused &lt;x&gt;: a folder</div></div>'
    """
    parts = []
    added = [n for n in stored if n not in existing]
    if added:
        parts.append(f'<div class="rag-stored">Added: {html.escape(", ".join(added))}</div>')
    if existing:
        same = html.escape(", ".join(existing))
        parts.append(f'<div class="rag-existing">Already there (same content): {same}</div>')
    for name, why in refused:
        parts.append(f'<div class="rag-refused">Refused {html.escape(name)}: {escape(why)}</div>')
    if note:
        parts.append(f'<div class="rag-upload-note">{escape(note)}</div>')
    return f'<div class="rag-upload">{"".join(parts)}</div>'


def citation_dict(c: Citation) -> dict:
    """A citation as plain JSON for API clients; the server's file path is left out on purpose.

    Example:
        >>> c = Citation(1, "d.txt", "T", "/srv/d.txt", 0, 3, "abc", "A", "P", "2018", 0.5)
        >>> sorted(citation_dict(c))[:4]
        ['author', 'date', 'doc_id', 'end']
    """
    return {
        "n": c.n,
        "doc_id": c.doc_id,
        "start": c.start,
        "end": c.end,
        "quote": c.quote,
        "title": c.title,
        "author": c.author,
        "publisher": c.publisher,
        "date": c.date,
        "speaker": c.speaker,
        "kind": c.kind,
        "score": round(float(c.score), 4),
        "page": c.page,
        "page_end": c.page_end,
    }


def answer_dict(answer: Answer) -> dict:
    """An answer's structure as plain JSON: citations, related passages, query, abstention."""
    return {
        "question": answer.question,
        "query": answer.query,
        "rewritten": answer.rewritten,
        "abstained": answer.abstained,
        "notice": answer.notice,
        "confidence": round(float(answer.confidence), 4),
        "citations": [citation_dict(c) for c in answer.citations],
        "related": [citation_dict(c) for c in answer.related],
    }


def document_rows(documents: Iterable[Document]) -> list[list[str]]:
    """One row per document for the corpus table: title, publisher, author, date, kind, file."""
    fields = ("title", "publisher", "author", "date", "kind")
    return [[getattr(d.meta, f) or "" for f in fields] + [d.doc_id] for d in documents]


def title_questions(documents: Sequence[Document], limit: int = 4) -> list[str]:
    """Generic example questions, one per document title, for a corpus we know nothing about.

    Example:
        >>> from pathlib import Path
        >>> from rag.records import DocMeta
        >>> d = Document("a.txt", Path("a.txt"), "", DocMeta(title="Budget 2024"), "")
        >>> title_questions([d])
        ['What does “Budget 2024” say?']
    """
    return [f"What does “{shorten(d.meta.title, 60)}” say?" for d in documents[:limit]]
