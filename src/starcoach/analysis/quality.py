"""How good the recording is: speech level, background level, signal-to-noise ratio, clipping,
other voices in the background, a narrowband channel.

The counts are only as good as the audio. In a noisy room the filler and pause figures
degrade (docs/accuracy.md, `make eval-noise`), and a clipped or very quiet recording loses
what the model needs. The report then says so in one line, instead of presenting shaky
figures as facts. Pure functions of what earlier stages measured: the per-hop levels and
voice regions of :class:`~starcoach.audio.activity.Activity` and the samples' peak and
full-scale count (:class:`~starcoach.audio.stats.SignalStats`), and the words' times.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..audio.activity import HOP_S, Activity, bridged
from ..audio.stats import SignalStats

# Below this estimated signal-to-noise ratio the filler and pause counts are not to be trusted:
# 10 dB is the noisiest level they were validated at (`make eval-noise`, docs/accuracy.md), and
# in white noise at 10 dB they no longer hold. A judgement from those figures, not a fitted value.
NOISY_SNR_DB = 10.0
# The lowest ratio the estimate gives: under it the voiced stretches are hardly louder than the
# background, and a figure such as -40 dB would be the subtraction's noise, not a measurement.
SNR_FLOOR_DB = -10.0
# Speech quieter than this (RMS of the voiced stretches) is a microphone too far or turned down.
QUIET_SPEECH_DBFS = -45.0
# More than this share of the samples at full scale is audible clipping.
CLIPPED_SHARE = 0.001
# Hops this close to a voice region belong to it (soft onsets, tails), not to the background.
_EDGE_S = 0.1
# Noise that loud fills every pause (speech in white or pink noise at 0-5 dB): the voice
# detector hears a voice throughout, and nothing is left outside it to measure, so the report
# called such a take reliable. When under ``min_background_s`` of the recording lies outside the
# voice, pure digital silence included (synthetic speech's pauses are that: their background is
# known to be none), the background is the quietest QUIETEST_SHARE of the hops instead: the
# troughs of the speech, where noise that loud shows through. Chosen on 16 espeak-ng answers
# (eval/make_voices.py) clean and in white, pink, brown and fan noise at 0-20 dB
# (make_noisy.py): clean 20.0 dB or more (0.05: 24.0; 0.2: 15.4), white and pink at 0 and 5 dB
# all under 10 dB. Low rumbling noise (brown, fan) shows through no trough: at 0 dB it still
# read as 11.8-20.5 dB. With under QUIETEST_MIN_VOICE_S of voice the troughs are too few to
# say anything (a word or two): the ratio stays unknown. docs/accuracy.md ("Audio quality").
QUIETEST_SHARE = 0.1
QUIETEST_MIN_VOICE_S = 3.0
# The voice detector misses some of the voice (a drawn-out "er" at the start, a soft word): those
# hops then sit in the background, and a power mean is all theirs. Two clean held-out answers
# (SVOX Pico's voice, digital silence or a quiet room between the words) read -9 and 8 dB and
# were called noisy; espeak-ng answers in brown and fan noise at 15-20 dB, 6 of 64 likewise. So
# hops over the background's median by more than BACKGROUND_SPREAD_DB are left out of it. Chosen
# among 6, 10 and 15 dB on the 16 espeak-ng answers of QUIETEST_SHARE's study, clean and in the
# 20 noises: 15 dB calls none noisy at 15-20 dB (6 before) and keeps every call at 10 dB or less
# but one each in brown and fan at 5 dB (15 of 16 noisy -> 14). Checked on sets not used to choose
# (docs/accuracy.md, "Audio quality"): the dev answers clean and in 12 noises (143 copies), not
# one call changed; 48 espeak-ng, 24 flite and 24 Festival answers clean: one false "noisy" gone.
BACKGROUND_SPREAD_DB = 15.0
# Other voices in the room (babble, a television, a colleague on a call) are voice to every
# detector, so the background level cannot show them: the voice detector then hears a voice in
# the speaker's own long silences. A silence between two words of SPEAKER_SILENCE_S or more,
# less _SILENCE_TRIM_S at each end (where a word's time may spill over), is one of them. When the
# detector hears a voice in BACKGROUND_VOICE_SHARE of that time or more, and there are
# BACKGROUND_VOICE_MIN_S of it to judge by, the counts are called unreliable ("voices").
# Chosen on the eight espeak-ng lab voices (48 answers in each condition): in babble at 15 dB the
# share is 0.15-1.00 (median 0.71; 36 of the 46 answers with enough silence to judge reach 0.5);
# in pink noise at 10 dB and typing at 15 dB it is at most 0.44, but for one typing answer (0.64);
# in white noise at 10 dB two answers pass 0.5, where loose word times leave speech in the
# "silences", and the noise estimate has already called every one of them noisy, so the noise is
# named and not the voices. Checked on the held-out flite voices and the dev corpus:
# docs/accuracy.md ("Other voices in the background").
SPEAKER_SILENCE_S = 1.0
_SILENCE_TRIM_S = 0.2
BACKGROUND_VOICE_SHARE = 0.5
BACKGROUND_VOICE_MIN_S = 3.0
# A microphone always hears something: its own noise, some tens of dB over a 16-bit file's last
# bit (about -90 dBFS). Pure digital silence (hops at or under SILENT_INPUT_DBFS) for SILENT_INPUT_S
# or more, or for all of a recording, is an input that was muted, unplugged or switched (PulseAudio
# moves a stream whose microphone vanishes to another source, often a silent one): anything said
# then is lost, and the stretch counts as a pause. 5 s is over twice the long-pause mark, and
# synthetic answers' own digital silences (the dev corpus's pauses) reach 3.1 s.
SILENT_INPUT_DBFS = -100.0
SILENT_INPUT_S = 5.0
# Whisper decodes in the configured language whatever it hears: French came back as "ah" seven
# times (seven fillers), German and Spanish as invented English, fully scored. Its language token
# on the first window names another language at OTHER_LANGUAGE_P or more ("other_language"),
# unless it is one of UNPLACED_LANGUAGES: Latin, which nobody answers an interview in, is what
# Whisper names speech it cannot place. Chosen on 441 clips of 5-30 s (`/work/lab/s39/lang`, the
# first 5-25 s of answers made with espeak-ng, flite and Festival): answers in 16 other languages,
# English read by those languages' espeak-ng voices (English words said with another language's
# sounds, a caricature of an accent that Whisper still mostly transcribes) and English, split by
# language into a half to choose on and a half to check on. At 0.7 as before, 58 of the 160
# accented English answers were told "another language" (every one of them Latin) and 67 of 160
# answers in other languages were; without Latin and at 0.6, 1 of 160 and 61 of 160 (the half
# checked on: 1 of 80 against 30, 25 of 80 against 27). English (157 clips: the lab voices', and
# the dev answers' and the real recordings' first 6-20 s, those clean and in white and pink noise
# at 10 dB): none, another language 0.49 at most (Welsh, 6 s in white noise), which is why not 0.5.
# Short answers in espeak-ng's voices are often not placed at all (a 12 s French one: 0.597).
OTHER_LANGUAGE_P = 0.6
UNPLACED_LANGUAGES = frozenset({"la"})
# A channel that cuts everything above about 4 kHz (a telephone line, a Bluetooth headset in its
# hands-free mode, a file made at 8 kHz) costs words and fillers: the dev answers and the Festival,
# flite and Pico answers sent through AMR-NB (a mobile call's codec) had a word error rate 0.04-0.13
# higher and filled-pause F1 2-7 points lower (Pico's 1 point higher). Its mark is the upper band's
# power density this far or further under the lower band's (:mod:`~starcoach.audio.stats`). Every
# narrowband rendering of the study reads -44.2 dB or under, synthetic voices picked up in full -27
# dB or over, but a real broadcast recording that rolls off from 3 kHz (tests/data/jfk.flac) -32.5,
# and -40.2 to -41.5 with a further low-pass at 3-4 kHz, its words still all right (a review's
# finding). So the line sits at the narrowband renderings' edge: a false warning tells someone with
# a good microphone to change it, while an 8 kHz microphone heard through PulseAudio read -66.6 dB
# (docs/accuracy.md, "Narrowband audio"). A level ratio is not a cliff detector: a voice through a
# steep low-pass at 3-3.5 kHz can read as low as the channels do.
NARROWBAND_DB = -44.0
# With under this much voice the ratio is a few words' sounds: one 32 ms frame of a full-band voice
# read -51 dB, and 2.6% of the 1 s stretches of jfk.flac -40 or under (none of its 3 s stretches).
NARROWBAND_MIN_VOICE_S = 3.0
# A file made at this rate or under holds nothing in the upper band (4.5-6 kHz) by construction: narrowband,
# whatever the measure says. At 4 kHz the lower band (2-3.3 kHz) is empty too, and the measure none (an audit's).
NARROWBAND_RATE = 9_000


@dataclass(frozen=True)
class AudioQuality:
    """Levels of one recording and what they mean for the counts.

    Attributes:
        speech_dbfs: RMS level of the voiced stretches (None: no voice).
        noise_dbfs: RMS level between them (None: too little background to measure).
        snr_db: speech power over background power, background subtracted (None: unknown).
        peak_dbfs: the largest sample, in dB relative to full scale.
        clipped_share: share of the samples at full scale.
        problems: "noisy", "quiet", "clipped", "voices"; empty when the audio is fine.
        background_voice_share: share of the speaker's long silences in which the voice
            detector hears a voice (None: under :data:`BACKGROUND_VOICE_MIN_S` of such silence,
            or no voice detector was asked).
        silent_input: (start, end) seconds of pure digital silence long enough to be an input
            that was cut off (:data:`SILENT_INPUT_S`; problem "silent_input").
        other_language: (code, probability) of the language Whisper heard instead of the one it
            was set to decode in, when :data:`OTHER_LANGUAGE_P` or more and not one of
            :data:`UNPLACED_LANGUAGES` (problem "other_language").
        damaged_share: share of the file's samples that were not numbers (NaN or infinite) and
            were read as silence (problem "damaged" when any: what was said there is lost).
        high_band_db: power density at 4.5-6 kHz over that at 2-3.3 kHz, dB (None: nothing like
            a voice heard); :data:`NARROWBAND_DB` or under, with :data:`NARROWBAND_MIN_VOICE_S` of
            voice, is the problem "narrowband".
    """

    speech_dbfs: float | None
    noise_dbfs: float | None
    snr_db: float | None
    peak_dbfs: float
    clipped_share: float
    problems: tuple[str, ...]
    background_voice_share: float | None = None
    silent_input: tuple[tuple[float, float], ...] = ()
    other_language: tuple[str, float] | None = None
    damaged_share: float = 0.0
    high_band_db: float | None = None

    @property
    def reliable(self) -> bool:
        """Whether the counts can be taken at face value."""
        return not self.problems

    @property
    def warning(self) -> str | None:
        """One line for the report, or None."""
        if not self.problems:
            return None
        if self.other_language:  # nothing below is to be trusted, whatever else is wrong
            code, p = self.other_language
            return (f"Language: this sounds like another language than the one set (Whisper hears '{code}', "
                    f"{p:.0%}): the words, fillers and STAR parts below are not what you said. Answer in "
                    "the language set, or set [model] language in config.toml to the one you speak.")
        if self.silent_input:
            cut = sum(e - s for s, e in self.silent_input)
            where = ", ".join(f"{_clock(s)}–{_clock(e)}" for s, e in self.silent_input[:3])
            lead = (f"Audio quality: pure digital silence for {cut:.{0 if cut >= 1 else 2}f} s ({where}), as from a "
                    "microphone muted, unplugged or switched: anything said then is lost, and it counts as a pause.")
            if self.problems == ("silent_input",):
                return lead + " Check the input (`starcoach devices`, the system's mute) and retake."
            rest = replace(self, problems=tuple(p for p in self.problems if p != "silent_input"), silent_input=())
            return lead + " Also: " + str(rest.warning).removeprefix("Audio quality: ")
        why, todo = [], []
        if "damaged" in self.problems:
            why.append(f"{self.damaged_share:.2%} of the file's samples were not numbers (damaged), read as silence")
            todo.append("exporting the file again from where it came")
        if "noisy" in self.problems:
            todo.append("a quieter room, or the microphone closer")
            if self.snr_db is not None and self.snr_db <= SNR_FLOOR_DB:
                why.append("the voice buried in background noise as loud as it, or louder")
            elif self.snr_db is not None and round(self.snr_db) <= 0:
                why.append("background noise as loud as the voice" if round(self.snr_db) == 0 else
                           f"background noise {-self.snr_db:.0f} dB louder than the voice")
            else:
                why.append(f"background noise only {self.snr_db:.0f} dB under the voice")
        if "quiet" in self.problems:
            why.append(f"speech very quiet ({self.speech_dbfs:.0f} dBFS)")
            todo.append("the microphone closer or its input level higher")
        if "clipped" in self.problems:  # closer would clip more
            why.append(f"{self.clipped_share:.1%} of the audio clipped")
            todo.append("the input level lower, or the microphone a little further away")
        if "voices" in self.problems and self.background_voice_share is not None:
            why.append(f"other voices in the background, heard in {self.background_voice_share:.0%} of your pauses")
            todo.append("a place where nobody else is talking")
        if "narrowband" in self.problems:
            why.append("narrowband audio, little or nothing above about 4 kHz (as from a phone line, a Bluetooth "
                       "headset in hands-free mode or a file made at 8 kHz), so Whisper may mishear more words")
            todo.append("a wired or USB microphone, or the computer's own, recording at 16 kHz or more")
        counts = "Filler counts" if self.problems == ("narrowband",) else "Filler and pause counts"  # pauses held
        return ("Audio quality: " + "; ".join(why) + f". {counts} may be off; next time try "
                + "; ".join(dict.fromkeys(todo)) + ".")


def _clock(seconds: float) -> str:
    return f"{round(seconds) // 60}:{round(seconds) % 60:02d}"


def silent_input(frame_db: np.ndarray, duration_s: float | None = None) -> tuple[tuple[float, float], ...]:
    """Stretches of pure digital silence of :data:`SILENT_INPUT_S` or more (or the whole of a
    recording that is nothing else), as (start, end) seconds; one that runs to the last level
    ends at ``duration_s`` when given (the last level's window ends a hop or so before it)."""
    dead = np.asarray(frame_db) <= SILENT_INPUT_DBFS
    if not dead.any():
        return ()
    edges = np.diff(np.concatenate(([0], dead.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    whole = dead.all()
    last = len(dead)
    return tuple((round(float(a) * HOP_S, 2), round(duration_s if b == last and duration_s else float(b) * HOP_S, 2))
                 for a, b in zip(starts, ends) if (b - a) * HOP_S >= SILENT_INPUT_S or whole)


def _power_db(db: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(10 ** (db / 10))))


def background_voice_share(words: Sequence[tuple[float, float]],
                           voice: Sequence[tuple[float, float]]) -> float | None:
    """The share of the speaker's long silences (between WORDS, as (start, end) seconds) in which
    the voice detector heard a VOICE; None with under :data:`BACKGROUND_VOICE_MIN_S` of them."""
    silences = [(a_end + _SILENCE_TRIM_S, b_start - _SILENCE_TRIM_S)
                for (_, a_end), (b_start, _) in zip(words, words[1:]) if b_start - a_end >= SPEAKER_SILENCE_S]
    total = sum(b - a for a, b in silences)
    if total < BACKGROUND_VOICE_MIN_S:
        return None
    spans = bridged(sorted(voice), 0.0)  # in order, none overlapping: each silence looks at its own few
    ends = [e for _, e in spans]
    heard = 0.0
    for a, b in silences:
        for s, e in spans[bisect_right(ends, a):]:
            if s >= b:
                break
            heard += min(b, e) - max(a, s)
    return heard / total


def _background_db(outside: np.ndarray, min_background_s: float) -> float | None:
    """The background's level from the hops OUTSIDE the voice: their power, leaving out the
    hops louder than BACKGROUND_SPREAD_DB over their median (the voice where the detector
    missed it); None with under MIN_BACKGROUND_S of hops that are not pure digital silence, or
    when digital silence is half of them or more (a synthetic answer's pauses: no background at all)."""
    live = outside[outside > SILENT_INPUT_DBFS]  # digital silence: not a room's noise, but none at all
    if len(live) * HOP_S < min_background_s or 2 * len(live) <= len(outside):
        return None
    # more than half the hops are live, so their median is a live hop's level (or between two),
    # and the hops kept are never none
    floor = float(np.median(outside))
    return _power_db(live[live <= floor + BACKGROUND_SPREAD_DB])


def audio_quality(activity: Activity, stats: SignalStats, *, words: Sequence[tuple[float, float]] = (),
                  own: Sequence[tuple[float, float]] | None = None, min_background_s: float = 1.0,
                  heard: tuple[str, float] | None = None, duration_s: float | None = None) -> AudioQuality:
    """Estimate the quality of a recording from its levels, voice regions, samples and words.

    Args:
        activity: per-hop levels and voice regions of the recording.
        stats: its peak and full-scale samples.
        words: (start, end) seconds of the recognised words, in order; with the voice
            detector's regions (``activity.voice``) they show voices in the speaker's silences.
        own: of those, the speaker's own (:func:`~.background.own_words`: not 10 dB or more under the
            words around them); the larger share of voice, between all the words or these, counts.
        min_background_s: less background than this (outside the voice, away from its
            edges) and the noise level is not estimated.
        heard: another language Whisper heard in the first window, with its probability.
        duration_s: the recording's length, where a silent stretch that runs to its end ends.
    """
    db = np.asarray(activity.frame_db, np.float64)
    voiced = np.zeros(len(db), dtype=bool)
    near = np.zeros(len(db), dtype=bool)
    edge = int(round(_EDGE_S / HOP_S))
    for s, e in activity.voice or activity.regions:  # the voice detector's, where it was asked
        a, b = int(s / HOP_S), int(np.ceil(e / HOP_S))
        voiced[a:b] = True
        near[max(0, a - edge):b + edge] = True
    speech = _power_db(db[voiced]) if voiced.any() else None
    noise = _background_db(db[~near], min_background_s)
    if noise is None and voiced.sum() * HOP_S >= QUIETEST_MIN_VOICE_S and (~near).sum() * HOP_S < min_background_s:
        live = np.sort(db[db > SILENT_INPUT_DBFS])
        noise = _power_db(live[:max(1, int(len(live) * QUIETEST_SHARE))])
    snr = None
    if speech is not None and noise is not None:
        ps, pn = 10 ** (speech / 10), 10 ** (noise / 10)
        # background subtracted; where the voiced stretches are no louder than the background the
        # voice is buried and how deep cannot be told: SNR_FLOOR_DB (it read -99 dB: "background
        # noise 99 dB louder than the voice", for a voice in brown noise at 0 dB)
        snr = max(SNR_FLOOR_DB, float(10 * np.log10(max(ps - pn, 1e-12) / pn)))
    peak = float(20 * np.log10(stats.peak)) if stats.peak > 0 else -120.0
    clipped = stats.clipped / stats.samples if stats.samples else 0.0
    problems = []
    if snr is not None and snr < NOISY_SNR_DB:
        problems.append("noisy")
    if speech is not None and speech < QUIET_SPEECH_DBFS:
        problems.append("quiet")
    if clipped > CLIPPED_SHARE:
        problems.append("clipped")
    damaged = stats.damaged / stats.samples if stats.samples else 0.0
    if stats.damaged:  # a file with samples that are no numbers (a float WAV a program wrote badly)
        problems.insert(0, "damaged")
    # Between the speaker's own words too: another voice talking in the speaker's pauses gets its words
    # written there, so between all the words no silence is left to judge (a voice 18 dB under in the long
    # pauses of 48 espeak-ng answers was named in 1; docs/accuracy.md, "A voice in your pauses").
    shares = [background_voice_share(ws, activity.voice) for ws in ((words, own) if own else (words,))] \
        if activity.voice else []
    others = max((x for x in shares if x is not None), default=None)
    if others is not None and others >= BACKGROUND_VOICE_SHARE and "noisy" not in problems:
        problems.append("voices")
    cut = silent_input(db, duration_s)
    if cut:
        problems.insert(0, "silent_input")
    other = heard if heard is not None and heard[1] >= OTHER_LANGUAGE_P and heard[0] not in UNPLACED_LANGUAGES \
        else None
    if other is not None:
        problems.insert(0, "other_language")
    high_band = stats.bands.high_band_db
    made_narrow = stats.source_rate is not None and stats.source_rate <= NARROWBAND_RATE
    if (made_narrow or high_band is not None and high_band <= NARROWBAND_DB) \
            and voiced.sum() * HOP_S >= NARROWBAND_MIN_VOICE_S:
        problems.append("narrowband")
    return AudioQuality(
        speech_dbfs=None if speech is None else round(speech, 1),
        noise_dbfs=None if noise is None else round(noise, 1),
        snr_db=None if snr is None else round(snr, 1),
        peak_dbfs=round(peak, 1),
        clipped_share=round(clipped, 5),
        problems=tuple(problems),
        background_voice_share=None if others is None else round(others, 3),
        silent_input=cut,
        other_language=other,
        damaged_share=round(damaged, 6),
        high_band_db=None if high_band is None else round(high_band, 1),
    )
