"""HTML to plain text, deterministically, so offsets into the result are reproducible.

Block elements become line breaks, ``script``/``style``/``head``/``nav``-like elements are
dropped, and entities are unescaped. The same input always yields the same text, so
``read_text(path)[start:end]`` is the quote for an HTML citation. The bytes are decoded as plain
text is (``rag.readers.text.decode``). Left out: CSS layout, tables as grids, ``<meta charset>``
(detection decides), and JavaScript-rendered content.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from rag.readers.base import Extracted, Reader
from rag.readers.text import decode

# Bump when the extracted text changes (and rag.index.PIPELINE_VERSION with it, since the index
# keys files by their raw bytes): cached texts (rag.text_cache) are filed under it.
VERSION = 1

_SKIP = {"script", "style", "head", "noscript", "template", "svg", "nav", "footer", "iframe"}
_BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
    "section", "article", "header", "blockquote", "pre", "dt", "dd", "dl", "hr", "title",
    "figcaption", "main", "aside",
}  # fmt: skip


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Extract readable text from an HTML page.

    Example:
        >>> html_to_text("<p>Hello <b>world</b></p><script>x=1</script><p>Bye</p>")
        'Hello world\\n\\nBye'
    """
    parser = _Extractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    # Collapse runs of spaces inside lines and of blank lines, so layout whitespace is not content.
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def read(data: bytes) -> Extracted:
    """The page's extracted text, with the encoding its bytes were decoded from."""
    text, encoding = decode(data)
    return Extracted(html_to_text(text), encoding=encoding)


READER = Reader("html", (".html", ".htm"), read, version=VERSION)
