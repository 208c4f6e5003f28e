"""Reference answerers the harness scores next to the assistant, to show what the design buys.

``NaiveTopChunk`` is "plain RAG" with no answer selection: it searches the user's last message as
typed (no follow-up rewriting), quotes the top hit's whole chunk and never abstains. Like any
plain RAG over PDFs it names the pages the chunk lies on.
"""

from __future__ import annotations

from rag.readers.pages import page_of
from rag.records import Answer, Citation, Hit

DEPTH = 10  # hits fetched per search, enough for the harness's MRR@10


class NaiveTopChunk:
    """The top search hit's chunk as the single citation; never abstains.

    Args:
        assistant: anything with ``search(query, k)`` and ``document(doc_id)``.
    """

    name = "naive"

    def __init__(self, assistant: object) -> None:
        self.assistant = assistant
        self._last: tuple[str, int, list[Hit]] = ("", 0, [])

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        # The harness searches the same question again for retrieval metrics: reuse the hits.
        q, depth, hits = self._last
        if q != query or depth < (k or 1):
            depth = max(k or 1, DEPTH)
            hits = self.assistant.search(query, depth)
            self._last = (query, depth, hits)
        return hits[: k or depth]

    def __call__(self, question: str, history: list[str] | None = None) -> Answer:
        hits = self.search(question, 1) if question.strip() else []
        if not hits:
            return Answer("", (), False, question, question)
        top = hits[0]
        try:
            doc = self.assistant.document(top.doc_id)
            date, pages = doc.meta.date, doc.pages
        except (AttributeError, KeyError):
            date, pages = None, ()
        page, page_end = page_of(pages, top.start, top.end)
        citation = Citation(
            n=1,
            doc_id=top.doc_id,
            title=top.title,
            path=top.path,
            start=top.start,
            end=top.end,
            quote=top.text,
            author=top.author,
            publisher=top.publisher,
            date=date,
            score=top.score,
            kind=top.kind,
            page=page,
            page_end=page_end,
        )
        return Answer(
            f"{top.text} [1]", (citation,), False, question, question, confidence=top.score
        )
