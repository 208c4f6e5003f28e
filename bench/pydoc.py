"""The larger real corpus: the Python 3.11 documentation HTML from Debian's python3.11-doc.

``ensure_installed`` runs apt-get when the folder is missing. The package also ships the reST
sources as ``_sources/*.txt``, which the loader would read too; the bench copies only the
``.html`` pages (same relative paths) into ``bench/data/pydoc-html`` so "all of its HTML" is
exactly what gets ingested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from bench.common import DATA

DOC_ROOT = Path("/usr/share/doc/python3.11/html")
HTML_COPY = DATA / "pydoc-html"
PACKAGE = "python3.11-doc"


def ensure_installed() -> Path:
    """The documentation folder, installing the Debian package first if it is missing."""
    if not DOC_ROOT.is_dir():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", PACKAGE]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            # The package lists may be missing on a fresh image: refresh once, then retry.
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
            subprocess.run(install, env=env, check=True, capture_output=True)
    return DOC_ROOT


def html_copy() -> Path:
    """Only the ``.html`` files of the documentation, hard-linked (or copied) once."""
    source = ensure_installed()
    marker = HTML_COPY / ".complete"
    if marker.is_file():
        return HTML_COPY
    shutil.rmtree(HTML_COPY, ignore_errors=True)
    for page in sorted(source.rglob("*.html")):
        if "_sources" in page.relative_to(source).parts:
            continue
        target = HTML_COPY / page.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(page.resolve(), target)
        except OSError:
            shutil.copyfile(page, target)
    marker.write_text("ok")  # a dot-file: the loader skips it
    return HTML_COPY


def subset(
    per_file: dict[str, int], folder: Path, target: Path, min_chunks: int
) -> tuple[Path, int]:
    """Copy whole pages, spread across the docs, until they hold ``min_chunks`` chunks.

    ``per_file`` is ``doc_id -> chunks``. Pages are taken every n-th in name order (library,
    reference, tutorial, howto... all appear), so the sample is not one section's style.
    """
    names = sorted(per_file)
    total_chunks = sum(per_file.values())
    step = max(1, total_chunks // (min_chunks * 2))  # about twice the need, then stop early
    picked, total = [], 0
    for offset in range(step):
        for name in names[offset::step]:
            if total >= min_chunks:
                break
            picked.append(name)
            total += per_file[name]
    shutil.rmtree(target, ignore_errors=True)
    for name in picked:
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / name, dest)
    return target, total
