"""Load a folder of documents: decoding, file types and the metadata sidecar.

A ``Document.text`` is the file's decoded text, never altered, so offsets into it are offsets into
the file. For ``.html`` the text is the page's extracted text (see ``rag.html_text``): offsets index
that extracted text, which ``read_text(path)`` reproduces exactly; a ``text_cache`` folder keeps
it by content hash, so re-opening an unchanged corpus parses no page. Left out on purpose: PDF and
Office formats, and guessing encodings beyond UTF-8 and UTF-16 (with a BOM, or without one when
its NUL bytes show it, ``rag.sniff``); anything else is skipped with a warning that names the
file, so nothing is silently mis-decoded. Which files are read is ``rag.corpus_files``'s job.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from rag.corpus_files import corpus_files
from rag.html_text import html_to_text
from rag.records import DocMeta, Document
from rag.sniff import unbroken_run, utf16_without_bom
from rag.text_cache import TextCache

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".html", ".htm")
HTML = (".html", ".htm")
SIDECAR = "metadata.json"
# One document above this is skipped: it would dominate the index and is likely not prose.
MAX_BYTES = 50_000_000


class CorpusError(ValueError):
    """The corpus folder is missing, empty, or holds no readable document."""


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16 with a BOM or without one (see
    ``rag.sniff.utf16_without_bom``), else UnicodeDecodeError.

    Example:
        >>> decode("caf\\u00e9".encode()), decode("The".encode("utf-16-le"))
        ('café', 'The')
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if utf16 := utf16_without_bom(data):
        return data.decode(utf16)
    return data.decode("utf-8")


def read_text(path: str | Path) -> str:
    """The text that offsets index: decoded file, or extracted text for HTML."""
    path = Path(path)
    return _text(path, path.read_bytes())


def _text(path: Path, data: bytes, sha: str = "", cache: TextCache | None = None) -> str:
    """``read_text`` of ``data``, the bytes of ``path``; HTML goes through ``cache`` if given."""
    if path.suffix.lower() not in HTML:
        return decode(data)
    text = cache.get(sha) if cache is not None else None
    if text is None:
        text = html_to_text(decode(data))
        if cache is not None:
            cache.put(sha, text)
    return text


def load_metadata(folder: Path) -> dict[str, DocMeta]:
    """The sidecar ``metadata.json``: file name -> DocMeta. A broken sidecar is a warning."""
    sidecar = folder / SIDECAR
    if not sidecar.is_file():
        return {}
    try:
        raw = json.loads(sidecar.read_text(encoding="utf-8"))
        known = set(DocMeta.__dataclass_fields__)
        return {
            name: DocMeta(**{k: v for k, v in fields.items() if k in known})
            for name, fields in raw.items()
        }
    except (ValueError, TypeError, AttributeError) as err:
        log.warning("ignoring unreadable metadata sidecar %s: %s", sidecar, err)
        return {}


def _title_from_text(text: str, fallback: str) -> str:
    """The first line of three words or more, else ``fallback``.

    Example:
        >>> _title_from_text("Menu\\nThe harbour report\\n", "page")
        'The harbour report'
    """
    # The whole lines of the first 4 kB come first: splitting a whole book is slow.
    for lines in (text[:4096].splitlines()[:-1], text.splitlines()):
        for line in lines:
            line = line.strip()
            if len(line.split()) >= 3:
                return line[:120]
    return fallback


def load_folder(folder: str | Path, text_cache: str | Path | None = None) -> tuple[Document, ...]:
    """Every readable ``.txt``, ``.md`` and ``.html`` file below ``folder``, sorted by name.

    Args:
        folder: the corpus folder.
        text_cache: a folder where the text extracted from HTML pages is kept by content hash
            (see ``rag.text_cache``), so an unchanged page is not parsed again; None parses
            every page. Entries of pages no longer in ``folder`` are dropped.

    Raises:
        CorpusError: the folder is missing, or holds no readable document.
    """
    root = Path(folder)
    if not root.is_dir():
        raise CorpusError(f"corpus folder not found: {root}")
    meta = load_metadata(root)
    cache = TextCache(text_cache) if text_cache is not None else None
    seen: set[str] = set()
    docs: list[Document] = []
    # Real paths inside the corpus only, each file once (links out are skipped with a warning).
    for entry in corpus_files(root, SUFFIXES):
        path = entry.path
        data = path.read_bytes()
        if len(data) > MAX_BYTES:
            log.warning("skipping %s: %d bytes is over the %d limit", path, len(data), MAX_BYTES)
            continue
        sha = hashlib.sha256(data).hexdigest()
        seen.add(sha)
        try:
            text = _text(path, data, sha, cache)
        except (UnicodeDecodeError, UnicodeError) as err:
            log.warning("skipping %s: cannot decode it as UTF-8 (%s)", path, err.reason)
            continue
        if not text.strip():
            log.warning("skipping %s: no text", path)
            continue
        doc_id = entry.doc_id
        if run := unbroken_run(text):  # segmentation drops such a line as page chrome
            log.warning(
                "%s: a run of %d characters without a space; a line of one such token is"
                " dropped as page chrome, not indexed",
                path,
                run,
            )
        info = meta.get(doc_id) or DocMeta(title=_title_from_text(text, Path(doc_id).stem))
        docs.append(Document(doc_id=doc_id, path=path, text=text, meta=info, sha256=sha))
    if cache is not None:
        cache.prune(seen)
    if not docs:
        raise CorpusError(
            f"no readable documents in {root} (looked for {', '.join(SUFFIXES)} files)"
        )
    return tuple(docs)
