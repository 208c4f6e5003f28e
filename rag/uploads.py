"""Files added from the web UI: checked by name, size and content, then stored in one folder.

``accept(files, folder, limits)`` takes ``(name the client gave, path of the bytes)`` pairs and
returns what it stored and what it refused, with a reason a person can act on. A name with a
folder in it is refused (nothing is stored outside ``folder``); otherwise it is made safe:
leading dots and spaces dropped (no hidden files), characters other than letters, digits,
``-_.() `` and spaces turned into ``_``, the suffix lower-cased and checked against
``SUFFIXES``. The content must be what the suffix says: a PDF starts with ``%PDF-``, a Word
file is a zip holding ``word/document.xml``, text and Markdown decode, HTML decodes and has a
tag. A file is written through a hidden temporary file and linked into place, so an existing
file is never overwritten: the same bytes again are "already there", other bytes under a
taken name get ``name (2).pdf``. A batch over ``max_files`` is refused whole. ``remove`` deletes
one plain file directly inside ``folder``. Left out: virus scanning, quotas per user, archives.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.readers.base import ReadError
from rag.readers.text import decode

SUFFIXES = (".pdf", ".docx", ".txt", ".md", ".html", ".htm")
KINDS = "PDF, Word (.docx), text (.txt), Markdown (.md) or HTML"
NAME_CHARS = 100  # longest stored file name, suffix included
_UNSAFE = re.compile(r"[^\w\-.() ]+")


class Refused(ValueError):
    """A file that is not stored, and why."""


@dataclass(frozen=True)
class Limits:
    """How much one upload may bring."""

    max_bytes: int = 50_000_000
    max_files: int = 20


@dataclass(frozen=True)
class UploadResult:
    """``stored``: the names now in the folder (new, or the same bytes already there);
    ``refused``: ``(name as given, reason)``; ``existing``: which of ``stored`` were there."""

    stored: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()
    existing: tuple[str, ...] = ()


def safe_name(name: str) -> str:
    """The name a file is stored under; Refused when it names a folder or a wrong type.

    Example:
        >>> safe_name(".hidden.txt"), safe_name("Q3 report (final).PDF"), safe_name("a<b>?.md")
        ('hidden.txt', 'Q3 report (final).pdf', 'a_b_.md')
        >>> safe_name("../../etc/passwd.txt")
        Traceback (most recent call last):
        ...
        rag.uploads.Refused: the name holds a folder path; send the file alone
    """
    if "/" in name or "\\" in name or name.strip() in (".", ".."):
        raise Refused("the name holds a folder path; send the file alone")
    stem, dot, suffix = name.strip().rpartition(".")
    suffix = f".{suffix.lower()}" if dot else ""
    if suffix not in SUFFIXES:
        raise Refused(f"not a {KINDS} file name")
    stem = _UNSAFE.sub("_", stem).lstrip(". ").rstrip(" .")
    if not stem.strip("_"):
        raise Refused("the name has no letters or digits before its suffix")
    return stem[: NAME_CHARS - len(suffix)].rstrip(" .") + suffix


def content_problem(data: bytes, suffix: str) -> str | None:
    """Why ``data`` is not a ``suffix`` file, or None when it is.

    Example:
        >>> content_problem(b"%PDF-1.7 ...", ".pdf") is None, content_problem(b"hello", ".pdf")
        (True, 'a .pdf file must start with %PDF- (this one does not: another type renamed?)')
        >>> content_problem(b"<p>hi</p>", ".html"), content_problem(b"no tags", ".html")
        (None, 'no HTML tag in it')
    """
    if not data:
        return "the file is empty"
    if suffix == ".pdf":
        ok = data.lstrip(b"\r\n\t ").startswith(b"%PDF-")
        return (
            None
            if ok
            else "a .pdf file must start with %PDF- (this one does not: another type renamed?)"
        )
    if suffix == ".docx":
        return _docx_problem(data)
    try:
        text, _ = decode(data)
    except (ReadError, UnicodeError) as err:
        return f"it is not text ({err})"
    if suffix in (".html", ".htm") and not re.search(r"<[A-Za-z!/]", text):
        return "no HTML tag in it"
    return None


def _docx_problem(data: bytes) -> str | None:
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return "a .docx file is a zip archive and this one is not"
    return None if "word/document.xml" in names else "a zip without word/document.xml is no .docx"


def accept(
    files: Sequence[tuple[str, str | Path]], folder: str | Path, limits: Limits = Limits()
) -> UploadResult:
    """Check each ``(name, path)`` and store the good ones in ``folder`` (created if missing).

    Args:
        files: the name the client gave each file, and where its bytes are now.
        folder: where accepted files go, directly (no sub-folders).
        limits: size per file and files per upload.
    """
    if len(files) > limits.max_files:
        why = f"{len(files)} files at once; at most {limits.max_files} per upload"
        return UploadResult(refused=tuple((name, why) for name, _ in files))
    root = Path(folder)
    stored, refused, existing = [], [], []
    for given, source in files:
        try:
            name = safe_name(given)
            size = os.path.getsize(source)
            if size > limits.max_bytes:
                raise Refused(f"{_mb(size)} is over the {_mb(limits.max_bytes)} limit")
            data = Path(source).read_bytes()
            problem = content_problem(data, Path(name).suffix)
            if problem:
                raise Refused(problem)
            kept, was_there = _store(root, name, data)
        except Refused as why:
            refused.append((given, str(why)))
            continue
        except OSError as err:
            refused.append((given, f"could not be stored ({err.strerror or err})"))
            continue
        stored.append(kept)
        if was_there:
            existing.append(kept)
    return UploadResult(tuple(stored), tuple(refused), tuple(existing))


def _mb(size: int) -> str:
    """A size for people.

    Example:
        >>> _mb(12_500_000), _mb(1_001)
        ('12.5 MB', '1,001 bytes')
    """
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{size:,} bytes"


def _store(root: Path, name: str, data: bytes) -> tuple[str, bool]:
    """Link ``data`` into ``root`` under ``name`` or ``name (n)``; never over another file."""
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).digest()
    tmp = root / f".upload-{uuid.uuid4().hex}"
    tmp.write_bytes(data)
    try:
        stem, suffix = name[: -len(Path(name).suffix)], Path(name).suffix
        for n in range(1, 1000):
            candidate = name if n == 1 else f"{stem} ({n}){suffix}"
            target = root / candidate
            try:
                os.link(tmp, target)  # fails if anything, even a dangling link, has the name
                return candidate, False
            except FileExistsError:
                if _same(target, digest):
                    return candidate, True
        raise Refused("too many files with this name")
    finally:
        tmp.unlink(missing_ok=True)


def _same(path: Path, digest: bytes) -> bool:
    """Whether ``path`` is a plain file holding the bytes whose SHA-256 is ``digest``."""
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").digest() == digest


def removable(folder: str | Path, paths: Iterable[str | Path]) -> list[Path]:
    """Those of ``paths`` that are plain files directly inside ``folder``.

    Example:
        >>> removable("/srv/up", ["/srv/up/a.pdf", "/srv/b.pdf", "/srv/up/x/c.pdf"])
        [PosixPath('/srv/up/a.pdf')]
    """
    root = Path(os.path.abspath(folder))
    return [Path(p) for p in paths if Path(os.path.abspath(p)).parent == root]


def remove(folder: str | Path, name: str) -> bool:
    """Delete file ``name`` from ``folder``; False unless it is a plain file directly inside."""
    if not name or name != Path(name).name or name.startswith("."):
        return False
    root = Path(folder).resolve()
    target = root / name
    if target.is_symlink() or not target.is_file() or target.resolve().parent != root:
        return False
    target.unlink()
    return True
