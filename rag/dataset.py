"""Load and validate the eval set (``eval/qa.jsonl``): one JSON object per line.

Every gold quote is located in its corpus file, so the harness scores spans, not strings. Matching
is forgiving about whitespace (runs, NBSP), quote characters (curly vs straight) and NFKC forms;
the offsets recorded are always into the file's decoded, unaltered text. This module does not
judge whether a question is good; it only rejects items that cannot be scored.

Files are read as the index reads them (``rag.documents.read_file``): a PDF's gold quote is
located in its extracted text, and an evidence entry may name the ``page`` it is on (1-based, as a
viewer counts); the loader checks that the quote starts on that page.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from rag.documents import read_file
from rag.readers.pages import page_of

# Curly and typographic quote marks fold to their ASCII forms.
_QUOTES = str.maketrans("‘’‚‛′“”„‟″", "'''''" + '"' * 5)
# Invisible characters that HTML-ish text carries and nobody types.
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\ufeff", "\xad"}
_FOLD = str.maketrans({**{chr(c): chr(v) for c, v in _QUOTES.items()}, **dict.fromkeys(_INVISIBLE)})


class DatasetError(ValueError):
    """An eval item that cannot be scored; the message names the file, line and item id."""

    def __init__(self, path: Path | str, line: int, item_id: str | None, problem: str) -> None:
        self.path, self.line, self.item_id, self.problem = str(path), line, item_id, problem
        who = f"item {item_id!r}" if item_id else "item"
        super().__init__(f"{path}:{line}: {who}: {problem}")


@dataclass(frozen=True)
class Evidence:
    """A gold quote and where it sits: ``spans`` are ``(start, end)`` offsets, first one first.

    A quote can occur more than once (a forum post re-quoting the article), so every occurrence is
    kept and a citation of any of them counts. ``page`` is the 1-based page the quote starts on,
    when the eval set states it (paged documents only); the loader has checked it.
    """

    doc: str
    quote: str
    spans: tuple[tuple[int, int], ...]
    page: int | None = None

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[0][1]

    def touches(self, doc: str, start: int, end: int) -> bool:
        """Whether ``[start, end)`` of ``doc`` overlaps any occurrence of this quote."""
        return doc == self.doc and any(start < e and s < end for s, e in self.spans)


@dataclass(frozen=True)
class EvalItem:
    """One eval question; the last of ``turns`` is the one scored."""

    id: str
    turns: tuple[str, ...]
    answer: str
    key_facts: tuple[tuple[str, ...], ...]
    evidence: tuple[Evidence, ...]
    answerable: bool
    tags: tuple[str, ...]
    line: int = 0

    @property
    def question(self) -> str:
        return self.turns[-1]

    @property
    def history(self) -> list[str]:
        return list(self.turns[:-1])

    def on_gold(self, doc: str, start: int, end: int) -> bool:
        """Whether ``[start, end)`` of ``doc`` overlaps any gold evidence."""
        return any(ev.touches(doc, start, end) for ev in self.evidence)


def _fold(ch: str, lower: bool) -> str:
    if ch in _INVISIBLE:
        return ""
    out = unicodedata.normalize("NFKC", ch).translate(_QUOTES)
    return out.lower() if lower else out


@lru_cache(maxsize=64)  # corpus files are normalised once however many quotes they hold
def normalise_with_map(text: str, lower: bool = False) -> tuple[str, tuple[int, ...]]:
    """Fold ``text`` for matching and map every output character back to its source index.

    Example:
        >>> normalise_with_map("a\\xa0 “b”")
        ('a "b"', (0, 1, 3, 4, 5))
    """
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        folded = _fold(ch, lower)
        for c in folded:
            if c.isspace():
                if out and out[-1] == " ":
                    continue  # a whitespace run is one space
                c = " "
            out.append(c)
            where.append(i)
    return "".join(out), tuple(where)


def normalise(text: str) -> str:
    """Lowercase, NFKC, straight quotes, single spaces, trimmed: the form facts are matched in.

    Example:
        >>> normalise("  Assad’s\\n\\nregime ")
        "assad's regime"
    """
    # Whole-string NFKC: the same fold as normalise_with_map, without the bookkeeping.
    return " ".join(unicodedata.normalize("NFKC", text).translate(_FOLD).lower().split())


def find_spans(text: str, quote: str) -> tuple[tuple[int, int], ...]:
    """Every ``(start, end)`` of ``quote`` in ``text``, up to whitespace and quote characters.

    Example:
        >>> find_spans("He said “no”. She said “no”.", 'said "no"')
        ((3, 12), (18, 27))
    """
    hay, where = normalise_with_map(text)
    needle = normalise_with_map(quote)[0].strip()
    spans: list[tuple[int, int]] = []
    if not needle:
        return ()
    pos = hay.find(needle)
    while pos >= 0:
        spans.append((where[pos], where[pos + len(needle) - 1] + 1))
        pos = hay.find(needle, pos + 1)
    return tuple(spans)


def facts_found(text: str, key_facts: tuple[tuple[str, ...], ...]) -> int:
    """How many key-fact groups have an alternative in ``text`` (normalised substring).

    Example:
        >>> facts_found("Valery  GERASIMOV wrote in July.", (("Gerasimov",), ("June", "July")))
        2
    """
    haystack = normalise(text)
    return sum(any(normalise(alt) in haystack for alt in group) for group in key_facts)


@dataclass(frozen=True)
class _Source:
    """A corpus file as offsets count it: its text and, for a paged format, its page spans."""

    text: str
    pages: tuple[tuple[int, int], ...] = ()


def read_text(path: Path | str) -> str:
    """A corpus file's text exactly as the offsets count it (a PDF's extracted text)."""
    return read_file(path).text


def _read_source(path: Path) -> _Source:
    got = read_file(path)
    return _Source(got.text, got.pages)


def check_page(pages: tuple[tuple[int, int], ...], spans, page: object) -> str | None:
    """Why ``page`` is not a page some occurrence in ``spans`` starts on, else ``None``.

    Example:
        >>> pages = ((0, 10), (15, 30))
        >>> check_page(pages, ((17, 20),), 2) is None, check_page(pages, ((17, 20),), 1)
        (True, 'the quote starts on page 2, not page 1')
        >>> check_page((), ((0, 3),), 1), check_page(pages, ((0, 3),), 0)
        ('page 1 given, but the document has no pages', 'page must be a positive integer, got 0')
    """
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        return f"page must be a positive integer, got {page!r}"
    if not pages:
        return f"page {page} given, but the document has no pages"
    starts = sorted({page_of(pages, s, e)[0] for s, e in spans})
    if page in starts:
        return None
    found = ", ".join(str(n) for n in starts)
    return f"the quote starts on page {found}, not page {page}"


def _str_list(value: object, what: str, *, allow_empty: bool = True) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of strings")
    if not allow_empty and (not value or not all(v.strip() for v in value)):
        raise ValueError(f"{what} must be a non-empty list of non-empty strings")
    return tuple(value)


def _parse(raw: dict, texts: dict[str, _Source], corpus_dir: Path) -> EvalItem:
    missing = [
        f
        for f in ("turns", "answer", "key_facts", "evidence", "answerable", "tags")
        if f not in raw
    ]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    turns = _str_list(raw["turns"], "turns", allow_empty=False)
    if not isinstance(raw["answer"], str):
        raise ValueError("answer must be a string")
    if not isinstance(raw["answerable"], bool):
        raise ValueError("answerable must be true or false")
    if not isinstance(raw["key_facts"], list):
        raise ValueError("key_facts must be a list of lists of strings")
    facts = tuple(_str_list(g, "each key_facts group", allow_empty=False) for g in raw["key_facts"])
    tags = _str_list(raw["tags"], "tags")
    if not isinstance(raw["evidence"], list):
        raise ValueError("evidence must be a list of {doc, quote[, page]}")
    evidence = tuple(_locate(ev, texts, corpus_dir) for ev in raw["evidence"])
    if raw["answerable"] and not (evidence and facts):
        raise ValueError("an answerable item needs at least one evidence quote and key-fact group")
    if not raw["answerable"] and evidence:
        raise ValueError("an unanswerable item must have evidence []")
    return EvalItem(raw["id"], turns, raw["answer"], facts, evidence, raw["answerable"], tags)


def _locate(ev: object, texts: dict[str, _Source], corpus_dir: Path) -> Evidence:
    if not isinstance(ev, dict) or not isinstance(ev.get("doc"), str) or not ev.get("quote"):
        raise ValueError(f"evidence entries must be {{doc, quote[, page]}} objects, got {ev!r}")
    doc, quote = ev["doc"], ev["quote"]
    if not isinstance(quote, str) or Path(doc).name != doc or set(ev) - {"doc", "quote", "page"}:
        raise ValueError(f"bad evidence entry {ev!r}")
    if doc not in texts:
        path = corpus_dir / doc
        if not path.is_file():
            raise ValueError(f"evidence doc {doc!r} is not a file in {corpus_dir}")
        texts[doc] = _read_source(path)
    spans = find_spans(texts[doc].text, quote)
    if not spans:
        raise ValueError(f"evidence quote not found in {doc}: {quote[:80]!r}")
    page = ev.get("page")
    if page is not None:
        problem = check_page(texts[doc].pages, spans, page)
        if problem:
            raise ValueError(f"evidence page is wrong in {doc} ({problem}): {quote[:60]!r}")
    return Evidence(doc, quote, spans, page)


def load_dataset(path: Path | str, corpus_dir: Path | str) -> tuple[EvalItem, ...]:
    """Read and validate an eval set against the corpus it quotes.

    Args:
        path: the ``.jsonl`` file; blank lines are skipped.
        corpus_dir: the folder the evidence ``doc`` names are files of.

    Returns:
        The items in file order, each evidence quote located in its file.

    Raises:
        DatasetError: on the first item that cannot be scored, naming its line and id.
    """
    path, corpus_dir = Path(path), Path(corpus_dir)
    texts: dict[str, _Source] = {}  # doc -> its text and pages, read once
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as err:
            raise DatasetError(path, line_no, None, f"not valid JSON ({err.msg})") from None
        item_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(item_id, str) or not item_id.strip():
            raise DatasetError(path, line_no, None, "needs a non-empty string 'id'")
        if item_id in seen:
            first = seen[item_id]
            raise DatasetError(path, line_no, item_id, f"duplicate id (first on line {first})")
        seen[item_id] = line_no
        try:
            item = _parse(raw, texts, corpus_dir)
        except ValueError as err:
            raise DatasetError(path, line_no, item_id, str(err)) from None
        items.append(replace(item, line=line_no))
    if not items:
        raise DatasetError(path, 0, None, "the eval set is empty")
    return tuple(items)
