"""Where the recognised words and filled pauses were said: Whisper's times are loose.

Words are trimmed to the voice and segments laid over silence dropped (:func:`fit_to_audio`);
voice that no word covers is found for decoding again (:func:`skipped_speech`).

Each filled pause the transcript holds is moved onto the stretch of voice it was said in, one
hesitation written twice is counted once, and one stamped where nobody spoke is dropped.
"""

from __future__ import annotations

import bisect
from dataclasses import replace

from ..audio.activity import Activity, snap_to_speech
from ..domain.transcript import Filler, Transcript, Word, join_words
from ..domain.vocab import FILLED, is_filled_pause
from .fillers import filler_word_indexes

# The shortest stretch of voice taken to be a whole filled pause. In white or pink noise at
# 10-15 dB the level regions break speech into pieces of 0.07-0.15 s; a filled pause "moved
# onto" such a piece lands up to a second from where it was said, and a word "alone" in one is
# not a word set off by silences (the probe re-spelt 38 such words as fillers, against 8 true
# ones, on the lab voices in white 15 dB). None of the lab voices' 150 filled pauses is shorter
# than 0.36 s. 0.2 s was chosen on the lab voices' noisy copies (docs/accuracy.md): with the
# lone words, filled-pause F1 matched by time at 10 dB pink 0.86 -> 0.94, brown 0.91 -> 0.95,
# fan 0.90 -> 0.94, white 15 dB 0.86 -> 0.94, clean unchanged; for the stretch a filler is
# moved onto, at most +0.003.
FILLED_PAUSE_MIN_S = 0.2


def align_fillers(fillers: list[Filler], words: tuple[Word, ...], activity: Activity,
                  *, reach_s: float = 1.0, max_len_s: float = 1.0) -> list[Filler]:
    """Move recognised filled pauses onto the speech they were said in.

    Whisper's times for an "uh" are loose: one said just after a long pause is often
    stamped before it, at the end of the previous sentence, and one opening a
    sentence is often stamped half a second late. Each filled pause is moved onto
    the nearest short stretch of speech (:data:`FILLED_PAUSE_MIN_S` to ``max_len_s``),
    within ``reach_s`` of its stamp, that no other word covers; failing that, it keeps
    its stamp, starting where the voice comes back if it falls silent inside the stamp
    (:func:`_where_the_voice_resumes`), cut to the speech under what is left. Two filled
    pauses landing on the same stretch are one hesitation written twice (the more
    confident spelling is kept). One stamped where the audio holds no speech at all
    was never said (the prompt can make Whisper write "uh" into silence) and is
    dropped.
    """
    skip = filler_word_indexes(fillers)
    content = sorted((w.start, w.end) for i, w in enumerate(words) if i not in skip)
    placed: dict[tuple[float, float], Filler] = {}
    out = []
    for f in fillers:
        if f.kind != FILLED:
            out.append(f)
            continue
        region = _free_region_near(f, content, activity, reach_s, max_len_s)
        if region is None:
            if activity.speech_between(f.start - 0.1, f.end + 0.1) < 0.05:
                continue  # nobody spoke here
            # Whisper's own stamp, kept inside the speech under it. Widening it by 0.3 s each
            # side, as before, moved every such filler 0.3 s early whenever the speech around
            # it was one long region, as in white noise, where the level regions merge: on the
            # lab voices (eval_corpus scoring) white 10 dB filled-pause F1 0.80 -> 0.89, fan
            # 10 dB 0.90 -> 0.92, clean 0.93 -> 0.94, pink 10 and white 15 dB unchanged.
            # where the voice falls silent inside the stamp and comes back, the filler is what
            # follows: the speech under the stamp before that silence is the word before it
            resumed = _where_the_voice_resumes(f.start, f.end, activity.voice)
            region = _overlapping_region(replace(f, start=resumed), activity) or (resumed, f.end)
            start, end = max(region[0], resumed), min(region[1], f.end)
        else:
            start, end = region
        moved = Filler(f.text, round(start, 3), round(end, 3), f.kind, f.source, f.word_index)
        key = (round(start, 2), round(end, 2))
        if key in placed:
            other = placed[key]
            if _confidence(words, f) > _confidence(words, other):
                out[out.index(other)] = moved
                placed[key] = moved
            continue
        placed[key] = moved
        out.append(moved)
    return _merge_doubled(out, words, activity)


# Filled pauses closer than this, with no silence between them, are one hesitation.
DOUBLED_GAP_S = 0.35


def _merge_doubled(fillers: list[Filler], words: tuple[Word, ...], activity: Activity) -> list[Filler]:
    """One voiced hesitation written as two or more filled pauses ("Er, um," for one "um",
    "er, er, er" for one long "er") counts once, spelt as its most confident word.

    Measured in the filler lab on eight synthetic voices (docs/fillers-research.md, section 5):
    merging filler words under 0.35 s apart with no silence between was part of most of the
    gain over the baseline there; the dev corpus played no part in choosing it.
    """
    out: list[Filler] = []
    for f in fillers:
        prev = next((g for g in reversed(out) if g.kind == FILLED), None)
        gap = f.start - prev.end if prev is not None else None
        if (f.kind == FILLED and prev is not None and gap is not None and gap < DOUBLED_GAP_S
                and (gap <= 0 or activity.speech_between(prev.end, f.start) >= gap - 0.05)
                and not _word_between(words, prev, f)):
            keep = f if _confidence(words, f) > _confidence(words, prev) else prev
            out[out.index(prev)] = Filler(keep.text, prev.start, max(prev.end, f.end), FILLED, keep.source,
                                          keep.word_index)
            continue
        out.append(f)
    return out


def _word_between(words: tuple[Word, ...], a: Filler, b: Filler) -> bool:
    """Whether a word that is not a filled pause lies between filled pauses A and B: by their
    places in the transcript when both are words, else by time."""
    if a.word_index >= 0 and b.word_index >= 0:
        lo, hi = sorted((a.word_index, b.word_index))
        return any(not is_filled_pause(words[k].norm) for k in range(lo + 1, hi))
    start, end = sorted((a.end, b.start))
    return any(start <= (w.start + w.end) / 2 <= end and not is_filled_pause(w.norm) for w in words)


def _free_region_near(f: Filler, content, activity: Activity, reach_s: float, max_len_s: float):
    best, best_cost = None, None
    mid = (f.start + f.end) / 2
    for rs, re_ in activity.regions:
        if re_ < f.start - reach_s or rs > f.end + reach_s or not FILLED_PAUSE_MIN_S <= re_ - rs <= max_len_s:
            continue
        taken = covered(rs, re_, content)
        if taken > 0.5 * (re_ - rs):
            continue
        cost = abs((rs + re_) / 2 - mid) + taken
        if best_cost is None or cost < best_cost:
            best, best_cost = (rs, re_), cost
    return best


def covered(start: float, end: float, spans: list[tuple[float, float]]) -> float:
    """Seconds of [start, end] that the word spans cover (spans sorted by start)."""
    # Words are at most a few seconds long: only spans starting shortly before can reach in.
    i = bisect.bisect_left(spans, (start - 5.0,))
    total = 0.0
    while i < len(spans) and spans[i][0] < end:
        s, e = spans[i]
        if e > start:
            total += min(end, e) - max(start, s)
        i += 1
    return total


# A filled pause that opens a sentence is often stamped from the end of the word before it,
# across the pause. When noise (typing) keeps the level up through that pause, no free stretch
# of voice marks where it was said, but the voice detector still hears the pause: where the voice
# falls silent inside the stamp and comes back at least this long before the stamp ends, the
# filler starts where the voice comes back. Chosen on the eight espeak-ng lab voices in typing at
# 15 dB (docs/accuracy.md); 0.1 and 0.2 s tied there (the held-out flite voices, seen in the same
# replay, favoured 0.1 s).
VOICE_RESUMES_BEFORE_END_S = 0.1


def _where_the_voice_resumes(start: float, end: float, voice: tuple[tuple[float, float], ...]) -> float:
    """START, or the last return of the VOICE after a silence inside [START, END - 0.1 s]."""
    for (_, fell_silent), (back_at, _) in zip(voice, voice[1:]):
        if fell_silent < back_at and start < back_at < end - VOICE_RESUMES_BEFORE_END_S:
            start = back_at  # (regions padded until they touch hold no silence)
    return start


def _overlapping_region(f: Filler, activity: Activity):
    best, best_overlap = None, 0.0
    for rs, re_ in activity.regions:
        overlap = min(re_, f.end) - max(rs, f.start)
        if overlap > best_overlap:
            best, best_overlap = (rs, re_), overlap
    return best


def _confidence(words: tuple[Word, ...], f: Filler) -> float:
    return words[f.word_index].probability if 0 <= f.word_index < len(words) else 0.0


# Nobody says more words a second than this over a segment of several words. A segment whose
# words Whisper aligned faster is text it wrote for a stretch too short to hold it: a window of
# the last fraction of a second of a recording, decoded with the text before it as the prompt,
# came back as that text again or as a loop of "er, er, uh, er" (21 words in 0.38 s; 14 in
# 0.86 s; 4 in 0.14 s), seen on the lab voices. The fastest six words of 83 lab and dev answers
# came at 7.8 a second; with segments of three words or more, the rule changed none of those
# answers' real words, nor of 44 noisy copies of the dev answers.
WORDS_PER_S_MAX = 12.0
_SQUASH_MIN_WORDS = 3


def fit_to_audio(transcript: Transcript, activity: Activity) -> Transcript:
    """Drop segments laid over silence, or squeezed into too little time, and trim word times
    to the voice.

    A segment with no speech under it is one of Whisper's hallucinations ("Thank
    you.") and goes, and so does one of three or more words faster than :data:`WORDS_PER_S_MAX`; the
    other words are trimmed so they do not start or end in a silence (see :func:`snap_to_speech`).
    """
    kept = []
    for seg in transcript.segments:
        if not seg.words or activity.speech_between(seg.words[0].start, seg.words[-1].end) < 0.1:
            continue
        words = []
        for w in seg.words:
            start, end = snap_to_speech(w.start, w.end, activity)
            words.append(replace(w, start=round(start, 3), end=round(end, 3)))
        words = _without_instant_runs(_without_squeezed_repeats(words))
        if not words:
            continue
        span = seg.words[-1].end - seg.words[0].start
        if len(seg.words) >= _SQUASH_MIN_WORDS and len(seg.words) > span * WORDS_PER_S_MAX:
            # squeezed: gone, unless a loop after the words said made it so ("Last year I led. Last
            # year I led. …" on a 1 s take, 20 words, the copies of no length): without its copies
            # and its words of no length, at least three words at a pace someone can say them stay
            words = [w for w in words if w.end > w.start]
            if len(words) < _SQUASH_MIN_WORDS or len(words) > (words[-1].end - words[0].start) * WORDS_PER_S_MAX:
                continue
        if len(words) < len(seg.words):
            seg = replace(seg, text=join_words(w.text for w in words))
        kept.append(replace(seg, words=tuple(words), start=words[0].start, end=words[-1].end))
    return replace(transcript, segments=tuple(kept))


def _without_instant_runs(words: list[Word]) -> list[Word]:
    """WORDS less each run of :data:`_SQUASH_MIN_WORDS` or more said at one instant (no length, one
    start), in a segment that keeps its pace otherwise: text the decoder wrote past its audio. An
    audit heard "so that it could never come back" written "so that I could use it. It could never
    come back.", "could use it." at 59.84 s all three, a repeated "it it" and a pace of 201 a minute
    in the report. In 343 analyses of the lab and dev answers, clean and noisy (`/work/lab/s44`,
    outside the repository) such a run came three times, in white 10 dB ("we were 13,", "so young
    and"); leaving them out took no word of the truth (word error rate equal or lower)."""
    out: list[Word] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and words[j].end <= words[j].start == words[i].start:
            j += 1
        if j - i < _SQUASH_MIN_WORDS:
            out.extend(words[i:max(j, i + 1)])
        i = max(j, i + 1)
    return out


def _without_squeezed_repeats(words: list[Word]) -> list[Word]:
    """WORDS without a run of three or more that repeats the run just before it word for word, faster
    than :data:`WORDS_PER_S_MAX`, or a shorter one said in no time at all: the text read back after a
    short answer ("We shipped it on time. We shipped it on time.", the copy's words in 0.2 s;
    "Absolutely. Absolutely.", the copy of no length). In 1,466 cached analyses of the dev and lab
    answers (/work/lab/s27/repeat.py, outside the repository) such a repeat came 9 times in 4 answers,
    each copy of no length at all ("er er er", "uh I can't win"); leaving them out took those answers'
    word errors from 69 to 66."""
    norms = [w.norm for w in words]
    for n in range(1, len(words) // 2 + 1):
        for i in range(n, len(words) - n + 1):
            copy = words[i:i + n]
            said_in = copy[-1].end - copy[0].start  # a shorter copy only if it took no time at all
            if norms[i:i + n] == norms[i - n:i] and all(norms[i:i + n]) and \
                    (n >= _SQUASH_MIN_WORDS or said_in <= 0) and n > said_in * WORDS_PER_S_MAX:
                return _without_squeezed_repeats(words[:i] + words[i + n:])
    return words


# Voice with no word in it for this long (seconds) is speech the decoder skipped.
SKIPPED_SPEECH_S = 1.0


def skipped_speech(transcript: Transcript, activity: Activity) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch before the first word, between two words or after
    the last holding :data:`SKIPPED_SPEECH_S` or more of voice that no word covers; a stretch
    starts at the voice, or 0.2 s before it. With no word at all, the whole of the voice is one
    stretch. Before the first word matters to a live chunk, whose decoding can open seconds in
    (a chunk prompted with the text before it started its words 7 s in: audit 33)."""
    words = transcript.words
    bounds = list(zip([0.0] + [w.end for w in words], [w.start for w in words] + [transcript.duration_s]))
    out = []
    for done, nxt in bounds:
        if nxt - done < SKIPPED_SPEECH_S + 0.4 or activity.speech_between(done + 0.2, nxt - 0.2) < SKIPPED_SPEECH_S:
            continue
        first = next((a for a, b in activity.regions if b > done + 0.2 and a < nxt - 0.2), done)
        out.append((round(max(done, first - 0.2), 3), round(nxt, 3)))
    return out
