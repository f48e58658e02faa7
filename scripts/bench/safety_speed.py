"""Speed of the safeguarding lexicon on the message path: ``lexicon_match`` (and the
``normalise`` it starts with) with the literal prefilter (nlp/safety_prefilter.py) against the
same functions without it, ``lexicon_match_unfiltered`` and ``normalise_unfiltered``, timed in
the same process on the same messages. The figure to compare between runs is the ratio: on a
shared machine the microseconds move with the other load, the ratio much less.

The messages, as a real study gets them:

* **everyday**: ordinary answers: the comments of tests/data/comments.csv and the short
  replies and lists of tests/test_safety_everyday.py and tests/test_safety_lists.py;
* **safety tests**: every sentence of the safety tests (tests/test_safety*.py,
  tests/test_overdose_language.py) and tests/data/safety*.csv, a third of them risky: far more
  than a study sees, so the prefilter saves least here;
* **mixed**: 19 everyday answers to each sentence of the safety tests.

Each is checked to give the same answers both ways before it is timed; each time is the best of
--repeats passes over all the messages. Also printed: the one-off cost of building the
prefilter (when nlp.safety is first imported). Not a test.

    .venv/bin/python scripts/bench/safety_speed.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import ast
import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from nlp.safety_patterns import PATTERNS, lexicon_match, lexicon_match_unfiltered  # noqa: E402
from nlp.safety_prefilter import Prefilter, combined_literals, literal_search  # noqa: E402
from nlp.safety_text import IDIOMS, normalise, normalise_unfiltered  # noqa: E402

TESTS = ROOT / "tests"


def csv_texts(name: str) -> list[str]:
    with (TESTS / "data" / name).open(newline="", encoding="utf-8") as fh:
        return [row["text"] for row in csv.DictReader(fh)]


def module_list(name: str, variable: str) -> list[str]:
    """A module-level list of strings in a test module, read without importing it."""
    tree = ast.parse((TESTS / name).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == variable for t in targets):
                return [item for item in ast.literal_eval(node.value) if isinstance(item, str)]
    raise LookupError(f"{variable} not in {name}")


def test_sentences() -> list[str]:
    """Every string with a space in the safety test modules, and the labelled safety sets."""
    texts: list[str] = []
    for path in [*sorted(TESTS.glob("test_safety*.py")), TESTS / "test_overdose_language.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        texts += [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str) and " " in n.value.strip()]
    for name in ("safety.csv", "safety_heldout.csv", "safety_heldout_b.csv"):
        texts += csv_texts(name)
    return list(dict.fromkeys(texts))


def everyday() -> list[str]:
    return [*csv_texts("comments.csv"), *module_list("test_safety_everyday.py", "EVERYDAY"),
            *module_list("test_safety_lists.py", "ORDINARY_LISTS")]


def best_times(old: Callable[[str], object], new: Callable[[str], object], texts: list[str], repeats: int) -> tuple[float, float]:
    """Microseconds per message, old and new: the best of ``repeats`` passes each, taken in turn so
    that a burst of other load on the machine falls on both."""
    best = {old: float("inf"), new: float("inf")}
    for _ in range(repeats):
        for function in best:
            started = time.perf_counter()
            for text in texts:
                function(text)
            best[function] = min(best[function], time.perf_counter() - started)
    return best[old] / len(texts) * 1e6, best[new] / len(texts) * 1e6


def report(label: str, texts: list[str], repeats: int) -> None:
    different = [t for t in texts if lexicon_match(t) != lexicon_match_unfiltered(t) or normalise(t) != normalise_unfiltered(t)]
    if different:
        raise SystemExit(f"{label}: the prefilter changed the answer for {different[:3]}")
    flagged = sum(lexicon_match(t) is not None for t in texts)
    print(f"{label}: {len(texts)} messages, {flagged} flagged by the patterns (the same both ways)")
    for name, old, new in (("normalise", normalise_unfiltered, normalise), ("lexicon_match", lexicon_match_unfiltered, lexicon_match)):
        before, after = best_times(old, new, texts, repeats)
        print(f"  {name:<14} unfiltered {before:7.1f} us   prefiltered {after:7.1f} us   {before / after:5.1f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    Prefilter(PATTERNS)
    literal_search(combined_literals(IDIOMS) or ())
    print(f"building the prefilters (once, at import): {time.perf_counter() - started:.2f} s")
    ordinary, sentences = everyday(), test_sentences()
    mixed = [text for i, sentence in enumerate(sentences) for text in [sentence, *(ordinary[(i * 19 + k) % len(ordinary)] for k in range(19))]]
    for label, texts in (("everyday", ordinary), ("safety tests", sentences), ("mixed 19:1", mixed)):
        report(label, texts, args.repeats)


if __name__ == "__main__":
    main()
