"""Write an eval run to disk and hold it against the committed baseline.

Outputs in one folder: ``summary.json``, ``results.jsonl`` (one line per question and run),
``report.md`` (ours vs the naive baseline, slices by tag, gates, diffs) and ``metrics.png``.
Gates and their tolerances are defined here, once; ``eval/README.md`` documents them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.evaluation import EvalResult, Metrics

# (field, label) in report order; rates are in [0, 1] unless the label says otherwise.
METRICS = (
    ("hit_at_1", "hit@1"),
    ("hit_at_k", "hit@k"),
    ("recall_at_k", "recall@k"),
    ("mrr_at_10", "MRR@10"),
    ("quote_exactness", "quote exactness"),
    ("evidence_precision", "evidence precision"),
    ("evidence_recall", "evidence recall"),
    ("page_accuracy", "page accuracy"),
    ("key_fact_recall", "key-fact recall"),
    ("key_fact_accuracy", "key-fact accuracy"),
    ("answer_in_lead_quote", "answer in the lead quote"),
    ("answer_in_quotes", "answer in some quote"),
    ("quoted_words", "quoted words per answer"),
    ("semantic", "semantic similarity"),
    ("faithfulness", "faithfulness"),
    ("correct_rejection", "correct rejection"),
    ("false_refusal", "false refusal"),
    ("crag_score", "CRAG score (-1..1)"),
    ("accuracy", "accuracy"),
    ("multi_turn_accuracy", "multi-turn accuracy"),
    ("latency_p50_ms", "latency p50 (ms)"),
    ("latency_p95_ms", "latency p95 (ms)"),
    ("errors", "errors"),
)
SLICE_COLUMNS = (
    "accuracy",
    "key_fact_accuracy",
    "answer_in_lead_quote",
    "answer_in_quotes",
    "quoted_words",
    "correct_rejection",
    "false_refusal",
    "hit_at_k",
)
CHART = (
    "hit_at_k",
    "recall_at_k",
    "evidence_precision",
    "evidence_recall",
    "key_fact_accuracy",
    "semantic",
    "faithfulness",
    "correct_rejection",
    "false_refusal",
    "multi_turn_accuracy",
)


@dataclass(frozen=True)
class Gate:
    """A metric that must not get worse than the baseline by more than ``tolerance``.

    ``floor`` makes it absolute instead: the value must reach it whatever the baseline says.
    """

    metric: str
    tolerance: float = 0.0
    higher_is_better: bool = True
    floor: float | None = None


# The one place tolerances live. With ~95 items one item is ~0.01 of key-fact accuracy; with
# ~15 unanswerable items one item is ~0.07 of correct rejection.
GATES = (
    Gate("quote_exactness", floor=1.0),
    Gate("key_fact_accuracy", tolerance=0.03),
    Gate("correct_rejection", tolerance=0.05),
    Gate("false_refusal", tolerance=0.05, higher_is_better=False),
    Gate("crag_score", tolerance=0.05),
    Gate("hit_at_k", tolerance=0.03),
    Gate("page_accuracy", tolerance=0.05),  # suites whose gold quotes state pages (PDF manuals)
)


@dataclass(frozen=True)
class GateOutcome:
    metric: str
    value: float | None
    baseline: float | None
    passed: bool
    why: str


@dataclass(frozen=True)
class Comparison:
    """Gates plus what changed per question since the baseline."""

    gates: tuple[GateOutcome, ...]
    newly_failing: tuple[str, ...]
    newly_fixed: tuple[str, ...]
    errors: int

    @property
    def passed(self) -> bool:
        return self.errors == 0 and all(g.passed for g in self.gates)


def _check(gate: Gate, value: float | None, base: float | None, same_k: bool) -> GateOutcome:
    if gate.floor is not None:
        ok = value is None or value >= gate.floor  # no citations at all: nothing inexact
        return GateOutcome(gate.metric, value, base, ok, f"must be >= {gate.floor}")
    if value is None or base is None:
        return GateOutcome(gate.metric, value, base, True, "no baseline value")
    if gate.metric.startswith("hit_at_k") and not same_k:
        return GateOutcome(gate.metric, value, base, True, "skipped: k differs from baseline")
    worse = (base - value) if gate.higher_is_better else (value - base)
    ok = worse <= gate.tolerance + 1e-9
    sign = "-" if gate.higher_is_better else "+"
    return GateOutcome(gate.metric, value, base, ok, f"tolerance {sign}{gate.tolerance}")


def compare(result: EvalResult, baseline: dict | None) -> Comparison:
    """Gate ``result`` against a baseline written by ``write_baseline`` (or none)."""
    base = (baseline or {}).get("overall", {})
    same_k = (baseline or {}).get("k") == result.k
    gates = tuple(
        _check(g, getattr(result.overall, g.metric), base.get(g.metric), same_k) for g in GATES
    )
    before = {i: v["correct"] for i, v in (baseline or {}).get("items", {}).items()}
    failing = tuple(r.id for r in result.items if before.get(r.id) is True and not r.correct)
    fixed = tuple(r.id for r in result.items if before.get(r.id) is False and r.correct)
    return Comparison(gates, failing, fixed, result.overall.errors)


def baseline_payload(result: EvalResult) -> dict:
    """What ``eval/baseline.json`` keeps: overall metrics and each item's outcome."""
    return {
        "k": result.k,
        "overall": asdict(result.overall),
        "items": {r.id: {"correct": r.correct, "crag": r.crag} for r in result.items},
    }


def write_baseline(result: EvalResult, path: Path | str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(baseline_payload(result), indent=1) + "\n", encoding="utf-8")


def read_baseline(path: Path | str | None) -> dict | None:
    if path is None or not Path(path).is_file():
        return None
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _fmt(value: float | int | None, field: str) -> str:
    if value is None:
        return "-"
    if field.endswith("_ms") or field == "quoted_words":
        return f"{value:.1f}"
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def _label(label: str, k: int) -> str:
    return label.replace("@k", f"@{k}")


def table(ours: EvalResult, naive: EvalResult | None = None) -> str:
    """A fixed-width metrics table, ours beside the naive baseline."""
    rows = [("metric", ours.name, naive.name if naive else "")]
    for field, label in METRICS:
        other = _fmt(getattr(naive.overall, field), field) if naive else ""
        rows.append((_label(label, ours.k), _fmt(getattr(ours.overall, field), field), other))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{a:<{width}}  {b:>8}  {c:>8}".rstrip() for a, b, c in rows)


def slice_table(result: EvalResult, prefix: str = "split:") -> str:
    """A fixed-width table of the slices whose tag starts with ``prefix`` (e.g. the splits)."""
    labels = dict(METRICS)
    keys = [t for t in result.by_tag if t.startswith(prefix)]
    if not keys:
        return ""
    rows = [("slice", "n", *(_label(labels[f], result.k) for f in SLICE_COLUMNS))]
    for key in keys:
        m = result.by_tag[key]
        rows.append((key, str(m.n), *(_fmt(getattr(m, f), f) for f in SLICE_COLUMNS)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        for r in rows
    )


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def _slice_rows(ours: dict[str, Metrics], naive: dict[str, Metrics] | None) -> list[list[str]]:
    rows = []
    for key, m in ours.items():
        theirs = naive.get(key) if naive else None
        mine = [_fmt(getattr(m, f), f) for f in SLICE_COLUMNS]
        rows.append([key, str(m.n), *mine, _fmt(theirs.accuracy if theirs else None, "")])
    return rows


def markdown(ours: EvalResult, naive: EvalResult | None, comparison: Comparison | None) -> str:
    """The human report: metrics, slices, gates and per-question changes."""
    k = ours.k
    out = [f"# Eval report: {ours.overall.n} items, k={k}, {ours.seconds:.1f} s", ""]
    header = ["metric", ours.name] + ([naive.name] if naive else [])
    rows = [
        [_label(lab, k), _fmt(getattr(ours.overall, f), f)]
        + ([_fmt(getattr(naive.overall, f), f)] if naive else [])
        for f, lab in METRICS
    ]
    out += _md_table(header, rows) + ["", "![metrics](metrics.png)", ""]
    labels = dict(METRICS)
    slice_header = ["slice", "n", *(_label(labels[f], k) for f in SLICE_COLUMNS), "naive accuracy"]
    for title, mine, theirs in (
        ("tag", ours.by_tag, naive.by_tag if naive else None),
        ("turn count", ours.by_turns, naive.by_turns if naive else None),
    ):
        out += [f"## By {title}", ""] + _md_table(slice_header, _slice_rows(mine, theirs)) + [""]
    if comparison is not None:
        out += ["## Gates", ""]
        out += _md_table(
            ["metric", "value", "baseline", "result", "rule"],
            [
                [
                    g.metric,
                    _fmt(g.value, ""),
                    _fmt(g.baseline, ""),
                    "pass" if g.passed else "**FAIL**",
                    g.why,
                ]
                for g in comparison.gates
            ],
        )
        out += ["", f"Errors: {comparison.errors}", ""]
        out += [f"Newly failing: {', '.join(comparison.newly_failing) or 'none'}", ""]
        out += [f"Newly fixed: {', '.join(comparison.newly_fixed) or 'none'}", ""]
    wrong = [r for r in ours.items if not r.correct]
    out += ["## Items not correct", ""] + [
        f"- `{r.id}` ({', '.join(r.tags)}): {r.question!r} -> "
        + ("abstained" if r.abstained else f"{r.facts_found}/{r.facts_total} key facts")
        + (f" ERROR {r.error}" if r.error else "")
        for r in wrong
    ]
    return "\n".join(out) + "\n"


def chart(ours: EvalResult, naive: EvalResult | None, path: Path) -> None:
    """Grouped bars of the rate metrics, ours beside the naive baseline."""
    import matplotlib

    matplotlib.use("Agg")  # no display here; must precede pyplot
    import matplotlib.pyplot as plt

    runs = [ours] + ([naive] if naive else [])
    labels = [_label(dict(METRICS)[f], ours.k) for f in CHART]
    fig, ax = plt.subplots(figsize=(11, 4))
    width = 0.8 / len(runs)
    for j, run in enumerate(runs):
        values = [getattr(run.overall, f) or 0.0 for f in CHART]
        ax.bar([i + j * width for i in range(len(CHART))], values, width, label=run.name)
    ax.set_xticks([i + width * (len(runs) - 1) / 2 for i in range(len(CHART))], labels)
    ax.tick_params(axis="x", rotation=30)
    ax.set_ylim(0, 1.05)
    ax.legend()
    ax.set_title("False refusal: lower is better; all others: higher is better")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _summary(result: EvalResult) -> dict:
    return {
        "name": result.name,
        "k": result.k,
        "seconds": round(result.seconds, 2),
        "overall": asdict(result.overall),
        "by_tag": {t: asdict(m) for t, m in result.by_tag.items()},
        "by_turns": {t: asdict(m) for t, m in result.by_turns.items()},
    }


def write_reports(
    out_dir: Path | str,
    ours: EvalResult,
    naive: EvalResult | None = None,
    comparison: Comparison | None = None,
) -> Path:
    """Write the four report files into ``out_dir`` and return the ``report.md`` path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"ours": _summary(ours), "naive": _summary(naive) if naive else None}
    if comparison is not None:
        summary["comparison"] = asdict(comparison) | {"passed": comparison.passed}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    with (out / "results.jsonl").open("w", encoding="utf-8") as f:
        for run in [ours] + ([naive] if naive else []):
            for r in run.items:
                f.write(json.dumps({"run": run.name} | asdict(r), ensure_ascii=False) + "\n")
    chart(ours, naive, out / "metrics.png")
    report = out / "report.md"
    report.write_text(markdown(ours, naive, comparison), encoding="utf-8")
    return report
