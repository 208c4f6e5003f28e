"""What every reader returns, and the one error a reader raises.

A reader turns a file's bytes into an ``Extracted``: the text that offsets index, the page spans
of a paged format, and what the file says about itself (a title, the encoding, repeated page
headers). Left out: anything about the folder (metadata sidecar, ids), which is
``rag.documents``' job, and caching, which is ``rag.text_cache``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PageSpan = tuple[int, int]  # (start, end) of one page in the extracted text


class ReadError(ValueError):
    """The file cannot be read as its format: damaged, encrypted, or not text at all."""


@dataclass(frozen=True)
class Extracted:
    """A file's deterministic extraction; ``text`` is what every offset indexes.

    ``pages[i]`` is page ``i + 1``'s span in ``text`` (empty for unpaged formats);
    ``chrome`` holds spans of headers and footers repeated across pages, for later exclusion;
    ``warnings`` are per-file problems to report (e.g. pages with no text layer).
    """

    text: str
    pages: tuple[PageSpan, ...] = ()
    title: str | None = None
    encoding: str | None = None
    chrome: tuple[PageSpan, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reader:
    """One format: its suffixes, its size limit, and ``read(data) -> Extracted``.

    ``version`` is bumped whenever ``read`` would return other text for the same bytes (cached
    extractions are filed under it); ``cached`` says whether extraction is worth caching.
    """

    name: str
    suffixes: tuple[str, ...]
    read: Callable[[bytes], Extracted]
    version: int = 1
    max_bytes: int = 50_000_000
    cached: bool = True
