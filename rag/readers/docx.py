"""Word (``.docx``) with python-docx: the body's paragraphs and tables, in reading order.

The body's blocks are walked as they come, paragraphs and tables interleaved. A paragraph is
its text (a tab or line break inside stays a tab or a newline); a table is one line per row,
its cells joined by ``CELL``, a cell spanning several columns written once. Blocks are joined
by a blank line, empty paragraphs left out. The title is the core properties' title, else the
first heading. Left out: page headers and footers, footnotes, comments, text boxes, tables
nested inside cells, and pages (Word lays them out only when it renders).
"""

from __future__ import annotations

import io

from rag.readers.base import Extracted, Reader, ReadError

VERSION = 1
CELL = " | "
MAX_BYTES = 100_000_000


def read(data: bytes) -> Extracted:
    """The body text of a Word file; ReadError when it is not a readable ``.docx``."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        blocks, heading = [], None
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                blocks.append(_table(item))
                continue
            text = item.text.strip()
            style = item.style.name if item.style is not None else ""
            if text and heading is None and style.startswith(("Heading", "Title")):
                heading = text
            blocks.append(text)
        title = (document.core_properties.title or "").strip() or heading
    except Exception as err:  # noqa: BLE001 - a damaged zip or XML surfaces as many types
        raise ReadError(f"cannot read it as a Word file ({type(err).__name__}: {err})") from err
    return Extracted("\n\n".join(b for b in blocks if b), title=title)


def _table(table) -> str:
    """Rows top to bottom, cells left to right; a merged cell once per row."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(p.text.strip() for p in cell.paragraphs if p.text.strip()))
        if any(cells):
            rows.append(CELL.join(cells))
    return "\n".join(rows)


READER = Reader("docx", (".docx",), read, version=VERSION, max_bytes=MAX_BYTES)
