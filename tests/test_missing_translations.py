"""`chorus validate` warns when a text a participant sees has no version in one of the
study's languages: a text written once, an option shown by its words, a choice experiment's
level or attribute with no label, Delphi items read from a text file, the study's own signposting and
texts. One warning per file (with a count and the first places), never one per text; a
study translated throughout gets none."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from flows.loader import Problem
from flows.validate import validate_paths

STUDY = """\
study: homecoming
title: {en: Going home, cy: Mynd adref}
languages: [en, cy]
groups:
  - id: parent
    label: Parents
  - id: staff
    label: {en: Staff, cy: Staff}
join:
  start_flow: welcome
  keyword: HOME
flows: [welcome.yaml, round1.yaml, choices.yaml]
signposting: Call NHS 111 for urgent help, or 999 in an emergency.
texts:
  delphi.reason: Why that score?
schedule:
  - flow: round1
    after: 7d
  - flow: choices
    after: 14d
"""

WELCOME = """\
flow: welcome
steps:
  - id: consent
    type: consent
    text: {en: Reply YES to take part., cy: Atebwch YDW i gymryd rhan.}
    declined: OK.
  - id: role
    type: choice
    text: {en: Who are you?, cy: Pwy ydych chi?}
    options:
      - {value: parent, label: {en: Parent, cy: Rhiant}}
      - {value: staff, label: {en: Staff, cy: Staff}}
    save_to: participant.group
  - id: helped
    type: choice
    text: {en: What helped?, cy: Beth helpodd?}
    retry: Please pick one.
    options: [Midwife, Leaflet, "5"]
  - id: bye
    type: end
    text: Thank you.
"""

ROUND1 = """\
flow: round1
steps:
  - id: rate
    type: delphi
    text: {en: Score each., cy: Sgoriwch bob un.}
    items_file: items.txt
  - id: first
    type: rank
    text: {en: What first?, cy: Beth gyntaf?}
    options:
      - {value: meds, label: Medicines sooner}
      - {value: checks, label: {en: Baby checks, cy: Gwiriadau babi}}
  - id: bye
    type: end
    text: {en: Thanks., cy: Diolch.}
"""

ITEMS = "# one a line\nA named midwife\nMedicines sooner\n\nBaby checks on the ward\n"

CHOICES = """\
flow: choices
steps:
  - id: pick
    type: choice_experiment
    text: {en: Which one?, cy: Pa un?}
    attributes:
      wait: [4 hours, 8 hours]
      place:
        levels: [ward, home]
        labels: {ward: {en: on the ward, cy: ar y ward}, home: {en: at home, cy: gartref}}
      cost: [0, 10]
    tasks: 4
  - id: bye
    type: end
    text: {en: Thanks., cy: Diolch.}
"""


def a_study(folder: Path, **files: str) -> Path:
    written = {"study.yaml": STUDY, "welcome.yaml": WELCOME, "round1.yaml": ROUND1, "items.txt": ITEMS,
               "choices.yaml": CHOICES}
    written.update({name.replace("_", "."): text for name, text in files.items()})
    for name, text in written.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def by_file(problems: list[Problem]) -> dict[str, list[Problem]]:
    found: dict[str, list[Problem]] = {}
    for problem in problems:
        found.setdefault(Path(problem.file).name, []).append(problem)
    return found


def test_each_file_gets_one_warning_naming_what_a_welsh_participant_would_get_in_english(tmp_path: Path) -> None:
    problems, checked = validate_paths([a_study(tmp_path)])
    assert checked == 4 and all(p.severity == "warning" for p in problems), "\n".join(map(str, problems))
    files = by_file(problems)

    (welcome,) = files["welcome.yaml"]
    assert welcome.message.startswith("5 texts participants see have no Welsh ('cy') version, so those participants "
                                      "would get them as written: 'declined' of step 'consent' (line 6), ")
    assert "'retry' of step 'helped' (line 17)" in welcome.message
    assert "option 'Midwife' of step 'helped' (line 18)" in welcome.message
    assert "option 'Leaflet' of step 'helped' (line 18)" in welcome.message
    assert welcome.message.endswith(" and 1 more") and "'5'" not in welcome.message  # a number reads the same in Welsh
    assert (welcome.line, welcome.column) == (6, 15)
    assert welcome.hint == ("write each as a map of languages, e.g. 'text: {en: Thank you., cy: ...}'; "
                            "an option as '{value: days, label: {en: Days, cy: ...}}'")

    long_sms = [p for p in files["round1.yaml"] if "SMS segments" in p.message]  # Chorus's own Welsh around the items
    items, labels = sorted((p for p in files["round1.yaml"] if p not in long_sms), key=lambda p: p.line)
    assert items.line == 6 and items.message.startswith("all 3 items in items.txt (lines 2, 3, 5) have no Welsh ('cy') version")
    assert "list the items in a YAML file instead" in items.hint
    assert "- {id: A named midwife, text: {en: A named midwife, cy: ...}}" in items.hint
    assert labels.message.startswith("a text participants see has no Welsh ('cy') version")
    assert "'options[0].label' of step 'first' (line 11)" in labels.message

    (choices,) = files["choices.yaml"]
    assert "level '4 hours' of step 'pick' (line 7)" in choices.message and "level '8 hours'" in choices.message
    assert "'0'" not in choices.message and "ward" not in choices.message  # numbers, and levels with labels
    assert "the name of attribute 'wait' of step 'pick' (line 7)" in choices.message, "said in 'they differ in: wait, ...'"
    assert choices.message.startswith("5 texts") and "the name of attribute 'place' of step 'pick' (line 8) and 1 more" in choices.message
    assert choices.hint == ("a level's words under its attribute's labels, e.g. 'labels: {4 hours: {en: 4 hours, cy: ...}}'; "
                            "an attribute's name under its 'label', e.g. 'wait: {levels: [...], label: {en: waiting time, cy: ...}}'")

    (study,) = files["study.yaml"]
    assert study.message.startswith("3 texts participants see have no Welsh ('cy') version")
    assert "the label of group 'parent' (line 6)" in study.message and "signposting (line 13)" in study.message
    assert "the text 'delphi.reason' (line 15)" in study.message
    assert "replaces Chorus's own version in every language" in study.hint


WELSH_WELCOME = WELCOME.replace("declined: OK.", "declined: {en: OK., cy: Iawn.}").replace("retry: Please pick one.", "retry: {en: Please pick one., cy: Dewiswch un.}").replace(
    'options: [Midwife, Leaflet, "5"]',
    "options:\n      - {value: midwife, label: {en: Midwife, cy: Bydwraig}}\n"
    "      - {value: leaflet, label: {en: Leaflet, cy: Taflen}}\n      - '5'",
).replace("text: Thank you.", "text: {en: Thank you., cy: Diolch.}")
WELSH_STUDY = (
    STUDY.replace("label: Parents", "label: {en: Parents, cy: Rhieni}")
    .replace("signposting: Call NHS 111 for urgent help, or 999 in an emergency.", "signposting: {en: Call NHS 111 or 999., cy: Ffoniwch GIG 111 neu 999.}")
    .replace("delphi.reason: Why that score?", "delphi.reason: {en: Why?, cy: Pam?}")
)
WELSH_ITEMS = """\
- {id: A named midwife, text: {en: A named midwife, cy: Bydwraig a enwir}}
- {id: Medicines sooner, text: {en: Medicines sooner, cy: Meddyginiaethau yn gynt}}
- {id: Baby checks on the ward, text: {en: Baby checks on the ward, cy: Gwiriadau babi ar y ward}}
"""
WELSH_ROUND1 = ROUND1.replace("items.txt", "items.yaml").replace(
    "label: Medicines sooner", "label: {en: Medicines sooner, cy: Meddyginiaethau yn gynt}"
)
WELSH_CHOICES = CHOICES.replace(
    "wait: [4 hours, 8 hours]", "wait:\n        levels: [4h, 8h]\n        labels: {4h: {en: 4 hours, cy: 4 awr}, 8h: {en: 8 hours, cy: 8 awr}}"
    "\n        label: {en: wait, cy: aros}"
).replace("levels: [ward, home]", "label: {en: place, cy: lle}\n        levels: [ward, home]").replace(
    "cost: [0, 10]", "cost: {levels: [0, 10], label: {en: cost, cy: cost}}"
)


def test_a_study_in_welsh_throughout_gets_no_warning(tmp_path: Path) -> None:
    folder = a_study(tmp_path, study_yaml=WELSH_STUDY, welcome_yaml=WELSH_WELCOME, round1_yaml=WELSH_ROUND1,
                     items_yaml=WELSH_ITEMS, choices_yaml=WELSH_CHOICES)
    problems, checked = validate_paths([folder])
    long_sms = [p for p in problems if "SMS segments" in p.message]  # Chorus's own Welsh around the Delphi item
    assert checked == 4 and [p for p in problems if p not in long_sms] == [], "\n".join(map(str, problems))


def test_a_study_in_one_language_is_not_asked_for_translations(tmp_path: Path) -> None:
    folder = a_study(tmp_path, study_yaml=STUDY.replace("languages: [en, cy]", "languages: [en]"))
    problems, _ = validate_paths([folder])
    assert problems  # the Welsh written anyway is not one of the languages...
    assert not [p for p in problems if "version" in p.message], "\n".join(map(str, problems))  # ...and nothing lacks one


def test_items_from_a_yaml_file_name_the_file_the_language_and_the_lines(tmp_path: Path) -> None:
    items = textwrap.dedent("""\
        - {id: a, text: {en: A named midwife, cy: Bydwraig a enwir}}
        # one left in English only, and one whose Welsh was forgotten
        - Medicines sooner
        - id: checks
          text: {en: Baby checks on the ward}
        """)
    folder = a_study(tmp_path, study_yaml=WELSH_STUDY, welcome_yaml=WELSH_WELCOME, choices_yaml=WELSH_CHOICES,
                     round1_yaml=WELSH_ROUND1, items_yaml=items)
    problems, _ = validate_paths([folder])
    once, left_out = sorted((p for p in problems if "SMS" not in p.message), key=lambda p: p.severity, reverse=True)
    assert Path(once.file).name == "round1.yaml" and (once.line, once.severity) == (6, "warning")
    assert once.message.startswith("1 of the 3 items in items.yaml (line 3) has no Welsh ('cy') version")
    assert "write each item of items.yaml with its text in every language" in once.hint
    assert (left_out.line, left_out.severity) == (6, "error")  # a map that leaves Welsh out, as in a flow
    assert left_out.message.startswith("1 of the 3 items in items.yaml (line 4) has no Welsh ('cy') version")
    assert left_out.hint == "add 'cy: ...' to each item's text in items.yaml"


def test_a_flow_checked_on_its_own_uses_its_own_languages(tmp_path: Path) -> None:
    flow = tmp_path / "alone.yaml"
    flow.write_text("flow: alone\nlanguages: [en, cy, pl]\nsteps:\n  - id: bye\n    type: end\n    text: Thank you.\n",
                    encoding="utf-8")
    (problem,) = validate_paths([flow])[0]
    assert problem.severity == "warning" and (problem.line, problem.column) == (6, 11)
    assert problem.message.startswith("a text participants see has no Welsh ('cy') or 'pl' version")
    assert problem.hint == "write each as a map of languages, e.g. 'text: {en: Thank you., cy: ..., pl: ...}'"


def test_the_summary_is_a_line_of_its_own_after_the_warnings(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(a_study(tmp_path))])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == "4 files checked: 0 errors, 5 warnings"
    assert all(": warning: " in line for line in lines[:-1]) and len(lines) == 6
    assert result.stderr == ""
