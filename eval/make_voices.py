"""Render spoken STAR answers with many synthetic voices, filled pauses and long pauses at known times.

usage: make_voices.py OUT_DIR [--answers-per-voice N] [--seed N] [--voices a,b,...|held-out|festival|pico]
       make_voices.py OUT_DIR --noise-only          (30 s noise files, no speech)
       make_voices.py OUT_DIR --babble SRC_DIR --snr 15 [--pool CORPUS] [--seed N]
       make_voices.py OUT_DIR --typing SRC_DIR --snr 15 [--seed N]

Each answer is written as OUT_DIR/NAME.flac (16 kHz mono) and OUT_DIR/NAME.json in the format of
../shared/corpus/dev (``eval_corpus.py`` scores it), with two additions used by the lab scripts:

* ``chunks[]``: every rendered piece with its kind (``text``, ``lead`` for a one-word lead-in
  such as "So" set off by silences, ``filler``), ``text``, ``start_s`` and ``end_s``;
* ``filled_pauses[]``: each filled pause with its scored ``type`` (um/uh), what was ``spoken``
  (um, uh, er, ah, hmm) and its exact ``start_s``/``end_s``.

Every piece is rendered on its own and joined with silences of known length, so all times are
exact. Filled pauses are phoneme input (``[[@m]]``, ``[[V]]``...) stretched by sox ``tempo`` and
bent down in pitch by sox ``bend`` so that they sound drawn out, like a hesitation, not a word.
A "hmm" is scored as type ``um`` (a nasal filled pause; ``eval_corpus.py`` has no "hmm" key).

A voice here is one speaker identity (an espeak-ng language/accent with one variant, or one of
flite's voices); rate and pitch vary between its answers, not between identities.

Two sets of voices. ``VOICES`` (espeak-ng, the default) is the lab the filler rules were chosen
on. ``HELD_OUT`` (``--voices held-out``) is another synthesiser, flite: its unit-selection voices
are recordings of real speakers cut up, not espeak-ng's formant synthesis, and no
setting was ever chosen on them. They are the voices "left out of training and tuning", with
``FESTIVAL`` (``--voices festival``) and ``PICO`` (``--voices pico``, SVOX Pico through the
``ttspico`` package), two more synthesisers added later and scored as they came.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16000
TOOLS = Path(__file__).resolve().parents[2] / "shared" / "tools"

# Speaker identities: none of them is in ../shared/corpus/dev (en-us, en-us+f3, en-gb, en-us+m3).
VOICES = {
    "scot-m1": ("en-gb-scotland+m1", 165),
    "carib-f2": ("en-029+f2", 155),
    "nyc-m5": ("en-us-nyc+m5", 170),
    "rp-f4": ("en-gb-x-rp+f4", 160),
    "lanc-m7": ("en-gb-x-gbclan+m7", 150),
    "wmid-f1": ("en-gb-x-gbcwmd+f1", 160),
    "us-klatt": ("en-us+klatt", 165),
    "gb-croak": ("en-gb+croak", 155),
}
# Held out: flite's voices (another synthesiser; none of them was looked at while tuning).
HELD_OUT = {
    "fl-awb": ("flite:awb", 165),  # Scottish English male, unit selection
    "fl-rms": ("flite:rms", 160),  # US English male, unit selection
    "fl-slt": ("flite:slt", 165),  # US English female, unit selection
}  # (flite's diphone voice kal16 renders a lone vowel as a 0.05 s blip at any stretch: not usable)
# Held out, second set: Festival's voices (``--voices festival``), added after the flite voices'
# errors had been studied (docs/accuracy.md), so that a set no one has looked at stays. Two
# diphone voices of speakers no other set has, and the statistical (HTS) voice built from slt's
# recordings: the speaker of fl-slt, through another synthesis.
FESTIVAL = {
    "fv-kal": ("festival:kal_diphone", 165),  # US English male, diphone
    "fv-ked": ("festival:ked_diphone", 160),  # US English male, diphone
    "fv-slt": ("festival:cmu_us_slt_arctic_hts", 165),  # US English female, HTS (slt's recordings)
}
# Held out, third set: SVOX Pico (``--voices pico``; the ``ttspico`` package, which bundles the
# engine and its two English voices), added in session 40 when every setting had been chosen:
# a fourth synthesiser (Android's old built-in voices), scored without anything chosen on it.
PICO = {
    "pc-us": ("pico:en-US", 165),  # US English female
    "pc-gb": ("pico:en-GB", 160),  # British English female
}
ALL_VOICES = VOICES | HELD_OUT | FESTIVAL | PICO
FLITE_WPM = 170  # flite's own rate at duration_stretch 1, roughly
FESTIVAL_WPM = 200  # Festival's, likewise
PICO_WPM = 195  # Pico's at speed level 100 (measured: en-US 201, en-GB 192)
# Festival's lexicon says these words as the filled pause (phone input ignores its duration
# stretch): um -> ah m, uh -> ah, err -> eh r, ah -> aa, hum -> hh ah m. ("er" is "er r", a
# blip of 0.06-0.17 s at any stretch on the diphone voices, so an "er" is said "eh r".)
FESTIVAL_FILLERS = {"um": ["um"], "uh": ["uh"], "er": ["err"], "ah": ["ah"], "hmm": ["hum"]}
# Pico reads X-SAMPA in a <phoneme> tag, so its filled pauses are phones, as espeak-ng's are.
PICO_FILLERS = {"um": ["@m", "Vm", "3:m"], "uh": ["V", "@", "VV"], "er": ["3:"], "ah": ["A:"],
                "hmm": ["h@m", "@mm"]}

# Filled pauses: spoken form -> (scored type, espeak-ng phoneme inputs, flite phone strings).
FILLERS = {
    "um": ("um", ["[[@m]]", "[[Vm]]", "[[@@m]]"], ["ah m", "ax m", "er m"]),
    "uh": ("uh", ["[[V]]", "[[@]]", "[[VV]]"], ["ah", "ax"]),
    "er": ("uh", ["[[3:]]", "[[@:]]"], ["er"]),
    "ah": ("uh", ["[[A:]]", "[[a:]]"], ["aa"]),
    "hmm": ("um", ["[[@mm]]", "[[hVm]]", "[[m@m]]"], ["hh ah m", "m m"]),
}
MIN_FILLER_S = 0.25  # a hesitation is drawn out; shorter renderings are re-done
FILLER_WEIGHTS = {"um": 0.34, "uh": 0.34, "er": 0.12, "ah": 0.1, "hmm": 0.1}
LEADS = ["So", "Well", "And", "Now", "Okay", "Right", "Yes", "But"]
DISCOURSE = ["you know", "I mean", "like"]

# Scripts written for this lab (not the dev corpus's). Each: question, then (label, sentence).
STORIES = [
    ("Handled a production outage", [
        ("S", "Last spring our checkout service went down for almost forty minutes on a Friday evening."),
        ("T", "I was the engineer on call, so restoring payments was my job."),
        ("A", "I rolled back the latest release first, but the errors kept coming."),
        ("A", "Then I traced the failures to a database connection pool that had been set far too small."),
        ("A", "I raised the limit, added an alert on pool saturation, and wrote a short runbook for the team."),
        ("R", "Payments recovered within ten minutes of the change, and we lost about three hundred orders."),
        ("L", "Since then I check capacity settings in every release review."),
    ]),
    ("Disagreed with a manager", [
        ("S", "My manager wanted to ship a new onboarding flow two weeks early for a marketing event."),
        ("T", "I had to decide whether to push back, because our tests showed a serious accessibility gap."),
        ("A", "I booked a short meeting and showed him three recordings of screen reader users getting stuck."),
        ("A", "I proposed shipping the flow to half of the new users and fixing the gaps in parallel."),
        ("R", "He agreed, we fixed the issues in eight days, and sign ups rose by twelve percent."),
        ("L", "I learned that evidence from real users settles arguments faster than opinions do."),
    ]),
    ("Missed a deadline", [
        ("S", "I was leading a migration of our billing reports to a new warehouse."),
        ("T", "The finance team needed the reports ready before the end of the quarter."),
        ("A", "Two weeks in, I realised the old queries relied on undocumented rounding rules."),
        ("A", "I told finance right away, split the work into the five most urgent reports and the rest."),
        ("A", "I paired with an analyst every morning to check the numbers line by line."),
        ("R", "The urgent reports landed on time, and the rest followed nine days late without any errors."),
        ("L", "Now I raise risks the day I see them instead of hoping to catch up."),
    ]),
    ("Mentored a new colleague", [
        ("S", "A graduate joined our team in the middle of a large redesign of the mobile app."),
        ("T", "My lead asked me to help her become productive within her first month."),
        ("A", "I wrote a one page map of the code base and picked three small bugs for her first week."),
        ("A", "We reviewed each change together, and I let her present her work at the team demo."),
        ("R", "By week four she owned the settings screen and shipped it with only two review rounds."),
        ("L", "Giving someone real ownership early builds confidence better than long tutorials."),
    ]),
    ("Improved a slow process", [
        ("S", "Our release process took a full day because every build was tested by hand."),
        ("T", "I wanted to cut that time in half without lowering quality."),
        ("A", "I measured where the hours went and found that most of the time was spent waiting for test devices."),
        ("A", "I set up a shared device farm and automated the twenty most common checks."),
        ("A", "I also trained two testers to write and maintain the new scripts."),
        ("R", "Releases dropped to about three hours, and escaped defects fell by a third."),
    ]),
    ("Won over a difficult customer", [
        ("S", "A large hospital client threatened to cancel their contract after a painful upgrade."),
        ("T", "As the account engineer, I had to understand the problem and win back their trust."),
        ("A", "I spent a day on site watching nurses use the system during a real shift."),
        ("A", "I found that the upgrade had moved the medication screen two clicks deeper."),
        ("A", "I wrote a small patch that restored the old shortcut and shared a timeline for further fixes."),
        ("R", "They renewed for three more years and later became one of our reference customers."),
        ("L", "Watching people work tells you more than any support ticket can."),
    ]),
    ("Took on an unfamiliar task", [
        ("S", "Our only security specialist left the company a month before an external audit."),
        ("T", "I volunteered to prepare the evidence even though I had never done an audit before."),
        ("A", "I read the audit framework over a weekend and built a checklist of sixty controls."),
        ("A", "I asked each team lead for one owner per control and tracked progress in a weekly call."),
        ("R", "We passed the audit with two minor findings, both fixed within a month."),
        ("L", "Breaking a scary task into owned pieces makes it manageable."),
    ]),
    ("Made a mistake and fixed it", [
        ("S", "While cleaning up old storage, I deleted a folder that another team still used for backups."),
        ("T", "I had to restore their data and make sure it could not happen again."),
        ("A", "I told their lead within the hour and restored the folder from our weekly snapshot."),
        ("A", "Then I wrote a script that lists every reader of a folder before anyone can delete it."),
        ("R", "They lost only two days of logs, and the script has since blocked four risky deletions."),
        ("L", "Owning a mistake quickly turns a crisis into a small incident."),
    ]),
]


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def _read(path: Path) -> np.ndarray:
    x, rate = sf.read(path, dtype="float32", always_2d=True)
    if rate != RATE:
        raise SystemExit(f"{path}: expected {RATE} Hz, got {rate}")
    return x.mean(axis=1)


def _render(text: str, voice: str, wpm: int, pitch: int, tmp: Path, *, tempo: float = 1.0,
            bend: int = 0, phones: bool = False) -> np.ndarray:
    """Render one piece (words, or with ``phones`` a filled pause's phones) with espeak-ng or
    flite, trimmed of leading/trailing silence, at 16 kHz.

    espeak-ng takes the pitch (0-99) itself; for flite it is a sox ``pitch`` shift of up to
    three semitones either way around the voice's own."""
    raw, out = tmp / "raw.wav", tmp / "out.wav"
    effects = ["rate", str(RATE), "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%",
               "reverse"]
    if voice.startswith("flite:"):
        _run(["flite", "-voice", voice.split(":", 1)[1], "--setf", f"duration_stretch={FLITE_WPM / wpm:.3f}",
              "-o", str(raw), *(["-p", f"pau {text} pau"] if phones else ["-t", text])])
        effects += ["pitch", str((pitch - 50) * 6)]
    elif voice.startswith("pico:"):
        speed = round(100 * wpm / PICO_WPM)
        said = f'<phoneme alphabet="xsampa" ph="{text}"/>' if phones else text.replace("<", " ")
        _pico(voice.split(":", 1)[1], f"<speed level='{speed}'>{said}</speed>", raw)
        effects += ["pitch", str((pitch - 50) * 6)]
    elif voice.startswith("festival:"):
        said = text.replace("\\", " ").replace('"', " ")
        (tmp / "say.scm").write_text(
            f"(voice_{voice.split(':', 1)[1]})\n(Parameter.set 'Duration_Stretch {FESTIVAL_WPM / wpm:.3f})\n"
            f'(set! u (Utterance Text "{said}"))\n(utt.synth u)\n(utt.save.wave u "{raw}" \'riff)\n')
        _run(["festival", "-b", str(tmp / "say.scm")])
        effects += ["pitch", str((pitch - 50) * 6)]
    else:
        _run(["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "-w", str(raw), text])
    if tempo != 1.0:
        effects += ["tempo", "-s", f"{tempo:.3f}"]
    if bend:
        dur = float(subprocess.run(["soxi", "-D", str(raw)], capture_output=True, text=True).stdout) / tempo
        effects += ["bend", f"{dur * 0.35:.3f},{bend},{dur * 0.5:.3f}"]
    _run(["sox", "-R", str(raw), "-b", "16", str(out)] + effects)  # -R: the same dither every time
    x = _read(out)
    ramp = np.linspace(0.0, 1.0, min(len(x) // 2, 160), dtype=np.float32)  # 10 ms fades: no clicks
    x[: len(ramp)] *= ramp
    x[len(x) - len(ramp):] *= ramp[::-1]
    return x


_PICO_ENGINES: dict = {}


def _pico(language: str, text: str, out: Path) -> None:
    """Say ``text`` (Pico markup allowed) with SVOX Pico's voice for ``language`` into a WAV."""
    import wave  # noqa: PLC0415

    import ttspico  # noqa: PLC0415  (only the Pico voices need it)

    if language not in _PICO_ENGINES:
        _PICO_ENGINES[language] = ttspico.TtsEngine(language)
    engine = _PICO_ENGINES[language]
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)  # Pico's own rate
        w.writeframes(engine.speak(text) or b"")


def _insert_discourse(sentence: str, rng: np.random.Generator) -> tuple[str, str | None]:
    words = sentence.split()
    if len(words) < 8:
        return sentence, None
    phrase = str(rng.choice(DISCOURSE))
    i = int(rng.integers(3, len(words) - 3))
    # "_" keeps the phrase one token, so a filled pause is never put inside it ("you, um, know")
    return " ".join(words[:i] + [phrase.replace(" ", "_") + ","] + words[i:]), phrase


def _pieces(sentence: str, rng: np.random.Generator, p_filler: float) -> tuple[list[tuple[str, str]], list[str]]:
    """Split a sentence into (kind, text) pieces with filled pauses and one-word lead-ins inserted."""
    pieces: list[tuple[str, str]] = []
    fillers: list[str] = []
    body = sentence
    if rng.random() < 0.3:
        lead = str(rng.choice(LEADS))
        pieces.append(("lead", lead))
        body = body[0].lower() + body[1:] if not body.startswith("I ") else body
    words = body.split()
    if rng.random() < p_filler:  # a filled pause at the start
        f = str(rng.choice(list(FILLER_WEIGHTS), p=list(FILLER_WEIGHTS.values())))
        pieces.append(("filler", f))
        fillers.append(f)
    if rng.random() < p_filler * 0.8 and len(words) > 6:  # and/or one in the middle
        i = int(rng.integers(2, len(words) - 2))
        f = str(rng.choice(list(FILLER_WEIGHTS), p=list(FILLER_WEIGHTS.values())))
        pieces += [("text", " ".join(words[:i])), ("filler", f), ("text", " ".join(words[i:]))]
        fillers.append(f)
    else:
        pieces.append(("text", " ".join(words)))
    return [(kind, text.replace("_", " ")) for kind, text in pieces], fillers


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def render_answer(story_idx: int, voice_key: str, seed: int, out_dir: Path, *, room_noise: bool) -> dict:
    """Render one answer and write NAME.flac and NAME.json. Returns the truth dict."""
    rng = np.random.default_rng(seed)
    voice, base_wpm = ALL_VOICES[voice_key]
    flite_voice = voice.startswith("flite:")
    festival_voice = voice.startswith("festival:")
    pico_voice = voice.startswith("pico:")
    wpm = int(base_wpm + rng.integers(-20, 21))
    pitch = int(rng.integers(30, 71))
    question, sents = STORIES[story_idx]
    name = f"{voice_key}-s{story_idx + 1}"
    n = len(sents)
    long_after = set(rng.choice(np.arange(1, n - 1), size=2, replace=False).tolist())
    audio: list[np.ndarray] = [np.zeros(int(0.6 * RATE), np.float32)]
    t = 0.6
    truth_sents, chunks, filled, long_pauses = [], [], [], []
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        for si, (label, sentence) in enumerate(sents):
            clean = sentence
            spoken_sentence, phrase = (_insert_discourse(sentence, rng) if rng.random() < 0.25
                                       else (sentence, None))
            pieces, fills = _pieces(spoken_sentence, rng, p_filler=0.55)
            if pieces[0][0] == "lead":  # the lead-in is a spoken word, so it counts for WER
                clean = f"{pieces[0][1]}, {clean[0].lower() + clean[1:] if not clean.startswith('I ') else clean}"
            s_start = t
            spoken_parts = []
            for pi, (kind, text) in enumerate(pieces):
                if pi:
                    prev_kind = pieces[pi - 1][0]
                    gap = (rng.uniform(0.12, 0.4) if "filler" in (kind, prev_kind) or prev_kind == "lead"
                           else rng.uniform(0.08, 0.2))
                    audio.append(np.zeros(int(gap * RATE), np.float32))
                    t += int(gap * RATE) / RATE
                if kind == "filler":
                    ftype, espeak, flite = FILLERS[text]
                    phonemes = (flite if flite_voice else FESTIVAL_FILLERS[text] if festival_voice
                                else PICO_FILLERS[text] if pico_voice else espeak)
                    for attempt in range(6):  # some voices render a phoneme string as a blip: try another
                        x = _render(str(rng.choice(phonemes)), voice, int(rng.integers(70, 110)),
                                    int(np.clip(pitch + rng.integers(-15, 6), 0, 99)), tmp,
                                    tempo=float(rng.uniform(0.55, 0.95)) / (1 + attempt * 0.3),
                                    bend=int(rng.integers(-250, -40)), phones=flite_voice or pico_voice)
                        if len(x) >= MIN_FILLER_S * RATE:
                            break
                    else:
                        raise SystemExit(f"{voice}: could not render a {text!r} of {MIN_FILLER_S} s")
                    filled.append({"type": ftype, "spoken": text, "start_s": round(t, 3),
                                   "end_s": round(t + len(x) / RATE, 3), "sentence": si})
                    spoken_parts.append(text.capitalize() if not spoken_parts else text)
                else:
                    x = _render(text, voice, wpm, pitch, tmp)
                    spoken_parts.append(text)
                chunks.append({"kind": kind, "text": text, "start_s": round(t, 3),
                               "end_s": round(t + len(x) / RATE, 3), "sentence": si})
                audio.append(x)
                t += len(x) / RATE
            s_end = t
            sentence_fillers = [FILLERS[f][0] for f in fills] + ([phrase] if phrase else [])
            for f in sentence_fillers:
                key = {"you know": "you know", "i mean": "I mean"}.get(f.lower(), f)
                counts[key] = counts.get(key, 0) + 1
            truth_sents.append({
                "text": _clean(", ".join(spoken_parts)),
                "clean_text": clean,
                "label": label,
                "start_s": round(s_start, 3),
                "end_s": round(s_end, 3),
                "fillers": [{"you know": "you know", "i mean": "I mean"}.get(f.lower(), f)
                            for f in sentence_fillers],
            })
            if si < n - 1:
                gap = rng.uniform(2.2, 3.2) if si in long_after else rng.uniform(0.25, 0.55)
                if si in long_after:
                    long_pauses.append({"start_s": round(t, 3), "duration_s": round(gap, 3)})
                audio.append(np.zeros(int(gap * RATE), np.float32))
                t += int(gap * RATE) / RATE
    audio.append(np.zeros(int(0.8 * RATE), np.float32))
    y = np.concatenate(audio)
    y *= 0.5 / max(1e-6, np.abs(y).max())
    if room_noise:  # a quiet room, ~32 dB under the speech, as about half of the dev corpus has
        sys.path.insert(0, str(TOOLS))
        from make_noisy import colored_noise, speech_rms  # noqa: PLC0415
        nz = colored_noise(len(y), "pink", rng)
        nz *= speech_rms(y.astype(np.float64), RATE) / (np.sqrt((nz ** 2).mean()) * 10 ** (32 / 20))
        y = (y + nz).astype(np.float32)
    sf.write(out_dir / f"{name}.flac", y, RATE)
    duration = len(y) / RATE
    span = truth_sents[-1]["end_s"] - truth_sents[0]["start_s"]
    content = sum(len(s["clean_text"].split()) for s in truth_sents)
    labels = {s["label"] for s in truth_sents}
    truth = {
        "id": name, "story": f"lab-s{story_idx + 1}", "variant": "full", "question": question,
        "voice": f"{voice if ':' in voice else 'espeak:' + voice}@{wpm}", "voice_id": voice_key,
        "pitch": pitch, "noise": room_noise,
        "duration_s": round(duration, 3), "speech_span_s": round(span, 3), "content_words": content,
        "filler_count": sum(counts.values()), "filler_counts": counts, "long_pauses": long_pauses,
        "wpm_content_over_span": round(content / (span / 60), 1),
        "star_present": {k: (k[0].upper() in labels) for k in ("situation", "task", "action", "result", "learning")},
        "sentences": truth_sents, "script": " ".join(s["text"] for s in truth_sents),
        "chunks": chunks, "filled_pauses": filled,
    }
    (out_dir / f"{name}.json").write_text(json.dumps(truth, indent=1))
    return truth


def noise_only(out_dir: Path, seed: int) -> None:
    """30 s of each of make_noisy's noise kinds alone, at a level like 10 dB under typical speech."""
    sys.path.insert(0, str(TOOLS))
    from make_noisy import colored_noise  # noqa: PLC0415
    rng = np.random.default_rng(seed)
    n = 30 * RATE
    for kind in ("pink", "brown", "white", "fan"):
        for level_db in (-30, -20):
            x = colored_noise(n, kind, rng)
            x *= 10 ** (level_db / 20) / np.sqrt((x ** 2).mean())
            sf.write(out_dir / f"noise-{kind}{level_db}.flac", np.clip(x, -0.99, 0.99).astype(np.float32), RATE)
    typing = _typing_track(n, rng)
    typing *= 10 ** (-20 / 20) / np.sqrt((typing ** 2).mean())
    sf.write(out_dir / "noise-typing-20.flac", np.clip(typing, -0.99, 0.99).astype(np.float32), RATE)


def _typing_track(n: int, rng: np.random.Generator) -> np.ndarray:
    """Keyboard-like clicks: bursts of 4-7 keystrokes per second with thinking pauses between bursts.

    Each keystroke is two short decaying noise clicks (press and release, 60-110 ms apart) through
    a resonance at a random 1.5-4 kHz, as a plastic key sounds.
    """
    y = np.zeros(n)
    t = rng.uniform(0, 0.5)
    while t < n / RATE - 0.2:
        burst = rng.uniform(0.8, 4.0)
        end = t + burst
        while t < min(end, n / RATE - 0.2):
            for dt, amp in ((0.0, 1.0), (rng.uniform(0.06, 0.11), 0.5)):
                length = int(rng.uniform(0.004, 0.012) * RATE)
                f0 = rng.uniform(1500, 4000)
                k = np.arange(length)
                click = rng.standard_normal(length) * np.exp(-k / (length / 4))
                click += np.sin(2 * np.pi * f0 * k / RATE) * np.exp(-k / (length / 3)) * 2
                i = int((t + dt) * RATE)
                y[i:i + length] += amp * rng.uniform(0.6, 1.0) * click[: max(0, min(length, n - i))]
            t += 1 / rng.uniform(4, 7)
        t += rng.uniform(0.4, 2.5)
    return y


def _speech_rms(x: np.ndarray) -> float:
    sys.path.insert(0, str(TOOLS))
    from make_noisy import speech_rms  # noqa: PLC0415
    return speech_rms(x.astype(np.float64), RATE)


def mix_condition(src: Path, out_dir: Path, kind: str, snr: float, seed: int, pool: Path | None = None) -> None:
    """Babble (three other voices' answers from POOL summed) or typing clicks, scaled to SNR over the speech."""
    rng = np.random.default_rng(seed)
    files = sorted(src.glob("*.flac"))
    pool_files = sorted((pool or src).glob("*.flac"))
    for path in files:
        x = _read(path).astype(np.float64)
        if kind == "babble":
            voice = path.stem.rsplit("-s", 1)[0]
            others = [f for f in pool_files if not f.stem.startswith(voice + "-")]
            noise = np.zeros(len(x))
            for f in rng.choice(others, size=min(3, len(others)), replace=False):
                o = _read(f).astype(np.float64)
                o = np.tile(o, int(np.ceil(len(x) / len(o))))
                off = int(rng.integers(0, len(o) - len(x) + 1))
                noise += o[off:off + len(x)] / max(1e-9, np.sqrt((o ** 2).mean()))
        else:
            noise = _typing_track(len(x), rng)
        noise *= _speech_rms(x) / (np.sqrt((noise ** 2).mean()) * 10 ** (snr / 20))
        y = x + noise
        peak = np.abs(y).max()
        if peak > 0.99:
            y *= 0.99 / peak
        sf.write(out_dir / path.name, y.astype(np.float32), RATE)
        truth = path.with_suffix(".json")
        if truth.exists():
            (out_dir / truth.name).write_text(truth.read_text())
        print(f"{path.name}: {kind} at {snr:g} dB SNR")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--answers-per-voice", type=int, default=3)
    p.add_argument("--voices", default=",".join(VOICES),
                   help="comma-separated keys of VOICES, HELD_OUT, FESTIVAL and PICO, or 'held-out' for all "
                        "of HELD_OUT, 'festival' for all of FESTIVAL, 'pico' for all of PICO")
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--noise-only", action="store_true")
    p.add_argument("--babble", type=Path, help="source corpus for a babble condition")
    p.add_argument("--typing", type=Path, help="source corpus for a typing condition")
    p.add_argument("--snr", type=float, default=15.0)
    p.add_argument("--pool", type=Path, help="babble: take the other voices from this corpus (default: source)")
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    if a.noise_only:
        noise_only(a.out, a.seed)
        return
    if a.babble or a.typing:
        mix_condition(a.babble or a.typing, a.out, "babble" if a.babble else "typing", a.snr, a.seed,
                      a.pool)
        return
    sets = {"held-out": (HELD_OUT, len(VOICES)), "festival": (FESTIVAL, len(VOICES) + len(HELD_OUT)),
            "pico": (PICO, len(VOICES) + len(HELD_OUT) + len(FESTIVAL))}
    chosen, first = sets.get(a.voices, (dict.fromkeys(a.voices.split(",")), 0))
    # the held-out voices continue the lab's numbering, so their stories, seeds and filler places
    # are not the first lab voices' again
    for vi, key in enumerate(chosen, start=first):
        # Each voice gets a different rotation of the stories, so every story is heard in several voices.
        for k in range(a.answers_per_voice):
            story = (vi * 3 + k) % len(STORIES)
            seed = a.seed * 1000 + vi * 10 + k
            tr = render_answer(story, key, seed, a.out, room_noise=bool((vi + k) % 2))
            print(f"{tr['id']}: {tr['duration_s']:.1f} s, {len(tr['filled_pauses'])} filled pauses, "
                  f"{len(tr['long_pauses'])} long pauses, {tr['voice']}")


if __name__ == "__main__":
    main()
