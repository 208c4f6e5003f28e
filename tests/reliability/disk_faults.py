"""Disk faults on a real filesystem: run inside ``unshare -rm`` by ``test_disk_faults.py``.

``python disk_faults.py full ROOT`` builds the tiny corpus's index on a small tmpfs mounted at
ROOT, fills the disk, changes the corpus, and records what a ``LiveAssistant`` and a fresh
build do; then frees the space and records the retry. ``python disk_faults.py readonly ROOT``
builds an index under ROOT, re-mounts it read-only, and opens it with the corpus unchanged and
then changed. Either prints one JSON object of outcomes (and recovery seconds) on its last line.
A fake encoder keeps it fast and the tmpfs small (no model export in the index folder).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # conftest's corpus and encoder

import conftest  # noqa: E402

import rag.assistant  # noqa: E402
import rag.live  # noqa: E402
from rag import Assistant, LiveAssistant  # noqa: E402

QUESTION = "When did the okapi sanctuary open?"
NEW = "".join(f"The okapi sanctuary opened in 1987, report {i} says.\n" for i in range(400))


def fill(folder: Path, leave: int = 2048) -> Path:
    """A file taking all but ``leave`` bytes of ``folder``'s filesystem."""
    free = shutil.disk_usage(folder).free
    filler = folder / "filler"
    with open(filler, "wb") as f:
        try:
            f.write(b"\0" * max(free - leave, 0))
        except OSError:
            pass
    return filler


def outcome(fn) -> str:
    try:
        fn()
    except Exception as err:  # the kind and message are what the test checks
        return f"{type(err).__name__}: {err}"
    return "ok"


def full(root: Path) -> dict:
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(root)], check=True)
    corpus = conftest.write_tiny(root.parent / "corpus")
    live = LiveAssistant(Assistant.from_directory(corpus, index_dir=root / "index"))
    before = live.current.ask("When did the old bridge close?").text
    filler = fill(root)
    (corpus / "okapi.txt").write_text(NEW, encoding="utf-8")
    failed = live.check()
    tmp_left = [p.name for p in (root / "index").rglob(".tmp-*")]
    kept = live.current.ask("When did the old bridge close?").text
    filler.unlink()
    not_yet = live.check()  # inside RETRY_S: not tried again
    rag.live.RETRY_S = 0.0
    live._retry_at = 0.0
    started = time.perf_counter()
    retried = live.check()
    recovered_s = time.perf_counter() - started
    cited = live.current.ask(QUESTION).citations
    return {
        "error": failed.error,
        "changed_when_full": failed.changed,
        "tmp_left": tmp_left,
        "kept_answer": kept == before,
        "retried_too_soon": not_yet.changed,
        "retried": retried.changed,
        "recovered_s": round(recovered_s, 3),
        "new_doc_cited": bool(cited) and cited[0].doc_id == "okapi.txt",
    }


def readonly(root: Path) -> dict:
    root.mkdir(parents=True, exist_ok=True)
    corpus = conftest.write_tiny(root / "corpus")
    index = root / "index"
    built = Assistant.from_directory(corpus, index_dir=index)
    before = built.ask("When did the old bridge close?").text
    subprocess.run(["mount", "--bind", str(index), str(index)], check=True)
    subprocess.run(["mount", "-o", "remount,ro,bind", str(index)], check=True)
    started = time.perf_counter()
    served = Assistant.from_directory(corpus, index_dir=index).ask("When did the old bridge close?")
    open_s = time.perf_counter() - started
    (corpus / "okapi.txt").write_text(NEW, encoding="utf-8")
    changed = outcome(lambda: Assistant.from_directory(corpus, index_dir=index))
    return {
        "same_answer": served.text == before,
        "open_s": round(open_s, 3),
        "changed": changed,
    }


if __name__ == "__main__":
    mode, root = sys.argv[1], Path(sys.argv[2])
    encoder = conftest.FakeEncoder()
    rag.assistant.load_encoder = lambda *a, **k: encoder
    os.environ.pop("RAG_INDEX_DIR", None)
    print(json.dumps(full(root) if mode == "full" else readonly(root)))
