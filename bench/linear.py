"""Ingestion time per MB as the text grows: segment + chunk of one generated file, no encoder.

The text is English-like prose made reproducibly from a seed: pseudo-words drawn with Zipf
frequencies, sentences of 4-30 words, paragraphs of 1-8 sentences hard-wrapped at 72 columns
(like a Project Gutenberg book), a chapter heading every ~40 paragraphs. One file per size, so a
quadratic step shows as a growing time per MB; ``ratio`` is the 16 MB time per MB over the
1 MB one (1.0 is linear). Times are CPU seconds of this process (``time.process_time``): on a
shared machine wall time mostly measures the neighbours; wall seconds are reported too.

``python -m bench.linear --sizes 1 4 16`` prints the JSON; with ``PYTHONPATH`` pointing at
another checkout's ``rag`` first it measures that code on the same text.
"""

from __future__ import annotations

import argparse
import json
import textwrap
import time
from pathlib import Path

import numpy as np

MB = 1_000_000
SIZES = (1, 4, 16)


def generated_text(chars: int, seed: int = 0) -> str:
    """About ``chars`` characters of wrapped English-like prose, the same for the same seed.

    Example:
        >>> a = generated_text(2_000, seed=3)
        >>> a == generated_text(2_000, seed=3), 1_900 < len(a) < 2_600, a.count("\\n\\n") > 1
        (True, True, True)
    """
    rng = np.random.default_rng(seed)
    letters = np.array(list("etaoinshrdlucmfwypvbgkjqxz"))
    weights = 1 / np.arange(1, len(letters) + 1) ** 0.9
    vocab = [
        "".join(rng.choice(letters, size=n, p=weights / weights.sum()))
        for n in rng.integers(2, 10, 5_000)
    ]
    zipf = 1 / np.arange(1, len(vocab) + 1)
    zipf /= zipf.sum()
    parts: list[str] = []
    size = 0
    chapter = 0
    while size < chars:
        if len(parts) % 40 == 0:
            chapter += 1
            parts.append(f"Chapter {chapter}.")
        sentences = []
        for _ in range(int(rng.integers(1, 9))):
            words = [vocab[i] for i in rng.choice(len(vocab), int(rng.integers(4, 31)), p=zipf)]
            words[0] = words[0].capitalize()
            sentences.append(" ".join(words) + str(rng.choice([".", ".", ".", "?", "!"])))
        paragraph = textwrap.fill(" ".join(sentences), 72)
        parts.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(parts) + "\n"


def measure(sizes: tuple[int, ...] = SIZES, seed: int = 0) -> dict:
    """CPU seconds (and per MB) to segment and to chunk one generated file per size."""
    from rag.chunking import chunk_document
    from rag.records import DocMeta, Document
    from rag.segments import segment

    out: dict = {"sizes_mb": list(sizes), "runs": {}}
    for mb in sizes:
        text = generated_text(mb * MB, seed)
        doc = Document("generated.txt", Path("generated.txt"), text, DocMeta("generated"), "0")
        wall, t0 = time.perf_counter(), time.process_time()
        seg = segment(doc)
        t1 = time.process_time()
        chunks = chunk_document(doc, seg.segments)
        t2 = time.process_time()
        out["runs"][str(mb)] = {
            "chars": len(text),
            "chunks": len(chunks),
            "segment_s": round(t1 - t0, 2),
            "chunk_s": round(t2 - t1, 2),
            "wall_s": round(time.perf_counter() - wall, 2),
            "s_per_mb": round((t2 - t0) * MB / len(text), 3),
        }
    first, last = out["runs"][str(sizes[0])], out["runs"][str(sizes[-1])]
    out["ratio"] = round(last["s_per_mb"] / max(first["s_per_mb"], 1e-9), 2)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.linear", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="MB each")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps(measure(tuple(args.sizes), args.seed)))


if __name__ == "__main__":
    main()
