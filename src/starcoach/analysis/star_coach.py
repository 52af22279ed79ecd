"""The coach's notes and the rating of a STAR report: what each part lacks, the setup's and the Action's
shares, "we" for "I", a Result without numbers, the lesson, the length (``StarReport.feedback``,
``strengths``, ``rating``), the same for both labellers."""

from __future__ import annotations

import math
import re

from ..domain.transcript import plural
from ..domain.vocab import (CORE_PARTS, I_SUBJECTS, MULTIPLE_WORDS, NUMBER_WORDS, PARTS, SOONER_WORDS, WE_SUBJECTS,
                            alternatives, words_rx)
from .star_report import Feedback, StarOptions

# Who did it: the subjects alone (counting "our" and "us" as "we" told an answer whose every step
# began "I" to stop saying "we").
_I_DID = words_rx(I_SUBJECTS)
_WE_DID = words_rx(WE_SUBJECTS)
# A Result is quantified by a figure, a number word, a fraction or a multiple ("cut the bill by a
# third", "halved", "doubled"); "one" only with a unit ("one of the smoothest launches" is no number).
# The labelling's own number cue (star_rules._NUMBER) is left as it was trained and tuned.
# metrics.find_quantities reads the same words (MULTIPLE_WORDS, SOONER_WORDS), so that the report's
# "Numbers" never says "none" beside "The Result is quantified".
_QUANTIFIED = re.compile(r"\d|%|\b(?:" + alternatives(NUMBER_WORDS | MULTIPLE_WORDS) + r"|percent|per cent)\b"
                         r"|\b(?:a|one|two|three)\s+(?:thirds?|quarters?)\b(?!\s+part)"
                         r"|\bone\s+(?:day|week|month|year|hour|minute|second|sprint|release|quarter)s?\b"
                         r"|\ban?\s+(?:day|week|month|year|hour|minute|second|sprint|quarter)\s+(?:"
                         + alternatives(SOONER_WORDS) + r")\b")
# When, not how much: "by Q4 2022", "in 2021", "H2" quantify nothing (a year was praised as a number).
_WHEN = re.compile(r"\b(?:q[1-4]|h[12]|fy ?\d\d)\b(?:\s+(?:19|20)\d\d\b)?"
                   r"|\b(?:(?:in|by|since|until|till|during|before|after|of|early|late|mid|spring|summer|autumn|"
                   r"fall|winter|january|february|march|april|may|june|july|august|september|october|november|"
                   r"december)\s+|mid-)(?:19|20)\d\d\b")
_TITLES = {"situation": "Situation", "task": "Task", "action": "Action", "result": "Result",
           "learning": "lesson"}


def _times(n: int) -> str:
    return {0: "not once", 1: "once", 2: "twice"}.get(n, f"{n} times")


_MISSING = {
    "situation": "No Situation: open with one or two sentences of context (where, when, what was at stake).",
    "task": "No Task: say what you were responsible for or asked to achieve (\"My goal was…\").",
    "action": "No Action: the interviewer needs the steps you took yourself, in the first person.",
    "result": "No Result: finish with what changed, with numbers (%, time, money).",
    "learning": "No lesson: add what you learned or would do differently (\"Looking back, I would…\").",
}


_NOT_A_STORY = ("This describes what you would do or usually do, not one time it happened: pick one specific "
                "past example and tell it (when and where, what you did, what came of it).")


# The pace a written answer is timed at: the middle of the default 120-160 words a minute target.
WRITTEN_WPM = 140.0


def _pct(share: float) -> int:
    """A share in whole percent, as the notes show it."""
    return round(100 * share)


def _quote(text: str, limit: int = 90) -> str:
    text = text.rstrip(" .")
    if len(text) > limit:  # cut between words, not inside one (and not before a whole one)
        head = text[:limit + 1]
        text = (head.rsplit(" ", 1)[0] if " " in head else head[:limit]).rstrip(" ,;:") + "…"
    return f"\u201c{text}\u201d"


def coach(sentences, parts, spoken, duration_s, opts: StarOptions, *, not_story: bool = False,
           closest: dict[str, int] | None = None, written_wpm: float | None = None):
    """Feedback, strengths and rating. ``closest``: per part, the sentence most like it
    (learned tagger), quoted when the part is unclear. ``written_wpm``: a written answer's speaker's
    own pace, where the text states it (:func:`.answer_text.export_pace`)."""
    fb: list[Feedback] = []
    strengths: list[str] = []
    improvements: list[str] = []
    rating = 10.0
    if not_story:
        hypo = tuple(i for i, s in enumerate(sentences) if s.hypothetical)
        fb.append(Feedback("not_a_story", "missing", _NOT_A_STORY, hypo))
        rating -= 5
    for p in PARTS:
        part = parts[p]
        if part.present:
            continue
        if part.unclear and closest and p in closest:
            best = closest[p]
            advice = _MISSING[p].split(": ", 1)[1]
            # an answer's one sentence, of a part judged present and no clause of it this part's, is no "closest"
            # of this one (it was quoted as the closest Situation, shown as the Result)
            owner = sentences[best].label
            theirs = (len(sentences) == 1 and owner != p and owner in parts and parts[owner].present
                      and p not in dict(sentences[best].parts))
            fb.append(Feedback(f"unclear_{p}", "unclear",
                               f"Unclear whether there is {'an' if p == 'action' else 'a'} {_TITLES[p]}"
                               + ("" if theirs else f": the closest is {_quote(sentences[best].text)}")
                               + f". Make it explicit: {advice}", () if theirs else (best,)))
            rating -= {"situation": 0.75, "task": 0.75, "action": 1.5, "result": 1.25, "learning": 0.25}[p]
        else:
            fb.append(Feedback(f"missing_{p}", "missing" if p != "learning" else "tip", _MISSING[p]))
            rating -= {"situation": 1.5, "task": 1.5, "action": 3.0, "result": 2.5, "learning": 0.5}[p]
    core = [p for p in PARTS[:4] if parts[p].present]
    if len(core) == 4 and not not_story:  # "in order" only when each part opens after the one before it,
        # and no setting comes again after the outcome (an audit: two stories, S T A R S T A, were praised)
        firsts = [min(parts[p].sentences) for p in core if parts[p].sentences]
        told = parts["result"].sentences
        again = bool(told) and any(i > min(told) for p in ("situation", "task") for i in parts[p].sentences)
        strengths.append("All four STAR parts are there" +
                         (", in a clear order." if firsts == sorted(firsts) and not again else "."))
    setup = parts["situation"].share_words + parts["task"].share_words
    setup_idx = tuple(sorted(parts["situation"].sentences + parts["task"].sentences))  # in the answer's order
    # Shares are judged as the note shows them, in whole percent: 34.1% against a 34% limit would
    # read "take 34%; keep them under 34%".
    if _pct(setup) > _pct(opts.setup_max_share) and parts["action"].present:
        fb.append(Feedback("setup_too_long", "warning",
                           f"Situation and Task take {_pct(setup)}% of the answer; keep them to "
                           f"{_pct(opts.setup_max_share)}% or less and spend the time on what you did.", setup_idx))
        rating -= 1
    action = parts["action"]
    if action.present:
        text = " ".join(sentences[i].text.lower() for i in action.sentences)
        n_i, n_we = len(_I_DID.findall(text)), len(_WE_DID.findall(text))
        if _pct(action.share_words) < _pct(opts.action_min_share):
            fb.append(Feedback("action_short", "warning",
                               f"The Action is only {_pct(action.share_words)}% of the answer (aim for "
                               f"{_pct(opts.action_min_share)}% or more); it should be the longest part: "
                               "the steps you took, why, and how.", action.sentences))
            rating -= 1
        if n_we > n_i:
            fb.append(Feedback("action_we", "warning",
                               f"The Action says \"we\" {_times(n_we)} and \"I\" {_times(n_i)}; interviewers hire "
                               "you, not the team: say what you did.", action.sentences))
            rating -= 1
        elif n_i:
            strengths.append(f"The Action is in the first person: \"I\" did it {_times(n_i)}, \"we\" {_times(n_we)}.")
    # A part the learned tagger judges present may have no sentence of its own (each sentence
    # went to a likelier part): nothing to judge its content by, so no note on it.
    result = parts["result"]
    if result.present and result.sentences:
        text = " ".join(sentences[i].text.lower() for i in result.sentences)
        if not _QUANTIFIED.search(_WHEN.sub(" ", text)):
            fb.append(Feedback("result_no_number", "warning",
                               "The Result has no number: quantify it (percent, time saved, money, users).",
                               result.sentences))
            rating -= 1
        else:
            strengths.append("The Result is quantified.")
    lesson = parts["learning"]
    if lesson.present and lesson.sentences:
        # "ends with" only where it does: a lesson told first was praised for coming last
        later = any(i > max(lesson.sentences) for p in CORE_PARTS if parts[p].present for i in parts[p].sentences)
        strengths.append("It draws a lesson." if later else "It ends with a lesson learned.")
    # A written answer is measured by the time it takes to say: at WRITTEN_WPM a minute (it had no
    # length note at all, so 27 words were rated as well as a full story).
    # An export states the take's own pace: an untouched one was timed at 140 and checked "short" (87 s of 97).
    words = sum(s.words for s in sentences)
    said = duration_s if spoken else words / (written_wpm or WRITTEN_WPM) * 60 if words else None
    if said:
        low, high = opts.target_length_s
        pace = f" at the take's {written_wpm:.0f} words a minute" if written_wpm else ""
        length = f"{said:.0f} s" if spoken else f"{plural(words, 'word')}, about {said:.0f} s spoken{pace},"
        if said < low:
            severe = said < 0.67 * low
            # Only the parts that are thin: "add detail to the Action" to an answer that is three
            # quarters Action, or one with none, is advice that does not fit it.
            thin = [name for p, name, enough in (("action", "the Action", 0.5), ("result", "the Result", 0.2))
                    if parts[p].present and parts[p].share_words < enough]
            fb.append(Feedback("too_short", "warning" if severe else "tip",
                               f"{length} is short of the {low:.0f}–{high:.0f} s target: "
                               + (f"add detail to {' and '.join(thin)}." if thin else
                                  "tell the story in more detail: what you did, step by step, and what changed.")))
            rating -= 1 if severe else 0.5
        elif said > high:
            severe = said > 1.5 * high
            # the parts it has: "trim the Situation" beside "No Situation" was advice that does not fit
            setup = " and ".join(f"the {_TITLES[p]}" for p in ("situation", "task") if parts[p].present)
            keep = "keep one thread in the Action" if parts["action"].present else "keep to one thread of the story"
            fb.append(Feedback("too_long", "warning" if severe else "tip",
                               f"{length} is over the {low:.0f}–{high:.0f} s target: "
                               + (f"trim {setup} and {keep}." if setup else f"{keep}.")))
            rating -= 1 if severe else 0.5
        else:
            strengths.append(f"The length ({length.rstrip(',')}) is on target.")
    if not_story:  # praise for the parts of an answer that is no story ("in the first person") misleads,
        # and so do notes on its parts and length ("No Result", "add detail to the Action"): the one
        # thing to fix is to tell a story. With no part of one (star_report.no_story), the rating is 1.
        strengths = []
        fb = [f for f in fb if f.code == "not_a_story"]
    improvements = [f.message for f in fb]
    # Rounded down: a 10 means nothing left to improve, not "only a lesson missing".
    return tuple(fb), tuple(strengths), tuple(improvements), max(1, min(10, math.floor(rating)))
