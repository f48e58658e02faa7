"""Global words (STOP, START, HELP, LATER, BACK, language) and the built-in texts,
in English and Welsh. A study may add synonyms and override any text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from flows.corrections import asks_to_go_back
from flows.model import Study, resolve_text
from flows.parsing import parse_yes_no

COMMANDS = ("stop", "start", "help", "later", "back", "language", "erase")

BUILT_IN_WORDS: dict[str, dict[str, list[str]]] = {
    "stop": {
        "en": ["stop", "stopall", "unsubscribe", "cancel", "end", "quit", "opt out", "/stop"],
        "cy": ["stopio", "dad-danysgrifio", "diwedd"],
    },
    "start": {"en": ["start", "unstop", "resume", "/start"], "cy": ["dechrau", "ailddechrau"]},
    "help": {"en": ["help", "info", "/help", "?"], "cy": ["help", "cymorth"]},
    "later": {
        "en": ["later", "not now", "busy", "snooze", "remind me later", "not right now", "busy now", "busy right now",
               "busy at the moment", "can't talk", "cant talk", "can't talk now", "cant talk now"],
        "cy": ["wedyn", "nes ymlaen", "dim nawr", "ddim nawr", "methu siarad"],
    },
    "back": {"en": ["back", "go back", "previous", "undo"], "cy": ["yn ôl", "yn ol", "nôl", "nol"]},
    "erase": {"en": ["delete my data", "erase my data", "forget me"], "cy": ["dileu fy nata"]},
}
POLITE = frozenset({"please", "pls", "plz", "plis", "thanks", "thank", "you", "thx", "diolch", "it", "now", "me", "just",
                    "ok", "okay", "sorry", "messaging", "texting", "messages", "texts", "sending"})
"""Words that may go with a global word without changing it: 'stop it please', 'go back please'."""
POLITE_PHRASES = ("os gwelwch yn dda", "os gwelwch chi'n dda", "if you can", "if you don't mind")
"""Polite phrases of several words, dropped from either end of a reply like :data:`POLITE`."""
LANGUAGE_WORDS: dict[str, list[str]] = {
    "en": ["english", "saesneg"],
    "cy": ["cymraeg", "welsh"],
}
LANGUAGE_COMMAND = ["language", "iaith", "/language"]
LANGUAGE_NAMES: dict[str, dict[str, str]] = {"en": {"en": "English", "cy": "Saesneg"}, "cy": {"en": "Welsh", "cy": "Gymraeg"}}
"""Each built-in language's name, in each built-in language (Welsh after 'Am': Gymraeg)."""

BUILT_IN_TEXTS: dict[str, dict[str, str]] = {
    "yes": {"en": "Yes", "cy": "Ydw"},
    "no": {"en": "No", "cy": "Nac ydw"},
    "unsure": {"en": "Not sure", "cy": "Ddim yn siŵr"},
    "stopped": {
        "en": "You will get no more messages from us. Reply START if you change your mind.",
        "cy": "Chewch chi ddim rhagor o negeseuon gennym. Atebwch DECHRAU os newidiwch eich meddwl.",
    },
    "restarted": {"en": "Welcome back.", "cy": "Croeso'n ôl."},
    "erase_confirm": {
        "en": "Reply YES to delete everything you have told us: your answers, voice notes, messages and your number. "
              "We will not be able to message you again. Reply anything else to keep it.",
        "cy": "Atebwch YDW i ddileu popeth rydych wedi'i ddweud wrthym: eich atebion, negeseuon llais, negeseuon a'ch rhif. "
              "Ni fyddwn yn gallu anfon neges atoch eto. Atebwch unrhyw beth arall i'w gadw.",
    },
    "erase_cancelled": {"en": "OK, we have not deleted anything.", "cy": "Iawn, nid ydym wedi dileu dim."},
    "erased": {  # the one message sent after an erasure, to the address it came from (bot/erasure.py)
        "en": "Your data has been deleted. You will get no more messages from this study.",
        "cy": "Mae eich data wedi'i ddileu. Chewch chi ddim rhagor o negeseuon gan yr astudiaeth hon.",
    },
    "help_ended": {
        "en": "There is nothing to answer now: we will write if there is more. Words that work any time: STOP (no more messages), DELETE MY DATA.",
        "cy": "Does dim i'w ateb nawr: byddwn yn ysgrifennu os oes mwy. Geiriau sy'n gweithio unrhyw bryd: STOPIO (dim rhagor o negeseuon), DILEU FY NATA.",
    },
    "erase_type_yes": {
        "en": "To keep your data safe, a voice note cannot delete it. Please type YES to delete everything you have told us, "
              "or reply anything else to keep it.",
        "cy": "Er mwyn cadw eich data'n ddiogel, ni all neges llais ei ddileu. Teipiwch YDW i ddileu popeth rydych wedi'i ddweud wrthym, "
              "neu atebwch unrhyw beth arall i'w gadw.",
    },
    "help": {
        "en": "Reply to the question to answer it. Words that work any time: BACK (previous question), LATER (pause), STOP (no more messages), DELETE MY DATA, HELP.",
        "cy": "Atebwch y cwestiwn. Geiriau sy'n gweithio unrhyw bryd: YN ÔL, WEDYN, STOPIO, DILEU FY NATA, HELP.",
    },
    "later": {
        "en": "No problem. We'll ask again later. Reply any time to carry on.",
        "cy": "Dim problem. Fe ofynnwn ni eto wedyn. Atebwch unrhyw bryd i barhau.",
    },
    "later_at": {
        "en": "No problem. We'll ask again {when}. Reply any time to carry on.",
        "cy": "Dim problem. Fe ofynnwn ni eto {when}. Atebwch unrhyw bryd i barhau.",
    },
    # A snooze that would come after a follow-up closes: brought forward ({closes}, {when}), or not made.
    "later_before_close": {
        "en": "No problem. This question closes {closes}, so we'll ask again {when}. Reply any time to carry on.",
        "cy": "Dim problem. Mae'r cwestiwn hwn yn cau {closes}, felly fe ofynnwn ni eto {when}. Atebwch unrhyw bryd i barhau.",
    },
    "later_closes": {
        "en": "Sorry, this question closes {closes}, before we could ask again. You can reply now if you have a moment.",
        "cy": "Mae'n ddrwg gennym, mae'r cwestiwn hwn yn cau {closes}, cyn y gallem ofyn eto. Gallwch ateb nawr os oes gennych funud.",
    },
    "already_joined": {
        "en": "You're already taking part, thank you. Here is the question again.",
        "cy": "Rydych chi eisoes yn cymryd rhan, diolch. Dyma'r cwestiwn eto.",
    },
    "back_at_start": {"en": "This is the first question.", "cy": "Dyma'r cwestiwn cyntaf."},
    # A correction ('sorry I meant 4') of the answer just given: {answer}, the new answer as shown.
    "answer_changed": {"en": "Changed your answer to {answer}.", "cy": "Wedi newid eich ateb i {answer}."},
    # 'I don't understand', 'what?', 'beth?' to a question: before it again, with its hint (not a try).
    "explain_again": {"en": "No problem, here is the question again.", "cy": "Dim problem, dyma'r cwestiwn eto."},
    # A text seconds after a free-text answer that answers nothing else: added to that answer.
    "added_to_answer": {"en": "Thanks, I've added that to your last answer.",
                        "cy": "Diolch, rydw i wedi ychwanegu hynny at eich ateb diwethaf."},
    "language_changed": {"en": "We'll write in English from now on.", "cy": "Byddwn yn ysgrifennu yn Gymraeg o hyn ymlaen."},
    "help_language": {"en": "For {name}, reply {choices}.", "cy": "Am {name}, atebwch {choices}."},
    "help_languages": {"en": "For another language, reply {choices}.", "cy": "Am iaith arall, atebwch {choices}."},
    "language_ask": {"en": "Which language would you like? Reply {choices}.", "cy": "Pa iaith hoffech chi? Atebwch {choices}."},
    "or": {"en": "or", "cy": "neu"},
    "language_unknown": {"en": "Sorry, that language is not available. Reply {choices}.", "cy": "Mae'n ddrwg gennym, nid yw'r iaith honno ar gael. Atebwch {choices}."},
    "ended": {"en": "Thank you, that's all for now.", "cy": "Diolch, dyna'r cyfan am y tro."},
    # A reply after a conversation ended at consent without a YES ({start}: "START or WAIT", the words that begin again).
    "ended_not_consented": {
        "en": "You're not taking part at the moment. If you'd like to take part, reply {start}.",
        "cy": "Dydych chi ddim yn cymryd rhan ar hyn o bryd. Os hoffech chi gymryd rhan, atebwch {start}.",
    },
    # Put before a scheduled flow's first message when the last message to the participant was long ago.
    "follow_up.greeting": {"en": "{title}: hello again.", "cy": "{title}: helo eto."},
    "media.not_read": {
        "en": "Sorry, we can only read text and voice notes. Please type your answer, or send a voice note.",
        "cy": "Mae'n ddrwg gennym, dim ond testun a negeseuon llais y gallwn ni eu darllen. Teipiwch eich ateb, neu anfonwch neges llais.",
    },
    "media.not_read_typed": {
        "en": "Sorry, we can only read text. Please type your answer.",
        "cy": "Mae'n ddrwg gennym, dim ond testun y gallwn ni ei ddarllen. Teipiwch eich ateb.",
    },
    "declined": {
        "en": "Thank you. We won't ask you anything more. If you change your mind, reply START.",
        "cy": "Diolch. Ni fyddwn yn gofyn dim mwy i chi. Os newidiwch eich meddwl, atebwch DECHRAU.",
    },
    # A consent step with no clear YES after every try, or no reply before its timeout (outcome no_consent).
    "no_consent": {
        "en": "Sorry, we couldn't tell whether you'd like to take part, so we won't ask you anything more for now. "
              "If you would like to take part, reply START.",
        "cy": "Mae'n ddrwg gennym, doedden ni ddim yn siŵr a hoffech chi gymryd rhan, felly ni fyddwn yn gofyn dim mwy i chi am y tro. "
              "Os hoffech chi gymryd rhan, atebwch DECHRAU.",
    },
    "skip_hint": {"en": "(Reply SKIP to leave this one out.)", "cy": "(Atebwch HEPGOR i hepgor hwn.)"},
    "skipped": {"en": "Let's move on.", "cy": "Symudwn ymlaen."},
    "signposting": {
        "en": "If you need help now: call NHS 111, or 999 in an emergency. Samaritans listen, free, day or night, on 116 123. Someone from the team will also see your message.",
        "cy": "Os oes angen help arnoch nawr: ffoniwch GIG 111, neu 999 mewn argyfwng. Mae'r Samariaid yn gwrando, am ddim, ddydd a nos, ar 116 123. Bydd rhywun o'r tîm hefyd yn gweld eich neges.",
    },
    "fallback": {"en": "Sorry, something went wrong with this message.", "cy": "Mae'n ddrwg gennym, aeth rhywbeth o'i le gyda'r neges hon."},
    "hint_yesno": {"en": "Please reply YES or NO.", "cy": "Atebwch YDW neu NAC YDW."},
    "hint_choice": {"en": "Please reply with a number from 1 to {n}.", "cy": "Atebwch gyda rhif o 1 i {n}."},
    "hint_choice_two": {"en": "Please reply 1 or 2 (or the words).", "cy": "Atebwch 1 neu 2 (neu'r geiriau)."},
    # A number said with a unit the question does not ask in ('6 hours' to 'how many times?'); the usual hint follows.
    "hint_other_unit": {"en": "That looks like {said}, which is not what this question asks.",
                        "cy": "Mae hynny'n edrych fel {said}, a dyw hynny ddim yn ateb y cwestiwn hwn."},
    # A number read from a typed sentence that says more than it, checked before it counts.
    "confirm_number": {"en": "Just to check: {answer}? Reply YES or NO, or send the number.",
                       "cy": "I wneud yn siŵr: {answer}? Atebwch YDW neu NAC YDW, neu anfonwch y rhif."},
    "confirm_try_again": {"en": "Sorry about that. Please send your answer again.", "cy": "Mae'n ddrwg gennym. Anfonwch eich ateb eto."},
    "hint_choices": {"en": "Please reply with one or more numbers from 1 to {n}, e.g. 1 3.", "cy": "Atebwch gydag un neu fwy o rifau o 1 i {n}, e.e. 1 3."},
    "hint_choices_up_to": {"en": "Please reply with up to {most} numbers from 1 to {n}, e.g. 1 3.",
                           "cy": "Atebwch gyda hyd at {most} rhif o 1 i {n}, e.e. 1 3."},
    "hint_choices_at_least": {"en": "Please reply with at least {least} numbers from 1 to {n}, e.g. 1 3.",
                              "cy": "Atebwch gydag o leiaf {least} rhif o 1 i {n}, e.e. 1 3."},
    "hint_choices_between": {"en": "Please reply with {least} to {most} numbers from 1 to {n}, e.g. 1 3.",
                             "cy": "Atebwch gyda {least} i {most} rhif o 1 i {n}, e.e. 1 3."},
    "hint_scale_unsure": {"en": "Please reply with a number from {low} to {high}, or '{unsure}'.",
                          "cy": "Atebwch gyda rhif o {low} i {high}, neu '{unsure}'."},
    "hint_scale": {"en": "Please reply with a number from {low} to {high}.", "cy": "Atebwch gyda rhif o {low} i {high}."},
    # A scale with a label on every point, which reads the labels too ('pretty poor tbh' is 'Poorly').
    "hint_scale_words": {"en": "Please reply with a number from {low} to {high}, or words such as '{first}' or '{last}'.",
                         "cy": "Atebwch gyda rhif o {low} i {high}, neu eiriau fel '{first}' neu '{last}'."},
    "hint_number": {"en": "Please reply with a number, e.g. 3.", "cy": "Atebwch gyda rhif, e.e. 3."},
    "hint_number_range": {"en": "Please reply with a number from {low} to {high}.", "cy": "Atebwch gyda rhif o {low} i {high}."},
    "hint_decimal": {"en": "Please reply with a number, e.g. {example}.", "cy": "Atebwch gyda rhif, e.e. {example}."},
    "hint_decimal_range": {
        "en": "Please reply with a number from {low} to {high}; decimals are fine, e.g. {example}.",
        "cy": "Atebwch gyda rhif o {low} i {high}; mae degolion yn iawn, e.e. {example}.",
    },
    "hint_open": {"en": "Please tell us a little more in your own words.", "cy": "Dywedwch ychydig mwy yn eich geiriau eich hun."},
    "hint_type_please": {"en": "Please type your answer for this one.", "cy": "Teipiwch eich ateb i hwn."},
    "too_many_tries": {"en": "Let's leave that one and move on.", "cy": "Gadewch i ni adael hwnnw a symud ymlaen."},
    "flagged": {"en": "Thanks. Someone from the team will look at your answer.", "cy": "Diolch. Bydd rhywun o'r tîm yn edrych ar eich ateb."},
    # Voice notes: the acknowledgement, reading an answer back, and why a note gave no answer
    # (keyed by nlp.audio.FailureKind.message_key). {heard} is what the transcriber heard.
    "voice_listening": {"en": "Thanks, listening to your voice note…", "cy": "Diolch, rydyn ni'n gwrando ar eich neges llais…"},
    "voice_confirm": {"en": "I heard: \"{heard}\". Is that right? Reply YES or NO.", "cy": "Clywais i: \"{heard}\". Ydy hynny'n iawn? Atebwch YDW neu NAC YDW."},
    "voice_confirm_answer": {
        "en": "I heard: \"{heard}\", so your answer is {answer}. Is that right? Reply YES or NO.",
        "cy": "Clywais i: \"{heard}\", felly eich ateb yw {answer}. Ydy hynny'n iawn? Atebwch YDW neu NAC YDW.",
    },
    "voice_try_again": {"en": "Sorry about that. Please say it again, or type your answer.", "cy": "Mae'n ddrwg gennym. Dywedwch e eto, neu teipiwch eich ateb."},
    "voice_heard": {"en": "I heard: \"{heard}\".", "cy": "Clywais i: \"{heard}\"."},
    "voice.not_accepted": {
        "en": "Thanks, but we need a typed answer to this question. Please type your reply.",
        "cy": "Diolch, ond mae angen ateb wedi'i deipio i'r cwestiwn hwn. Teipiwch eich ateb.",
    },
    "voice.too_large": {
        "en": "Sorry, that voice note is too big for us. Could you send a shorter one, or type your answer?",
        "cy": "Mae'n ddrwg gennym, mae'r neges llais honno'n rhy fawr i ni. Allwch chi anfon un fyrrach, neu deipio eich ateb?",
    },
    "voice.too_long": {
        "en": "Sorry, that voice note is too long for us. Could you send a shorter one, or type your answer?",
        "cy": "Mae'n ddrwg gennym, mae'r neges llais honno'n rhy hir i ni. Allwch chi anfon un fyrrach, neu deipio eich ateb?",
    },
    "voice.corrupt": {
        "en": "Sorry, we couldn't play that voice note. Could you send it again, or type your answer?",
        "cy": "Mae'n ddrwg gennym, doedden ni ddim yn gallu chwarae'r neges llais honno. Allwch chi ei hanfon eto, neu deipio eich ateb?",
    },
    "voice.empty": {
        "en": "That voice note seems to be empty. Could you record it again, or type your answer?",
        "cy": "Mae'n ymddangos bod y neges llais honno'n wag. Allwch chi ei recordio eto, neu deipio eich ateb?",
    },
    "voice.silence": {
        "en": "We couldn't hear anything in that voice note. Could you record it again, or type your answer?",
        "cy": "Doedden ni ddim yn gallu clywed dim yn y neges llais honno. Allwch chi ei recordio eto, neu deipio eich ateb?",
    },
    "voice.no_speech": {
        "en": "We couldn't make out any words in that voice note. Could you record it again, or type your answer?",
        "cy": "Doedden ni ddim yn gallu clywed unrhyw eiriau yn y neges llais honno. Allwch chi ei recordio eto, neu deipio eich ateb?",
    },
    "voice.download_failed": {
        "en": "Sorry, we couldn't fetch that voice note. Could you send it again, or type your answer?",
        "cy": "Mae'n ddrwg gennym, doedden ni ddim yn gallu nôl y neges llais honno. Allwch chi ei hanfon eto, neu deipio eich ateb?",
    },
    "voice.failed": {
        "en": "Sorry, something went wrong with that voice note. Could you send it again, or type your answer?",
        "cy": "Mae'n ddrwg gennym, aeth rhywbeth o'i le gyda'r neges llais honno. Allwch chi ei hanfon eto, neu deipio eich ateb?",
    },
    # A voice note in a language the speech model cannot transcribe (an English-only model): type instead.
    "voice.language_unsupported": {
        "en": "Sorry, we can't understand voice notes in your language yet. Could you type your answer instead?",
        "cy": "Mae'n ddrwg gennym, allwn ni ddim deall negeseuon llais yn Gymraeg eto. Allwch chi deipio eich ateb yn lle hynny?",
    },
    # Delphi rounds: feedback from round 2 on ({own}, {label}, {pct}, {band}, {median}), the
    # default scale bands, the pause between batches and the hints.
    "delphi.own_score": {"en": "Last time you said {own}.", "cy": "Y tro diwethaf, fe roesoch chi {own}."},
    "delphi.no_own_score": {"en": "Last time you did not give a score.", "cy": "Y tro diwethaf, ni roesoch chi sgôr."},
    "delphi.everyone": {"en": "Everyone", "cy": "Pawb"},
    "delphi.group_result": {"en": "{label}: {pct}% said {band} (median {median}).", "cy": "{label}: dywedodd {pct}% {band} (canolrif {median})."},
    "delphi.group_none": {"en": "{label}: no scores.", "cy": "{label}: dim sgorau."},
    "delphi.chart_title": {"en": "{label}: median {median}", "cy": "{label}: canolrif {median}"},
    "delphi.chart_people": {"en": "people", "cy": "pobl"},
    "delphi.chart_score": {"en": "score", "cy": "sgôr"},
    "delphi.chart_you": {"en": "you", "cy": "chi"},
    "delphi.low_label": {"en": "not important", "cy": "ddim yn bwysig"},
    "delphi.middle_label": {"en": "important but not critical", "cy": "pwysig ond ddim yn hanfodol"},
    "delphi.high_label": {"en": "critical", "cy": "hanfodol"},
    "delphi.keep": {"en": "Keep {own}", "cy": "Cadw {own}"},
    "delphi.next": {"en": "Next", "cy": "Nesaf"},
    "delphi.ok": {"en": "OK", "cy": "Iawn"},
    "delphi.batch_done": {
        "en": "That's {done} of {total}. Reply NEXT for {more} more, or LATER to carry on another time.",
        "cy": "Dyna {done} o {total}. Atebwch NESAF am {more} arall, neu WEDYN i barhau rywbryd eto.",
    },
    "delphi.reason": {"en": "Why did you give that score? (Reply NO to skip)", "cy": "Pam rhoesoch chi'r sgôr honno? (Atebwch NA i hepgor)"},
    "delphi.nothing_left": {
        "en": "There is nothing left to rate in this round. Reply OK to carry on.",
        "cy": "Does dim byd ar ôl i'w sgorio yn y rownd hon. Atebwch IAWN i barhau.",
    },
    "delphi.next_or_later": {"en": "Reply LATER to stop for now, or NEXT to carry on.", "cy": "Atebwch WEDYN i stopio am nawr, neu NESAF i barhau."},
    "delphi.hint": {"en": "Please reply with a number from {low} to {high}.", "cy": "Atebwch gyda rhif o {low} i {high}."},
    "delphi.hint_unsure": {
        "en": "Please reply with a number from {low} to {high}, or NOT SURE.",
        "cy": "Atebwch gyda rhif o {low} i {high}, neu DDIM YN SIŴR.",
    },
    "delphi.hint_keep": {
        "en": "Please reply with a number from {low} to {high}, or KEEP for {own} again.",
        "cy": "Atebwch gyda rhif o {low} i {high}, neu CADW i roi {own} eto.",
    },
    "delphi.hint_unsure_keep": {
        "en": "Please reply with a number from {low} to {high}, KEEP for {own} again, or NOT SURE.",
        "cy": "Atebwch gyda rhif o {low} i {high}, CADW i roi {own} eto, neu DDIM YN SIŴR.",
    },
    "delphi.reason_not_a_score": {
        "en": "Please tell us in words why you gave {score}, or reply NO to skip.",
        "cy": "Dywedwch wrthym mewn geiriau pam rhoesoch chi {score}, neu atebwch NA i hepgor.",
    },
    # Several scores in one reply ('8 9 7'): only the item shown ({item}, in short) is asked.
    "delphi.one_at_a_time": {
        "en": "One score at a time, please: your score for \"{item}\", from {low} to {high}.",
        "cy": "Un sgôr ar y tro, os gwelwch yn dda: eich sgôr ar gyfer \"{item}\", o {low} i {high}.",
    },
    # Ranking ({so_far}: the options placed so far, in order; {example}: e.g. "3 2 1"; {numbers}: the
    # numbers of the options left, e.g. "1, 3 or 4"; {placed}: options the reply named that are placed already).
    "rank.next": {"en": "Next most important?", "cy": "Beth sydd nesaf o ran pwysigrwydd?"},
    "rank.so_far": {"en": "(So far: {so_far})", "cy": "(Hyd yma: {so_far})"},
    "rank.hint_order": {
        "en": "Please put the options in order using their numbers, e.g. \"{example}\".",
        "cy": "Rhowch yr opsiynau mewn trefn gan ddefnyddio eu rhifau, e.e. \"{example}\".",
    },
    "rank.hint_next": {
        "en": "Please reply with the number of the next most important option: {numbers}.",
        "cy": "Atebwch gyda rhif yr opsiwn pwysicaf nesaf: {numbers}.",
    },
    "rank.already_placed": {
        "en": "You have already placed {placed}. Please reply with the number of the next most important option: {numbers}.",
        "cy": "Rydych chi eisoes wedi gosod {placed}. Atebwch gyda rhif yr opsiwn pwysicaf nesaf: {numbers}.",
    },
    # Statement voting ({word}: the study's add word, e.g. ADD).
    "statements.agree": {"en": "Agree", "cy": "Cytuno"},
    "statements.disagree": {"en": "Disagree", "cy": "Anghytuno"},
    "statements.pass": {"en": "Pass", "cy": "Pasio"},
    "statements.ok": {"en": "OK", "cy": "Iawn"},
    "statements.empty": {
        "en": "You have seen every statement for now. Reply OK to carry on.",
        "cy": "Rydych chi wedi gweld pob datganiad am y tro. Atebwch IAWN i barhau.",
    },
    "statements.empty_add": {
        "en": "You have seen every statement for now. Reply OK to carry on or {word} and your own statement.",
        "cy": "Rydych chi wedi gweld pob datganiad am y tro. Atebwch IAWN i barhau, neu {word} a'ch datganiad eich hun.",
    },
    "statements.add_word": {"en": "ADD", "cy": "YCHWANEGU"},  # shown (and read) where the step keeps the default add_word, ADD
    "statements.add_hint": {"en": "(Or reply {word} and a statement of your own.)", "cy": "(Neu atebwch {word} a datganiad eich hun.)"},
    "statements.add_example": {
        "en": "Write your statement after {word}, e.g. {word} Parking should be free for carers.",
        "cy": "Ysgrifennwch eich datganiad ar ôl {word}, e.e. {word} Dylai parcio fod am ddim i ofalwyr.",
    },
    "statements.submitted": {
        "en": "Thank you. Your statement will be shown to others once a moderator has checked it.",
        "cy": "Diolch. Bydd eich datganiad yn cael ei ddangos i eraill ar ôl i gymedrolwr ei wirio.",
    },
    "pairwise.question": {"en": "Which matters more to you?", "cy": "Pa un sy'n bwysicach i chi?"},
    "pairwise.undecided": {"en": "Can't decide", "cy": "Methu penderfynu"},
    "pairwise.add_word": {"en": "ADD", "cy": "YCHWANEGU"},  # shown (and read) where the step keeps the default add_word, ADD
    "pairwise.add_hint": {"en": "(Or reply {word} and an idea of your own.)", "cy": "(Neu atebwch {word} a syniad eich hun.)"},
    "pairwise.add_example": {
        "en": "Write your idea after {word}, e.g. {word} A quiet room for children.",
        "cy": "Ysgrifennwch eich syniad ar ôl {word}, e.e. {word} Ystafell dawel i blant.",
    },
    "pairwise.submitted": {
        "en": "Thank you. Your idea will join the others once a moderator has checked it.",
        "cy": "Diolch. Bydd eich syniad yn ymuno â'r lleill ar ôl i gymedrolwr ei wirio.",
    },
    "pairwise.hint": {"en": "Please reply A, B or '{undecided}'.", "cy": "Atebwch A, B neu '{undecided}'."},
    "statements.hint": {"en": "Please reply A (agree), D (disagree) or P (pass).", "cy": "Atebwch A (cytuno), D (anghytuno) neu P (pasio)."},
    # Choice experiments ({done}, {total}: the task shown and how many; {letters}: "A or B", or "A, B" before N).
    "dce.task": {"en": "Choice {done} of {total}:", "cy": "Dewis {done} o {total}:"},
    "dce.neither": {"en": "Neither", "cy": "Dim un"},
    "dce.hint": {"en": "Please reply {letters}.", "cy": "Atebwch {letters}."},
    "dce.hint_neither": {"en": "Please reply {letters} or N for neither.", "cy": "Atebwch {letters} neu N am ddim un."},
    # Options as text where a channel shows no buttons (SMS), and the Done button under a multiple choice.
    # {choices}: "A, B or Can't decide", or a range such as "1-9 or NOT SURE".
    "options.reply": {"en": "(Reply {choices})", "cy": "(Atebwch {choices})"},
    "options.several": {"en": "(You can pick more than one, e.g. 1 3)", "cy": "(Gallwch ddewis mwy nag un, e.e. 1 3)"},
    "options.done": {"en": "Done", "cy": "Wedi gorffen"},
}
DONE_WORDS: dict[str, list[str]] = {
    "en": ["done", "i'm done", "im done", "all done", "finished", "i've finished", "ive finished", "that's all", "thats all",
           "that's it", "thats it", "that is all", "nothing else", "ok done"],
    "cy": ["wedi gorffen", "gorffen", "dyna'r cyfan", "dyna i gyd", "dyna fe", "dim byd arall"],
}
"""What people type to say a multiple choice is complete, as the Done button under it does."""
SKIP_WORDS = {"skip", "pass", "hepgor", "/skip"}


@lru_cache(maxsize=8192)
def normalised_word(text: str) -> str:
    """A reply as global words are matched: 'STOP', 'stop.', ' Stop! ', 'Stop!!! 😡', 'STOP 👋',
    full-width 'ＳＴＯＰ' and STOP with an invisible character after it are all 'stop'; a curly
    apostrophe is a straight one ('can’t talk' is 'can't talk').
    (Compatibility forms folded; emoji, other symbols and invisible format characters
    dropped: a participant's STOP must never be missed for what is around it.)"""
    if text.isascii():
        return re.sub(r"\s+", " ", text.strip().lower()).strip(" .!?")
    folded = "".join(" " if _not_a_word(c) else c for c in unicodedata.normalize("NFKC", text.replace("\u2019", "'")))
    return re.sub(r"\s+", " ", folded.strip().lower()).strip(" .!?")


_NOT_WORDS = frozenset({"So", "Sk", "Cf", "Cs", "Co"})
"""Unicode categories dropped from a reply before matching global words: symbols (emoji),
format characters (zero-width spaces and joiners), surrogates and private use."""


def _not_a_word(char: str) -> bool:
    """Not part of any word: those categories, and the variation selectors that follow an emoji
    (other combining marks are letters' own: Hindi's vowel signs, a decomposed accent)."""
    return unicodedata.category(char) in _NOT_WORDS or "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef"


@lru_cache(maxsize=8192)
def without_polite_words(said: str) -> tuple[str, ...]:
    """A normalised reply with polite words dropped from its start, its end or both, fewest
    dropped first ('forget me please': 'forget me', then 'forget'). Only the ends: words in
    the middle are part of what was said. Empty when no polite word is at either end."""
    words = [word for word in re.split(r"[\s,.!]+", _without_polite_phrases(said)) if word]
    leading = next((i for i, word in enumerate(words) if word not in POLITE), len(words))
    trailing = next((i for i, word in enumerate(reversed(words)) if word not in POLITE), len(words))
    if leading == len(words):
        return ()
    found = [" ".join(words)] if said != " ".join(words) else []
    for dropped in range(1, leading + trailing + 1):
        for front in range(max(0, dropped - trailing), min(dropped, leading) + 1):
            found.append(" ".join(words[front:len(words) - (dropped - front)]))
    return tuple(found)


def _without_polite_phrases(said: str) -> str:
    for phrase in POLITE_PHRASES:
        if said.endswith(" " + phrase):
            said = said[:-len(phrase) - 1].rstrip(" ,")
        if said.startswith(phrase + " "):
            said = said[len(phrase) + 1:].lstrip(" ,")
    return said


def listed(choices: Sequence[str], or_word: str) -> str:
    """Choices as a sentence lists them: 'A', 'A or B', 'A, B or C' (``or_word`` in the reader's language)."""
    if len(choices) < 2:
        return "".join(choices)
    return f"{', '.join(choices[:-1])} {or_word} {choices[-1]}"


def is_done(text: str, also: Sequence[str] = ()) -> bool:
    """Whether a whole reply says a multiple choice is complete ('done', 'that's all please',
    'wedi gorffen'), in any built-in language or as one of ``also`` (the Done button's own label)."""
    said = normalised_word(text).replace("’", "'")
    if not said:
        return False
    done = _DONE | {normalised_word(label) for label in also}
    return said in done or any(phrase in done for phrase in without_polite_words(said))


_DONE = frozenset(normalised_word(word) for words in DONE_WORDS.values() for word in words)
_TRAILING_DONE = re.compile(
    r"[\s,.;:!-]+(?:" + "|".join(re.escape(word) for word in sorted(_DONE, key=len, reverse=True)) + r")[\s.!]*$", re.IGNORECASE)


def without_done(text: str) -> str:
    """A multiple choice typed with a done word after it ('1 3 done', 'days, nights - that's
    all') without that word; the text unchanged when it has none."""
    return _TRAILING_DONE.sub("", text.replace("\u2019", "'")) or text


@dataclass(frozen=True)
class OptionTexts:
    """How options read, in one language, where a channel shows them as text (SMS; WhatsApp
    without content templates): "(Reply A, B or Can't decide)", "(Reply 1-9 or NOT SURE)",
    the hint under a multiple choice; and the label of the Done button under one (Telegram)."""

    reply: str = "(Reply {choices})"
    or_word: str = "or"
    several: str = "(You can pick more than one, e.g. 1 3)"
    done: str = "Done"

    @classmethod
    def of(cls, text: Callable[[str], str]) -> OptionTexts:
        """From texts by key (built-in, or a study's own for its languages)."""
        return cls(text("options.reply"), text("or"), text("options.several"), text("options.done"))

    def reply_with(self, choices: Sequence[str]) -> str:
        return self.reply.format(choices=listed(choices, self.or_word))


BUILT_IN_LANGUAGES = ("en", "cy")
"""The languages Chorus's own texts are written in; a study in another adds its own under ``texts:``."""


def untranslated(study: Study, language: str) -> list[str]:
    """The built-in texts a study in ``language`` has not given in it (shown in English)."""
    if language in BUILT_IN_LANGUAGES:
        return []
    missing = []
    for key in BUILT_IN_TEXTS:
        own = study.texts.get(key)
        if own is None or (isinstance(own, dict) and language not in own):
            missing.append(key)
    return missing


def built_in(key: str, language: str = "en") -> str:
    """A built-in text in ``language`` (English when it has no such version); the key itself if unknown."""
    found = BUILT_IN_TEXTS.get(key)
    return key if found is None else resolve_text(found, language, "en")


ENGLISH_OPTIONS = OptionTexts.of(built_in)
"""Options as English reads them: what a channel uses when it is not told the participant's language."""


def option_texts(language: str = "en") -> OptionTexts:
    """The built-in option texts in ``language`` (English where it has none)."""
    return OptionTexts.of(lambda key: built_in(key, language))


ERASE_KINDS = frozenset({"erase_confirm", "erase_cancelled", "erased"})
"""Message kinds of the erasure exchange: sent even to someone who said STOP ('erased', the
confirmation that their data is gone, is sent once to the address they wrote from and kept nowhere)."""


def erasure_reply(words: Words, text: str, button: str | None, source: str, pending: bool) -> str | None:
    """Where a reply leaves a request to delete one's data: 'ask' (DELETE MY DATA: ask to
    confirm), 'confirmed' (YES to that question), 'cancelled' (anything else), or None
    (nothing to do with erasure). A voice note never confirms: the YES must be typed or tapped."""
    if pending:
        typed_yes = button is None and source == "text" and parse_yes_no(text) is True
        return "confirmed" if button == "yes" or typed_yes else "cancelled"
    if button is None and source != "voice" and words.command(text) == "erase":
        return "ask"
    return None


class Words:
    """The study's view of global words and built-in texts."""

    def __init__(self, study: Study | None = None) -> None:
        self.study = study
        self.default_language = study.default_language if study else "en"
        self.languages = study.languages if study else ["en", "cy"]
        self._lookup: dict[str, str] = {}
        self._texts: dict[tuple[str, str], str] = {}
        """Texts already resolved: a study's texts do not change once it is loaded."""
        for command, by_language in BUILT_IN_WORDS.items():
            for words in by_language.values():
                for word in words:
                    self._lookup[normalised_word(word)] = command
        if study:
            for command, by_language in study.words.items():
                for words in by_language.values():
                    for word in words:
                        self._lookup[normalised_word(word)] = command
        self._join_keywords = frozenset(
            normalised_word(route.keyword) for route in (study.join.all_routes() if study else ()) if route.keyword
        )
        self._languages = {
            normalised_word(word): code for code, words in LANGUAGE_WORDS.items() if code in self.languages for word in words
        }

    def command(self, text: str) -> str | None:
        """The global word a whole reply is, if any: 'STOP', 'stop.' or 'Stop!' all stop, and
        so do 'Stop please', 'stop it' and 'STOP STOP' (a global word said politely or twice:
        'please delete my data', 'go back please' too); 'stop making us wait' does not."""
        said = normalised_word(text)
        if not said:  # an empty message (a sticker, a photo alone) is no word; a bare '?' asks for HELP
            return "help" if "?" in text else None
        found = self._lookup.get(said)
        if found is None and " " in said:
            found = self._polite_command(said)
        if found is None and asks_to_go_back(said):  # 'go back i made a mistake', 'can I go back', 'NOL'
            found = "back"
        return found

    def _polite_command(self, said: str) -> str | None:
        """A global phrase with polite words around it, or one global word said with polite
        words or more than once ('stop, stop please')."""
        for phrase in without_polite_words(said):
            if phrase in self._lookup:
                return self._lookup[phrase]
        words = {word for word in re.split(r"[\s,.!]+", said) if word and word not in POLITE}
        meanings = {self._lookup.get(word) for word in words}
        return meanings.pop() if len(meanings) == 1 else None

    def words_for(self, command: str) -> list[str]:
        """Every word (built-in and the study's) that means ``command``, normalised."""
        return [word for word, meaning in self._lookup.items() if meaning == command]

    def language_switch(self, text: str) -> str | None | bool:
        """A language code for 'CYMRAEG', 'Welsh please' or 'language cy'; True for a bare
        'LANGUAGE'; False for a language the study does not have ('language xx')."""
        clean = normalised_word(text)
        found = [self._switch(phrase) for phrase in (clean, *without_polite_words(clean))]
        chosen = next((switch for switch in found if switch is not None and switch is not False), None)
        return chosen if chosen is not None else (False if False in found else None)

    def _switch(self, clean: str) -> str | None | bool:
        if clean in self._languages:
            return self._languages[clean]
        parts = clean.split()
        if parts and parts[0] in LANGUAGE_COMMAND:
            if len(parts) == 1:
                return True
            wanted = parts[1]
            if wanted in self.languages:
                return wanted
            return self._languages.get(wanted, False)
        return None

    def is_join_keyword(self, text: str) -> bool:
        """Whether a whole reply is one of the study's join keywords ('WAIT', 'join wait'),
        as someone who is already taking part may text it again."""
        said = normalised_word(text)
        return said in self._join_keywords or (said.startswith("join ") and said[5:].strip() in self._join_keywords)

    def is_skip(self, text: str) -> bool:
        return normalised_word(text) in SKIP_WORDS

    def text(self, key: str, language: str) -> str:
        found = self._texts.get((key, language))
        if found is None:
            found = self._texts[(key, language)] = self._text(key, language)
        return found

    def _text(self, key: str, language: str) -> str:
        if self.study and key in self.study.texts:
            return resolve_text(self.study.texts[key], language, self.default_language)
        built_in = BUILT_IN_TEXTS.get(key)
        if built_in is None:
            return key
        return resolve_text(built_in, language, "en")

    def language_choices(self, language: str, leaving_out: str | None = None) -> str:
        """What to reply for each of the study's languages (but ``leaving_out``), in
        ``language``: 'ENGLISH or CYMRAEG', or 'LANGUAGE PL' for a language with no word of its own."""
        replies = [self._language_reply(code) for code in self.languages if code != leaving_out]
        return listed(replies, self.text("or", language))

    def option_texts(self, language: str) -> OptionTexts:
        """How options read in ``language``, with the study's own texts where it has them."""
        return OptionTexts.of(lambda key: self.text(key, language))

    @staticmethod
    def _language_reply(code: str) -> str:
        words = LANGUAGE_WORDS.get(code)
        return words[0].upper() if words else f"{LANGUAGE_COMMAND[0].upper()} {code.upper()}"

    def help(self, language: str) -> str:
        """HELP's reply: the study's own text if it has one; otherwise the built-in one, with
        how to switch language when the study has more than one."""
        if self.study and "help" in self.study.texts or len(self.languages) < 2:
            return self.text("help", language)
        others = [code for code in self.languages if code != language]
        name = LANGUAGE_NAMES.get(others[0], {}).get(language) if len(others) == 1 else None
        choices = self.language_choices(language, leaving_out=language)
        offer = self.text("help_languages", language) if name is None else self.text("help_language", language)
        return f"{self.text('help', language)} {offer.format(choices=choices, name=name)}"
