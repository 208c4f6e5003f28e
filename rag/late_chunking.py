"""Late chunking: a sentence's vector pooled from its chunk's own forward pass.

A chunk goes through the transformer once. Each sentence's vector is the mean of the token
states inside the sentence's character span (token offsets from the tokenizer's offset
mapping), L2-normalised: the model's own mean pooling, over the sentence's tokens instead of the
whole input. Every token is encoded once, and in the context of its chunk, instead of a second
time in an input of its own.

Which chunk hosts a sentence: of the chunks holding it (overlaps put a sentence in two), the
last, where it stands nearest the start and so most often inside the model's window (256 tokens
for all-MiniLM-L6-v2, ~1,000 characters of prose). A sentence with a token past its host's window
(a long chunk of dense code) is encoded on its own, as without late chunking.

Left out: CLS-pooled models (mean pooling over a span imitates mean pooling only; such encoders
get every sentence encoded on its own), and further windows over a long chunk's tail.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence

import numpy as np

Spans = Sequence[tuple[int, int]]  # (start, end) character offsets into one text


def hosts(chunk_sentences: Sequence[Sequence[int]], sentences: int) -> list[int]:
    """Sentence id -> the id of the chunk whose pass gives its vector: the last holding it.

    Example:
        >>> hosts([(0, 1), (1, 2), (2, 3)], 4)
        [0, 1, 2, 2]
    """
    out = [-1] * sentences
    for chunk_id, ids in enumerate(chunk_sentences):
        for sid in ids:
            out[sid] = chunk_id
    return out


def token_ranges(
    offsets: Sequence[tuple[int, int]], special: Sequence[int], spans: Spans
) -> list[tuple[int, int] | None]:
    """Per span, the tokens ``[first, last)`` inside it; None when the span has no token or runs
    past the last encoded token (the input was truncated inside or before it).

    ``offsets`` and ``special`` are one encoding's offset mapping and special-tokens mask.

    Example:
        >>> offs = [(0, 0), (0, 3), (4, 7), (7, 8), (9, 12), (0, 0)]  # [CLS] The cat . Sat [SEP]
        >>> token_ranges(offs, [1, 0, 0, 0, 0, 1], [(0, 8), (9, 12), (13, 20)])
        [(1, 4), (4, 5), None]
    """
    real = [i for i, s in enumerate(special) if not s]
    if not real:
        return [None] * len(spans)
    starts = [offsets[i][0] for i in real]
    ends = [offsets[i][1] for i in real]
    out: list[tuple[int, int] | None] = []
    for a, b in spans:
        lo = bisect_right(ends, a)  # the first token ending after the span starts
        hi = bisect_left(starts, b)  # past the last token starting before it ends
        out.append((real[lo], real[hi - 1] + 1) if hi > lo and b <= ends[-1] else None)
    return out


def pool_spans(
    states: np.ndarray, ranges: Sequence[tuple[int, int] | None]
) -> tuple[np.ndarray, np.ndarray]:
    """(the spans' vectors (k, dim), L2-normalised, zero where not pooled; pooled (k,) bool)
    from one input's token states (n_tokens, dim) and its spans' ``token_ranges``.

    Example:
        >>> states = np.array([[9.0, 9.0], [3.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
        >>> vectors, pooled = pool_spans(states, [(1, 3), None, (3, 4)])
        >>> vectors.tolist(), pooled.tolist()
        ([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]], [True, False, True])
    """
    out = np.zeros((len(ranges), states.shape[1]), dtype=np.float32)
    pooled = np.zeros(len(ranges), dtype=bool)
    for k, r in enumerate(ranges):
        if r is not None:
            v = states[r[0] : r[1]].mean(axis=0)
            out[k] = v / max(float(np.linalg.norm(v)), 1e-12)
            pooled[k] = True
    return out, pooled


def encode(encoder, texts: Sequence[str], spans: Sequence[Spans]) -> tuple:
    """(texts' vectors (n, dim), spans' vectors (sum of len(spans), dim), the spans encoded on
    their own as ``(text, start, end)``): pooled by ``encoder.encode_spans`` when it has one,
    else (a test's encoder) every span encoded on its own.

    Rows are L2-normalised; spans come in order, text by text.
    """
    count = sum(len(s) for s in spans)
    own = getattr(encoder, "encode_spans", None)
    if own is not None:
        vectors, span_vectors, pooled = own(texts, spans)
    else:
        vectors = encoder.encode(texts)
        span_vectors = np.zeros((count, vectors.shape[1]), dtype=np.float32)
        pooled = np.zeros(count, dtype=bool)
    pieces = [(t, a, b) for t, s in enumerate(spans) for a, b in s]
    alone = [pieces[i] for i in range(count) if not pooled[i]]
    if alone:
        rows = np.flatnonzero(~np.asarray(pooled, dtype=bool))
        span_vectors[rows] = encoder.encode([texts[t][a:b] for t, a, b in alone])
    return vectors, span_vectors, alone
