"""Themes found in realistic comments, against a plain baseline."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import adjusted_rand_score

from bot.cli import cli
from nlp.duplicates import merge_duplicates
from nlp.embed import Encoded, encode
from nlp.themes import baseline, class_keywords, cluster, find_themes

DATA = Path(__file__).parent / "data"


def read_comments() -> list[dict[str, str]]:
    with (DATA / "comments.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def comments() -> list[dict[str, str]]:
    return read_comments()


@pytest.fixture(scope="module")
def encoded(comments: list[dict[str, str]]) -> Encoded:
    return encode([c["text"] for c in comments])


def test_the_labelled_comments_are_varied_enough_to_prove_something(comments):
    themes = {c["theme"] for c in comments}
    lengths = [len(c["text"].split()) for c in comments]
    assert len(comments) >= 300
    assert len(themes) >= 6
    assert {c["group"] for c in comments} == {"patient", "carer", "staff"}
    assert min(lengths) >= 3 and max(lengths) >= 60
    assert len({c["text"] for c in comments}) == len(comments)


def test_chorus_themes_beat_the_ward_baseline_by_half_again(comments, encoded):
    truth = [c["theme"] for c in comments]
    true_k = len(set(truth))
    base = adjusted_rand_score(truth, baseline(encoded.sentence, true_k))
    found = cluster(encoded.topic)
    ours = adjusted_rand_score(truth, found)
    print(
        f"\nthemes ARI: baseline (ward, k={true_k}) {base:.3f}; "
        f"chorus (k found = {len(set(found))}) {ours:.3f}; ratio {ours / base:.2f}"
    )
    assert ours >= 1.5 * base
    assert 5 <= len(set(found)) <= 15


def test_themes_carry_keywords_quotes_members_and_prevalence(comments, encoded):
    answers = [(c["id"], c["text"], c["group"]) for c in comments]
    result = find_themes(answers, topic_vectors=encoded.topic)
    members = [m for t in result.themes for m in t.members]
    assert sorted(members) == sorted(c["id"] for c in comments)
    texts = {c["id"]: c["text"] for c in comments}
    for theme in result.themes:
        assert theme.size == len(theme.members)
        assert theme.keywords and theme.label
        assert all(q in {texts[m] for m in theme.members} for q in theme.quotes)
    assert [t.size for t in result.themes] == sorted((t.size for t in result.themes), reverse=True)
    for shares in result.prevalence.values():
        assert sum(shares.values()) == pytest.approx(1.0, abs=0.01)


def test_what_matters_to_staff_is_the_staffing_theme(comments, encoded):
    answers = [(c["id"], c["text"], c["group"]) for c in comments]
    result = find_themes(answers, topic_vectors=encoded.topic)
    staffing = [c["id"] for c in comments if c["theme"] == "staffing"]
    home = max(result.themes, key=lambda t: len(set(t.members) & set(staffing)))
    staff_top = max(result.prevalence["staff"].items(), key=lambda kv: kv[1])[0]
    patient_share = result.prevalence["patient"][home.id]
    print(f"\nstaffing theme '{home.label}': staff {result.prevalence['staff'][home.id]:.2f}, "
          f"patients {patient_share:.2f}")
    assert staff_top == home.id
    assert result.prevalence["staff"][home.id] > 3 * patient_share


def test_keywords_name_what_a_theme_is_about(comments, encoded):
    result = find_themes([(c["id"], c["text"], None) for c in comments], topic_vectors=encoded.topic)
    food = {c["id"] for c in comments if c["theme"] == "food"}
    parking = {c["id"] for c in comments if c["theme"] == "access"}
    food_theme = max(result.themes, key=lambda t: len(food & set(t.members)))
    parking_theme = max(result.themes, key=lambda t: len(parking & set(t.members)))
    assert "food" in food_theme.keywords
    assert {"parking", "park"} & set(parking_theme.keywords)


def test_k_overrides_the_number_of_themes(comments, encoded):
    answers = [(c["id"], c["text"], c["group"]) for c in comments]
    assert len(find_themes(answers, k=4, topic_vectors=encoded.topic).themes) == 4


def test_class_keywords_prefer_words_special_to_a_class():
    texts = ["the car park was full", "parking costs a lot at the car park",
             "food was cold", "cold food and no tea"]
    keywords = class_keywords(texts, np.array([0, 0, 1, 1]))
    assert "car park" in keywords[0] or "park" in keywords[0]
    assert "food" in keywords[1]
    assert "cold" not in keywords[0]


def test_tiny_inputs_do_not_crash():
    result = find_themes([("a", "Parking was awful", None)])
    assert len(result.themes) == 1 and result.assignments == {"a": 1}


DUPLICATE_GROUPS = {
    "parking": ["Free parking for patients", "free parking for patients!!",
                "Make parking free for patients", "patients shouldnt have to pay for parking",
                "No parking charges for patients"],
    "nurses": ["More nurses on the wards", "more nurses", "Employ more nurses",
               "hire more nursing staff"],
    "screen": ["A screen showing how long the wait is",
               "Display the expected waiting time on a screen"],
    "night food": ["Hot food available at night", "hot meals for night staff"],
    "water": ["Free water in the waiting room"],
    "chairs": ["Comfier chairs in the waiting room"],
    "interpreters": ["More interpreters available"],
    "wifi": ["free wifi for patients"],
}


def test_near_duplicate_suggestions_merge_with_their_counts():
    items: list[tuple[str, str]] = []
    truth: dict[str, str] = {}
    for group, texts in DUPLICATE_GROUPS.items():
        for text in texts:
            items.append((f"s{len(items)}", text))
            truth[f"s{len(items) - 1}"] = group
    groups = merge_duplicates(items)
    for g in groups:  # nothing unrelated is merged
        assert len({truth[i] for i in g.ids}) == 1, g
    by_group = {truth[g.ids[0]]: g for g in groups if g.count > 1}
    assert by_group["parking"].count == 5
    assert by_group["parking"].text == "Free parking for patients"
    assert by_group["nurses"].count == 4
    assert len(groups) <= len(DUPLICATE_GROUPS) + 2


def test_identical_wording_merges_even_at_a_strict_threshold():
    groups = merge_duplicates([("a", "More nurses!"), ("b", "more  nurses"), ("c", "Better food")],
                              similarity=0.999)
    assert [(g.count, sorted(g.ids)) for g in groups] == [(2, ["a", "b"]), (1, ["c"])]


def test_the_themes_command_writes_json_themes_and_prevalence(tmp_path, comments):
    path = tmp_path / "answers.csv"
    rows = [c for c in comments if c["theme"] in {"food", "access", "staffing"}][:60]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "text", "group"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    result = CliRunner().invoke(cli, ["analyse", "themes", "--input", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"id", "label", "keywords", "size", "quotes", "members"} <= set(payload["themes"][0])
    assert sum(t["size"] for t in payload["themes"]) == len(rows)
    assert set(payload["prevalence"]) == {r["group"] for r in rows}
    fixed = CliRunner().invoke(cli, ["analyse", "themes", "--input", str(path), "--k", "3"])
    assert fixed.exit_code == 0 and len([ln for ln in fixed.stdout.splitlines() if "[" in ln]) == 3


def test_the_themes_command_names_a_missing_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,answer\n1,hello\n")
    result = CliRunner().invoke(cli, ["analyse", "themes", "--input", str(path)])
    assert result.exit_code != 0
    assert "no column(s) text" in result.output


def test_past_the_sample_size_themes_are_found_on_a_sample_and_the_rest_assigned(
    comments, encoded, monkeypatch
):
    """The path that 10,000 answers take, tried on the 320 labelled comments with a sample of
    280: it must still beat the baseline by half again. (Quality grows with the sample's size:
    at 10,000 answers the sample of 3,000 scored ARI 0.60 against 0.53 for the whole graph,
    scripts/bench/themes.py; samples under ~250 lose too much here.)"""
    import nlp.themes

    truth = [c["theme"] for c in comments]
    base = adjusted_rand_score(truth, baseline(encoded.sentence, len(set(truth))))
    monkeypatch.setattr(nlp.themes, "SAMPLE", 280)
    found = cluster(encoded.topic)
    ours = adjusted_rand_score(truth, found)
    print(f"\nthemes ARI with a sample of {280}: {ours:.3f} (baseline {base:.3f})")
    assert len(found) == len(comments)
    assert ours >= 1.5 * base


def test_assign_gives_each_answer_the_theme_of_its_nearest_sampled_answers():
    from nlp.themes import assign

    rng = np.random.default_rng(1)
    centres = np.eye(4)[:2]
    vectors = np.concatenate([centres[0] + 0.05 * rng.standard_normal((30, 4)),
                              centres[1] + 0.05 * rng.standard_normal((30, 4))])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    sample = np.array([0, 1, 2, 3, 4, 30, 31, 32, 33, 34])
    labels = assign(vectors, sample, np.array([7, 7, 7, 7, 7, 2, 2, 2, 2, 2]))
    assert (labels[:30] == 7).all() and (labels[30:] == 2).all()


def test_worker_threads_embed_exactly_as_one_thread_does_and_repeats_come_from_memory(
    comments, monkeypatch
):
    import nlp.embed

    texts = [c["text"] for c in comments[:150]]
    monkeypatch.setenv("CHORUS_EMBEDDING_THREADS", "1")
    one = nlp.embed.embed(texts, batch_size=16)
    monkeypatch.setenv("CHORUS_EMBEDDING_THREADS", "2")
    two = nlp.embed.embed(texts, batch_size=16)
    assert np.allclose(one, two, atol=1e-5)

    nlp.embed.clear_cache()
    first = nlp.embed.encode(texts)
    calls: list[tuple[Any, ...]] = []

    def run(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        calls.append(args)
        return one, one

    monkeypatch.setattr(nlp.embed, "_run", run)
    assert nlp.embed.encode(texts) is first and not calls
    nlp.embed.encode(texts[:-1])
    assert len(calls) == 1
