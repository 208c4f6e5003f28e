"""The assistant: a corpus folder in, answers in verbatim quotes out.

``Assistant.from_directory`` loads the index (or builds it); ``search`` returns hits;
``ask`` answers one question, optionally with history; ``chat`` keeps the history for you.
Model loading is lazy: a cached index opens without loading the encoder, which loads on the
first question.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.answering import Answerer
from rag.conversation import (
    Chat,
    context_terms,
    first_quote,
    needs_context,
    replay,
    rewrite,
)
from rag.documents import load_folder
from rag.embedding import Encoder, load_encoder
from rag.index import Index, open_index
from rag.inputs import EMPTY_NOTICE, clean_history, clean_question
from rag.parallel import worker_count
from rag.records import Answer, Document, Hit, Turn
from rag.retrieval import Retrieved, Retriever
from rag.settings import Settings, default_index_root
from rag.stores import PassageStore, open_store

log = logging.getLogger(__name__)


def default_index_dir(corpus: Path) -> Path:
    """One index folder per corpus folder, under the index root."""
    resolved = corpus.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:10]
    return default_index_root() / f"{resolved.name}-{digest}"


class Assistant:
    """Answers questions about one corpus.

    Example:
        >>> a = Assistant.from_directory("corpus")          # doctest: +SKIP
        >>> a.ask("Who sent the letter to Dunford?").text   # doctest: +SKIP
    """

    def __init__(
        self,
        index: Index,
        settings: Settings,
        index_dir: Path,
        encoder=None,
        corpus: Path | None = None,
        store: PassageStore | None = None,
    ) -> None:
        self.settings = settings
        self.index_dir = index_dir
        self.corpus = corpus  # the folder it was opened from, for ``refresh``
        self._index = index
        self._encoder: Encoder | None = encoder
        self._lock = threading.Lock()
        # The store Settings.store names, brought level with this index (rag.stores).
        self.store = store or open_store(index, settings, index_dir)
        self._retriever = Retriever(index, self._encode_query, settings, self.store)
        self._answerer = Answerer(index, settings, self._encode_batch)

    @classmethod
    def from_directory(
        cls,
        corpus: str | Path = "corpus",
        settings: Settings | None = None,
        index_dir: str | Path | None = None,
        progress: bool = False,
        *,
        verify: bool = False,
        rebuild: bool = True,
        wait: bool = True,
    ) -> Assistant:
        """Load or build the index for a folder of text, Markdown, HTML, PDF and Word files.

        Args:
            corpus: the documents' folder.
            settings: defaults to ``Settings.from_env()``.
            index_dir: where the index lives; defaults to ``$RAG_INDEX_DIR`` or ``.rag_index``.
            progress: one progress line per indexing stage (on a terminal only).
            verify: hash every file of the index, not only those whose size or mtime moved.
            rebuild: False raises ``IndexDamaged`` (a ``CorpusError``) for a damaged index
                instead of rebuilding it.
            wait: False raises ``IndexBusy`` (a ``CorpusError``) when another process is
                building this index, instead of waiting for it.

        Raises:
            CorpusError: the folder is missing or holds no readable document; the index
                folder cannot be written (``IndexWriteError``), is busy or damaged (above).
        """
        settings = settings or Settings.from_env()
        corpus = Path(corpus)
        root = Path(index_dir) if index_dir else default_index_dir(corpus)
        workers = worker_count(settings.workers)
        docs = load_folder(corpus, root / "text-cache", workers)  # parsed once per content
        made: list[Encoder] = []

        def factory() -> Encoder:
            made.append(load_encoder(settings, root))
            return made[-1]

        index = open_index(
            root, docs, settings, factory, progress, verify=verify, rebuild=rebuild, wait=wait
        )
        return cls(index, settings, root, made[0] if made else None, corpus)

    def refresh(self, progress: bool = False) -> Assistant:
        """A new assistant over the corpus folder as it is now; this one is left as it was.

        Unchanged files keep their vectors and parsed text, so only added or changed files are
        embedded (none at all: ~10 ms for the shipped corpus), and the loaded model is shared.

        Raises:
            CorpusError: the folder is gone or holds no readable document any more.
        """
        if self.corpus is None:
            raise ValueError("this assistant was not opened from a folder")
        workers = worker_count(self.settings.workers)
        docs = load_folder(self.corpus, self.index_dir / "text-cache", workers)
        index = open_index(self.index_dir, docs, self.settings, lambda: self.encoder, progress)
        return Assistant(index, self.settings, self.index_dir, self._encoder, self.corpus)

    @property
    def documents(self) -> tuple[Document, ...]:
        return self._index.documents

    @property
    def stats(self) -> dict[str, object]:
        """Counts from the last build (chunks, sentences, posts, chrome lines, re-quotes), from
        this open (vectors computed, vectors taken from the vector cache, the encoder's inputs
        and their characters), and ``warnings``: the problems met reading the corpus, one
        ``"doc_id: what"`` line each (e.g. ``"scan.pdf: pages 3–9 have no text layer"``)."""
        m = self._index.manifest
        return {
            "documents": len(self._index.documents),
            "chunks": m.chunks,
            "sentences": m.sentences,
            "posts": m.posts,
            "chrome_lines": m.chrome_lines,
            "requotes": m.requotes,
            "embedded_this_load": self._index.embedded,
            "warnings": tuple(f"{d.doc_id}: {w}" for d in self.documents for w in d.warnings),
            "from_vector_cache": self._index.from_cache,
            "encoded_texts": self._index.encoded_texts,
            "encoded_chars": self._index.encoded_chars,
        }

    def document(self, doc_id: str) -> Document:
        """A corpus document by id (its file name); KeyError if unknown."""
        return self._index.by_id[doc_id]

    @property
    def encoder(self) -> Encoder:
        with self._lock:
            if self._encoder is None:
                self._encoder = load_encoder(self.settings, self.index_dir)
            return self._encoder

    def _encode_query(self, text: str) -> np.ndarray:
        return self._encode_batch([text])[0]

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encoder = self.encoder
        with self._lock:  # one encode at a time: torch and onnxruntime share the two cores
            return encoder.encode(texts)

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        """The ``k`` best passages for ``query``, best first (hybrid dense + BM25).

        Raises:
            InputError: ``query`` is not a string.
        """
        query = clean_question(query, self.settings.max_question_chars).text
        if not query:
            return []
        k = k or self.settings.k
        return list(self._retrieve(query, k, keep=k).hits)

    def ask(
        self,
        question: str,
        history: Sequence[Turn | str] | None = None,
        k: int | None = None,
        abstain_threshold: float | None = None,
    ) -> Answer:
        """Answer one question in verbatim quotes, or abstain.

        Args:
            question: what the user typed.
            history: earlier turns, oldest first, for follow-ups; the stateless form of
                ``chat()``. ``Turn`` records are used as they are; an earlier question given as
                a string is asked again (the last ``Settings.history_turns`` of them) so its
                answer is context, as in a chat.
            k: how many passages to show as hits (answering always looks at enough).
            abstain_threshold: overrides ``Settings.abstain_threshold`` (higher = stricter).

        Returns:
            An ``Answer`` whose every citation satisfies ``read(path)[start:end] == quote``.
            A question with no letter or digit gets ``EMPTY_NOTICE`` and no search.

        Raises:
            InputError: ``question`` is not a string (or None), or ``history`` is not a list
                of strings and ``Turn`` records (see ``rag.inputs``).
        """
        started = time.perf_counter()
        cleaned = clean_question(question, self.settings.max_question_chars)
        history = clean_history(history)
        text, notice = cleaned.text, cleaned.notice
        if not text:
            return Answer(EMPTY_NOTICE, (), True, "", cleaned.shown, notice=EMPTY_NOTICE)
        turns = replay(self.ask, history, self.settings.history_turns)
        followup = rewrite(text, turns)
        query = followup.query
        # Only the previous answer's first quote steps back: the others may be what "else" wants.
        previous = first_quote(turns[-1].answer_text) if turns else ""
        said = previous if query != text else ""
        # Answering weighs the question with its pronoun resolved ("How old is Hatami?"); the
        # antecedent is context, not a word the answer must repeat.
        answer = self._answer(followup.asked, query, k, abstain_threshold, said, followup.given)
        if answer.abstained and turns and query == text and not needs_context(text):
            # A weak first retrieval may still be a follow-up: try once with the context.
            retry_query = f"{text} ({' '.join(context_terms(turns[-1]))})"
            retry = self._answer(text, retry_query, k, abstain_threshold, previous)
            if not retry.abstained:
                answer = retry
        timings = {"total_ms": (time.perf_counter() - started) * 1000}
        return Answer(
            answer.text,
            answer.citations,
            answer.abstained,
            answer.query,
            text,
            answer.related,
            notice,
            answer.confidence,
            timings,
        )

    def _answer(
        self,
        text: str,
        query: str,
        k: int | None,
        threshold: float | None,
        said: str = "",
        given: str = "",
    ) -> Answer:
        retrieved = self._retrieve(query, k)
        return self._answerer.answer(text, query, retrieved, threshold, said, given)

    def _retrieve(self, query: str, k: int | None, keep: int | None = None) -> Retrieved:
        # The query's profile gives BM25 its content terms and the scope of a named source.
        return self._retriever.retrieve(query, k, self._answerer.profile(query), keep)

    def chat(self) -> Chat:
        """A conversation that remembers its turns (bounded by ``Settings.history_turns``)."""
        return Chat(self.ask, self.settings.history_turns)
