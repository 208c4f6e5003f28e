"""Which earlier line holds this one: the re-quote test of ``rag.segments``, in linear time.

``SeenLines.add(text, post)`` remembers a normalised content line; ``source(text)`` gives the
post of the first remembered line that equals ``text`` or contains it, or None. Comparing each
line with every earlier one was quadratic (one 4 MB page: 19 s, 8 MB: 53 s).

Here each remembered line's ``GRAM``-character grams at offsets 0, ``STEP``, 2 ``STEP``... are
kept in a dict (hash -> the lines that have it there). A line of at least ``LONG`` characters
that sits inside an earlier one holds one of that line's sampled grams at one of its own first
``STEP`` offsets, so ``STEP`` look-ups find every candidate, and ``in`` confirms each one. When a
gram is common, the line's other grams at the same alignment (all sampled in any line holding
it) narrow the candidates to the rarest one's. Memory is one dict entry per ``STEP`` characters
of content. The worst case (a page of near-identical long lines) is still quadratic.

Left out on purpose: a line shorter than ``LONG`` characters is a repeat only when it *equals*
an earlier line. Inside longer lines, short ones matched by accident (``"yes."`` inside
``"eyes."``, ``"i agree."`` inside any sentence that says so), which dropped real content.
"""

from __future__ import annotations

GRAM = 24  # characters per sampled gram (~4 words): rare enough that candidates are few
STEP = 12  # a gram every STEP characters of a remembered line
LONG = GRAM + STEP - 1  # the shortest line that containment can be found for


class SeenLines:
    """Normalised content lines seen so far in one page, each with the post that wrote it.

    Example:
        >>> seen = SeenLines()
        >>> seen.add("the council voted on tuesday to build a new park.", 0)
        >>> seen.add("thank you.", 1)
        >>> seen.source("voted on tuesday to build a new park"), seen.source("thank you.")
        (0, 1)
        >>> seen.source("you."), seen.source("a new line nobody wrote before")
        (None, None)
    """

    def __init__(self) -> None:
        self._texts: list[str] = []
        self._posts: list[int] = []
        self._exact: dict[str, int] = {}  # text -> first line with it
        self._first: dict[int, int] = {}  # hash(gram) -> first line with it at a sampled offset
        self._more: dict[int, list[int]] = {}  # hash(gram) -> later lines, in order

    def __len__(self) -> int:
        return len(self._texts)

    def add(self, text: str, post: int) -> None:
        """Remember ``text`` (already normalised) as written by ``post`` (non-decreasing)."""
        line = len(self._texts)
        self._texts.append(text)
        self._posts.append(post)
        self._exact.setdefault(text, line)
        first, more = self._first, self._more
        for at in range(0, len(text) - GRAM + 1, STEP):
            key = hash(text[at : at + GRAM])
            if first.setdefault(key, line) != line:
                lines = more.setdefault(key, [])
                if not lines or lines[-1] != line:  # a gram twice in one line counts once
                    lines.append(line)

    def source(self, text: str) -> int | None:
        """The post of the first remembered line equal to ``text`` or containing it."""
        best = self._exact.get(text)
        if len(text) >= LONG:
            for j in range(STEP):
                for line in self._candidates(text, j):
                    if best is not None and line >= best:
                        break  # lines are kept in order: a later one cannot be the first
                    if text in self._texts[line]:
                        best = line
                        break
        return None if best is None else self._posts[best]

    def _candidates(self, text: str, j: int) -> tuple[int, ...]:
        """The lines that may hold ``text`` with ``text[j]`` at one of their sampled offsets.

        Such a line has *every* gram ``text[j + i * STEP :][:GRAM]`` sampled, so the shortest of
        their lists is enough; it is looked for only when the first list is long (common words).
        """
        key = hash(text[j : j + GRAM])
        line = self._first.get(key)
        if line is None:
            return ()
        lines = (line, *self._more.get(key, ()))
        for at in range(j + STEP, len(text) - GRAM + 1, STEP):
            if len(lines) <= 4:
                break
            key = hash(text[at : at + GRAM])
            line = self._first.get(key)
            if line is None:
                return ()
            other = self._more.get(key, ())
            if len(other) + 1 < len(lines):
                lines = (line, *other)
        return lines
