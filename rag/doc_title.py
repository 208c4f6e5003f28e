"""A document's title when no sidecar gives one: its heading line, else its file name.

Framing names whose words a quote is ("Beyoncé:"), so a title must never be a sentence of the
body. A first line reads as a heading when it is short, starts like a name and does not end like
a sentence; a Markdown ``#`` heading counts. Otherwise the file name, made readable, is the title.
Left out: guessing titles from the body's most frequent capitalised phrase.
"""

from __future__ import annotations

import re

MAX_WORDS = 14
MAX_CHARS = 120
_MARKDOWN = re.compile(r"^#{1,6}\s+")
_SENTENCE_END = re.compile(r"[.,;:!?…]$")


def is_heading(line: str) -> bool:
    """Whether a line reads as a heading rather than a sentence.

    Example:
        >>> is_heading("IPod"), is_heading("Solar energy is radiant light and heat.")
        (True, False)
    """
    line = _MARKDOWN.sub("", line.strip())
    words = line.split()
    return (
        0 < len(words) <= MAX_WORDS
        and len(line) <= MAX_CHARS
        and (line[0].isupper() or line[0].isdigit() or line[0] in "\"'“‘(")
        and not _SENTENCE_END.search(line)
    )


def readable_name(file_name: str) -> str:
    """A file name as words: its stem, with ``_`` and ``-`` runs as single spaces.

    Example:
        >>> readable_name("European_Union_law.txt"), readable_name("notes/2019-annual--report.md")
        ('European Union law', '2019 annual report')
    """
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", file_name.replace("\\", "/").rsplit("/", 1)[-1])
    words = re.sub(r"[_\-\s]+", " ", stem).strip()
    return words or file_name


def document_title(text: str, file_name: str) -> str:
    """The first non-blank line when it is a heading, else the readable file name.

    Example:
        >>> document_title("Chopin\\n\\nFrédéric Chopin was a composer.", "Frederic_Chopin.txt")
        'Chopin'
        >>> document_title("Huguenot numbers peaked near two million.", "Huguenot.txt")
        'Huguenot'
    """
    for line in text[:4096].splitlines():
        if line.strip():
            return _MARKDOWN.sub("", line.strip()) if is_heading(line) else readable_name(file_name)
    return readable_name(file_name)
