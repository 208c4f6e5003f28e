"""Chunks and sentence spans with exact offsets.

Segments are cut into chunks with langchain's ``RecursiveCharacterTextSplitter``; each piece is
located in the segment by offset, then widened to whole sentences, so a chunk never starts or
ends mid-sentence and every sentence belongs to the chunks it overlaps. Left out: language-aware
sentence models; the splitter is rule-based for English punctuation.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from rag.records import Chunk, Document, Segment, Span

# Abbreviations whose period does not end a sentence ("U.S.", "Gen.", "Jan.").
_ABBREV = {
    "mr", "mrs", "ms", "dr", "gen", "col", "lt", "sgt", "capt", "prof", "st", "jr", "sr", "vs",
    "etc", "no", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "inc", "ltd", "co", "corp", "dept", "gov", "sen", "rep", "fig", "e.g", "i.e", "approx",
}  # fmt: skip
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+)")
_BULLET = re.compile(r"^[?•*·\-–—]+\s+")  # bullet markers lost in conversion, e.g. "?       A"


def _ends_sentence(text: str, end: int) -> bool:
    """Whether the punctuation ending at ``end`` closes a sentence."""
    word = re.search(r"([\w.]+)[.!?]+[\"'”’)\]]*$", text[max(0, end - 30) : end])
    if word is None:
        return True
    token = word.group(1).lower()
    if token in _ABBREV or re.fullmatch(r"([a-z]\.)*[a-z]", token):
        return False  # "U.S." / "U.N." / initials
    nxt = re.match(r"\s+(\S)", text[end : end + 10])
    return nxt is None or not nxt.group(1).islower()


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentences of ``text[start:end]`` as absolute spans; a line ends a sentence unless the
    text is hard-wrapped there (``wrapped_lines``).

    Example:
        >>> t = "The U.S. memo said so. Gen. Dunford declined.\\nA new line"
        >>> [t[s.start:s.end] for s in sentence_spans(t)]
        ['The U.S. memo said so.', 'Gen. Dunford declined.', 'A new line']
    """
    end = len(text) if end is None else end
    spans: list[Span] = []
    for a0, b0 in wrapped_lines(text, start, end):
        body = text[a0:b0]
        cuts = [0]
        for m in _END.finditer(body):
            if _ends_sentence(body, m.end()):
                cuts.append(m.end())
        cuts.append(len(body))
        for a, b in zip(cuts, cuts[1:], strict=False):
            piece = body[a:b]
            lead = len(piece) - len(piece.lstrip())
            piece = piece.strip()
            bullet = _BULLET.match(piece)
            skip = bullet.end() if bullet else 0
            piece = piece[skip:]
            if any(ch.isalnum() for ch in piece):
                s = a0 + a + lead + skip
                spans.append(Span(s, s + len(piece)))
    return spans


_TERMINAL = re.compile(r"[.!?:;][\"'”’)\]]*$")
_MIN_WRAPPED = 8  # lines: fewer give no measure of the text's width
_WIDE = 0.6  # a line this share of the text's width (its 90th-percentile line) or more was wrapped


def wrapped_lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The ``[start, end)`` spans of ``text``'s logical lines: its lines, with a hard-wrapped
    line joined to the next (PDF extraction and fixed-width text break lines inside sentences).

    A line is wrapped when it runs near the text's full width and the next line carries on the
    sentence: the line ends without closing punctuation, or the next starts in lower case, and
    the next is no bullet. A short line (a heading, a paragraph's last line) always ends.

    Example:
        >>> row = "Prose wrapped at a fixed width, as a PDF page"
        >>> t = "\\n".join(["Title", row, "goes on here.", row + ".", "New one."] * 2)
        >>> [t[a:b] for a, b in wrapped_lines(t, 0, len(t))][:4]
        ['Title', 'Prose wrapped at a fixed width, as a PDF page\\ngoes on here.', \
'Prose wrapped at a fixed width, as a PDF page.', 'New one.']
    """
    lines = [(m.start() + start, m.end() + start) for m in re.finditer(r"[^\n]+", text[start:end])]
    if len(lines) < _MIN_WRAPPED:
        return lines
    lengths = sorted(len(text[a:b].rstrip()) for a, b in lines)
    wide = _WIDE * lengths[int(0.9 * (len(lengths) - 1))]
    out = [lines[0]]
    tail = text[slice(*lines[0])].rstrip()  # the last physical line of out[-1]
    for a, b in lines[1:]:
        line = text[a:b]
        head = line.lstrip()
        carries = not _TERMINAL.search(tail) or head[:1].islower()
        if a == out[-1][1] + 1 and len(tail) >= wide and carries and not _BULLET.match(head):
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
        tail = line.rstrip()
    return out


def chunk_document(
    doc: Document,
    segments: tuple[Segment, ...],
    chunk_size: int = 900,
    chunk_overlap: int = 150,
    first_id: int = 0,
) -> list[Chunk]:
    """Chunks of every segment, each with its sentence spans; ids count up from ``first_id``."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
        keep_separator="end",
    )
    chunks: list[Chunk] = []
    for seg in segments:
        sentences = sentence_spans(doc.text, seg.start, seg.end)
        if not sentences:
            continue
        body = doc.text[seg.start : seg.end]
        # Sentences are sorted and disjoint, so those overlapping a piece are one run, found by
        # bisection; scanning them all per piece was quadratic in a long segment (a book).
        starts = [s.start for s in sentences]
        ends = [s.end for s in sentences]
        cursor = 0
        last_end = -1
        for piece in splitter.split_text(body):
            at = body.find(piece, cursor)
            if at < 0:  # the splitter changed the text; fall back to a search from the start
                at = body.find(piece)
            if at < 0:
                continue
            cursor = at + 1
            a, b = seg.start + at, seg.start + at + len(piece)
            inside = tuple(sentences[bisect_right(ends, a) : bisect_left(starts, b)])
            if not inside or inside[-1].end <= last_end:
                continue  # a piece wholly inside the previous chunk adds nothing
            start, end = inside[0].start, inside[-1].end
            last_end = end
            chunks.append(
                Chunk(
                    chunk_id=first_id + len(chunks),
                    doc_id=doc.doc_id,
                    start=start,
                    end=end,
                    text=doc.text[start:end],
                    author=seg.author,
                    kind=seg.kind,
                    sentences=inside,
                )
            )
    return chunks
