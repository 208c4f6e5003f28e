"""The answering weights as data: the shipped file loads, matches the signals, and decides."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import CORPUS, assert_citations_verify

from rag import Assistant, Settings
from rag.answering import FEATURES, SIGNALS
from rag.scoring import WEIGHTS, Linear, Scorer, load_scorer
from rag.scoring.fit import logistic_fit, softmax_fit


def test_shipped_weights_load_and_name_every_signal():
    s = load_scorer()
    assert s.ranking.names == FEATURES and len(s.ranking.weights) == len(FEATURES)
    assert s.abstention.names == SIGNALS and len(s.abstention.weights) == len(SIGNALS)
    assert s.ranking.weights[0] == 1.0  # the ranker's unit: one point of sentence cosine
    assert json.loads(WEIGHTS.read_text())["about"]


def test_scorer_scores_and_confidence_is_a_probability():
    s = load_scorer()
    strong = (0.9, 1.0, 1.0, 0.0, 0.0, 0.0, 0.9, 0.1, 1.0, 3.0)
    weak = (0.1, 0.0, 0.0, 1.0, 1.0, 1.0, 0.1, 0.0, 0.0, 3.0)
    assert 0.0 < s.confidence(weak) < 0.5 < s.confidence(strong) < 1.0
    with pytest.raises(ValueError, match="expected 10 features"):
        s.confidence((1.0,))


def test_saved_scorer_reads_back_equal(tmp_path):
    s = Scorer(Linear(("a", "b"), (1.0, 0.25), -0.5), Linear(("c",), (2.0,), 0.1), "test")
    s.save(tmp_path / "w.json")
    assert load_scorer(tmp_path / "w.json") == s


def test_fits_recover_the_informative_feature():
    rng = np.random.default_rng(0)
    groups = []
    for _ in range(40):
        X = rng.normal(size=(6, 2))
        y = np.zeros(6)
        y[int(np.argmax(X[:, 0]))] = 1  # only the first feature tells the answer
        groups.append((X, y))
    w = softmax_fit(groups, 1e-4)
    assert w[0] > 5 * abs(w[1])
    X = rng.normal(size=(200, 2))
    y = (X[:, 1] > 0).astype(int)
    w, _ = logistic_fit(X, y, 1e-3)
    assert w[1] > 5 * abs(w[0])


@pytest.mark.slow
def test_a_weights_file_in_settings_changes_the_decision(assistant, corpus_index_dir, tmp_path):
    # A scorer that is never confident abstains on a question the shipped one answers.
    shipped = load_scorer()
    never = Scorer(shipped.ranking, Linear(SIGNALS, (0.0,) * len(SIGNALS), -10.0), "never")
    never.save(tmp_path / "never.json")
    q = "Who is Rami Makhlouf?"
    settings = Settings(scorer=str(tmp_path / "never.json"))
    b = Assistant.from_directory(CORPUS, settings=settings, index_dir=corpus_index_dir)
    first, second = assistant.ask(q), b.ask(q)
    assert not first.abstained and second.abstained
    assert first.citations and all(c.score is not None for c in first.citations)
    assert_citations_verify(first)
    assert_citations_verify(second)  # the related passages an abstention lists
    assert second.confidence == pytest.approx(1 / (1 + np.exp(10.0)))
