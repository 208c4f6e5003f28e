"""Load a folder of documents: decoding, file types and the metadata sidecar.

A ``Document.text`` is the file's decoded text, never altered, so offsets into it are offsets into
the file. For ``.html`` the text is the page's extracted text (see ``rag.html_text``): offsets index
that extracted text, which ``read_text(path)`` reproduces exactly; a ``text_cache`` folder keeps
it by content hash, so re-opening an unchanged corpus parses no page. Left out on purpose: PDF and
Office formats, and guessing encodings beyond UTF-8 and UTF-16 with a BOM (anything else is
skipped with a warning that names the file, so nothing is silently mis-decoded).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from rag.doc_title import document_title
from rag.html_text import html_to_text
from rag.records import DocMeta, Document
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
    """Bytes to text: UTF-8 (with or without BOM) or UTF-16 with a BOM, else UnicodeDecodeError.

    Example:
        >>> decode("caf\\u00e9".encode())
        'café'
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
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
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
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
        doc_id = path.relative_to(root).as_posix()
        info = meta.get(doc_id) or DocMeta(title=document_title(text, path.name))
        docs.append(Document(doc_id=doc_id, path=path.resolve(), text=text, meta=info, sha256=sha))
    if cache is not None:
        cache.prune(seen)
    if not docs:
        raise CorpusError(
            f"no readable documents in {root} (looked for {', '.join(SUFFIXES)} files)"
        )
    return tuple(docs)
