"""Typed records that travel between modules.

Every record that may be quoted carries ``doc_id``, ``start`` and ``end``: character offsets into
the document's decoded text, so ``document.text[start:end]`` is the exact span. Nothing here
computes beyond labels; these are plain frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.readers.pages import page_label


@dataclass(frozen=True)
class DocMeta:
    """What is known about a document: from the metadata sidecar, else from the file."""

    title: str
    publisher: str | None = None
    author: str | None = None
    date: str | None = None
    kind: str | None = None
    posted_by: str | None = None


@dataclass(frozen=True)
class Document:
    """A decoded corpus file. ``text`` is never altered after decoding (or extraction).

    ``pages[i]`` is page ``i + 1``'s ``(start, end)`` in ``text`` (empty when the format has no
    pages); ``chrome`` holds spans of headers and footers repeated across pages, which content
    may leave out; ``warnings`` are problems met reading the file (pages with no text layer).
    """

    doc_id: str
    path: Path
    text: str
    meta: DocMeta
    sha256: str
    pages: tuple[tuple[int, int], ...] = ()
    encoding: str | None = None
    chrome: tuple[tuple[int, int], ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Segment:
    """A run of content inside a document, with whose words it is.

    ``kind`` is ``"article"`` for the document's own body, ``"post"`` for a forum reply and
    ``"quote"`` for text a post quotes whose original is not in the document.
    """

    doc_id: str
    start: int
    end: int
    author: str | None
    kind: str


@dataclass(frozen=True)
class Span:
    """A sentence inside a chunk: offsets into the document text."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage; ``sentences`` are the quotable units inside it."""

    chunk_id: int
    doc_id: str
    start: int
    end: int
    text: str
    author: str | None
    kind: str
    sentences: tuple[Span, ...]


@dataclass(frozen=True)
class Hit:
    """One search result, best first in a list."""

    chunk_id: int
    doc_id: str
    title: str
    path: str
    start: int
    end: int
    text: str
    score: float
    author: str | None = None
    publisher: str | None = None
    kind: str = "article"
    page: int | None = None  # 1-based first page of a paged document (PDF), else None
    page_end: int | None = None  # its last page: equal to ``page`` unless it runs across pages

    @property
    def pages_label(self) -> str:
        """'p. 12', 'pp. 12–13', or '' for an unpaged document."""
        return page_label(self.page, self.page_end)


@dataclass(frozen=True)
class Citation:
    """A verbatim quote: ``read(path)[start:end] == quote`` always holds."""

    n: int
    doc_id: str
    title: str
    path: str
    start: int
    end: int
    quote: str
    author: str | None
    publisher: str | None
    date: str | None
    score: float
    kind: str = "article"
    page: int | None = None  # 1-based first page of a paged document (PDF), else None
    page_end: int | None = None  # its last page: equal to ``page`` unless it runs across pages

    @property
    def pages_label(self) -> str:
        """'p. 12', 'pp. 12–13', or '' for an unpaged document."""
        return page_label(self.page, self.page_end)

    @property
    def person(self) -> str | None:
        """Whose own words the quote is, when that is a person: a forum member, or an article's
        author when a publisher is named too (an author alone may be an outlet's byline)."""
        if self.author and self.kind in ("post", "quote"):
            return self.author
        if self.author and self.publisher and self.author != self.publisher:
            return self.author
        return None

    @property
    def speaker(self) -> str:
        """Who said it, for framing: 'forum member X', 'Reuters', ..."""
        if self.kind in ("post", "quote") and self.author:
            return f"forum member {self.author}"
        if self.kind in ("post", "quote"):
            return "a forum member"
        return self.publisher or self.author or self.title


@dataclass(frozen=True)
class Answer:
    """What the assistant replies.

    ``text`` holds only the cited quotes plus framing; ``related`` lists the closest passages when
    the assistant abstains (never presented as the answer). ``notice`` tells the user about input
    handling, e.g. a truncated question.
    """

    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    query: str
    question: str = ""
    related: tuple[Citation, ...] = ()
    notice: str | None = None
    confidence: float = 0.0
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def rewritten(self) -> bool:
        """True when the searched query differs from what the user typed."""
        return self.query.strip() != self.question.strip()


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation: what was asked, what was searched, what was quoted."""

    question: str
    query: str
    answer_text: str = ""
    # The person whose words the first quote is (a forum member, or an article's author when a
    # publisher is named too): who "he" may mean next. None for a publisher or a title.
    speaker: str | None = None

    @classmethod
    def of(cls, answer: Answer) -> Turn:
        """The turn an answer leaves behind; an abstention's related passages are not context.

        Example:
            >>> Turn.of(Answer("“It was sent.” [1]", (), False, "Who sent it?", "Who sent it?"))
            Turn(question='Who sent it?', query='Who sent it?', answer_text='“It was sent.” [1]', \
speaker=None)
        """
        if answer.abstained:
            return cls(answer.question, answer.query)
        first = answer.citations[0] if answer.citations else None
        return cls(answer.question, answer.query, answer.text, first.person if first else None)
