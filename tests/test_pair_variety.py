"""Pairwise ideas: the population is kept for a minute (bot/population.py), yet people answering
in the same minute are not all shown the same next pair. Counts include the answers recorded
since the population was read, and ideas compared about as often are drawn in a different order
for each participant (flows/population.py), while a newly approved idea still comes first."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest

from bot.population import PopulationSource, load_population
from bot.safeguarding import checks_from_env
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.population import SPREAD, ItemRecord, PopulationData, RecordedPopulation, spread_counts
from storage.database import Database
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

IDEAS = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]
_messages = itertools.count(1)


def ideas_service(database: Database, folder: Path, clock: FakeClock, ideas: list[str]) -> ConversationService:
    """A study whose one flow compares ``ideas`` three pairs at a time (keyword IDEAS), served
    from ``folder``, with the phrase patterns as its safeguarding."""
    folder.mkdir()
    (folder / "study.yaml").write_text("study: ideas\ntitle: Ideas\njoin:\n  start_flow: compare\n  keyword: IDEAS\n",
                                       encoding="utf-8")
    (folder / "compare.yaml").write_text(f"""flow: compare
steps:
  - id: pick
    type: pairwise
    text: Which matters more?
    ideas: [{", ".join(ideas)}]
    pairs: 3
    submissions: false
  - id: bye
    type: end
    text: Thank you.
""", encoding="utf-8")
    return ConversationService(database, StudyRegistry.from_folder(folder), clock, address_key=TEST_ADDRESS_KEY,
                               safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))


@pytest.fixture
def service(database: Database, tmp_path: Path, clock: FakeClock) -> ConversationService:
    return ideas_service(database, tmp_path / "ideas", clock, IDEAS)


def shown_pair(service: ConversationService, address: str, text: str) -> frozenset[str]:
    """Send ``text``; the pair of ideas the reply asks about (empty once the pairs are done)."""
    result = service.receive(InboundMessage("sms", address, f"sms-{next(_messages)}", text))
    assert result.participant_id is not None
    texts = [row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids]
    return frozenset(line[3:] for line in texts[-1].splitlines() if line.startswith(("A) ", "B) ")))


def compared(database: Database) -> Counter[str]:
    with database.read_transaction() as connection:
        return load_population(connection, "ideas").compared("pick")


def earlier_cohort(service: ConversationService) -> None:
    """Eight people compare their three pairs; then the minute is up and the next view reads the
    population again (by then the ideas have been compared unevenly)."""
    for person in range(8):
        address = f"+4477009000{person:02d}"
        shown_pair(service, address, "IDEAS")
        for _ in range(3):
            shown_pair(service, address, "A")
    service.population.forget("ideas")


def spread(counts: Counter[str]) -> int:
    return max(counts.values()) - min(counts.values())


def test_people_answering_one_after_another_in_the_same_minute_are_shown_different_pairs(
        service: ConversationService, database: Database) -> None:
    earlier_cohort(service)
    second = []
    for person in range(10):  # all within the minute the population is cached for
        address = f"+4477009001{person:02d}"
        shown_pair(service, address, "IDEAS")
        second.append(shown_pair(service, address, "B"))
        shown_pair(service, address, "A")
        shown_pair(service, address, "A")
    assert max(Counter(second).values()) <= 5, f"the same next pair for most of them: {Counter(second)}"
    counts = compared(database)
    assert sum(counts.values()) == 2 * 3 * 18
    assert spread(counts) <= 6, f"each answer counts at once, so comparisons stay even: {counts}"


def test_people_answering_at_the_same_time_are_not_all_shown_one_pair(service: ConversationService, database: Database) -> None:
    earlier_cohort(service)
    cohort = [f"+4477009001{person:02d}" for person in range(10)]
    for address in cohort:
        shown_pair(service, address, "IDEAS")
    second = [shown_pair(service, address, "B") for address in cohort]  # each shown while the others' are unanswered
    for address in cohort:
        shown_pair(service, address, "A")
        shown_pair(service, address, "A")
    assert max(Counter(second).values()) <= 8, f"one pair for (nearly) everyone: {Counter(second)}"
    assert spread(compared(database)) <= 9, f"comparisons stay about even: {compared(database)}"


def test_the_cache_is_kept_and_answers_since_it_was_read_are_counted(service: ConversationService, database: Database) -> None:
    shown_pair(service, "+447700900201", "IDEAS")
    with database.read_transaction() as connection:
        cached = service.population.view(connection, "ideas", "p-x").data
    for _ in range(3):
        shown_pair(service, "+447700900201", "A")
    everything = compared(database)
    with database.read_transaction() as connection:
        view = service.population.view(connection, "ideas", "p-x")
        assert view.data is cached, "the population is still the one read a moment ago"
        assert cached.compared("pick") == Counter(), "read before anyone answered"
        since = view.recent("pick")
    assert len(since) == 3 and sum(everything.values()) == 6
    assert Counter(idea for r in since for idea in (r.value["winner"], r.value["loser"])) == everything


def test_a_participant_sees_their_own_answers_from_a_minute_the_cache_has_not_caught_up_with() -> None:
    earlier = [ItemRecord("p1", None, "pick", "Alpha vs Bravo", {"winner": "Alpha", "loser": "Bravo", "tie": False})]
    data = PopulationData([], last_answer_id=7)
    asked: list[tuple[str, int]] = []

    def recent(step: str, after: int) -> list[ItemRecord]:
        asked.append((step, after))
        return earlier

    view = RecordedPopulation(data, "p1", recent)
    assert view.my_answers("pick") == [("Alpha vs Bravo", earlier[0].value)]
    assert set(view.comparison_counts("pick")) == {"Alpha", "Bravo"}
    assert asked == [("pick", 7)], "read once per view, from the newest answer the cache holds"


def test_close_counts_are_ordered_per_participant_and_a_new_idea_still_comes_first() -> None:
    counts = {"Alpha": 40, "Bravo": 41, "Charlie": 42, "Delta": 43, "Echo": 44}  # "Fresh" (approved just now): 0

    def lowest_two(participant: str) -> tuple[str, ...]:
        spread = spread_counts(counts, participant, "pick", 3)
        return tuple(sorted([*spread, "Fresh"], key=lambda idea: (spread.get(idea, 0), idea))[:2])

    firsts = {lowest_two(f"p-{n}") for n in range(30)}
    assert all(pair[0] == "Fresh" for pair in firsts), "an idea compared far less is first for everyone"
    assert len({pair[1] for pair in firsts}) >= 3, "ideas compared about as often come in different orders"
    assert spread_counts(counts, "p-1", "pick", 3) == spread_counts(counts, "p-1", "pick", 3), "the same draw for the same moment"
    leeway = round(SPREAD * 42)  # a quarter of the average count
    assert all(0 <= spread_counts(counts, "p-1", "pick", 3)[idea] - n <= leeway for idea, n in counts.items())
    assert {spread_counts({"Alpha": 1, "Bravo": 1}, f"p-{n}", "pick", 0)["Alpha"] for n in range(30)} == {1, 2, 3}, \
        "few comparisons yet: still a little leeway"


def test_a_population_source_without_recent_answers_still_works(database: Database) -> None:
    with database.read_transaction() as connection:
        view = PopulationSource().view(connection, "nothing-here", "p-1")
        assert view.comparison_counts("pick") == {} and view.my_answers("pick") == []
