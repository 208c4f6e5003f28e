"""Fit the ranker and the abstention model on the wiki suite's fit articles.

    python -m rag.scoring.fit --out fitted.json    # then: RAG_SCORER=fitted.json rag eval

Deterministic (no sampling; L-BFGS from zero weights). Only items tagged ``split:fit`` are
read, so the held-out articles, the Syria suite and the manuals stay unseen by the fit.

1. Ranker: for each answerable SQuAD question, the candidate sentences answering would weigh,
   labelled by whether the sentence lies in the gold evidence and holds a gold answer; a
   softmax over each question's candidates (listwise logistic regression). Weights are scaled
   so the cosine weighs 1, the unit of the priors in ``rag.answering``.
2. Abstention: with that ranker in place, each single-turn fit item is answered with no
   threshold and its signals kept; a class-balanced logistic regression tells answerable
   questions from unanswerable ones (SQuAD's lures and the off-topic items). The bias is moved
   so that ``OPERATING_FR`` of the fit answerables fall below 0.5.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from rag.answering import FEATURES, SIGNALS
from rag.dataset import EvalItem, facts_found, load_dataset
from rag.scoring.model import Linear, Scorer

SUITE = Path("eval/wiki")
OPERATING_FR = 0.04  # share of fit answerables the model may refuse
RANK_L2 = 1e-4
ABSTAIN_L2 = 1e-3


def _items(suite: Path) -> list[EvalItem]:
    # The single-turn items of the fit articles, their evidence located in the corpus.
    items = []
    for name in ("squad.jsonl", "dialogues.jsonl"):
        for item in load_dataset(suite / name, suite / "corpus"):
            if "split:fit" in item.tags and len(item.turns) == 1:
                items.append(item)
    return items


def softmax_fit(groups: list[tuple[np.ndarray, np.ndarray]], l2: float) -> np.ndarray:
    """Weights maximising each group's probability of its positives (softmax over the group).

    Example:
        >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> w = softmax_fit([(X, np.array([1, 0]))], 1e-3)
        >>> bool(w[0] > w[1])
        True
    """
    dim = groups[0][0].shape[1]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros(dim)
        for X, y in groups:
            s = X @ w
            s -= s.max()
            p = np.exp(s)
            p /= p.sum()
            t = y / y.sum()
            total -= float(t @ np.log(p + 1e-12))
            grad -= X.T @ (t - p)
        n = len(groups)
        return total / n + l2 * float(w @ w), grad / n + 2 * l2 * w

    return minimize(loss, np.zeros(dim), jac=True, method="L-BFGS-B").x


def logistic_fit(X: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Class-balanced logistic regression; returns (weights, bias).

    Example:
        >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
        >>> w, b = logistic_fit(X, y, 1e-3)
        >>> bool(w[0] > 0)
        True
    """
    weight = np.where(y == 1, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9))
    Xb = np.hstack([X, np.ones((len(X), 1))])

    def loss(wb: np.ndarray) -> tuple[float, np.ndarray]:
        z = Xb @ wb
        p = 1 / (1 + np.exp(-np.clip(z, -50, 50)))
        eps = 1e-12
        ll = -(weight * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))).mean()
        grad = Xb.T @ (weight * (p - y)) / len(y)
        reg = np.r_[wb[:-1], 0.0]
        return float(ll + l2 * reg @ reg), grad + 2 * l2 * reg

    wb = minimize(loss, np.zeros(Xb.shape[1]), jac=True, method="L-BFGS-B").x
    return wb[:-1], float(wb[-1])


def _label(assistant, cand, item: EvalItem) -> int:
    # In the sentence the question was written about, and holding one of its answers.
    doc_id, span = assistant._index.sentences[cand.sentence_id]
    if not item.on_gold(doc_id, span.start, span.end):
        return 0
    sentence = assistant._index.by_id[doc_id].text[span.start : span.end]
    return int(facts_found(sentence, item.key_facts) > 0)


def collect_ranking(assistant, items: list[EvalItem]) -> list[tuple[np.ndarray, np.ndarray]]:
    answerer = assistant._answerer
    groups = []
    for item in items:
        if not item.answerable or "squad" not in item.tags:
            continue
        question = item.question
        prof = answerer.profile(question)
        retrieved = assistant._retrieve(question, None)
        cands = answerer.candidates(retrieved, prof)
        if not cands:
            continue
        X = np.array([c.features for c in cands])
        y = np.array([_label(assistant, c, item) for c in cands])
        if y.sum():
            groups.append((X, y))
    return groups


def collect_signals(assistant, items: list[EvalItem]) -> tuple[np.ndarray, np.ndarray]:
    got: list[tuple[float, ...]] = []
    assistant._answerer.probe = got.append
    X, y = [], []
    try:
        for item in items:
            got.clear()
            assistant.ask(item.question, abstain_threshold=float("-inf"))
            if got:
                X.append(got[-1])
                y.append(int(item.answerable))
    finally:
        assistant._answerer.probe = None
    return np.array(X), np.array(y)


def fit(suite: Path = SUITE) -> tuple[Scorer, dict]:
    from rag import Assistant

    items = _items(suite)
    assistant = Assistant.from_directory(suite / "corpus")
    groups = collect_ranking(assistant, items)
    w = softmax_fit(groups, RANK_L2)
    if w[0] <= 0:
        raise RuntimeError("the fitted ranker gives the cosine no positive weight")
    ranking = Linear(FEATURES, tuple(float(v) for v in w / w[0]))
    top1 = float(np.mean([y[int(np.argmax(X @ w))] == 1 for X, y in groups]))

    provisional = Scorer(ranking, Linear(SIGNALS, (0.0,) * len(SIGNALS)))
    assistant._answerer.scorer = provisional
    X, y = collect_signals(assistant, items)
    a, b = logistic_fit(X, y, ABSTAIN_L2)
    z = X @ a + b
    cut = float(np.quantile(z[y == 1], OPERATING_FR))
    abstention = Linear(SIGNALS, tuple(float(v) for v in a), b - cut)
    about = (
        "Fitted by `python -m rag.scoring.fit` on the wiki suite's fit articles "
        "(eval/wiki/README.md); do not edit by hand."
    )
    scorer = Scorer(ranking, abstention, about)
    refused = z < cut
    meta = {
        "suite": str(suite),
        "split": "fit",
        "ranking_questions": len(groups),
        "ranking_top1_fit": round(top1, 4),
        "abstention_items": int(len(y)),
        "unanswerable_items": int((y == 0).sum()),
        "false_refusal_fit": round(float(refused[y == 1].mean()), 4),
        "abstention_on_unanswerable_fit": round(float(refused[y == 0].mean()), 4),
        "operating_fr": OPERATING_FR,
        "l2": {"ranking": RANK_L2, "abstention": ABSTAIN_L2},
    }
    return scorer, meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=SUITE)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    scorer, meta = fit(args.suite)
    scorer.save(args.out, meta)
    print(json.dumps(meta, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
