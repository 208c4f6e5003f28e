"""Big folders: ``rag index`` on 30 MB of generated English, and builds killed and resumed.

The text is ``bench.synthetic.english_text`` over the wiki suite's articles (seeded, two files of
15 MB, like the two-file folder of issue 14), written once into ``bench/data/big-<MB>mb/``.

``index_run`` runs ``python -m rag --index-dir DIR index CORPUS --json`` from a checkout's root
(this one, or the old code's) as a child, and reports wall seconds, CPU seconds (user + system,
the child and every process it waited for: ``os.wait4``), the child's peak RSS (``ru_maxrss``),
the peak RSS of its whole process tree (sampled every 0.2 s from ``/proc``: the parse workers
count too), and the stats it printed.

``resume`` builds a corpus cleanly once, then for each fraction (25%, 50%, 90%) starts a fresh
build, ``kill -9``s it at that fraction of the clean build's wall time, and runs ``rag index``
again. Encoder work is counted in characters sent to the encoder: the killed run's are the
encoder calls it had started (its ``--verbose`` log lines, the call in flight included), the
rerun's are its ``encoded_chars``. The resumed index's answers are compared with the clean one's
(citations and text) on questions made from the corpus.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import DATA, ROOT, child_env, fresh_dir, seed_export

MB = 1_000_000
CALL = re.compile(r"encoder call \d+/\d+: (\d+) texts, (\d+) chars")


def corpus(mb: int = 30, files: int = 2, seed: int = 0) -> Path:
    """``mb`` MB of generated English in ``files`` files (made once, then reused)."""
    from bench.synthetic import english_text

    folder = DATA / f"big-{mb}mb"
    marker = folder / ".complete"
    if marker.is_file():
        return folder
    source = " ".join(
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "eval/wiki/corpus").glob("*.txt"))
    )
    fresh_dir(folder)
    for i in range(files):
        text = english_text(mb * MB // files, source, seed=seed + i)
        (folder / f"part{i + 1}.txt").write_text(text, encoding="utf-8")
    marker.write_text("ok")
    return folder


def index_run(
    corpus: Path,
    index_dir: Path,
    checkout: Path = ROOT,
    kill_after: float | None = None,
    timeout: float = 7200,
    **env_extra: str,
) -> dict:
    """One ``rag index`` child: times, memory, stats (or, killed, the encoder calls it began)."""
    env = child_env(PYTHONPATH=str(checkout), **env_extra)
    cmd = [sys.executable, "-m", "rag", "--index-dir", str(index_dir), "index", str(corpus)]
    ours = checkout == ROOT
    cmd += ["--json", "--verbose"] if ours else []  # the old code has neither option
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    err_lines: list[str] = []
    reader = threading.Thread(target=lambda: err_lines.extend(proc.stderr), daemon=True)
    reader.start()
    out_text: list[str] = []
    out_reader = threading.Thread(target=lambda: out_text.append(proc.stdout.read()), daemon=True)
    out_reader.start()
    peak_tree = 0
    while True:  # wait4, not Popen.poll: the usage of a reaped child is gone
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak_tree = max(peak_tree, _tree_rss(proc.pid))
        elapsed = time.perf_counter() - started
        if kill_after is not None and elapsed >= kill_after:
            os.kill(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            break
        if elapsed > timeout:
            os.kill(proc.pid, signal.SIGKILL)
            raise TimeoutError(f"rag index ran past {timeout} s")
        time.sleep(0.2)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(5)
    out_reader.join(5)
    calls = [tuple(map(int, m.groups())) for line in err_lines if (m := CALL.search(line))]
    result = {
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "peak_tree_rss_mb": round(peak_tree / MB, 1),
        "returncode": proc.returncode,
        "encoder_calls_started": len(calls),
        "encoder_chars_started": sum(c for _, c in calls),
    }
    if kill_after is None:
        if proc.returncode != 0:
            raise RuntimeError(f"rag index failed: {''.join(err_lines)[-3000:]}")
        if ours:
            result["stats"] = json.loads("".join(out_text))
    return result


def _tree_rss(pid: int) -> int:
    """Bytes resident in ``pid`` and all its descendants now (0 for those already gone)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total


def big(
    mb: int = 30,
    old_checkout: Path | None = None,
    old_mb: int | None = None,
    default_full: bool = False,
) -> dict:
    """Index ``mb`` MB with late chunking on (and as the code is, with ``default_full``), then
    ``old_mb`` MB (each file's start: the generator is seeded) with this code both ways and
    with the old checkout. The default path does the old code's encoder work, ~3,000 CPU-s at
    30 MB, so by default it runs on the slice only."""
    out: dict = {"mb": mb, "runs": []}

    def run(who: str, size: int, checkout: Path = ROOT, **env: str) -> None:
        index_dir = fresh_dir(DATA / "index-big")
        seed_export(index_dir)
        try:
            got = index_run(corpus(size), index_dir, checkout, **env)
        except (RuntimeError, TimeoutError) as error:  # one failed run must not lose the rest
            got = {"error": str(error)[-2000:]}
        out["runs"].append({"who": who, "mb": size, **got})

    run("this code, RAG_LATE_CHUNKING=1", mb, RAG_LATE_CHUNKING="1")
    if default_full:
        run("this code", mb)
    if old_checkout is not None:
        size = old_mb or mb
        if size != mb or not default_full:
            run("this code", size)
        if size != mb:
            run("this code, RAG_LATE_CHUNKING=1", size, RAG_LATE_CHUNKING="1")
        run(f"old code ({old_checkout.name})", size, old_checkout)
    out["chars"] = sum(len(p.read_text(encoding="utf-8")) for p in corpus(mb).glob("*.txt"))
    return out


def resume(folder: Path, fractions: tuple[float, ...] = (0.25, 0.5, 0.9)) -> dict:
    """A clean build, then a build killed at each fraction of its time and run again."""
    clean_dir = fresh_dir(DATA / "index-resume-clean")
    seed_export(clean_dir)
    clean = index_run(folder, clean_dir)
    work = clean["stats"]["encoded_chars"]
    out = {"corpus": str(folder), "clean": clean, "runs": []}
    for fraction in fractions:
        index_dir = fresh_dir(DATA / f"index-resume-{int(fraction * 100)}")
        seed_export(index_dir)
        killed = index_run(folder, index_dir, kill_after=fraction * clean["wall_s"])
        rerun = index_run(folder, index_dir)
        total = killed["encoder_chars_started"] + rerun["stats"]["encoded_chars"]
        out["runs"].append(
            {
                "fraction": fraction,
                "killed": killed,
                "rerun": rerun,
                "work_ratio": round(total / max(work, 1), 4),
                "answers_equal": same_answers(folder, clean_dir, index_dir),
            }
        )
    return out


def same_answers(folder: Path, a: Path, b: Path, questions: int = 40) -> bool:
    """Whether two indexes of ``folder`` answer alike (quotes and text): the questions are the
    first 8 words of every n-th chunk, as a user might paste a line they half remember."""
    from rag import Assistant

    x = Assistant.from_directory(folder, index_dir=a)
    y = Assistant.from_directory(folder, index_dir=b)
    y._encoder = x.encoder  # one model for both: the same query vectors
    chunks = x._index.chunks
    asked = [" ".join(c.text.split()[:8]) for c in chunks[:: max(1, len(chunks) // questions)]]
    for question in asked[:questions]:
        p, q = x.ask(question), y.ask(question)
        if p.text != q.text or [(c.doc_id, c.start, c.end) for c in p.citations] != [
            (c.doc_id, c.start, c.end) for c in q.citations
        ]:
            return False
    return True
