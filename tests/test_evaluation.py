"""The harness on hand-made answers whose every metric is known exactly, then on the real core."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import write_manual

import rag.cli_eval as cli_eval
from rag.baselines import NaiveTopChunk
from rag.dataset import load_dataset
from rag.documents import read_text
from rag.evaluation import as_answerer, evaluate, recommend, sweep
from rag.records import Answer, Citation, Hit
from rag.report import Gate, compare, read_baseline, write_baseline, write_reports
from rag.settings import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[1]
A = (
    "Alpha wrote to Beta on May 5.\nThe plan was not reported.\n"
    "Gamma paid 300 dollars.\nEpsilon counted 300 sheep.\n"
)
B = "Zeta lives far away. Nothing else happens here.\n"
ROWS = [  # (id, turns, key_facts, evidence quotes in a.txt, tags)
    ("q1", ["Who wrote to Beta?"], [["Alpha"]], ["Alpha wrote to Beta"], ["who"]),
    ("q2", ["How much did Gamma pay?"], [["300"], ["dollars"]],
     ["Gamma paid 300 dollars", "Epsilon counted 300 sheep"], ["how-many"]),
    ("q3", ["What did Delta say?"], [], [], ["unanswerable"]),
    ("q4", ["What did Omega say?"], [], [], ["unanswerable", "adversarial"]),
    ("q5", ["Who wrote to Beta?", "When?"], [["May 5"]], ["on May 5"], ["multi-turn", "when"]),
    ("q6", ["Was the plan reported?"], [["not reported"]], ["The plan was not reported"],
     ["factoid"]),
]  # fmt: skip


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(A, encoding="utf-8")
    (folder / "b.txt").write_text(B, encoding="utf-8")
    return folder


@pytest.fixture
def dataset_path(tmp_path: Path, corpus: Path) -> Path:
    path = tmp_path / "qa.jsonl"
    lines = [
        json.dumps({"id": i, "turns": t, "answer": f"answer to {i}", "key_facts": kf,
                    "evidence": [{"doc": "a.txt", "quote": q} for q in ev],
                    "answerable": bool(ev), "tags": tags})
        for i, t, kf, ev, tags in ROWS
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def dataset(dataset_path: Path, corpus: Path):
    return load_dataset(dataset_path, corpus)


def span(corpus: Path, doc: str, phrase: str) -> tuple[str, int, int]:
    text = (corpus / doc).read_text(encoding="utf-8")
    start = text.index(phrase)
    return str(corpus / doc), start, start + len(phrase)


def cite(corpus: Path, n: int, doc: str, phrase: str) -> Citation:
    path, start, end = span(corpus, doc, phrase)
    return Citation(n, doc, doc, path, start, end, phrase, None, "Pub", None, 1.0)


def hit(corpus: Path, doc: str, phrase: str) -> Hit:
    path, start, end = span(corpus, doc, phrase)
    return Hit(0, doc, doc, path, start, end, phrase, 1.0, publisher="Pub")


class Scripted:
    """An assistant whose answers and hits are written out per question."""

    def __init__(self, corpus: Path) -> None:
        c = corpus
        alpha, plan = "Alpha wrote to Beta on May 5.", "The plan was not reported."
        gamma, eps, zeta = (
            "Gamma paid 300 dollars.",
            "Epsilon counted 300 sheep.",
            "Zeta lives far away.",
        )
        nothing = "Nothing else happens here."
        one = (cite(c, 1, "a.txt", alpha), cite(c, 2, "b.txt", zeta))
        # question -> (text, citations, abstained, query, related, confidence)
        self.answers = {
            "Who wrote to Beta?": (f"Pub:\n“{alpha}” [1]\n“{zeta}” [2]", one, False, None, (), 0.9),
            "How much did Gamma pay?": (f"“{eps}” [1]", (cite(c, 1, "a.txt", eps),), False, None,
                                        (), 0.6),
            "What did Delta say?": ("No answer.", (), True, None, (), 0.1),
            "What did Omega say?": (f"“{nothing}” [1] Omega said hello.",
                                    (cite(c, 1, "b.txt", nothing),), False, None, (), 0.5),
            "When?": (f"“{alpha}” [1]", (cite(c, 1, "a.txt", alpha),), False,
                      "When did Alpha write to Beta?", (), 0.8),
            "Was the plan reported?": ("No answer.", (), True, None,
                                       (cite(c, 1, "a.txt", plan),), 0.3),
        }  # fmt: skip
        self.hits = {  # query -> hits, best first
            "Who wrote to Beta?": [hit(c, "a.txt", alpha)],
            "How much did Gamma pay?": [hit(c, "b.txt", zeta), hit(c, "a.txt", gamma),
                                        hit(c, "a.txt", eps)],
            "When did Alpha write to Beta?": [hit(c, "b.txt", zeta)],
            "Was the plan reported?": [hit(c, "a.txt", plan)],
        }  # fmt: skip
        self.histories: dict[str, list[str]] = {}
        self.settings = type("S", (), {"model": DEFAULT_MODEL, "abstain_threshold": 0.45})()
        self.encoder = SameVector()

    def ask(self, question, history=None, abstain_threshold=None):
        self.histories[question] = list(history or [])
        text, cites, abstained, query, related, conf = self.answers[question]
        if abstain_threshold is not None and (cites or related):  # else: nothing to say anyway
            abstained = conf < abstain_threshold
        return Answer(text, cites, abstained, query or question, question, related, None, conf)

    def search(self, query, k=None):
        return self.hits.get(query, [])[: k or 5]

    def document(self, doc_id):
        raise KeyError(doc_id)


class SameVector:
    """Every text gets one unit vector, so every answered item scores cosine 1."""

    name, dim = "same", 2

    def encode(self, texts):
        return np.tile(np.array([1.0, 0.0], dtype=np.float32), (len(texts), 1))


def run(corpus, dataset, answerer=None, **kw):
    return evaluate(answerer or Scripted(corpus), dataset, k=2, encoder=SameVector(), **kw)


def test_every_metric_has_its_hand_computed_value(corpus, dataset) -> None:
    assistant = Scripted(corpus)
    m = run(corpus, dataset, assistant).overall
    assert (m.n, m.answerable, m.unanswerable) == (6, 4, 2)
    # Ranks of the first gold hit: q1 1, q2 2, q5 none (searched "When did Alpha..."), q6 1.
    assert (m.hit_at_1, m.hit_at_k, m.mrr_at_10) == (0.5, 0.75, 0.625)
    assert m.recall_at_k == pytest.approx((1 + 0.5 + 0 + 1) / 4)  # q2: 1 of 2 gold spans in top 2
    assert m.quote_exactness == 1.0  # 5 citations and 1 related passage, all exact
    assert m.evidence_precision == pytest.approx((0.5 + 1 + 1) / 3)  # q6 abstained: no citations
    assert m.evidence_recall == pytest.approx((1 + 0.5 + 1 + 0) / 4)
    assert m.key_fact_recall == pytest.approx((1 + 0.5 + 1 + 0) / 4)
    assert m.key_fact_accuracy == 0.5
    assert m.semantic == pytest.approx((1 + 1 + 1 + 0) / 4)  # abstaining scores 0
    assert m.faithfulness == pytest.approx(5 / 6)  # "Omega said hello." is not in its quote
    assert (m.correct_rejection, m.false_refusal) == (0.5, 0.25)
    assert m.crag_score == pytest.approx((1 - 1 + 1 - 1 + 1 + 0) / 6)
    assert (m.accuracy, m.multi_turn_accuracy) == (0.5, 1.0)
    assert 0 <= m.latency_p50_ms <= m.latency_p95_ms and m.errors == 0
    # Earlier turns are replayed as in a chat: the follow-up sees the first turn's answer.
    (turn,) = assistant.histories["When?"]
    first = assistant.ask("Who wrote to Beta?")
    assert (turn.question, turn.query, turn.answer_text) == (
        "Who wrote to Beta?", first.query, first.text,
    )  # fmt: skip


def test_items_and_slices(corpus, dataset) -> None:
    result = run(corpus, dataset)
    q5 = result.items[4]
    assert (q5.id, q5.turns, q5.query, q5.hit_rank, q5.correct) == (
        "q5", 2, "When did Alpha write to Beta?", 0, True,
    )  # fmt: skip
    assert set(result.by_tag) == {"who", "how-many", "unanswerable", "adversarial", "multi-turn",
                                  "when", "factoid"}  # fmt: skip
    assert result.by_tag["unanswerable"].correct_rejection == 0.5
    assert result.by_tag["adversarial"].crag_score == -1.0
    assert {key: m.n for key, m in result.by_turns.items()} == {"1": 5, "2": 1}


def test_shifted_offsets_break_quote_exactness(corpus, dataset) -> None:
    assistant = Scripted(corpus)
    text, cites, *rest = assistant.answers["Who wrote to Beta?"]
    moved = replace(cites[0], start=cites[0].start + 1, end=cites[0].end + 1)
    assistant.answers["Who wrote to Beta?"] = (text, (moved, cites[1]), *rest)
    result = run(corpus, dataset, assistant)
    assert result.overall.quote_exactness == pytest.approx(5 / 6)
    assert not compare(result, None).passed


def test_a_plain_callable_gets_no_retrieval_metrics_and_errors_are_recorded(corpus, dataset):
    assistant = Scripted(corpus)

    def answerer(question, history):
        if question == "When?":
            raise RuntimeError("boom")
        return assistant.ask(question, history)

    result = run(corpus, dataset, answerer)
    assert result.overall.hit_at_1 is None and result.overall.recall_at_k is None
    assert result.overall.errors == 1 and result.items[4].error == "RuntimeError: boom"
    assert not compare(result, None).passed
    with pytest.raises(TypeError):
        as_answerer(42)


def test_naive_baseline_quotes_the_top_chunk_and_never_abstains(corpus, dataset) -> None:
    result = run(corpus, dataset, NaiveTopChunk(Scripted(corpus)), name="naive")
    q2 = result.items[1]
    assert q2.citations[0].quote == "Zeta lives far away." and not q2.abstained
    assert result.overall.false_refusal == 0.0 and result.overall.correct_rejection == 0.0
    assert result.overall.quote_exactness == 1.0
    assert result.items[4].query == "When?"  # no rewriting: it searches what was typed


def test_calibration_sweep_replays_confidence(corpus, dataset) -> None:
    assistant = Scripted(corpus)
    never = float("-inf")
    result = evaluate(
        lambda q, h: assistant.ask(q, h, abstain_threshold=never), dataset, semantic=False
    )
    assert [r.id for r in result.items if r.abstained] == ["q3"]
    points = {p.threshold: p for p in sweep(result.items, [0.0, 0.55, 0.7])}
    # Confidences: answerable 0.9, 0.6, 0.8, 0.3; unanswerable 0.1 (abstains anyway), 0.5.
    assert (points[0.0].correct_rejection, points[0.0].false_refusal) == (0.5, 0.0)
    assert (points[0.55].correct_rejection, points[0.55].false_refusal) == (1.0, 0.25)
    assert (points[0.7].correct_rejection, points[0.7].false_refusal) == (1.0, 0.5)
    assert recommend(list(points.values()), max_fr=0.3).threshold == 0.55
    assert recommend(list(points.values())) is None


def test_reports_and_gates_against_a_baseline(tmp_path, corpus, dataset) -> None:
    ours = run(corpus, dataset)
    write_baseline(ours, tmp_path / "baseline.json")
    baseline = read_baseline(tmp_path / "baseline.json")
    assert compare(ours, baseline).passed
    # q1 stops being correct: key-fact accuracy falls 0.25 (> 0.03) and q1 is newly failing.
    worse = Scripted(corpus)
    worse.answers["Who wrote to Beta?"] = ("No answer.", (), True, None, (), 0.1)
    comparison = compare(run(corpus, dataset, worse), baseline)
    assert not comparison.passed and comparison.newly_failing == ("q1",)
    failed = {g.metric for g in comparison.gates if not g.passed}
    assert failed == {"key_fact_accuracy", "false_refusal", "crag_score"}
    assert compare(ours, {"overall": {}, "items": {"q1": {"correct": False}}}).newly_fixed == (
        "q1",
    )
    naive = run(corpus, dataset, NaiveTopChunk(Scripted(corpus)), name="naive")
    report = write_reports(tmp_path / "out", ours, naive, comparison)
    md = report.read_text(encoding="utf-8")
    assert "| hit@2 | 0.750 |" in md and "![metrics](metrics.png)" in md and "**FAIL**" in md
    assert (tmp_path / "out" / "metrics.png").read_bytes()[:4] == b"\x89PNG"
    lines = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 12 and json.loads(lines[0])["run"] == "ours"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["comparison"]["passed"] is False and summary["naive"]["k"] == 2


@pytest.mark.parametrize(("drop", "passes"), [(0.02, True), (0.04, False)])
def test_tolerance_is_applied_per_metric(corpus, dataset, drop, passes) -> None:
    ours = run(corpus, dataset)
    base = {"k": 2, "overall": {"key_fact_accuracy": ours.overall.key_fact_accuracy + drop}}
    gate = {g.metric: g for g in compare(ours, base).gates}["key_fact_accuracy"]
    assert gate.passed is passes and Gate("x").floor is None


def cli(tmp_path, dataset_path, corpus, *extra) -> list[str]:
    out, baseline = str(tmp_path / "reports"), str(tmp_path / "b.json")
    return ["--corpus", str(corpus), "--dataset", str(dataset_path), "--k", "2",
            "--out", out, "--baseline", baseline, *extra]  # fmt: skip


def test_cli_exit_codes(tmp_path, corpus, dataset_path, monkeypatch, capsys) -> None:
    assistant = Scripted(corpus)
    monkeypatch.setattr(cli_eval, "_load_assistant", lambda folder, index_dir: assistant)
    assert cli_eval.main(cli(tmp_path, dataset_path, corpus, "--update-baseline")) == 0
    assert (tmp_path / "b.json").is_file() and "hit@2" in capsys.readouterr().out
    assert cli_eval.main(cli(tmp_path, dataset_path, corpus, "--no-naive")) == 0
    assistant.answers["Who wrote to Beta?"] = ("No answer.", (), True, None, (), 0.1)
    assert cli_eval.main(cli(tmp_path, dataset_path, corpus)) == 1
    assert "GATE FAILED: key_fact_accuracy" in capsys.readouterr().out
    dataset_path.write_text('{"id": "x"}\n', encoding="utf-8")
    assert cli_eval.main(cli(tmp_path, dataset_path, corpus)) == 2


def test_cli_calibrate(tmp_path, corpus, dataset_path, monkeypatch, capsys) -> None:
    assistant = Scripted(corpus)
    monkeypatch.setattr(cli_eval, "_load_assistant", lambda folder, index_dir: assistant)
    assert cli_eval.main(cli(tmp_path, dataset_path, corpus, "--calibrate")) == 0
    out = capsys.readouterr().out
    assert "0.450" in out and "<- current" in out and "No threshold reaches" in out


# --- the real core -------------------------------------------------------------------------------


# `assistant` is conftest's session fixture: the real index over corpus/, built once.


class Corrupting:
    """Wraps an assistant; its first citation claims offsets one character off."""

    def __init__(self, inner) -> None:
        self.inner, self.settings, self.encoder = inner, inner.settings, inner.encoder

    def search(self, query, k=None):
        return self.inner.search(query, k)

    def ask(self, question, history=None, **kw):
        answer = self.inner.ask(question, history=history, **kw)
        if not answer.citations:
            return answer
        first = answer.citations[0]
        bad = replace(first, start=first.start + 1, end=first.end + 1)
        return replace(answer, citations=(bad, *answer.citations[1:]))


@pytest.fixture
def small_eval(tmp_path) -> Path:
    lines = (ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(lines[:12]) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_real_assistant_quotes_exactly_and_a_corrupted_citation_fails_the_cli(
    tmp_path, assistant, small_eval, monkeypatch
) -> None:
    out, baseline = str(tmp_path / "reports"), str(tmp_path / "none.json")
    args = ["--dataset", str(small_eval), "--corpus", str(ROOT / "corpus"), "--no-naive",
            "--out", out, "--baseline", baseline]  # fmt: skip
    monkeypatch.setattr(cli_eval, "_load_assistant", lambda folder, index_dir: assistant)
    assert cli_eval.main(args) == 0
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text(encoding="utf-8"))
    assert summary["ours"]["overall"]["quote_exactness"] == 1.0
    wrapped = Corrupting(assistant)
    monkeypatch.setattr(cli_eval, "_load_assistant", lambda folder, index_dir: wrapped)
    assert cli_eval.main(args) == 1
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text(encoding="utf-8"))
    assert summary["ours"]["overall"]["quote_exactness"] < 1.0


def test_lead_quote_and_quoted_words_are_counted_from_the_quotes_alone(corpus, dataset):
    m = evaluate(Scripted(corpus), dataset, k=2, corpus_dir=corpus, semantic=False).overall
    # q1 and q5 quote their key fact first; q2's quote lacks "dollars"; q6 abstains.
    assert (m.answer_in_lead_quote, m.answer_in_quotes) == (0.5, 0.5)
    # Words quoted by q1 (7 + 4), q2 (4), q4 (4) and q5 (7): abstentions quote nothing.
    assert m.quoted_words == 6.5


def test_cli_runs_and_gates_every_suite(tmp_path, corpus, dataset_path, monkeypatch, capsys):
    assistant = Scripted(corpus)
    monkeypatch.setattr(cli_eval, "_load_assistant", lambda folder, index_dir: assistant)
    listed = {
        name: {"corpus": str(corpus), "datasets": [str(dataset_path)],
               "baseline": str(tmp_path / f"{name}.json")}
        for name in ("one", "two")
    }  # fmt: skip
    (tmp_path / "suites.json").write_text(json.dumps(listed), encoding="utf-8")
    args = ["--suites", str(tmp_path / "suites.json"), "--out", str(tmp_path / "r"), "--k", "2"]
    assert cli_eval.main([*args, "--update-baseline"]) == 0
    assert (tmp_path / "one.json").is_file() and (tmp_path / "r" / "two" / "report.md").is_file()
    assert "== suite two" in capsys.readouterr().out
    assistant.answers["Who wrote to Beta?"] = ("No answer.", (), True, None, (), 0.1)
    assert cli_eval.main([*args, "--suite", "two"]) == 1  # gated against two.json
    assert cli_eval.main([*args, "--suite", "three"]) == 2


# --- page accuracy: citations of a PDF, against the gold quote's page ---------------------------
def manual_items(tmp_path: Path) -> tuple[Path, tuple]:
    """A PDF corpus and three items: gold page 2, gold page 3, and one stating no page."""
    corpus = tmp_path / "pdfs"
    write_manual(corpus / "m.pdf")
    rows = [
        ("cache", "Where is the cache?", [["/var/cache/tiny"]], "The cache lives in", 2),
        ("home", "What moves the config file?", [["TINY_HOME"]], "Set TINY_HOME", 3),
        ("nopage", "Where is the cache kept?", [["/var/cache/tiny"]], "The cache lives in", None),
    ]
    lines = [
        json.dumps({"id": i, "turns": [q], "answer": q, "key_facts": kf, "answerable": True,
                    "evidence": [{"doc": "m.pdf", "quote": quote}
                                 | ({"page": page} if page else {})], "tags": ["manuals"]})
        for i, q, kf, quote, page in rows
    ]  # fmt: skip
    (tmp_path / "m.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return corpus, load_dataset(tmp_path / "m.jsonl", corpus)


def pdf_answerer(corpus: Path, pages: dict[str, int | None], abstain: tuple[str, ...] = ()):
    """Quotes the sentence that answers each question, citing it on the page ``pages`` says."""
    path = corpus / "m.pdf"
    text = read_text(path)
    sentence = {
        "Where is the cache?": "The cache lives in /var/cache/tiny.",
        "Where is the cache kept?": "The cache lives in /var/cache/tiny.",
        "What moves the config file?": "Set TINY_HOME to move the config file.",
    }

    def ask(question: str, history: list[str]) -> Answer:
        quote = sentence[question]
        start = text.index(quote)
        page = pages.get(question)
        c = Citation(1, "m.pdf", "Tiny", str(path), start, start + len(quote), quote, None,
                     None, None, 1.0, page=page, page_end=page)  # fmt: skip
        if question in abstain:
            return Answer("No answer.", (), True, question, question, (c,), None, 0.1)
        return Answer(f"“{quote}” [1]", (c,), False, question, question, confidence=0.9)

    return ask


def test_a_right_page_scores_1_and_a_wrong_page_0(tmp_path) -> None:
    corpus, items = manual_items(tmp_path)
    right = {"Where is the cache?": 2, "What moves the config file?": 3}
    got = evaluate(pdf_answerer(corpus, right), items, corpus_dir=corpus, semantic=False)
    assert [r.page_correct for r in got.items] == [True, True, None]  # "nopage" states none
    assert got.overall.page_accuracy == 1.0
    # Every citation is read back from the PDF's extracted text: exact, not a decoding error.
    assert got.overall.quote_exactness == 1.0 and got.overall.key_fact_accuracy == 1.0
    wrong = {"Where is the cache?": 1, "What moves the config file?": 3}
    got = evaluate(pdf_answerer(corpus, wrong), items, corpus_dir=corpus, semantic=False)
    assert [r.page_correct for r in got.items] == [False, True, None]
    assert got.overall.page_accuracy == 0.5


def test_abstaining_or_citing_no_page_scores_0_on_pages(tmp_path) -> None:
    corpus, items = manual_items(tmp_path)
    right = {"Where is the cache?": 2, "What moves the config file?": 3}
    got = evaluate(
        pdf_answerer(corpus, right, abstain=("Where is the cache?",)),
        items, corpus_dir=corpus, semantic=False,
    )  # fmt: skip
    assert [r.page_correct for r in got.items] == [False, True, None]
    got = evaluate(pdf_answerer(corpus, {}), items, corpus_dir=corpus, semantic=False)
    assert got.overall.page_accuracy == 0.0  # citations without a page never show the gold one


def test_a_pdf_citation_off_by_one_character_is_not_exact(tmp_path) -> None:
    corpus, items = manual_items(tmp_path)
    ask = pdf_answerer(corpus, {"Where is the cache?": 2})

    def shifted(question: str, history: list[str]) -> Answer:
        answer = ask(question, history)
        c = answer.citations[0]
        return replace(answer, citations=(replace(c, start=c.start + 1, end=c.end + 1),))

    got = evaluate(shifted, items, corpus_dir=corpus, semantic=False)
    assert got.overall.quote_exactness == 0.0


def test_a_page_accuracy_drop_fails_its_gate_and_a_suite_without_pages_passes(tmp_path) -> None:
    corpus, items = manual_items(tmp_path)
    wrong = {"Where is the cache?": 1, "What moves the config file?": 3}
    got = evaluate(pdf_answerer(corpus, wrong), items, corpus_dir=corpus, semantic=False)
    gate = {g.metric: g for g in compare(got, {"k": 5, "overall": {"page_accuracy": 1.0}}).gates}
    assert gate["page_accuracy"].passed is False and gate["page_accuracy"].value == 0.5
    unpaged = {g.metric: g for g in compare(got, {"k": 5, "overall": {}}).gates}
    assert unpaged["page_accuracy"].passed  # no baseline value: nothing to hold it against
