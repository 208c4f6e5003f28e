"""The ``rag`` command: a thin shell over the public API.

Each command parses its options, calls one library function and prints::

    rag index [DIR] [--json]          build or load the index, print its stats
              [--verify] [--no-rebuild] [--no-wait] [--verbose]
    rag search "query" [--k 5]        ranked passages with their spans
    rag ask "question" [--json]       an answer in verbatim quotes, with citations
    rag chat                          the same, in a conversation (/reset starts over)
    rag eval ...                      score the eval set (rag.cli_eval)

A ``CorpusError`` or ``InputError`` is one line on stderr and exit code 2. Input is read
tolerantly: an undecodable byte in argv or stdin becomes U+FFFD (via ``rag.inputs``), never a
traceback. Output is made safe for a terminal: the control characters a document may hold
(``\x1b[2J``, ``\x1b]0;title\x07``) are printed as visible ``\x1b`` escapes, never raw. Left out:
a ``serve`` command (run ``python app.py``) and any formatting beyond plain text and ``--json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

EXIT_INPUT = 2  # bad corpus or bad usage, as argparse does
EXCERPT = 240  # characters of a hit's text shown by `rag search`
PROMPT = "you> "
QUIT = {"exit", "quit", ":q"}
RESET = {"/reset", "/new"}
# C0 controls but tab and newline, DEL and C1: a terminal acts on them (clear, retitle, move).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# ---- printing -----------------------------------------------------------------------------


def to_json(record: object) -> str:
    """A dataclass (or a list of them) as indented JSON; paths become strings.

    Example:
        >>> to_json({"path": Path("a/b.txt")})
        '{\\n  "path": "a/b.txt"\\n}'
    """

    def plain(x: object) -> object:
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            return dataclasses.asdict(x)
        if isinstance(x, list | tuple):
            return [plain(i) for i in x]
        return x

    return json_printable(json.dumps(plain(record), indent=2, ensure_ascii=False, default=str))


def printable(text: str) -> str:
    """``text`` with each control character a terminal would act on shown as ``\\xNN``; a
    Windows line end is a line end, a lone carriage return (which overwrites the line) is shown.

    Example:
        >>> printable("a\\x1b[2Jb\\tc\\x07\\r\\nd\\re")
        'a\\\\x1b[2Jb\\tc\\\\x07\\nd\\\\x0de'
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\r\n", "\n"))


def json_printable(text: str) -> str:
    """JSON text with the controls ``json.dumps`` leaves raw (DEL, C1) escaped as ``\\uNNNN``,
    so the decoded value is unchanged.

    Example:
        >>> json_printable('"a\\x9bb"'), json.loads(json_printable('"a\\x9bb"')) == "a\\x9bb"
        ('"a\\\\u009bb"', True)
    """
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def emit(text: str, end: str = "\n") -> None:
    """Print ``text`` made safe for a terminal (see ``printable``)."""
    print(printable(text), end=end, flush=True)


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """One line of at most ``limit`` characters.

    Example:
        >>> excerpt("a  b\\n c", 10)
        'a b c'
    """
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def format_hit(rank: int, hit) -> str:
    """``1. 0.0328  001.txt [252:898]  Title — author`` and an indented excerpt.

    A hit in a paged document names its pages after the span: ``manual.pdf p. 12 [..]``.
    """
    who = f" — {hit.author}" if hit.author else ""
    where = f"{hit.doc_id} {hit.pages_label}".rstrip()
    head = f"{rank}. {hit.score:.4f}  {where} [{hit.start}:{hit.end}]  {hit.title}{who}"
    return head + "\n" + textwrap.indent(textwrap.fill(excerpt(hit.text), 96), "   ")


def format_source(c) -> str:
    """A citation's provenance: title, who said it, publisher, date, then the file, its pages
    (``p. 12`` or ``pp. 12–13`` in a paged document) and the span."""
    who = c.speaker if c.kind in ("post", "quote") else (c.author or c.speaker)
    parts = [c.title, who, c.publisher, c.date]
    seen: list[str] = []
    for p in parts:
        if p and p not in seen:
            seen.append(p)
    where = f"{c.doc_id} {c.pages_label}".rstrip()
    return f"[{c.n}] {' · '.join(seen)}\n    {where} [{c.start}:{c.end}]"


def format_answer(answer) -> str:
    """What `rag ask` and `rag chat` print for one answer."""
    lines: list[str] = []
    if answer.notice:
        lines.append(f"Notice: {answer.notice}")
    if answer.rewritten and answer.query:
        lines.append(f"Searched for: {answer.query}")
    if answer.abstained and answer.query:
        lines.append("[No answer]")  # the text says why; a marker scripts can grep
    if lines:
        lines.append("")
    lines.append(answer.text)
    if answer.citations:
        lines += ["", "Citations:"]
        lines += [format_source(c) for c in answer.citations]
    if answer.related:
        lines += ["", "Sources of the related passages:"]
        lines += [format_source(c) for c in answer.related]
    return "\n".join(lines)


def answer_json(answer) -> str:
    """``dataclasses.asdict`` of the answer, plus ``rewritten``."""
    data = dataclasses.asdict(answer)
    data["rewritten"] = answer.rewritten
    return json_printable(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# ---- commands -----------------------------------------------------------------------------


def _open(args: argparse.Namespace, progress: bool = False, **options: bool):
    from rag import Assistant

    return Assistant.from_directory(
        args.corpus, index_dir=_index_dir(args), progress=progress, **options
    )


def cmd_index(args: argparse.Namespace) -> int:
    if args.verbose:
        logging.getLogger("rag").setLevel(logging.INFO)
    assistant = _open(
        args,
        progress=not args.json,
        verify=args.verify,
        rebuild=not args.no_rebuild,
        wait=not args.no_wait,
    )
    s = assistant.stats
    if args.json:
        print(json.dumps({**s, "index_dir": str(assistant.index_dir)}, indent=2))
        return 0
    print(f"Index of {Path(args.corpus).resolve()}")
    print(f"  documents           {s['documents']}")
    print(f"  chunks              {s['chunks']}")
    print(f"  sentences           {s['sentences']}")
    print(f"  forum posts         {s['posts']}")
    print(f"  chrome lines drop.  {s['chrome_lines']}")
    print(f"  re-quotes skipped   {s['requotes']}")
    print(f"  embedded this load  {s['embedded_this_load']}")
    print(f"  from vector cache   {s['from_vector_cache']}")
    print(f"  encoder inputs      {s['encoded_texts']} ({s['encoded_chars']} characters)")
    print(f"  reading warnings    {len(s['warnings'])}")
    for warning in s["warnings"]:
        print(f"    {warning}")
    print(f"Index folder: {assistant.index_dir}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    hits = _open(args).search(args.query, k=args.k)
    if args.json:
        print(to_json(hits))
    elif not hits:
        print("No passages found.")
    else:
        emit("\n\n".join(format_hit(i, h) for i, h in enumerate(hits, 1)))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    answer = _open(args).ask(args.question, k=args.k)
    if args.json:
        print(answer_json(answer))
    else:
        emit(format_answer(answer))
    return 0


def cmd_chat(args: argparse.Namespace, read: Callable[[str], str] | None = None) -> int:
    read = read or input  # looked up per call, so a test can stand in for the terminal
    # A byte that is not UTF-8 becomes U+FFFD instead of a UnicodeDecodeError ending the chat.
    _tolerant(sys.stdin)
    chat = _open(args).chat()
    print("Ask about the documents. /reset starts a new conversation; exit or Ctrl-D quits.")
    while True:
        try:
            line = read(PROMPT).strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        except UnicodeDecodeError:  # a stream that cannot be reconfigured
            print("(that line could not be read as text; please type it again)")
            continue
        if line.lower() in QUIT:
            return 0
        if line.lower() in RESET:
            chat.reset()
            print("(new conversation)")
            continue
        if not line:
            continue
        emit(format_answer(chat.ask(line)), end="\n\n")


class _PrintableFormatter(logging.Formatter):
    """Log lines with control characters shown as escapes (see ``printable``)."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def _tolerant(stream: object) -> None:
    """Make a text stream replace what it cannot decode or encode, where it allows it."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="replace")
        except (ValueError, OSError):  # already read from, or detached: keep it as it is
            pass


def _index_dir(args: argparse.Namespace) -> str | None:
    return getattr(args, "index_dir", None) or args.global_index_dir


# ---- parser -------------------------------------------------------------------------------


def _corpus_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default="corpus", help="documents folder (default: corpus)")
    # Also accepted after the command; the global form is `rag --index-dir DIR <command>`.
    p.add_argument(
        "--index-dir", dest="index_dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )


def _add_eval(sub: argparse._SubParsersAction) -> None:
    """``rag eval`` comes from rag.cli_eval; if that cannot load, a stub says why."""
    try:
        from rag import cli_eval
    except Exception as err:  # noqa: BLE001 - absent or broken: every other command still works
        reason = f"{type(err).__name__}: {err}"
        stub = sub.add_parser("eval", help="score the eval set (unavailable)", add_help=False)
        stub.set_defaults(func=lambda _args: _unavailable(reason), any_arguments=True)
        return
    p = cli_eval.add_parser(sub)
    p.set_defaults(func=lambda args: _run_eval(cli_eval, args))


def _unavailable(reason: str) -> int:
    print(f"rag: eval is unavailable ({reason})", file=sys.stderr)
    return EXIT_INPUT


def _run_eval(cli_eval, args: argparse.Namespace) -> int:
    if getattr(args, "index_dir", None) is None:
        args.index_dir = args.global_index_dir
    return int(cli_eval.run(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Answers from a document corpus in verbatim, verifiable quotes."
    )
    parser.add_argument(
        "--index-dir",
        dest="global_index_dir",
        metavar="DIR",
        default=None,
        help="index folder (default: $RAG_INDEX_DIR or .rag_index, one sub-folder per corpus)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("index", help="build or load the index and print its stats")
    p.add_argument("corpus", nargs="?", default="corpus", help="documents folder (default: corpus)")
    p.add_argument(
        "--index-dir", dest="index_dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    p.add_argument("--json", action="store_true", help="print the stats as JSON, no progress")
    p.add_argument("--verify", action="store_true", help="hash every index file, not a sample")
    p.add_argument(
        "--no-rebuild", action="store_true", help="fail on a damaged index instead of rebuilding"
    )
    p.add_argument(
        "--no-wait", action="store_true", help="fail at once if another build is running"
    )
    p.add_argument(
        "--verbose", action="store_true", help="log each build step (encoder calls) on stderr"
    )
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="the passages that best match a query")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=5, help="how many hits (default: 5)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _corpus_option(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer one question in verbatim quotes")
    p.add_argument("question")
    p.add_argument("--k", type=int, default=None, help="passages to consider as hits")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _corpus_option(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation; follow-ups use earlier turns")
    _corpus_option(p)
    p.set_defaults(func=cmd_chat)

    _add_eval(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rag`` console script; returns the exit code."""
    # An answer or file name that the terminal's encoding lacks prints as "?", never a crash.
    _tolerant(sys.stdout)
    _tolerant(sys.stderr)
    # Warnings name files, and a file name may hold control characters too.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("%(levelname)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "any_arguments", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from rag import CorpusError, InputError

    try:
        return int(args.func(args) or 0)
    except (CorpusError, InputError) as err:
        print(printable(f"rag: error: {err}"), file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
