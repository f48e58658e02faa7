"""Safeguarding recall and false alarms, stage by stage, on labelled sets.

* ``tests/data/safety.csv``, the development set: the patterns were written
  against it and it is part of the embedding check's reference set, so its
  figures flatter (a message's nearest reference message is itself).
* ``tests/data/safety_heldout.csv``, held-out set A: written in the way people
  really write (typos, understatement, indirect phrasing, voice-note
  transcripts, hard negatives such as "this wait is killing me"). Measured
  once with the method it was held out from (patterns 0.16 recall / 0.09
  false alarms; the exemplar-similarity check 0.53 / 0.12; combined 0.57 /
  0.17). Its misses were then studied and it joined the reference set, so its
  figures now flatter too.
* ``tests/data/safety_heldout_b.csv``, held-out set B: written after A's misses
  were seen and before the method changed; nothing was tuned on it. Its
  figures are the honest ones (first measurement: patterns 0.214 / 0.100, the
  reference vote 0.957 / 0.200, combined 0.957 / 0.243). The overdose change
  (tests/test_overdose_language.py) had to keep its recall and consulted it;
  four patterns were written after its misses were seen ("3 boxes of
  ibuprofen", "won't let me take my medication", "face and tongue swelling",
  "stop taking my insulin and let it happen"), general forms all, so its
  pattern recall (0.314 after) flatters a little. Then: patterns 0.314 /
  0.100, the vote 0.871 / 0.086, combined 0.957 / 0.157.

Each set is scored by the patterns alone, the embedding (MiniLM) check alone,
and both together (what Chorus runs: a message is flagged if either flags it).
The thresholds the cross-validation on the reference set chooses are printed
too (they should equal ``nlp.safety.THRESHOLD`` and ``MEDICINE_THRESHOLD``),
with the recall and false-alarm rate they give there: overall, and among
medication talk, where the patterns do most of the work.

Run: .venv/bin/python scripts/bench/safety.py [--show]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from nlp.embed import embed  # noqa: E402
from nlp.safety import (  # noqa: E402
    MEDICINE_THRESHOLD,
    THRESHOLD,
    choose_thresholds,
    cross_validated,
    lexicon_match,
    names_medicine,
    reference_rows,
    similarity_match,
)

SETS = {"development (reference)": "safety.csv", "held-out A (now reference)": "safety_heldout.csv",
        "held-out B (never tuned on)": "safety_heldout_b.csv"}


def read(name: str) -> list[dict[str, str]]:
    with (ROOT / "tests" / "data" / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def stages(texts: list[str]) -> dict[str, list[bool]]:
    """Flags per stage for each text."""
    patterns = [lexicon_match(t) is not None for t in texts]
    model = [m is not None for m in similarity_match(embed(texts), texts)]
    return {"patterns": patterns, "model": model,
            "combined": [a or b for a, b in zip(patterns, model, strict=True)]}


def rates(risky: list[bool], flagged: list[bool]) -> tuple[float, float]:
    """(recall on risky, false-alarm rate on ordinary)."""
    hits = sum(f for r, f in zip(risky, flagged, strict=True) if r)
    alarms = sum(f for r, f in zip(risky, flagged, strict=True) if not r)
    return hits / max(1, sum(risky)), alarms / max(1, len(risky) - sum(risky))


def report_thresholds() -> None:
    """The thresholds cross-validation chooses on the reference set, and what they give there."""
    rows = reference_rows()
    texts = [r["text"] for r in rows]
    vectors = embed(texts)
    risky = np.array([r["risky"] == "1" for r in rows])
    medicine = np.array([names_medicine(t) for t in texts])
    caught = np.array([lexicon_match(t) is not None for t in texts])
    chosen = choose_thresholds(vectors, risky, medicine, caught)
    print(f"thresholds chosen by cross-validation on the reference set: general {chosen.general:.3f} "
          f"(in use: {THRESHOLD}), among medication talk {chosen.medicine:.3f} (in use: {MEDICINE_THRESHOLD})")
    scores, medicines = cross_validated(vectors, risky, medicine)
    model = scores >= np.where(medicines, chosen.medicine, chosen.general)
    for label, rows_in in (("all", np.ones(len(rows), dtype=bool)), ("medication talk", medicines)):
        recall, false_alarms = rates(list(risky[rows_in]), list((model | caught)[rows_in]))
        print(f"  cross-validated, {label} ({rows_in.sum()} messages): recall {recall:.3f}  false-alarm rate {false_alarms:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show", action="store_true", help="list the misses and false alarms")
    args = parser.parse_args()
    report_thresholds()
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
