"""The reading stage: PDF, Word and legacy-encoded text, offsets and pages checked exactly.

PDFs come from two places: the real manuals in ``/usr/share/doc`` (bzip2, valgrind, ...; skipped
where absent) and one report generated here with two columns, a table, a rotated page, a header
and footer on every page and an image-only page. Each page's text is checked against pdfium's
own extraction of that page, read independently here; every chunk of every format against
``read_text``. The end-to-end test builds a real index over a small folder, once.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import logging
import random
from pathlib import Path

import pytest

from rag.chunking import chunk_document
from rag.documents import load_folder, read_text
from rag.readers import _BY_SUFFIX, Reader, extract
from rag.readers.pages import page_of
from rag.readers.pdf import PAGE_BREAK
from rag.segments import segment

pdfium = pytest.importorskip("pypdfium2")
docx = pytest.importorskip("docx")
fpdf = pytest.importorskip("fpdf")

DOC = Path("/usr/share/doc")
MANUALS = {  # file name in the test folder -> where Debian keeps it
    "bzip2.pdf": DOC / "bzip2/manual.pdf.gz",
    "valgrind.pdf": DOC / "valgrind/valgrind_manual.pdf.gz",
    "fontconfig.pdf": DOC / "fontconfig/fontconfig-user.pdf.gz",
    "shared-mime-info.pdf": DOC / "shared-mime-info/shared-mime-info-spec.pdf",
}
HEADER = "Harbour Authority Annual Report"
TITLE = "Harbour report 2024"
LEFT = "Left column. The pilots guided forty ships into port during the first month."
RIGHT = "Right column. The customs office moved to the old warehouse on Quay Street."
SIDEWAYS = "This page is printed sideways. The lighthouse keeper retired in 1998."
TABLE = [("Vessel", "Tonnage"), ("Aurora", "1200"), ("Boreal", "950")]
IMAGE_PAGE = 5
CP1252 = "Le café – naïve, déjà vu.\nThe harbour café reopened in May.\n"
GARBAGE = random.Random(0).randbytes(4096)


# --- files made here ----------------------------------------------------------------------------


def report_pdf() -> bytes:
    """Six pages: prose, two columns, a table, a rotated page, an image only, prose."""

    class Report(fpdf.FPDF):
        def header(self) -> None:
            if self.page_no() != IMAGE_PAGE:
                self.set_font("Helvetica", size=9)
                self.cell(0, 8, HEADER, new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            if self.page_no() != IMAGE_PAGE:
                self.set_y(-15)
                self.set_font("Helvetica", size=9)
                self.cell(0, 10, f"Page {self.page_no()}", align="C")

    pdf = Report()
    pdf.set_title(TITLE)
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "The harbour reopened on 3 May after the storm. Ferries returned.")
    pdf.add_page()
    top = pdf.get_y()
    pdf.set_xy(10, top)
    pdf.multi_cell(90, 6, LEFT)  # the whole left column is written before the right one
    pdf.set_xy(110, top)
    pdf.multi_cell(90, 6, RIGHT)
    pdf.add_page()
    with pdf.table() as table:
        for cells in TABLE:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.add_page()
    pdf.multi_cell(0, 6, SIDEWAYS)
    pdf.add_page()
    from PIL import Image

    pdf.image(Image.frombytes("L", (64, 64), random.Random(1).randbytes(64 * 64)), x=20, w=120)
    pdf.add_page()
    pdf.multi_cell(0, 6, "The last page thanks the harbour staff. The report ends here.")
    doc = pdfium.PdfDocument(bytes(pdf.output()))
    doc[3].set_rotation(90)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def locked_pdf() -> bytes:
    pdf = fpdf.FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica")
    pdf.cell(0, 10, "Nobody reads this without the password.")
    return bytes(pdf.output())


def notes_docx(title: str | None = None) -> bytes:
    """A heading, a paragraph, a table with a merged cell, a paragraph, a second heading."""
    d = docx.Document()
    d.core_properties.title = title or ""
    d.add_heading("Harbour works", level=1)
    d.add_paragraph("The quay was rebuilt in 2020.")
    d.add_paragraph("")  # empty paragraphs are left out
    table = d.add_table(rows=4, cols=2)
    for r, cells in enumerate([*TABLE, ("Total", "")]):
        for c, text in enumerate(cells):
            table.cell(r, c).text = text
    table.cell(3, 0).merge(table.cell(3, 1))  # a merged cell is written once
    d.add_paragraph("After the table, the cranes.")
    d.add_heading("Second part", level=2)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


NOTES_TEXT = (
    "Harbour works\n\nThe quay was rebuilt in 2020.\n\n"
    "Vessel | Tonnage\nAurora | 1200\nBoreal | 950\nTotal\n\n"
    "After the table, the cranes.\n\nSecond part"
)


def pdfium_pages(path: Path) -> list[str]:
    """Each page's text as pdfium gives it, with the reader's two documented substitutions."""
    doc = pdfium.PdfDocument(str(path))
    out = []
    for i in range(len(doc)):
        raw = doc[i].get_textpage().get_text_range()
        out.append(raw.replace("\r\n", "\n").replace("\r", "\n").replace("\ufffe", "\u00ad"))
    doc.close()
    return out


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    """Real manuals, the generated report, Word files, legacy text, and files that must fail."""
    folder = tmp_path_factory.mktemp("mixed")
    for name, source in MANUALS.items():
        if source.is_file():
            data = source.read_bytes()
            (folder / name).write_bytes(gzip.decompress(data) if source.suffix == ".gz" else data)
    (folder / "report.pdf").write_bytes(report_pdf())
    (folder / "notes.docx").write_bytes(notes_docx())
    (folder / "titled.docx").write_bytes(notes_docx(title="Quay works, 2020"))
    (folder / "legacy.txt").write_bytes(CP1252.encode("cp1252"))
    (folder / "plain.md").write_text("# Plain\n\nA plain UTF-8 note about ferries.\n", "utf-8")
    (folder / "locked.pdf").write_bytes(locked_pdf())
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "garbage.txt").write_bytes(GARBAGE)
    return folder


@pytest.fixture(scope="module")
def loaded(mixed, tmp_path_factory):
    """``(documents by id, warning messages)`` of one load through a text cache."""
    cache = tmp_path_factory.mktemp("cache")
    handler = _Collect()
    logging.getLogger("rag.documents").addHandler(handler)
    try:
        docs = load_folder(mixed, text_cache=cache)
    finally:
        logging.getLogger("rag.documents").removeHandler(handler)
    return {d.doc_id: d for d in docs}, handler.messages, cache


@pytest.fixture(scope="module")
def chunks(loaded):
    """doc_id -> its chunks, as indexing cuts them (segmenting a 400-page manual takes a while)."""
    return {i: chunk_document(d, segment(d).segments) for i, d in loaded[0].items()}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


# --- the mixed folder -------------------------------------------------------------------------


def test_the_mixed_folder_loads_what_it_can_and_names_what_it_skips(loaded, mixed):
    docs, warnings, _ = loaded
    real = sorted(n for n, source in MANUALS.items() if source.is_file())
    made = ["legacy.txt", "notes.docx", "plain.md", "report.pdf", "titled.docx"]
    assert sorted(docs) == sorted(real + made)
    for name, why in [
        ("locked.pdf", "encrypted"),
        ("broken.pdf", "PDF"),
        ("broken.docx", "Word"),
        ("garbage.txt", "not UTF-8"),
    ]:
        assert any(f"skipping {mixed / name}: " in m and why in m for m in warnings), (
            name,
            warnings,
        )


def test_every_chunk_of_every_format_is_the_exact_span_of_read_text(loaded, chunks):
    docs, _, _ = loaded
    for doc in docs.values():
        text = read_text(doc.path)
        assert text == doc.text, doc.doc_id
        assert chunks[doc.doc_id], doc.doc_id
        for c in chunks[doc.doc_id]:
            assert text[c.start : c.end] == c.text, (doc.doc_id, c.start, c.end)
            for s in c.sentences:
                assert c.start <= s.start < s.end <= c.end


def test_every_page_is_pdfiums_own_text_of_that_page_and_every_sentence_is_on_its_page(
    loaded, chunks
):
    docs, _, _ = loaded
    pdfs = [d for d in docs.values() if d.doc_id.endswith(".pdf")]
    assert "report.pdf" in docs  # and the real manuals that /usr/share/doc holds
    for doc in pdfs:
        pages = pdfium_pages(doc.path)
        assert len(doc.pages) == len(pages), doc.doc_id
        assert doc.text == PAGE_BREAK.join(pages)
        for (a, b), page in zip(doc.pages, pages, strict=True):
            assert doc.text[a:b] == page
        for c in chunks[doc.doc_id]:
            first, last = page_of(doc.pages, c.start, c.end)
            assert doc.text[c.start : c.end].count("\f") == last - first  # one break per page
            for s in c.sentences:
                p, p_end = page_of(doc.pages, s.start, s.end)
                assert p == p_end and first <= p <= last  # no sentence runs across a page break
                a, b = doc.pages[p - 1]
                assert a <= s.start and s.end <= b and doc.text[s.start : s.end] in pages[p - 1]


def test_the_generated_report_keeps_columns_table_and_rotated_page_in_order(loaded):
    doc = loaded[0]["report.pdf"]
    page = [doc.text[a:b] for a, b in doc.pages]
    assert len(page) == 6 and page[IMAGE_PAGE - 1] == ""
    flat = [" ".join(p.split()) for p in page]
    assert LEFT in flat[1] and RIGHT in flat[1] and flat[1].index(LEFT) < flat[1].index(RIGHT)
    cells = [cell for row in TABLE for cell in row]
    at = [flat[2].index(cell) for cell in cells]
    assert at == sorted(at)  # row by row, left to right
    assert SIDEWAYS in flat[3]
    assert doc.meta.title == TITLE  # the PDF's own metadata


def test_the_image_only_page_is_reported_with_its_number(loaded):
    docs, warnings, _ = loaded
    assert docs["report.pdf"].warnings == (f"page {IMAGE_PAGE} has no text layer",)
    assert f"report.pdf: page {IMAGE_PAGE} has no text layer" in warnings
    assert all(not d.warnings for name, d in docs.items() if name != "report.pdf")


def test_repeated_headers_and_footers_are_recorded_not_removed(loaded):
    doc = loaded[0]["report.pdf"]
    found = sorted({doc.text[a:b] for a, b in doc.chrome})
    numbered = [n for n in range(1, 7) if n != IMAGE_PAGE]
    assert found == sorted({HEADER, *(f"Page {n}" for n in numbered)})
    assert sum(doc.text[a:b] == HEADER for a, b in doc.chrome) == len(numbered)
    for a, b in doc.chrome:  # each on the page it was printed on
        p, _ = page_of(doc.pages, a, b)
        assert doc.pages[p - 1][0] <= a < b <= doc.pages[p - 1][1]


def test_real_manuals_are_paged_and_hyphenation_is_kept_as_a_soft_hyphen(loaded):
    docs, _, _ = loaded
    if "bzip2.pdf" not in docs:
        pytest.skip("no bzip2 manual in /usr/share/doc")
    doc = docs["bzip2.pdf"]
    assert len(doc.pages) == len(pdfium_pages(doc.path))
    assert "\ufffe" not in doc.text and "DIS\u00adCLAIMED" in doc.text
    numbers = [doc.text[a:b] for a, b in doc.chrome if doc.text[a:b].isdigit()]
    assert len(numbers) >= len(doc.pages) // 2  # the page numbers at the foot of the pages


def test_a_cached_load_is_the_same_and_parses_no_cached_format_again(loaded, mixed, monkeypatch):
    docs, _, cache = loaded
    parsed: list[str] = []

    def counted(reader: Reader) -> Reader:
        def read(data: bytes):
            parsed.append(hashlib.sha256(data).hexdigest())
            return reader.read(data)

        return dataclasses.replace(reader, read=read)

    monkeypatch.setattr("rag.readers._BY_SUFFIX", {s: counted(r) for s, r in _BY_SUFFIX.items()})
    again = {d.doc_id: d for d in load_folder(mixed, text_cache=cache)}
    assert again == docs
    read_again = {d.doc_id for d in docs.values() if d.sha256 in parsed}
    assert read_again == {"legacy.txt", "plain.md"}  # text is decoded, never cached
    assert len(list(cache.rglob("*.json"))) == len(docs) - len(read_again)


# --- Word -------------------------------------------------------------------------------------


def test_docx_gives_paragraphs_and_table_rows_in_body_order(loaded):
    docs, _, _ = loaded
    assert docs["notes.docx"].text == NOTES_TEXT
    assert docs["notes.docx"].pages == ()


def test_docx_title_is_the_core_property_else_the_first_heading(loaded):
    docs, _, _ = loaded
    assert docs["notes.docx"].meta.title == "Harbour works"
    assert docs["titled.docx"].meta.title == "Quay works, 2020"
    assert docs["titled.docx"].text == NOTES_TEXT


# --- legacy encodings -------------------------------------------------------------------------


def test_a_cp1252_file_is_decoded_and_its_encoding_recorded(loaded):
    docs, _, _ = loaded
    doc = docs["legacy.txt"]
    assert doc.text == CP1252 and doc.encoding == "cp1252"
    assert docs["plain.md"].encoding == "utf-8"
    at = doc.text.index("naïve")
    assert read_text(doc.path)[at : at + 5] == "naïve"


@pytest.mark.parametrize(
    "text, encoding",
    [
        ("Über die Straße gehen. Die Bäume blühen schön, sagte Jürgen.\n", "cp1252"),
        ("El niño comió. ¿Dónde está la estación? ¡Qué día!\n", "cp1252"),
        ("Zażółć gęślą jaźń. Łódź to piękne miasto, w którym mieszka wielu ludzi.\n", "cp1250"),
        ("Съешь же ещё этих мягких французских булок, да выпей чаю.\n", "cp1251"),
    ],
)
def test_legacy_code_pages_decode_to_the_original_text(text, encoding):
    got = extract("a.txt", text.encode(encoding))
    assert got.text == text


def test_loading_the_readers_imports_no_parser():
    import subprocess
    import sys

    code = (
        "import sys, rag, rag.documents, rag.readers, rag.text_cache; "
        "print([m for m in ('pypdfium2', 'docx', 'charset_normalizer') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_extract_of_an_unknown_suffix_reads_it_as_text():
    assert extract("table.csv", b"a,b\n1,2\n").text == "a,b\n1,2\n"


def test_a_pdf_of_scans_only_is_skipped_naming_its_pages(tmp_path, caplog):
    from PIL import Image

    pdf = fpdf.FPDF()
    for seed in (1, 2):
        pdf.add_page()
        pdf.image(Image.frombytes("L", (8, 8), random.Random(seed).randbytes(64)), x=20, w=50)
    (tmp_path / "scan.pdf").write_bytes(bytes(pdf.output()))
    (tmp_path / "note.txt").write_text("A note.\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag.documents"):
        assert [d.doc_id for d in load_folder(tmp_path)] == ["note.txt"]
    skipped = f"skipping {tmp_path / 'scan.pdf'}: no text; pages 1–2 have no text layer"
    assert [r.getMessage() for r in caplog.records] == [skipped]


# --- surfaces: the CLI prints pages and reading warnings ---------------------------------------


def test_cli_prints_pages_beside_the_source():
    from rag.cli import format_hit, format_source
    from rag.records import Citation, Hit

    c = Citation(1, "m.pdf", "Manual", "/c/m.pdf", 10, 20, "q", None, None, None, 0.5)
    assert format_source(c).endswith("\n    m.pdf [10:20]")
    two = dataclasses.replace(c, page=12, page_end=13)
    assert format_source(two).endswith("\n    m.pdf pp. 12–13 [10:20]")
    hit = Hit(3, "m.pdf", "Manual", "/c/m.pdf", 10, 20, "text", 0.5, page=7, page_end=7)
    assert format_hit(1, hit).startswith("1. 0.5000  m.pdf p. 7 [10:20]  Manual")


def test_rag_index_reports_the_page_without_text(tmp_path, fake_encoder, capsys, caplog):
    from rag import cli

    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "report.pdf").write_bytes(report_pdf())
    with caplog.at_level(logging.WARNING, logger="rag.documents"):
        assert cli.main(["--index-dir", str(tmp_path / "idx"), "index", str(folder)]) == 0
    out = capsys.readouterr().out
    line = f"report.pdf: page {IMAGE_PAGE} has no text layer"
    assert "  reading warnings    1" in out and f"    {line}" in out
    assert [r.getMessage() for r in caplog.records] == [line]


# --- one real index over a small folder -------------------------------------------------------


@pytest.fixture(scope="session")
def paged_assistant(tmp_path_factory):
    """The real model over the generated report, a Word file and the cp1252 note."""
    from rag import Assistant, Settings

    folder = tmp_path_factory.mktemp("paged")
    (folder / "report.pdf").write_bytes(report_pdf())
    (folder / "notes.docx").write_bytes(notes_docx())
    (folder / "legacy.txt").write_bytes(CP1252.encode("cp1252"))
    index = tmp_path_factory.mktemp("paged_index")
    return Assistant.from_directory(folder, settings=Settings(), index_dir=index)


@pytest.mark.slow
def test_an_answer_from_a_pdf_cites_its_page_verbatim(paged_assistant):
    from rag.cli import format_source
    from rag.ui_format import citation_dict

    answer = paged_assistant.ask("When did the lighthouse keeper retire?")
    assert not answer.abstained and answer.citations
    c = answer.citations[0]
    assert c.doc_id == "report.pdf"
    assert read_text(c.path)[c.start : c.end] == c.quote
    pages = pdfium_pages(Path(c.path))
    assert (c.page, c.page_end) == (4, 4) and c.quote in pages[3]
    assert sum(c.quote in p for p in pages) == 1
    assert f"report.pdf p. 4 [{c.start}:{c.end}]" in format_source(c)
    assert citation_dict(c)["page"] == 4
    assert paged_assistant.stats["warnings"] == (
        f"report.pdf: page {IMAGE_PAGE} has no text layer",
    )


@pytest.mark.slow
def test_hits_carry_pages_and_unpaged_formats_none(paged_assistant):
    hits = paged_assistant.search("customs office warehouse Quay Street", k=3)
    assert hits[0].doc_id == "report.pdf" and (hits[0].page, hits[0].page_end) == (2, 2)
    assert RIGHT.split(". ")[1][:20] in " ".join(hits[0].text.split())
    word = paged_assistant.search("quay rebuilt cranes", k=5)
    assert any(h.doc_id == "notes.docx" and h.page is None for h in word)
    legacy = paged_assistant.document("legacy.txt")
    assert legacy.encoding == "cp1252" and legacy.text == CP1252
