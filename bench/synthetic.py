"""Synthetic passages at scale: clustered unit vectors and spliced real texts.

Vectors: blends of two real python-doc chunk or sentence vectors ("centres") plus a little
noise, so the cloud has the real embeddings' directions and clusters rather than being uniform
on the sphere (where every neighbour is equally far and HNSW looks either perfect or
hopeless). Without real centres, random ones (reported as ``real_centres: false``).

Texts: each synthetic passage is the tail of one real chunk joined to the head of another, so
term frequencies and passage lengths stay those of real text.
"""

from __future__ import annotations

import numpy as np

BLOCK = 100_000  # rows generated at a time: bounds the temporary arrays to ~150 MB each
NOISE = 0.15  # isotropic noise norm relative to the unit centres: cosine ~0.99 to the blend


def clustered_vectors(n: int, centres: np.ndarray, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors (n, dim) float32 on the real embeddings' manifold.

    Each is a blend ``w * a + (1 - w) * b`` of two random centres (w uniform in [0.5, 1], so it
    sits nearer ``a``) plus a little isotropic noise, renormalised. Blends keep the points in
    the directions real text takes; pure isotropic blobs around each centre would be an
    adversarial case for HNSW (every point of a blob nearly equidistant), not a realistic one.

    Example:
        >>> v = clustered_vectors(5, np.eye(4, dtype=np.float32))
        >>> v.shape, bool(np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5))
        ((5, 4), True)
    """
    rng = np.random.default_rng(seed)
    dim = centres.shape[1]
    out = np.empty((n, dim), dtype=np.float32)
    for first in range(0, n, BLOCK):
        rows = min(BLOCK, n - first)
        a = centres[rng.integers(0, len(centres), rows)]
        b = centres[rng.integers(0, len(centres), rows)]
        w = rng.uniform(0.5, 1.0, (rows, 1)).astype(np.float32)
        noise = rng.standard_normal((rows, dim), dtype=np.float32) * (NOISE / np.sqrt(dim))
        block = w * a + (1 - w) * b + noise
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[first : first + rows] = block
    return out


def random_centres(m: int, dim: int, seed: int = 1) -> np.ndarray:
    """Unit vectors uniform on the sphere, used when no real embeddings are available."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((m, dim)).astype(np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def spliced_texts(n: int, base: list[str], seed: int = 0) -> list[str]:
    """``n`` texts, each the tail of one real text joined to the head of another.

    The cut falls at the same fraction of both, so a spliced text is about as long as a real
    one; the cut may split a word, which adds one odd token per text.

    Example:
        >>> [len(t) for t in spliced_texts(3, ["aaaa", "bbbb"])]
        [5, 5, 5]
    """
    rng = np.random.default_rng(seed)
    firsts = rng.integers(0, len(base), n).tolist()
    seconds = rng.integers(0, len(base), n).tolist()
    cuts = rng.random(n).tolist()
    out = []
    for a, b, cut in zip(firsts, seconds, cuts, strict=True):
        head, tail = base[a], base[b]
        out.append(f"{head[int(cut * len(head)) :]} {tail[: int(cut * len(tail))]}")
    return out


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force top-``k`` (ids, scores) by inner product, best first, in blocks.

    Blocks avoid a second full copy of ``vectors`` (1.5 GB at 1M).
    """
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    best_scores = np.zeros((len(queries), 0), dtype=np.float32)
    for first in range(0, len(vectors), BLOCK):
        scores = queries @ vectors[first : first + BLOCK].T  # (q, block)
        top = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        best_ids = np.hstack([best_ids, top + first])
        best_scores = np.hstack([best_scores, np.take_along_axis(scores, top, axis=1)])
        keep = np.argsort(-best_scores, axis=1)[:, :k]
        best_ids = np.take_along_axis(best_ids, keep, axis=1)
        best_scores = np.take_along_axis(best_scores, keep, axis=1)
    return best_ids, best_scores


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the true top-k found, over queries.

    Example:
        >>> recall_at_k(np.array([[1, 2]]), np.array([[2, 3]]))
        0.5
    """
    hits = [len(set(f.tolist()) & set(t.tolist())) / len(t) for f, t in zip(found, truth)]
    return float(np.mean(hits))


def recall_within(found_scores: np.ndarray, truth_scores: np.ndarray, eps: float) -> float:
    """Share of found results scoring within ``eps`` of the true k-th best (ann-benchmarks'
    "epsilon recall"): it tells near-ties missed apart from real misses.

    Example:
        >>> recall_within(np.array([[0.9, 0.795]]), np.array([[0.9, 0.8]]), 0.01)
        1.0
    """
    kth = truth_scores[:, -1:]
    return float(np.mean(found_scores >= kth - eps))


def english_text(chars: int, source: str, seed: int = 0, width: int = 72) -> str:
    """About ``chars`` characters of English-like prose, the same for the same seed and source.

    A word-bigram chain over ``source`` (real text: the wiki suite's articles) writes sentences
    of real words in plausible order, so the tokenizer sees English (~0.23 tokens a character,
    where random letters give ~0.4 and overflow a chunk's 256-token window). Paragraphs of 2-8
    sentences are hard-wrapped at ``width`` columns, as in a Project Gutenberg book, with a
    chapter heading every 40 paragraphs.

    Example:
        >>> src = "The cat sat. The dog ran far. A cat ran. The end came."
        >>> a = english_text(400, src, seed=1)
        >>> a == english_text(400, src, seed=1), 380 < len(a) < 700, "Chapter 1." in a
        (True, True, True)
    """
    import textwrap

    words = source.split()
    follows: dict[str, list[str]] = {}
    for a, b in zip(words, words[1:], strict=False):
        follows.setdefault(a, []).append(b)
    starts = [
        b for a, b in zip(words, words[1:], strict=False) if a.endswith(".") and b[:1].isupper()
    ]
    rng = np.random.default_rng(seed)
    parts: list[str] = []
    size = chapter = 0
    while size < chars:
        if len(parts) % 41 == 0:
            chapter += 1
            parts.append(f"Chapter {chapter}.")
        sentences = []
        for _ in range(int(rng.integers(2, 9))):
            word = starts[int(rng.integers(len(starts)))]
            sentence = [word]
            while not word.endswith((".", "?", "!")) and len(sentence) < 60:
                nxt = follows.get(word)
                word = nxt[int(rng.integers(len(nxt)))] if nxt else "."
                sentence.append(word)
            sentences.append(" ".join(sentence).rstrip(" .") + ".")
        paragraph = textwrap.fill(" ".join(sentences), width)
        parts.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(parts) + "\n"
