"""PDF extraction speed: pages/s of ``rag.readers.pdf`` against pypdf on the valgrind manual.

pypdf is what LangChain's ``PyPDFLoader`` runs, so it is the peer. Ours is the whole reader
(pypdfium2's text layer of every page, page spans, repeated header detection), timed from the
file's bytes, median of 3; pypdf's ``PdfReader(...).pages[i].extract_text()`` over every page,
once (it is ~10× slower). Both read the same file. Left out: layout modes and OCR.
"""

from __future__ import annotations

import gzip
import statistics
import time
from pathlib import Path

MANUAL = Path("/usr/share/doc/valgrind/valgrind_manual.pdf.gz")


def manual(folder: Path) -> Path:
    """The valgrind manual, gunzipped into ``folder`` (Debian ships it compressed)."""
    out = folder / "valgrind_manual.pdf"
    if not out.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        out.write_bytes(gzip.decompress(MANUAL.read_bytes()))
    return out


def extraction(path: Path, runs: int = 3) -> dict:
    """Pages/s of our reader and of pypdf on ``path``, and what each extracted."""
    from rag.readers import pdf

    data = path.read_bytes()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        got = pdf.read(data)
        times.append(time.perf_counter() - started)
    ours_s = statistics.median(times)
    pages = len(got.pages)
    out = {
        "file": path.name,
        "pages": pages,
        "ours_s": round(ours_s, 3),
        "ours_pages_per_s": round(pages / ours_s, 1),
        "ours_chars": len(got.text),
        "ours_header_lines": len(got.chrome),
    }
    try:
        import pypdf
    except ImportError:  # the [bench] extra is not installed: report ours alone
        return out
    started = time.perf_counter()
    texts = [page.extract_text() for page in pypdf.PdfReader(path).pages]
    pypdf_s = time.perf_counter() - started
    out.update(
        pypdf_s=round(pypdf_s, 3),
        pypdf_pages_per_s=round(len(texts) / pypdf_s, 1),
        pypdf_chars=sum(len(t) for t in texts),
    )
    return out
