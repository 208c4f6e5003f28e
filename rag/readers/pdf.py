"""PDF with pypdfium2: each page's text layer in reading order, pages joined by ``PAGE_BREAK``.

A page's text is pdfium's ``get_text_range()`` with two fixed substitutions of one character
or line break for another, so it stays the page's text: the ``"\\r\\n"`` pdfium writes between
lines becomes ``"\\n"``, and its marker for a word hyphenated at a line end (U+FFFE, a
noncharacter) becomes a soft hyphen (U+00AD): "DIS\\u00adCLAIMED". Nothing else is changed,
joined or removed, so a quote is exactly what the page shows, and ``pages`` gives every page's
span. Headers and footers repeated on many pages are found (``rag.readers.pages``) and recorded
as ``chrome`` spans, not cut out. A page with drawings or images but no text is reported
("pages 3–9 have no text layer"), never silently empty. Left out: OCR, the PDF outline, printed
page labels, and documents that need a password (skipped with a warning).
"""

from __future__ import annotations

from rag.readers.base import Extracted, Reader, ReadError
from rag.readers.pages import page_runs, repeated_edges

VERSION = 1
# Between pages: a blank line, a form feed, a blank line. Sentences and chunks never run across.
PAGE_BREAK = "\n\n\f\n\n"
MAX_BYTES = 300_000_000  # manuals with images run to tens of megabytes
_FIXES = str.maketrans({"\ufffe": "\u00ad", "\r": "\n"})


def page_text(raw: str) -> str:
    """One page's text as pdfium gives it, with its line breaks and hyphen marks fixed.

    Example:
        >>> page_text("DIS\\ufffeCLAIMED.\\r\\nNext line\\r\\n")
        'DIS\\xadCLAIMED.\\nNext line\\n'
    """
    return raw.replace("\r\n", "\n").translate(_FIXES)


def join_pages(texts: list[str]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The document text and each page's ``(start, end)`` in it.

    Example:
        >>> join_pages(["One.", "", "Three."])
        ('One.\\n\\n\\x0c\\n\\n\\n\\n\\x0c\\n\\nThree.', ((0, 4), (9, 9), (14, 20)))
    """
    spans, at = [], 0
    for text in texts:
        spans.append((at, at + len(text)))
        at += len(text) + len(PAGE_BREAK)
    return PAGE_BREAK.join(texts), tuple(spans)


def read(data: bytes) -> Extracted:
    """The text layer of every page; ReadError for a damaged or password-protected file."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        raise ReadError(f"cannot open it as a PDF (encrypted or damaged: {err})") from err
    try:
        texts, blind = [], []
        for i in range(len(pdf)):
            page = pdf[i]
            try:
                textpage = page.get_textpage()
                try:
                    texts.append(page_text(textpage.get_text_range()))
                finally:
                    textpage.close()
                if not texts[-1].strip() and next(iter(page.get_objects()), None) is not None:
                    blind.append(i + 1)  # something is drawn there, but nothing can be quoted
            finally:
                page.close()
        title = (pdf.get_metadata_value("Title") or "").strip() or None
    except pdfium.PdfiumError as err:
        raise ReadError(f"cannot read its pages (damaged PDF: {err})") from err
    finally:
        pdf.close()
    text, pages = join_pages(texts)
    warnings = (f"{page_runs(blind)} {'have' if len(blind) > 1 else 'has'} no text layer",)
    return Extracted(
        text,
        pages=pages,
        title=title,
        chrome=repeated_edges(text, pages),
        warnings=warnings if blind else (),
    )


READER = Reader("pdf", (".pdf",), read, version=VERSION, max_bytes=MAX_BYTES)
