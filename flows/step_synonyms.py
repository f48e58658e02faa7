"""What to suggest for an unknown step type: the names other survey tools give a step, and
the Chorus type that does the same."""

from __future__ import annotations

import re

from flows.pydantic_errors import did_you_mean

STEP_TYPE_SYNONYMS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        ("text", "free_text", "freetext", "text_input", "open_text", "open_ended", "open_question",
         "question", "string", "textarea", "comment", "comments", "input", "free", "short_answer",
         "long_answer", "paragraph", "essay", "voice"),
        ("open", "for a free-text or voice answer"),
    ),
    **dict.fromkeys(
        ("multiple_choice", "multi_choice", "multichoice", "single_choice", "select", "radio",
         "radio_buttons", "dropdown", "drop_down", "option", "options", "pick", "menu", "buttons",
         "list"),
        ("choice", "for one option from a list"),
    ),
    **dict.fromkeys(
        ("checkbox", "checkboxes", "multi_select", "multiselect", "select_many", "pick_many"),
        ("choice", "with 'multiple: true' for several options"),
    ),
    **dict.fromkeys(
        ("likert", "rating", "rate", "slider", "stars", "star_rating", "nps", "score", "linear_scale"),
        ("scale", "for a rating or Likert scale"),
    ),
    **dict.fromkeys(
        ("boolean", "bool", "yes_no", "yes/no", "yn", "binary", "true_false", "confirm"),
        ("yesno", "for yes or no"),
    ),
    **dict.fromkeys(
        ("ranking", "order", "ordering", "sort", "sorting", "priority", "priorities", "prioritise",
         "prioritize"),
        ("rank", "for putting options in order"),
    ),
    **dict.fromkeys(
        ("integer", "int", "numeric", "float", "decimal", "count", "age", "quantity"),
        ("number", "for a number"),
    ),
    **dict.fromkeys(
        ("date", "datetime", "date_time", "date_picker", "datepicker", "calendar", "dob", "birthday",
         "date_of_birth", "day"),
        ("open", "for a date, with 'save_to: participant.<field>' (a schedule's 'relative_to' reads "
                 "it: '3/9/2026', '3 Sept', 'yesterday')"),
    ),
    **dict.fromkeys(
        ("info", "information", "say", "note", "intro", "introduction", "display", "show", "notice",
         "announcement", "greeting", "welcome"),
        ("message", "for a text that needs no answer"),
    ),
    **dict.fromkeys(
        ("agree", "agreement", "permission", "opt_in", "optin", "consent_form"),
        ("consent", "for YES or NO, where NO ends the conversation"),
    ),
    **dict.fromkeys(
        ("finish", "exit", "done", "goodbye", "bye", "stop", "thanks", "thank_you", "close",
         "outro", "final", "ending"),
        ("end", "for a last text that ends the conversation"),
    ),
    **dict.fromkeys(
        ("delphi_round", "delphi_rating", "round", "rating_round", "grade", "consensus"),
        ("delphi", "for rating items in Delphi rounds"),
    ),
    **dict.fromkeys(
        ("pair", "pairs", "pairwise_comparison", "compare", "comparison", "all_our_ideas",
         "allourideas", "versus", "vs", "head_to_head"),
        ("pairwise", "for picking the better of two ideas"),
    ),
    **dict.fromkeys(
        ("dce", "discrete_choice", "discrete_choice_experiment", "conjoint", "choice_set",
         "choice_sets", "trade_off", "tradeoff", "tradeoffs", "experiment"),
        ("choice_experiment", "for a discrete choice experiment"),
    ),
    **dict.fromkeys(
        ("polis", "pol_is", "vote", "voting", "votes", "agree_disagree", "opinions"),
        ("statements", "for agreeing or disagreeing with statements"),
    ),
}
"""Names other survey tools give a step type, and the Chorus type that does the same."""


def type_hint(kind: str, known: list[str]) -> str:
    """What to write instead of an unknown step type: a synonym's Chorus type, a close
    spelling, or every type there is."""
    key = re.sub(r"[\s-]+", "_", kind.strip().lower())
    synonym = STEP_TYPE_SYNONYMS.get(key)
    if synonym is not None and synonym[0] in known:
        return f"did you mean '{synonym[0]}', {synonym[1]}?"
    return did_you_mean(kind, known, limit=None)
