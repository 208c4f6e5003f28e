"""What counts as content: chrome rules, forum posts and authors, re-quotes indexed once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import CORPUS, FORUM

from rag.chunking import chunk_document
from rag.documents import load_folder
from rag.records import DocMeta, Document
from rag.segments import is_chrome, lines_of, normalise, segment

# Chrome from the corpus itself, and generic variants the corpus never shows: the rules generalise.
CORPUS_CHROME = [
    "Jump to content", "Logo Wide", "Link to comment", "Share on other sites", "  • Like 2",
    "800x800 (3).jpg", "Helpful keywords", "Recommended Posts", "rooster59", "  • 2 weeks later...",
    "-- © Copyright Reuters 2018-08-04", "Edited by My Thai Life", "×", "Create an account",
]  # fmt: skip
GENERIC_CHROME = [
    "Log in to reply", "photo_123.png", "IMG_2041.JPEG", "• Upvote 5", "Skip to main content",
    "Share this post", "Sign up for our newsletter", "Print this page", "Report post",
    "https://example.com/news/2024/item?id=7", "3 days later...", "© 2024 Example Media Group",
    "Read more: Ten things about ports", "Permalink", "12", "----", "Menu",
    "Subscribe to comments",
]  # fmt: skip
PROSE = [
    "Russia wrote to the U.S. general.",
    "The council approved the budget on Monday.",
    "Share prices fell 5 percent after the report, and the company said it would cut 300 jobs.",
    "I agree.",
    "Not One dollar for Syria.",
    "Members of parliament voted 310 to 200 in favour of the plan on Tuesday evening.",
    "Sign language interpreters will be provided at every public meeting this year.",
    "Rebuilding Syria will also be a massive effort, costing at least $250 billion",
]


@pytest.mark.parametrize("line", CORPUS_CHROME + GENERIC_CHROME)
def test_chrome_lines_are_recognised(line):
    assert is_chrome(line)


@pytest.mark.parametrize("line", PROSE)
def test_prose_lines_are_kept(line):
    assert not is_chrome(line)


def test_normalise_folds_nbsp_curly_quotes_case_and_spaces():
    assert normalise("Assad\u2019s\u00a0 \u201cwar\u201d\n") == 'assad\'s "war"'
    assert normalise("\u2018Tell\u2019  THAT") == "'tell' that"
    assert normalise("ﬁnal") == "final"  # NFKC ligature


def test_lines_of_trims_nbsp_and_keeps_exact_offsets():
    text = "  first line \r\n\u00a0\n\tsecond\u00a0\n"
    lines = lines_of(text)
    assert [(ln.start, ln.end, ln.text) for ln in lines] == [
        (2, 12, "first line"),
        (18, 24, "second"),
    ]
    assert all(text[ln.start : ln.end] == ln.text for ln in lines)


# --- a synthetic thread: every rule once, with known answers ---------------------------------
THREAD = """Jump to content
Council votes on the new park
town_news_42
The council voted on Tuesday to build a new park by the river. It will open next spring.
\u00a0
Link to comment
Share on other sites
I think the park is a great idea for families.
Edited by alice
\u2022 Like 3
Link to comment
Share on other sites
5 hours ago, alice said:
I think the park is a great idea for families.
Families already have three parks nearby.
Link to comment
Share on other sites
2 hours ago, carol said:
Parking will be a nightmare on match days.
I doubt it, the stadium has its own car park.
Edited by dave
Link to comment
Share on other sites
1 hour ago, bob said:
Families already have three parks nearby.
Not near the river though.
Link to comment
Share on other sites
Create an account or sign in to comment
You need to be a member in order to leave a comment
Create an account
Sign up for a new account in our community. It's easy!
Register a new account
Sign in
Already have an account? Sign in here.
Sign In Now
"""


def thread_doc(text: str = THREAD) -> Document:
    return Document(
        "thread.txt", Path("thread.txt"), text, DocMeta("Park", author="Town News"), "0"
    )


ARTICLE = "The council voted on Tuesday to build a new park by the river. It will open next spring."


def test_thread_is_split_into_attributed_posts_without_chrome_or_requotes():
    seg = segment(thread_doc())
    got = [(s.kind, s.author, THREAD[s.start : s.end]) for s in seg.segments]
    assert got == [
        ("article", "Town News", "Council votes on the new park"),
        ("article", "Town News", ARTICLE),
        ("post", "alice", "I think the park is a great idea for families."),  # "Edited by alice"
        ("post", "bob", "Families already have three parks nearby."),  # named by "bob said:"
        ("quote", "carol", "Parking will be a nightmare on match days."),  # original not on page
        ("post", "dave", "I doubt it, the stadium has its own car park."),
        ("post", None, "Not near the river though."),  # a page that never names its author
    ]
    assert (seg.posts, seg.requotes) == (5, 2)


def test_a_paged_file_with_comment_lines_is_no_thread():
    """A specification's "<comment>" lines look like a forum's separators; a PDF has no posts."""
    doc = replace(thread_doc(), pages=((0, len(THREAD) // 2), (len(THREAD) // 2, len(THREAD))))
    seg = segment(doc)
    assert seg.posts == 0 and {s.kind for s in seg.segments} == {"article"}
    assert {s.author for s in seg.segments} == {"Town News"}


def test_plain_article_is_one_segment_and_a_repeated_title_is_indexed_once():
    text = "Harbour news\n\nHarbour news\n\nThe harbour reopened on May 3. Ferries returned.\n"
    seg = segment(thread_doc(text))
    assert [(s.kind, s.author, text[s.start : s.end]) for s in seg.segments] == [
        ("article", "Town News", "Harbour news"),
        ("article", "Town News", "The harbour reopened on May 3. Ferries returned."),
    ]
    assert (seg.posts, seg.requotes) == (0, 1)


# --- the real corpus ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus_segments():
    return {d.doc_id: (d, segment(d)) for d in load_folder(CORPUS)}


def kept_text(doc, seg) -> list[str]:
    return [doc.text[s.start : s.end] for s in seg.segments]


@pytest.mark.parametrize(
    "chrome",
    ["Jump to content", "Logo Wide", "Link to comment", "Share on other sites", "Like 2",
     "800x800 (3).jpg", "Helpful keywords", "Recommended Posts", "reuters_logo.jpg", "Sign In Now"],
)  # fmt: skip
def test_no_segment_of_the_corpus_holds_chrome(corpus_segments, chrome):
    for doc, seg in corpus_segments.values():
        assert not any(chrome in t for t in kept_text(doc, seg)), (doc.doc_id, chrome)


def test_every_line_inside_a_segment_is_content(corpus_segments):
    for doc, seg in corpus_segments.values():
        for ln in lines_of(doc.text):
            if any(s.start <= ln.start and ln.end <= s.end for s in seg.segments):
                assert not is_chrome(ln.text), (doc.doc_id, ln.text)


def test_forum_posts_are_attributed(corpus_segments):
    doc, seg = corpus_segments[FORUM]
    article = seg.segments[0]
    assert (article.kind, article.author) == ("article", "Arshad Mohammed and Phil Stewart")
    assert all(s.author == article.author for s in seg.segments if s.kind == "article")
    posters = {s.author for s in seg.segments if s.kind == "post"}
    assert posters >= {
        "My Thai Life",
        "pegman",
        "Thaidream",
        "Jingthing",
        "bristolboy",
        "BestB",
        "Morch",
    }
    assert {(s.kind, s.author) for s in seg.segments if s.kind == "quote"} == {
        ("quote", "keith101")
    }
    assert seg.posts == 18


REQUOTED = {
    "Leave the M.E. to China": ("post", "pegman"),
    "Russia may have done more bombing than the west": ("post", "My Thai Life"),
    "Hell no Russia is the one bombing": ("quote", "keith101"),
    "Tell that to the residents of Raqqa": ("post", "bristolboy"),
}


@pytest.mark.parametrize("passage", REQUOTED)
def test_requoted_passage_is_indexed_once_under_its_first_writer(corpus_segments, passage):
    doc, seg = corpus_segments[FORUM]
    assert doc.text.count(passage) >= 2  # the page repeats it...
    holders = [s for s in seg.segments if passage in doc.text[s.start : s.end]]
    assert len(holders) == 1  # ...the index keeps it once
    assert (holders[0].kind, holders[0].author) == REQUOTED[passage]
    assert holders[0].start == doc.text.index(passage)  # at its first occurrence
    sentences = [
        sp
        for sp in {s for c in chunk_document(doc, seg.segments) for s in c.sentences}
        if passage in doc.text[sp.start : sp.end]
    ]
    assert len(sentences) == 1
