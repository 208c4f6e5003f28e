"""What a file's bytes or text look like before indexing: the two ways a file can go wrong quietly.

- ``utf16_without_bom``: UTF-16 text saved without a byte-order mark decodes as "valid" UTF-8
  (``T\\x00h\\x00e\\x00``) when its characters are Latin. Its NUL bytes give it away: text
  has almost none, UTF-16 of Latin text has one in every other byte.
- ``unbroken_run``: a line with no white space is one token, which segmentation drops as page
  chrome; a document made of one such line counts as indexed yet holds nothing searchable.

Both are pure functions of the file's content. Left out: any other encoding guess (Latin-1,
CP-1252) and UTF-32.
"""

from __future__ import annotations

import re

# A share of NUL bytes this high on one side of each byte pair (and ten times fewer on the
# other) is UTF-16, not text: Latin text gives ~100%, Cyrillic or Greek ~15% (spaces and
# punctuation), while text in UTF-8 holds no NUL at all.
MIN_NUL_SHARE = 0.1
# More characters than this without a space, tab or line break is no prose.
MAX_UNBROKEN = 10_000
# Runs start after white space (the look-behind), so the search stays linear in the text.
_RUN = re.compile(rf"(?<!\S)\S{{{MAX_UNBROKEN + 1},}}")


def utf16_without_bom(data: bytes) -> str | None:
    """``"utf-16-le"`` or ``"utf-16-be"`` when ``data`` looks like BOM-less UTF-16, else None.

    Example:
        >>> utf16_without_bom("The harbour".encode("utf-16-le"))
        'utf-16-le'
        >>> utf16_without_bom("The harbour".encode("utf-16-be"))
        'utf-16-be'
        >>> utf16_without_bom("The harbour".encode()), utf16_without_bom(b"")
        (None, None)
    """
    pairs = len(data) // 2
    if pairs == 0 or len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if odd >= MIN_NUL_SHARE * pairs and even * 10 <= odd:
        return "utf-16-le"
    if even >= MIN_NUL_SHARE * pairs and odd * 10 <= even:
        return "utf-16-be"
    return None


def unbroken_run(text: str) -> int:
    """The length of the first run of more than ``MAX_UNBROKEN`` non-space characters, else 0.

    Example:
        >>> unbroken_run("a b c"), unbroken_run("x" * 20_000)
        (0, 20000)
    """
    m = _RUN.search(text)
    return len(m.group()) if m else 0
