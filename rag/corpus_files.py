"""Which files make up a corpus: the folder is a boundary that links cannot cross.

``corpus_files(root, suffixes)`` walks ``root`` and returns each file to index once, as its real
path inside the corpus and its ``doc_id`` (its name relative to ``root``):

- A symbolic link whose target lies outside the corpus (``passwd.txt -> /etc/passwd``, a file in
  a sibling folder, a folder link out) is skipped with a warning that names it.
- A file reached by several names (its own and links to it, or hard links) is indexed once,
  under its own name if that is listed, else under the first link's name in sorted order.
- A dangling link is skipped with a warning.
- Hidden files and folders (a name starting with ".") are not part of the corpus.
- The file type is the real file's suffix, so a ``.txt`` link to a page is not read as text.

Folder links are never followed: one pointing inside the corpus reaches nothing new. Left out:
a file swapped for a link between this walk and its reading (the reader opens the real path).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CorpusFile:
    """A file to index: its resolved path (inside the corpus) and its name in the corpus."""

    path: Path
    doc_id: str


def inside(path: Path, root: Path) -> bool:
    """Whether ``path`` is ``root`` or lies below it (both already resolved).

    Example:
        >>> inside(Path("/c/a/b.txt"), Path("/c")), inside(Path("/etc/passwd"), Path("/c"))
        (True, False)
    """
    return path == root or root in path.parents


def _names(root: Path) -> Iterable[Path]:
    """Every entry below ``root`` that is not hidden, sorted, without following folder links."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(folder)
        for name in sorted(files + [d for d in dirs if (base / d).is_symlink()]):
            if not name.startswith("."):
                yield base / name


def corpus_files(root: str | Path, suffixes: tuple[str, ...]) -> tuple[CorpusFile, ...]:
    """The files below ``root`` with one of ``suffixes``, each once, none outside ``root``.

    Args:
        root: the corpus folder (it may itself be a link).
        suffixes: lower-case suffixes with their dot, e.g. ``(".txt", ".md")``.

    Returns:
        ``CorpusFile`` records sorted by ``doc_id``'s parts (as paths sort).
    """
    root = Path(root)
    real_root = root.resolve()
    chosen: dict[tuple[int, int], CorpusFile] = {}  # (device, inode) -> the file's entry
    for name in _names(root):
        doc_id = name.relative_to(root).as_posix()
        if name.suffix.lower() not in suffixes and not name.is_dir():
            continue  # not a document (nor a folder link that might lead out): no word
        link = name.is_symlink()
        if link and not name.exists():
            log.warning("skipping %s: a link to %s, which does not exist", doc_id, _target(name))
            continue
        real = name.resolve()
        if not inside(real, real_root):
            log.warning("skipping %s: a link to %s, outside the corpus %s", doc_id, real, root)
            continue
        if name.is_dir() or not name.is_file():
            continue  # a folder link inside the corpus (walked directly), a socket, a pipe
        if real.suffix.lower() not in suffixes:
            continue
        stat = real.stat()
        key = (stat.st_dev, stat.st_ino)
        first = chosen.get(key)
        if first is None or (not link and first.path != real_root / first.doc_id):
            chosen[key] = CorpusFile(real, doc_id)  # its own name wins over a link's
        if first is not None:
            kept = chosen[key].doc_id
            log.info("%s and %s are the same file: indexed once, as %s", first.doc_id, doc_id, kept)
    return tuple(sorted(chosen.values(), key=lambda f: Path(f.doc_id).parts))


def _target(link: Path) -> str:
    try:
        return os.readlink(link)
    except OSError:
        return "?"
