"""A pyinstrument profile of one bench item, run in its own process so imports are included.

Items: ``cold_start`` (open a cached index and answer once, from a bare interpreter),
``answer`` (the eval questions through ``ask``), ``build`` (index a folder from scratch) and
``reindex`` (re-open an unchanged index). The text report goes to ``bench/results``.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.common import RESULTS, conversations, fresh_dir, seed_export

ITEMS = ("cold_start", "answer", "build", "reindex")


def profile(item: str, corpus: Path, index_dir: Path) -> dict:
    """Profile ``item``; returns the report's path, the wall time and the top frames."""
    from pyinstrument import Profiler

    if item == "build":
        fresh_dir(index_dir)
        seed_export(index_dir)
    assistant = None
    if item == "answer":
        from rag import Assistant

        assistant = Assistant.from_directory(corpus, index_dir=index_dir)
        assistant.ask("warm-up question")
    chats = conversations(assistant.ask) if assistant is not None else []
    profiler = Profiler(interval=0.001)
    started = time.perf_counter()
    profiler.start()
    if item == "answer":
        for question, history in chats:
            assistant.ask(question, history=history)
    else:
        from rag import Assistant

        opened = Assistant.from_directory(corpus, index_dir=index_dir)
        if item == "cold_start":
            opened.ask("Who wrote to General Dunford?")
    profiler.stop()
    seconds = time.perf_counter() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"profile-{item}.txt"
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    path.write_text(text, encoding="utf-8")
    return {
        "item": item,
        "report": str(path),
        "seconds": round(seconds, 3),
        "top": top_frames(profiler),
    }


def top_frames(profiler, n: int = 8) -> list[dict]:
    """The functions with the most self time: where the time actually goes.

    pyinstrument files a function's own time under a synthetic ``[self]`` child, so a frame's
    self time is its time minus that of its real children.
    """
    totals: dict[str, float] = {}
    root = profiler.last_session.root_frame()
    total = root.time if root is not None else 0.0
    stack = [root] if root is not None else []
    while stack:
        frame = stack.pop()
        real = [c for c in frame.children if not c.is_synthetic]
        name = frame.function
        if "pybind11" in name:  # onnxruntime's native call has a mangled binding name
            name = f"native {name.rsplit('.', 1)[-1]}"
        label = f"{name} ({Path(frame.file_path or '?').name}:{frame.line_no})"
        own = frame.time - sum(c.time for c in real)
        totals[label] = totals.get(label, 0.0) + max(own, 0.0)
        stack.extend(real)
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:n]
    return [
        {"frame": k, "self_s": round(v, 3), "share": round(v / total, 3) if total else 0.0}
        for k, v in ranked
    ]
