"""Uploads: hostile names, wrong types and sizes are refused and write nothing; good files land
once, under safe names, never over another file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from rag.uploads import Limits, Refused, accept, removable, remove, safe_name

PDF = b"%PDF-1.4\n%fake but with the magic\n"


def docx_bytes() -> bytes:
    from docx import Document

    out = io.BytesIO()
    doc = Document()
    doc.add_paragraph("The okapi sanctuary opened in 1987.")
    doc.save(out)
    return out.getvalue()


@pytest.fixture
def put(tmp_path):
    """Write bytes to a staging file (as the web server does) and return (name, path)."""
    staging = tmp_path / "staging"
    staging.mkdir()

    def make(name: str, data: bytes) -> tuple[str, Path]:
        path = staging / f"f{len(list(staging.iterdir()))}"
        path.write_bytes(data)
        return name, path

    return make


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../../etc/passwd.txt", "folder path"),
        ("a/b.pdf", "folder path"),
        ("a\\b.txt", "folder path"),
        ("..", "folder path"),
        ("notes.exe", "not a PDF"),
        ("README", "not a PDF"),
        ("....txt", "no letters"),
    ],
)
def test_hostile_names_are_refused(name, reason):
    with pytest.raises(Refused, match=reason):
        safe_name(name)


def test_names_are_made_safe():
    assert safe_name(".hidden.txt") == "hidden.txt"
    assert safe_name("  ..Q3 report.HTML ") == "Q3 report.html"
    assert safe_name("x" * 300 + ".pdf") == "x" * 96 + ".pdf"
    assert safe_name("na\u00efve\x00;rm -rf.md") == "na\u00efve_rm -rf.md"


def test_refused_files_write_nothing(tmp_path, put):
    folder = tmp_path / "uploads"
    files = [
        put("../../etc/passwd.txt", b"root:x:0:0"),
        put("a/b.pdf", PDF),
        put("x.pdf", b"just some text, not a PDF"),
        put("fake.docx", b"PK\x03\x04 not really a zip"),
        put("big.txt", b"a" * 1001),
        put("binary.txt", bytes(range(256)) * 2),
        put("plain.html", b"no markup at all"),
        put("empty.md", b""),
    ]
    got = accept(files, folder, Limits(max_bytes=1000))
    assert got.stored == ()
    reasons = dict(got.refused)
    assert set(reasons) == {name for name, _ in files}
    assert "folder path" in reasons["../../etc/passwd.txt"] and "folder path" in reasons["a/b.pdf"]
    assert "%PDF-" in reasons["x.pdf"] and "zip" in reasons["fake.docx"]
    assert "1,001 bytes is over the 1,000 bytes limit" in reasons["big.txt"]
    assert "not text" in reasons["binary.txt"] and "no HTML tag" in reasons["plain.html"]
    assert "empty" in reasons["empty.md"]
    assert listing(folder) == []  # not even a temporary file
    assert not (tmp_path / "etc").exists()


def test_good_files_are_stored_once_and_never_overwrite(tmp_path, put):
    folder = tmp_path / "uploads"
    zipped = docx_bytes()
    got = accept(
        [put("Report.PDF", PDF), put("notes.docx", zipped), put(".hidden.txt", b"hi")], folder
    )
    assert got.stored == ("Report.pdf", "notes.docx", "hidden.txt") and got.refused == ()
    assert (folder / "Report.pdf").read_bytes() == PDF
    assert zipfile.ZipFile(folder / "notes.docx").read("word/document.xml")
    again = accept([put("Report.pdf", PDF), put("Report.pdf", PDF + b"v2")], folder)
    assert again.stored == ("Report.pdf", "Report (2).pdf") and again.existing == ("Report.pdf",)
    assert (folder / "Report.pdf").read_bytes() == PDF
    assert (folder / "Report (2).pdf").read_bytes() == PDF + b"v2"
    assert listing(folder) == ["Report (2).pdf", "Report.pdf", "hidden.txt", "notes.docx"]


def test_a_symlink_in_the_way_is_not_followed(tmp_path, put):
    folder = tmp_path / "uploads"
    folder.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("keep me", encoding="utf-8")
    (folder / "notes.txt").symlink_to(outside)
    got = accept([put("notes.txt", b"new words")], folder)
    assert got.stored == ("notes (2).txt",)
    assert outside.read_text(encoding="utf-8") == "keep me"


def test_too_many_files_at_once_are_all_refused(tmp_path, put):
    files = [put(f"n{i}.txt", b"words") for i in range(3)]
    got = accept(files, tmp_path / "uploads", Limits(max_files=2))
    assert got.stored == () and len(got.refused) == 3
    assert "at most 2 per upload" in got.refused[0][1]
    assert not (tmp_path / "uploads").exists()


def test_remove_deletes_only_plain_files_directly_inside(tmp_path):
    folder = tmp_path / "uploads"
    (folder / "sub").mkdir(parents=True)
    for name in ("a.txt", "sub/b.txt", ".hidden.txt"):
        (folder / name).write_text("x", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("x", encoding="utf-8")
    (folder / "link.txt").symlink_to(tmp_path / "outside.txt")
    for name in ("../outside.txt", "sub/b.txt", ".hidden.txt", "link.txt", "sub", "", "none.txt"):
        assert not remove(folder, name), name
    assert remove(folder, "a.txt") and not (folder / "a.txt").exists()
    assert (tmp_path / "outside.txt").exists() and (folder / "sub/b.txt").exists()
    assert removable(folder, [folder / "x.pdf", tmp_path / "y.pdf"]) == [folder / "x.pdf"]
