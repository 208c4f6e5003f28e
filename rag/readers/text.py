"""Plain text (``.txt``, ``.md``): the decoded bytes, never altered.

UTF-8 (with or without a BOM) and UTF-16 with a BOM are decoded directly. Anything else is
guessed with charset-normalizer: the least chaotic decoding wins, and among near ties the
Windows Western code page (cp1252, which also decodes Latin-1 prose) is preferred, since short
Western texts look equally plausible in several code pages. A guess that is still chaotic, or
that decodes to control characters (a binary file), is refused. UTF-16 without a BOM is taken
when its NUL bytes show it (``rag.sniff``). Left out: telling apart code pages that decode a
file to the same text (ISO 8859-15 reads as cp1252).
"""

from __future__ import annotations

from rag.readers.base import Extracted, Reader, ReadError
from rag.sniff import utf16_without_bom

PREFERRED = "cp1252"
SLACK = 0.2  # how much more chaos the preferred code page may show than the best guess
MAX_CHAOS = 0.3  # a best guess messier than this is not a decoding
MAX_CONTROL = 0.01  # share of control characters above which decoded bytes are binary


def decode(data: bytes) -> tuple[str, str]:
    """Bytes to ``(text, encoding)``; ReadError when no encoding decodes them with confidence.

    Example:
        >>> decode("caf\\u00e9".encode())
        ('café', 'utf-8')
        >>> decode("caf\\u00e9 \\u2013 na\\u00efve".encode("cp1252"))
        ('café – naïve', 'cp1252')
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16"), "utf-16"
    if utf16 := utf16_without_bom(data):  # NULs are valid UTF-8: look for UTF-16 first
        return _strict(data, utf16), utf16
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        reason = f"not UTF-8 ({err.reason} at byte {err.start})"
    import charset_normalizer  # only for the rare file that is not UTF-8

    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        raise ReadError(f"{reason}, and no encoding decodes it")
    best = min(matches, key=lambda m: m.chaos)
    for m in matches:
        near = m.chaos <= best.chaos + SLACK
        if near and (m.encoding == PREFERRED or PREFERRED in m.could_be_from_charset):
            best, name = m, PREFERRED
            break
    else:
        name = best.encoding
    if best.chaos > MAX_CHAOS:
        raise ReadError(f"{reason}, and the best guess ({name}) reads as garbage")
    text = str(best)
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\f")
    if controls > MAX_CONTROL * len(text):
        raise ReadError(f"{reason}, and it looks binary ({controls} control characters)")
    return text, name


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise ReadError(f"its BOM says {encoding}, but {err.reason} at byte {err.start}") from err


def read(data: bytes) -> Extracted:
    """The decoded file, with the encoding it was read in."""
    text, encoding = decode(data)
    return Extracted(text, encoding=encoding)


READER = Reader("text", (".txt", ".md"), read, cached=False)
