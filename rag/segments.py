"""What counts as content: page chrome, forum posts and their authors, re-quoted passages.

Rules, not lists of known strings:
- A line is *chrome* when it is not prose: no letters or digits, a lone token (image names,
  ids, "Updated"), a file name or bare URL, a reaction counter ("Like 2"), a copyright line, a
  "N weeks later..." marker, a "Read also:" teaser, or a short unpunctuated line made of
  site-furniture words (comment, share, sign in, account, logo, keywords...).
- A document is a *thread* (never a paged file: a PDF is a manual or a report) when it has
  quote headers ("X said:") or several post separators
  (chrome lines about comments, sharing or replying). Separators split it into posts; the first
  post is the document's own article.
- A post's author comes from its "Edited by X" line, or from a later post quoting it as
  "X said:". Lines after a quote header that repeat earlier text are re-quotes: skipped, so each
  passage is indexed once, under the post that first wrote it. A quoted line whose original is
  not in the thread is kept once, attributed to the quoted member (kind ``"quote"``).
- A content line repeated verbatim (a title shown twice), or held inside an earlier line, is
  indexed once. Containment counts for lines of 35 characters or more; a shorter line only
  when it equals an earlier one (``rag.seen_lines``: found by hashed grams in linear time).
Left out: authors that a page never names; they stay ``None`` ("a forum member").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from rag.records import Document, Segment
from rag.seen_lines import SeenLines

_FURNITURE = re.compile(
    r"\b(comments?|share|sign ?in|sign ?up|log ?in|login|register|account|jump to|skip to|"
    r"menu|logo|keywords|tags|click here|subscribe|browsing|members?|recommended|posts?|"
    r"reply|report|permalink|copyright|newsletter|advertisement|cookies?|print|followers?)\b",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"\b(comments?|share|reply|permalink)\b", re.IGNORECASE)
_QUOTE_HEADER = re.compile(r"^(?P<when>.{1,60}?),\s+(?P<name>\S.{0,40}?)\s+said:\s*$")
_EDITED_BY = re.compile(r"^Edited by\s+(?P<name>.+?)\s*$")
_IMAGE = re.compile(r"\.(jpe?g|png|gif|webp|svg|bmp)$", re.IGNORECASE)
_REACTION = re.compile(r"^\W*[A-Za-z]+\s+\d+$")
_LATER = re.compile(r"^\W*\d+\s+\w+\s+later\W*$", re.IGNORECASE)
_TEASER = re.compile(r"^(read also|read more|see also|related)\b\s*:?", re.IGNORECASE)
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " "})


def normalise(text: str) -> str:
    """The form used to compare passages: NFKC, straight quotes, single spaces, lowercase.

    Example:
        >>> normalise("Assad\\u2019s  \\u201cwar\\u201d")
        'assad\\'s "war"'
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(text.split()).lower()


def is_chrome(line: str) -> bool:
    """True when a line is page furniture rather than prose.

    Example:
        >>> [is_chrome(s) for s in ("Link to comment", "800x800 (3).jpg", "Russia wrote.")]
        [True, True, False]
    """
    s = line.strip()
    if not any(ch.isalnum() for ch in s):
        return True
    words = s.split()
    if len(words) == 1 and not s.endswith((".", "?", "!", '"', "”")):
        return True
    if _IMAGE.search(s) and len(words) <= 3 or re.fullmatch(r"https?://\S+", s):
        return True
    if _REACTION.match(s) or _LATER.match(s) or "©" in s or _EDITED_BY.match(s):
        return True
    if _TEASER.match(s) and not s.endswith((".", "?", "!")):
        return True
    return len(words) <= 8 and not re.search(r"[.!?\"”’]$", s) and bool(_FURNITURE.search(s))


@dataclass(frozen=True)
class Line:
    start: int
    end: int
    text: str


@dataclass
class _Post:
    lines: list[tuple[Line, str]] = field(default_factory=list)  # (line, role)
    author: str | None = None


@dataclass(frozen=True)
class Segmentation:
    """A document's content segments and what was dropped on the way."""

    segments: tuple[Segment, ...]
    chrome_lines: int
    posts: int
    requotes: int


def lines_of(text: str) -> list[Line]:
    """Non-blank lines with offsets, trimmed of surrounding white space (incl. U+00A0)."""
    out, pos = [], 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        if stripped:
            lead = len(body) - len(body.lstrip())
            out.append(Line(pos + lead, pos + lead + len(stripped), stripped))
        pos += len(raw)
    return out


def _is_separator(line: Line) -> bool:
    return is_chrome(line.text) and bool(_SEPARATOR.search(line.text))


def _is_footer(lines: list[Line]) -> bool:
    # A block mostly of site furniture (sign-in prompts, "members browsing") is not a post.
    furniture = sum(1 for ln in lines if is_chrome(ln.text) and not _EDITED_BY.match(ln.text))
    return furniture * 2 > len(lines)


def segment(doc: Document) -> Segmentation:
    """Split a document into content segments with authors; see the module docstring."""
    lines = lines_of(doc.text)
    headers = sum(1 for ln in lines if _QUOTE_HEADER.match(ln.text))
    separators = sum(1 for ln in lines if _is_separator(ln))
    blocks: list[list[Line]] = [[]]
    # A paged file (PDF, Word) is a manual or a report, not a forum page: a "<comment>" line in a
    # specification separates no posts.
    thread = not doc.pages and (headers > 0 or separators >= 2)
    for ln in lines:
        if thread and _is_separator(ln):
            if blocks[-1]:
                blocks.append([])
            continue
        blocks[-1].append(ln)
    blocks = [b for b in blocks if b]
    chrome = separators if thread else 0
    posts: list[_Post] = []
    seen = SeenLines()  # normalised content lines -> the post that wrote each first
    requotes = 0
    for b, block in enumerate(blocks):
        if thread and b > 0 and _is_footer(block):
            chrome += len(block)
            continue
        post = _Post(author=(doc.meta.author or doc.meta.posted_by) if b == 0 else None)
        quoting: str | None = None
        quoted_any = False
        for ln in block:
            header = _QUOTE_HEADER.match(ln.text) if thread else None
            edited = _EDITED_BY.match(ln.text)
            if header:
                quoting, quoted_any = header["name"], False
                continue
            if edited and b > 0:
                post.author = edited["name"]
            if is_chrome(ln.text):
                chrome += 1
                continue
            norm = normalise(ln.text)
            source = seen.source(norm)
            if quoting is not None:
                if source is not None:
                    requotes += 1
                    quoted_any = True
                    if source < len(posts) and posts[source].author is None:
                        posts[source].author = quoting  # a later "X said:" names the author
                    continue
                if not quoted_any:  # the quoted original is not in this page: keep it once
                    post.lines.append((ln, f"quote:{quoting}"))
                    seen.add(norm, len(posts))
                    quoting = None
                    continue
                quoting = None
            if source is not None:
                requotes += 1
                continue
            post.lines.append((ln, "post"))
            seen.add(norm, len(posts))
        posts.append(post)
    segments = _segments_from(doc, posts, thread, {ln.start: i for i, ln in enumerate(lines)})
    return Segmentation(tuple(segments), chrome, len(posts) if thread else 0, requotes)


def _segments_from(
    doc: Document, posts: list[_Post], thread: bool, order: dict[int, int]
) -> list[Segment]:
    """Merge consecutive lines of the same role into segments.

    ``order`` maps a line's start to its position among all lines: a dropped line (chrome, a
    re-quote) between two kept ones ends the run, so no segment spans text that was dropped.
    """
    out: list[Segment] = []
    for p, post in enumerate(posts):
        run: list[Line] = []
        role = ""
        for ln, r in [*post.lines, (None, "")]:
            gap = ln is not None and run and order[ln.start] != order[run[-1].start] + 1
            if run and (ln is None or gap or r != role or r.startswith("quote:")):
                kind = "article" if not thread or p == 0 else "post"
                author = post.author
                if role.startswith("quote:"):
                    kind, author = "quote", role.split(":", 1)[1]
                out.append(Segment(doc.doc_id, run[0].start, run[-1].end, author, kind))
                run = []
            if ln is not None:
                run.append(ln)
                role = r
    return out
