"""Pages of a paged document: which pages a span lies on, page labels, repeated page edges.

``pages`` is a document's tuple of ``(start, end)`` page spans in its text, in page order, with a
separator between consecutive pages (see ``rag.readers.pdf.PAGE_BREAK``). Everything here is a
pure function of those spans and the text. Left out: printed page labels (a PDF's "iv" or
"A-3"); pages are numbered 1, 2, 3... as a viewer counts them.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence

from rag.readers.base import PageSpan

EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be a header or footer
MIN_SHARE = 0.1  # a header repeats on at least this share of the pages (chapter titles vary)
MIN_PAGES = 3  # ...and on at least this many


def page_of(pages: Sequence[PageSpan], start: int, end: int) -> tuple[int | None, int | None]:
    """The 1-based first and last page of ``text[start:end]``; ``(None, None)`` if unpaged.

    A span that begins in the separator after a page begins on the next page.

    Example:
        >>> pages = ((0, 10), (15, 30), (35, 35), (40, 52))
        >>> [page_of(pages, a, b) for a, b in ((2, 8), (5, 20), (12, 14), (41, 52))]
        [(1, 1), (1, 2), (2, 2), (4, 4)]
        >>> page_of((), 0, 5)
        (None, None)
    """
    if not pages:
        return None, None
    starts = [a for a, _ in pages]
    first = max(0, bisect_right(starts, start) - 1)
    while start >= pages[first][1] and first + 1 < len(pages):
        first += 1  # in the separator (or on an empty page): the quote starts further on
    last = max(first, bisect_right(starts, max(start, end - 1)) - 1)
    return first + 1, last + 1


def page_label(page: int | None, page_end: int | None = None) -> str:
    """``"p. 12"``, ``"pp. 12–13"``, or ``""`` for an unpaged document.

    Example:
        >>> page_label(12), page_label(12, 12), page_label(12, 13), page_label(None)
        ('p. 12', 'p. 12', 'pp. 12–13', '')
    """
    if page is None:
        return ""
    if page_end is None or page_end == page:
        return f"p. {page}"
    return f"pp. {page}–{page_end}"


def page_runs(numbers: Sequence[int]) -> str:
    """Page numbers as runs: ``"pages 3–5, 9"`` or ``"page 2"``.

    Example:
        >>> page_runs([3, 4, 5, 9]), page_runs([2])
        ('pages 3–5, 9', 'page 2')
    """
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts = [f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs]
    return ("pages " if len(numbers) > 1 else "page ") + ", ".join(parts)


def repeated_edges(text: str, pages: Sequence[PageSpan]) -> tuple[PageSpan, ...]:
    """Spans of the lines at a page's top or bottom that recur on many pages: headers, footers.

    Lines compare with their digits masked, so "Page 3" and "Page 4" are one footer. A line
    counts once per page, and recurs when it is on ``MIN_PAGES`` pages and ``MIN_SHARE`` of them.

    Example:
        >>> pages = ["Manual\\nOne.\\n1", "Manual\\nTwo.\\n2", "Manual\\nThree.\\n3"]
        >>> text = "\\f".join(pages)
        >>> spans = ((0, 13), (14, 27), (28, 43))
        >>> [text[a:b] for a, b in repeated_edges(text, spans)]
        ['Manual', '1', 'Manual', '2', 'Manual', '3']
    """
    edges: list[list[tuple[str, PageSpan]]] = []
    for a, b in pages:
        lines = [(m.start() + a, m.end() + a) for m in re.finditer(r"\S(?:[^\n]*\S)?", text[a:b])]
        chosen = lines if len(lines) <= 2 * EDGE_LINES else lines[:EDGE_LINES] + lines[-EDGE_LINES:]
        edges.append([(_mask(text[s:e]), (s, e)) for s, e in chosen])
    counts = Counter(key for page in edges for key in {k for k, _ in page})
    least = max(MIN_PAGES, math.ceil(MIN_SHARE * len(pages)))
    return tuple(span for page in edges for key, span in page if counts[key] >= least)


def _mask(line: str) -> str:
    """A line's comparison key: stripped, digits as '#'. '  Page 12 ' -> 'Page #'."""
    return re.sub(r"\d+", "#", line.strip())
