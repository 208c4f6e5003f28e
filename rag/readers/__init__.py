"""The reading stage: one module per format, each a ``Reader`` turning bytes into ``Extracted``.

=========  ======================  ==========================================================
format     module                  text
=========  ======================  ==========================================================
text       ``rag.readers.text``    the decoded file (UTF-8, UTF-16 with BOM, else detected)
html       ``rag.readers.html``    the page's text, block elements as line breaks
pdf        ``rag.readers.pdf``     each page's text layer, pages joined by a page break
docx       ``rag.readers.docx``    paragraphs and tables in body order
=========  ======================  ==========================================================

``extract(path, data)`` picks the reader by suffix and, given a ``rag.text_cache.TextCache``,
reads a file's extraction back by the hash of its bytes instead of parsing it again. Adding a
format is a new module with a ``READER`` and one line in ``READERS``. Heavy parsers (pypdfium2,
python-docx, charset-normalizer) are imported inside ``read``, so importing this package loads
none of them. Left out: guessing a format from content; the suffix decides.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rag.readers import docx, html, pdf, text
from rag.readers.base import Extracted, PageSpan, Reader, ReadError

if TYPE_CHECKING:
    from rag.text_cache import TextCache

__all__ = ["READERS", "SUFFIXES", "Extracted", "PageSpan", "ReadError", "Reader", "extract"]

READERS: tuple[Reader, ...] = (text.READER, html.READER, pdf.READER, docx.READER)
_BY_SUFFIX = {suffix: r for r in READERS for suffix in r.suffixes}
SUFFIXES = tuple(_BY_SUFFIX)


def reader_for(path: str | Path) -> Reader:
    """The reader for a file's suffix; plain text for a suffix no reader claims.

    Example:
        >>> reader_for("a/Manual.PDF").name, reader_for("notes.md").name, reader_for("x.csv").name
        ('pdf', 'text', 'text')
    """
    return _BY_SUFFIX.get(Path(path).suffix.lower(), text.READER)


def extract(
    path: str | Path, data: bytes, sha: str = "", cache: TextCache | None = None
) -> Extracted:
    """``data`` (the bytes of ``path``) read by its format; through ``cache`` when given.

    ``sha`` is the SHA-256 of ``data``, the cache key. Raises ReadError when the file cannot be
    read as its format.
    """
    reader = reader_for(path)
    if cache is None or not reader.cached:
        return reader.read(data)
    got = cache.get(sha, reader)
    if got is None:
        got = reader.read(data)
        cache.put(sha, reader, got)
    return got
