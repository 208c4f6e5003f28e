"""Turn SQuAD 2.0 items (``../shared/wiki/squad.jsonl``) into this project's eval format.

Run from the repository root: ``python eval/wiki/make_suite.py [SRC] [DEST]``; it writes
``eval/wiki/squad.jsonl``. Deterministic: the same source gives the same file, line for line.

Each answerable item's key facts are its crowd answers (one group, any alternative counts) and its
evidence is the sentence around the first answer span (SQuAD answers can repeat elsewhere in an
article; the sentence pins the one the question was written about). Unanswerable items keep
their "plausible" lure in ``answer`` for reading reports; they are scored only on abstaining.
Every item is tagged with its article's split: the fit side is what anything learned is trained
or calibrated on, the held-out side is what it is reported on (see eval/wiki/README.md).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# The fixed split, by article. The two articles with unanswerable questions go one to each side.
FIT = (
    "Beyonce.txt",
    "New_York_City.txt",
    "2008_Sichuan_earthquake.txt",
    "Spectre__2015_film.txt",
    "IPod.txt",
)
HELDOUT = (
    "Frederic_Chopin.txt",
    "The_Legend_of_Zelda__Twilight_Princess.txt",
    "Sino-Tibetan_relations_during_the_Ming_dynasty.txt",
    "Solar_energy.txt",
    "To_Kill_a_Mockingbird.txt",
)
_END = re.compile(r"[.!?](?=\s|$)|\n")


def split_of(doc: str) -> str:
    """``"fit"`` or ``"heldout"`` for an article file name.

    Example:
        >>> split_of("Beyonce.txt"), split_of("Solar_energy.txt")
        ('fit', 'heldout')
    """
    if doc in FIT:
        return "fit"
    if doc in HELDOUT:
        return "heldout"
    raise ValueError(f"{doc} is in neither split")


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` holding ``[start, end)`` (a paragraph break also ends one).

    Example:
        >>> sentence_around("One. Two is here. Three.", 5, 8)
        'Two is here.'
    """
    left = max(text.rfind(p, 0, start) for p in (". ", "? ", "! ", "\n"))
    left = 0 if left < 0 else left + (1 if text[left] == "\n" else 2)
    stop = _END.search(text, end)
    right = len(text) if stop is None else stop.end()
    return text[left:right].strip()


def convert(raw: dict, text: str) -> dict:
    """One SQuAD record as an eval item."""
    tags = ["squad", f"split:{split_of(raw['doc'])}"]
    if not raw["answerable"]:
        lure = (raw.get("plausible") or [""])[0]  # a list of strings
        return {
            "id": raw["id"],
            "turns": [raw["question"]],
            "answer": lure,
            "key_facts": [],
            "evidence": [],
            "answerable": False,
            "tags": [*tags, "unanswerable"],
        }
    answers = raw["answers"]
    first = answers[0]
    assert text[first["start"] : first["end"]] == first["text"], raw["id"]
    return {
        "id": raw["id"],
        "turns": [raw["question"]],
        "answer": first["text"],
        "key_facts": [list(dict.fromkeys(a["text"] for a in answers))],
        "evidence": [
            {"doc": raw["doc"], "quote": sentence_around(text, first["start"], first["end"])}
        ],
        "answerable": True,
        "tags": tags,
    }


def main(argv: list[str]) -> int:
    src = Path(argv[0] if argv else "../shared/wiki/squad.jsonl")
    dest = Path(argv[1] if len(argv) > 1 else "eval/wiki/squad.jsonl")
    corpus = dest.parent / "corpus"
    texts: dict[str, str] = {}
    lines = []
    for line in src.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        if raw["doc"] not in texts:
            texts[raw["doc"]] = (corpus / raw["doc"]).read_text(encoding="utf-8")
        lines.append(json.dumps(convert(raw, texts[raw["doc"]]), ensure_ascii=False))
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{dest}: {len(lines)} items")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
