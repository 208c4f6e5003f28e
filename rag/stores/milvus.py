"""The Milvus back end: passages, their vectors and BM25 in one engine, shared by app servers.

``RAG_STORE=milvus://host:19530/name`` keeps three collections on the server:
- ``name_chunks``: one row per passage with its dense vector, its search terms (BM25 through
  Milvus's built-in BM25 function, so hybrid search needs one engine) and what a citation needs
  (document id, title, path, offsets, pages, author, publisher, kind, text);
- ``name_sentences``: one row per sentence with its vector and offsets;
- ``name_files``: one row per file with its SHA-256, the model and pipeline version, and the
  index folder that put it there.

On open the store is brought level with the index: a file whose hash changed has its rows
replaced, a file this index folder put there and no longer has is removed, another folder's
files stay. Rows are keyed by ``passage_key`` and written by upsert, so two writers never
duplicate a passage. The lexical terms are ``rag.lexical.tokenize``'s (stemmed, stop words
dropped) joined by spaces, so BM25 here sees the tokens bm25s sees in-process; k1 and b are
bm25s's. Dense search is exact (FLAT) below ``Settings.exact_below`` passages at creation,
HNSW from there on, as in-process.

Left out: answering from passages only the store holds (another server's files are found by
search, with exact offsets, and quoted once this server indexes them); a store's rows are not
re-checked against the files' text.

Example:
    >>> store = MilvusStore.connect("milvus://127.0.0.1:19530/docs", index, settings, root)
    ... # doctest: +SKIP
    >>> store.dense(vector, 5).ids  # doctest: +SKIP
    (12, 3, 40, 7, 8)
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from rag.documents import CorpusError
from rag.index_records import Index
from rag.lexical import tokenize
from rag.readers.pages import page_of
from rag.records import Hit
from rag.settings import Settings
from rag.stores.base import Ranking, foreign_id, passage_key

log = logging.getLogger(__name__)

CONNECT_S = 10.0  # how long to wait for the server before saying it cannot be reached
BATCH = 1_000  # rows per upsert: well under gRPC's 64 MB message limit at 384 dims
_TEXT = 65_535  # Milvus's longest VARCHAR; a chunk is ~900 characters
_NAME = 4_096
_CITE = ["doc_id", "title", "path", "span_start", "span_end", "text", "author", "publisher",
         "kind", "page", "page_end"]  # fmt: skip
_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


class StoreError(CorpusError):
    """The Milvus server cannot be reached or refused an operation."""


@dataclass(frozen=True)
class Address:
    """Where a Milvus store lives.

    Example:
        >>> Address.parse("milvus://127.0.0.1:19530/docs")
        Address(uri='http://127.0.0.1:19530', collection='docs')
        >>> Address.parse("milvus://db:19530").collection
        'rag'
    """

    uri: str
    collection: str

    @classmethod
    def parse(cls, url: str) -> Address:
        parts = urlparse(url)
        if parts.scheme != "milvus" or not parts.hostname:
            raise ValueError(f"not a Milvus store URL: {url!r} (milvus://host:port/collection)")
        name = parts.path.strip("/") or "rag"
        if not name.replace("_", "").isalnum() or not name[0].isalpha():
            raise ValueError(f"collection name {name!r}: letters, digits and _, a letter first")
        return cls(f"http://{parts.hostname}:{parts.port or 19530}", name)


def _equals(field: str, value: str) -> str:
    r"""A filter expression; the value is a quoted, escaped literal, never spliced in raw.

    Example:
        >>> print(_equals("doc_id", 'a "b".txt'))
        doc_id == "a \"b\".txt"
    """
    return f"{field} == {json.dumps(value, ensure_ascii=False)}"


def _client(uri: str):
    from pymilvus import MilvusClient

    with _clients_lock:  # one connection per server and process: refreshes reuse it
        if uri not in _clients:
            # pymilvus pings every 10 s even while idle; servers that allow fewer pings (gRPC's
            # default: one per 5 minutes without calls) answer GOAWAY "too_many_pings" and the
            # channel stalls. Ping only during calls, and rarely.
            keepalive = {"grpc.keepalive_time_ms": 300_000,
                         "grpc.keepalive_permit_without_calls": False}  # fmt: skip
            _clients[uri] = MilvusClient(uri=uri, timeout=CONNECT_S, grpc_options=keepalive)
        return _clients[uri]


class MilvusStore:
    """Dense, sentence and BM25 search in a Milvus collection, ids mapped to one index's."""

    kind = "milvus"

    def __init__(self, client, address: Address, index: Index, settings: Settings) -> None:
        self.client = client
        self.address = address
        self.index = index
        self.settings = settings
        name = address.collection
        self.chunks_name, self.sentences_name, self.files_name = (
            f"{name}_chunks", f"{name}_sentences", f"{name}_files",
        )  # fmt: skip
        self._chunk_ids = {passage_key(c.doc_id, c.start, c.end): c.chunk_id for c in index.chunks}
        self._sentence_ids = {
            passage_key(d, s.start, s.end): i for i, (d, s) in enumerate(index.sentences)
        }

    @classmethod
    def connect(
        cls, url: str, index: Index, settings: Settings, origin: Path | None = None
    ) -> MilvusStore:
        """The store at ``url``, created if missing and brought level with ``index``.

        Raises:
            StoreError: the server cannot be reached.
        """
        address = Address.parse(url)
        try:
            store = cls(_client(address.uri), address, index, settings)
            store.sync(str(Path(origin).resolve()) if origin else "")
        except (ValueError, CorpusError):
            raise
        except Exception as err:  # noqa: BLE001 - grpc and pymilvus raise many kinds
            raise StoreError(f"the Milvus store at {url} failed: {err}") from err
        return store

    # -- keeping the store level with the index ------------------------------------------

    def sync(self, origin: str) -> dict[str, int]:
        """Replace changed files' rows, drop files ``origin`` no longer has; counts of each."""
        from rag.index import PIPELINE_VERSION

        dim = int(self.index.chunk_vectors.shape[1])
        self._create(dim)
        fields = ["doc_id", "sha256", "model", "version", "origin"]
        stored = {r["doc_id"]: r for r in self._all(self.files_name, fields, 'doc_id != ""')}
        built_with = (self.settings.model, PIPELINE_VERSION)
        if any((r["model"], r["version"]) != built_with for r in stored.values()):
            log.warning("Milvus store %s holds another model or pipeline version; rebuilding it",
                        self.address.collection)  # fmt: skip
            self.drop()
            self._create(dim)
            stored = {}
        docs = self.index.documents
        local = {d.doc_id for d in docs}
        changed = [d for d in docs if stored.get(d.doc_id, {}).get("sha256") != d.sha256]
        gone = [k for k, r in stored.items() if r["origin"] == origin and k not in local]
        # Only files the store holds have rows to delete: one call per collection and batch.
        stale = [d.doc_id for d in changed if d.doc_id in stored] + gone
        for at in range(0, len(stale), BATCH):
            where = f"doc_id in {json.dumps(stale[at : at + BATCH], ensure_ascii=False)}"
            for name in (self.chunks_name, self.sentences_name, self.files_name):
                self.client.delete(name, filter=where)
        if changed:
            ids = {d.doc_id for d in changed}
            self._upsert(self.chunks_name, self._chunk_rows(ids))
            self._upsert(self.sentences_name, self._sentence_rows(ids))
            self._upsert(self.files_name, (
                {"doc_id": d.doc_id, "sha256": d.sha256, "model": self.settings.model,
                 "version": PIPELINE_VERSION, "origin": origin, "none": [0.0, 0.0]}
                for d in changed
            ))  # fmt: skip
        if changed or gone:
            log.info("Milvus store %s: %d files written, %d removed", self.address.collection,
                     len(changed), len(gone))  # fmt: skip
        return {"written": len(changed), "removed": len(gone)}

    def _chunk_rows(self, wanted: set[str]) -> Iterable[dict]:
        by_id = self.index.by_id
        for c in self.index.chunks:
            if c.doc_id not in wanted:
                continue
            doc = by_id[c.doc_id]
            page, page_end = page_of(doc.pages, c.start, c.end)
            yield {
                "pk": passage_key(c.doc_id, c.start, c.end),
                "doc_id": c.doc_id,
                "title": doc.meta.title[:_NAME],
                "path": str(doc.path)[:_NAME],
                "span_start": c.start,
                "span_end": c.end,
                "text": c.text,
                "terms": " ".join(tokenize(c.text)) or "_",
                "author": c.author or "",
                "publisher": doc.meta.publisher or "",
                "kind": c.kind,
                "page": page or 0,
                "page_end": page_end or 0,
                "dense": self.index.chunk_vectors[c.chunk_id].tolist(),
            }

    def _sentence_rows(self, wanted: set[str]) -> Iterable[dict]:
        for i, (doc_id, span) in enumerate(self.index.sentences):
            if doc_id in wanted:
                yield {
                    "pk": passage_key(doc_id, span.start, span.end),
                    "doc_id": doc_id,
                    "span_start": span.start,
                    "span_end": span.end,
                    "dense": self.index.sentence_vectors[i].tolist(),
                }

    def _upsert(self, name: str, rows: Iterable[dict]) -> None:
        batch: list[dict] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                self.client.upsert(name, batch)
                batch = []
        if batch:
            self.client.upsert(name, batch)
        # Sealed segments are indexed; rows left in a growing one are scanned on every search.
        self.client.flush(name)

    def _all(self, name: str, fields: list[str], where: str) -> list[dict]:
        # milvus-lite gives no MVCC timestamp and pymilvus warns on every iterator; the read is
        # a strong-consistency one either way.
        logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
        it = self.client.query_iterator(name, batch_size=1_000, filter=where, output_fields=fields)
        out: list[dict] = []
        while page := it.next():
            out += page
        it.close()
        return out

    def _create(self, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType

        c = self.client
        if not c.has_collection(self.chunks_name):
            s = c.create_schema(auto_id=False)
            s.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=32)
            for name in ("doc_id", "title", "path", "author", "publisher"):
                s.add_field(name, DataType.VARCHAR, max_length=_NAME)
            s.add_field("kind", DataType.VARCHAR, max_length=64)
            for name in ("span_start", "span_end", "page", "page_end"):
                s.add_field(name, DataType.INT64)
            s.add_field("text", DataType.VARCHAR, max_length=_TEXT)
            # Already tokenized and stemmed: the standard analyzer only splits on the spaces.
            s.add_field("terms", DataType.VARCHAR, max_length=_TEXT, enable_analyzer=True)
            s.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
            s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            bm25 = Function(name="bm25", function_type=FunctionType.BM25,
                            input_field_names=["terms"], output_field_names=["sparse"])  # fmt: skip
            s.add_function(bm25)
            p = c.prepare_index_params()
            self._dense_index(p, len(self.index.chunks))
            p.add_index(
                "sparse",
                index_type="SPARSE_INVERTED_INDEX",
                metric_type="BM25",
                params={"bm25_k1": 1.5, "bm25_b": 0.75},
            )  # bm25s's defaults
            c.create_collection(self.chunks_name, schema=s, index_params=p,
                                consistency_level="Strong")  # fmt: skip
        if not c.has_collection(self.sentences_name):
            s = c.create_schema(auto_id=False)
            s.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=32)
            s.add_field("doc_id", DataType.VARCHAR, max_length=_NAME)
            s.add_field("span_start", DataType.INT64)
            s.add_field("span_end", DataType.INT64)
            s.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
            p = c.prepare_index_params()
            self._dense_index(p, len(self.index.sentences))
            c.create_collection(self.sentences_name, schema=s, index_params=p,
                                consistency_level="Strong")  # fmt: skip
        if not c.has_collection(self.files_name):
            s = c.create_schema(auto_id=False)
            s.add_field("doc_id", DataType.VARCHAR, is_primary=True, max_length=_NAME)
            for name in ("sha256", "model", "origin"):
                s.add_field(name, DataType.VARCHAR, max_length=_NAME)
            s.add_field("version", DataType.INT64)
            s.add_field("none", DataType.FLOAT_VECTOR, dim=2)  # a collection needs a vector
            p = c.prepare_index_params()
            p.add_index("none", index_type="FLAT", metric_type="L2")
            c.create_collection(self.files_name, schema=s, index_params=p,
                                consistency_level="Strong")  # fmt: skip

    def _dense_index(self, params, size: int) -> None:
        s = self.settings
        if size < s.exact_below:
            params.add_index("dense", index_type="FLAT", metric_type="IP")
        else:
            graph = {"M": s.hnsw_m, "efConstruction": s.hnsw_ef_construction}
            params.add_index("dense", index_type="HNSW", metric_type="IP", params=graph)

    def drop(self) -> None:
        """Remove the store's collections from the server."""
        for name in (self.chunks_name, self.sentences_name, self.files_name):
            if self.client.has_collection(name):
                self.client.drop_collection(name)

    def count(self, doc_id: str | None = None) -> int:
        """Passages in the store (of one file)."""
        where = _equals("doc_id", doc_id) if doc_id is not None else 'pk != ""'
        rows = self.client.query(self.chunks_name, filter=where, output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    # -- search ---------------------------------------------------------------------------

    def dense(self, vector: np.ndarray, n: int) -> Ranking:
        return self._search(self.chunks_name, vector.tolist(), "dense", "IP", n, self._chunk_ids)

    def sentences(self, vector: np.ndarray, n: int) -> Ranking:
        got = self._search(self.sentences_name, vector.tolist(), "dense", "IP", n,
                           self._sentence_ids, cite=False)  # fmt: skip
        return Ranking(tuple(i for i in got.ids if i >= 0))  # another index's sentence: no chunk

    def lexical(self, tokens: Sequence[str], n: int) -> Ranking:
        query = " ".join(t for t in tokens if t.strip())
        if not query:
            return Ranking(())
        return self._search(self.chunks_name, query, "sparse", "BM25", n, self._chunk_ids)

    def _search(self, name, data, field, metric, n, ids, cite=True) -> Ranking:
        params = {"metric_type": metric}
        if field == "dense":
            params["params"] = {"ef": max(self.settings.hnsw_ef_search, n)}
        res = self.client.search(name, data=[data], anns_field=field, limit=n,
                                 output_fields=["pk"], search_params=params)  # fmt: skip
        keys = [r["pk"] for r in res[0]]
        out = [ids.get(k, foreign_id(k)) for k in keys]
        foreign = [k for k in keys if k not in ids]
        return Ranking(tuple(out), self._foreign_hits(foreign) if cite and foreign else {})

    def _foreign_hits(self, keys: list[str]) -> dict[int, Hit]:
        rows = self.client.get(self.chunks_name, ids=keys, output_fields=_CITE)
        return {
            foreign_id(r["pk"]): Hit(
                chunk_id=foreign_id(r["pk"]),
                doc_id=r["doc_id"],
                title=r["title"],
                path=r["path"],
                start=int(r["span_start"]),
                end=int(r["span_end"]),
                text=r["text"],
                score=0.0,
                author=r["author"] or None,
                publisher=r["publisher"] or None,
                kind=r["kind"],
                page=r["page"] or None,
                page_end=r["page_end"] or None,
            )  # fmt: skip
            for r in rows
        }

    def close(self) -> None:
        pass  # the connection is shared by the process's stores (see ``_client``)
