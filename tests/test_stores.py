"""The store interface: the in-process store and Milvus (a real milvus-lite gRPC server) give the
same rankings and answers; a shared store is kept level with each index and serves several
processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BRIDGE, assert_citations_verify, read, write_tiny
from test_answering import QUESTIONS as ANSWERED

from rag import Assistant, Settings
from rag.stores import LocalStore, passage_key, scoped
from rag.stores.lite import MilvusServer, free_port
from rag.stores.milvus import Address, StoreError

pytestmark = pytest.mark.slow

QUESTIONS = [*ANSWERED, "What is the capital of Australia?"]  # six answered, one not
ROOT = Path(__file__).parent.parent
FERRY = "The night ferry to Kestrel Island carries 40 cars.\n"


@pytest.fixture(scope="module")
def milvus(tmp_path_factory):
    with MilvusServer(tmp_path_factory.mktemp("milvus")) as url:
        yield url


@pytest.fixture(scope="module")
def on_milvus(assistant, milvus):
    """The session's index over corpus/, searched in Milvus instead of in-process."""
    settings = Settings(store=f"{milvus}/syria")
    return Assistant(assistant._index, settings, assistant.index_dir, assistant.encoder)


def test_milvus_rankings_equal_the_local_store(assistant, on_milvus):
    local, remote = LocalStore(assistant._index), on_milvus.store
    assert remote.kind == "milvus" and remote.count() == len(assistant._index.chunks)
    for q in QUESTIONS:
        vector = assistant._encode_query(q)
        terms = assistant._answerer.profile(q).terms
        assert remote.dense(vector, 20).ids == local.dense(vector, 20).ids, q
        assert remote.sentences(vector, 30).ids == local.sentences(vector, 30).ids, q
        assert remote.lexical(terms, 20).ids == local.lexical(terms, 20).ids, q


def test_answers_are_the_same_on_both_back_ends_and_verbatim(assistant, on_milvus):
    for q in QUESTIONS:
        here, there = assistant.ask(q), on_milvus.ask(q)
        assert (there.text, there.abstained) == (here.text, here.abstained), q
        assert [(c.doc_id, c.start, c.end) for c in there.citations] == [
            (c.doc_id, c.start, c.end) for c in here.citations
        ]
        assert_citations_verify(there)
    assert on_milvus.ask("What is the capital of Australia?").abstained


def test_a_changed_file_replaces_its_passages_and_a_removed_one_leaves(
    tmp_path, milvus, fake_encoder
):
    corpus = write_tiny(tmp_path / "c")
    settings = Settings(store=f"{milvus}/changes")
    a = Assistant.from_directory(corpus, settings=settings, index_dir=tmp_path / "idx")
    before = a.store.count("bridge.txt")
    assert before == len(a._index.chunks_by_doc["bridge.txt"]) > 0
    (corpus / "bridge.txt").write_text(BRIDGE + "\n\nThe ferry resumed on Monday.\n", "utf-8")
    b = a.refresh()
    hit = b.search("When did the ferry resume?", k=1)[0]
    assert hit.chunk_id >= 0 and "ferry resumed" in hit.text
    assert b.store.count("bridge.txt") == len(b._index.chunks_by_doc["bridge.txt"])
    assert b.store.count() == len(b._index.chunks)  # the old version's rows are gone
    (corpus / "festival.txt").unlink()
    c = b.refresh()
    assert c.store.count("festival.txt") == 0 and c.store.count() == len(c._index.chunks)


def test_another_index_folders_files_stay_and_are_found_with_exact_offsets(
    tmp_path, milvus, fake_encoder
):
    settings = Settings(store=f"{milvus}/shared")
    one = write_tiny(tmp_path / "one")
    (one / "ferry.txt").write_text(FERRY, "utf-8")
    two = write_tiny(tmp_path / "two")
    first = Assistant.from_directory(one, settings=settings, index_dir=tmp_path / "i1")
    second = Assistant.from_directory(two, settings=settings, index_dir=tmp_path / "i2")
    assert second.store.count("ferry.txt") == first.store.count("ferry.txt") > 0  # not removed
    hit = second.search("How many cars does the Kestrel ferry carry?", k=3)[0]
    assert hit.doc_id == "ferry.txt" and hit.chunk_id < 0  # found in the store, not indexed here
    assert read(hit.path)[hit.start : hit.end] == hit.text
    assert not any(c.doc_id == "ferry.txt" for c in second.ask("Kestrel ferry cars?").citations)


# Run by a second process: open corpus argv[1] on store argv[2] with index folder argv[3], answer
# the questions in argv[4:] and print them as JSON.
CHILD = """
import json, sys
from rag import Assistant, Settings
a = Assistant.from_directory(sys.argv[1], settings=Settings(store=sys.argv[2]),
                             index_dir=sys.argv[3])
out = [{"text": x.text, "cites": [[c.doc_id, c.start, c.end] for c in x.citations]}
       for x in map(a.ask, sys.argv[4:])]
print(json.dumps(out))
"""


def _child(corpus: Path, store: str, index_dir: Path, questions: list[str]) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(corpus), store, str(index_dir), *questions],
        capture_output=True, text=True, timeout=300, cwd=ROOT, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_two_processes_on_one_store_answer_alike_and_see_each_others_files(
    tmp_path, milvus, real_encoder
):
    store = f"{milvus}/two_processes"
    corpus = write_tiny(tmp_path / "shared_corpus")
    asked = ["Why was the Tamar bridge closed?", "When is the festival?"]
    theirs = _child(corpus, store, tmp_path / "child_idx", asked)
    mine = Assistant.from_directory(corpus, settings=Settings(store=store),
                                    index_dir=tmp_path / "my_idx")  # fmt: skip
    ours = [{"text": x.text, "cites": [[c.doc_id, c.start, c.end] for c in x.citations]}
            for x in map(mine.ask, asked)]  # fmt: skip
    assert theirs == ours and ours[0]["cites"]
    # The other process indexes a new file; this one, not refreshed, finds it through the store.
    grown = write_tiny(tmp_path / "grown")
    (grown / "ferry.txt").write_text(FERRY, "utf-8")
    _child(grown, store, tmp_path / "grown_idx", [])
    hit = mine.search("How many cars does the Kestrel ferry carry?", k=3)[0]
    assert (hit.doc_id, hit.path) == ("ferry.txt", str(grown / "ferry.txt"))
    assert read(hit.path)[hit.start : hit.end] == hit.text


def test_an_unreachable_store_is_a_clear_error(tmp_path, fake_encoder, monkeypatch):
    monkeypatch.setattr("rag.stores.milvus.CONNECT_S", 2.0)
    url = f"milvus://127.0.0.1:{free_port()}/nowhere"
    with pytest.raises(StoreError, match="nowhere"):
        Assistant.from_directory(write_tiny(tmp_path / "c"), settings=Settings(store=url),
                                 index_dir=tmp_path / "idx")  # fmt: skip


def test_store_urls():
    assert Address.parse("milvus://h:1/docs") == Address("http://h:1", "docs")
    for bad in ("http://h:1/x", "milvus:///x", "milvus://h:1/bad-name", "milvus://h:1/9x"):
        with pytest.raises(ValueError):
            Address.parse(bad)
    assert scoped("milvus://h:1/d", "a") != scoped("milvus://h:1/d", "b")
    assert passage_key("a", 1, 2) != passage_key("a", 1, 3)
    with pytest.raises(ValueError, match="unknown store"):
        from rag.stores import open_store

        open_store(None, Settings(store="qdrant://x"))
