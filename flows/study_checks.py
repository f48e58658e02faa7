"""What ``chorus validate`` checks in a study file itself: the flows and groups it names,
its ways in (keywords and Telegram parameters), Chorus's own texts in its languages, the
participant fields its schedules count from, the groups its flows save, and its own texts'
translations. Its schedules are checked by :mod:`flows.schedule_checks`, Delphi rounds
across its flows by :mod:`flows.delphi_checks`; :mod:`flows.validate` runs them all.
"""

from __future__ import annotations

import difflib
import re

from flows.flow_checks import translation_problems
from flows.loader import LoadedStudy, Marks, Problem, YamlPath, step_path
from flows.model import Study
from flows.pydantic_errors import did_you_mean
from flows.template_order import saved_fields
from flows.translation_checks import untranslated_study_texts
from flows.words import COMMANDS, LANGUAGE_NAMES, OTHER_LANGUAGE_CODES, Words, untranslated


def unknown_names(study: Study, known: set[str], marks: Marks) -> list[Problem]:
    """Flows (of ``known``) and groups the study names that it does not have."""
    problems: list[Problem] = []

    def need_flow(name: str | None, path: YamlPath, what: str) -> None:
        if name is not None and name not in known:
            problems.append(
                marks.problem(
                    marks.value(path),
                    f"{what} '{name}' is not a flow of this study",
                    did_you_mean(name, known),
                )
            )

    groups = study.group_ids()

    def need_group(name: str | None, path: YamlPath) -> None:
        if name is not None and name not in groups:
            hint = did_you_mean(name, groups) if groups else f"add 'groups: [{name}]' to the study"
            problems.append(
                marks.problem(
                    marks.value(path), f"group '{name}' is not one of the study's groups", hint
                )
            )

    def need_language(code: str | None, path: YamlPath) -> None:
        if code is not None and code not in study.languages:
            hint = did_you_mean(code, study.languages)
            problems.append(marks.problem(marks.value(path), f"language '{code}' is not one of the study's languages", hint))

    need_flow(study.join.start_flow, ("join", "start_flow"), "start_flow")
    need_group(study.join.group, ("join", "group"))
    need_language(study.join.language, ("join", "language"))
    for index, route in enumerate(study.join.routes):
        need_flow(route.flow, ("join", "routes", str(index), "flow"), "the route's flow")
        need_group(route.group, ("join", "routes", str(index), "group"))
        need_language(route.language, ("join", "routes", str(index), "language"))
    for index, entry in enumerate(study.schedule):
        need_flow(entry.flow, ("schedule", str(index), "flow"), "the scheduled flow")
        for number, group in enumerate(entry.groups or []):
            need_group(group, ("schedule", str(index), "groups", str(number)))
    return problems


def ways_in(study: Study, marks: Marks) -> list[Problem]:
    """Keywords and Telegram parameters must be distinct and not clash with global words."""
    places: list[tuple[str, str | None, YamlPath]] = [
        ("keyword", study.join.keyword, ("join", "keyword")),
        ("telegram", study.join.telegram, ("join", "telegram")),
    ]
    for index, route in enumerate(study.join.routes):
        places += [
            ("keyword", route.keyword, ("join", "routes", str(index), "keyword")),
            ("telegram", route.telegram, ("join", "routes", str(index), "telegram")),
        ]
    problems: list[Problem] = []
    seen: dict[tuple[str, str], YamlPath] = {}
    words = Words(study)
    for kind, value, path in places:
        if value is None:
            continue
        key = (kind, value.strip().lower() if kind == "keyword" else value)
        if key in seen:
            line = marks.value(seen[key])[0]
            problems.append(
                marks.problem(
                    marks.value(path),
                    f"the {kind} '{value}' is used twice (first on line {line})",
                    "each way in needs its own keyword or parameter",
                )
            )
        seen.setdefault(key, path)
        if kind == "keyword" and words.command(value):
            problems.append(
                marks.problem(
                    marks.value(path),
                    f"the keyword '{value}' is also the global word {words.command(value)!r}",
                    "choose another keyword",
                )
            )
    return problems


def unknown_word_meanings(study: Study, marks: Marks) -> list[Problem]:
    """``words:`` adds words for Chorus's global words only: a key that is none of them
    ('mother: {en: [mum]}', meant as another word for an option) would be read by nothing."""
    problems = []
    for meaning in study.words:
        if meaning in COMMANDS:
            continue
        problems.append(marks.problem(
            marks.key(("words", meaning)),
            f"'words:' adds words for Chorus's global words ({', '.join(COMMANDS)}); '{meaning}' is none of them, "
            "so its words would never be read",
            did_you_mean(meaning, COMMANDS, listing=False)
            or "to accept another word for an option, put it in the option's label: {value: mother, label: Mum or mother}",
        ))
    return problems


def built_in_texts(study: Study, marks: Marks) -> list[Problem]:
    """A language Chorus has no texts of its own in: its participants would get hints,
    HELP and STOP's reply in English unless the study gives them."""
    problems = []
    for index, language in enumerate(study.languages):
        missing = untranslated(study, language)
        if missing:
            shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
            problems.append(marks.problem(
                marks.value(("languages", str(index))),
                f"Chorus's own texts ({shown}) are written in English and Welsh only: '{language}' "
                "participants would get them in English",
                _built_in_code_hint(language, study.languages)
                or f"add a '{language}' version of each under 'texts:' (chorus texts --lang {language} prints them to fill in)",
                "warning",
            ))
    return problems


def _built_in_code_hint(language: str, languages: list[str]) -> str:
    """Where ``language`` is another name for one Chorus has texts in ('cym', 'Welsh'), the code
    to write instead ('cy'), unless the study lists that too."""
    code = OTHER_LANGUAGE_CODES.get(language.lower())
    if code is None or code in languages:
        return ""
    name = LANGUAGE_NAMES[code]["en"]
    return (f"did you mean '{code}'? Chorus knows {name} by its two-letter code '{code}', with all its own texts "
            f"in {name}; write {code}: in the flows' texts too")


CRISIS_WORDS = re.compile(
    r"\b(?:999|112|911|000|988|116 ?123|116 ?111|samaritans?|samariaid|crisis|argyfwng|emergency|emergencies"
    r"|lifeline|helpline|llinell gymorth)\b",
    re.IGNORECASE,
)
"""What a crisis signpost names: an emergency number (UK, EU, North America, Australia), a
crisis line, or the words for an emergency or a crisis (English and Welsh)."""


def signposting_names_crisis_help(study: Study, marks: Marks) -> list[Problem]:
    """The study's own ``signposting`` replaces Chorus's NHS 111 / 999 / Samaritans text, and
    it goes to anyone whose message suggests a risk of harm (suicide, abuse, a collapse), not
    only the risks the study is about: one that names no emergency number or crisis line (a
    foot clinic's "call your podiatry team about a wound", say) would leave a participant in
    crisis with advice about something else."""
    if study.signposting is None:
        return []
    texts = study.signposting if isinstance(study.signposting, dict) else {study.languages[0]: study.signposting}
    lacking = [language for language, text in texts.items() if not CRISIS_WORDS.search(text)]
    if not lacking:
        return []
    which = "" if not isinstance(study.signposting, dict) else f" (in {', '.join(lacking)})"
    return [marks.problem(
        marks.value(("signposting",)),
        f"the signposting{which} names no emergency number or crisis line, yet it is sent to anyone whose "
        "message suggests a risk of harm to themselves or others or a medical emergency, not only the risks "
        "this study is about",
        "name where to get help at once (e.g. '999 in an emergency; Samaritans, free, day or night, on 116 123'), "
        "or leave 'signposting' out to send Chorus's own NHS 111 / 999 / Samaritans text",
        "warning",
    )]


def schedule_anchors(loaded: LoadedStudy, intended: dict[str, str], marks: Marks) -> list[Problem]:
    """A schedule counted from a participant field no step saves waits for that date for
    ever: the scheduler looks again every hour, then gives up, and the flow is never sent.
    Not checked while a flow file is broken: its steps may save the field."""
    if set(intended.values()) - set(loaded.flows):
        return []
    saved: set[str] = set()
    for flow in loaded.flows.values():
        saved |= saved_fields(flow.flow)
    problems: list[Problem] = []
    for index, entry in enumerate(loaded.study.schedule):
        field = entry.anchor_field()
        if field is None or field in saved:
            continue
        problems.append(marks.problem(
            marks.value(("schedule", str(index), "relative_to")),
            f"the flow '{entry.flow}' is timed from participant.{field}, but no step of this study "
            f"saves participant.{field}, so the flow would never be sent",
            _anchor_hint(field, saved),
        ))
    return problems


def group_answers(loaded: LoadedStudy) -> list[Problem]:
    """A choice saved to ``participant.group`` puts its option's value there: a value that is
    not one of the study's group ids makes a group nobody schedules for or reports by (an
    option ``Patient`` for the group ``patient``)."""
    groups = loaded.study.group_ids()
    if not groups:
        return []
    problems: list[Problem] = []
    for flow in loaded.flows.values():
        marks = flow.marks or Marks(flow.path)
        for index, step in enumerate(flow.flow.steps):
            if getattr(step, "save_to", None) != "participant.group":
                continue
            for number, option in enumerate(getattr(step, "options", None) or []):
                value = getattr(option, "value", None)
                if isinstance(value, str) and value not in groups:
                    problems.append(marks.problem(
                        marks.value(step_path(index, "options", str(number))),
                        f"step '{step.id}' saves participant.group, but its option '{value}' is not one of the study's "
                        f"groups ({', '.join(sorted(groups))})",
                        _group_hint(value, groups),
                    ))
    return problems


def _group_hint(value: str, groups: list[str]) -> str:
    """Write the option as the group's id with the words shown as its label."""
    same = next((group for group in groups if group.lower() == value.lower()), None)
    if same is not None:
        return f"write it as '- {{value: {same}, label: {value}}}': the value is what is saved, the label what people see"
    return did_you_mean(value, set(groups)) or "add the group to the study's 'groups', or give the option a group's id as its value"


def _anchor_hint(field: str, saved: set[str]) -> str:
    close = difflib.get_close_matches(field, sorted(saved), n=1, cutoff=0.6)
    if close:
        return f"did you mean 'participant.{close[0]}'?"
    return (
        f"add 'save_to: participant.{field}' to the step that asks for this date, "
        "or leave out relative_to to count from the day the participant joined"
    )


def study_translations(study: Study, marks: Marks) -> list[Problem]:
    """The study's title, signposting, texts and group labels in each of its languages: a map
    leaving a language out is an error; a text written once, in a study of several languages,
    one warning for the file."""
    languages = study.languages
    problems = translation_problems(study.title, ("title",), languages, marks, "the study's title")
    if study.signposting is not None:
        problems += translation_problems(
            study.signposting, ("signposting",), languages, marks, "signposting"
        )
    for key, text in study.texts.items():
        problems += translation_problems(
            text, ("texts", key), languages, marks, f"the text '{key}'"
        )
    for index, group in enumerate(study.groups):
        if group.label is not None:
            problems += translation_problems(
                group.label,
                ("groups", str(index), "label"),
                languages,
                marks,
                f"the label of group '{group.id}'",
            )
    return problems + untranslated_study_texts(study, marks)
