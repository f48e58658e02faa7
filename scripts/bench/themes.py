"""Benchmark: embed and cluster 10,000 free-text answers (goal: within 120 s).

The answers are made from tests/data/comments.csv: a comment, often joined to
part of another comment on the same theme, with openers, slips of spelling and
case changes, so that no two are the same text. The labelled themes give an
adjusted Rand index for Chorus's themes and for the plain baseline (ward at
the true number of themes on mean-pooled vectors), measured in the same run.

Each step is reported in wall seconds and in CPU seconds of this process (all
its threads). On a shared machine the wall time depends on the other load, so
the figure to compare between runs is the ratio against a baseline step timed
in the same run: the plain embedding of the same answers with
sentence-transformers (``SentenceTransformer(path).encode(texts)``, its
defaults: batches of 32 sorted by length, torch's intra-op threads). Peak
memory is the process's maximum resident set after the pipeline, before the
baselines run.

Run: .venv/bin/python scripts/bench/themes.py [--n 10000] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sklearn.metrics import adjusted_rand_score  # noqa: E402

from nlp.embed import encode  # noqa: E402
from nlp.themes import baseline, find_themes  # noqa: E402

OPENERS = ["", "", "", "Honestly, ", "To be fair ", "As a carer, ", "Overall ", "I think ",
           "Not great. ", "Well, ", "Last time I went, ", "My main point: "]
JOINERS = [" Also ", " and ", ". Plus ", ", then ", ". On top of that ", ". "]


def slip(text: str, rng: random.Random) -> str:
    """Swap two letters in one word, the way people type on a phone."""
    words = text.split()
    long_words = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not long_words:
        return text
    i = rng.choice(long_words)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def make_answers(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    with (ROOT / "tests" / "data" / "comments.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_theme: dict[str, list[str]] = {}
    for row in rows:
        by_theme.setdefault(row["theme"], []).append(row["text"].strip())
    rng = random.Random(seed)
    texts: list[str] = []
    labels: list[str] = []
    seen: set[str] = set()
    while len(texts) < n:
        theme = rng.choice(sorted(by_theme))
        text = rng.choice(OPENERS) + rng.choice(by_theme[theme])
        if rng.random() < 0.35:
            other = rng.choice(by_theme[theme]).split(". ")[0]
            text = text.rstrip(".") + rng.choice(JOINERS) + other[0].lower() + other[1:]
        if rng.random() < 0.4:
            text = slip(text, rng)
        if rng.random() < 0.2:
            text = text.lower()
        if text not in seen:
            seen.add(text)
            texts.append(text)
            labels.append(theme)
    return texts, labels


class Timer:
    """Wall and process CPU seconds of a step."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def __str__(self) -> str:
        return f"{self.wall:.1f}s wall, {self.cpu:.1f} CPU-s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--skip-baseline", action="store_true",
                        help="skip the sentence-transformers embedding and the ward clustering")
    args = parser.parse_args()
    texts, labels = make_answers(args.n)
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(f"{len(texts)} answers, {words:.1f} words on average; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    with Timer() as load:
        encode(["warm up"])
    with Timer() as embedding:
        encoded = encode(texts)
    with Timer() as themes:
        result = find_themes([(str(i), t, None) for i, t in enumerate(texts)], topic_vectors=encoded.topic)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall, cpu = embedding.wall + themes.wall, embedding.cpu + themes.cpu
    print(f"model load {load}")
    print(f"embed {embedding} ({len(texts) / embedding.wall:.0f} answers/s)")
    print(f"themes (cluster, keywords, quotes) {themes}")
    print(f"embedded and clustered: {wall:.1f}s wall, {cpu:.1f} CPU-s "
          f"(goal 120s: {'met' if wall <= 120 else 'NOT met'} as measured)")
    print(f"peak memory (max RSS) after the pipeline: {peak:.0f} MiB")
    found = [result.assignments[str(i)] for i in range(len(texts))]
    ours = adjusted_rand_score(labels, found)
    print(f"chorus: {len(result.themes)} themes found, ARI {ours:.3f}")
    for theme in result.themes[:12]:
        print(f"  {theme.size:>5}  {theme.label}")
    if args.skip_baseline:
        print(f"load average now {os.getloadavg()[0]:.1f}")
        return
    from sentence_transformers import SentenceTransformer

    from nlp.embed import default_model_path

    plain_model = SentenceTransformer(default_model_path(), device="cpu")
    plain_model.encode(["warm up"])
    with Timer() as plain:
        plain_model.encode(texts)
    print(f"baseline step, plain sentence-transformers embedding of the same answers: {plain}")
    print(f"ratio embed+themes / plain embedding: {wall / plain.wall:.2f} wall, {cpu / plain.cpu:.2f} CPU")
    with Timer() as ward:
        base = adjusted_rand_score(labels, baseline(encoded.sentence, len(set(labels))))
    print(f"baseline themes (ward, true k={len(set(labels))}): ARI {base:.3f} in {ward}; "
          f"ratio chorus/baseline ARI {ours / base:.2f}")
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
