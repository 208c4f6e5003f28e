"""Index build throughput and re-index time, through ``Assistant.from_directory``.

Build: a fresh index folder (with the model export already present, see ``seed_export``),
timed from the call to the returned assistant; chunks/s = chunks / seconds. The index embeds
every chunk and every sentence (each distinct text once; sentences pick the verbatim quotes), so
chunks/s counts the passages made searchable, not encoder calls: on the python-doc sample the
encoder sees about twice the peer's tokens.

Re-index: the same call again with nothing changed, then after appending a sentence to one
file; both in the process that built the index (imports are warm, as in a running app).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench.common import cpu_seconds, fresh_dir, median, peak_rss_mb, seed_export

EDIT = "\nThis sentence was appended by the bench to change the file.\n"


def build(corpus: Path, index_dir: Path) -> dict:
    """Build an index from scratch and report its throughput."""
    from rag import Assistant

    fresh_dir(index_dir)
    seed_export(index_dir)
    started, cpu = time.perf_counter(), cpu_seconds()
    assistant = Assistant.from_directory(corpus, index_dir=index_dir)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    stats = assistant.stats
    return {
        "seconds": round(seconds, 3),
        "documents": stats["documents"],
        "chunks": stats["chunks"],
        "sentences": stats["sentences"],
        "embedded": stats["embedded_this_load"],
        "chunks_per_s": round(stats["chunks"] / seconds, 1),
        "cpu_s": round(cpu, 2),
        "chunks_per_cpu_s": round(stats["chunks"] / max(cpu, 1e-9), 1),
        "encoded_chars": stats["encoded_chars"],
        "encoder": type(assistant.encoder).__name__,
        "peak_rss_mb": peak_rss_mb(),
    }


def reindex(corpus: Path, workdir: Path, index_from: Path | None = None, repeats: int = 3) -> dict:
    """Time re-opening an unchanged corpus, then one with a single file edited.

    Works on copies of ``corpus`` and of its index (``index_from``, when one was already built
    for it, saves building it again), so the edit touches neither.
    """
    from rag import Assistant

    copy = fresh_dir(workdir) / "corpus"
    shutil.copytree(corpus, copy)
    for path in copy.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)  # the corpus files are read-only
    index_dir = workdir / "index"
    if index_from is not None:
        shutil.copytree(index_from, index_dir)
    seed_export(index_dir)
    Assistant.from_directory(copy, index_dir=index_dir)  # the initial build (or load), not timed
    unchanged = []
    for _ in range(repeats):
        started = time.perf_counter()
        again = Assistant.from_directory(copy, index_dir=index_dir)
        unchanged.append(time.perf_counter() - started)
    assert again.stats["embedded_this_load"] == 0, "an unchanged corpus was re-embedded"
    # The median-sized file: a typical edit, neither the smallest page nor the largest.
    files = sorted(
        (p for p in copy.rglob("*") if p.suffix in (".txt", ".md", ".html")),
        key=lambda p: (p.stat().st_size, p.name),
    )
    victim = files[len(files) // 2]
    with victim.open("a", encoding="utf-8") as handle:
        handle.write(EDIT)
    started = time.perf_counter()
    changed = Assistant.from_directory(copy, index_dir=index_dir)
    changed_s = time.perf_counter() - started
    return {
        "documents": len(changed.documents),
        "unchanged_s": round(median(unchanged), 3),
        "unchanged_runs_s": [round(s, 3) for s in unchanged],
        "one_file_changed_s": round(changed_s, 3),
        "changed_file": victim.name,
        "changed_file_bytes": victim.stat().st_size,
        "re_embedded_sentences": changed.stats["embedded_this_load"],
    }


class StandInEncoder:
    """Random unit vectors of the model's dimension: for timing everything but the model."""

    name = "stand-in"
    dim = 384

    def __init__(self) -> None:
        import numpy as np

        self._rng = np.random.default_rng(0)

    def encode(self, texts: list[str]):
        import numpy as np

        v = self._rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def reopen_at_scale(corpus: Path, index_dir: Path, repeats: int = 3) -> dict:
    """Re-open a large unchanged corpus, the way ``Assistant.from_directory`` does plus the text
    cache (``load_folder(corpus, text_cache=<index>/text-cache)``), timed in parts.

    The index is built first with stand-in vectors (embedding ~36k chunks and their sentences
    would take ~30 min): a re-open embeds nothing, and the files it reads have the real shapes.
    """
    from rag import Assistant, Settings
    from rag.documents import load_folder
    from rag.index import open_index

    settings = Settings()
    cache = index_dir / "text-cache"
    fresh_dir(index_dir)
    started = time.perf_counter()
    docs = load_folder(corpus, text_cache=cache)
    first_load_s = time.perf_counter() - started
    index = open_index(index_dir, docs, settings, StandInEncoder)
    build_s = time.perf_counter() - started
    loads, reads, totals = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        docs = load_folder(corpus, text_cache=cache)
        loaded = time.perf_counter()
        again = open_index(index_dir, docs, settings, _no_encoder)
        Assistant(again, settings, index_dir)
        done = time.perf_counter()
        loads.append(loaded - started)
        reads.append(done - loaded)
        totals.append(done - started)
        del again  # freed outside the timing: the next re-open starts from the built index alone
    return {
        "documents": len(docs),
        "chunks": len(index.chunks),
        "sentences": len(index.sentences),
        "sentence_store": index.sentence_store.kind,
        "build_without_model_s": round(build_s, 1),
        "load_no_cache_s": round(first_load_s, 2),
        "load_cached_s": round(median(loads), 3),
        "read_index_s": round(median(reads), 3),
        "unchanged_s": round(median(totals), 3),
        "unchanged_runs_s": [round(s, 3) for s in totals],
        "peak_rss_mb": peak_rss_mb(),
    }


def _no_encoder():
    raise AssertionError("an unchanged corpus needed the encoder")
