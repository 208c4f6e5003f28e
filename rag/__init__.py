"""Answers from a document corpus in verbatim, verifiable quotes.

Example:
    >>> from rag import Assistant                          # doctest: +SKIP
    >>> assistant = Assistant.from_directory("corpus")     # doctest: +SKIP
    >>> answer = assistant.ask("Who sent the letter to Dunford?")  # doctest: +SKIP
    >>> answer.citations[0].quote                          # doctest: +SKIP

The public API is declared here once. Heavy parts (torch, faiss) load only when first used, so
``import rag`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__all__ = [
    "Answer",
    "Assistant",
    "Chat",
    "Citation",
    "Document",
    "Hit",
    "InputError",
    "LiveAssistant",
    "Settings",
    "Turn",
    "CorpusError",
    "evaluate",
    "load_dataset",
]

# name -> module that defines it; resolved on first attribute access.
_WHERE = {
    "Answer": "rag.records",
    "Citation": "rag.records",
    "Document": "rag.records",
    "Hit": "rag.records",
    "InputError": "rag.inputs",
    "LiveAssistant": "rag.live",
    "Settings": "rag.settings",
    "Turn": "rag.records",
    "CorpusError": "rag.documents",
    "Assistant": "rag.assistant",
    "Chat": "rag.conversation",
    "evaluate": "rag.evaluation",
    "load_dataset": "rag.dataset",
}

if TYPE_CHECKING:  # pragma: no cover
    from rag.assistant import Assistant
    from rag.conversation import Chat
    from rag.dataset import load_dataset
    from rag.documents import CorpusError
    from rag.evaluation import evaluate
    from rag.inputs import InputError
    from rag.live import LiveAssistant
    from rag.records import Answer, Citation, Document, Hit, Turn
    from rag.settings import Settings


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
