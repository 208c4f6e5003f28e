"""The text extracted from HTML pages, cached by the SHA-256 of each page's raw bytes.

Parsing HTML is most of what loading a corpus costs (~25 ms a page with ``html.parser``: 13 s
for the 530 pages of the Python docs), and ``load_folder`` already hashes every file's bytes, so
an unchanged page can skip the parse. The cache is a folder (the index keeps one beside its
builds); an entry is ``<raw sha256>.txt``: one line with the SHA-256 of the text, then the text
in UTF-8. A read checks that line, so a damaged entry is a miss (the page is parsed again and the
entry rewritten), never wrong text. Writes go to a temporary file renamed into place, so a crash
leaves no half entry. The folder is named after ``html_text.VERSION``: another extractor never
reads old entries. Left out: locking (two processes may both parse a page and write the same
entry) and a size bound beyond ``prune``, which keeps only the pages still in the corpus.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import uuid
from pathlib import Path

from rag.html_text import VERSION

log = logging.getLogger(__name__)


class TextCache:
    """``raw sha256 -> extracted text`` entries in a folder; every failure is a miss."""

    def __init__(self, folder: str | Path) -> None:
        self.root = Path(folder)
        self.folder = self.root / f"html-v{VERSION}"
        self._warned = False

    def get(self, sha: str) -> str | None:
        """The cached text of the page whose raw bytes hash to ``sha``, or None."""
        try:
            raw = (self.folder / f"{sha}.txt").read_bytes()
        except OSError:
            return None
        check, newline, body = raw.partition(b"\n")
        if not newline or check != _digest(body):
            log.info("text cache entry %s is damaged; parsing the page again", sha)
            return None
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:  # a matching checksum over bytes put() never wrote
            return None

    def put(self, sha: str, text: str) -> None:
        """Store ``text`` for ``sha``; a cache that cannot be written is a warning, once."""
        tmp = self.folder / f".{sha}-{uuid.uuid4().hex[:8]}.tmp"
        try:
            body = text.encode("utf-8")
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(_digest(body) + b"\n" + body)
            os.replace(tmp, self.folder / f"{sha}.txt")
        except (OSError, UnicodeEncodeError) as err:
            if not self._warned:
                log.warning("cannot write the text cache in %s (%s); carrying on", self.root, err)
                self._warned = True
            _remove(tmp)

    def prune(self, keep: set[str]) -> None:
        """Drop every entry whose sha is not in ``keep``, and older extractors' folders."""
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            if path.name.startswith("html-v") and path != self.folder:
                _remove(path)
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                if path.name.removesuffix(".txt") not in keep:
                    _remove(path)


def _digest(body: bytes) -> bytes:
    return hashlib.sha256(body).hexdigest().encode("ascii")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
        return
    try:
        path.unlink(missing_ok=True)
    except OSError as err:  # another process may be writing or removing it too
        log.debug("could not remove %s from the text cache: %s", path, err)
