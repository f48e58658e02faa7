"""Benchmark: embed and cluster 10,000 free-text answers (goal: within 120 s).

The answers are made from tests/data/comments.csv: a comment, often joined to
part of another comment on the same theme, with openers, slips of spelling and
case changes, so that no two are the same text. The labelled themes give an
adjusted Rand index for Chorus's themes and for the plain baseline (ward at
the true number of themes on mean-pooled vectors), measured in the same run.

Run: .venv/bin/python scripts/bench/themes.py [--n 10000]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sklearn.metrics import adjusted_rand_score  # noqa: E402

from nlp.embed import encode  # noqa: E402
from nlp.themes import baseline, cluster, find_themes  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    texts, labels = make_answers(args.n)
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(f"{len(texts)} answers, {words:.1f} words on average")

    start = time.perf_counter()
    encode(["warm up"])
    load = time.perf_counter() - start
    start = time.perf_counter()
    encoded = encode(texts)
    embedding = time.perf_counter() - start
    start = time.perf_counter()
    found = cluster(encoded.topic)
    clustering = time.perf_counter() - start
    start = time.perf_counter()
    result = find_themes([(str(i), t, None) for i, t in enumerate(texts)], topic_vectors=encoded.topic)
    labelled = time.perf_counter() - start
    total = embedding + clustering
    print(f"model load {load:.1f}s; embed {embedding:.1f}s ({len(texts) / embedding:.0f}/s); "
          f"cluster {clustering:.1f}s; cluster again with keywords and quotes {labelled:.1f}s")
    print(f"embedded and clustered in {total:.1f}s (goal 120s): {'met' if total <= 120 else 'NOT met'}")
    ours = adjusted_rand_score(labels, found)
    print(f"chorus: {len(set(found))} themes found, ARI {ours:.3f}")
    for theme in result.themes[:12]:
        print(f"  {theme.size:>5}  {theme.label}")
    if not args.skip_baseline:
        start = time.perf_counter()
        base = adjusted_rand_score(labels, baseline(encoded.sentence, len(set(labels))))
        took = time.perf_counter() - start
        print(f"baseline (ward, true k={len(set(labels))}): ARI {base:.3f} in {took:.1f}s; "
              f"ratio chorus/baseline {ours / base:.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
