"""Time to recover from each kind of index damage, on the shipped corpus with the real model.

    python tests/reliability/measure_recovery.py [--corpus corpus]

Builds the corpus's index once, then for each fault damages a copy of the index folder the
way the tests do (``tests/test_checksums.py``, ``tests/test_lock.py``), opens it as the app
does (``Assistant.from_directory``), and asks eight questions of ``eval/qa.jsonl``. Prints a
Markdown table: the fault, the seconds from open to a served index, the texts re-encoded, and
whether the answers equal the undamaged index's (data lost: none when they do). Not a test:
the figures go into ``tests/reliability/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))

from test_checksums import garbage_inside, shift_sentences  # noqa: E402

from rag import Assistant  # noqa: E402
from rag.build_files import current  # noqa: E402
from rag.build_lock import LOCK, held  # noqa: E402


def questions(n: int = 8) -> list[str]:
    with open(ROOT / "eval" / "qa.jsonl", encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    return [item["turns"][0] for item in items if item["answerable"]][:n]


def answers(assistant: Assistant, asked: list[str]) -> list[tuple]:
    return [(a.text, [(c.doc_id, c.start, c.end) for c in a.citations])
            for a in map(assistant.ask, asked)]  # fmt: skip


def dangling_current(folder: Path) -> None:
    (folder / "current").write_text("0123456789ab", encoding="utf-8")


def _hold(root: str, ready) -> None:
    with held(Path(root) / LOCK):
        ready.set()
        time.sleep(600)


def killed_holder(folder: Path) -> None:
    """A builder killed with the lock held and its temporary build folder left behind."""
    fork = get_context("fork")
    ready = fork.Event()
    p = fork.Process(target=_hold, args=(str(folder), ready))
    p.start()
    ready.wait(30)
    os.kill(p.pid, signal.SIGKILL)
    p.join(10)
    (folder / "builds" / ".tmp-deadbeef").mkdir()
    (folder / "builds" / ".tmp-deadbeef" / "chunks.json").write_bytes(b"\0" * 1_000_000)


def no_cache(folder: Path) -> None:
    garbage_inside("faiss.index")(current(folder))
    shutil.rmtree(folder / "vector-cache")


def in_build(damage):
    return lambda folder: damage(current(folder))


FAULTS = {  # each damages an index folder
    "4 KB of garbage inside faiss.index": in_build(garbage_inside("faiss.index")),
    "4 KB of garbage inside sentence_vectors.npy": in_build(garbage_inside("sentence_vectors.npy")),
    "every sentence span in chunks.json shifted by 7": in_build(shift_sentences),
    "`current` names a build that is gone": dangling_current,
    "garbage inside faiss.index, vector cache deleted too": no_cache,
    "builder killed holding the lock, its temp folder left": killed_holder,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    args = parser.parse_args()
    asked = questions()
    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "clean"
        built = Assistant.from_directory(args.corpus, index_dir=clean)
        want = answers(built, asked)
        Assistant.from_directory(args.corpus, index_dir=clean)  # a load marks it verified
        print("| fault | recovered in (s) | texts re-encoded | answers equal a clean build's |")
        print("|---|---|---|---|")
        for name, damage in FAULTS.items():
            folder = Path(shutil.copytree(clean, Path(tmp) / f"copy-{len(os.listdir(tmp))}"))
            damage(folder)
            started = time.perf_counter()
            got = Assistant.from_directory(args.corpus, index_dir=folder)
            took = time.perf_counter() - started
            same = answers(got, asked) == want
            print(f"| {name} | {took:.2f} | {got.stats['embedded_this_load']} | {same} |")
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()
