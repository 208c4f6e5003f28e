"""The eval-set loader: valid items come back located; every broken item is named by id and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import MANUAL_PAGES, write_manual

from rag.dataset import DatasetError, facts_found, find_spans, load_dataset, normalise
from rag.documents import read_text

ROOT = Path(__file__).resolve().parents[1]
TEXT = "He said “no deal”.\nThe\u00a0fund  paid 300 dollars. The fund paid 300 dollars.\n"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_bytes(TEXT.encode("utf-8"))
    return folder


def item(**changes: object) -> dict:
    base = {
        "id": "q1",
        "turns": ["What did he say?"],
        "answer": "No deal.",
        "key_facts": [["no deal"]],
        "evidence": [{"doc": "a.txt", "quote": 'said "no deal"'}],
        "answerable": True,
        "tags": ["factoid"],
    }
    return base | changes


def write(tmp_path: Path, *rows: dict | str) -> Path:
    path = tmp_path / "qa.jsonl"
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_quote_is_located_in_the_original_text(tmp_path: Path, corpus: Path) -> None:
    (got,) = load_dataset(write(tmp_path, item()), corpus)
    ev = got.evidence[0]
    assert (ev.start, ev.end) == (3, 17)
    assert TEXT[ev.start : ev.end] == "said “no deal”"
    assert got.question == "What did he say?" and got.history == [] and got.line == 1


def test_nbsp_and_runs_of_spaces_match_and_every_occurrence_is_kept(tmp_path, corpus) -> None:
    row = item(evidence=[{"doc": "a.txt", "quote": "The fund paid 300 dollars."}])
    (got,) = load_dataset(write(tmp_path, row), corpus)
    spans = got.evidence[0].spans
    assert [TEXT[s:e] for s, e in spans] == [
        "The\u00a0fund  paid 300 dollars.",
        "The fund paid 300 dollars.",
    ]
    assert got.on_gold("a.txt", spans[1][0] + 2, spans[1][0] + 3)
    assert not got.on_gold("a.txt", 0, 3) and not got.on_gold("b.txt", *spans[0])


def test_multi_turn_history_and_line_numbers_skip_blank_lines(tmp_path, corpus) -> None:
    rows = [item(), "", item(id="q2", turns=["Who spoke?", "What did he say?"], tags=[])]
    first, second = load_dataset(write(tmp_path, *rows), corpus)
    assert (first.line, second.line) == (1, 3)
    assert second.history == ["Who spoke?"] and second.question == "What did he say?"


def test_unanswerable_item_needs_no_evidence(tmp_path, corpus) -> None:
    row = item(answer="", key_facts=[], evidence=[], answerable=False, tags=["unanswerable"])
    (got,) = load_dataset(write(tmp_path, row), corpus)
    assert got.evidence == () and not got.answerable


BAD = [
    (item(turns=[]), "turns"),
    (item(turns=["ok", 3]), "turns"),
    (item(key_facts=["no deal"]), "key_facts"),
    (item(key_facts=[[]]), "key_facts"),
    (item(answerable="yes"), "answerable"),
    (item(tags="factoid"), "tags"),
    (item(answer=None), "answer"),
    (item(evidence=[{"doc": "a.txt"}]), "evidence"),
    (item(evidence=[{"doc": "missing.txt", "quote": "x"}]), "missing.txt"),
    (item(evidence=[{"doc": "../a.txt", "quote": "said"}]), "bad evidence"),
    (item(evidence=[{"doc": "a.txt", "quote": "said yes deal"}]), "not found"),
    (item(evidence=[]), "answerable item needs"),
    (item(answerable=False), "unanswerable item must have evidence []"),
    ({k: v for k, v in item().items() if k != "tags"}, "missing field(s): tags"),
]


@pytest.mark.parametrize(("row", "problem"), BAD)
def test_errors_name_the_item_and_line(tmp_path, corpus, row, problem) -> None:
    path = write(tmp_path, item(id="ok"), row | {"id": "bad7"})
    with pytest.raises(DatasetError) as err:
        load_dataset(path, corpus)
    assert (err.value.item_id, err.value.line) == ("bad7", 2)
    assert problem in str(err.value) and "bad7" in str(err.value) and ":2:" in str(err.value)


def test_duplicate_id_names_both_lines(tmp_path, corpus) -> None:
    with pytest.raises(DatasetError, match=r":3: item 'q1': duplicate id \(first on line 1\)"):
        load_dataset(write(tmp_path, item(), item(id="q2"), item()), corpus)


@pytest.mark.parametrize("line", ["{not json", '["a list"]', '{"turns": ["no id"]}'])
def test_unparseable_or_idless_lines(tmp_path, corpus, line) -> None:
    with pytest.raises(DatasetError) as err:
        load_dataset(write(tmp_path, item(), line), corpus)
    assert err.value.line == 2 and err.value.item_id is None


def test_empty_file_is_an_error(tmp_path, corpus) -> None:
    with pytest.raises(DatasetError, match="empty"):
        load_dataset(write(tmp_path, ""), corpus)


def test_matching_helpers() -> None:
    assert normalise("  Assad’s\u00a0\n REGIME ") == "assad's regime"
    assert find_spans("a “b” a “b”", 'a "b"') == ((0, 5), (6, 11))
    assert find_spans("abc", "  ") == ()
    assert facts_found("Paid $300 on May 5", (("300",), ("may 5", "5 May"), ("june",))) == 2


@pytest.mark.skipif(not (ROOT / "eval" / "qa.jsonl").exists(), reason="no eval set yet")
def test_the_project_eval_set_loads_and_every_span_matches_its_quote() -> None:
    items = load_dataset(ROOT / "eval" / "qa.jsonl", ROOT / "corpus")
    assert len(items) >= 90
    for it in items:
        for ev in it.evidence:
            text = (ROOT / "corpus" / ev.doc).read_bytes().decode("utf-8")
            assert all(normalise(text[s:e]) == normalise(ev.quote) for s, e in ev.spans), it.id


# --- PDF evidence and its page ----------------------------------------------------------------
@pytest.fixture
def manual(corpus: Path) -> Path:
    return write_manual(corpus / "m.pdf")


def pdf_item(quote: str, page: object = None, doc: str = "m.pdf", **changes: object) -> dict:
    ev = {"doc": doc, "quote": quote} | ({} if page is None else {"page": page})
    return item(id="p1", key_facts=[["900k"]], evidence=[ev]) | changes


def test_a_pdf_quote_is_located_in_the_extracted_text_with_its_page(tmp_path, manual) -> None:
    text = read_text(manual)
    (got,) = load_dataset(write(tmp_path, pdf_item("The cache lives in", 2)), manual.parent)
    ev = got.evidence[0]
    assert text[ev.start : ev.end] == "The cache lives in" and ev.page == 2
    assert text.index(MANUAL_PAGES[1]) < ev.start < text.index(MANUAL_PAGES[2])


def test_a_quote_across_a_pdf_line_break_matches(tmp_path, manual) -> None:
    quote = "move the config file. The default block"
    (got,) = load_dataset(write(tmp_path, pdf_item(quote, 3)), manual.parent)
    assert read_text(manual)[got.evidence[0].start : got.evidence[0].end] == (
        "move the config file.\nThe default block"
    )


def test_a_repeated_quote_may_name_any_page_it_starts_on(tmp_path, manual) -> None:
    quote = "The default block size is 900k."
    for page in (1, 3):
        (got,) = load_dataset(write(tmp_path, pdf_item(quote, page)), manual.parent)
        assert got.evidence[0].page == page and len(got.evidence[0].spans) == 2
    with pytest.raises(DatasetError, match="starts on page 1, 3, not page 2"):
        load_dataset(write(tmp_path, pdf_item(quote, 2)), manual.parent)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (pdf_item("The cache lives in", 1), "the quote starts on page 2, not page 1"),
        (pdf_item("Set TINY_HOME", 2), "the quote starts on page 3, not page 2"),
        (pdf_item("The cache lives in", 0), "page must be a positive integer, got 0"),
        (pdf_item("The cache lives in", "2"), "page must be a positive integer, got '2'"),
        (pdf_item("The cache lives in", True), "page must be a positive integer, got True"),
        (pdf_item("said", 1, doc="a.txt"), "page 1 given, but the document has no pages"),
        (
            item(evidence=[{"doc": "m.pdf", "quote": "The cache", "pages": 2}]),
            "bad evidence entry",
        ),
    ],
)
def test_a_wrong_gold_page_is_rejected_naming_line_and_id(tmp_path, manual, row, problem) -> None:
    path = write(tmp_path, pdf_item("The cache lives in", 2, id="ok"), row | {"id": "bad9"})
    with pytest.raises(DatasetError) as err:
        load_dataset(path, manual.parent)
    assert (err.value.item_id, err.value.line) == ("bad9", 2)
    assert problem in str(err.value) and ":2: item 'bad9'" in str(err.value)


def test_evidence_in_a_non_utf8_text_file_is_read_as_the_index_reads_it(tmp_path, corpus) -> None:
    (corpus / "latin.txt").write_bytes("Le café coûte 3 euros.".encode("cp1252"))
    row = item(evidence=[{"doc": "latin.txt", "quote": "café coûte"}])
    (got,) = load_dataset(write(tmp_path, row), corpus)
    assert (got.evidence[0].start, got.evidence[0].end) == (3, 13)


MANUALS = ROOT / "eval" / "manuals"


@pytest.mark.skipif(not (MANUALS / "qa.jsonl").exists(), reason="no manuals suite")
def test_the_manuals_suite_loads_with_a_checked_page_for_every_quote() -> None:
    items = load_dataset(MANUALS / "qa.jsonl", MANUALS / "corpus")
    answerable = [it for it in items if it.answerable]
    assert len(answerable) >= 30 and len(items) - len(answerable) >= 8
    texts = {p.name: read_text(p) for p in (MANUALS / "corpus").glob("*.pdf")}
    for it in answerable:
        assert "manuals" in it.tags, it.id
        for ev in it.evidence:
            assert ev.page is not None, it.id
            assert all(normalise(texts[ev.doc][s:e]) == normalise(ev.quote) for s, e in ev.spans)
