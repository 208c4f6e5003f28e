"""Sizes and BLAKE2b hashes of a build's own files, so damage is found on load, not in answers.

``record(folder)`` writes ``checksums.json`` (``relative path -> [size, mtime_ns, blake2b]``)
when a build is committed. ``verify(folder, full)`` checks it: every file's size always, and
its hash when ``full`` or when its mtime moved (something wrote to it). A full check reads
every byte once (~1-2 GB/s), so it runs on the first load after a build and on
``rag index --verify``; the index root's ``verified`` file names the build last checked in full,
and other loads cost one ``stat`` per file. Left out: the manifest itself (it is parsed and
compared field by field on every load) and builds from before checksums (loaded unchecked).
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import suppress
from pathlib import Path

SUMS = "checksums.json"
VERIFIED = "verified"  # in the index root
UNCHECKED = {SUMS, "manifest.json"}


def file_hash(path: Path) -> str:
    """BLAKE2b-128 of a file's bytes, read in 1 MB blocks.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile(delete=False) as f:
        ...     _ = f.write(b"hello")
        >>> file_hash(Path(f.name))
        '46fb7408d4f285228f4af516ea25851b'
    """
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() not in UNCHECKED
    )


def record(folder: Path) -> None:
    """Write ``checksums.json`` for every file under ``folder`` (call before the manifest)."""
    sums = {}
    for p in _files(folder):
        st = p.stat()
        sums[p.relative_to(folder).as_posix()] = [st.st_size, st.st_mtime_ns, file_hash(p)]
    (folder / SUMS).write_text(json.dumps(sums, indent=0), encoding="utf-8")


def verify(folder: Path, full: bool) -> list[str]:
    """What is wrong with the build's files: ``[]`` when they match ``checksums.json``.

    Raises FileNotFoundError when the build has no checksums (built before they existed).
    """
    sums = json.loads((folder / SUMS).read_text(encoding="utf-8"))
    problems = []
    for rel, (size, mtime, digest) in sums.items():
        path = folder / rel
        try:
            st = path.stat()
        except OSError:
            problems.append(f"{rel} is missing")
            continue
        if st.st_size != size:
            problems.append(f"{rel} has {st.st_size} bytes, not {size}")
        elif (full or st.st_mtime_ns != mtime) and file_hash(path) != digest:
            problems.append(f"{rel} does not match its checksum")
    return problems


def fully_verified(root: Path, name: str) -> bool:
    """Whether the build ``name`` was already checked in full."""
    try:
        return (root / VERIFIED).read_text(encoding="utf-8").strip() == name
    except OSError:
        return False


def mark_verified(root: Path, name: str) -> None:
    """Remember that build ``name`` passed a full check; a read-only root just checks again."""
    tmp = root / f".{VERIFIED}-{os.getpid()}"
    try:
        tmp.write_text(name, encoding="utf-8")
        os.replace(tmp, root / VERIFIED)
    except OSError:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
