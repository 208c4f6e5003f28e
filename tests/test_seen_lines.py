"""The linear re-quote test gives the quadratic scan's answers (lines of >= LONG characters)."""

from __future__ import annotations

import random

from conftest import CORPUS

from rag.documents import load_folder
from rag.seen_lines import LONG, SeenLines
from rag.segments import is_chrome, lines_of, normalise


def scan(seen: list[tuple[str, int]], text: str) -> int | None:
    """The rule as it was: every earlier line compared, first equal or containing one wins."""
    return next((p for t, p in seen if text == t or text in t), None)


def expected(seen: list[tuple[str, int]], text: str) -> int | None:
    """The scan's answer, with short lines matched only when equal (the one rule change)."""
    if len(text) >= LONG:
        return scan(seen, text)
    return next((p for t, p in seen if text == t), None)


def replay(lines: list[str]) -> None:
    fast, slow = SeenLines(), []
    for i, text in enumerate(lines):
        post = i // 5  # posts hold a few lines each; post numbers never go down
        assert fast.source(text) == expected(slow, text), text
        fast.add(text, post)
        slow.append((text, post))


def test_random_fragments_of_earlier_lines_are_found_as_the_scan_finds_them():
    rng = random.Random(7)
    words = ["park", "river", "council", "the", "a", "new", "voted", "families", "near"]
    lines: list[str] = []
    for _ in range(600):
        if lines and rng.random() < 0.5:  # a fragment of an earlier line, cut anywhere
            src = rng.choice(lines)
            a = rng.randrange(len(src))
            lines.append(src[a : a + rng.randrange(1, 80)])
        else:
            lines.append(" ".join(rng.choice(words) for _ in range(rng.randrange(1, 20))))
    replay(lines)


def test_the_corpus_lines_get_the_scans_answers():
    for doc in load_folder(CORPUS):
        replay([normalise(ln.text) for ln in lines_of(doc.text) if not is_chrome(ln.text)])


def test_a_short_line_is_a_repeat_only_when_equal():
    seen = SeenLines()
    line = "she closed her eyes. after a while she said she agreed."
    seen.add(line, 0)
    assert scan([(line, 0)], "yes.") == 0  # the old rule's accident
    assert seen.source("yes.") is None
    seen.add("yes.", 1)
    assert seen.source("yes.") == 1
    assert seen.source("her eyes. after a while she said she") == 0  # long enough: inside
