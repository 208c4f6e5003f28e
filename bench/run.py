"""``python -m bench.run``: every bench item in order, then bench.json and bench.md.

Heavy steps run in child processes (``bench.worker``); results are written after every step,
so an interrupted run still leaves what it measured. ``--quick`` shrinks the sizes for a smoke
run; ``--only`` runs some steps (the others keep their previous results from bench.json).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Callable

from bench import latency, pdf, peer, pydoc, report
from bench.common import (
    CORPUS,
    DATA,
    RESULTS,
    ROOT,
    fresh_dir,
    load_questions,
    machine,
    run_worker,
)
from bench.scale import CHUNK_TEXTS
from rag.settings import Settings

log = logging.getLogger("bench")

INDEX = DATA / "index-corpus"
PYDOC_SUBSET = DATA / "pydoc-sample"
PYDOC_INDEX = DATA / "index-pydoc"
PER_FILE = DATA / "pydoc_chunks_per_file.json"
PEER_TEXTS = DATA / "peer-{name}.json"
WIKI = ROOT / "eval" / "wiki" / "corpus"
WIKI_INDEX = DATA / "index-wiki"
STEPS = (
    "setup", "corpus", "pydoc", "pdf", "peer", "late", "scale", "milvus", "linear", "big",
    "resume", "profile",
)  # fmt: skip
LATE = {"RAG_LATE_CHUNKING": "1"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", nargs="+", choices=STEPS, help="run only these steps")
    parser.add_argument("--sizes", type=int, nargs="+", help="passage counts for search")
    parser.add_argument("--pydoc-chunks", type=int, help="chunks to embed from python-doc")
    parser.add_argument(
        "--no-all-pages", action="store_true", help="skip re-opening all python-doc pages"
    )
    parser.add_argument("--big-mb", type=int, help="MB of generated English to index (30)")
    parser.add_argument("--old", help="another checkout's root, indexed on the same text")
    parser.add_argument("--old-mb", type=int, help="MB the old checkout indexes (default: all)")
    parser.add_argument(
        "--big-default", action="store_true", help="also the default path on all of --big-mb"
    )
    parser.add_argument(
        "--profile",
        choices=("auto", "cold_start", "answer", "build", "reindex"),
        default="auto",
        help="which item to profile (auto: the build, and the item closest to its target)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    sizes = args.sizes or ([20_000, 50_000] if args.quick else [100_000, 1_000_000])
    min_chunks = args.pydoc_chunks or (300 if args.quick else 2_000)
    steps = args.only or STEPS

    RESULTS.mkdir(parents=True, exist_ok=True)
    results = _previous() if args.only else {}
    if args.only and "machine" in results:  # the footer keeps describing the full run
        results.setdefault("partial_runs", []).append({"steps": steps, **machine()})
    else:
        results["machine"] = machine()
    if not args.only:
        results["settings"] = {"sizes": sizes, "pydoc_chunks": min_chunks, "quick": args.quick}
    started = time.perf_counter()
    plan: list[tuple[str, Callable[[dict], None]]] = [
        ("setup", _setup),
        ("corpus", _corpus),
        ("pydoc", lambda r: _pydoc(r, min_chunks, all_pages=not (args.quick or args.no_all_pages))),
        ("pdf", _pdf),
        ("peer", _peer),
        ("late", _late),
        ("scale", lambda r: _scale(r, sizes)),
        (
            "milvus",
            lambda r: r.update(milvus=run_worker("milvus", size=20_000 if args.quick else 100_000)),
        ),  # fmt: skip
        ("linear", lambda r: _linear(r, (1, 2, 4) if args.quick else (1, 4, 16))),
        ("big", lambda r: _big(r, args.big_mb or (4 if args.quick else 30), args)),
        ("resume", _resume),
        ("profile", lambda r: _profile(r, args.profile)),
    ]
    for name, step in plan:
        if name not in steps:
            continue
        log.info("step %s", name)
        t = time.perf_counter()
        try:
            step(results)
        except Exception as error:  # keep going: one broken item must not hide the others
            log.exception("step %s failed", name)
            results.setdefault("errors", {})[name] = str(error)[-2000:]
        results.setdefault("step_s", {})[name] = round(time.perf_counter() - t, 1)
        _write(results)
    if not args.only:
        results["wall_s"] = round(time.perf_counter() - started, 1)
        results["machine"]["loadavg_1m_end"] = round(os.getloadavg()[0], 2)
    _write(results)
    print((RESULTS / "bench.md").read_text(encoding="utf-8"))


def _previous() -> dict:
    path = RESULTS / "bench.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _write(results: dict) -> None:
    (RESULTS / "bench.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    table = report.markdown(report.rows(results), results.get("machine", {}))
    (RESULTS / "bench.md").write_text(table, encoding="utf-8")


def _setup(r: dict) -> None:
    r["pydoc_folder"] = str(pydoc.html_copy())
    r["export"] = run_worker("export")


def _corpus(r: dict) -> None:
    r["build_corpus"] = run_worker("build", corpus=str(CORPUS), index_dir=str(INDEX))
    r["cold_start"] = latency.cold_start(CORPUS, INDEX)
    r["answer"] = run_worker("answer", corpus=str(CORPUS), index_dir=str(INDEX))
    r["reindex_corpus"] = run_worker(
        "reindex", corpus=str(CORPUS), workdir=str(DATA / "reindex-corpus")
    )
    r["build_wiki"] = run_worker("build", corpus=str(WIKI), index_dir=str(WIKI_INDEX))


def _late(r: dict) -> None:
    """The wiki and python-doc builds again with late chunking (a setting, off by default)."""
    for key, folder in (("wiki", WIKI), ("pydoc", PYDOC_SUBSET)):
        index = fresh_dir(DATA / f"index-{key}-late")
        r[f"build_{key}_late"] = run_worker(
            "build", env=LATE, corpus=str(folder), index_dir=str(index)
        )


def _big(r: dict, mb: int, args: argparse.Namespace) -> None:
    r["big"] = run_worker(
        "big", 4 * 3600, mb=mb, old_checkout=args.old, old_mb=args.old_mb,
        default_full=args.big_default,
    )  # fmt: skip


def _resume(r: dict) -> None:
    r["resume"] = run_worker("resume", timeout=3 * 3600, folder=str(PYDOC_SUBSET))


def _pydoc(r: dict, min_chunks: int, all_pages: bool) -> None:
    s = Settings()
    folder = pydoc.html_copy()
    ingest = run_worker(
        "ingest",
        folder=str(folder),
        chunk_size=s.chunk_size,
        overlap=s.chunk_overlap,
        texts_out=str(CHUNK_TEXTS),
    )
    per_file = ingest.pop("chunks_per_file")
    PER_FILE.write_text(json.dumps(per_file), encoding="utf-8")
    r["pydoc_ingest"] = ingest
    if all_pages:  # ~4 min: every page indexed with stand-in vectors, then re-opened
        r["reopen_pydoc_all"] = run_worker(
            "reopen", timeout=3600, corpus=str(folder), index_dir=str(DATA / "index-pydoc-all")
        )
    sample, chunks = pydoc.subset(per_file, folder, PYDOC_SUBSET, min_chunks)
    r["pydoc_sample"] = {"files": len(list(sample.rglob("*.html"))), "chunks": chunks}
    r["build_pydoc"] = run_worker(
        "build", corpus=str(sample), index_dir=str(PYDOC_INDEX), save_vectors=True
    )
    r["reindex_pydoc"] = run_worker(
        "reindex",
        corpus=str(sample),
        workdir=str(DATA / "reindex-pydoc"),
        index_from=str(PYDOC_INDEX),
    )


def _pdf(r: dict) -> None:
    if not pdf.MANUAL.is_file():
        raise FileNotFoundError(f"{pdf.MANUAL} is missing (Debian's valgrind package has it)")
    r["pdf_extraction"] = pdf.extraction(pdf.manual(DATA / "pdf"))


def _peer(r: dict) -> None:
    s = Settings()
    for name, folder in (("corpus", CORPUS), ("wiki", WIKI), ("pydoc", PYDOC_SUBSET)):
        texts = str(PEER_TEXTS).format(name=name)
        run_worker(
            "ingest",
            folder=str(folder),
            chunk_size=s.chunk_size,
            overlap=s.chunk_overlap,
            texts_out=texts,
        )
        store = fresh_dir(DATA / f"peer-store-{name}")
        r[f"peer_build_{name}"] = run_worker("peer_build", texts_file=texts, store_dir=str(store))
    questions = [turns[-1] for turns in load_questions()]
    store = str(DATA / "peer-store-corpus")
    r["peer_query"] = run_worker("peer_query", store_dir=store, questions=questions)
    r["peer_cold_start"] = peer.cold_start(DATA / "peer-store-corpus", latency.QUESTION)


def _scale(r: dict, sizes: list[int]) -> None:
    r.setdefault("scale", {})
    r.pop("hnsw_variant", None)  # from runs before HNSW's build parameters were settings
    for size in sizes:
        r["scale"][str(size)] = run_worker("scale", timeout=3600, size=size, lexical_size=size)
        _write(r)


def _linear(r: dict, sizes: tuple[int, ...]) -> None:
    r["linear"] = run_worker("linear", sizes=list(sizes))


def _profile(r: dict, choice: str) -> None:
    """Profile the chosen item; ``auto`` profiles the build (the longest-running user-facing
    item) and the item closest to (or furthest past) its target, if that is another one."""
    items = [choice] if choice != "auto" else list(dict.fromkeys(["build", _worst(r)]))
    r["profile"] = [_profile_one(item) for item in items]


def _profile_one(item: str) -> dict:
    corpus, index = CORPUS, INDEX
    if item == "reindex":
        corpus, index = PYDOC_SUBSET, PYDOC_INDEX
    elif item == "build":  # a smaller python-doc sample: the profile's shape, in a minute
        per_file = json.loads(PER_FILE.read_text(encoding="utf-8"))
        corpus, _ = pydoc.subset(per_file, pydoc.html_copy(), DATA / "pydoc-profile", 400)
        index = DATA / "index-profile"
    return run_worker("profile", item=item, corpus=str(corpus), index_dir=str(index))


def _worst(r: dict) -> str:
    """The profilable item with the highest share of its target used (time / target limit,
    or target rate / rate): the one furthest past it, or closest to it if all are met."""
    ratios = {
        "cold_start": (r.get("cold_start", {}).get("api_s") or 0) / 3,
        "answer": (r.get("answer", {}).get("ask", {}).get("p95_ms") or 0) / 40,
        "reindex": (r.get("reindex_pydoc", {}).get("unchanged_s") or 0) / 1,
        "build": 25 / max(r.get("build_pydoc", {}).get("chunks_per_s") or 1e-9, 1e-9),
    }
    return max(ratios, key=ratios.get)


if __name__ == "__main__":
    main()
