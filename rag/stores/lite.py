"""A local Milvus-protocol server for trials, tests and benchmarks: ``milvus-lite``'s gRPC server.

It speaks the protocol Milvus Standalone and Distributed speak (collections, BM25 functions,
filters, upserts), on 127.0.0.1 and a free port, with its data in a folder. It is a stand-in:
production runs a Milvus cluster (docs/milvus.md). From a shell, ``python -m rag.stores.lite
DIR [PORT]`` serves until killed and prints its URL.

Example:
    >>> with MilvusServer(tmp_path) as url:  # doctest: +SKIP
    ...     Assistant.from_directory("corpus", settings=Settings(store=f"{url}/docs"))
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MilvusServer:
    """``milvus-lite server`` in a child process; the context value is ``milvus://host:port``."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log = None  # the server's output file while it runs

    @property
    def url(self) -> str:
        return f"milvus://127.0.0.1:{self.port}"

    def start(self, wait_s: float = 60.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        exe = shutil.which("milvus-lite") or str(Path(sys.executable).parent / "milvus-lite")
        self.log = open(self.data_dir / "server.log", "wb")  # noqa: SIM115 - closed in stop
        self.proc = subprocess.Popen(
            [exe, "server", "--data-dir", str(self.data_dir / "data"), "--host", "127.0.0.1",
             "--port", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"milvus-lite exited: {self.read_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self.url
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"milvus-lite did not listen within {wait_s} s: {self.read_log()}")

    def read_log(self) -> str:
        return (self.data_dir / "server.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None:
            self.log.close()
            self.log = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":  # for .ci/run: serve until TERM or INT, print the URL
    import signal

    server = MilvusServer(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
    stopping: list[int] = []
    # The handler only notes the signal: stopping the server from inside it could deadlock on
    # the lock an interrupted Popen.wait holds, and leave the server orphaned.
    signal.signal(signal.SIGTERM, lambda signum, _: stopping.append(signum))
    signal.signal(signal.SIGINT, lambda signum, _: stopping.append(signum))
    print(server.start(), flush=True)
    while not stopping and server.proc.poll() is None:
        time.sleep(0.2)
    server.stop()
