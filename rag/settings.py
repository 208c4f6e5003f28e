"""One frozen dataclass of settings; the environment is read in ``Settings.from_env`` only."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def default_index_root() -> Path:
    """Where indexes live: ``$RAG_INDEX_DIR``, else ``.rag_index`` in the working folder."""
    return Path(os.environ.get("RAG_INDEX_DIR", ".rag_index"))


@dataclass(frozen=True)
class Settings:
    """Every tunable of the pipeline, with its default.

    Example:
        >>> Settings().k
        5
        >>> Settings(k=8).with_(abstain_threshold=0.5).k
        8
    """

    # Embedding: the bundled model by default; any sentence-transformers name or path works.
    model: str = DEFAULT_MODEL
    # "torch" (sentence-transformers) or "onnx" (exported once into the index folder, no torch).
    backend: str = "auto"
    batch_size: int = 32
    # Characters per encoder call while indexing (at least one text a call); each call's vectors
    # are saved to the vector cache before the next, so a killed build loses at most one call
    # (~50k characters: a few seconds on 2 cores), and a progress bar moves per call.
    encode_step: int = 50_000
    # Processes that parse, segment and chunk files (0: one per core, at most 8); corpora under
    # ~2 MB of text stay in one process. The index is the same for any number.
    workers: int = 0
    # Chunking (characters): ~900-char chunks keep a paragraph or two together.
    chunk_size: int = 900
    chunk_overlap: int = 150
    # Encode each chunk, or average its sentence vectors: ~half the encoder work, but on the eval
    # set hit@1 0.675 -> 0.623, MRR 0.799 -> 0.766, hit@5 0.987 -> 0.974 (answers unchanged).
    embed_chunks: bool = True
    # Late chunking: a sentence's vector is pooled from its chunk's forward pass (every token
    # through the encoder once: about half the encoder's work) instead of encoding the sentence
    # again on its own. Off by default: measured on the eval suites (bench/RESULTS.md) it gains
    # on the PDF manuals (key facts +15 points) but loses on the Syria news (hit@5 -3.9, key
    # facts -2.6, false refusals +3.9 points) and on wiki hit@1 (-1.1).
    late_chunking: bool = False
    # Retrieval.
    k: int = 5
    candidates: int = 30  # how many hits each ranker contributes to the fusion
    rrf_k: int = 60  # reciprocal rank fusion constant: 1 / (rrf_k + rank)
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    # Chunks ranked by their best sentence join the fusion with this weight (0 = off).
    sentence_weight: float = 0.5
    # A question naming a source ("according to Reuters") or asking about the comments searches
    # that source's passages first.
    scope_sources: bool = True
    # Exact FAISS search below this many vectors, HNSW from there on. HNSW's degree (M) and
    # build breadth (efConstruction) take effect when the FAISS index is built, i.e. on any
    # corpus change; its search breadth (efSearch) on every load. With these, recall@10 against
    # exact search was 0.96 on 1M synthetic vectors (`make bench`, bench/RESULTS.md; 0.95 at
    # efSearch 256). efConstruction costs build time (~9 min at 1M on 2 cores; 2.5 at 64),
    # efSearch query time (~1.5 ms at 1M).
    exact_below: int = 200_000
    hnsw_m: int = 32
    hnsw_ef_construction: int = 200
    hnsw_ef_search: int = 384
    # Where passages are searched: "" for this process (FAISS + bm25s), or a shared Milvus
    # server, "milvus://host:19530/collection" (the `milvus` extra; docs/milvus.md).
    store: str = ""
    # Answering: `rag eval --calibrate` sweeps the threshold (see eval/README.md).
    abstain_threshold: float = 0.5  # on the abstention model's probability (rag/scoring)
    # The ranker's and abstention model's weights: "" for the shipped rag/scoring/weights.json,
    # else a file of the same shape (`python -m rag.scoring.fit --out F`, then RAG_SCORER=F).
    scorer: str = ""
    max_quotes: int = 3
    max_question_chars: int = 2_000
    # Conversation: how many past turns a follow-up may draw on.
    history_turns: int = 6
    # The web UI gives up on an answer after this many seconds (0: never) and says so.
    request_timeout_s: float = 30.0
    # The web UI's "Add documents": on or off (RAG_UPLOADS=0), and how much one upload may bring.
    uploads: bool = True
    upload_max_bytes: int = 50_000_000
    upload_max_files: int = 20

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Settings from ``RAG_<FIELD>`` environment variables, e.g. ``RAG_K=8``.

        Example:
            >>> Settings.from_env({"RAG_K": "8"}).k
            8
        """
        env = os.environ if environ is None else environ
        changes: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"RAG_{f.name.upper()}")
            if raw is None:
                continue
            default = f.default
            if isinstance(default, bool):
                changes[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            else:
                changes[f.name] = type(default)(raw)
        return cls(**changes)
