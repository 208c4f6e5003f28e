"""The PDF viewer's boxes: a quote's characters found on its page, checked against pdfium.

The PDFs are made here with fpdf2: two pages, a paragraph that wraps over three lines on page
2. The expected boxes come from pypdfium2 itself, found by searching the page for the quote, so
the offset mapping under test is not used to compute them.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rag.readers import pdf
from rag.readers.pdf_view import (
    SCALE,
    cited_pages,
    document_pages,
    page_ranges,
    quote_boxes,
    raw_offsets,
    render_page,
)

PAGE_ONE = "The orchard report.\nPear trees were planted in rows along the river bank."
PAGE_TWO = (
    "The zebra committee approved a budget of 4,200 dollars for the annual picnic by the lake, "
    "which is a long sentence that wraps across several lines of the page so that the quote "
    "runs from the first line to the third.\nA second paragraph closes the page."
)
TOL = 0.01  # PDF points


def make_pdf(path: Path, pages: list[str]) -> Path:
    """A Helvetica PDF with one page per string; fpdf2 wraps long lines."""
    from fpdf import FPDF

    doc = FPDF()
    doc.set_font("helvetica", size=12)
    for text in pages:
        doc.add_page()
        doc.multi_cell(0, 8, text)
    doc.output(str(path))
    return path


@pytest.fixture
def two_pages(tmp_path) -> Path:
    return make_pdf(tmp_path / "picnic.pdf", [PAGE_ONE, PAGE_TWO])


def pdfium_boxes(path: Path, page: int, quote: str) -> tuple[list, list]:
    """pdfium's own loose boxes of ``quote`` on ``page`` (found by search), and the boxes of
    the characters just before and after it."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    doc = pdfium.PdfDocument(str(path))
    textpage = doc[page - 1].get_textpage()
    found = textpage.search(quote.replace("\n", "\r\n"), match_case=True).get_next()
    assert found is not None, quote
    index, count = found
    boxes = [
        textpage.get_charbox(i, loose=True)
        for i in range(index, index + count)
        if not pdfium_c.FPDFText_IsGenerated(textpage, i)
    ]
    near = [i for i in (index - 1, index + count) if 0 <= i < textpage.count_chars()]
    return boxes, [textpage.get_charbox(i, loose=True) for i in near]


def inside(box, outer, tol: float = TOL) -> bool:
    return (
        box[0] >= outer[0] - tol
        and box[1] >= outer[1] - tol
        and box[2] <= outer[2] + tol
        and box[3] <= outer[3] + tol
    )


def centre_in(box, outer) -> bool:
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return outer[0] < x < outer[2] and outer[1] < y < outer[3]


def assert_covers_exactly(got: tuple, chars: list, near: list) -> None:
    """Each line box is the union of the quote's character boxes inside it, every character is
    in one, and the neighbours outside the quote are in none."""
    for line in got:
        members = [c for c in chars if inside(c, line)]
        assert members, line
        union = (
            min(c[0] for c in members),
            min(c[1] for c in members),
            max(c[2] for c in members),
            max(c[3] for c in members),
        )
        assert line == pytest.approx(union, abs=TOL)
    assert all(sum(inside(c, line) for line in got) == 1 for c in chars)
    assert not any(centre_in(n, line) for n in near for line in got)


def test_raw_offsets_invert_page_text():
    raw = "DIS\ufffeCLAIMED.\r\nNext\rline\r\n\r\nend\r\n"
    text, offsets = pdf.page_text(raw), raw_offsets(raw)
    assert len(offsets) == len(text) + 1 and offsets[-1] == len(raw)
    for k, ch in enumerate(text):
        assert pdf.page_text(raw[offsets[k] : offsets[k + 1]]) == ch


def test_page_ranges_split_a_span_over_pages():
    text, pages = pdf.join_pages(["one two", "three four"])
    start, end = text.index("two"), text.index("three") + 5
    assert page_ranges(pages, start, end) == [(1, 4, 7), (2, 0, 5)]


def test_boxes_of_a_quote_over_three_lines_are_pdfiums_own(two_pages):
    doc = pdf.read(two_pages.read_bytes())
    quote = "approved a budget of 4,200 dollars"
    quote = doc.text[doc.text.index(quote) : doc.text.index("third") + 5]  # lines 1 to 3
    start = doc.text.index(quote)
    got = quote_boxes(two_pages, start, start + len(quote), doc.pages)
    assert [g.page for g in got] == [2]
    page_start = doc.pages[1][0]
    local = doc.text[page_start : doc.pages[1][1]]
    assert local.count("\n", start - page_start, start - page_start + len(quote)) >= 2
    chars, near = pdfium_boxes(two_pages, 2, quote)
    assert len(got[0].boxes) == quote.count("\n") + 1  # one box per line
    assert_covers_exactly(got[0].boxes, chars, near)
    # Without the page spans, they are read from the file: the same boxes.
    assert quote_boxes(two_pages, start, start + len(quote)) == got


def test_a_quote_across_two_pages_has_boxes_on_both(two_pages):
    doc = pdf.read(two_pages.read_bytes())
    start, end = doc.text.index("river bank."), doc.text.index("zebra") + len("zebra")
    got = quote_boxes(two_pages, start, end, doc.pages)
    assert [g.page for g in got] == [1, 2]
    chars, near = pdfium_boxes(two_pages, 1, "river bank.")
    assert_covers_exactly(got[0].boxes, chars, near)
    chars, near = pdfium_boxes(two_pages, 2, "The zebra")
    assert len(got[1].boxes) == 1 and inside(chars[0], got[1].boxes[0])


def test_render_maps_points_to_pixels_and_caches_the_page(two_pages, tmp_path):
    from PIL import Image

    doc = pdf.read(two_pages.read_bytes())
    start = doc.text.index("zebra committee")
    [boxes] = quote_boxes(two_pages, start, start + len("zebra committee"), doc.pages)
    cache = tmp_path / "pages"
    shown = render_page(two_pages, 2, boxes.boxes, cache=cache, sha="abc")
    assert list(cache.iterdir()) == [cache / f"abc-p2-s{SCALE:g}.png"]
    image = Image.open(io.BytesIO(shown.png))
    assert image.size == (shown.width, shown.height) == (round(595.28 * SCALE), 1263)
    [(x0, y0, x1, y1)] = shown.boxes
    left, bottom, right, top = boxes.boxes[0]
    height = 841.89
    assert (x0, x1) == pytest.approx((left * SCALE, right * SCALE), abs=1)
    assert (y0, y1) == pytest.approx(((height - top) * SCALE, (height - bottom) * SCALE), abs=1)
    r, g, b = image.getpixel(((x0 + x1) // 2, y0 + 2))[:3]
    assert b < 200 < r  # the box is filled in (yellow over white)
    again = cited_pages(two_pages, start, start + 5, doc.pages, cache, "abc")
    assert [p.page for p in again] == [2] and again[0].width == shown.width


def test_document_pages_only_for_the_pdf_that_was_indexed(two_pages, tmp_path):
    from rag.documents import load_folder

    (two_pages.parent / "note.txt").write_text("A zebra note.", encoding="utf-8")
    note, picnic = load_folder(two_pages.parent)
    start = picnic.text.index("zebra")
    assert [p.page for p in document_pages(picnic, start, start + 5)] == [2]
    assert document_pages(note, 2, 7) == ()
    make_pdf(two_pages, ["Another file now.", "Its second page."])
    assert document_pages(picnic, start, start + 5) == ()  # changed since: the text view only
