"""Shared helpers: folders, percentiles, peak memory, workers and timed subprocesses.

Every measurement that needs a clean process (cold start, peak memory per size) runs in a child
``python -m bench.worker``; the child prints one JSON line last, which the parent parses.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"  # git-ignored: indexes, copies of corpora, the model export
RESULTS = ROOT / "bench" / "results"  # git-ignored: bench.json, bench.md, profiles
CORPUS = ROOT / "corpus"
EVAL = ROOT / "eval" / "qa.jsonl"
ONNX_CACHE = DATA / "onnx-cache"
PYTHON = sys.executable
MARK = "__bench_done__"  # a child prints this right after its answer, so exit time is excluded


def summarize(seconds: list[float]) -> dict[str, float]:
    """p50 / p95 / mean in milliseconds of a list of durations in seconds.

    Example:
        >>> summarize([0.001, 0.002, 0.003])["p50_ms"]
        2.0
    """
    if not seconds:
        return {"n": 0, "p50_ms": float("nan"), "p95_ms": float("nan"), "mean_ms": float("nan")}
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "p50_ms": round(1000 * _quantile(ordered, 0.50), 3),
        "p95_ms": round(1000 * _quantile(ordered, 0.95), 3),
        "mean_ms": round(1000 * sum(ordered) / len(ordered), 3),
    }


def _quantile(ordered: list[float], q: float) -> float:
    # Linear interpolation between closest ranks, as numpy.percentile's default does.
    at = q * (len(ordered) - 1)
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def median(values: list[float]) -> float:
    """The middle value (mean of the two middle ones for an even count)."""
    return _quantile(sorted(values), 0.5)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (ru_maxrss is KB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of the children it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child: the repo importable, no hub access, extra variables."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.update(extra)
    return env


def run_worker(
    job: str, timeout: float = 1800, env: dict[str, str] | None = None, **kwargs: object
) -> dict:
    """Run ``bench.worker`` job in a fresh process (``env``: extra variables) and return its
    JSON result."""
    cmd = [PYTHON, "-m", "bench.worker", job, json.dumps(kwargs)]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env=child_env(**(env or {})), cwd=ROOT
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"worker {job} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def time_until_mark(cmd: list[str], env: dict[str, str], timeout: float = 300) -> dict:
    """Seconds from spawning ``cmd`` until it prints ``MARK`` (the answer is out), and to exit.

    Output after the mark is read only to let the child finish; the child's stdout is
    line-buffered through ``PYTHONUNBUFFERED`` so the mark arrives when printed.
    """
    env = {**env, "PYTHONUNBUFFERED": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    to_mark = None
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if MARK in line and to_mark is None:
            to_mark = time.perf_counter() - start
        lines.append(line)
    proc.wait(timeout=timeout)
    to_exit = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed: {proc.stderr.read()[-2000:]}")
    return {
        "to_answer_s": to_mark if to_mark is not None else to_exit,
        "to_exit_s": to_exit,
        "stdout": "".join(lines),
    }


def seed_export(index_dir: Path) -> None:
    """Hard-link the model's ONNX export into a fresh index folder.

    The core keeps the export under each index folder; without this every new index folder
    would spend ~10 s exporting, which is a one-off cost, not index build throughput.
    """
    source = ONNX_CACHE / "onnx"
    target = Path(index_dir) / "onnx"
    if source.is_dir() and not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copytree(source, target, copy_function=os.link)
        except OSError:  # another filesystem: a plain copy
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)


def fresh_dir(path: Path) -> Path:
    """An empty folder at ``path`` (removed first if present)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def load_questions(path: Path = EVAL) -> list[list[str]]:
    """The eval set's turns per item; the last turn is the one timed."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [list(item["turns"]) for item in items if item.get("turns")]


def conversations(ask) -> list[tuple[str, list]]:
    """Each eval item's timed question with its earlier turns replayed through ``ask``: a chat
    holds those turns already, so replaying them is no part of an answer's time."""
    from rag.conversation import replay

    return [(turns[-1], replay(ask, turns[:-1])) for turns in load_questions()]


def machine() -> dict[str, object]:
    """What the numbers were measured on, including how busy the machine was."""
    import platform

    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return {
        "commit": head or None,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
