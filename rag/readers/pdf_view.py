"""PDF pages as pictures, with a quote's characters boxed: the viewer's half of ``rag.readers.pdf``.

A citation's ``[start, end)`` indexes the document text, which is each page's
``page_text(get_text_range())`` joined by ``PAGE_BREAK``. To find its characters on the page,
``quote_boxes`` undoes that in three steps: the page spans give the page and the offset within
its text; ``raw_offsets`` inverts ``page_text`` (every character is one character of pdfium's
text except a ``"\\n"`` that was ``"\\r\\n"``, which is two); pdfium's own
``FPDFText_GetCharIndexFromTextIndex`` turns a text index (UTF-16 units) into an index of the
page's character list, whose loose boxes (the font's line height, like a text selection) are
merged into one box per run of a line. Generated characters (the line breaks pdfium inserts)
have no box and are skipped. ``render_page`` draws the page with pdfium, fills the boxes in with
PIL and returns the PNG and the boxes in pixels; the plain render is cached on disk by file hash,
page and scale. Left out: OCR'd scans (no text layer, so no boxes), annotations and forms
(pdfium draws them as the page shows them, nothing more), and lone surrogates in a text layer.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

from rag.readers.pdf import page_text

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]  # (left, bottom, right, top) in PDF points
Pixels = tuple[int, int, int, int]  # (x0, y0, x1, y1) in the image, origin top-left

SCALE = 1.5  # pixels per PDF point of the rendered page: 893 x 1263 for an A4 page
FILL = (250, 204, 21, 96)  # translucent yellow over the quoted characters
EDGE = (217, 119, 6, 255)
LINE_OVERLAP = 0.5  # two boxes are one line when they share this much of the lower one's height


@dataclass(frozen=True)
class PageBoxes:
    """A quote's boxes on one page (1-based ``page``), one per run of a line, in PDF points."""

    page: int
    boxes: tuple[Box, ...]


@dataclass(frozen=True)
class PageImage:
    """A rendered page with the boxes drawn in: the PNG, its size, the boxes in pixels."""

    page: int
    png: bytes
    width: int
    height: int
    boxes: tuple[Pixels, ...]
    points: tuple[Box, ...]


def raw_offsets(raw: str) -> list[int]:
    """Where each character of ``page_text(raw)`` starts in ``raw``, plus ``len(raw)`` at the end.

    Only ``"\\r\\n"`` changes length (two characters become one ``"\\n"``); a lone ``"\\r"`` and
    the hyphen mark U+FFFE are replaced one for one.

    Example:
        >>> raw_offsets("ab\\r\\nc\\rd")
        [0, 1, 2, 4, 5, 6, 7]
        >>> raw_offsets("")
        [0]
    """
    out, i = [], 0
    while i < len(raw):
        out.append(i)
        i += 2 if raw.startswith("\r\n", i) else 1
    out.append(len(raw))
    return out


def utf16_offsets(text: str) -> list[int]:
    """Where each character of ``text`` starts in its UTF-16 form, plus the total at the end.

    pdfium counts text in UTF-16 units: a character beyond U+FFFF is two.

    Example:
        >>> utf16_offsets("a\\U0001d400b")
        [0, 1, 3, 4]
    """
    out, at = [0], 0
    for ch in text:
        at += 2 if ord(ch) > 0xFFFF else 1
        out.append(at)
    return out


def page_ranges(pages, start: int, end: int) -> list[tuple[int, int, int]]:
    """``(page, local_start, local_end)`` for each page that ``[start, end)`` touches (1-based).

    Example:
        >>> page_ranges(((0, 10), (15, 30)), 5, 20)
        [(1, 5, 10), (2, 0, 5)]
        >>> page_ranges(((0, 10), (15, 30)), 11, 14)
        []
    """
    out = []
    for number, (a, b) in enumerate(pages, start=1):
        lo, hi = max(start, a), min(end, b)
        if lo < hi:
            out.append((number, lo - a, hi - a))
    return out


def merge_lines(boxes: list[Box]) -> tuple[Box, ...]:
    """Consecutive character boxes joined into one box per run of a line (reading order kept).

    A box joins the run before it when it is to its right and shares at least half the lower
    one's height with it; otherwise it starts a new run (next line, column or word order jump).

    Example:
        >>> merge_lines([(0, 0, 5, 10), (5, 0, 9, 10), (0, -12, 4, -2)])
        ((0, 0, 9, 10), (0, -12, 4, -2))
    """
    runs: list[list[float]] = []
    for left, bottom, right, top in boxes:
        if runs:
            run = runs[-1]
            shared = min(top, run[3]) - max(bottom, run[1])
            height = max(min(top - bottom, run[3] - run[1]), 1e-6)
            if shared >= LINE_OVERLAP * height and left >= run[2] - 0.5 * (right - left) - 1e-6:
                run[:] = [run[0], min(bottom, run[1]), max(right, run[2]), max(top, run[3])]
                continue
        runs.append([left, bottom, right, top])
    return tuple(tuple(run) for run in runs)


def char_indices(textpage, local_start: int, local_end: int) -> list[int]:
    """The page's character-list indices behind ``page_text(raw)[local_start:local_end]``."""
    import pypdfium2.raw as pdfium_c

    raw = textpage.get_text_range()
    offsets, units = raw_offsets(raw), utf16_offsets(raw)
    lo, hi = units[offsets[local_start]], units[offsets[local_end]]
    seen: list[int] = []
    for unit in range(lo, hi):
        index = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, unit)
        if index >= 0 and (not seen or seen[-1] != index):
            seen.append(index)
    return seen


def char_boxes(textpage, indices: list[int]) -> list[Box]:
    """Loose boxes of the characters at ``indices``; generated and empty ones are skipped."""
    import pypdfium2.raw as pdfium_c

    out = []
    for index in indices:
        if pdfium_c.FPDFText_IsGenerated(textpage, index) == 1:
            continue
        left, bottom, right, top = textpage.get_charbox(index, loose=True)
        if right - left > 0 and top - bottom > 0:
            out.append((left, bottom, right, top))
    return out


def quote_boxes(path: str | Path, start: int, end: int, pages=None) -> list[PageBoxes]:
    """The boxes of document characters ``[start, end)``, one ``PageBoxes`` per page touched.

    Args:
        path: the PDF file.
        start, end: offsets into its extracted text (``rag.readers.pdf.read``).
        pages: its page spans (``Document.pages``); read from the file when None.
    """
    import pypdfium2 as pdfium

    if pages is None:  # the spans the reader made when indexing: read the file the same way
        from rag.readers.pdf import read

        pages = read(Path(path).read_bytes()).pages
    pdf = pdfium.PdfDocument(str(path))
    try:
        out = []
        for number, lo, hi in page_ranges(pages, start, end):
            page = pdf[number - 1]
            textpage = page.get_textpage()
            try:
                got = textpage.get_text_range()
                if len(page_text(got)) != pages[number - 1][1] - pages[number - 1][0]:
                    continue  # not the text the offsets index (another file at this path)
                boxes = char_boxes(textpage, char_indices(textpage, lo, hi))
                out.append(PageBoxes(number, merge_lines(boxes)))
            finally:
                textpage.close()
                page.close()
        return out
    finally:
        pdf.close()


def render_page(
    path: str | Path,
    page: int,
    boxes: tuple[Box, ...] = (),
    scale: float = SCALE,
    cache: Path | None = None,
    sha: str = "",
) -> PageImage:
    """Page ``page`` (1-based) of ``path`` as a PNG with ``boxes`` (PDF points) filled in.

    The plain render is kept in ``cache`` as ``<sha>-p<page>-s<scale>.png`` when both are given,
    so a page opened again costs a PNG decode and the drawing of its boxes.
    """
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    pdf = pdfium.PdfDocument(str(path))
    try:
        handle = pdf[page - 1]
        try:
            kept = cache / f"{sha}-p{page}-s{scale:g}.png" if cache is not None and sha else None
            if kept is not None and kept.is_file():
                image = Image.open(kept).convert("RGB")
            else:
                image = handle.render(scale=scale).to_pil().convert("RGB")
                if kept is not None:
                    _save(image, kept)
            pixels = tuple(_to_pixels(handle, box, image.size) for box in boxes)
        finally:
            handle.close()
    finally:
        pdf.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for x0, y0, x1, y1 in pixels:
        draw.rectangle((x0, y0, x1, y1), fill=FILL, outline=EDGE)
    image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return PageImage(page, out.getvalue(), image.width, image.height, pixels, tuple(boxes))


def _to_pixels(page, box: Box, size: tuple[int, int]) -> Pixels:
    """A box in PDF points to image pixels: pdfium's own page-to-device mapping (crop box,
    /Rotate and the flip of the y axis included), rounded outwards."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    width, height = size
    xs, ys = [], []
    for px, py in ((box[0], box[1]), (box[2], box[3])):
        dx, dy = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDF_PageToDevice(page, 0, 0, width, height, 0, px, py, dx, dy)
        xs.append(dx.value)
        ys.append(dy.value)
    return (min(xs), min(ys), max(xs), max(ys))


def _save(image, path: Path) -> None:
    """Write a PNG through a temporary file, so a reader never sees half of one."""
    import os
    import uuid

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    image.save(tmp, format="PNG")
    os.replace(tmp, path)


def cited_pages(
    path: str | Path,
    start: int,
    end: int,
    pages=None,
    cache: Path | None = None,
    sha: str = "",
    scale: float = SCALE,
) -> tuple[PageImage, ...]:
    """Every page that ``[start, end)`` touches, rendered with its characters boxed."""
    return tuple(
        render_page(path, got.page, got.boxes, scale, cache, sha)
        for got in quote_boxes(path, start, end, pages)
    )


def document_pages(doc, start: int, end: int, cache: Path | None = None) -> tuple[PageImage, ...]:
    """The pages of a PDF ``Document`` that ``[start, end)`` touches; () for other formats, and
    for a file that is gone or no longer the one indexed (the text view still shows the quote)."""
    import hashlib

    if not doc.pages or Path(doc.path).suffix.lower() != ".pdf":
        return ()
    try:
        if hashlib.sha256(Path(doc.path).read_bytes()).hexdigest() != doc.sha256:
            return ()
        return cited_pages(doc.path, start, end, doc.pages, cache, doc.sha256)
    except Exception as err:  # noqa: BLE001 - pdfium and PIL errors: show the text view alone
        log.warning("cannot show the pages of %s: %s", doc.doc_id, err)
        return ()
