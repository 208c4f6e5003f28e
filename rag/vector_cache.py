"""Vectors kept as they are computed, by the hash of their text: a killed build loses one batch.

``<root>/vector-cache/<model key>/`` holds append-only shards ``shard-<n>.npz``, each the
16-byte BLAKE2b digests of some texts (``shas``, (n, 16) uint8) and their vectors (``vectors``,
(n, dim) float32). The encoder loop adds one shard per batch; a shard is written under a
temporary name and renamed into place, so a shard either exists whole or not at all (no fsync:
a ``kill -9`` loses nothing the kernel has, a power cut may lose the last shards, and a shard
that does not load is skipped and removed). The next build looks every text up first and
encodes only the misses. The model name is the folder; a vector does not depend on where its
text stands, so any corpus's build may share it.

Only the shard digests are read when the cache opens; a shard's vectors load when one of its
rows is fetched. ``compact`` (run after a committed build, under the build lock) merges the
shards into one holding only the texts of that build, so the cache stays the size of the index.
Left out: sharing one cache between index folders, and eviction by age.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import uuid
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FOLDER = "vector-cache"
COMPACT_ABOVE = 16  # shards; fewer are cheap to open


def digest(text: str) -> bytes:
    """The 16-byte key of a text.

    Example:
        >>> digest("hello").hex()
        '46fb7408d4f285228f4af516ea25851b'
    """
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def cache_folder(root: Path, model: str) -> Path:
    """Where the vectors of ``model`` are cached under the index folder ``root``."""
    from rag.onnx_encoder import model_key

    return Path(root) / FOLDER / model_key(model)


class VectorCache:
    """The shards under one folder: ``fetch`` known vectors, ``add`` new ones."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.dim: int | None = None
        self._shards: list[Path] = []
        self._where: dict[bytes, tuple[int, int]] = {}  # digest -> (shard, row)
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("shard-*.npz")):
                self._open(path)

    def __len__(self) -> int:
        return len(self._where)

    def has(self, key: bytes) -> bool:
        return key in self._where

    @property
    def shards(self) -> int:
        return len(self._shards)

    def _open(self, path: Path) -> None:
        try:
            with np.load(path) as z:
                shas, dim = z["shas"], int(z["dim"])
        except Exception as err:  # noqa: BLE001 - a torn or foreign file is skipped, not fatal
            log.warning("vector cache shard %s is unreadable (%s); removing it", path, err)
            path.unlink(missing_ok=True)
            return
        if self.dim is not None and dim != self.dim:
            log.warning("vector cache shard %s has dim %d, not %d; skipped", path, dim, self.dim)
            return
        self.dim = dim
        number = len(self._shards)
        self._shards.append(path)
        for row, sha in enumerate(shas):
            self._where.setdefault(sha.tobytes(), (number, row))

    def fetch(self, keys: Sequence[bytes]) -> tuple[list[int], np.ndarray | None]:
        """(positions in ``keys`` found, their vectors (len(found), dim)); one read per shard."""
        found = [i for i, k in enumerate(keys) if k in self._where]
        if not found:
            return [], None
        out = np.zeros((len(found), self.dim or 0), dtype=np.float32)
        by_shard: dict[int, list[tuple[int, int]]] = {}
        for at, i in enumerate(found):
            shard, row = self._where[keys[i]]
            by_shard.setdefault(shard, []).append((at, row))
        for shard, pairs in by_shard.items():
            with np.load(self._shards[shard]) as z:
                vectors = z["vectors"]
            out[[a for a, _ in pairs]] = vectors[[r for _, r in pairs]]
        return found, out

    def add(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Write one shard of ``keys`` and their ``vectors`` (n, dim), atomically."""
        if not len(keys):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        shas = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)
        path = self._write(shas, np.ascontiguousarray(vectors, dtype=np.float32))
        self._open(path)

    def _write(self, shas: np.ndarray, vectors: np.ndarray) -> Path:
        name = f"shard-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.npz"  # in the order written
        tmp = self.folder / f".tmp-{name}"
        try:
            with open(tmp, "wb") as f:
                np.savez(f, shas=shas, vectors=vectors, dim=np.int64(vectors.shape[1]))
            os.replace(tmp, self.folder / name)
        except OSError:  # a full disk: the half-written shard would only hold space
            tmp.unlink(missing_ok=True)
            raise
        return self.folder / name

    def compact(self, keep: Sequence[bytes], rows: np.ndarray | None = None) -> None:
        """Merge the shards into one holding only ``keep``'s vectors (when there are many).

        ``rows`` (len(keep), dim), when the caller holds them (a build's vectors, in ``keep``'s
        order), are written as they are instead of read back from the shards: no second copy
        of every vector in memory. A key listed twice is harmless (the first row wins).
        """
        if len(self._shards) <= COMPACT_ABOVE:
            return
        if rows is not None:
            keys, vectors = list(keep), rows
        else:
            keys = [k for k in dict.fromkeys(keep) if k in self._where]
            _, vectors = self.fetch(keys)
        old = list(self._shards)
        if vectors is not None and len(keys):
            shas = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)
            merged = self._write(shas, np.ascontiguousarray(vectors, dtype=np.float32))
        else:
            merged = None
        for path in old:  # a crash before this leaves duplicates, which are harmless
            if path != merged:
                path.unlink(missing_ok=True)
        self._shards, self._where, self.dim = [], {}, None
        if merged is not None:
            self._open(merged)

    def remove_temporary(self) -> None:
        """Drop the half-written shards of killed builds (call under the build lock)."""
        for tmp in self.folder.glob(".tmp-*"):
            with suppress(OSError):  # a read-only folder keeps them; nothing reads them
                tmp.unlink(missing_ok=True)
