"""The hand-written STAR rules: cue evidence per sentence, a Viterbi decoder over the story's
order, sentence splitting for text and transcripts, and the hypothetical-answer cues.

The hand-written STAR rules (``[star] tagger = "rules"``; the default "hybrid" asks them about the
parts the learned tagger is unsure of); ``star.py`` builds the report from them.
"""

from __future__ import annotations

import math
import re

from ..domain.transcript import Word, join_words
from ..domain.vocab import FILLED_PAUSE_IN_TEXT, I_WORDS, NUMBER_WORDS, PARTS, WE_WORDS, alternatives, words_rx
from .answer_text import strip_export
from .star_segment import split_run_on

_INNER_MARK = re.compile(r"[,;:.!?]")  # punctuation inside a sentence: not a pasted transcript

_LABELS = PARTS  # states of the decoder, in story order
_NUMBER_WORD = alternatives(NUMBER_WORDS)


# --- evidence -------------------------------------------------------------------

def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b")


# Irregular past forms (regular ones end in -ed). Forms that are also the present ("read", "hit",
# "let", "set" alone) are left out: "I hit the target" and "I set goals" could be either.
_IRREGULAR_PAST = (
    "ate|beat|became|began|bent|bit|bled|blew|bought|bound|bred|broke|brought|built|caught|chose|clung|came|"
    "crept|dealt|did|drank|drew|drove|dug|fed|fell|felt|fled|flew|forbade|forgave|forgot|fought|found|froze|"
    "gave|got|grew|had|heard|held|hid|hung|kept|knew|laid|led|left|lent|lost|made|meant|met|mistook|"
    "overcame|oversaw|overtook|paid|ran|rang|rebuilt|rewrote|rode|rose|sang|sank|sat|saw|sent|set up|shook|"
    "shot|shrank|slept|sold|sought|spent|spoke|spun|stood|stole|struck|stuck|swam|swept|swore|swung|taught|"
    "thought|threw|told|took|tore|underwent|understood|undertook|upheld|went|withdrew|withheld|woke|won|"
    "wore|wound|wrote|put|split|cut|"
    "hired|fixed|shipped|moved|pushed|pulled"
)
_BASE_VERBS = frozenset(
    """investigate determine reduce lead protect provide deliver build fix ensure improve migrate design
    create make find get help decide choose evaluate define resolve increase cut launch ship implement
    identify diagnose support unblock restore recover align convince persuade negotiate hire train onboard
    automate scale optimize optimise speed lower raise grow save prevent stop replace rewrite refactor
    establish set plan prepare present recommend understand assess analyze analyse audit prioritize
    prioritise coordinate manage own drive handle meet hit reach achieve complete finish clean consolidate
    standardize standardise integrate deploy roll move modernize simplify bring keep maintain""".split()
)

_CUES: dict[str, list[tuple[re.Pattern[str], float, str]]] = {
    "situation": [
        (_rx(r"at my (?:previous|last|current|old|first) (?:job|company|role|team|employer)", r"when i was",
             r"back (?:then|in)", r"at the time", r"a few (?:months|years|weeks) ago", r"last (?:year|quarter|summer)",
             r"in 20\d\d", r"the (?:situation|context|background|problem) (?:was|is)", r"at first",
             r"i (?:was )?work(?:ed|ing) (?:at|as|on)"), 2.0, "context"),
        (_rx(r"there (?:was|were)", r"(?:we|they|it|team|company|customers?|users?|clients?|pipelines?|"
             r"system|service|project|product|dashboard|leadership) (?:was|were|had|kept|started|reported|"
             r"complained|debated|disputed|showed|broke)",
             r"(?:was|were) (?:blocked|failing|broken|missing|late|behind|stuck|understaffed|delayed|growing|"
             r"slow|down)", r"started failing", r"broke", r"complain(?:ed|ts)", r"reported", r"debated",
             r"disputed", r"frustrat\w+", r"impacting", r"causing"), 1.2, "past state"),
    ],
    "task": [
        (_rx(r"my (?:task|goal|job|role|responsibility|mission|objective|assignment|mandate) (?:was|is)",
             r"the (?:goal|task|ask|objective|challenge|mission) (?:was|is)",
             r"i (?:was|were) (?:asked|tasked|responsible|in charge|supposed|expected|assigned|given)",
             r"i (?:needed|had|have|wanted|aimed|set out) to", r"we (?:needed|had) to", r"needed to", r"had to",
             r"i took ownership",
             r"i volunteered", r"i could have", r"(?:asked|wanted) me to", r"it was (?:up to me|my job)",
             r"i decided to (?:own|take)", r"my (?:manager|boss|lead|director) asked"), 2.2, "task phrase"),
    ],
    "action": [
        (re.compile(r"\bi (?:then |first |also |quickly |immediately |personally |finally |next )?"
                    r"(?!(?:needed|wanted|hoped|planned|expected|used|was|were|had|learned|realized|noticed|"
                    r"felt|meant|lost|heard|saw|understood|became|underwent)\b)"
                    r"(?:\w+ed|" + _IRREGULAR_PAST + r")\b"), 2.0, "I + past verb"),
        (_rx(r"i (?:set|started|decided|began|reached out|sat down|worked with|partnered|convened|proposed)",
             r"so i", r"then i", r"first,? i", r"next,? i", r"after that", r"i'll", r"i will"), 1.0, "step"),
        (_rx(r"we (?!(?:needed|wanted|used|had|were)\b)(?:\w+ed|" + _IRREGULAR_PAST + r")"), 0.7,
         "we + past verb"),
    ],
    "result": [
        (_rx(r"as a result", r"resulted in", r"the (?:result|outcome|impact) (?:was|is)", r"in the end",
             r"ultimately", r"by the end", r"this led to", r"which led to", r"led to", r"so that", r"thanks to",
             r"ahead of schedule", r"on time", r"no more", r"hasn't failed", r"haven't had", r"(?:now|since) "
             r"(?:match|matches|runs|takes|is|are)", r"adopted", r"launched", r"unblocked", r"saved",
             r"uptime", r"(?:got|received|earned) (?:promoted|a promotion|recognition|an award)",
             r"(?:stayed|held|remained|kept) (?:at|under|below|above|within|steady|flat)",
             r"(?:lost|missed|dropped|had) (?:no|zero) (?:\w+ )?(?:orders|deals|customers|data|incidents|outages|"
             r"defects|bugs|escalations|complaints|downtime)"),
         1.6, "outcome phrase"),
        (_rx(r"(?:reduc|improv|increas|decreas|dropp|cut|grew|grow|rais|lower|boost|halv|doubl|fell|"
             r"fall|shrank|sav|gain|went (?:up|down))\w*"), 1.0, "outcome verb"),
        (re.compile(r", so (?!that\b|i\b|we\b)\w+"), 0.6, "consequence"),
        (re.compile(r"\bfrom [$]?\d[\w$.,%-]* (?:\w+ )?to [$]?\d|\bfrom\b[^.;]{0,40}?\bto (?:" + _NUMBER_WORD
                    + r"|one|under|less than|over|more than)\b|\bzero \w+|\bby \d[\d.,]*\s?%|\d[\d.,]*\s?%|\bpercent\b|"
                    r"\$\d|\bdollars?\b|\b\d+x\b"), 1.3, "number"),
    ],
    "learning": [
        (_rx(r"i (?:have )?learned", r"learned that", r"lessons?", r"looking back", r"in hindsight",
             r"if i (?:did|had|could|had to do|could do|were to do) (?:(?:it|this|that) )?(?:again|over)", r"next time",
             r"i would (?:have|do|write|add|start|involve|ask|push|spend|set|plan|build|talk)",
             r"i'd (?:have|do|write|add|start|involve|ask)", r"taught me", r"i realized", r"i now (?:always|make)",
             r"since then,? i", r"going forward", r"(?:do|done) differently", r"takeaway", r"what i learned",
             r"the key (?:lesson|insight)", r"reminded me"), 3.5, "reflection"),
    ],
}
_OUTCOME_OPENING = re.compile(
    r"^(?:reduc|improv|increas|decreas|dropp|cut|grew|rais|lower|boost|halv|doubl|sav|unblock|resolv|"
    r"deliver|launch|achiev|eliminat|finish|complet|won|hit|met|exceed)\w*\b"
)
_PAST_OPENING = re.compile(r"^(?:\w+ed|" + _IRREGULAR_PAST + r")\b")
_THIRD_PERSON_PAST = re.compile(r"^(?:\w+[ ,]+){1,5}?(?:was|were|had|\w+ed|" + _IRREGULAR_PAST + r")\b")
_PART_NAMES = {"situation": "situation", "context": "situation", "background": "situation", "task": "task",
               "goal": "task", "action": "action", "actions": "action", "result": "result", "results": "result",
               "outcome": "result", "impact": "result", "learning": "learning", "learnings": "learning",
               "lesson": "learning", "lessons": "learning", "lesson learned": "learning",
               "lessons learned": "learning", "reflection": "learning"}
_NAMED_PART = re.compile(r"^(" + "|".join(sorted(_PART_NAMES, key=len, reverse=True)) + r")\s*(?::|-|–|—)\s*")
_TARGET = _rx(r"targets?", r"goals?", r"criteri(?:a|on)", r"thresholds?", r"requirements?", r"budget",
              r"sla", r"slo", r"aim(?:ed|ing)? (?:for|at)")
_NUMBER = re.compile(r"\d|\b(?:one|double|twice|" + _NUMBER_WORD + r")\b")
_I = words_rx(I_WORDS)
_WE = words_rx(WE_WORDS)
_FILLER_TOKENS = FILLED_PAUSE_IN_TEXT


def _evidence(text: str, position: float) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Scores of one sentence for each part, and the cues behind them."""
    t = _FILLER_TOKENS.sub("", text.lower()).strip()
    t = re.sub(r"^(?:(?:so|and|but|well|okay|ok|yeah|then|you know|i mean|basically|actually|honestly)[, ]+)+", "", t)
    score = {p: 0.0 for p in _LABELS}
    why: dict[str, list[str]] = {p: [] for p in _LABELS}
    named = _NAMED_PART.match(t)
    if named:  # notes that say which part they are: "Result: churn fell 20%."
        part = _PART_NAMES[named.group(1)]
        score[part] += 3.0
        why[part].append("named part")
        t = t[named.end():].strip()
    for part, rules in _CUES.items():
        for pattern, weight, name in rules:
            if pattern.search(t):
                score[part] += weight
                why[part].append(name)
    first = t.split(" ", 1)[0].strip(",.:;") if t else ""
    has_number = bool(_NUMBER.search(t))
    if first in _BASE_VERBS:
        score["task"] += 1.8  # "Investigate and resolve the discrepancy before the audit."
        why["task"].append("goal verb first")
    if score["task"] >= 2.0 and score["action"] > 0:
        score["action"] -= 1.0  # "I took ownership to unblock them" states the task, not a step
    base_form_first = first in _BASE_VERBS
    if _OUTCOME_OPENING.match(t) and has_number and not base_form_first:
        score["result"] += 1.5
        why["result"].append("outcome verb + number")
    elif _PAST_OPENING.match(t) and first not in ("i", "we"):
        score["action"] += 0.8  # note style: "Mapped lineage for 8 tables."
        why["action"].append("past verb first")
    if first not in ("i", "we", "i'm", "we're") and _THIRD_PERSON_PAST.search(t):
        score["situation"] += 0.6  # "Product marketing pulled forward a launch."
        why["situation"].append("third-person past")
    outcome = [c for c in why["result"] if c != "number"]
    if has_number and outcome:
        score["result"] += 0.5
    elif "number" in why["result"] and _TARGET.search(t):
        score["result"] -= 1.0  # "target under 50 ms": a figure aimed at, not one reached
    # Story position: setting first, reflection last.
    score["situation"] += 0.8 * (1 - position) ** 3
    score["learning"] += -1.0 + 0.5 * position
    return score, why


# --- hypothetical answers -----------------------------------------------------------

_HYPOTHETICAL = re.compile(
    r"\b(?:i|we|you|they|one)(?:'d| would| will|'ll| usually| typically| generally| normally| always| tend to|"
    r" try to| like to| prefer to| should| could| might)\b"
    r"|\b(?:my|our) (?:approach|process|strategy|philosophy|rule) (?:is|would be)\b|\bwhat i (?:do|would do)\b"
    r"|\b(?:usually|typically|generally|normally|whenever|in general)\b|^(?:first|then|next),? (?:i'd|i would)\b"
    r"|\bif (?:i|we) (?:were|had|ever|get|got|find|see|have)\b")
_PAST_NARRATIVE = re.compile(  # "I would set", "I need": no past (a modal before the verb; -eed is no -ed)
    r"\b(?:i|we|they|he|she|it|team|manager|customers?)(?: (?!(?:would|will|could|should|might|can|may|must|"
    r"shall|do|does)\b)\w+)? (?:was|were|(?!(?:need|feed|proceed|succeed|exceed|speed|indeed)\b)\w+ed|"
    + _IRREGULAR_PAST + r")\b"
    r"|\b(?:last|in) (?:year|month|quarter|week|20\d\d)\b|\b(?:ago|at the time|back then|once)\b")


def _tells_past(text: str) -> bool:
    """The sentence tells something that happened ("if I had…", "would have…" do not count)."""
    t = re.sub(r"\b(?:would|will|'d) have \w+|\bif (?:i|we|you|they) \w+", "", text.lower().replace("’", "'"))
    return bool(_PAST_NARRATIVE.search(t))


def _hypothetical(text: str) -> bool:
    return bool(_HYPOTHETICAL.search(text.lower().replace("’", "'"))) and not _tells_past(text)


# --- decoding -------------------------------------------------------------------

_START = {"situation": 0.0, "task": -0.8, "action": -0.8, "result": -3.0, "learning": -5.0}
_END = {"situation": -3.0, "task": -3.0, "action": -0.3, "result": 0.0, "learning": 0.0}


def _transition(a: str, b: str) -> float:
    i, j = _LABELS.index(a), _LABELS.index(b)
    if j == i:
        return 0.0
    if j == i + 1:
        return -0.6
    if j > i:
        return -1.6 * (j - i - 1) - 0.6
    if a == "learning":
        return -6.0
    return -3.5  # going back: "...and before that, the team had..." happens, but rarely


def label_sentences(texts: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """Label each sentence with a STAR part by Viterbi decoding over story order.

    Args:
        texts: the answer's sentences in order.

    Returns:
        For each sentence, its label and the cues that supported it.
    """
    if not texts:
        return []
    n = len(texts)
    emissions, whys = [], []
    acted = False
    for k, text in enumerate(texts):
        score, why = _evidence(text, k / max(1, n - 1))
        if acted and "context" not in why["situation"]:
            # Once the speaker has told what they did, a description of how things stood
            # is what they found on the way ("Silver table had 15K fewer orders"), not the setting.
            score["situation"] -= 1.0
        acted = acted or ("I + past verb" in why["action"]
                          and score["action"] > max(score["situation"], score["task"]))
        top = max(score.values())
        log_z = top + math.log(sum(math.exp(v - top) for v in score.values()))
        emissions.append({p: 1.6 * (v - log_z) for p, v in score.items()})
        whys.append(why)
    best = {p: _START[p] + emissions[0][p] for p in _LABELS}
    back: list[dict[str, str]] = []
    for k in range(1, n):
        nxt, ptr = {}, {}
        for b in _LABELS:
            a = max(_LABELS, key=lambda a: best[a] + _transition(a, b))
            nxt[b] = best[a] + _transition(a, b) + emissions[k][b]
            ptr[b] = a
        best = nxt
        back.append(ptr)
    state = max(_LABELS, key=lambda p: best[p] + _END[p])
    path = [state]
    for ptr in reversed(back):
        state = ptr[state]
        path.append(state)
    path.reverse()
    path = _require_evidence(path, whys)
    return [(label, tuple(whys[k][label])) for k, label in enumerate(path)]


def _require_evidence(path: list[str], whys: list[dict[str, list[str]]]) -> list[str]:
    """A part is only there if one of its sentences shows a cue for it.

    Order alone can put a label on a sentence that says nothing of that part (the
    last sentence of a story that stops mid-action is not a Result). Such a run is
    folded into the part before it (or after it, at the start).
    """
    path = list(path)
    for part in _LABELS:
        idx = [k for k, label in enumerate(path) if label == part]
        if not idx or any(whys[k][part] for k in idx):
            continue
        if part == "situation" and idx == list(range(len(idx))) and len(idx) < len(path) \
                and path[len(idx)] == "task" and whys[len(idx)]["task"]:
            continue  # what an answer says before stating its task is the setting
        before, after = _nearest_other(path, part)  # one pass each way, not a scan per sentence
        for k in idx:
            path[k] = before[k] or after[k] or part
    return path


def _nearest_other(path: list[str], part: str) -> tuple[list[str | None], list[str | None]]:
    """For each position, the nearest label before it and after it that is not PART (or None)."""
    before: list[str | None] = []
    last: str | None = None
    for label in path:
        before.append(last)
        last = label if label != part else last
    after: list[str | None] = []
    last = None
    for label in reversed(path):
        after.append(last)
        last = label if label != part else last
    after.reverse()
    return before, after


# --- sentences ------------------------------------------------------------------

_ABBREV = re.compile(r"\b(?:e\.g|i\.e|vs|etc|dr|mr|mrs|inc|ltd|jr|sr|approx|u\.s|a\.m|p\.m|no)\.$", re.I)


def split_text(text: str) -> list[str]:
    """Split a written answer into sentences.

    Markdown headings, checklist lines and emphasis are dropped, so an exported and
    edited take checks the same as plain text.
    """
    text, _ = strip_export(text)
    lines = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#") or re.match(r"^[-*]\s*\[[ xX]\]", s) or s.startswith(">"):
            lines.append("")
            continue
        s = re.sub(r"^[-*+]\s+|^\d+[.)]\s+", "", s)
        s = re.sub(r"[*_`]{1,3}([^*_`]+)[*_`]{1,3}", r"\1", s)
        lines.append(s)
    out: list[str] = []
    for para in re.split(r"\n\s*\n", "\n".join(lines)):
        para = " ".join(para.split())
        if not para:
            continue
        current = ""
        for piece in re.split(r"(?<=[.!?])\s+", para):
            current = f"{current} {piece}".strip() if current else piece
            if _ABBREV.search(current) or not re.search(r"[.!?][\"')\]]*$", current):
                continue
            out.append(current)
            current = ""
        if current:
            out.append(current)
    # A pasted transcript (no punctuation inside) is cut as the learned tagger cuts it; it was one
    # "sentence" with one part (rated 2 for a whole story). Punctuated sentences stay whole.
    return [" ".join(piece) for s in out
            for piece in (split_run_on(s.split()) if not _INNER_MARK.search(s.rstrip(".!?\"') ")) else [s.split()])]


def split_spoken(words: tuple[Word, ...] | list[Word], *, skip: set[int] | frozenset[int] = frozenset(),
                 pause_s: float = 0.8, max_words: int = 45) -> list[tuple[str, float, float, int]]:
    """Split recognised words into sentences: at end punctuation, else at pauses.

    Args:
        words: all recognised words, fillers included (their time counts for pauses).
        skip: indexes of words left out of the sentences' text (fillers).
        pause_s: a silence this long ends a sentence, unless the word before it
            ends in a comma (a clause break, not a sentence end).
        max_words: a sentence this long without punctuation is cut.

    Returns:
        (text, start, end, word count) per sentence, fillers left out.
    """
    out = []
    cur: list[Word] = []
    prev: Word | None = None

    def flush():
        if cur:
            out.append((join_words(w.text for w in cur), cur[0].start, cur[-1].end, len(cur)))
            cur.clear()

    for i, w in enumerate(words):
        if cur and cur[-1].text.rstrip().endswith(",") and i not in skip and _starts_clause_cue(words, i, skip):
            flush()  # "..., if I did it again, I would..." - the recogniser ran two sentences together
        if (cur and prev is not None and w.start - prev.end >= pause_s and len(cur) >= 3
                and not prev.text.rstrip().endswith((",", ";", ":"))):
            flush()
        prev = w
        if i in skip:
            continue
        cur.append(w)
        if w.text.rstrip().endswith((".", "?", "!")) and not _ABBREV.search(w.text) or len(cur) >= max_words:
            flush()
    flush()
    return out


_CLAUSE_CUES = re.compile(
    r"^(?:if i (?:did|had|could) (?:it|this|that) (?:again|over)|looking back|in hindsight|next time|"
    r"what i learned|i learned|the lesson|as a result|in the end|ultimately|my (?:task|goal|job|role) was|"
    r"i (?:needed|had|was asked) to|the (?:goal|task|challenge) was)\b"
)


def _starts_clause_cue(words, i: int, skip) -> bool:
    following = [words[j].norm for j in range(i, min(len(words), i + 8)) if j not in skip]
    return bool(_CLAUSE_CUES.match(" ".join(following)))
