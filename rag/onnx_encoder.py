"""The sentence-transformers model run by onnxruntime: a fast cold start with no torch import.

``OnnxEncoder.load_or_export`` looks for an export under ``<cache_dir>/onnx/<model key>/``; when
missing or stale it exports the transformer once with ``torch.onnx.export``, checks the vectors
against sentence-transformers, and moves the folder into place atomically. Encoding needs only
onnxruntime, tokenizers and numpy.

Left out on purpose: quantisation (it would break the 0.9999 cosine match with torch), pooling
modes other than mean and CLS, and models that are not a plain Transformer + Pooling
(+ Normalize) stack. Those return ``None`` so the caller falls back to torch.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FORMAT = 2  # bump when the export layout or meta fields change: older exports become stale
OPSET = 17
META = "meta.json"
MIN_COSINE = 0.9999
# Mixed lengths in one batch exercise padding; the long one exercises truncation.
CHECK_SENTENCES = (
    "Who wrote to General Dunford?",
    "The proposal was sent in a July 19 letter.",
    "A",
    " ".join(["Retrieval augmented generation answers from quoted passages."] * 40),
)


class OnnxEncoder:
    """All-MiniLM-style encoder on onnxruntime: ``encode(texts) -> (n, dim)`` float32, L2-normed.

    Args:
        folder: an export folder holding ``model.onnx``, ``tokenizer.json`` and ``meta.json``.
        batch_size: at most this many texts per onnxruntime call. Each call's texts are sorted
            by token length, so a batch pads only to its own longest text.
        max_batch_tokens: at most this many (padded) tokens per onnxruntime call. Attention
            scores grow with batch x length^2: 32 chunks of 256 tokens need ~100 MB and run
            ~1.5x slower on 2 cores than a few chunks at a time that stay in cache.
        threads: cores to use. A call that fits one batch (a query) runs on a session with this
            many intra-op threads; a call of several batches runs ``threads`` batches at a time,
            each on one thread of a second, single-threaded session (made on first use, ~80 MB):
            no hand-offs between threads inside each operator, ~15% less CPU per text on 2 cores.
    """

    def __init__(
        self, folder: Path, batch_size: int = 32, max_batch_tokens: int = 512, threads: int = 2
    ) -> None:
        from tokenizers import Tokenizer

        meta = json.loads((folder / META).read_text())
        self.name: str = meta["model"]
        self.dim: int = int(meta["dim"])
        self.max_seq_length: int = int(meta["max_seq_length"])
        self.pooling: str = meta["pooling"]
        self.batch_size = max(1, batch_size)
        self.max_batch_tokens = max_batch_tokens
        self.threads = max(1, threads)
        self.calls = 0  # how many times encode() ran, like TorchEncoder
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json ships with padding to 128 and truncation at 128; sentence-transformers
        # truncates at max_seq_length instead and pads per batch, which we do by hand below.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.max_seq_length)
        self._model_path = str(folder / "model.onnx")
        self._session = self._new_session(self.threads)
        self._bulk_session = None  # single-threaded, for calls of several batches
        self._inputs = {i.name for i in self._session.get_inputs()}

    def _new_session(self, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle workers sleep instead of spinning: on 2 busy cores one query took 17-24 ms p50
        # with spinning and 9-15 ms without; on idle cores both take ~6 ms.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(self._model_path, options, providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; rows come back in input order.

        Example:
            >>> encoder.encode(["hello", "world"]).shape  # doctest: +SKIP
            (2, 384)
        """
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        if len(texts) == 1:  # a query: no sort, padding or mask; the same vector, ~0.3 ms sooner
            out[0] = self._run_one(texts[0])
        else:
            self._run_batches(self._tokenizer.encode_batch(list(texts)), out)
        return _normalised(out)

    def encode_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Late chunking (``rag.late_chunking``): each text's vector, and from the same forward
        pass one vector per span of it, the mean of the token states inside the span.

        Returns:
            (texts' vectors (n, dim), spans' vectors (sum of len(spans), dim) text by text,
            pooled (m,) bool): False where a span runs past the model's window (its row is
            zeros, for the caller to encode on its own). Rows are L2-normalised.
        """
        from rag.late_chunking import pool_spans, token_ranges

        self.calls += 1
        firsts = np.cumsum([0, *(len(s) for s in spans)])
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        span_out = np.zeros((int(firsts[-1]), self.dim), dtype=np.float32)
        pooled = np.zeros(len(span_out), dtype=bool)
        if not texts:
            return out, span_out, pooled
        encodings = self._tokenizer.encode_batch(list(texts))
        if self.pooling != "mean":  # a span's mean imitates mean pooling only
            self._run_batches(encodings, out)
            return _normalised(out), span_out, pooled

        def visit(rows: np.ndarray, hidden: np.ndarray) -> None:  # hidden (b, width, dim)
            for j, i in enumerate(rows):
                enc = encodings[i]
                ranges = token_ranges(enc.offsets, enc.special_tokens_mask, spans[i])
                a, b = firsts[i], firsts[i + 1]
                span_out[a:b], pooled[a:b] = pool_spans(hidden[j], ranges)

        self._run_batches(encodings, out, visit)
        return _normalised(out), span_out, pooled

    def _run_batches(self, encodings: list, out: np.ndarray, visit=None) -> None:
        """Fill ``out`` (len(encodings), dim) with pooled, not yet normalised, vectors; each
        batch's hidden states also go to ``visit(rows, hidden)`` when given."""
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(out))
        order = np.argsort(-lengths, kind="stable")  # longest first: the first batch fails fast
        batches = []  # (rows, width): each batch pads to its own longest text
        first = 0
        while first < len(order):
            width = int(lengths[order[first]])  # the longest of this batch, as sorted
            size = min(self.batch_size, max(1, self.max_batch_tokens // max(width, 1)))
            batches.append((order[first : first + size], width))
            first += size

        def run(batch: tuple[np.ndarray, int], session) -> np.ndarray:
            rows, width = batch  # onnxruntime releases the GIL while it runs
            vectors, hidden = self._run([encodings[i] for i in rows], width, session)
            if visit is not None:
                visit(rows, hidden)
            return vectors

        if len(batches) == 1 or self.threads == 1:
            for batch in batches:
                out[batch[0]] = run(batch, self._session)
        else:
            from concurrent.futures import ThreadPoolExecutor

            if self._bulk_session is None:
                self._bulk_session = self._new_session(1)
            session = self._bulk_session
            with ThreadPoolExecutor(self.threads) as pool:
                done = pool.map(lambda b: run(b, session), batches)
                for (rows, _), vectors in zip(batches, done, strict=True):
                    out[rows] = vectors

    def _run_one(self, text: str) -> np.ndarray:
        # (1, n) inputs with no padding, so mean pooling needs no mask -> (dim,)
        enc = self._tokenizer.encode(text)
        ids = np.array([enc.ids], dtype=np.int64)
        types = np.array([enc.type_ids], dtype=np.int64)
        hidden = self._hidden(self._session, ids, np.ones_like(ids), types)
        if self.pooling == "cls":
            return hidden[0, 0, :]
        return hidden.sum(axis=1)[0] / np.float32(ids.shape[1])

    def _run(self, encodings: list, width: int, session) -> tuple[np.ndarray, np.ndarray]:
        # (b, width) int64 inputs -> (b, width, dim) hidden states -> (b, dim) pooled.
        ids = np.zeros((len(encodings), max(width, 1)), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            types[row, :n] = enc.type_ids
            mask[row, :n] = enc.attention_mask
        hidden = self._hidden(session, ids, mask, types)
        if self.pooling == "cls":
            return hidden[:, 0, :], hidden
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9), hidden

    def _hidden(self, session, ids: np.ndarray, mask: np.ndarray, types: np.ndarray):
        # The model's last hidden states (b, n, dim); exports without token types skip them.
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]

    @staticmethod
    def load_or_export(model: str, cache_dir: Path, batch_size: int = 32) -> OnnxEncoder | None:
        """The cached export of ``model``, exporting it first when missing or stale.

        Args:
            model: a sentence-transformers name or folder (resolved by ``resolve_model``).
            cache_dir: the folder that holds ``onnx/<model key>/``.
            batch_size: passed to the encoder.

        Returns:
            The encoder, or None (with a warning) when anything fails: the caller uses torch.
        """
        try:
            from rag.embedding import resolve_model

            source = resolve_model(model)
            if not isinstance(source, Path) or not source.is_dir():
                log.warning("ONNX backend needs a local model folder; %r is not one", model)
                return None
            folder = Path(cache_dir) / "onnx" / model_key(model)
            if not _is_fresh(folder, model, source):
                _export(model, source, folder)
            return OnnxEncoder(folder, batch_size=batch_size)
        except Exception as error:  # any failure means "use torch instead"
            log.warning("ONNX encoder unavailable for %r, using torch: %s", model, error)
            return None


def _normalised(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def model_key(model: str) -> str:
    """A folder name for a model name or path: readable, and unique per distinct name.

    Example:
        >>> model_key("sentence-transformers/all-MiniLM-L6-v2")
        'all-MiniLM-L6-v2-1a8ba3e4'
    """
    tail = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(model).name or "model")
    return f"{tail}-{zlib.crc32(model.encode()):08x}"


def source_fingerprint(source: Path) -> dict[str, list[int]]:
    """``relative path -> [size, mtime_ns]`` of the model folder's files: cheap to check at start.

    Hashing the 90 MB weights would cost a few hundred ms on every cold start; size and mtime
    change whenever the package is reinstalled or the files are edited.
    """
    files = sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith("."))
    return {
        str(p.relative_to(source)): [p.stat().st_size, p.stat().st_mtime_ns]
        for p in files
        if p.suffix != ".md"
    }


def _is_fresh(folder: Path, model: str, source: Path) -> bool:
    try:
        meta = json.loads((folder / META).read_text())
    except (OSError, ValueError):
        return False
    return (
        meta.get("format") == FORMAT
        and meta.get("model") == model
        and meta.get("files") == source_fingerprint(source)
        and (folder / "model.onnx").is_file()
        and (folder / "tokenizer.json").is_file()
    )


def _model_config(source: Path) -> tuple[str, int]:
    """(pooling, max_seq_length) from the sentence-transformers config files."""
    modules = json.loads((source / "modules.json").read_text())
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"}:
        raise ValueError(f"unsupported module stack {kinds}")
    pooling_cfg = json.loads((source / modules[1]["path"] / "config.json").read_text())
    modes = [k for k, v in pooling_cfg.items() if k.startswith("pooling_mode_") and v]
    pooling = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}.get(
        modes[0] if len(modes) == 1 else "", ""
    )
    if not pooling:
        raise ValueError(f"unsupported pooling {modes}")
    bert_cfg = source / "sentence_bert_config.json"
    max_len = json.loads(bert_cfg.read_text()).get("max_seq_length") if bert_cfg.exists() else None
    model_cfg = json.loads((source / "config.json").read_text())
    limit = int(model_cfg.get("max_position_embeddings", 512))
    return pooling, min(int(max_len or limit), limit)


EXPORT_LOCK = ".export.lock"


def remove_stale_exports(cache_dir: Path) -> None:
    """Remove the temporary folders of killed exports under ``<cache_dir>/onnx/``.

    Only when no export is running: exports hold ``onnx/.export.lock``, and a killed one's lock
    went with its process.
    """
    import fcntl

    base = Path(cache_dir) / "onnx"
    if not base.is_dir():
        return
    try:
        fd = os.open(base / EXPORT_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # a read-only folder: nothing can be removed anyway
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # an export is running; its folders are not stale
        os.close(fd)
        return
    try:
        _remove_temporary(base)
    finally:
        os.close(fd)


def _remove_temporary(base: Path) -> None:
    # mkdtemp names are ".<model key>.<random>", moved-aside exports ".<key>.old-<pid>".
    for tmp in base.glob(".*"):
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)


def _export(model: str, source: Path, folder: Path) -> None:
    """Export under the export lock (one exporter per cache; a waiting one then finds the
    export fresh), clearing killed exports' folders first."""
    from rag.build_lock import held

    folder.parent.mkdir(parents=True, exist_ok=True)
    with held(folder.parent / EXPORT_LOCK, what="model export"):
        if _is_fresh(folder, model, source):
            return
        _remove_temporary(folder.parent)
        _export_unlocked(model, source, folder)


def _export_unlocked(model: str, source: Path, folder: Path) -> None:
    """Export, verify against torch, then swap the folder into place in one rename."""
    pooling, max_len = _model_config(source)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    tmp.chmod(0o755)  # mkdtemp makes it owner-only; the export is as shareable as the index
    try:
        reference, dim = _torch_export(source, tmp / "model.onnx")
        fused = _fuse(tmp / "model.onnx", source)
        shutil.copyfile(source / "tokenizer.json", tmp / "tokenizer.json")
        meta = {
            "format": FORMAT,
            "model": model,
            "source": str(source),
            "files": source_fingerprint(source),
            "dim": dim,
            "max_seq_length": max_len,
            "pooling": pooling,
            "opset": OPSET,
            "fused": fused,
        }
        (tmp / META).write_text(json.dumps(meta, indent=1))
        got = OnnxEncoder(tmp).encode(CHECK_SENTENCES)
        cosine = float(np.min(np.sum(got * reference, axis=1)))
        if cosine < MIN_COSINE:
            raise ValueError(f"exported vectors differ from torch (min cosine {cosine:.6f})")
        _swap_in(tmp, folder)
        log.info("exported %s to %s (min cosine vs torch %.6f)", model, folder, cosine)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap_in(tmp: Path, folder: Path) -> None:
    # os.replace of a directory fails when the target is non-empty, so a stale export is moved
    # aside first; if another process won the race, its (equally fresh) export is kept.
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        os.replace(folder, old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.replace(tmp, folder)
    except OSError:
        if not (folder / META).is_file():
            raise


def _torch_export(source: Path, path: Path) -> tuple[np.ndarray, int]:
    """Write the transformer (token ids -> hidden states) to ``path``.

    Returns the torch reference vectors for ``CHECK_SENTENCES`` and the embedding dimension.
    """
    import warnings

    import torch
    from sentence_transformers import SentenceTransformer

    from rag.embedding import _offline

    _offline()
    st = SentenceTransformer(str(source), device="cpu")
    reference = st.encode(
        list(CHECK_SENTENCES),
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    transformer = st[0].auto_model.eval()
    # Eager attention exports as plain MatMul/Softmax, the pattern onnxruntime's optimizer fuses
    # into one Attention op (the SDPA export is left unfused). Numerically the same.
    if hasattr(transformer, "set_attn_implementation"):
        transformer.set_attn_implementation("eager")

    class HiddenStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    # A padded dummy batch, so tracing never sees an all-ones mask and drops masking.
    ids = torch.tensor([[101, 2054, 2003, 102], [101, 102, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]}
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter warns about its deprecation and traced branches; the
        # cosine check after export is what decides whether the result is usable.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            HiddenStates(),
            (ids, mask, torch.zeros_like(ids)),
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,  # the dynamo exporter needs onnxscript, which is not a dependency
        )
    return np.asarray(reference, dtype=np.float32), int(reference.shape[1])


def _fuse(path: Path, source: Path) -> bool:
    """Rewrite a BERT-style export with fused Attention/LayerNorm/Gelu ops, in place.

    Measured on 2 cores: ~10-20% faster for both single queries and batches (669 graph nodes
    become 46). Anything unexpected keeps the plain export, which is correct, just slower; the
    cosine check after this runs on whichever file is kept.
    """
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        config = json.loads((source / "config.json").read_text())
        if config.get("model_type") != "bert":
            return False
        model = optimize_model(
            str(path),
            model_type="bert",
            num_heads=int(config["num_attention_heads"]),
            hidden_size=int(config["hidden_size"]),
        )
        if not model.get_fused_operator_statistics().get("Attention"):
            return False
        model.save_model_to_file(str(path))
        return True
    except Exception as error:  # the unfused export still works
        log.info("kept the unfused ONNX graph: %s", error)
        return False
