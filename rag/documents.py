"""Load a folder of documents: file types, the metadata sidecar, and ``Document``.

Reading a file is ``rag.readers``' job: one reader per format turns its bytes into the text that
offsets index (the decoded file; for HTML, PDF and Word a deterministic extraction) plus page
spans and hints (title, encoding). ``read_text(path)`` reproduces that text exactly, so
``read_text(path)[start:end]`` is every quote. A ``text_cache`` folder keeps extractions by
content hash, so re-opening an unchanged corpus parses no page. A file no reader can read
(damaged, encrypted, undecodable) is skipped with a warning that names it; per-file problems
(pages with no text layer) are logged and kept on ``Document.warnings``. Left out: guessing a
format from content, and archives. Which files are read (real paths inside the corpus, each
once) is ``rag.corpus_files``'s job.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from rag.corpus_files import CorpusFile, corpus_files
from rag.doc_title import document_title
from rag.parallel import ordered_map, worth_it
from rag.readers import SUFFIXES, Extracted, ReadError, extract, reader_for
from rag.records import DocMeta, Document
from rag.sniff import unbroken_run
from rag.text_cache import TextCache

log = logging.getLogger(__name__)

SIDECAR = "metadata.json"


class CorpusError(ValueError):
    """The corpus folder is missing, empty, or holds no readable document."""


def read_file(path: str | Path) -> Extracted:
    """What ``read_text`` reads, with the page spans: ``read_file(p).text == read_text(p)``.

    Plain text is decoded by the text reader alone (no parser is loaded, nothing is cached);
    HTML, PDF and Word files are parsed by their reader.
    """
    path = Path(path)
    return extract(path, path.read_bytes())


def read_text(path: str | Path) -> str:
    """The text that offsets index: the decoded file, or its extraction (HTML, PDF, Word)."""
    return read_file(path).text


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


def _document(doc_id: str, path: Path, got: Extracted, info: DocMeta | None, sha: str) -> Document:
    """The record of one read file; the sidecar's metadata wins over the file's own title."""
    info = info or DocMeta(title=got.title or document_title(got.text, path.name))
    return Document(
        doc_id=doc_id,
        path=path.resolve(),
        text=got.text,
        meta=info,
        sha256=sha,
        pages=got.pages,
        encoding=got.encoding,
        chrome=got.chrome,
        warnings=got.warnings,
    )


def load_folder(
    folder: str | Path, text_cache: str | Path | None = None, workers: int = 1
) -> tuple[Document, ...]:
    """Every readable file below ``folder`` with a suffix in ``SUFFIXES``, sorted by name.

    Args:
        folder: the corpus folder.
        text_cache: a folder where the text extracted from HTML, PDF and Word files is kept by
            content hash (see ``rag.text_cache``), so an unchanged file is not parsed again;
            None parses every file. Entries of files no longer in ``folder`` are dropped.
        workers: processes that parse the files the cache does not hold, when they are many
            (``rag.parallel``); the result is the same for any number.

    Raises:
        CorpusError: the folder is missing, or holds no readable document.
    """
    root = Path(folder)
    if not root.is_dir():
        raise CorpusError(f"corpus folder not found: {root}")
    meta = load_metadata(root)
    cache = TextCache(text_cache) if text_cache is not None else None
    seen: set[str] = set()
    read: list[tuple[CorpusFile, str, Extracted | None]] = []  # None: still to parse
    # Real paths inside the corpus only, each file once (links out are skipped with a warning).
    for entry in corpus_files(root, SUFFIXES):
        path = entry.path
        data = path.read_bytes()
        limit = reader_for(path).max_bytes
        if len(data) > limit:
            log.warning("skipping %s: %d bytes is over the %d limit", path, len(data), limit)
            continue
        sha = hashlib.sha256(data).hexdigest()
        seen.add(sha)
        reader = reader_for(path)
        if not reader.cached:  # plain text: decoding is cheaper than handing it to a worker
            read.append((entry, sha, _extract((path, data))[1]))
        else:
            read.append((entry, sha, cache.get(sha, reader) if cache is not None else None))
    todo = [i for i, (_, _, got) in enumerate(read) if got is None]
    size = sum(read[i][0].path.stat().st_size for i in todo)
    pool = workers if worth_it(workers, len(todo), size) else 1
    tasks = ((read[i][0].path, read[i][0].path.read_bytes()) for i in todo)  # read as handed out
    for i, (sha, got) in zip(todo, ordered_map(_extract, tasks, pool), strict=True):
        entry = read[i][0]
        seen.add(sha)  # the same as before unless the file changed since it was hashed
        if isinstance(got, Extracted) and cache is not None:
            cache.put(sha, reader_for(entry.path), got)
        read[i] = (entry, sha, got)
    docs = [doc for entry, sha, got in read if (doc := _checked(entry, sha, got, meta))]
    if cache is not None:
        cache.prune(seen)
    if not docs:
        raise CorpusError(
            f"no readable documents in {root} (looked for {', '.join(SUFFIXES)} files)"
        )
    return tuple(docs)


def _extract(task: tuple[Path, bytes]) -> tuple[str, Extracted | str]:
    """(the SHA-256 of a file's bytes, their extraction or why they cannot be read); run in a
    worker process or here."""
    path, data = task
    sha = hashlib.sha256(data).hexdigest()
    try:
        return sha, extract(path, data)
    except (ReadError, UnicodeError) as err:
        return sha, str(err)


def _checked(entry: CorpusFile, sha: str, got: Extracted | str, meta) -> Document | None:
    """The file's ``Document``, or None (with a warning) when it has no text to index."""
    path = entry.path
    if isinstance(got, str):
        log.warning("skipping %s: %s", path, got)
        return None
    if not got.text.strip():  # a scan names its pages with no text layer
        log.warning("skipping %s: no text%s", path, "".join(f"; {w}" for w in got.warnings))
        return None
    for warning in got.warnings:
        log.warning("%s: %s", entry.doc_id, warning)
    if run := unbroken_run(got.text):  # segmentation drops such a line as page chrome
        log.warning(
            "%s: a run of %d characters without a space; a line of one such token is"
            " dropped as page chrome, not indexed",
            path,
            run,
        )
    return _document(entry.doc_id, path, got, meta.get(entry.doc_id), sha)
