"""Safeguarding recall and false alarms, stage by stage, on two labelled sets.

* ``tests/data/safety.csv``, the development set: the patterns, exemplars and
  thresholds were written and chosen against it, so its figures flatter.
* ``tests/data/safety_heldout.csv``, the held-out set: written afterwards, in
  the way people really write (typos, understatement, indirect phrasing,
  voice-note transcripts), with hard negatives ("this wait is killing me"). It
  is never used to tune anything; what it measures is the honest figure.

Each set is scored by the patterns alone, the embedding (MiniLM) check alone,
and both together (what Chorus runs: a message is flagged if either flags it).

Run: .venv/bin/python scripts/bench/safety.py [--show]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from nlp.embed import embed  # noqa: E402
from nlp.safety import lexicon_match, similarity_match  # noqa: E402

SETS = {"development": "safety.csv", "held-out A (now reference)": "safety_heldout.csv",
        "held-out B": "safety_heldout_b.csv"}


def read(name: str) -> list[dict[str, str]]:
    with (ROOT / "tests" / "data" / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def stages(texts: list[str]) -> dict[str, list[bool]]:
    """Flags per stage for each text."""
    patterns = [lexicon_match(t) is not None for t in texts]
    model = [m is not None for m in similarity_match(embed(texts))]
    return {"patterns": patterns, "model": model,
            "combined": [a or b for a, b in zip(patterns, model, strict=True)]}


def rates(risky: list[bool], flagged: list[bool]) -> tuple[float, float]:
    """(recall on risky, false-alarm rate on ordinary)."""
    hits = sum(f for r, f in zip(risky, flagged, strict=True) if r)
    alarms = sum(f for r, f in zip(risky, flagged, strict=True) if not r)
    return hits / max(1, sum(risky)), alarms / max(1, len(risky) - sum(risky))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show", action="store_true", help="list the misses and false alarms")
    args = parser.parse_args()
    for label, name in SETS.items():
        rows = read(name)
        texts = [r["text"] for r in rows]
        risky = [r["risky"] == "1" for r in rows]
        print(f"{label} set ({name}): {sum(risky)} risky, {len(rows) - sum(risky)} ordinary")
        for stage, flagged in stages(texts).items():
            recall, false_alarms = rates(risky, flagged)
            print(f"  {stage:<9} recall {recall:.3f}  false-alarm rate {false_alarms:.3f}")
            if args.show and stage == "combined":
                for r, f, t in zip(risky, flagged, texts, strict=True):
                    if r != f:
                        print(f"    {'MISSED' if r else 'ALARM '} {t}")


if __name__ == "__main__":
    main()
