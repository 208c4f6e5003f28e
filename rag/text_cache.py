"""Extracted texts (HTML, PDF, Word), cached by the SHA-256 of each file's raw bytes.

Extraction is most of what loading a corpus costs (~25 ms an HTML page with ``html.parser``:
13 s for the 530 pages of the Python docs; a few ms a PDF page), and ``load_folder`` already
hashes every file's bytes, so an unchanged file can skip the parse. The cache is a folder (the
index keeps one beside its builds) with one sub-folder per reader and version, e.g.
``pdf-v1/``: another extractor never reads old entries. An entry is ``<raw sha256>.json``: one
line with the SHA-256 of the body, then the body, the ``Extracted`` record as UTF-8 JSON (text,
page spans, title, encoding, header spans, warnings). A read checks that line, so a damaged
entry is a miss (the file is parsed again and the entry rewritten), never wrong text. Writes go
to a temporary file renamed into place, so a crash leaves no half entry. Left out: locking (two
processes may both parse a file and write the same entry) and a size bound beyond ``prune``,
which keeps only the files still in the corpus.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import uuid
from pathlib import Path

from rag.readers import READERS, Extracted, Reader

log = logging.getLogger(__name__)

SUFFIX = ".json"


class TextCache:
    """``(reader, raw sha256) -> Extracted`` entries in a folder; every failure is a miss."""

    def __init__(self, folder: str | Path) -> None:
        self.root = Path(folder)
        self._warned = False

    def folder(self, reader: Reader) -> Path:
        """Where ``reader``'s entries live: ``<root>/<name>-v<version>``."""
        return self.root / f"{reader.name}-v{reader.version}"

    def get(self, sha: str, reader: Reader) -> Extracted | None:
        """The cached extraction of the file whose raw bytes hash to ``sha``, or None."""
        try:
            raw = (self.folder(reader) / f"{sha}{SUFFIX}").read_bytes()
        except OSError:
            return None
        check, newline, body = raw.partition(b"\n")
        if not newline or check != _digest(body):
            log.info("text cache entry %s is damaged; parsing the file again", sha)
            return None
        try:
            return _load(body)
        except (ValueError, TypeError, KeyError):  # a right checksum over bytes put() never wrote
            return None

    def put(self, sha: str, reader: Reader, extracted: Extracted) -> None:
        """Store ``extracted`` for ``sha``; a cache that cannot be written is a warning, once."""
        folder = self.folder(reader)
        tmp = folder / f".{sha}-{uuid.uuid4().hex[:8]}.tmp"
        try:
            body = json.dumps(dataclasses.asdict(extracted), ensure_ascii=False).encode("utf-8")
            folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(_digest(body) + b"\n" + body)
            os.replace(tmp, folder / f"{sha}{SUFFIX}")
        except (OSError, UnicodeEncodeError) as err:
            if not self._warned:
                log.warning("cannot write the text cache in %s (%s); carrying on", self.root, err)
                self._warned = True
            _remove(tmp)

    def prune(self, keep: set[str]) -> None:
        """Drop every entry whose sha is not in ``keep``, and older extractors' folders."""
        if not self.root.is_dir():
            return
        current = {self.folder(r).name for r in READERS}
        for path in self.root.iterdir():
            if path.name not in current:
                _remove(path)
            elif path.is_dir():
                for entry in path.iterdir():
                    if not (entry.name.endswith(SUFFIX) and entry.name[: -len(SUFFIX)] in keep):
                        _remove(entry)


def _load(body: bytes) -> Extracted:
    """An entry's body back to the record; spans become tuples again."""
    raw = json.loads(body.decode("utf-8"))
    spans = {"pages", "chrome"}
    fields = {
        f.name: tuple(tuple(s) for s in raw[f.name]) if f.name in spans else raw[f.name]
        for f in dataclasses.fields(Extracted)
    }
    fields["warnings"] = tuple(fields["warnings"])
    if not isinstance(fields["text"], str):
        raise TypeError("the text is not a string")
    return Extracted(**fields)


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
