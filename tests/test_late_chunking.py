"""Late chunking: token ranges of sentence spans, pooling, and the real encoders' passes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FakeEncoder

from rag.chunking import sentence_spans
from rag.late_chunking import encode, hosts, pool_spans, token_ranges

TEXT = "The bridge closed in March. Repairs cost 4 million euros.\nIt reopens in May."


def test_a_sentence_is_hosted_by_the_last_chunk_that_holds_it():
    # chunk 0 holds sentences 0-2, chunk 1 holds 2-3 (an overlap), chunk 2 holds 4
    assert hosts([(0, 1, 2), (2, 3), (4,)], 5) == [0, 0, 1, 1, 2]


def test_token_ranges_cover_each_span_and_skip_special_tokens():
    # [CLS] the bridge closed . repairs [SEP], as a BERT tokenizer would map them
    offsets = [(0, 0), (0, 3), (4, 10), (11, 17), (17, 18), (19, 26), (0, 0)]
    special = [1, 0, 0, 0, 0, 0, 1]
    got = token_ranges(offsets, special, [(0, 18), (4, 10), (19, 26)])
    assert got == [(1, 5), (2, 3), (5, 6)]


def test_a_span_past_the_last_encoded_token_is_not_pooled():
    # truncated after "repairs": the span (19, 40) runs on past it, (30, 40) starts past it
    offsets = [(0, 0), (0, 3), (19, 26), (0, 0)]
    got = token_ranges(offsets, [1, 0, 0, 1], [(0, 3), (19, 40), (30, 40)])
    assert got == [(1, 2), None, None]


def test_a_span_with_no_token_is_not_pooled():
    assert token_ranges([(0, 0), (0, 0)], [1, 1], [(0, 5)]) == [None]


def test_pooling_is_the_normalised_mean_of_the_span_tokens():
    states = np.array([[5, 5], [1, 0], [3, 0], [0, 1], [0, 3]], dtype=np.float32)
    vectors, pooled = pool_spans(states, [(1, 3), (3, 5), None])
    np.testing.assert_allclose(vectors, [[1, 0], [0, 1], [0, 0]])
    assert pooled.tolist() == [True, True, False]


def test_an_encoder_without_span_pooling_encodes_each_span_on_its_own():
    fake = FakeEncoder()
    spans = [(s.start, s.end) for s in sentence_spans(TEXT)]
    vectors, span_vectors, alone = encode(fake, [TEXT], [spans])
    texts = [TEXT[a:b] for a, b in spans]
    assert fake.texts == [TEXT, *texts]
    assert alone == [(0, a, b) for a, b in spans]
    np.testing.assert_allclose(span_vectors, FakeEncoder().encode(texts))
    np.testing.assert_allclose(vectors, FakeEncoder().encode([TEXT]))


# --- the real model ---------------------------------------------------------------------------


def spans_of(text: str) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in sentence_spans(text)]


@pytest.mark.slow
def test_the_pass_gives_the_texts_own_vector_and_its_sentences(assistant):
    encoder = assistant.encoder
    texts = [TEXT, "Beyoncé’s “river festival” returns. Tickets cost 12 dollars."]
    spans = [spans_of(t) for t in texts]
    vectors, span_vectors, pooled = encoder.encode_spans(texts, spans)
    assert pooled.all() and span_vectors.shape == (5, encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(span_vectors, axis=1), 1, atol=1e-5)
    assert np.min(np.sum(vectors * encoder.encode(texts), axis=1)) > 0.9999
    # In context a sentence moves towards its chunk ("It reopens in May." comes nearest "The
    # bridge closed in March." on its own), but stays nearer itself than an unrelated text.
    alone = encoder.encode([t[a:b] for t, s in zip(texts, spans, strict=True) for a, b in s])
    unrelated = encoder.encode(["Quarks are bound by the strong force."])[0]
    assert (np.sum(span_vectors * alone, axis=1) > span_vectors @ unrelated + 0.2).all()


@pytest.mark.slow
def test_a_sentence_past_the_models_window_is_left_to_encode_on_its_own(assistant):
    encoder = assistant.encoder
    long = " ".join(f"Sentence number {i} says something about bridges." for i in range(60))
    spans = spans_of(long)
    _, span_vectors, pooled = encoder.encode_spans([long], [spans])
    assert pooled[0] and not pooled[-1]
    assert not span_vectors[~pooled].any()
    _, _, alone = encode(encoder, [long], [spans])
    assert alone == [(0, a, b) for (a, b), p in zip(spans, pooled, strict=True) if not p]


@pytest.mark.slow
def test_torch_and_onnx_pool_the_same_vectors(assistant):
    from rag.embedding import TorchEncoder

    texts = [TEXT, "A one-line text."]
    spans = [spans_of(t) for t in texts]
    ours = assistant.encoder.encode_spans(texts, spans)
    torch = TorchEncoder().encode_spans(texts, spans)
    assert type(assistant.encoder).__name__ == "OnnxEncoder"
    assert (ours[2] == torch[2]).all()
    assert np.min(np.sum(ours[0] * torch[0], axis=1)) > 0.9999
    assert np.min(np.sum(ours[1] * torch[1], axis=1)) > 0.9999
