"""The built-in texts Chorus says, in English and Welsh, by key: what a study does not word
itself (``texts:`` in study.yaml overrides any of them). :mod:`flows.words` reads them."""

from __future__ import annotations

NOTHING_TO_JOIN: dict[str, str] = {
    "cy": "Mae'n ddrwg gennym, does dim byd i gymryd rhan ynddo yma ar hyn o bryd.",
    "en": "Sorry, there is nothing to take part in here at the moment.",
}
"""Said to someone in no study when there is no study to join (bot/studies.py ``invitation``).
No study's ``texts:`` can word it, so it is not among :data:`BUILT_IN_TEXTS`. Unless the person's
language is known, it is sent in both, Welsh first, as the Welsh Language Standards ask of a
message shown in both languages (Welsh placed to be read first); both fit one SMS."""

BUILT_IN_TEXTS: dict[str, dict[str, str]] = {
    "yes": {"en": "Yes", "cy": "Ydw"},
    "no": {"en": "No", "cy": "Nac ydw"},
    "unsure": {"en": "Not sure", "cy": "Ddim yn siŵr"},
    "stopped": {
        "en": "You will get no more messages from us. Reply START if you change your mind.",
        "cy": "Chewch chi ddim rhagor o negeseuon gennym. Atebwch DECHRAU os newidiwch eich meddwl.",
    },
    # 'wrong number', 'rhif anghywir': the number is someone else's now (flows/words.py WRONG_NUMBER_PHRASES); a STOP.
    "wrong_number": {
        "en": "Sorry to have bothered you. We won't message this number again.",
        "cy": "Mae'n ddrwg gennym am eich poeni. Ni fyddwn yn anfon neges i'r rhif hwn eto.",
    },
    "restarted": {"en": "Welcome back.", "cy": "Croeso'n ôl."},
    # A reply that may ask to stop, or may answer the question ('I want out'): asked which (flows/engine_opt_out.py).
    "stop_confirm": {
        "en": "Do you want us to stop messaging you? Reply STOP to stop, or carry on answering.",
        "cy": "Ydych chi am i ni roi'r gorau i anfon negeseuon atoch? Atebwch STOPIO i stopio, neu daliwch ati i ateb.",
    },
    "stop_confirm_no": {"en": "OK, let's carry on.", "cy": "Iawn, awn ymlaen."},
    "stop_confirm_ended": {  # a reply after the end that may ask to stop: later follow-ups would still come
        "en": "Do you want us to stop messaging you? Reply STOP and we will not message you again.",
        "cy": "Ydych chi am i ni roi'r gorau i anfon negeseuon atoch? Atebwch STOPIO ac ni fyddwn yn anfon neges atoch eto.",
    },
    "stop_confirm_no_ended": {"en": "OK, we will keep in touch.", "cy": "Iawn, byddwn yn cadw mewn cysylltiad."},
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
    # A correction of an answer it cannot change (a consent, free text, a Delphi score's reason): how to change it.
    "correction_use_back": {"en": "To change an earlier answer, reply BACK.", "cy": "I newid ateb cynharach, atebwch YN ÔL."},
    # 'I don't understand', 'what?', 'beth?' to a question: before it again, with its hint (not a try).
    "explain_again": {"en": "No problem, here is the question again.", "cy": "Dim problem, dyma'r cwestiwn eto."},
    # A text seconds after a free-text answer that answers nothing else: added to that answer.
    "added_to_answer": {"en": "Thanks, I've added that to your last answer.",
                        "cy": "Diolch, rydw i wedi ychwanegu hynny at eich ateb diwethaf."},
    # A story told at a question that cannot read it (flows/asides.py): kept as a comment, then the question again.
    "aside_noted": {"en": "Thank you, we've noted that.", "cy": "Diolch, rydyn ni wedi nodi hynny."},
    "language_changed": {"en": "We'll write in English from now on.", "cy": "Byddwn yn ysgrifennu yn Gymraeg o hyn ymlaen."},
    "help_language": {"en": "For {name}, reply {choices}.", "cy": "Am {name}, atebwch {choices}."},
    "help_languages": {"en": "For another language, reply {choices}.", "cy": "Am iaith arall, atebwch {choices}."},
    "language_ask": {"en": "Which language would you like? Reply {choices}.", "cy": "Pa iaith hoffech chi? Atebwch {choices}."},
    "or": {"en": "or", "cy": "neu"},
    "language_unknown": {"en": "Sorry, that language is not available. Reply {choices}.", "cy": "Mae'n ddrwg gennym, nid yw'r iaith honno ar gael. Atebwch {choices}."},
    # LANGUAGE in a study with one language ({name}: its name, 'English'): before the question again,
    # or, with no question waiting (the conversation has ended), with that said.
    "language_only": {"en": "Sorry, this study runs in {name} only.",
                      "cy": "Mae'n ddrwg gennym, mae'r astudiaeth hon ar gael yn {name} yn unig."},
    "language_only_ended": {
        "en": "Sorry, this study runs in {name} only. There is nothing to answer now: we will write if there is more.",
        "cy": "Mae'n ddrwg gennym, mae'r astudiaeth hon ar gael yn {name} yn unig. Does dim i'w ateb nawr: "
              "byddwn yn ysgrifennu os oes mwy.",
    },
    "ended": {"en": "Thank you, that's all for now.", "cy": "Diolch, dyna'r cyfan am y tro."},
    # 'who is this', 'is this a scam', 'how did you get my number' (flows/sender_questions.py), before the question
    # again ({title}: the study's title). A study may name itself more fully under texts: (the practice, say).
    "who_we_are": {
        "en": "This message is from {title}. We will never ask for money, bank details or passwords. Reply STOP if you want no more messages.",
        "cy": "Daw'r neges hon gan {title}. Fyddwn ni byth yn gofyn am arian, manylion banc na chyfrineiriau. "
              "Atebwch STOPIO i stopio.",
    },
    "who_we_are.untitled": {"en": "a study you were invited to", "cy": "astudiaeth y cawsoch eich gwahodd iddi"},
    # The answer to the question before, sent again seconds later at a free-text question (flows/sent_twice.py).
    "sent_twice": {"en": "We already have that as your answer to the last question.",
                   "cy": "Mae hwnnw gennym ni eisoes fel eich ateb i'r cwestiwn diwethaf."},
    # A reply that says someone has died (flows/bereavement.py): the team is told, and the question is not asked again.
    "bereavement": {
        "en": "We're so sorry for your loss. We've let the team know. There's no need to reply now. "
              "If you'd rather we didn't message you again, reply STOP.",
        "cy": "Mae'n wir ddrwg gennym am eich colled. Rydyn ni wedi dweud wrth y staff. Does dim angen ateb nawr. "
              "Atebwch STOPIO os nad ydych eisiau mwy o negeseuon.",
    },
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
    # A message edited after it was sent (Telegram): the edit is not read, what it said at first stands.
    "edit.not_read": {
        "en": "Sorry, we can't read edited messages: we still have what yours said at first. "
              "To change an answer, send the new one (e.g. \"sorry I meant 3\"), or reply BACK.",
        "cy": "Mae'n ddrwg gennym, allwn ni ddim darllen negeseuon wedi'u golygu: mae gennym ni'r hyn roedd eich neges yn ei ddweud i ddechrau. "
              "I newid ateb, anfonwch yr ateb newydd (e.e. \"sori, 3 o'n i'n feddwl\"), neu atebwch YN ÔL.",
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
    "not_skippable": {"en": "This question can't be skipped.", "cy": "Does dim modd hepgor y cwestiwn hwn."},
    "signposting": {
        "en": "If you need help now: call NHS 111, or 999 in an emergency. Samaritans listen, free, day or night, on 116 123. Someone from the team will also see your message.",
        "cy": "Os oes angen help arnoch nawr: ffoniwch GIG 111, neu 999 mewn argyfwng. Mae'r Samariaid yn gwrando, am ddim, ddydd a nos, ar 116 123. Bydd rhywun o'r tîm hefyd yn gweld eich neges.",
    },
    "fallback": {"en": "Sorry, something went wrong with this message.", "cy": "Mae'n ddrwg gennym, aeth rhywbeth o'i le gyda'r neges hon."},
    "hint_yesno": {"en": "Please reply YES or NO.", "cy": "Atebwch YDW neu NAC YDW."},
    # The yes/no hint where Yes and No were shown as buttons (Telegram, the web simulator, WhatsApp quick replies).
    "hint_yesno_tap": {"en": "Please tap one of the buttons, or reply YES or NO.", "cy": "Pwyswch un o'r botymau, neu atebwch YDW neu NAC YDW."},
    "hint_choice": {"en": "Please reply with a number from 1 to {n}.", "cy": "Atebwch gyda rhif o 1 i {n}."},
    "hint_choice_two": {"en": "Please reply 1 or 2 (or the words).", "cy": "Atebwch 1 neu 2 (neu'r geiriau)."},
    # 'I don't mind', 'either is fine' where the question records no tie (a choice of two, a choice task):
    # said before the usual hint.
    "hint_no_preference": {"en": "Please choose the one you would pick, even if only just.",
                           "cy": "Dewiswch yr un y byddech chi'n ei ddewis, hyd yn oed o drwch blewyn."},
    # A choice answered only by what is not wanted ('anything but carer', 'dim 1'): said back, and the numbers
    # left asked for ({rejected}: the labels, joined by 'nor'; {choices}: '1 or 3'; {example}: '1 2 3').
    "hint_choice_not": {"en": "OK, not {rejected}. Which one, then? Please reply {choices}.",
                        "cy": "Iawn, nid {rejected}. Pa un, felly? Atebwch {choices}."},
    "hint_choices_not": {"en": "OK, not {rejected}. Which ones, then? Please reply with their numbers, e.g. {example}.",
                         "cy": "Iawn, nid {rejected}. Pa rai, felly? Atebwch gyda'u rhifau, e.e. {example}."},
    "nor": {"en": "or", "cy": "na"},
    # 'none of them', 'neither', 'dim un' to a choice without such an option.
    "hint_choice_none": {"en": "None of these? Please reply with the number of the closest one, from 1 to {n}.",
                         "cy": "Dim un o'r rhain? Atebwch gyda rhif yr un agosaf, o 1 i {n}."},
    # The hints above, for a choice whose options no participant saw numbered (named in its text, as in
    # "Are you a mother or a midwife?", or on one "(Reply Mother or Midwife)" line; buttons carry no
    # numbers either): the options' words ({choices}: 'Mother or Midwife').
    "hint_choice_words": {"en": "Please reply {choices}.", "cy": "Atebwch {choices}."},
    "hint_choice_none_words": {"en": "None of these? Please reply with the closest one: {choices}.",
                               "cy": "Dim un o'r rhain? Atebwch gyda'r un agosaf: {choices}."},
    # The hints above where the options were shown as buttons (Telegram, the web simulator, WhatsApp's quick
    # replies and list pickers), which carry no numbers: tap one, or type its words ({choices}: 'Mother or
    # Midwife'; hint_tap where the labels are too long to list). A multiple choice on Telegram is ticked, then
    # sent with its Done button ({done}: that button's label, options.done).
    "hint_choice_tap": {"en": "Please tap one of the buttons, or reply {choices}.",
                        "cy": "Pwyswch un o'r botymau, neu atebwch {choices}."},
    "hint_tap": {"en": "Please tap one of the buttons, or type your answer.",
                 "cy": "Pwyswch un o'r botymau, neu teipiwch eich ateb."},
    "hint_choices_tap": {"en": "Please tick one or more of the options, then tap {done}.",
                         "cy": "Ticiwch un neu fwy o'r opsiynau, yna pwyswch {done}."},
    "hint_choices_up_to_tap": {"en": "Please tick up to {most} of the options, then tap {done}.",
                               "cy": "Ticiwch hyd at {most} o'r opsiynau, yna pwyswch {done}."},
    "hint_choices_at_least_tap": {"en": "Please tick at least {least} of the options, then tap {done}.",
                                  "cy": "Ticiwch o leiaf {least} o'r opsiynau, yna pwyswch {done}."},
    "hint_choices_between_tap": {"en": "Please tick {least} to {most} of the options, then tap {done}.",
                                 "cy": "Ticiwch {least} i {most} o'r opsiynau, yna pwyswch {done}."},
    "hint_choices_not_tap": {"en": "OK, not {rejected}. Which ones, then? Please tick them, then tap {done}.",
                             "cy": "Iawn, nid {rejected}. Pa rai, felly? Ticiwch nhw, yna pwyswch {done}."},
    # A number said with a unit the question does not ask in ('6 hours' to 'how many times?'); the usual hint follows.
    "hint_other_unit": {"en": "That looks like {said}, which is not what this question asks.",
                        "cy": "Mae hynny'n edrych fel {said}, a dyw hynny ddim yn ateb y cwestiwn hwn."},
    # How often ('once a week') to a question of how many that names no span to count it over, or
    # said as no one number ('once or twice a week'); the usual hint follows.
    "hint_how_often": {"en": "That says how often ({said}), not how many in all.",
                       "cy": "Mae hynny'n dweud pa mor aml ({said}), nid faint i gyd."},
    # A number rounded from what was said ('once a week' last month; '90 minutes' in hours), read back to check.
    "number_about": {"en": "about {number}", "cy": "tua {number}"},
    # A number the reply rejects ('not 5', 'anything but 1', '5 no way'), said back; the usual hint follows.
    "hint_number_not": {"en": "OK, not {rejected}. What number, then?", "cy": "Iawn, nid {rejected}. Pa rif, felly?"},
    # An ordinal to a question asking how many ('the second one', 'this is my first'); the usual hint follows.
    "hint_number_ordinal": {"en": "That says which one, not how many.", "cy": "Mae hynny'n dweud pa un, nid sawl un."},
    # An amount with no number ('a few days', 'several times', 'ychydig'); the usual hint follows.
    "hint_number_vague": {"en": "Roughly how many? Your best guess is fine.",
                          "cy": "Tua faint? Mae'ch amcangyfrif gorau'n iawn."},
    # Two numbers for one ('3 or 4', '2-3 weeks', 'rhwng 5 a 10'): neither end nor the middle is stored; the usual hint follows.
    "hint_number_between": {"en": "Is it nearer {low} or {high}? Your best guess is fine.",
                            "cy": "Ydy e'n nes at {low} neu {high}? Mae'ch amcangyfrif gorau'n iawn."},
    # A number read from a typed sentence that says more than it, checked before it counts.
    "confirm_number": {"en": "Just to check: {answer}? Reply YES or NO, or send the number.",
                       "cy": "I wneud yn siŵr: {answer}? Atebwch YDW neu NAC YDW, neu anfonwch y rhif."},
    "confirm_number_tap": {"en": "Just to check: {answer}? Tap {yes} or {no}, or send the number.",
                           "cy": "I wneud yn siŵr: {answer}? Pwyswch {yes} neu {no}, neu anfonwch y rhif."},
    "confirm_try_again": {"en": "Sorry about that. Please send your answer again.", "cy": "Mae'n ddrwg gennym. Anfonwch eich ateb eto."},
    "hint_choices": {"en": "Please reply with one or more numbers from 1 to {n}, e.g. 1 3.", "cy": "Atebwch gydag un neu fwy o rifau o 1 i {n}, e.e. 1 3."},
    # A multiple choice whose min_picks is 0: after the hint above, how to say none apply (read as 'none of them' is).
    "hint_choices_or_none": {"en": "Or reply NONE if none apply.", "cy": "Neu atebwch DIM UN os nad oes un yn berthnasol."},
    # 'none of them', 'I haven't used any' to a multiple choice that needs at least one pick.
    "hint_choices_none": {"en": "None of these? Please reply with the number of the closest, or several, e.g. 1 3.",
                          "cy": "Dim un o'r rhain? Atebwch gyda rhif yr agosaf, neu sawl un, e.e. 1 3."},
    # A multiple choice's reply that picks an option marked 'exclusive: true' ({alone}: "None of these") with others ({others}).
    "hint_choices_alone": {"en": "\"{alone}\" cannot go with other answers ({others}). Please reply with just \"{alone}\", or leave it out.",
                           "cy": "Ni all \"{alone}\" fynd gydag atebion eraill ({others}). Atebwch gyda \"{alone}\" yn unig, neu ei adael allan."},
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
    # The scale hints where its points were shown as buttons: numbered buttons, or (a scale labelled in a
    # list) buttons of words, which a reply may name.
    "hint_scale_tap": {"en": "Please tap one of the buttons, or reply with a number from {low} to {high}.",
                       "cy": "Pwyswch un o'r botymau, neu atebwch gyda rhif o {low} i {high}."},
    "hint_scale_unsure_tap": {"en": "Please tap one of the buttons, or reply with a number from {low} to {high} or '{unsure}'.",
                              "cy": "Pwyswch un o'r botymau, neu atebwch gyda rhif o {low} i {high} neu '{unsure}'."},
    "hint_scale_words_tap": {"en": "Please tap one of the buttons, or reply with words such as '{first}' or '{last}'.",
                             "cy": "Pwyswch un o'r botymau, neu atebwch gyda geiriau fel '{first}' neu '{last}'."},
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
    "voice_confirm_tap": {"en": "I heard: \"{heard}\". Is that right? Tap {yes} or {no}.",
                          "cy": "Clywais i: \"{heard}\". Ydy hynny'n iawn? Pwyswch {yes} neu {no}."},
    "voice_confirm_answer_tap": {
        "en": "I heard: \"{heard}\", so your answer is {answer}. Is that right? Tap {yes} or {no}.",
        "cy": "Clywais i: \"{heard}\", felly eich ateb yw {answer}. Ydy hynny'n iawn? Pwyswch {yes} neu {no}.",
    },
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
    # A voice note that may be in another of the study's languages, one the speech model cannot transcribe
    # (most of its words improbable): said in the conversation's language, then in each such language with
    # how to switch to it ("Am Gymraeg, atebwch CYMRAEG."). That part follows a voice note it made no words of, too.
    "voice.not_understood": {
        "en": "Sorry, we couldn't understand that voice note. Please type your answer.",
        "cy": "Mae'n ddrwg gennym, doedden ni ddim yn gallu deall y neges llais honno. Teipiwch eich ateb.",
    },
    # A voice note sent with words (a caption) that gave no transcript: the words alone are the answer.
    "voice.caption_kept": {
        "en": "Sorry, we couldn't play your voice note. We've kept what you wrote.",
        "cy": "Mae'n ddrwg gennym, doedden ni ddim yn gallu chwarae eich neges llais. Rydyn ni wedi cadw'r hyn a ysgrifennoch chi.",
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
    # The same where the channel shows {next} (delphi.next) as a button to tap (Telegram, the simulator, WhatsApp).
    "delphi.batch_done_tap": {
        "en": "That's {done} of {total}. Tap {next} for {more} more, or reply LATER to carry on another time.",
        "cy": "Dyna {done} o {total}. Pwyswch {next} am {more} arall, neu atebwch WEDYN i barhau rywbryd eto.",
    },
    "delphi.reason": {"en": "Why did you give that score? (Reply NO to skip)", "cy": "Pam rhoesoch chi'r sgôr honno? (Atebwch NA i hepgor)"},
    "delphi.nothing_left": {
        "en": "There is nothing left to rate in this round. Reply OK to carry on.",
        "cy": "Does dim byd ar ôl i'w sgorio yn y rownd hon. Atebwch IAWN i barhau.",
    },
    "delphi.nothing_left_tap": {
        "en": "There is nothing left to rate in this round. Tap {ok} to carry on.",
        "cy": "Does dim byd ar ôl i'w sgorio yn y rownd hon. Pwyswch {ok} i barhau.",
    },
    "delphi.next_or_later": {"en": "Reply LATER to stop for now, or NEXT to carry on.", "cy": "Atebwch WEDYN i stopio am nawr, neu NESAF i barhau."},
    "delphi.next_or_later_tap": {"en": "Please tap {next} to carry on, or reply LATER to stop for now.",
                                 "cy": "Pwyswch {next} i barhau, neu atebwch WEDYN i stopio am nawr."},
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
    # The hints above where the scores were shown as buttons (Telegram, the web simulator, WhatsApp list pickers).
    "delphi.hint_tap": {"en": "Please tap one of the buttons, or reply with a number from {low} to {high}.",
                        "cy": "Pwyswch un o'r botymau, neu atebwch gyda rhif o {low} i {high}."},
    "delphi.hint_unsure_tap": {
        "en": "Please tap one of the buttons, or reply with a number from {low} to {high} or NOT SURE.",
        "cy": "Pwyswch un o'r botymau, neu atebwch gyda rhif o {low} i {high} neu DDIM YN SIŴR.",
    },
    "delphi.hint_keep_tap": {
        "en": "Please tap one of the buttons, or reply with a number from {low} to {high} or KEEP for {own} again.",
        "cy": "Pwyswch un o'r botymau, neu atebwch gyda rhif o {low} i {high} neu CADW i roi {own} eto.",
    },
    "delphi.hint_unsure_keep_tap": {
        "en": "Please tap one of the buttons, or reply with a number from {low} to {high}, KEEP for {own} again, or NOT SURE.",
        "cy": "Pwyswch un o'r botymau, neu atebwch gyda rhif o {low} i {high}, CADW i roi {own} eto, neu DDIM YN SIŴR.",
    },
    "delphi.reason_not_a_score": {
        "en": "Please tell us in words why you gave {score}, or reply NO to skip.",
        "cy": "Dywedwch wrthym mewn geiriau pam rhoesoch chi {score}, neu atebwch NA i hepgor.",
    },
    # A reply that is one of the scale's band labels ('critical', shown as '7-9 critical'): which number in it.
    "delphi.band_which": {
        "en": "\"{label}\" is {low} to {high}. Which number?",
        "cy": "Mae \"{label}\" yn {low} i {high}. Pa rif?",
    },
    # 'very important' or 'not important at all' typed where no band's label says so: the numbers at that end.
    "delphi.most_important_which": {
        "en": "The most important are {low} to {high} (\"{label}\"). Which number?",
        "cy": "Y pwysicaf yw {low} i {high} (\"{label}\"). Pa rif?",
    },
    "delphi.least_important_which": {
        "en": "The least important are {low} to {high} (\"{label}\"). Which number?",
        "cy": "Y lleiaf pwysig yw {low} i {high} (\"{label}\"). Pa rif?",
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
    # The ranking hints where the options were not shown numbered: as buttons (Telegram, the web simulator,
    # WhatsApp quick replies and list pickers), each tap placing the next; or, on SMS, named on one
    # "(Reply ...)" line or in the question. {choices}: the options left, 'Phone, Text or Letter'.
    "rank.hint_order_tap": {
        "en": "Please tap the options in order, most important first, or type their names in order, separated by commas.",
        "cy": "Pwyswch yr opsiynau yn eu trefn, y pwysicaf yn gyntaf, neu teipiwch eu henwau yn eu trefn, gyda choma rhwng pob un.",
    },
    "rank.hint_order_words": {
        "en": "Please reply with the options in order, most important first, separated by commas.",
        "cy": "Atebwch gyda'r opsiynau yn eu trefn, y pwysicaf yn gyntaf, gyda choma rhwng pob un.",
    },
    "rank.hint_next_tap": {"en": "Please tap the next most important option, or reply {choices}.",
                           "cy": "Pwyswch yr opsiwn pwysicaf nesaf, neu atebwch {choices}."},
    "rank.hint_next_tap_type": {"en": "Please tap the next most important option, or type its name.",
                                "cy": "Pwyswch yr opsiwn pwysicaf nesaf, neu teipiwch ei enw."},
    "rank.hint_next_words": {"en": "Please reply with the next most important option: {choices}.",
                             "cy": "Atebwch gyda'r opsiwn pwysicaf nesaf: {choices}."},
    # Before any of those three, to a reply that named only options placed already.
    "rank.placed_already": {"en": "You have already placed {placed}.", "cy": "Rydych chi eisoes wedi gosod {placed}."},
    # Statement voting ({word}: the study's add word, e.g. ADD).
    "statements.agree": {"en": "Agree", "cy": "Cytuno"},
    "statements.disagree": {"en": "Disagree", "cy": "Anghytuno"},
    "statements.pass": {"en": "Pass", "cy": "Pasio"},
    "statements.ok": {"en": "OK", "cy": "Iawn"},
    "statements.empty": {
        "en": "You have seen every statement for now. Reply OK to carry on.",
        "cy": "Rydych chi wedi gweld pob datganiad am y tro. Atebwch IAWN i barhau.",
    },
    # The same where the channel shows {ok} (statements.ok) as a button to tap.
    "statements.empty_tap": {
        "en": "You have seen every statement for now. Tap {ok} to carry on.",
        "cy": "Rydych chi wedi gweld pob datganiad am y tro. Pwyswch {ok} i barhau.",
    },
    "statements.empty_add": {
        "en": "You have seen every statement for now. Reply OK to carry on or {word} and your own statement.",
        "cy": "Rydych chi wedi gweld pob datganiad am y tro. Atebwch IAWN i barhau, neu {word} a'ch datganiad eich hun.",
    },
    "statements.empty_add_tap": {
        "en": "You have seen every statement for now. Tap {ok} to carry on, or reply {word} and your own statement.",
        "cy": "Rydych chi wedi gweld pob datganiad am y tro. Pwyswch {ok} i barhau, neu atebwch {word} a'ch datganiad eich hun.",
    },
    "statements.add_word": {"en": "ADD", "cy": "YCHWANEGU"},  # shown (and read) where the step keeps the default add_word, ADD
    "statements.add_hint": {"en": "(Or reply {word} and a statement of your own.)", "cy": "(Neu atebwch {word} a datganiad eich hun.)"},
    "statements.add_next": {
        "en": "What's your statement? Send it as your next message.",
        "cy": "Beth yw eich datganiad? Anfonwch ef fel eich neges nesaf.",
    },
    "statements.submitted": {
        "en": "Thank you. Your statement will be shown to others once a moderator has checked it.",
        "cy": "Diolch. Bydd eich datganiad yn cael ei ddangos i eraill ar ôl i gymedrolwr ei wirio.",
    },
    "pairwise.question": {"en": "Which matters more to you?", "cy": "Pa un sy'n bwysicach i chi?"},
    "pairwise.undecided": {"en": "Can't decide", "cy": "Methu penderfynu"},
    "pairwise.add_word": {"en": "ADD", "cy": "YCHWANEGU"},  # shown (and read) where the step keeps the default add_word, ADD
    "pairwise.add_hint": {"en": "(Or reply {word} and an idea of your own.)", "cy": "(Neu atebwch {word} a syniad eich hun.)"},
    "pairwise.add_next": {
        "en": "What's your idea? Send it as your next message.",
        "cy": "Beth yw eich syniad? Anfonwch ef fel eich neges nesaf.",
    },
    "pairwise.submitted": {
        "en": "Thank you. Your idea will join the others once a moderator has checked it.",
        "cy": "Diolch. Bydd eich syniad yn ymuno â'r lleill ar ôl i gymedrolwr ei wirio.",
    },
    "pairwise.hint": {"en": "Please reply A, B or '{undecided}'.", "cy": "Atebwch A, B neu '{undecided}'."},
    "pairwise.hint_tap": {"en": "Please tap one of the buttons, or reply A, B or '{undecided}'.",
                          "cy": "Pwyswch un o'r botymau, neu atebwch A, B neu '{undecided}'."},
    "statements.hint": {"en": "Please reply A (agree), D (disagree) or P (pass).", "cy": "Atebwch A (cytuno), D (anghytuno) neu P (pasio)."},
    # A reply that agrees only in part ('kind of', 'partly', 'not totally'): the nearer vote, or a pass.
    # Where participants may add statements, either hint is followed by statements.add_hint.
    "statements.hint_partly": {"en": "In part? Please reply A (agree) or D (disagree), whichever is nearer, or P (pass).",
                               "cy": "Yn rhannol? Atebwch A (cytuno) neu D (anghytuno), pa un bynnag sydd agosaf, neu P (pasio)."},
    # The two hints above where the votes were shown as buttons ({agree}, {disagree}, {pass}: their labels).
    "statements.hint_tap": {"en": "Please tap one of the buttons, or reply A (agree), D (disagree) or P (pass).",
                            "cy": "Pwyswch un o'r botymau, neu atebwch A (cytuno), D (anghytuno) neu P (pasio)."},
    "statements.hint_partly_tap": {"en": "In part? Please tap {agree} or {disagree}, whichever is nearer, or {pass}.",
                                   "cy": "Yn rhannol? Pwyswch {agree} neu {disagree}, pa un bynnag sydd agosaf, neu {pass}."},
    # Choice experiments ({done}, {total}: the task shown and how many; {letters}: "A or B", or "A, B" before N).
    "dce.task": {"en": "Choice {done} of {total}:", "cy": "Dewis {done} o {total}:"},
    "dce.neither": {"en": "Neither", "cy": "Dim un"},
    "dce.tied": {"en": "They are the same on {attribute}: {level}.", "cy": "Maen nhw'r un fath o ran {attribute}: {level}."},
    "dce.no_cost": {"en": "These choices have no cost to compare; they differ in: {attributes}.",
                    "cy": "Does dim cost i'w gymharu yn y dewisiadau hyn; maen nhw'n wahanol o ran: {attributes}."},
    "dce.hint": {"en": "Please reply {letters}.", "cy": "Atebwch {letters}."},
    "dce.hint_neither": {"en": "Please reply {letters} or N for neither.", "cy": "Atebwch {letters} neu N am ddim un."},
    "dce.hint_tap": {"en": "Please tap one of the buttons, or reply {letters}.", "cy": "Pwyswch un o'r botymau, neu atebwch {letters}."},
    "dce.hint_neither_tap": {"en": "Please tap one of the buttons, or reply {letters} or N for neither.",
                             "cy": "Pwyswch un o'r botymau, neu atebwch {letters} neu N am ddim un."},
    # Options as text where a channel shows no buttons (SMS), and the Done button under a multiple choice.
    # {choices}: "A, B or Can't decide", or a range such as "1-9 or NOT SURE".
    "options.reply": {"en": "(Reply {choices})", "cy": "(Atebwch {choices})"},
    "options.several": {"en": "(You can pick more than one, e.g. 1 3)", "cy": "(Gallwch ddewis mwy nag un, e.e. 1 3)"},
    "options.done": {"en": "Done", "cy": "Wedi gorffen"},
    # The answer shown (and exported as display) for a multiple choice answered 'none' where min_picks is 0.
    "options.picked_none": {"en": "None", "cy": "Dim un"},
    # Told at once, in a pop-up, to a tap on Telegram's buttons (bot/tap_checks.py): a tick past a multiple
    # choice's max_picks ({most}), which is refused; a tap on the buttons of a question answered already.
    "tap.too_many": {"en": "You can pick up to {most}. Untick one to pick another.",
                     "cy": "Gallwch ddewis hyd at {most}. Dad-diciwch un i ddewis un arall."},
    "tap.answered": {"en": "That question has already been answered.",
                     "cy": "Mae'r cwestiwn hwnnw wedi'i ateb yn barod."},
}
