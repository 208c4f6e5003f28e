"""``rag eval``: score the assistant (and the naive baseline) on every eval suite, gate, report.

A thin shell over ``rag.evaluation`` and ``rag.report``. The suites (a corpus, its eval sets and
the baseline they are gated against) are listed in ``eval/suites.json``; ``rag eval`` runs them
all, ``--suite NAME`` one, and ``--dataset FILE --corpus DIR`` any eval set outside the list.
Exit codes: 0 all gates pass, 1 a gate failed, 2 an eval set is invalid or missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

import numpy as np

from rag.baselines import NaiveTopChunk
from rag.dataset import DatasetError, EvalItem, load_dataset
from rag.evaluation import evaluate, recommend, sweep
from rag.faithfulness import make_checker
from rag.report import (
    compare,
    read_baseline,
    slice_table,
    table,
    write_baseline,
    write_reports,
)

SUITES = "eval/suites.json"

DESCRIPTION = (
    "Score the assistant and the naive baseline on the eval set, write reports, and gate against "
    "the baseline (exit 1 on a failed gate). See eval/README.md."
)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--suite", action="append", help=f"a suite of {SUITES} (default: all)")
    p.add_argument("--suites", default=SUITES, help=f"the suites file (default: {SUITES})")
    p.add_argument("--corpus", default=None, help="corpus folder, with --dataset")
    p.add_argument("--dataset", action="append", help="an eval set outside the suites (repeatable)")
    p.add_argument("--k", type=int, default=5, help="depth for hit@k and recall@k (default: 5)")
    p.add_argument("--out", default="eval/reports", help="report folder (default: eval/reports)")
    p.add_argument("--baseline", default=None, help="baseline to gate --dataset against")
    p.add_argument(
        "--update-baseline", action="store_true", help="write this run as the new baseline"
    )
    p.add_argument("--no-naive", action="store_true", help="skip the naive top-chunk baseline")
    p.add_argument("--calibrate", action="store_true", help="sweep the abstention threshold")
    p.add_argument("--index-dir", default=None, help="index folder (default: the settings' one)")
    p.add_argument("--nli-model", default=None, help="local NLI cross-encoder for faithfulness")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``eval`` on the ``rag`` command's subparsers."""
    p = subparsers.add_parser(
        "eval",
        help="score answers on eval/qa.jsonl and gate against the baseline",
        description=DESCRIPTION,
    )
    _add_arguments(p)
    return p


def _load_assistant(corpus: str, index_dir: str | None) -> object:
    # Looked up at call time so tests can substitute a prepared or wrapped assistant.
    from rag import Assistant, Settings
    from rag.stores import scoped

    settings = Settings.from_env()
    # A shared store holds every corpus put in it: each suite gets a collection of its own.
    settings = settings.with_(store=scoped(settings.store, str(Path(corpus).resolve())))
    return Assistant.from_directory(corpus, settings=settings, index_dir=index_dir)


class _Memo:
    """An encoder that encodes each distinct text once: both runs share the references."""

    def __init__(self, encoder: object) -> None:
        self.encoder, self.name, self.dim = encoder, encoder.name, encoder.dim
        self.rows: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:  # (n, dim)
        todo = [t for t in dict.fromkeys(texts) if t not in self.rows]
        if todo:
            self.rows.update(zip(todo, self.encoder.encode(todo), strict=True))
        return np.stack([self.rows[t] for t in texts]) if texts else np.zeros((0, self.dim))


def _grid(confidences: Sequence[float], step: float = 0.025) -> list[float]:
    """Multiples of ``step`` over 0..1, widened to cover every observed confidence.

    Example:
        >>> _grid([-0.03, 0.5], step=0.25)
        [-0.25, 0.0, 0.25, 0.5, 0.75, 1.0]
    """
    lo = int(np.floor(min([0.0, *confidences]) / step))
    hi = int(np.ceil(max([1.0, *confidences]) / step))
    return [round(i * step, 6) for i in range(lo, hi + 1)]


def calibrate(assistant: object, dataset: Sequence[EvalItem], k: int) -> int:
    """Answer each item once with no threshold, then replay abstention over a grid."""

    def ask(question: str, history: list[str]):
        return assistant.ask(question, history=history, abstain_threshold=float("-inf"))

    result = evaluate(ask, dataset, k=k, semantic=False, name="calibration")
    points = sweep(result.items, _grid([r.confidence for r in result.items]))
    current = getattr(getattr(assistant, "settings", None), "abstain_threshold", None)
    print(f"{'threshold':>9}  {'correct rej':>11}  {'false ref':>9}  {'CRAG':>6}")
    for p in points:
        mark = "  <- current" if current is not None and abs(p.threshold - current) < 1e-9 else ""
        values = (p.correct_rejection, p.false_refusal, p.crag_score)
        cr, fr, crag = (f"{v:.3f}" if v is not None else "-" for v in values)
        print(f"{p.threshold:>9.3f}  {cr:>11}  {fr:>9}  {crag:>6}{mark}")
    best = recommend(points)
    if best is None:
        fallback = max(points, key=lambda p: (p.correct_rejection or 0) - (p.false_refusal or 0))
        print(
            "No threshold reaches >=90% correct rejection with <=5% false refusal; "
            f"best trade-off: {fallback.threshold:.3f}"
        )
    else:
        print(
            f"Recommended abstain_threshold: {best.threshold:.3f} "
            f"(correct rejection {best.correct_rejection:.3f}, "
            f"false refusal {best.false_refusal:.3f}; current {current})"
        )
    return 0


@dataclass(frozen=True)
class Suite:
    """A corpus, the eval sets about it and the baseline they are gated against."""

    name: str
    corpus: str
    datasets: tuple[str, ...]
    baseline: str | None


def suites(args: argparse.Namespace) -> list[Suite]:
    """What to run: ``--dataset`` alone, else the named (or all) suites of the suites file."""
    if args.dataset:
        return [Suite("eval", args.corpus or "corpus", tuple(args.dataset), args.baseline)]
    listed = json.loads(Path(args.suites).read_text(encoding="utf-8"))
    unknown = set(args.suite or ()) - set(listed)
    if unknown:
        raise ValueError(f"unknown suite(s): {', '.join(sorted(unknown))}; see {args.suites}")
    return [
        Suite(name, s["corpus"], tuple(s["datasets"]), s.get("baseline"))
        for name, s in listed.items()
        if not args.suite or name in args.suite
    ]


def run(args: argparse.Namespace) -> int:
    """Run the eval as ``args`` say; returns the process exit code."""
    try:
        chosen = suites(args)
        loaded = [
            (s, tuple(i for path in s.datasets for i in load_dataset(path, s.corpus)))
            for s in chosen
        ]
    except (DatasetError, OSError, ValueError) as err:
        print(f"rag eval: {err}", file=sys.stderr)
        return 2
    codes = []
    for suite, dataset in loaded:
        if len(loaded) > 1:
            print(f"== suite {suite.name}: {suite.corpus}, {len(dataset)} items")
        out = Path(args.out) / suite.name if len(loaded) > 1 else Path(args.out)
        codes.append(run_suite(args, suite, dataset, out))
    return max(codes)


def run_suite(
    args: argparse.Namespace, suite: Suite, dataset: Sequence[EvalItem], out: Path
) -> int:
    """Score one suite, write its reports into ``out`` and gate it; returns its exit code."""
    started = perf_counter()
    assistant = _load_assistant(suite.corpus, args.index_dir)
    if args.calibrate:
        return calibrate(assistant, dataset, args.k)
    from rag.embedding import load_encoder
    from rag.settings import Settings

    # One encoder for both runs' semantic scores: the assistant's own when it is the default.
    same = getattr(getattr(assistant, "settings", None), "model", None) == Settings().model
    encoder = _Memo(assistant.encoder if same else load_encoder(Settings()))
    checker = make_checker(args.nli_model)
    common = dict(k=args.k, corpus_dir=suite.corpus, checker=checker, encoder=encoder)
    ours = evaluate(assistant, dataset, name="ours", **common)
    naive = None
    if not args.no_naive:
        naive = evaluate(NaiveTopChunk(assistant), dataset, name="naive", **common)
    baseline = None if args.update_baseline else read_baseline(suite.baseline)
    comparison = compare(ours, baseline)
    report = write_reports(out, ours, naive, comparison)
    if args.update_baseline and suite.baseline:
        write_baseline(ours, suite.baseline)
    print(table(ours, naive))
    splits = slice_table(ours)
    if splits:
        print(splits)
    for g in comparison.gates:
        if not g.passed:
            print(f"GATE FAILED: {g.metric} = {g.value} (baseline {g.baseline}; {g.why})")
    if comparison.errors:
        print(f"GATE FAILED: {comparison.errors} item(s) raised errors")
    if comparison.newly_failing:
        print(f"newly failing: {', '.join(comparison.newly_failing[:40])}")
    if comparison.newly_fixed:
        print(f"newly fixed: {', '.join(comparison.newly_fixed[:40])}")
    if args.update_baseline and suite.baseline:
        print(f"baseline written: {suite.baseline}")
    print(f"report: {report}  ({perf_counter() - started:.1f} s)")
    return 0 if comparison.passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m rag.cli_eval ...``: the same as ``rag eval ...``."""
    parser = argparse.ArgumentParser(prog="rag eval", description=DESCRIPTION)
    _add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
