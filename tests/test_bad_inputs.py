"""Issue 16's table, and more like it: every bad input or fault is one ``starcoach:`` line,
the exit code the README gives, no traceback, and the takes already stored stay as they were.

Each row builds its input in a temp folder (``make``), runs one command in-process and
checks the above. Rows that need the model or the audio stack live in their own tests.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import sqlite3
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from starcoach.cli import app
from tests.conftest import SAMPLES, mounted, mounted_read_only, starcoach_stand_in, unprivileged

runner = CliRunner()


@pytest.fixture(autouse=True, scope="module")
def _command_built_once():
    """typer rebuilds the click command on every invoke (~60 ms); build it once for the ~250 runs here."""
    import typer.testing

    real = typer.testing._get_command
    built = real(app)
    typer.testing._get_command = lambda a: built if a is app else real(a)
    yield
    typer.testing._get_command = real


def run(*args, input: str | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input)


# --- inputs ----------------------------------------------------------------------------

def wav_bytes(*, tag=1, channels=1, rate=16000, bits=16, data=b"\x00\x01" * 32000, align=None) -> bytes:
    """A RIFF/WAVE file written field by field, so a header can say anything."""
    align = channels * bits // 8 if align is None else align
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * max(align, 1), align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def mp3_bytes(seconds: float = 6.0) -> bytes:
    """An MP3 of a tone, with the Xing/Info frame that states its length (LAME's default)."""
    import io

    import av

    buf = io.BytesIO()
    t = np.arange(int(seconds * 16000)) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)[None, :]
    with av.open(buf, "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=16000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        frame.sample_rate = 16000
        resampler = av.AudioResampler(format="s16p", layout="mono", rate=16000)
        for f in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def write(tmp: Path, name: str, content: bytes | str) -> Path:
    p = tmp / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return p


def fifo(tmp: Path) -> Path:
    p = tmp / "answer.fifo"
    os.mkfifo(p)
    return p


def config_replace(home: Path, old: str, new: str) -> None:
    cfg = home / "config.toml"
    assert old in cfg.read_text()
    cfg.write_text(cfg.read_text().replace(old, new))


def load_models_line(home: Path) -> str:
    """The models folder the test config names (the ``home`` fixture points it at the shared one)."""
    import re

    return re.search(r'^models = "([^"]*)"', (home / "config.toml").read_text(), re.M).group(1)


def questions_file(home: Path, text: str) -> None:
    (home / "mine.toml").write_text(text)
    config_replace(home, 'questions = ""', 'questions = "mine.toml"')


def export_target(tmp: Path, kind: str) -> Path:
    if kind == "fifo":
        return fifo(tmp)
    if kind == "symlink":
        (tmp / "real.md").write_text("mine\n")
        (tmp / "link.md").symlink_to(tmp / "real.md")
        return tmp / "link.md"
    if kind == "folder":
        (tmp / "out.md").mkdir()
        return tmp / "out.md"
    return Path("/dev/null")


@dataclass(frozen=True)
class Row:
    """One case: what to build, the command, the exit code, and a word the line must hold."""

    name: str
    args: Callable[[Path, Path], list]  # (tmp, home) -> command line
    code: int
    says: str = ""


STEREO = np.stack([np.sin(np.arange(32000) / 7) * 0.3, -np.sin(np.arange(32000) / 7) * 0.3], axis=1)

ROWS = [
    # 1: a header saying 1 Hz must not allocate gigabytes
    Row("wav-1hz", lambda t, h: ["analyze", write(t, "a.wav", wav_bytes(rate=1))], 1, "1 Hz"),
    Row("wav-1hz-import", lambda t, h: ["import", write(t, "a.wav", wav_bytes(rate=1))], 1, "1 Hz"),
    Row("wav-rate-too-high", lambda t, h: ["analyze", write(t, "a.wav", wav_bytes(rate=10_000_000))], 1, "Hz"),
    Row("wav-no-channels", lambda t, h: ["analyze", write(t, "a.wav", wav_bytes(channels=0, align=2))], 1,
        "channels"),
    Row("wav-1000-channels", lambda t, h: ["analyze", write(t, "a.wav", wav_bytes(channels=1000))], 1, "channels"),
    # 14: format tag 99, 0 bits per sample
    Row("wav-tag-99", lambda t, h: ["analyze", write(t, "a.wav", wav_bytes(tag=99))], 1, "format tag 99"),
    Row("wav-0-bits", lambda t, h: ["analyze", write(t, "a.wav", wav_bytes(bits=0, align=2))], 1, "0 bits"),
    Row("wav-no-fmt", lambda t, h: ["analyze", write(t, "a.wav", b"RIFF\x10\x00\x00\x00WAVEdata\x00\x00\x00\x00")],
        1, "fmt"),
    Row("wav-header-only", lambda t, h: ["analyze", write(t, "a.wav", wav_bytes(data=b""))], 1, "a.wav"),
    # ten samples at 22050 Hz resample to none: they were "no audio samples" (an audit)
    Row("wav-ten-samples", lambda t, h: ["analyze", write(t, "a.wav", wav_bytes(rate=22050, data=b"\x00\x01" * 10))],
        1, "holds only under a millisecond of audio, too short to hold anything said"),
    Row("audio-is-text", lambda t, h: ["analyze", write(t, "a.mp3", "hello\n" * 50)], 1, "starcoach check"),
    Row("audio-is-utf16-text", lambda t, h: ["import", write(t, "answer.wav", "\ufeffSituation: \u00e9t\u00e9\n".encode("utf-16-le"))],
        1, "holds text, not audio"),
    Row("audio-is-text-cut-mid-character", lambda t, h: ["analyze", write(t, "a.wav", "x" + "\u00e9" * 4000)], 1, "holds text"),
    Row("audio-random-bytes", lambda t, h: ["analyze", write(t, "a.ogg", os.urandom(5000))], 1, "a.ogg"),
    Row("audio-dev-zero", lambda t, h: ["analyze", "/dev/zero"], 1, "not a regular file"),
    Row("audio-empty", lambda t, h: ["analyze", write(t, "a.wav", b"")], 1, "empty"),
    # a /proc file says 0 bytes but holds text: not "empty"
    Row("audio-proc-file", lambda t, h: ["import", "/proc/self/status"], 1, "holds text, not audio"),
    Row("audio-fifo", lambda t, h: ["analyze", fifo(t)], 1, "not a regular file"),
    Row("audio-folder", lambda t, h: ["import", t], 1, "folder"),
    Row("audio-missing", lambda t, h: ["import", t / "nope.wav"], 1, "no such file"),
    # `-` as standard input (as `export -o -` is standard output): was "-: no such file"
    Row("audio-stdin", lambda t, h: ["analyze", "-"], 1, "standard input is not read (`-`): give the path of the"),
    Row("import-stdin", lambda t, h: ["import", "-"], 1, "standard input is not read (`-`): give the path of the"),
    Row("check-stdin", lambda t, h: ["check", "-"], 1, "standard input is not read (`-`): save the answer in a file"),
    # 10: check on /dev/zero or a FIFO: refused without reading
    Row("check-dev-zero", lambda t, h: ["check", "/dev/zero"], 1, "not a regular file"),
    Row("check-fifo", lambda t, h: ["check", fifo(t)], 1, "not a regular file"),
    Row("check-folder", lambda t, h: ["check", t], 1, "folder"),
    Row("check-too-big", lambda t, h: ["check", write(t, "a.txt", "I did it. " * 200_000)], 1, "too long"),
    # what the file is before how long it is: a long recording is not "too long for one answer"
    Row("check-big-audio", lambda t, h: ["check", write(t, "a.wav", wav_bytes(data=b"\x00\x01" * 800_000))], 1,
        "a recording, not a text file: `starcoach analyze` reads recordings"),
    Row("check-binary", lambda t, h: ["check", write(t, "a.txt", b"\xff\xfe\x00\x01" * 10)], 1, "a.txt"),
    # a file with no word in it (markup, emoji, zero-width spaces): was "ACTION 100%, Rating 4/10"
    Row("check-markup-only", lambda t, h: ["check", write(t, "a.md", "**\n---\n# \n> *\n")], 1, "no words"),
    Row("check-emoji-only", lambda t, h: ["check", write(t, "a.txt", "\U0001F600 \U0001F389\n")], 1, "no words"),
    Row("check-zero-width", lambda t, h: ["check", write(t, "a.txt", "\u200b\u200b\u2060\n")], 1, "no words"),
    # an md export with its sentences deleted for a rewrite, a template: was an empty report, exit 0
    Row("check-headings-only", lambda t, h: ["check", write(t, "a.md", "## Situation\n\n## Task\n\n**Result**\n")],
        1, "holds no answer, only headings, part labels, placeholders or comments"),
    # an unfilled template: was 5 of 10, with a lesson for "<what you learned>"
    Row("check-template", lambda t, h: ["check", write(t, "a.txt", "Situation: <the context>\nTask: <your goal>\n"
                                                       "Action: <the steps you took>\nLearning: <what you learned>\n")],
        1, "holds no answer, only headings, part labels, placeholders or comments"),
    Row("check-labels-only", lambda t, h: ["check", write(t, "a.txt", "# My story\n\nSituation:\n<!-- todo -->\n")],
        1, "holds no answer"),
    # data, not prose (starcoach's own json, html, srt, vtt exports): was scored as an answer, exit 0
    Row("check-json", lambda t, h: ["check", write(t, "a.json", '{"transcript": "I fixed it. It worked."}')], 1,
        "a JSON document, not a written answer"),
    Row("check-html", lambda t, h: ["check", write(t, "a.html", "<!DOCTYPE html><p>I fixed it. It worked.</p>")], 1,
        "a web page or XML document, not a written answer"),
    Row("check-srt", lambda t, h: ["check", write(t, "a.srt", "1\n00:00:00,000 --> 00:00:02,500\nI fixed it.\n")], 1,
        "subtitles, not a written answer"),
    # an html export of a take over 45 s embeds 1 MB of audio: it was "too long for one answer" (an audit)
    Row("check-big-html", lambda t, h: ["check", write(t, "a.html", "<!doctype html><audio src=\"data:audio/flac;"
                                                     "base64," + "QUJD" * 300_000 + "\"></audio>\u00e9")], 1,
        "a web page or XML document, not a written answer"),
    Row("check-big-srt", lambda t, h: ["check", write(t, "a.srt", "".join(
        f"{i + 1}\n00:00:{i % 60:02d},000 --> 00:00:{i % 60:02d},500\nI fixed it, and then \u00e9.\n\n"
        for i in range(30_000)))], 1, "subtitles, not a written answer"),
    Row("check-vtt", lambda t, h: ["check", write(t, "a.vtt", "WEBVTT\n\n00:00.000 --> 00:02.500\nI fixed it.\n")], 1,
        "subtitles, not a written answer"),
    # macOS TextEdit's default (an audit, session 53): its control words were Situation sentences, exit 0
    Row("check-rtf", lambda t, h: ["check", write(t, "a.rtf", "{\\rtf1\\ansi\\ansicpg1252\\cocoartf2709\n"
                                                 "\\f0\\fs24 \\cf0 Last year I fixed it. It worked.}")], 1,
        "a rich-text (RTF) document (save it as plain text: TextEdit's Format > Make Plain Text), not a written answer"),
    # 11: config values out of range
    Row("config-min-chunk-0", lambda t, h: config_replace(h, "min_chunk_s = 12.0", "min_chunk_s = 0") or ["takes"], 1,
        "min_chunk_s = 0"),
    Row("config-nan", lambda t, h: config_replace(h, "pause_min_s = 1.0", "pause_min_s = nan") or ["takes"], 1,
        "pause_min_s = nan"),
    Row("config-inf", lambda t, h: config_replace(h, "max_seconds = 600.0", "max_seconds = inf") or ["takes"], 1,
        "max_seconds"),
    Row("config-beam-0", lambda t, h: config_replace(h, "beam_size = 5", "beam_size = 0") or ["takes"], 1,
        "beam_size = 0"),
    Row("config-threads-negative", lambda t, h: config_replace(h, "threads = 0 ", "threads = -3 ") or ["takes"], 1,
        "allowed: 0 to"),
    Row("config-rate-1", lambda t, h: config_replace(h, "sample_rate = 16000", "sample_rate = 1") or ["takes"], 1,
        "sample_rate = 1"),
    Row("config-wpm-backwards", lambda t, h: config_replace(h, "target_wpm = [120, 160]", "target_wpm = [160, 120]")
        or ["takes"], 1, "low then high"),
    Row("config-wpm-three", lambda t, h: config_replace(h, "target_wpm = [120, 160]", "target_wpm = [1, 2, 3]")
        or ["takes"], 1, "target_wpm"),
    Row("config-long-below-pause", lambda t, h: config_replace(h, "long_pause_s = 2.0", "long_pause_s = 0.5")
        or ["takes"], 1, "pause_min_s"),
    # a WAV file cut off after its header: the class of a copy or download that stopped
    Row("analyze-cut-off-wav", lambda t, h: ["analyze", write(t, "cut.wav", wav_bytes()[:30000])], 1, "cut off"),
    Row("import-cut-off-wav", lambda t, h: ["import", write(t, "cut.wav", wav_bytes()[:30000])], 1, "cut off"),
    # ... and an MP3 whose Xing frame states its length: it was analysed and stored as a whole take
    Row("analyze-cut-off-mp3", lambda t, h: ["analyze", write(t, "cut.mp3", mp3_bytes()[:len(mp3_bytes()) // 3])], 1,
        "the file is cut off: its header promises 6.0 s"),
    Row("import-cut-off-mp3", lambda t, h: ["import", write(t, "cut.mp3", mp3_bytes()[:len(mp3_bytes()) // 3])], 1,
        "the file is cut off"),
    # [paths] that cannot be what they name: said when the config is read, with the key
    Row("config-recordings-is-a-file", lambda t, h: write(h, "recfile", "x") and config_replace(
        h, 'recordings = "recordings"', 'recordings = "recfile"') or ["takes"], 1,
        "[paths] recordings = 'recfile' cannot be a folder"),
    Row("config-recordings-under-a-file", lambda t, h: write(h, "recfile", "x") and config_replace(
        h, 'recordings = "recordings"', 'recordings = "recfile/sub"') or ["takes"], 1, "recfile is a file"),
    Row("config-models-is-a-file", lambda t, h: write(h, "recfile", "x") and config_replace(
        h, f'models = "{load_models_line(h)}"', 'models = "recfile"') or ["takes"], 1,
        "[paths] models = 'recfile' cannot be a folder"),
    Row("config-database-is-the-recordings-folder", lambda t, h: config_replace(  # (another folder: test_config)
        h, 'database = "recordings/starcoach.db"', 'database = "recordings"') or ["takes"], 1,
        "[paths] database = 'recordings' and recordings = 'recordings' are the same path"),
    Row("config-database-empty", lambda t, h: config_replace(
        h, 'database = "recordings/starcoach.db"', 'database = ""') or ["takes"], 1, "[paths] database is empty"),
    Row("config-language", lambda t, h: config_replace(h, 'language = "en"', 'language = "xx"') or ["takes"], 1,
        "language = 'xx' is not a known value (allowed: af, am, ar, as, az,"),
    Row("config-language-empty", lambda t, h: config_replace(h, 'language = "en"', 'language = ""') or ["takes"], 1,
        "language = '' is not a known value"),
    Row("config-compute-type", lambda t, h: config_replace(h, 'compute_type = "int8"', 'compute_type = "int3"')
        or ["takes"], 1, "int3"),
    Row("config-string-for-number", lambda t, h: config_replace(h, "countdown_s = 3", 'countdown_s = "3"')
        or ["takes"], 1, "whole number"),
    # a prompt of 24,000 characters was taken: the transcript came back as 11 words and invented fillers
    Row("config-prompt-too-long", lambda t, h: config_replace(
        h, 'initial_prompt = "Um, uh, hmm, er, ah."', 'initial_prompt = "' + "Um, uh, " * 3000 + '"') or ["takes"], 1,
        "[model] initial_prompt is 24,000 characters long, over the 400 allowed"),
    # 21: config.toml that is a folder or a dangling link
    Row("config-folder", lambda t, h: ((h / "config.toml").unlink(), (h / "config.toml").mkdir()) and ["takes"],
        1, "folder"),
    Row("config-dangling-link", lambda t, h: ((h / "config.toml").unlink(),
                                              (h / "config.toml").symlink_to(t / "gone.toml")) and ["takes"],
        1, "does not exist"),
    # 12: malformed questions file
    Row("questions-string", lambda t, h: questions_file(h, 'question = "x"') or ["questions"], 1, "[[question]]"),
    Row("questions-numbers", lambda t, h: questions_file(h, "question = [1, 2]") or ["questions"], 1,
        "question 1"),
    Row("questions-principles", lambda t, h: questions_file(h, "principles = 3") or ["questions"], 1,
        "[principles]"),
    Row("questions-no-text", lambda t, h: questions_file(h, '[[question]]\nid = "x"\n') or ["questions"], 1,
        "text"),
    # a first-run audit (session 53): the database as the question file blamed [paths] database, which the
    # user had not changed, and offered its own value as the fix
    Row("questions-database", lambda t, h: config_replace(h, 'questions = ""', 'questions = "recordings/starcoach.db"')
        or ["questions"], 1, "[paths] questions names the takes database ("),
    Row("questions-folder", lambda t, h: ((h / "mine.toml").mkdir(),
                                          config_replace(h, 'questions = ""', 'questions = "mine.toml"'))
        and ["questions"], 1, "is a folder: name a .toml file of questions there, or set questions = \"\""),
    Row("questions-bad-toml", lambda t, h: questions_file(h, "[[question]\n") or ["questions"], 1, "TOML"),
    Row("questions-same-id-twice", lambda t, h: questions_file(
        h, '[[question]]\nid = "a"\ntext = "One?"\n[[question]]\nid = "a"\ntext = "Two?"\n') or ["questions"], 1,
        "question id 'a' is used twice"),
    Row("questions-misspelt-key", lambda t, h: questions_file(
        h, '[[question]]\nid = "a"\ntext = "One?"\nprinciple = ["ownership"]\n') or ["questions"], 1,
        "'principle', which is not a question field"),
    Row("questions-unknown-principle", lambda t, h: questions_file(
        h, '[[question]]\nid = "a"\ntext = "One?"\nprinciples = ["Deep Diving"]\n') or ["questions"], 1,
        "no Leadership Principle 'Deep Diving'"),  # (a name, "Dive Deep", is taken since session 53)
    Row("theme-unknown", lambda t, h: ["questions", "--theme", "nope"], 1, "no question has the theme 'nope'"),
    # 13: numbers out of range
    Row("take-2-76", lambda t, h: ["show", 2**76], 1, "no take"),
    Row("take-negative", lambda t, h: ["show", "--", -1], 1, "no take"),
    Row("export-2-76", lambda t, h: ["export", 2**76], 1, "no take"),
    Row("seconds-nan", lambda t, h: ["record", "--seconds", "nan"], 2, "--seconds"),
    Row("seconds-inf", lambda t, h: ["record", "--seconds", "inf"], 2, "--seconds"),
    Row("seconds-negative", lambda t, h: ["record", "--seconds", "-1"], 2, "--seconds"),
    Row("seconds-zero", lambda t, h: ["record", "--seconds", "0"], 2, "--seconds"),
    Row("practice-seconds-nan", lambda t, h: ["practice", "--seconds", "nan"], 2, "--seconds"),
    Row("play-from-inf", lambda t, h: ["play", "1", "--from", "inf"], 2, "--from"),
    Row("play-from-nan", lambda t, h: ["play", "1", "--from", "nan"], 2, "--from"),
    Row("export-clean-json", lambda t, h: ["export", "1", "-f", "json", "--clean", "-o", t / "x.json"], 2,
        "--clean applies to"),
    # take 1 is 1 s long: nothing to play from 5 s (it said "played 0.0 s", exit 0)
    Row("play-from-past-the-end", lambda t, h: ["play", "1", "--from", "5"], 1, "past the end"),
    # a question and a principle (or a random pick): the question won, the other was ignored
    Row("record-question-and-lp", lambda t, h: ["record", "-q", "deep-1", "--lp", "ownership", "-s", "1"], 2,
        "not both"),
    Row("record-random-and-question", lambda t, h: ["record", "--random", "-q", "deep-1", "-s", "1"], 2,
        "not both"),
    # 17: usage errors are one line, exit 2
    Row("show-abc", lambda t, h: ["show", "abc"], 2, "show --help"),
    # a negative id was "No such option: -1"
    Row("show-negative", lambda t, h: ["show", "-1"], 2, "-1 was read as an option: a negative number is no value"),
    Row("export-negative", lambda t, h: ["export", "-3"], 2, "-3 was read as an option"),
    Row("show-nothing", lambda t, h: ["show"], 2, "take"),
    Row("unknown-command", lambda t, h: ["shwo"], 2, "shwo"),
    Row("unknown-option", lambda t, h: ["takes", "--colour"], 2, "--colour"),
    Row("export-bad-format", lambda t, h: ["export", "1", "--format", "pdf"], 2, "pdf"),
    # a file named for a format starcoach does not write: was Markdown under a .pdf name, exit 0
    Row("export-pdf-name", lambda t, h: ["export", "1", "-o", t / "x.pdf"], 2, "cannot export to .pdf"),
    # an audit (session 53): the refusal said "or give --format", which wrote Markdown into answer.pdf
    Row("export-format-into-pdf", lambda t, h: ["export", "1", "-f", "md", "-o", t / "x.pdf"], 2,
        "cannot export md into x.pdf, a name that says pdf: name the file .md"),
    Row("export-html-into-md", lambda t, h: ["export", "1", "-f", "html", "-o", t / "notes.md"], 2,
        "cannot export html into notes.md, a name that says md: name the file .html"),
    Row("compare-one-take", lambda t, h: ["compare", "1"], 2, "two take ids"),
    Row("compare-take-with-itself", lambda t, h: ["compare", "1", "1"], 2, "two different takes"),
    # the question is checked before the microphone (here there is none): the id is what is wrong
    Row("practice-unknown-question", lambda t, h: ["practice", "--question", "nope"], 1, "no question with id"),
    Row("compare-ids-and-question", lambda t, h: ["compare", "1", "2", "--question", "deep-1"], 2, "not both"),
    # a question id no question has (a typo) is said to be one, not listed as "no takes yet"
    Row("takes-unknown-question", lambda t, h: ["takes", "--question", "nope"], 1, "no question with id 'nope'"),
    Row("takes-json-unknown-question", lambda t, h: ["takes", "--json", "-q", "nope"], 1, "no question with id"),
    Row("progress-unknown-question", lambda t, h: ["progress", "--question", "nope"], 1, "no question with id"),
    # --chart writes SVG: another format's name was given an SVG (and export refuses such names)
    Row("progress-chart-png", lambda t, h: ["progress", "--chart", t / "chart.png"], 2, "ends in .svg, not chart.png"),
    Row("progress-chart-folder", lambda t, h: ["progress", "--chart", t], 1, "is a folder"),
    Row("compare-unknown-question", lambda t, h: ["compare", "--question", "nope"], 1, "no question with id"),
    # 18: delete
    Row("delete-refused", lambda t, h: ["delete", "1"], 2, "--yes"),
    Row("delete-unknown", lambda t, h: ["delete", "99", "--yes"], 1, "no take with id 99"),
    # 8: export --force onto what is not a regular file
    Row("export-dev-null", lambda t, h: ["export", "1", "-o", export_target(t, "device"), "--force"], 1,
        "not a regular file"),
    Row("export-fifo", lambda t, h: ["export", "1", "-o", export_target(t, "fifo"), "--force"], 1,
        "not a regular file"),
    Row("export-symlink", lambda t, h: ["export", "1", "-o", export_target(t, "symlink"), "--force"], 1,
        "symbolic link"),
    Row("export-folder", lambda t, h: ["export", "1", "-o", export_target(t, "folder"), "--force"], 1, "folder"),
    Row("export-exists", lambda t, h: ["export", "1", "-o", write(t, "e.md", "x")], 1, "--force"),
    Row("export-missing-folder", lambda t, h: ["export", "1", "-o", t / "nope" / "deeper" / "x.md"], 1,
        "does not exist"),
    Row("export-folder-is-a-file", lambda t, h: ["export", "1", "-o", write(t, "f", "x") / "x.md"], 1,
        "is not a folder"),
    Row("chart-missing-folder", lambda t, h: ["progress", "--chart", t / "nope" / "c.svg"], 1, "does not exist"),
    Row("chart-to-stdout", lambda t, h: ["progress", "--chart", "-"], 2, "needs a file name"),
    # 16: silence is exit 3
    Row("import-silence", lambda t, h: ["import", SILENCE(t)], 3, "no speech"),
    Row("import-inverted-silence", lambda t, h: ["import", STEREO_SILENCE(t)], 3, "no speech"),
]


def SILENCE(tmp: Path) -> Path:
    p = tmp / "quiet.flac"
    sf.write(p, np.zeros(32000, dtype=np.float32), 16000)
    return p


def STEREO_SILENCE(tmp: Path) -> Path:
    p = tmp / "quiet-stereo.wav"
    sf.write(p, np.zeros((32000, 2), dtype=np.float32), 44100)
    return p


# --- what is stored before, and must be after -------------------------------------------

_SEEDED: dict[str, Path] = {}


def _told(star: dict) -> dict:
    """STAR of a take of silence given words that tell a story: its Action present (a take with no part
    tells no story, and `coverage`, `compare` and `progress` leave it out)."""
    return {**star, "action": {**star["action"], "present": True}}


@pytest.fixture
def stored(tmp_path, home, tmp_path_factory) -> list[dict]:
    """Two takes (no speech in them, so no model is loaded): one analysed, one failed.

    Made once through ``import``, then its recordings/ folder is copied for each test.
    """
    import shutil

    recordings = home / "recordings"
    if "recordings" not in _SEEDED:
        src = tmp_path / "seed"
        src.mkdir()
        for i in range(2):
            p = src / f"seed-{i}.wav"
            sf.write(p, np.zeros(16000 * (i + 1), dtype=np.float32), 16000)
            assert run("import", p).exit_code == 3  # silence: stored, and said so
        db = sqlite3.connect(recordings / "starcoach.db", isolation_level=None)
        db.execute("UPDATE takes SET status = 'failed', analysis_json = NULL WHERE id = 2")  # no analysis (row 5)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        keep = tmp_path_factory.mktemp("seeded") / "recordings"
        shutil.copytree(recordings, keep)
        _SEEDED["recordings"] = keep
    else:
        shutil.copytree(_SEEDED["recordings"], recordings)
    return snapshot()


def snapshot() -> list[dict]:
    listed = run("takes", "--json")
    assert listed.exit_code == 0, listed.output
    takes = json.loads(listed.stdout)
    for t in takes:
        t["audio_sha"] = hashlib.sha256(Path(t["audio_path"]).read_bytes()).hexdigest()
    return takes


def one_line(result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("starcoach:")]
    assert len(errors) == 1, result.stderr
    assert "System error" not in errors[0]
    return errors[0]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_bad_input_is_one_line_and_keeps_the_takes(row, tmp_path, home, stored):
    args = row.args(tmp_path, home)
    result = run(*args)
    line = one_line(result, row.code)
    assert row.says in line, line
    if "config" in row.name or "questions" in row.name:
        (home / "config.toml").unlink() if (home / "config.toml").is_symlink() else None
        if (home / "config.toml").is_dir():
            (home / "config.toml").rmdir()
        return  # the config itself is the bad input: the takes cannot be listed with it
    after = snapshot()
    if row.name.startswith("import-"):
        after = after[: len(stored)]  # silence is stored (and said to be)
    assert after == stored


# --- faults that need more than a command line --------------------------------------------

def test_show_a_take_with_no_analysis(stored):
    """It said "No speech found" and to check the microphone: nothing was analysed, so nothing was heard."""
    result = run("show", "2")
    assert result.exit_code == 0, result.output
    assert "starcoach:" not in result.stderr
    said = " ".join(result.output.split())
    assert "has no analysis" in said and "No speech" not in said and Path(stored[1]["audio_path"]).name in said
    doc = json.loads(run("show", "2", "--json").stdout)
    assert doc["analysed"] is False and doc["take"]["status"] == "failed"


def test_disk_full_while_importing_names_the_file_and_leaves_nothing(tmp_path, stored, monkeypatch):
    import shutil

    def half_then_full(fin, fout, length=0):
        fout.write(fin.read(1000))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfileobj", half_then_full)
    result = run("import", SILENCE(tmp_path))
    line = one_line(result, 1)
    assert "disk is full" in line and "did not fit" in line and "quiet.flac" in line
    assert snapshot() == stored
    recordings = Path(stored[0]["audio_path"]).parent
    assert not list(recordings.glob("*.part")) and len(list(recordings.glob("*.meta.json"))) == 2


def test_exports_never_replace_the_files_that_hold_the_takes(tmp_path, home, stored):
    """--force replaces an earlier export, never a take's audio, its metadata or the database
    (the class: any of them, by its own name or through a link), and the refusal comes
    before any output."""
    from starcoach.takes.sidecar import sidecar_path

    audio = Path(stored[0]["audio_path"])
    link = tmp_path / "chart.svg"
    link.symlink_to(audio)
    targets = {audio: "take's audio", sidecar_path(audio): "metadata", home / "recordings" / "starcoach.db":
               "takes database", link: "take's audio", audio.with_name("take-new.flac"): "take's audio"}
    kept = {p: p.read_bytes() for p in targets if p.exists()}
    for target, says in targets.items():
        for args in (["export", "1", "-f", "txt", "-o", target, "--force"], ["progress", "--chart", target, "--force"]):
            result = run(*args)
            line = one_line(result, 1)
            assert says in line and "--force or not" in line, line
            assert result.stdout == "", result.stdout  # refused before the table or the file
    assert {p: p.read_bytes() for p in kept} == kept
    assert not audio.with_name("take-new.flac").exists()
    assert snapshot() == stored
    # an export beside the audio, the default, is still written, and replaced with --force
    for _ in range(2):
        result = run("export", "1", "-f", "json", "--force")
        assert result.exit_code == 0, result.output
    assert Path(result.stdout.strip()) == audio.with_suffix(".json")


@pytest.mark.parametrize("name", ["answer.part", "answer.md", "answer.txt", "answer.json", "answer.deleted"])
def test_an_import_named_like_a_file_kept_beside_takes_keeps_its_audio(tmp_path, stored, name):
    """An import kept its file's own suffix: ``answer.part`` was stored as take-X.part, which
    ``recover`` took for a partial copy and removed; ``answer.md`` as take-X.md, which the take's
    own Markdown export (beside its audio, by default) wrote over with --force."""
    audio = tmp_path / name
    sf.write(audio, np.zeros(16000, dtype=np.float32), 16000, format="WAV")
    assert run("import", audio).exit_code == 3  # silence: stored, and said so
    take = snapshot()[-1]
    kept = Path(take["audio_path"])
    assert kept.suffix == ".audio", kept
    for args in (["recover"], ["export", str(take["id"]), "-f", "md", "--force"],
                 ["export", str(take["id"]), "-f", "json", "--force"]):
        run(*args)
    assert snapshot()[-1] == take and hashlib.sha256(kept.read_bytes()).hexdigest() == take["audio_sha"]


@pytest.mark.parametrize("suffix", [".part", ".md"])
def test_a_take_whose_audio_an_earlier_release_named_oddly_is_neither_removed_nor_replaced(stored, suffix):
    """Takes stored before that fix keep their names: recover must not remove take-X.part, and no
    export may write over take-X.md, --force or not. Their metadata is as that import wrote it
    (for take-X.part it names the audio "take-X", the name a partial copy's whole file has)."""
    from starcoach.takes import sidecar

    first = Path(stored[0]["audio_path"])
    meta = sidecar.read(sidecar.sidecar_path(first))
    odd = first.with_name(first.name.split(".")[0] + suffix)
    first.rename(odd)
    sidecar.write(odd, meta)
    db = sqlite3.connect(first.parent.parent / "starcoach.db", isolation_level=None)
    db.execute("UPDATE takes SET audio_path = ? WHERE id = 1", (str(odd),))
    db.close()
    before = snapshot()
    kept = sidecar.sidecar_path(odd).read_bytes()
    assert run("recover").exit_code == 0
    assert odd.is_file() and sidecar.sidecar_path(odd).read_bytes() == kept
    line = one_line(run("export", "1", "-f", "md", "-o", odd, "--force"), 1)
    assert "--force or not" in line, line  # (take-X.part: "a recording in progress", as before)
    if suffix == ".md":  # the default target, beside the audio, is the audio itself
        assert "a take's audio" in line
        assert "a take's audio" in one_line(run("export", "1", "-f", "md", "--force"), 1)
    assert snapshot() == before


def test_locked_database_waits_briefly_then_says_so(tmp_path, stored, monkeypatch):
    from starcoach.config import load_config
    from starcoach.takes import store as store_module

    monkeypatch.setattr(store_module, "LOCK_WAIT_S", 0.3)
    holder = sqlite3.connect(load_config().paths.database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run("import", SILENCE(tmp_path))
        line = one_line(result, 1)
        assert "locked" in line
        recordings = Path(stored[0]["audio_path"]).parent
        assert len([p for p in recordings.iterdir() if p.suffix != ".json"]) == 2  # no orphan audio
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert snapshot() == stored



def test_doctor_on_a_locked_database_says_so_and_moves_nothing(stored, monkeypatch):
    """A database another process holds locked is busy, not damaged: doctor must not move it
    aside and rebuild it (what the holder commits would go into the file moved aside, and the
    rebuilt one would hand out the ids of deleted takes again)."""
    from starcoach.config import load_config
    from starcoach.takes import store as store_module

    monkeypatch.setattr(store_module, "LOCK_WAIT_S", 0.3)
    db = load_config().paths.database
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE takes SET status = status WHERE id = 1")
    try:
        line = one_line(run("doctor"), 1)
        assert "locked" in line and "try again" in line, line
        assert not list(db.parent.glob(f"{db.name}.damaged-*"))
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert snapshot() == stored
    assert run("doctor").stdout.startswith("database: ok")


def test_doctor_on_a_database_it_may_not_read_says_so_and_moves_nothing(stored, home):
    """A database this user may not read is not damaged: doctor said "database: damaged (unable
    to open database file)", moved it aside, rebuilt an empty one from recordings/ and exited 0
    (the old file's id counter gone with it)."""
    import subprocess
    import sys

    db = home / "recordings" / "starcoach.db"
    db.chmod(0)
    drop = unprivileged()
    env = {**os.environ, "STARCOACH_HOME": str(home)}
    try:
        done = subprocess.run([*drop, sys.executable, "-m", "starcoach", "doctor"], capture_output=True, text=True,
                              timeout=300, env=env)
        listed = subprocess.run([*drop, sys.executable, "-m", "starcoach", "takes"], capture_output=True, text=True,
                                timeout=300, env=env)
    finally:
        db.chmod(0o644)
    # (`takes` said "cannot write the takes database …": it only reads)
    assert listed.stderr == (f"starcoach: cannot open the takes database {db}: {db} cannot be read and written by "
                             f"this user (owner {_owner(db)}, mode 0): give it back to this user (chown) or make it "
                             "writable (chmod u+rw), then try again\n"), listed.stderr
    assert listed.returncode == 1
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr == (f"starcoach: the takes database {db} cannot be written, so nothing can be checked or "
                           f"repaired: {db} cannot be read and written by this user (owner {_owner(db)}, mode 0): give "
                           "it back to this user (chown) or make it writable (chmod u+rw), then run `starcoach doctor` "
                           "again (nothing was changed)\n"), done.stderr
    assert not list(db.parent.glob(f"{db.name}.damaged-*"))
    assert snapshot() == stored


def _owner(path: Path) -> str:
    import grp
    import pwd

    st = path.stat()
    return f"{pwd.getpwuid(st.st_uid).pw_name}:{grp.getgrgid(st.st_gid).gr_name}"


def _as_unprivileged(home: Path, *args: str):
    import subprocess
    import sys

    return subprocess.run([*unprivileged(), sys.executable, "-m", "starcoach", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "STARCOACH_HOME": str(home)})


def test_a_home_whose_folder_this_user_may_not_write_is_read_and_doctor_calls_nothing_damaged(stored, home):
    """recordings/ made read-only by its mode (a backup copied so, a home protected by chmod): doctor
    said the sound database "is damaged … writing its rebuilt copy failed", and `takes`, `show` and
    `export` refused to read it (an audit's), where a read-only disk is read as it is."""
    recordings = home / "recordings"
    db = recordings / "starcoach.db"
    sf.write(home / "answer.wav", np.zeros(16000, dtype=np.float32), 16000)
    recordings.chmod(0o555)
    try:
        listed = _as_unprivileged(home, "takes", "--json")
        shown = _as_unprivileged(home, "show", "1", "--json")
        checked = _as_unprivileged(home, "doctor")
        deleted = _as_unprivileged(home, "delete", "1", "--yes")
        recorded = _as_unprivileged(home, "record", "--seconds", "2")
        imported = _as_unprivileged(home, "import", str(recordings / ".." / "answer.wav"))
    finally:
        recordings.chmod(0o755)
    assert listed.returncode == 0, listed.stderr
    assert [t["id"] for t in json.loads(listed.stdout)] == [t["id"] for t in stored]
    assert shown.returncode == 0 and json.loads(shown.stdout)["take"]["id"] == 1, shown.stderr
    why = (f"its folder {recordings} cannot be written by this user (owner {_owner(recordings)}, mode 555): give it "
           "back to this user (chown) or make it writable (chmod u+rwx)")
    assert checked.returncode == 1 and "damaged" not in checked.stderr, checked.stderr
    assert checked.stderr == (f"starcoach: the takes database {db} cannot be written, so nothing can be checked or "
                              f"repaired: {why}, then run `starcoach doctor` again (nothing was changed)\n"), checked.stderr
    assert deleted.returncode == 1 and why in deleted.stderr and deleted.stderr.count("\n") == 1, deleted.stderr
    # recording and importing say so before anything else (the model, the countdown, the copy): a review's
    assert (recorded.returncode, recorded.stderr) == (1, f"starcoach: cannot write the takes database {db}: {why}, "
                                                          "then try again\n"), recorded.stderr
    assert (imported.returncode, imported.stderr) == (recorded.returncode, recorded.stderr), imported.stderr
    assert not list(recordings.glob("*.damaged-*")) and snapshot() == stored


def test_an_export_beside_the_audio_that_cannot_be_written_says_how_to_write_it_elsewhere(stored, home):
    """An audit (session 53): `export 1` with no -o, into a folder this user may not write, said "permission
    denied; write it into a folder you may write to": the user had named no folder."""
    if os.geteuid() != 0:
        pytest.skip("running as another user needs root")
    day = Path(stored[0]["audio_path"]).parent
    day.chmod(0o555)
    try:
        exported = _as_unprivileged(home, "export", "1", "--format", "json")
    finally:
        day.chmod(0o755)
    assert exported.returncode == 1 and exported.stderr.count("\n") == 1, exported.stderr
    assert exported.stderr.rstrip().endswith("(with -o FILE, anywhere else)"), exported.stderr
    assert "permission denied" in exported.stderr and snapshot() == stored


def test_a_home_of_an_older_release_in_a_folder_this_user_may_not_write_says_that_not_a_read_only_disk(home):
    """A 0.1.0 database (which must be upgraded, a write) in a folder this user may not write was "on a
    read-only disk … copy the home to a writable disk" (a review's): the disk was fine."""
    import shutil

    recordings = home / "recordings"
    shutil.rmtree(recordings, ignore_errors=True)
    shutil.copytree(Path(__file__).parent / "data" / "legacy-0.1.0" / "recordings", recordings)
    recordings.chmod(0o555)
    try:
        listed = _as_unprivileged(home, "takes")
    finally:
        recordings.chmod(0o755)
    db = recordings / "starcoach.db"
    assert (listed.returncode, listed.stderr) == (1, (
        f"starcoach: the takes database {db} was written by an older starcoach, which this one must upgrade first, "
        f"and cannot be written here: its folder {recordings} cannot be written by this user (owner "
        f"{_owner(recordings)}, mode 555): give it back to this user (chown) or make it writable (chmod u+rwx), then "
        "try again\n")), listed.stderr


def test_wal_and_shm_files_of_another_user_are_named_and_doctor_does_not_call_the_database_ok(stored, home):
    """-wal and -shm files left by a starcoach run as another user (sudo, killed): every write said
    "check the permissions of the file and its folder", both fine, and doctor said "database: ok"."""
    import sqlite3 as sql

    if os.geteuid() != 0:
        pytest.skip("giving files to another user needs root")
    db = home / "recordings" / "starcoach.db"
    keep = sql.connect(db)  # held open, so its -wal and -shm stay
    keep.execute("SELECT count(*) FROM takes").fetchall()
    shm = db.with_name("starcoach.db-shm")
    assert shm.exists()
    try:
        for f in (shm, db.with_name("starcoach.db-wal")):
            os.chown(f, 65534, 65534)
            f.chmod(0o600)
        deleted = _as_unprivileged(home, "delete", "1", "--yes")
        checked = _as_unprivileged(home, "doctor")
    finally:
        for f in (shm, db.with_name("starcoach.db-wal")):
            os.chown(f, 0, 0)
        keep.close()
    why = "-wal cannot be read and written by this user (owner nobody:nogroup, mode 600): give it back"
    for done in (deleted, checked):
        assert done.returncode == 1 and f"{db}{why}" in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert "database: ok" not in checked.stdout
    assert snapshot() == stored


def test_doctor_on_a_read_only_disk_says_so_and_moves_nothing(tmp_path, home, stored, monkeypatch):
    """On a read-only disk (the database's -shm not beside it) doctor called the database damaged,
    then failed to move it aside: "the disk is read-only (…starcoach.db.damaged-…)"."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    for extra in (copy / "recordings").glob("starcoach.db-*"):
        extra.unlink()
    with mounted_read_only(copy, tmp_path / "ro") as ro:
        monkeypatch.setenv("STARCOACH_HOME", str(ro))
        line = one_line(run("doctor"), 1)
        assert "read-only disk" in line and ".damaged-" not in line, line
    assert not list((copy / "recordings").glob("starcoach.db.damaged-*"))
    monkeypatch.setenv("STARCOACH_HOME", str(copy))
    assert [(t["id"], t["status"], t["audio_sha"]) for t in snapshot()] == [
        (t["id"], t["status"], t["audio_sha"]) for t in stored]


@pytest.mark.parametrize("when", ["after the commit", "before the commit"])
def test_an_import_interrupted_around_its_commit_keeps_a_listed_take_whole(tmp_path, stored, monkeypatch, when):
    """Ctrl-C can land just after the row is committed: the take is listed, so its audio must
    stay (it was deleted, leaving a take whose audio is missing). Just before, nothing stays."""
    from starcoach.takes import store as store_module

    real = store_module.Store.add_take

    def add_take(self, **kwargs):
        if when == "before the commit":
            raise KeyboardInterrupt
        real(self, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(store_module.Store, "add_take", add_take)
    result = run("import", SILENCE(tmp_path))
    assert result.exit_code == 130, result.output
    monkeypatch.setattr(store_module.Store, "add_take", real)
    takes = snapshot()  # reads every listed take's audio
    assert takes[:2] == stored
    recordings = Path(stored[0]["audio_path"]).parent
    audio = [p for p in recordings.iterdir() if p.suffix != ".json"]
    if when == "after the commit":
        assert len(takes) == 3 and Path(takes[2]["audio_path"]).is_file() and len(audio) == 3
    else:
        assert len(takes) == 2 and len(audio) == 2
    checked = run("doctor")
    assert checked.exit_code == 0 and "missing" not in checked.stdout, checked.stdout


def test_samples_that_are_not_numbers_are_silence_and_every_document_is_strict_json(tmp_path, stored):
    """A float WAV with NaN and infinite samples: the figures computed from them were NaN,
    written as a bare NaN that strict JSON parsers reject, and kept in the stored take."""
    def strict(text):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in a JSON document"))

    rng = np.random.default_rng(0)
    x = (rng.standard_normal(48000) * 0.01).astype(np.float32)
    x[1000:5000], x[9000:9100], x[20000:20050] = np.nan, np.inf, -np.inf
    path = tmp_path / "damaged.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    from starcoach.audio.decode import load_audio

    audio = load_audio(path)
    samples = audio.samples
    assert np.isfinite(samples).all() and np.abs(samples).max() <= 1.0
    assert samples[30000:40000].std() == pytest.approx(0.01, rel=0.1)  # the rest is what the file holds
    assert audio.damaged_samples == 4150
    for command in (["analyze", path, "--json"], ["import", path, "--json"]):
        result = run(*command)
        assert result.exit_code == 3, result.output  # only noise in it: no speech, said so
        quality = strict(result.stdout)["audio"]
        assert quality["snr_db"] is None or np.isfinite(quality["snr_db"])
        # and the report says so: the file was analysed as if nothing were wrong (an audit's)
        assert "damaged" in quality["problems"] and not quality["reliable"], quality
        assert quality["damaged_share"] == pytest.approx(4150 / 48000, abs=1e-4)
        assert "8.65% of the file's samples were not numbers (damaged), read as silence" in quality["warning"]
    assert strict(run("show", "3", "--json").stdout)["take"]["id"] == 3
    fine = tmp_path / "fine.wav"
    sf.write(fine, np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0), 16000, subtype="FLOAT")
    quality = strict(run("analyze", fine, "--json").stdout)["audio"]
    assert "damaged" not in quality["problems"] and quality["damaged_share"] == 0.0

_RETYPED = {"a count null": ("metrics", "fillers_per_min", None), "a count as text": ("metrics", "filler_count", "3"),
            "a rating as a number with a fraction": ("star", "rating", 6.5),
            "a part's presence as text": ("star", "action", {"present": "yes", "share_words": 0.0}),
            "no strengths": ("star", "strengths", None), "a target band of no numbers": ("metrics", "target_wpm", []),
            # JSON has no NaN or Infinity: `show --json`, `export` and `compare` printed them, doctor called it ok
            "a rate not a number": ("metrics", "fillers_per_min", float("nan")),
            "a pace of infinity": ("metrics", "wpm", float("inf")),
            "a number too large for a float": ("metrics", "wpm", 1e308)}  # written 1e999 below: read as inf


_SENTENCE = {"text": "I fixed it.", "label": "action", "start": 0.1, "end": 0.9, "cues": []}


def _with_sentence(doc: dict, **fields) -> None:
    doc["star"]["sentences"] = [{**_SENTENCE, **fields}]


# Deeper in: each read by `show`, `export` or the page, each once "unexpected error … this is a bug" while `doctor`
# called the take whole (an audit's list, 2026-12-07).
_DEEPER = {"audio as text": lambda d: d.update(audio="loud"),
           "no hedges": lambda d: d["metrics"].pop("hedges"),
           "a repetition as a number": lambda d: d["metrics"].update(repetitions=[1]),
           "a pace window without its flag": lambda d: d["metrics"].update(pace=[{"start": 0, "end": 1, "wpm": 99}]),
           "a quantity as a bare string": lambda d: d["metrics"].update(quantities=["x"]),
           "a target band of text": lambda d: d["metrics"].update(target_wpm=["a", "b"]),
           "a word count as text": lambda d: d["metrics"].update(content_words="12"),
           "a part's sentence that is not there": lambda d: d["star"]["situation"].update(sentences=[99]),
           "feedback naming a sentence by text": lambda d: d["star"].update(
               feedback=[{"severity": "tip", "message": "m", "sentences": ["x"]}]),
           "a strength as a number": lambda d: d["star"].update(strengths=[5]),
           "a sentence's start as text": lambda d: _with_sentence(d, start="x"),
           "a sentence with a start and no end": lambda d: _with_sentence(d, end=None),
           "a sentence's parts as text": lambda d: _with_sentence(d, parts="x"),
           # a review's, after: each passed and made `show` fail
           "a sentence's parts null": lambda d: _with_sentence(d, parts=None),
           "a sentence without its start": lambda d: d["star"].update(
               sentences=[{k: v for k, v in _SENTENCE.items() if k != "start"}]),
           "a sentence labelled as no part": lambda d: _with_sentence(d, label="rating"),
           "a part's sentences timed and untimed": lambda d: (
               d["star"].update(sentences=[dict(_SENTENCE), {**_SENTENCE, "start": None, "end": None}]),
               d["star"]["action"].update(sentences=[0, 1]))}


@pytest.mark.parametrize("damage", ['{"trunc', '{"transcript": "x", "star": {}}', "missing metrics", *_RETYPED,
                                    *_DEEPER])
def test_bad_analysis_row_is_one_line_and_the_rest_still_list(stored, damage):
    """JSON that parses but lacks what every analysis holds (KeyError: 'no_speech' from show, and
    'speaking_span_s' from export) is as damaged as JSON that does not; so is one whose fields hold
    another type (a count edited to null: `show` failed with "unexpected error (TypeError…)" while
    `doctor` called the database ok)."""
    from starcoach.config import load_config

    with sqlite3.connect(load_config().paths.database) as db:
        if damage == "missing metrics" or damage in _RETYPED or damage in _DEEPER:
            doc = json.loads(db.execute("SELECT analysis_json FROM takes WHERE id = 1").fetchone()[0])
            if damage in _DEEPER:
                _DEEPER[damage](doc)
            elif damage in _RETYPED:
                where, key, value = _RETYPED[damage]
                doc[where][key] = value
            else:
                del doc["metrics"]["filler_count"]
            damage = json.dumps(doc).replace("1e+308", "1e999")
        db.execute("UPDATE takes SET analysis_json = ? WHERE id = 1", (damage,))
    for command in (["show", "1"], ["export", "1", "-f", "html", "-o", "-"]):
        line = one_line(run(*command), 1)
        assert "damaged" in line and "doctor" in line, line
    assert [t["id"] for t in snapshot()] == [1, 2]
    fixed = run("doctor")
    assert fixed.exit_code == 0, fixed.output
    assert "analysed take 1 again" in fixed.stdout
    assert run("show", "1", "--json").exit_code == 0


def test_a_doctor_stopped_while_it_analyses_a_take_again_leaves_the_old_analysis_until_the_new_one(stored, monkeypatch):
    """Doctor set a damaged analysis to nothing before analysing the take again: stopped there (Ctrl+C,
    SIGTERM, kill -9), the take stayed "complete" with no analysis for good, `show` said its audio
    "could not be analysed when it was stored", and every later doctor said "every take has its audio
    and analysis" (an audit). Now the old one is replaced by the new one only."""
    from starcoach.analysis.pipeline import Analyzer
    from starcoach.config import load_config

    with sqlite3.connect(load_config().paths.database) as db:
        db.execute("UPDATE takes SET analysis_json = '{bad' WHERE id = 1")

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(Analyzer, "analyze_file", stopped)
        assert one_line(run("doctor"), 130) == "starcoach: interrupted"
    assert "damaged" in one_line(run("show", "1"), 1)
    fixed = run("doctor")
    assert fixed.exit_code == 0, fixed.output
    assert "analysed take 1 again (its stored analysis was damaged)" in fixed.stdout
    assert run("show", "1", "--json").exit_code == 0


def test_a_complete_take_without_its_analysis_is_said_so_and_doctor_analyses_it(stored):
    """The state a doctor stopped mid-analysis left (above): `show` named a cause that was not the
    case, `export` gave no way out, and doctor never looked at the take again."""
    from starcoach.config import load_config

    with sqlite3.connect(load_config().paths.database) as db:
        db.execute("UPDATE takes SET analysis_json = NULL WHERE id = 1")
    shown = run("show", "1")
    assert shown.exit_code == 0 and "could not be analysed" not in shown.stdout, shown.stdout
    assert "its analysis is missing" in shown.stdout and "analyses it again" in shown.stdout, shown.stdout
    assert one_line(run("export", "1", "-o", "-"), 1) == (
        "starcoach: take 1 has no analysis (status complete): its analysis is missing (one was cut short): "
        "`starcoach doctor` analyses it again; nothing to export but what is known of the take (--format json)")
    # `compare` said what, not what to do (an audit)
    assert one_line(run("compare", "1", "2"), 1) == (
        "starcoach: take 1 has no analysis (status complete): its analysis is missing (one was cut short): "
        "`starcoach doctor` analyses it again; compare another take")
    backwards = run("compare", "2", "1")  # one line, with the later take first too (no note before it)
    assert one_line(backwards, 1) == (
        "starcoach: take 2 has no analysis (status failed): its audio could not be analysed when it was stored "
        "(too short, empty or unreadable); compare another take") and len(backwards.stderr.splitlines()) == 1
    fixed = run("doctor")
    assert fixed.exit_code == 0, fixed.output
    assert "analysed take 1 again (its stored analysis was missing)" in fixed.stdout
    assert run("show", "1", "--json").exit_code == 0
    assert "every take has its audio and analysis" not in fixed.stdout
    again = run("doctor")  # the failed take 2 stays as it was: never analysed
    assert "analysed take" not in again.stdout and "1 take (2) has no analysis" in again.stdout, again.stdout


def test_a_take_left_recording_points_to_recover_not_to_a_failed_analysis(stored):
    """A take a killed `record` left was "could not be analysed when it was stored", its audio "0.0 s"
    in a file that was not there (it is the .part one), and `export` said only "nothing to export"."""
    from starcoach.config import load_config

    with sqlite3.connect(load_config().paths.database) as db:
        db.execute("UPDATE takes SET status = 'recording', analysis_json = NULL WHERE id = 1")
    shown = run("show", "1")
    assert shown.exit_code == 0, shown.output
    assert "could not be analysed" not in shown.stdout and "kept in" not in shown.stdout, shown.stdout
    assert "`starcoach recover` finishes it" in shown.stdout, shown.stdout
    assert one_line(run("export", "1", "-o", "-"), 1).endswith(
        "a crash or kill cut its recording off: `starcoach recover` finishes it; nothing to export but what is known "
        "of the take (--format json)")


def test_damaged_database_is_one_line_then_doctor_rebuilds_it(stored):
    from starcoach.config import load_config

    db = load_config().paths.database
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = bytearray(db.read_bytes())
    raw[:100] = os.urandom(100)  # the header page: "file is not a database"
    db.write_bytes(bytes(raw))
    line = one_line(run("takes"), 1)
    assert "damaged" in line and "starcoach doctor" in line
    fixed = run("doctor")
    assert fixed.exit_code == 0, fixed.output
    assert "moved the damaged database aside" in fixed.stdout
    after = snapshot()
    assert sorted((t["audio_sha"], t["started_at"]) for t in after) == \
        sorted((t["audio_sha"], t["started_at"]) for t in stored)
    assert run("doctor").stdout.startswith("database: ok")


def test_a_doctor_stopped_while_it_writes_the_rebuilt_copy_leaves_no_part_of_it(stored, monkeypatch):
    """Ctrl+C or SIGTERM while doctor wrote the new database left starcoach.db.rebuilding beside the
    damaged one (an audit), though exits 130 and 143 remove temporary files first."""
    from starcoach.config import load_config
    from starcoach.takes import doctor

    db = load_config().paths.database
    with sqlite3.connect(db) as con:
        con.execute("DROP TABLE takes")

    def stopped(path):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(doctor, "_last_id", stopped)  # read inside the new database's writing
        assert one_line(run("doctor"), 130) == "starcoach: interrupted"
    assert not list(db.parent.glob(f"{db.name}.rebuil*")), list(db.parent.iterdir())
    assert run("doctor").exit_code == 0
    assert sorted((t["audio_sha"], t["started_at"]) for t in snapshot()) == \
        sorted((t["audio_sha"], t["started_at"]) for t in stored)


def test_a_command_during_doctor_s_swap_waits_for_it_and_is_not_told_doctor_was_stopped(stored):
    """In the moment between doctor's two renames, other commands said doctor "was stopped" and to run
    it; run, it said it was already running (an audit, the window widened with strace). A command now
    meets the rebuilt file only once it holds the users lock, which doctor holds through its swap."""
    from starcoach.config import load_config
    from starcoach.takes.store_errors import rebuilt_path

    db = load_config().paths.database
    rebuilt = rebuilt_path(db)
    rebuilt.write_bytes(db.read_bytes())
    holder = subprocess.Popen(  # doctor's swap: the users lock held, the rebuilt file put in place after 1 s
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from starcoach.takes.rebuilding import without_users\n"
         "with without_users(Path(sys.argv[1])):\n"
         " print('held', flush=True); time.sleep(1); Path(sys.argv[2]).unlink()", str(db), str(rebuilt)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        listed = run("takes", "--json")
        assert listed.exit_code == 0 and listed.stderr == "", listed.output
        assert time.monotonic() - started >= 0.5  # it waited for the swap
    finally:
        holder.wait(timeout=30)
    assert snapshot() == stored
    rebuilt.write_bytes(db.read_bytes())  # a doctor killed in its swap: no one at work
    line = one_line(run("takes"), 1)
    assert "`starcoach doctor` was stopped while it put the rebuilt takes database in place" in line, line


def _holding(code: str, db: Path) -> subprocess.Popen:
    """A process that runs CODE (``db`` its database's path) and then waits for a line, once it said "held"."""
    holder = subprocess.Popen([sys.executable, "-c", "import sys; from pathlib import Path; db = Path(sys.argv[1])\n"
                               + code + "\nprint('held', flush=True); sys.stdin.readline()", str(db)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_doctor_puts_a_rebuilt_database_in_place_only_when_no_other_command_has_the_old_one_open(stored):
    """A command that had the damaged database open while doctor swapped in the rebuilt one wrote into the
    file set aside: an import said "take 11" and was not listed, a delete said "deleted" and the take stayed
    (an audit)."""
    from starcoach.config import load_config

    db = load_config().paths.database
    with sqlite3.connect(db) as con:
        con.execute("DROP TRIGGER review_summary_follows_take")  # damage SQLite still writes through
    holder = _holding("from starcoach.takes.store import Store; store = Store(db)", db)  # an import, say
    try:
        line = one_line(run("doctor"), 1)
        assert line == (f"starcoach: the takes database {db} must be replaced by a rebuilt one, and another starcoach "
                        "command has it open: end that command (a practice session, say), then run `starcoach doctor` "
                        "again; nothing was changed"), line
        assert not list(db.parent.glob(f"{db.name}.rebuil*")) and not list(db.parent.glob(f"{db.name}.damaged-*"))
    finally:
        holder.communicate("\n")
    fixed = run("doctor")
    assert fixed.exit_code == 0 and "moved the damaged database aside" in fixed.stdout, fixed.output
    assert sorted((t["audio_sha"], t["started_at"]) for t in snapshot()) == \
        sorted((t["audio_sha"], t["started_at"]) for t in stored)


def test_a_command_waits_for_doctor_s_swap_and_says_so_if_it_goes_on(stored):
    from starcoach.config import load_config

    db = load_config().paths.database
    holder = _holding("from starcoach.takes.rebuilding import without_users\n"
                      "swap = without_users(db); swap.__enter__()", db)
    try:
        started = time.monotonic()
        line = one_line(run("takes"), 1)
        assert line == (f"starcoach: `starcoach doctor` is putting the rebuilt takes database in place in {db.parent} "
                        "now; try again in a moment, when it has finished"), line
        assert time.monotonic() - started >= 2.9  # the store's wait for a lock
    finally:
        holder.communicate("\n")
    assert snapshot() == stored


@pytest.mark.parametrize("sql", ["DROP TABLE takes", "ALTER TABLE takes DROP COLUMN wpm",
                                 "ALTER TABLE takes RENAME TO kept"])
def test_a_schema_changed_by_hand_is_damage_doctor_repairs(stored, sql):
    """A database SQLite finds sound but without starcoach's takes table (or its columns):
    every command says to run doctor, and doctor rebuilds it from recordings/."""
    from starcoach.config import load_config

    db = load_config().paths.database
    with sqlite3.connect(db) as con:
        con.execute(sql)
    line = one_line(run("takes"), 1)
    assert "damaged" in line and "starcoach doctor" in line, line
    fixed = run("doctor")
    assert fixed.exit_code == 0, fixed.output
    assert "moved the damaged database aside" in fixed.stdout, fixed.stdout
    after = snapshot()
    assert sorted((t["audio_sha"], t["started_at"]) for t in after) == \
        sorted((t["audio_sha"], t["started_at"]) for t in stored)
    if "DROP COLUMN" in sql:  # rows salvaged, not re-indexed: the analysed take lists as before,
        # the dropped column read again from its analysis (it was left empty)
        assert [t for t in after if t["id"] == 1] == [t for t in stored if t["id"] == 1]
    assert run("doctor").stdout.startswith("database: ok")


@pytest.mark.parametrize("loss", ["emptied", "removed"])
def test_a_database_that_lost_its_rows_says_so_and_doctor_lists_the_takes_again(stored, loss):
    """A 0-byte or missing database file opens as a new, empty one: the listing must not read
    "No takes yet" while the recordings are on disk, and must name doctor, which lists them."""
    from starcoach.config import load_config

    db = load_config().paths.database
    for f in db.parent.glob(db.name + "*"):  # the file and its -wal / -shm
        f.unlink()
    if loss == "emptied":
        db.write_bytes(b"")
    for args in (("takes",), ("takes", "--json"), ("progress",)):
        result = run(*args)
        assert result.exit_code == 0, result.output
        warned = [ln for ln in result.stderr.splitlines() if ln.startswith("starcoach:")]
        assert len(warned) == 1 and "2 recordings" in warned[0] and "starcoach doctor" in warned[0], result.stderr
        assert "No takes yet" not in result.stdout
    assert json.loads(run("takes", "--json").stdout) == []
    fixed = run("doctor")
    assert fixed.exit_code == 0, fixed.output
    # finished takes whose rows were lost, not takes an interruption left
    assert fixed.stdout.count("re-indexed take") == 2 and "unfinished" not in fixed.stdout, fixed.stdout
    after = snapshot()
    assert sorted(t["audio_sha"] for t in after) == sorted(t["audio_sha"] for t in stored)
    assert "starcoach:" not in run("takes").stderr


def test_doctor_names_files_in_recordings_that_are_no_take_s_audio_and_adopts_none(stored):
    """A note saved as .wav, an empty .wav and a file in a folder of the user's became "failed"
    takes, each with a metadata file written beside it, and `takes` kept asking for doctor."""
    folder = Path(stored[0]["audio_path"]).parent
    junk = folder.parent / "junk"
    junk.mkdir()
    strays = [folder / "notes.wav", folder / "empty.wav", junk / "a.flac"]
    strays[0].write_text("remember the numbers")
    strays[1].write_bytes(b"")
    strays[2].write_bytes(os.urandom(3000))
    before = sorted(p for p in folder.parent.rglob("*") if p.is_file() and not p.name.startswith("starcoach.db"))
    result = run("doctor")
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    named = [ln for ln in result.stdout.splitlines() if "left as it is" in ln]
    assert sorted(named) == sorted(ln for ln in named if any(str(p) in ln for p in strays)) and len(named) == 3, named
    assert one_line(result, 1).startswith("starcoach: 3 problems")
    assert snapshot() == stored  # none made a take
    after = sorted(p for p in folder.parent.rglob("*") if p.is_file() and not p.name.startswith("starcoach.db"))
    assert after == before  # nothing written beside them, nothing removed
    assert "starcoach:" not in run("takes").stderr  # they are not lost takes


def test_doctor_indexes_a_take_wav_it_may_not_write(stored, monkeypatch):
    """A second review: doctor opened every unlisted take-*.wav for writing to repair its header,
    and a read-only one (another user's) stopped it with "permission denied"."""
    from starcoach.takes import doctor

    folder = Path(stored[0]["audio_path"]).parent
    theirs = folder / "take-235957.wav"
    sf.write(theirs, (np.sin(np.arange(16000) / 9) * 0.3).astype(np.float32), 16000)

    def read_only(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(doctor, "repair_wav", read_only)
    result = run("doctor")
    assert result.exit_code == 0 and "re-indexed take" in result.stdout, result.output
    assert str(theirs) in {t["audio_path"] for t in snapshot()}


def test_a_recording_damaged_further_on_is_still_a_take_for_takes_and_doctor(stored, tmp_path):
    """A FLAC cut short whose start still plays, no metadata beside it: it was judged no take's
    audio (only a file that decodes to its end was), so `takes` did not count it as a lost take and
    doctor told the user to move it out or delete it."""
    whole = tmp_path / "whole.flac"
    sf.write(whole, (np.sin(np.arange(16000 * 4) / 9) * 0.3).astype(np.float32), 16000, format="FLAC")
    folder = Path(stored[0]["audio_path"]).parent
    cut = folder / "take-235958.flac"
    cut.write_bytes(whole.read_bytes()[:int(whole.stat().st_size * 0.7)])
    assert "1 recording under" in run("takes").stderr
    result = run("doctor")
    assert result.exit_code == 1 and "left as it is" not in result.stdout, result.output
    assert "re-indexed take" in result.stdout and "its audio cannot be read" in result.stdout
    assert cut.exists() and str(cut) in {t["audio_path"] for t in snapshot()}


def test_doctor_adopts_a_recording_whose_writer_died_when_its_metadata_is_gone_too(stored):
    """Our recorder's take-*.wav whose header promises more than was written (a crash), its metadata
    file lost as well: doctor makes its header whole, as recover does for a take it knows, and
    indexes it, rather than naming it as no take's audio (as e9c0784 did: "holding less audio than
    its header says")."""
    folder = Path(stored[0]["audio_path"]).parent
    samples = (np.sin(np.arange(16000 * 2) / 9) * 8000).astype("<i2").tobytes()
    raw = bytearray(wav_bytes(data=samples))
    raw[40:44] = struct.pack("<I", len(samples) * 4)  # the size it meant to reach: more than was written
    raw[4:8] = struct.pack("<I", 36 + len(samples) * 4)
    crashed = folder / "take-235959.wav"
    crashed.write_bytes(bytes(raw))
    result = run("doctor")
    assert result.exit_code == 0, result.output
    assert "re-indexed take" in result.stdout and "left as it is" not in result.stdout, result.stdout
    listed = {t["audio_path"]: t for t in snapshot()}
    assert str(crashed) in listed and listed[str(crashed)]["duration_s"] == pytest.approx(2.0, abs=0.01)


def test_an_import_still_analysing_is_not_a_lost_row(stored):
    """Between its copy and its row, an import's audio is in recordings/ unlisted: neither the
    warning nor doctor may take it for a lost row (doctor indexing it made the import fail)."""
    from starcoach.takes import sidecar

    audio = Path(stored[0]["audio_path"]).with_name("take-999999.wav")
    sf.write(audio, np.zeros(16000, dtype=np.float32), 16000)
    importer = starcoach_stand_in()
    try:
        sidecar.write(audio, {"status": "importing", "pid": importer.pid, "source": "import"})
        assert "starcoach:" not in run("takes").stderr
        assert run("doctor").exit_code == 0
        assert snapshot() == stored  # not indexed
    finally:
        importer.kill()
        importer.wait()
    assert "1 recording under" in run("takes").stderr  # its process gone: a lost row, said so
    sidecar.write(audio, {"status": "importing", "pid": "12x", "source": "import"})  # damaged: owns nothing
    assert "1 recording under" in run("takes").stderr


def test_delete_removes_row_audio_and_metadata(stored):
    audio = Path(stored[0]["audio_path"])
    result = run("delete", "1", "--yes")
    assert result.exit_code == 0, result.output
    assert not audio.exists() and not list(audio.parent.glob(audio.name.split(".")[0] + ".*"))
    assert [t["id"] for t in snapshot()] == [2]


def test_delete_names_the_exports_left_beside_the_audio(stored):
    """An audit (session 53): `export` with no -o writes beside the take's audio in recordings/; `delete`
    said only "deleted take 1" and left them, the page holding the whole recording. They may be the
    user's own (an edited rewrite), so they are named, not removed."""
    audio = Path(stored[0]["audio_path"])
    for fmt in ("json", "html"):
        assert run("export", "1", "--format", fmt).exit_code == 0
    result = run("delete", "1", "--yes")
    assert result.exit_code == 0, result.output
    stem = audio.name.split(".")[0]
    assert (f"starcoach: left its exports beside where its audio was: {stem}.json, {stem}.html (the page holds "
            f"the recording), in {audio.parent}; remove them if they should go too") in result.stderr, result.stderr
    assert not audio.exists() and audio.with_suffix(".json").is_file() and audio.with_suffix(".html").is_file()
    assert "exports" not in run("delete", "2", "--yes").stderr  # none of its own: nothing said


def test_a_take_whose_recordings_setting_changed_since_says_where_its_audio_is(stored, home):
    """An audit (session 53): after `[paths] recordings` was pointed at a new folder, every earlier take's
    audio read as missing, and doctor advised deleting the takes; the files were in the old folder."""
    audio = Path(stored[0]["audio_path"])
    (home / "newrec").mkdir()
    config_replace(home, 'recordings = "recordings"', 'recordings = "newrec"')
    moved = (f"it is in {audio}, where [paths] recordings pointed when it was made: set that back in "
             f"{home / 'config.toml'}, or move the date folders of {home / 'recordings'} into {home / 'newrec'}")
    line = one_line(run("play", "1"), 1)
    assert line == f"starcoach: take 1's audio {home / 'newrec' / audio.relative_to(home / 'recordings')} is missing: " \
        f"{moved}", line
    assert moved in one_line(run("export", "1", "--format", "html", "-o", str(home / "p.html")), 1)
    checked = run("doctor")
    assert checked.exit_code == 1 and f"take 1: its audio file is missing; {moved}" in checked.stdout, checked.output
    assert "(or set [paths] recordings back, as above)" in checked.stderr, checked.stderr
    # a database kept elsewhere all along (a review): the audio is found in the home's default folder
    (home / "db").mkdir()
    for f in (home / "recordings").glob("starcoach.db*"):
        f.rename(home / "db" / f.name)
    config_replace(home, 'database = "recordings/starcoach.db"', 'database = "db/starcoach.db"')
    assert moved in one_line(run("play", "1"), 1)
    config_replace(home, 'recordings = "newrec"', 'recordings = "recordings"')
    assert snapshot() == stored  # nothing moved, nothing lost


class LockTakenLate:
    """A store's database connection that runs ``before_lock`` (once) just before it takes the
    write lock: what another process does in that moment."""

    def __init__(self, db, before_lock: Callable[[], object]) -> None:
        self._db, self._before = db, [before_lock]

    def execute(self, sql, *args):
        if sql.startswith("BEGIN IMMEDIATE") and self._before:
            self._before.pop()()
        return self._db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._db, name)


def test_of_two_deletes_of_one_take_only_the_one_that_deleted_it_says_so(stored, monkeypatch):
    """Two `delete 1` at once both read the take, then took the write lock in turn: both said
    "deleted take 1" and exited 0. Made certain here: another process deletes the take just
    before this one takes the lock."""
    import subprocess
    import sys

    from starcoach.takes import session

    audio = Path(stored[0]["audio_path"])
    real_open, other = session.open_store, []

    def another_delete_first(config):
        store = real_open(config)
        store.db = LockTakenLate(store.db, lambda: other.append(subprocess.run(
            [sys.executable, "-m", "starcoach", "delete", "1", "--yes"], capture_output=True, text=True, timeout=120)))
        return store

    monkeypatch.setattr(session, "open_store", another_delete_first)
    line = one_line(run("delete", "1", "--yes"), 1)
    assert line == "starcoach: take 1 is already gone: another starcoach process deleted it just now", line
    assert (other[0].returncode, other[0].stderr) == (0, "deleted take 1\n")
    assert not audio.exists() and not list(audio.parent.glob(audio.name.split(".")[0] + ".*"))
    assert [t["id"] for t in snapshot()] == [2]


def test_delete_never_removes_a_file_outside_recordings_that_a_row_points_to(stored, tmp_path):
    """A damaged or edited database (or an older release's absolute path) can point a take
    anywhere: deleting the take removes its row and leaves that file, and says so."""
    import sqlite3

    recordings = Path(stored[0]["audio_path"]).parents[1]
    outside = tmp_path / "outside"
    outside.mkdir()
    victims = [outside / "notes.txt", outside / "interview.wav"]
    for v in victims:
        v.write_bytes(b"precious")
        sidecar_file = v.with_name(v.stem + ".meta.json")
        sidecar_file.write_text("{}")
    db = sqlite3.connect(recordings / "starcoach.db")
    rel = Path("..") / ".." / victims[0].relative_to(tmp_path)  # from recordings/ up to tmp_path
    assert (recordings / rel).resolve() == victims[0].resolve()
    db.execute("UPDATE takes SET audio_path = ? WHERE id = 1", (str(rel),))
    db.execute("UPDATE takes SET audio_path = ? WHERE id = 2", (str(victims[1]),))
    db.commit()
    db.close()
    for take, victim in zip(("1", "2"), victims):
        result = run("delete", take, "--yes")
        assert result.exit_code == 0, result.output
        assert victim.read_bytes() == b"precious" and victim.with_name(victim.stem + ".meta.json").exists()
        said = " ".join(result.stderr.split())
        assert "starcoach: left " in said and victim.name in said and "not a take's own audio" in said, said
        assert "Traceback" not in result.output
    assert snapshot() == []


def test_doctor_names_a_recording_whose_name_the_database_cannot_hold(stored):
    """A recording whose file name is not UTF-8 was "unexpected error (UnicodeEncodeError ...);
    this is a bug" from doctor, and doctor did nothing else."""
    import shutil

    audio = Path(stored[0]["audio_path"])
    odd = audio.with_name(os.fsdecode(b"take-\xff.wav"))
    shutil.copy(audio, odd)
    result = run("doctor")
    assert result.exit_code == 1 and "this is a bug" not in result.output, result.output  # 1: it needs you
    said = [ln for ln in result.stdout.splitlines() if "not UTF-8 text" in ln]
    assert len(said) == 1 and "take-\\xff.wav" in said[0] and "rename it" in said[0], result.stdout
    assert odd.exists() and snapshot() == stored
    # and `takes` sends the user there to rename it, not back to doctor (which said to rename it)
    listed = run("takes")
    assert listed.exit_code == 0 and "run `starcoach doctor` to list it again" not in listed.stderr, listed.stderr
    assert "cannot hold (not UTF-8 text): rename it, then run `starcoach doctor` to list it\n" in listed.stderr, \
        listed.stderr


def test_delete_keeps_a_metadata_file_another_take_s_audio_shares_a_name_with(stored):
    """A row pointing at a missing "take-X.flac" beside take 2's "take-X.wav": the metadata file
    "take-X.meta.json" is take 2's, and was deleted with the row."""
    import sqlite3

    other = Path(stored[1]["audio_path"])
    recordings = other.parents[1]
    meta = other.with_name(other.name.split(".")[0] + ".meta.json")
    assert meta.exists()
    twin = other.with_name(other.name.split(".")[0] + (".flac" if other.suffix != ".flac" else ".wav"))
    db = sqlite3.connect(recordings / "starcoach.db")
    db.execute("UPDATE takes SET audio_path = ? WHERE id = 1", (str(twin.relative_to(recordings)),))
    db.commit()
    db.close()
    assert run("delete", "1", "--yes").exit_code == 0
    assert meta.exists() and other.exists()


def test_delete_does_not_follow_dots_out_through_a_linked_date_folder(stored, tmp_path):
    """A linked date folder and ".." in the row: the name stays in recordings/, the file is elsewhere."""
    import sqlite3

    recordings = Path(stored[0]["audio_path"]).parents[1]
    deep = tmp_path / "ext" / "deep"
    deep.mkdir(parents=True)
    victim = tmp_path / "ext" / "song.wav"
    victim.write_bytes(b"precious")
    (recordings / "2099-01-01").symlink_to(deep, target_is_directory=True)
    db = sqlite3.connect(recordings / "starcoach.db")
    db.execute("UPDATE takes SET audio_path = ? WHERE id = 1", ("2099-01-01/../song.wav",))
    db.commit()
    db.close()
    assert (recordings / "2099-01-01" / ".." / "song.wav").exists()  # the OS follows the link first
    result = run("delete", "1", "--yes")
    assert result.exit_code == 0 and "not a take's own audio" in " ".join(result.stderr.split())
    assert victim.read_bytes() == b"precious"


@pytest.mark.parametrize("target", ["the database", "a date folder", "another take's metadata"])
def test_delete_never_removes_what_is_not_the_take_s_own_audio_inside_recordings(stored, target):
    """Inside recordings/ too: a row pointing at the database deleted it, at a date folder set
    the whole folder aside, at another take's files removed them."""
    import sqlite3

    other = Path(stored[1]["audio_path"])
    recordings = other.parents[1]
    path = {"the database": recordings / "starcoach.db", "a date folder": other.parent,
            "another take's metadata": other.with_name(other.stem + ".meta.json")}[target]
    before = sorted(p.name for p in recordings.rglob("*") if not p.name.startswith("starcoach.db"))
    db = sqlite3.connect(recordings / "starcoach.db")
    db.execute("UPDATE takes SET audio_path = ? WHERE id = 1", (str(path.relative_to(recordings)),))
    db.commit()
    db.close()
    result = run("delete", "1", "--yes")
    assert result.exit_code == 0, result.output
    assert "not a take's own audio" in " ".join(result.stderr.split()), result.stderr
    assert sorted(p.name for p in recordings.rglob("*") if not p.name.startswith("starcoach.db")) == before
    assert [t["id"] for t in snapshot()] == [2]


def test_delete_through_a_date_folder_that_links_to_another_disk(stored, tmp_path):
    """A date folder may be a link to another disk: the take's audio there is still its own."""
    audio = Path(stored[0]["audio_path"])
    day = audio.parent
    elsewhere = tmp_path / "other-disk" / day.name
    elsewhere.parent.mkdir()
    day.rename(elsewhere)
    day.symlink_to(elsewhere, target_is_directory=True)
    result = run("delete", "1", "--yes")
    assert result.exit_code == 0 and "starcoach: left" not in result.stderr, result.output
    assert not (elsewhere / audio.name).exists() and not (elsewhere / (audio.stem + ".meta.json")).exists()


@pytest.mark.parametrize("damage", ["{broken", "", "[1, 2]", '{"audio": "../elsewhere.wav"}', "\xff\xfe"])
def test_recover_keeps_a_finished_take_whose_metadata_is_damaged(stored, damage):
    """A metadata file is written whole or not at all, so a damaged one was not left by an
    interruption: recover writes it again from the take's row and removes nothing."""
    from starcoach.takes import sidecar

    audio = Path(stored[0]["audio_path"])
    meta_file = sidecar.sidecar_path(audio)
    good = sidecar.read(meta_file)
    meta_file.write_bytes(damage.encode("latin-1"))
    result = run("recover")
    assert result.exit_code == 0, result.output
    assert "removed" not in result.output.lower(), result.output
    assert snapshot() == stored
    restored = sidecar.read(meta_file)
    assert restored is not None
    assert {k: restored[k] for k in ("audio", "question_id", "started_at", "source", "status")} == \
        {k: good[k] for k in ("audio", "question_id", "started_at", "source", "status")}


def test_recover_rewrites_the_metadata_a_full_disk_left_saying_recording(stored):
    """A take's metadata is rewritten as it finishes, best effort: on a full disk that write fails
    and the file kept saying "recording", under the pid of a process long gone, though the take is
    complete (and a database rebuilt from the metadata would take it for an unfinished one).
    recover writes it again from the row once there is room; a file a live process owns stays."""
    import subprocess
    import sys

    from starcoach.takes import sidecar

    audio = Path(stored[0]["audio_path"])
    meta_file = sidecar.sidecar_path(audio)
    before = sidecar.read(meta_file)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert before["id"] == stored[0]["id"]
    older = {k: v for k, v in before.items() if k != "id"}  # as stored before the metadata kept the id
    sidecar.write(audio, older | {"status": "recording", "pid": int(dead.stdout)})
    live = starcoach_stand_in()
    other = Path(stored[1]["audio_path"])
    owned = sidecar.read(sidecar.sidecar_path(other)) | {"status": "importing", "pid": live.pid}
    sidecar.write(other, owned)
    try:
        result = run("recover")
        assert result.exit_code == 0, result.output
        after = sidecar.read(meta_file)
        assert after == before | {"status": stored[0]["status"], "pid": None}, (before, after)
        assert sidecar.read(sidecar.sidecar_path(other)) == owned | {"audio": other.name}
    finally:
        live.kill()
        live.wait()
    assert snapshot() == stored


def test_a_take_is_listed_under_every_principle_its_question_serves(home, tmp_path):
    """takes and progress --lp matched only the first of a question's principles (the one stored
    with the take), while coverage counted the take under all of them; a display name with a
    character the key spells otherwise ("Café Culture ☕") was refused."""
    (home / "mine.toml").write_text('[principles]\ncafe-culture = "Café Culture ☕"\n\n'
                                    '[[question]]\nid = "uni-1"\ntext = "Tell me about a café."\n'
                                    'principles = ["cafe-culture"]\n', encoding="utf-8")
    config_replace(home, 'questions = ""', 'questions = "mine.toml"')
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, np.zeros(16000, dtype=np.float32), 16000)
    assert run("import", quiet, "--question", "conflict-2").exit_code == 3  # earn trust, have backbone
    assert run("import", quiet, "--question", "uni-1").exit_code == 3

    def listed(*args):
        result = run("takes", "--json", *args)
        assert result.exit_code == 0, result.output
        return [t["id"] for t in json.loads(result.stdout)]

    assert listed("--lp", "earn-trust") == [1] and listed("--lp", "have-backbone") == [1]
    assert listed("--lp", "Have Backbone; Disagree and Commit") == [1] and listed("--lp", "dive-deep") == []
    assert listed("--lp", "Café Culture ☕") == [2] and listed("--lp", "cafe") == [2]


def test_a_missing_question_file_stops_only_what_needs_the_questions(stored, home):
    """An audit: with the user's question file gone, `takes` (and `progress`) refused to list anything, though only
    `--lp` needs the questions (`show`, `compare` and `export` worked); the line did not say what to do."""
    config_replace(home, 'questions = ""', 'questions = "mine.toml"')  # named, and not there
    listed = run("takes", "--json")
    assert listed.exit_code == 0 and [t["id"] for t in json.loads(listed.stdout)] == [1, 2], listed.output
    assert run("takes").exit_code == 0 and run("progress").exit_code == 0
    by_lp = run("takes", "--lp", "ownership")
    lines = by_lp.output.strip().splitlines()
    assert by_lp.exit_code == 1 and len(lines) == 1 and lines[0].startswith("starcoach: question file "), lines
    assert "does not exist: put it back, or set questions = \"\"" in lines[0], lines
    assert snapshot() == stored

def test_takes_are_in_the_order_they_were_made_across_time_zones(home, tmp_path, monkeypatch):
    """Takes were sorted by the text of their local start time: one made in Tokyo, then one in Los
    Angeles a minute later, listed the second first, and compare and progress ran backwards."""
    quiet = tmp_path / "quiet.wav"
    sf.write(quiet, np.zeros(16000, dtype=np.float32), 16000)
    was = os.environ.get("TZ")
    try:
        for zone in ("Asia/Tokyo", "America/Los_Angeles"):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            assert run("import", quiet, "--question", "deep-1").exit_code == 3
    finally:
        if was is None:
            monkeypatch.delenv("TZ")
        else:
            monkeypatch.setenv("TZ", was)
        time.tzset()
    takes = json.loads(run("takes", "--json").stdout)
    assert [t["started_at"][-6:] for t in takes] == ["+09:00", "-08:00"]  # the later one's text sorts first
    assert [t["id"] for t in takes] == [1, 2]


def test_a_known_question_with_no_takes_is_an_empty_list_and_a_taken_one_lists_its_takes(home, stored):
    listed = run("takes", "--json", "--question", "deep-1")
    assert listed.exit_code == 0 and json.loads(listed.stdout) == [], listed.output
    said = run("takes", "--question", "deep-1")  # "No takes yet. Record one...", with two takes stored
    assert said.exit_code == 0 and "No takes match (of 2 takes in all" in said.stdout, said.output
    assert run("progress", "--question", "deep-1").exit_code == 0
    # a take whose question is no longer in the bank (a user's own, since deleted) is still listed
    db = sqlite3.connect(home / "recordings" / "starcoach.db", isolation_level=None)
    db.execute("UPDATE takes SET question_id = 'my-old-question' WHERE id = 1")
    db.close()
    listed = run("takes", "--json", "--question", "my-old-question")
    assert listed.exit_code == 0 and [t["id"] for t in json.loads(listed.stdout)] == [1], listed.output


def test_export_to_standard_output_is_the_file_s_content_and_creates_no_folder(tmp_path, stored):
    on_disk = tmp_path / "t.json"
    assert run("export", "1", "-f", "json", "-o", on_disk).exit_code == 0
    shown = run("export", "1", "-f", "json", "-o", "-")
    assert shown.exit_code == 0 and shown.stdout == on_disk.read_text(), shown.output
    assert not (Path.cwd() / "-").exists()
    assert run("export", "1", "-o", tmp_path / "nope" / "x.md").exit_code == 1
    assert not (tmp_path / "nope").exists()


@pytest.mark.parametrize("fmt", ["md", "txt", "srt", "vtt"])
def test_a_take_with_no_speech_has_no_transcript_to_export(tmp_path, stored, fmt):
    """The text formats are made of the words: for a take with none, one line naming the
    formats that keep its analysis, and no file (before: an empty .srt)."""
    target = tmp_path / f"t.{fmt}"
    line = one_line(run("export", "1", "-f", fmt, "-o", target), 1)
    assert "no speech" in line and "json" in line, line
    assert not target.exists()
    assert one_line(run("export", "1", "-f", fmt, "-o", "-"), 1) == line
    assert run("export", "1", "-f", "json", "-o", tmp_path / "t.json").exit_code == 0
    assert snapshot() == stored


@pytest.mark.parametrize("fmt", ["md", "txt", "srt", "vtt"])
def test_a_take_of_fillers_alone_has_no_transcript_to_export(tmp_path, stored, fmt):
    """Fillers and no other word: no sentence holds them, so md would be placeholders and srt empty."""
    from starcoach.config import load_config

    db = sqlite3.connect(load_config().paths.database, isolation_level=None)
    doc = json.loads(db.execute("SELECT analysis_json FROM takes WHERE id = 1").fetchone()[0])
    doc["words"] = [{"text": "Um.", "start": 0.2, "end": 0.6, "prob": 0.9, "filler": True}]
    db.execute("UPDATE takes SET analysis_json = ? WHERE id = 1", (json.dumps(doc),))
    db.close()
    for clean in ([], ["--clean"]):
        line = one_line(run("export", "1", "-f", fmt, *clean, "-o", tmp_path / f"t.{fmt}"), 1)
        assert "only fillers" in line, line
    assert not (tmp_path / f"t.{fmt}").exists()


def test_takes_without_speech_are_not_points_of_progress_nor_compared(stored):
    """The seeded takes are silence: listed as takes, but neither a point of progress (a pace
    of 0 would drag every trend) nor something to compare."""
    assert [t["id"] for t in stored] == [1, 2]
    assert "No analysed takes with speech yet." in run("progress").stdout
    line = one_line(run("compare", "1", "2"), 1)
    assert "take 1 has no speech" in line, line
    row = next(ln for ln in run("takes").stdout.splitlines() if ln.split()[:1] == ["1"])  # not 0 wpm, rating 1
    assert "no speech" in row and " 0 " not in row and "0/4" not in row, row


def test_export_without_a_format_takes_it_from_the_file_name(tmp_path, stored):
    assert run("export", "1", "-o", tmp_path / "t.json").exit_code == 0
    assert json.loads((tmp_path / "t.json").read_text())["take"]["id"] == 1
    assert run("export", "1", "-o", tmp_path / "t.html").exit_code == 0
    assert (tmp_path / "t.html").read_text().lstrip().lower().startswith("<!doctype html")
    line = one_line(run("export", "1", "-o", tmp_path / "t.notes"), 1)  # no known suffix: md, as before
    assert "as md" in line, line


def test_a_deleted_take_s_id_is_never_given_to_another(tmp_path, stored):
    """Deleting the newest take and importing another: the new take gets a new id, so a
    retried `delete 2 --yes` cannot reach it."""
    assert run("delete", "2", "--yes").exit_code == 0
    assert run("import", SILENCE(tmp_path)).exit_code == 3  # silence: stored, and said so
    assert [t["id"] for t in snapshot()] == [1, 3]
    assert one_line(run("delete", "2", "--yes"), 1) == "starcoach: no take with id 2 (see `starcoach takes`)"
    assert [t["id"] for t in snapshot()] == [1, 3]


@pytest.mark.parametrize("value", ["'abc'", "X'00ff'", "'1e999'", "2.5"])
def test_a_number_column_holding_something_else_reads_as_unknown(home, stored, value):
    """An edited or damaged row (SQLite keeps whatever a column is given) must not stop the
    listings: the value reads as unknown."""
    db = sqlite3.connect(home / "recordings" / "starcoach.db", isolation_level=None)
    db.execute(f"UPDATE takes SET wpm = {value}, filler_count = {value}, overflows = {value} WHERE id = 1")
    db.close()
    for args in (["takes"], ["takes", "--json"], ["progress"], ["show", "1"], ["show", "1", "--json"]):
        result = run(*args)
        assert result.exit_code == 0 and "starcoach:" not in result.stderr, (args, result.output)
    take = json.loads(run("takes", "--json").stdout)[0]
    assert take["overflows"] == 0 and take["filler_count"] is None  # 2.5 is no count
    assert take["wpm"] == (2.5 if value == "2.5" else None)


def test_delete_that_cannot_remove_the_audio_keeps_the_take(stored, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    with monkeypatch.context() as m:  # a folder that refuses changes: no unlink, no rename
        m.setattr(Path, "unlink", refuse)
        m.setattr(Path, "replace", refuse)
        m.setattr(Path, "rename", refuse)
        line = one_line(run("delete", "1", "--yes"), 1)
    assert "permission denied" in line.lower()
    # the folder is named: removing or renaming needs it writable, where the file may be fine
    assert re.search(r"check the owner and mode of the file and of its folder \(/\S+/recordings/[\d-]+\)$", line), line
    assert snapshot() == stored


@pytest.mark.parametrize("fmt, says", [("json", "a JSON document"), ("html", "a web page or XML document")])
def test_check_of_starcoachs_own_export_points_to_the_md_one(stored, tmp_path, fmt, says):
    """An audit: `check` scored its own json export as a 2,006-word answer, the html page's CSS and
    script as one of 1,814 words (exit 0)."""
    out = tmp_path / f"take.{fmt}"
    assert run("export", str(stored[0]["id"]), "-f", fmt, "-o", str(out)).exit_code == 0
    line = one_line(run("check", str(out)), 1)
    assert f"{says}, not a written answer" in line and "export TAKE --format md" in line, line


def test_play_of_a_take_whose_audio_is_missing_says_so_first(stored):
    """An audit: with no speakers either, `play` named the missing device and not the missing file."""
    Path(stored[0]["audio_path"]).unlink()
    line = one_line(run("play", str(stored[0]["id"])), 1)
    assert f"take {stored[0]['id']}'s audio" in line and "is missing" in line and "starcoach doctor" in line, line


def aside(audio: Path) -> Path:
    """Where delete sets a take's audio until its row is gone."""
    return audio.with_name(audio.name + ".deleted")


def test_recover_finishes_or_undoes_a_delete_an_interruption_cut_off(home, stored):
    """delete sets the audio aside in the transaction that removes the row, and removes it after
    the commit. Killed after the commit, it left the aside and the metadata: recover called the
    metadata "interrupted before its audio was complete" and kept the aside for ever. Killed
    before, it left the take listed (the transaction never committed) with its audio aside:
    nothing put it back."""
    gone, kept = Path(stored[0]["audio_path"]), Path(stored[1]["audio_path"])
    gone.replace(aside(gone))  # take 1: the row's delete committed, then the kill
    db = sqlite3.connect(home / "recordings" / "starcoach.db", isolation_level=None)
    db.execute("DELETE FROM takes WHERE id = 1")
    db.close()
    kept.replace(aside(kept))  # take 2: killed before its delete committed
    result = run("recover")
    assert result.exit_code == 0, result.output
    assert "interrupted before its audio" not in result.stderr, result.stderr
    assert "kept take 2" in result.stderr and "removed" in result.stderr, result.stderr
    assert not list(gone.parent.glob(gone.name.split(".")[0] + ".*"))  # audio, metadata, aside: all gone
    assert kept.is_file() and not aside(kept).exists()
    assert snapshot() == stored[1:]
    assert run("recover").stderr.strip() == "nothing to recover"


def test_recover_waits_for_a_delete_still_running_before_it_judges_the_aside(home, stored):
    """An aside is judged under the database's write lock: a delete another process is in the
    middle of (row deleted, audio aside, not yet committed) is seen committed, so its audio is
    not put back under a row that is about to be gone."""
    import subprocess
    import sys

    audio = Path(stored[0]["audio_path"])
    other = sqlite3.connect(home / "recordings" / "starcoach.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("DELETE FROM takes WHERE id = 1")
    audio.replace(aside(audio))
    recovering = subprocess.Popen([sys.executable, "-m", "starcoach", "recover"], stderr=subprocess.PIPE,
                                  text=True)
    db = (home / "recordings" / "starcoach.db").resolve()
    for _ in range(200):  # until it has the database open; then it waits on the lock (up to 3 s)
        fds = Path(f"/proc/{recovering.pid}/fd")
        if any(os.path.realpath(f) == str(db) for f in fds.glob("*")):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    other.execute("COMMIT")
    other.close()
    _, err = recovering.communicate(timeout=60)
    assert recovering.returncode == 0, err
    assert "kept take" not in err and "removed" in err, err
    assert not audio.exists() and not aside(audio).exists()
    assert [t["id"] for t in snapshot()] == [2]


def test_delete_that_fails_after_the_audio_is_set_aside_loses_nothing_listed(stored, monkeypatch):
    """A step that fails once the audio is gone must not leave the take listed without it:
    the audio only goes for good after the row does (a metadata file that is a folder failed
    the delete, rolled the row back and left it listed with its audio deleted)."""
    from starcoach.takes import sidecar

    audio = Path(stored[0]["audio_path"])
    meta = sidecar.sidecar_path(audio)
    meta.unlink(missing_ok=True)
    meta.mkdir()
    result = run("delete", "1", "--yes")
    assert result.exit_code == 0, result.output
    warned = [ln for ln in result.stderr.splitlines() if ln.startswith("starcoach:")]
    assert len(warned) == 1 and str(meta) in warned[0] and "by hand" in warned[0], result.stderr
    assert [t["id"] for t in snapshot()] == [2]
    assert not audio.exists() and not audio.with_name(audio.name + ".deleted").exists()
    checked = run("doctor")
    assert checked.exit_code == 0 and "missing" not in checked.stdout, checked.stdout

    def fail_commit(self, take_id, *, remove_files=None):  # the row cannot go: the audio comes back
        remove_files(self.get(take_id))
        raise sqlite3.OperationalError("disk I/O error")

    from starcoach.takes import store as store_module

    second = Path(stored[1]["audio_path"])
    before = second.read_bytes()
    with monkeypatch.context() as m:
        m.setattr(store_module.Store, "delete", store_module._sql(fail_commit))
        one_line(run("delete", "2", "--yes"), 1)
    assert second.read_bytes() == before and [t["id"] for t in snapshot()] == [2]


def test_broken_alsa_is_one_line(monkeypatch, stored):
    from starcoach.audio import portaudio

    monkeypatch.setattr(portaudio, "_PROBED", [])
    monkeypatch.setenv("ALSA_CONFIG_PATH", "/dev/null")
    for command in (["devices"], ["record", "--seconds", "1"], ["play", "1"]):
        line = one_line(run(*command), 1)
        assert "sound system" in line and "ALSA" in line
    assert snapshot() == stored


def test_commands_that_need_no_device_never_import_sounddevice(stored, tmp_path):
    import subprocess
    import sys

    code = ("import sys\n"
            "from typer.testing import CliRunner\n"
            "from starcoach.cli import app\n"
            "for args in (['takes'], ['show', '1'], ['questions'], ['check', '/dev/zero'], ['recover'],\n"
            "             ['export', '1', '-f', 'txt', '-o', sys.argv[1], '--force'], ['show', 'abc']):\n"
            "    r = CliRunner().invoke(app, args)\n"
            "    assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.exception)\n"
            "    assert 'sounddevice' not in sys.modules, f'sounddevice imported by {args}'\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.txt")], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, ALSA_CONFIG_PATH="/dev/null"))
    assert r.returncode == 0, r.stderr


def test_reading_the_settings_does_not_load_the_star_tagger(stored):
    """The [star] settings' defaults once imported the tagger (and its features) at every
    command's start, `questions` and `takes` included."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from starcoach.cli import app\n"
            "for args in (['questions'], ['takes']):\n"
            "    try:\n"
            "        app(args)\n"
            "    except SystemExit as exc:\n"
            "        assert not exc.code, (args, exc.code)\n"
            "    assert 'starcoach.analysis.star_tagger' not in sys.modules, f'the tagger loaded by {args}'\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_leftovers_of_an_interrupted_import_are_removed(stored):
    from starcoach.takes import sidecar

    folder = Path(stored[0]["audio_path"]).parent
    cut = folder / "take-000001.flac"
    sidecar.write(cut, {"source": "import", "status": "importing", "pid": 999_999_999})
    sidecar.partial_path(cut).write_bytes(b"fLaC" + b"\x00" * 500)
    result = run("recover")
    assert result.exit_code == 0, result.output
    assert not sidecar.partial_path(cut).exists() and not sidecar.sidecar_path(cut).exists()
    assert snapshot() == stored


def test_an_import_killed_after_its_copy_is_indexed_by_recover(tmp_path, stored):
    from starcoach.takes import sidecar

    folder = Path(stored[0]["audio_path"]).parent
    whole = folder / "take-000002.flac"
    sf.write(whole, np.zeros(16000, dtype=np.float32), 16000)
    sidecar.write(whole, {"source": "import", "status": "importing", "question_id": "deep-1",
                          "started_at": "2026-12-01T10:00:00+00:00", "pid": 999_999_999})
    result = run("recover")
    assert result.exit_code == 0, result.output
    after = sorted(snapshot(), key=lambda t: t["id"])
    assert after[:2] == stored
    assert after[-1]["question_id"] == "deep-1" and after[-1]["status"] == "complete"
    assert after[-1]["duration_s"] == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("rate", [8000, 44100, 48000])
def test_recover_reads_the_length_from_the_header(stored, rate):
    from starcoach.config import load_config
    from starcoach.takes import sidecar
    from starcoach.takes.newtake import new_take
    from starcoach.takes.session import open_store

    cfg = load_config()
    path = new_take(cfg, {"source": "record"})
    with open_store(cfg) as store:
        tid = store.begin_take(audio_path=path, question_id=None, question_text=None, principles=())
        store.db.execute("UPDATE takes SET pid = NULL WHERE id = ?", (tid,))
    part = sidecar.partial_path(path)
    sf.write(part, np.zeros((rate * 2, 2), dtype=np.int16), rate, format="WAV", subtype="PCM_16")
    raw = bytearray(part.read_bytes())
    pos = raw.index(b"data")
    raw[pos + 4:pos + 8] = b"\x00\x00\x00\x00"  # the writer died before it wrote the sizes
    part.write_bytes(bytes(raw))
    result = run("recover")
    assert result.exit_code == 0, result.output
    take = snapshot()[-1]
    assert take["id"] == tid and take["status"] == "recovered"
    assert take["duration_s"] == pytest.approx(2.0, abs=0.01)
    assert Path(take["audio_path"]) == path and path.exists() and not part.exists()


def test_inverted_phase_stereo_is_not_silence(tmp_path):
    from starcoach.audio.decode import load_audio

    t = np.arange(44100 * 2) / 44100
    voice = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2
    p = tmp_path / "inverted.wav"
    sf.write(p, np.stack([voice, -voice], axis=1).astype(np.float32), 44100)
    audio = load_audio(p)
    assert audio.channel_used in (0, 1)
    assert np.sqrt(np.mean(audio.samples ** 2)) > 0.05
    normal = tmp_path / "normal.wav"
    sf.write(normal, np.stack([voice, voice * 0.5], axis=1).astype(np.float32), 44100)
    assert load_audio(normal).channel_used is None


@pytest.mark.parametrize("other_db, kept", [(None, 0), (-70.0, 0), (-21.0, 0), (-19.0, None), (-6.0, None)])
def test_one_microphone_on_a_two_input_interface_is_read_at_its_own_level(tmp_path, other_db, kept):
    """An audit: a microphone on input 1 and nothing on input 2 (or only its hiss), mixed, halved every
    sample: a channel driven into clipping read -6 dBFS and nothing clipped, and speech at -42 dBFS was
    called quiet. A channel 20 dB or more under the other is left out; one closer to it is mixed in."""
    from starcoach.audio.decode import load_audio
    from starcoach.audio.stats import signal_stats

    t = np.arange(16000 * 2) / 16000
    voice = np.clip(1.6 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2, -1, 1)
    other = np.zeros_like(voice) if other_db is None else \
        np.random.default_rng(0).normal(0, 1, len(t)) * np.sqrt(np.mean(voice ** 2)) * 10 ** (other_db / 20)
    p = tmp_path / "two-inputs.wav"
    sf.write(p, np.stack([voice, other], axis=1).astype(np.float32), 16000, subtype="FLOAT")
    audio = load_audio(p)
    assert audio.channel_used == kept
    stats = signal_stats(audio.samples)
    if kept is None:
        assert np.allclose(audio.samples, np.clip((voice + other) / 2, -1, 1), atol=1e-5)  # mixed, as before
    else:
        assert np.allclose(audio.samples, voice, atol=1e-6)
        assert stats.peak > 0.999 and stats.clipped > 0.1 * len(voice)


def test_a_decoder_failure_of_any_kind_is_an_audio_error(tmp_path, monkeypatch):
    import av

    from starcoach.audio.decode import load_audio
    from starcoach.domain.errors import AudioError

    def boom(*a, **k):
        raise AttributeError("'NoneType' object has no attribute 'format'")

    monkeypatch.setattr(av, "AudioResampler", boom)
    p = tmp_path / "ok.flac"
    sf.write(p, np.zeros(16000, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="AttributeError"):
        load_audio(p)


def test_an_unexpected_exception_is_one_line_with_its_type(monkeypatch, stored):
    from starcoach.takes import store as store_module

    def broken(self, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(store_module.Store, "list", broken)
    line = one_line(run("takes"), 1)
    assert "ZeroDivisionError" in line and "bug" in line


def test_export_interrupted_leaves_no_temporary_file(tmp_path, monkeypatch):
    from starcoach.cli.common import Terminated
    from starcoach.output import export

    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "out.md"
    real_replace = os.replace

    def killed(src, dst):
        raise Terminated()

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(Terminated):
        export.write_new(target, "text")
    monkeypatch.setattr(os, "replace", real_replace)
    assert list((tmp_path / "out").iterdir()) == []


def test_a_temporary_file_a_killed_export_left_blocks_no_later_export(stored):
    """Killed between writing its temporary file and renaming it, an export left `.take-X.json.tmp`
    beside the audio, and every later export to that name failed, --force too ("… exists (another
    export running?); remove it if not"), while recover and doctor left the file there."""
    target = Path(stored[0]["audio_path"]).with_suffix(".json")
    stem = target.name.split(".")[0]
    # a writer's pid no process can have (an exited child's was given again, to an analysis run beside the tests)
    dead = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    writer = starcoach_stand_in("export")
    try:
        older = target.with_name(f".{target.name}.tmp")  # the one name every export used
        killed = target.with_name(f".{stem}.{dead}-0123abcd.json.tmp")
        running = target.with_name(f".{stem}.{writer.pid}-0123abcd.json.tmp")
        for left in (older, killed, running):
            left.write_text('{"take"')
        for force in ([], ["--force"]):
            result = run("export", "1", "-f", "json", *force)
            assert result.exit_code == 0 and "starcoach:" not in result.stderr, result.output
            assert json.loads(target.read_text())["take"]["id"] == 1
        assert not killed.exists()  # its writer is gone
        assert running.exists() and older.exists()  # a running export's; one whose writer is unknown
    finally:
        writer.kill()
        writer.wait()


def _os_error_line(exc):
    from starcoach.domain.errors import os_error_line

    return os_error_line(exc)


@pytest.mark.parametrize("name, folder", [("/a/b/take.wav", " (/a/b)"), ("", ""), (b"", ""), (None, ""), (3, "")])
def test_permission_denied_names_the_folder_only_when_a_file_is_named(name, folder):
    """Removing or renaming a file needs its folder writable: the folder is named, and for no name
    (or a descriptor's number) no folder is made up (an empty name named the working folder's parent)."""
    exc = PermissionError(errno.EACCES, "Permission denied", *(() if name is None else (name,)))
    assert _os_error_line(exc).endswith(f"check the owner and mode of the file and of its folder{folder}")


def test_a_read_only_or_failing_disk_names_the_disk_and_what_to_do(stored, monkeypatch):
    """'Read-only file system' and SQLite's 'disk I/O error' named neither the disk nor a way out."""
    from starcoach.takes import store as store_module

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    from starcoach.output import export as export_module

    with monkeypatch.context() as m:
        m.setattr(export_module, "open", read_only, raising=False)
        line = one_line(run("export", "1", "-f", "json", "--force"), 1)
    assert "read-only" in line and "give -o a file on another disk" in line and "config.toml" not in line, line
    assert _os_error_line(OSError(errno.EROFS, "Read-only file system", "/x")).startswith("the disk is read-only (/x)")

    def io_error(self, *args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as m:
        m.setattr(store_module.Store, "list", store_module._sql(io_error))
        line = one_line(run("takes"), 1)
    assert "disk I/O error" in line and "full or failing" in line and "free some space" in line, line
    assert snapshot() == stored


@pytest.mark.parametrize("damage", ["random bytes", "empty", "missing", "cut short"])
def test_doctor_names_a_take_whose_audio_is_gone_or_unreadable_and_exits_1(stored, damage):
    """doctor said "every take has its audio and analysis" over a take whose audio was empty or
    random bytes, or cut short (it decoded only the first samples), and exited 0 when it listed
    a take whose audio was missing."""
    audio = Path(stored[0]["audio_path"])
    if damage == "missing":
        audio.unlink()
    elif damage == "cut short":  # a file long enough that its start still decodes
        sf.write(audio, np.random.default_rng(0).normal(0, 0.1, 16000 * 20).astype(np.float32), 16000,
                 format="FLAC")
        data = audio.read_bytes()
        audio.write_bytes(data[:len(data) // 3])
    else:
        audio.write_bytes(os.urandom(4000) if damage == "random bytes" else b"")
    result = run("doctor")
    line = one_line(result, 1)
    assert "1 take still listed without usable audio" in line and "starcoach delete" in line, line
    said = [ln for ln in result.stdout.splitlines() if ln.startswith("take 1:")]
    assert len(said) == 1 and ("missing" if damage == "missing" else "cannot be read") in said[0], result.stdout
    assert not any(ln.startswith("take 2:") for ln in result.stdout.splitlines())
    assert [t["id"] for t in json.loads(run("takes", "--json").stdout)] == [1, 2]  # doctor removes nothing


def test_doctor_says_what_recover_finished_or_removed(stored):
    """doctor runs recover first; what that finished or removed went unsaid."""
    from starcoach.config import load_config
    from starcoach.takes import sidecar

    recordings = Path(stored[0]["audio_path"]).parent
    left = recordings / "take-000000-9.wav"  # a recording whose process died before any audio came
    sidecar.write(left, {"status": "recording", "pid": 2**22 + 12345, "source": "record"})
    with sqlite3.connect(load_config().paths.database) as db:
        db.execute("INSERT INTO takes (started_at, audio_path, source, status) VALUES ('2026-12-05T00:00:00',"
                   " ?, 'record', 'recording')", (str(left.relative_to(load_config().paths.recordings)),))
    result = run("doctor")
    assert result.exit_code == 0, result.output
    removed = [ln for ln in result.stdout.splitlines() if ln.startswith("removed ")]
    assert len(removed) == 1 and "take 3" in removed[0] and "no audio" in removed[0], result.stdout
    assert "every take has its audio" not in result.stdout
    assert snapshot() == stored


def test_export_formats_are_read_in_any_case(tmp_path, stored):
    """`-f JSON` was refused as an unknown format, though `-o X.JSON` was read as json."""
    for args in (["-f", "JSON", "-o", tmp_path / "a.json"], ["-o", tmp_path / "B.JSON"]):
        result = run("export", "1", *args)
        assert result.exit_code == 0, result.output
        assert json.loads(Path(result.stdout.strip()).read_text())["take"]["id"] == 1


def test_a_file_whose_name_starts_with_a_dash_gets_the_way_to_name_it(tmp_path, stored, monkeypatch):
    """`import -dash.wav` said "No such option: -d", with no word of the file or of `--`."""
    monkeypatch.chdir(tmp_path)
    SILENCE(tmp_path).rename(tmp_path / "-dash.flac")
    line = one_line(run("import", "-dash.flac"), 2)
    assert "-dash.flac was read as options" in line and "import -- -dash.flac`" in line, line
    assert run("import", "--", "-dash.flac").exit_code == 3  # as the line says: stored (silence, exit 3)
    assert "No such option: -z" in one_line(run("import", "-zz"), 2)  # no such file: the plain message


def test_a_rebuilt_database_never_gives_a_deleted_take_s_id_again(tmp_path, stored):
    """doctor's rebuild started the ids after the takes left: a deleted take 3's id went to the
    next import, against the README's promise. The damaged file's counter is read when it can be."""
    from starcoach.config import load_config

    assert run("import", SILENCE(tmp_path)).exit_code == 3
    assert run("delete", "3", "--yes").exit_code == 0
    with sqlite3.connect(load_config().paths.database) as con:
        con.execute("ALTER TABLE takes DROP COLUMN wpm")  # damage doctor must rebuild from recordings/
    assert "moved the damaged database aside" in run("doctor").stdout
    result = run("import", SILENCE(tmp_path), "--json")
    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout)["take"]["id"] == 4
    assert sorted(t["id"] for t in snapshot()) == [1, 2, 4]


def test_a_database_lost_outright_is_rebuilt_with_every_take_s_own_id(tmp_path, stored):
    """With no database file left to read, doctor rebuilt from recordings/ numbered the takes
    anew: of takes 1, 2 and 4 (3 deleted), take 4 came back as 3, and the next import was 4."""
    from starcoach.config import load_config

    assert run("import", SILENCE(tmp_path)).exit_code == 3
    assert run("import", SILENCE(tmp_path)).exit_code == 3
    assert run("delete", "3", "--yes").exit_code == 0
    before = {t["id"]: t["audio_path"] for t in snapshot()}
    db = load_config().paths.database
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    assert run("doctor").exit_code == 0
    assert {t["id"]: t["audio_path"] for t in snapshot()} == before == {i: before[i] for i in (1, 2, 4)}
    result = run("import", SILENCE(tmp_path), "--json")
    assert json.loads(result.stdout)["take"]["id"] == 5, result.output


@pytest.mark.parametrize("loss", ["emptied", "deleted"])
def test_a_take_made_before_doctor_rebuilds_a_lost_database_takes_no_old_take_s_id(tmp_path, stored, loss):
    """With the database emptied (or gone) and not yet rebuilt, the next import was "take 1",
    the id recordings/ still held in take 1's metadata; doctor then renumbered every old take."""
    from starcoach.config import load_config

    before = {t["id"]: t["audio_path"] for t in snapshot()}
    db = load_config().paths.database
    for path in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    if loss == "emptied":
        db.write_bytes(b"")
    else:
        db.unlink()
    result = run("import", SILENCE(tmp_path), "--json")
    assert result.exit_code == 3, result.output
    new_id = json.loads(result.stdout)["take"]["id"]
    assert new_id == 3
    assert run("doctor").exit_code == 0
    after = {t["id"]: t["audio_path"] for t in snapshot()}
    assert {i: after[i] for i in before} == before and new_id in after and len(after) == 3


def test_standard_input_closed_is_not_a_bug(stored):
    """Started with standard input closed (`<&-`), sys.stdin is None: asking it isatty() was
    "unexpected error (AttributeError ...); this is a bug"."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "starcoach", "delete", "1"], capture_output=True, text=True,
                          preexec_fn=lambda: os.close(0), timeout=120)
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "without confirmation; pass --yes" in lines[0]
    assert snapshot() == stored


@pytest.mark.parametrize("args", [["questions", "--json"], ["show", "1", "--json"],
                                  ["export", "1", "--format", "json", "-o", "-"], ["takes"]])
def test_standard_output_closed_is_said_not_a_bug_and_not_a_silent_success(stored, args):
    """Started with standard output closed (`>&-`), sys.stdout is None: `--json` was "unexpected
    error (AttributeError ...); this is a bug", and `export -o -` exited 0 having written nothing."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "starcoach", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1), timeout=120)
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert lines[0].startswith("starcoach: standard output is closed") and "this is a bug" not in lines[0]
    assert snapshot() == stored


def test_a_take_stored_with_standard_output_closed_is_said_to_be_stored(stored, tmp_path):
    """`import … >&-` stored the take and then said only that nothing was written: a retry
    would store it twice."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "starcoach", "import", str(SILENCE(tmp_path))],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1),
                          timeout=120)
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert "the output was lost; anything stored before that is kept" in lines[0]
    assert [t["id"] for t in snapshot()] == [1, 2, 3]


def test_an_edited_metadata_id_cannot_use_up_the_ids(tmp_path, stored):
    """An unlisted recording whose metadata claims an id near SQLite's largest made every later
    import fail ("the disk is full: cannot write the takes database")."""
    from starcoach.config import load_config
    from starcoach.takes import sidecar

    db = load_config().paths.database
    for path in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    db.write_bytes(b"")
    sidecar.update(Path(stored[0]["audio_path"]), id=2**63 - 2)
    result = run("import", SILENCE(tmp_path), "--json")
    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout)["take"]["id"] == 3
    assert run("doctor").exit_code == 0  # indexes take 1's recording again, not at its edited id
    assert max(t["id"] for t in snapshot()) < 10
    result = run("import", SILENCE(tmp_path), "--json")
    assert result.exit_code == 3 and json.loads(result.stdout)["take"]["id"] < 10, result.output


@pytest.mark.parametrize("command", ["takes", "compare", "progress"])
def test_a_value_that_is_not_utf8_text_is_bad_input_not_a_bug(stored, command):
    """Bytes that are not UTF-8 in an option's value arrive as lone surrogates; `takes --question $'\\xff'`
    reached SQLite with them and was "unexpected error (UnicodeEncodeError ...); this is a bug"."""
    result = run(command, "--question", "\udcff")
    line = one_line(result, 2)
    assert "not UTF-8 text" in line and "b'\\xff'" in line and "this is a bug" not in line, line
    assert snapshot() == stored


def test_takes_names_a_take_an_interruption_left_unfinished_and_recover_finishes_it(stored):
    """A take still marked as recording whose process is gone was listed without a word that
    `recover` finishes it."""
    from starcoach.config import load_config

    src = Path(stored[0]["audio_path"])
    left = src.with_name("take-000001-9.flac")
    left.write_bytes(src.read_bytes())
    with sqlite3.connect(load_config().paths.database) as db:
        db.execute("INSERT INTO takes (started_at, audio_path, source, status, pid) VALUES "
                   "('2026-12-05T00:00:00', ?, 'record', 'recording', ?)",
                   (str(left.relative_to(load_config().paths.recordings)), 2**22 + 12345))
    result = run("takes")
    assert result.exit_code == 0, result.output
    warned = [ln for ln in result.stderr.splitlines() if ln.startswith("starcoach:")]
    assert len(warned) == 1 and "1 take (3) left unfinished" in warned[0] and "starcoach recover" in warned[0], warned
    assert run("recover").exit_code in (0, 3)
    assert not [ln for ln in run("takes").stderr.splitlines() if "unfinished" in ln]


def test_a_file_named_dash_is_written_as_a_file_and_an_empty_name_is_refused(tmp_path, stored, monkeypatch):
    """`-o ./-` (the usual way to name a file "-") printed to standard output, since a Path makes
    "./-" into "-"; `-o ''` said ". is a folder"."""
    monkeypatch.chdir(tmp_path)
    written = run("export", "1", "-f", "json", "-o", "./-")
    assert written.exit_code == 0 and written.stdout.strip() == "-", written.output
    assert json.loads((tmp_path / "-").read_text())["take"]["id"] == 1
    line = one_line(run("export", "1", "-f", "json", "-o", ""), 2)
    assert "'--output'" in line and "empty" in line, line


@pytest.mark.parametrize("args, named", [
    (("analyze", ""), "'file'"), (("check", ""), "'file'"), (("import", ""), "'file'"),
    (("analyze", "--model", "", "answer.wav"), "'--model'"), (("progress", "--chart", ""), "'--chart'"),
    (("takes", "--lp", ""), "'--lp'"), (("takes", "--question", ""), "'--question'"),
    (("questions", "--lp", ""), "'--lp'"), (("compare", "--question", ""), "'--question'"),
    (("show", ""), "'take'"), (("export", "1", "-f", ""), "'--format'")])
def test_an_empty_value_is_refused_naming_its_parameter(tmp_path, monkeypatch, args, named):
    """An unset shell variable (`analyze "$FILE"`, `takes --lp "$LP"`) gives an empty value: a
    file name became the current folder (".: is a folder"), a filter filtered nothing (every take
    and question listed, exit 0), `--model ''` used the configured model."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    line = one_line(run(*args), 2)
    assert named in line and "empty" in line, line
    assert not list(cwd.iterdir())  # nothing written: no chart named ".", no export


@pytest.mark.parametrize("command, name", [("analyze", "answer.wav"), ("import", "answer.wav"),
                                           ("check", "answer.txt")])
def test_a_file_the_user_may_not_read_is_starcoach_s_own_line_and_exit_1(tmp_path, home, command, name):
    """An unreadable input file got typer's usage error (exit 2, "Invalid value for 'file': … is not
    readable", see --help) instead of starcoach's own line and exit 1, as for every bad input file."""
    import subprocess
    import sys

    path = tmp_path / name
    if name.endswith(".wav"):
        sf.write(path, np.zeros(16000, dtype=np.float32), 16000)
    else:
        path.write_text("I rewrote the parser.\n")
    path.chmod(0)
    drop = unprivileged()
    result = subprocess.run([*drop, sys.executable, "-m", "starcoach", command, str(path)], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "STARCOACH_HOME": str(home)})
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"starcoach: {path}: cannot read it (Permission denied)\n", result.stderr


def test_an_export_onto_a_read_only_disk_names_the_file_and_what_to_do(tmp_path, stored):
    """On a read-only disk, removing the temporary file failed as well, and that error escaped: the
    line named the hidden `.x.json.tmp` and advised pointing [paths] in config.toml elsewhere."""
    with mounted(tmp_path / "ro", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", what="a read-only disk") as disk:
        line = one_line(run("export", "1", "-f", "json", "-o", disk / "x.json"), 1)
    assert line == (f"starcoach: cannot write {disk / 'x.json'}: the disk is read-only; remount it writable, "
                    "or give -o a file on another disk"), line


def test_a_home_on_a_read_only_disk_can_be_listed_shown_and_exported(tmp_path, home, stored, monkeypatch):
    """A home on a read-only disk (a backup, a snapshot) could not be read at all: `takes`, `show`
    and `export` said "cannot write the takes database … check the folder's permissions"."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    with mounted_read_only(copy, tmp_path / "ro") as ro:
        monkeypatch.setenv("STARCOACH_HOME", str(ro))
        listed = run("takes", "--json")
        assert listed.exit_code == 0, listed.output
        assert [t["id"] for t in json.loads(listed.stdout)] == [t["id"] for t in stored]
        assert run("show", "1", "--json").exit_code == 0
        assert run("export", "1", "-f", "json", "-o", tmp_path / "t.json").exit_code == 0
        assert json.loads((tmp_path / "t.json").read_text())["take"]["id"] == 1
        line = one_line(run("delete", "1", "--yes"), 1)
        assert "read-only disk" in line, line
        line = one_line(run("import", write(tmp_path, "a.wav", wav_bytes())), 1)
        assert "read-only" in line, line


@pytest.mark.parametrize("index", [True, False], ids=["with its -shm", "log alone"])
def test_a_home_on_a_read_only_disk_shows_the_takes_its_log_holds(tmp_path, home, stored, monkeypatch, index):
    """A copy made while starcoach ran, or a home a crash left, keeps the takes stored since the last
    checkpoint in starcoach.db-wal; read from a read-only disk without the log's -shm index ("log
    alone"), they were not listed (SQLite's immutable mode never reads the log), as if they had never
    been recorded. With the -shm the ordinary connection reads the log (that case passed before too)."""
    import shutil

    db = home / "recordings" / "starcoach.db"
    holder = sqlite3.connect(db, isolation_level=None)  # open, so the import's close folds nothing into the database
    holder.execute("PRAGMA wal_autocheckpoint = 0")
    holder.execute("SELECT count(*) FROM takes").fetchone()
    sf.write(tmp_path / "late.wav", np.zeros(16000, dtype=np.float32), 16000)
    assert run("import", tmp_path / "late.wav").exit_code == 3  # silence: stored, and said so
    copy = tmp_path / "copy"
    shutil.copytree(home, copy, ignore=None if index else shutil.ignore_patterns("*-shm"))
    holder.close()
    assert (copy / "recordings" / "starcoach.db-wal").stat().st_size > 0
    with mounted_read_only(copy, tmp_path / "ro") as ro:
        monkeypatch.setenv("STARCOACH_HOME", str(ro))
        listed = run("takes", "--json")
        assert listed.exit_code == 0, listed.output
        assert [t["id"] for t in json.loads(listed.stdout)] == [t["id"] for t in stored] + [3]
        shown = run("show", "3", "--json")
        assert shown.exit_code == 0, shown.output
        assert Path(json.loads(shown.stdout)["file"]).name == Path(json.loads(listed.stdout)[-1]["audio_path"]).name
        assert sorted(p.name for p in (ro / "recordings").glob("starcoach.db*")) == sorted(
            p.name for p in (copy / "recordings").glob("starcoach.db*"))  # (nothing could be made there)


def test_a_copied_home_s_documents_name_the_audio_in_the_copy(tmp_path, home, stored, monkeypatch):
    """A home can be moved or copied whole (docs/configuration.md), but `show --json` and a json
    export kept `file` in the old home, while `take.audio_path` in the same document was the copy."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(home, copy)
    shutil.rmtree(home / "recordings")  # moved, not copied: the old files are gone
    monkeypatch.setenv("STARCOACH_HOME", str(copy))
    for take in ("1", "2"):  # analysed, and failed (no analysis)
        shown = json.loads(run("show", take, "--json").stdout)
        exported = json.loads(run("export", take, "-f", "json", "-o", "-").stdout)
        assert shown == exported
        assert shown["file"] == shown["take"]["audio_path"] and Path(shown["file"]).is_relative_to(copy), shown
        assert Path(shown["file"]).is_file()
    assert shown["analysed"] is False  # take 2 failed: exported as `show` prints it, not refused


def test_json_stays_utf8_for_a_file_name_that_is_not_and_for_any_terminal_encoding(tmp_path, monkeypatch):
    """`check --json` of a file whose name is not UTF-8 wrote its raw byte: the whole document was
    no longer UTF-8 (RFC 8259), and strict parsers refused it. With PYTHONIOENCODING=ascii any
    letter outside ASCII was "unexpected error … this is a bug"."""
    import subprocess
    import sys

    odd = tmp_path / os.fsdecode(b"r\xc3\xa9sum\xc3\xa9-\xff.txt")  # "résumé-" and a byte that is not UTF-8
    # (a story: an answer under 8 words that name things has no part judged, and no SITUATION shown)
    odd.write_text("Situation: our nightly import of supplier invoices failed every night.\n"
                   "Action: I rewrote the parser and added validation tests.\n")
    result = run("check", odd, "--json")
    assert result.exit_code == 0, result.output
    raw = result.stdout_bytes
    doc = json.loads(raw.decode("utf-8"))  # strict: a raw 0xff byte fails here
    assert os.fsencode(doc["file"]) == os.fsencode(odd)  # the name's bytes come back
    for encoding in ("ascii", "latin-1"):
        done = subprocess.run([sys.executable, "-m", "starcoach", "check", os.fsencode(odd), "--json"],
                              capture_output=True, env={**os.environ, "PYTHONIOENCODING": encoding})
        assert done.returncode == 0 and not done.stderr, done.stderr
        assert json.loads(done.stdout.decode("utf-8"))["file"].startswith(str(tmp_path) + "/r\u00e9sum\u00e9-")
        report = subprocess.run([sys.executable, "-m", "starcoach", "check", os.fsencode(odd)],
                                capture_output=True, env={**os.environ, "PYTHONIOENCODING": encoding})
        assert report.returncode == 0 and not report.stderr, report.stderr  # letters it cannot show: "?"
        assert b"SITUATION" in report.stdout


def test_import_prints_the_take_id_last_after_the_line_about_the_take(tmp_path, home):
    """With no speech, `import --json` wrote the id and then "no speech found", where the README
    says scripts get the id last (as `record` has it)."""
    silent = write(tmp_path, "quiet.wav", wav_bytes(data=b"\x00\x00" * 32000))
    result = run("import", silent, "--json")
    assert result.exit_code == 3, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines[-1] == str(json.loads(result.stdout)["take"]["id"]), lines
    assert lines[0].startswith("starcoach: no speech found") and len(lines) == 2, lines


@pytest.mark.slow
def test_a_short_report_read_by_a_reader_that_leaves_after_one_line_exits_0(home):
    """`starcoach show 1 | head -1` exited 141 every time (Rich wrote the report print by print, and
    the second write met the closed pipe), where output that fits the pipe's buffer is to be all
    written before the reader can leave (README): exit 0, as for any program."""
    from tests.conftest import read_one_line_then_leave

    for _ in range(2):
        assert run("import", SAMPLES / "short-answer.flac", "--question", "deep-1").exit_code == 0
    for args in [("show", "1"), ("compare", "1", "2"), ("progress",), ("coverage",), ("takes",), ("check",
                 str(SAMPLES.parent / "tests" / "data" / "star_extra" / "01-written-warehouse.txt"))]:
        code, err = read_one_line_then_leave(home, *args, timeout=120)
        if args == ("progress",):  # one sentence tells no story: left out of progress, as coverage leaves it
            err = re.sub(r"^note: left out 2 takes too short to tell a story .*: 1, 2 \(`compare A B` compares any "
                         r"two\)\n", "", err)
        assert code == 0 and err == "", (args, code, err)


@pytest.mark.parametrize("command", ["analyze", "check", "import"])
@pytest.mark.parametrize("sep", ["\n", "\u2028", "\x85"])
def test_a_file_name_with_a_newline_in_it_keeps_the_error_on_one_line(tmp_path, home, command, sep):
    """`starcoach analyze $'no\\nsuch.wav'` printed "starcoach: …/no" and "such.wav: no such file" on
    two lines: a line a script reads as the error, and another it does not (and Python's
    splitlines() breaks at U+2028 and U+0085 too)."""
    path = tmp_path / f"no{sep}such.wav"
    line = one_line(run(command, path), 1)
    assert f"no{repr(sep)[1:-1]}such.wav" in line, line


def test_brackets_in_a_file_name_or_a_question_are_printed_as_written(tmp_path, home):
    """Rich read them as markup: "[bold red]x.wav" lost its name in the report's title, and a
    closing tag ("[/x]") in a question of one's own stopped the list with "unexpected error
    (MarkupError…)"."""
    name = "[bold red]odd [x].wav"
    path = tmp_path / name
    sf.write(path, np.zeros(16000, dtype=np.float32), 16000)
    result = run("analyze", path)
    assert result.exit_code == 3, result.output  # silence: no speech, said so
    assert "[bold red]odd" in result.stdout and "[x].wav" in result.stdout, result.stdout  # (the panel wraps it)
    (home / "mine.toml").write_text('[[question]]\nid = "mine-1"\ntext = "Tell me about [/x] and [bold]this[/bold]."\n'
                                    'follow_ups = ["What [/y] next?"]\n')
    cfg = home / "config.toml"
    cfg.write_text(cfg.read_text().replace('questions = ""', 'questions = "mine.toml"'))
    listed = run("questions")
    assert listed.exit_code == 0, listed.output
    assert "[/x] and" in listed.stdout and "[bold]this[/bold]." in listed.stdout, listed.stdout  # (wrapped)
    # a question id may hold brackets too: the report's title of a take of it stopped on "[/x]"
    (home / "mine.toml").write_text('[[question]]\nid = "mine[/x]"\ntext = "Q?"\n')
    assert run("import", path, "--question", "mine[/x]").exit_code == 3  # silence: stored, and said so
    shown = run("show", str(snapshot()[-1]["id"]))
    assert shown.exit_code == 0 and "mine[/x]" in shown.stdout, shown.output


def test_doctor_does_not_claim_every_take_has_an_analysis_when_one_has_none(stored):
    """With take 2 stored as failed (its audio kept, never analysed), doctor ended on "every take has
    its audio and analysis"."""
    done = run("doctor")
    assert done.exit_code == 0, done.output
    assert "every take has its audio and analysis" not in done.stdout, done.stdout
    assert "1 take (2) has no analysis" in done.stdout, done.stdout
    assert snapshot() == stored


def test_an_export_under_a_name_too_long_says_what_to_do(tmp_path, stored):
    """"cannot write bbb….md: File name too long": what happened, not what to do."""
    line = one_line(run("export", "1", "-f", "json", "-o", tmp_path / ("b" * 300 + ".json")), 1)
    assert line.endswith("the file name is too long for this disk; give a shorter one"), line
    assert snapshot() == stored


def test_an_export_into_a_system_folder_says_what_to_do(stored):
    """/proc is a folder that takes no new file: "No such file or directory" alone, for a folder that is there."""
    line = one_line(run("export", "1", "-f", "json", "-o", "/proc/answer.json"), 1)
    assert line == ("starcoach: cannot write /proc/answer.json: that folder takes no new files (a system folder, as "
                    "/proc is); write it into a folder of your own"), line
    assert snapshot() == stored


def test_an_html_export_of_a_take_whose_audio_is_gone_says_what_to_do(stored):
    audio = Path(stored[0]["audio_path"])
    audio.unlink()
    line = one_line(run("export", "1", "-f", "html", "-o", "-"), 1)
    assert "is missing" in line and "starcoach doctor" in line and "other formats need no audio" in line, line
    assert run("export", "1", "-f", "json", "-o", "-").exit_code == 0


@pytest.mark.parametrize("damage", ["text", "cut"])
def test_an_html_export_of_a_take_whose_audio_is_damaged_points_to_doctor(stored, damage):
    """It gave the advice for a file given to `analyze` ("a written answer goes to `starcoach
    check`", "copy it again from where it came"): a stored take is doctor's to name."""
    audio = Path(stored[0]["audio_path"])
    keep = audio.read_bytes()
    audio.write_bytes(b"junk" if damage == "text" else keep[:1000])
    line = one_line(run("export", "1", "-f", "html", "-o", "-"), 1)
    assert line.startswith(f"starcoach: take 1's audio {audio} cannot be read ("), line
    assert "`starcoach doctor` names the takes whose audio is damaged" in line and "check`" not in line, line
    assert "copy it again" not in line and run("export", "1", "-f", "json", "-o", "-").exit_code == 0
    assert audio.read_bytes() == (b"junk" if damage == "text" else keep[:1000])  # left as it was


def test_an_export_cut_short_by_a_reader_that_left_exits_141(tmp_path, home):
    """`export 1 --format html -o - | head -c 10`: one write took the pipe's 64 KB of a page of
    hundreds, the rest was never written, and the exit was 0 (a short count, not an error, is how
    the pipe said so): `set -o pipefail` was told the page was whole."""
    import subprocess
    import sys

    noise = (np.random.default_rng(0).standard_normal(16000 * 20) * 0.05).astype(np.float32)
    sf.write(tmp_path / "hiss.wav", noise, 16000)
    assert run("import", tmp_path / "hiss.wav").exit_code == 3  # no speech: stored, and said so
    p = subprocess.Popen([sys.executable, "-m", "starcoach", "export", "1", "--format", "html", "-o", "-"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "STARCOACH_HOME": str(home)})
    assert p.stdout is not None and p.stderr is not None
    assert p.stdout.read(10) == b"<!doctype "
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 141 and err == "", (p.returncode, err)


def test_recover_leaves_a_partial_file_no_metadata_names_that_is_no_recording(stored):
    """"a partial file it cannot read or repair … is left as it is" (README), yet random bytes named
    notes.wav.part or take-102100.flac.part, with no metadata, were removed as "a partial copy"."""
    folder = Path(stored[0]["audio_path"]).parent
    mine = {folder / "notes.wav.part": os.urandom(5000), folder / "take-102100.flac.part": os.urandom(5000)}
    for path, data in mine.items():
        path.write_bytes(data)
    result = run("recover")
    assert result.exit_code == 0, result.output
    assert {p: p.read_bytes() for p in mine} == mine
    assert snapshot() == stored


def test_a_false_start_is_left_out_of_a_question_s_comparison_and_progress(home, stored):
    """`compare --question` measured a retake against the false start before it ("let me start
    again": +48 wpm, "Situation: now there"), and `progress` made a take of fillers alone its
    latest point (pace 0), where `coverage` counts both as no story."""
    db = sqlite3.connect(home / "recordings" / "starcoach.db", isolation_level=None)
    doc = json.loads(db.execute("SELECT analysis_json FROM takes WHERE id = 1").fetchone()[0])
    db.execute("CREATE TEMP TABLE t AS SELECT * FROM takes WHERE id = 1")
    db.execute("UPDATE t SET id = 3, audio_path = audio_path || '.copy'")  # compare and progress read no audio
    db.execute("INSERT INTO takes SELECT * FROM t")

    def tell(take, text):
        told = {**doc, "no_speech": False, "words": [{"text": w, "start": i * 0.3, "end": i * 0.3 + 0.25, "prob": 0.9,
                                                      "filler": w.strip(",.").lower() in ("um", "uh")}
                                                     for i, w in enumerate(text.split())], "star": _told(doc["star"])}
        db.execute("UPDATE takes SET status = 'complete', analysis_json = ?, wpm = 140, speaking_span_s = 9, "
                   "question_id = 'deep-1' WHERE id = ?", (json.dumps(told), take))
    tell(1, "Last spring our checkout service failed during the holiday sale, so I rebuilt the connection pool.")
    tell(2, "Um, so, let me start again.")
    tell(3, "During last spring's holiday sale checkout kept failing; I rebuilt the connection pool myself.")
    db.close()
    out = run("compare", "--question", "deep-1", "--json")
    assert out.exit_code == 0, out.output
    assert [(p["a"], p["b"]) for p in json.loads(out.stdout)] == [(1, 3)]
    assert "left out 1 take too short to tell a story" in out.stderr and ": 2 (`compare A B`" in out.stderr, out.stderr
    out = run("progress")
    assert "Progress over 2 takes" in out.stdout and "left out 1 take" in out.stderr, out.output
    # two takes asked for by their ids are compared whatever they hold
    assert [(p["a"], p["b"]) for p in json.loads(run("compare", "1", "2", "--json").stdout)] == [(1, 2)]
    # one answer and a false start: nothing to compare, said so
    db = sqlite3.connect(home / "recordings" / "starcoach.db", isolation_level=None)
    db.execute("UPDATE takes SET question_id = 'deep-2' WHERE id = 3")
    db.close()
    line = one_line(run("compare", "--question", "deep-1"), 1)
    assert "has 1 analysed answer telling a story; compare needs two" in line, line
    assert "No analysed takes with speech match" in run("progress", "--question", "customer-1").stdout
    # every take of a question too short: said so, not "no takes with speech"
    db = sqlite3.connect(home / "recordings" / "starcoach.db", isolation_level=None)
    db.execute("UPDATE takes SET question_id = 'deep-2' WHERE id = 1")
    db.close()
    assert "No analysed takes telling a story match (1 other left out: too short, or no STAR part" in \
        " ".join(run("progress", "--question", "deep-1").stdout.split())


def test_compare_says_when_the_later_take_comes_first_or_the_questions_differ(home, stored):
    """An audit: `compare 4 1` (the later, better retake first) read "worse" on every row without a word;
    the note that two takes answer different questions was left out with --json."""
    db = sqlite3.connect(home / "recordings" / "starcoach.db", isolation_level=None)
    doc = json.loads(db.execute("SELECT analysis_json FROM takes WHERE id = 1").fetchone()[0])
    text = "Last spring our checkout service failed during the holiday sale, so I rebuilt the connection pool."
    told = {**doc, "no_speech": False, "words": [{"text": w, "start": i * 0.3, "end": i * 0.3 + 0.25,
                                                  "filler": False} for i, w in enumerate(text.split())]}
    db.execute("UPDATE takes SET status = 'complete', analysis_json = ?, wpm = 140, speaking_span_s = 9, "
               "question_id = 'deep-1'", (json.dumps(told),))
    db.close()
    for json_out in ((), ("--json",)):
        backwards = run("compare", "2", "1", *json_out)
        assert backwards.exit_code == 0, backwards.output
        assert "note: take 2 was made after take 1: the changes read from take 2 back to take 1 (`compare 1 2` " \
            "reads them forwards)" in backwards.stderr, backwards.stderr
        forwards = run("compare", "1", "2", *json_out)
        assert forwards.exit_code == 0 and forwards.stderr == "", forwards.output
    db = sqlite3.connect(home / "recordings" / "starcoach.db", isolation_level=None)
    db.execute("UPDATE takes SET question_id = 'deep-2' WHERE id = 2")
    db.close()
    for json_out in ((), ("--json",)):
        other = run("compare", "1", "2", *json_out)
        assert "note: these takes answer different questions (deep-1, deep-2)" in other.stderr, other.output

def test_coverage_says_which_takes_it_could_not_count(home, stored):
    """A take whose stored analysis is damaged was skipped without a word: one story fewer, exit 0."""
    db = sqlite3.connect(home / "recordings" / "starcoach.db", isolation_level=None)
    db.execute("""UPDATE takes SET analysis_json = '{"broken' WHERE id = 1""")
    db.close()
    out = run("coverage")
    assert out.exit_code == 0 and "Leadership Principle" in out.stdout, out.output
    assert out.stderr.strip() == ("starcoach: not counted: 1 take (1) whose stored analysis is damaged; `starcoach "
                                  "doctor` analyses their audio again, then run `coverage` again"), out.stderr


def test_import_when_the_day_folder_is_not_one_it_may_write_names_that_folder(tmp_path, home, stored):
    """An audit's: today's folder under recordings/ owned by another user (a `sudo starcoach import`
    that morning) was "the folder cannot be written (…/recordings)", a folder that could; a file or a
    broken link by the day's name was "cannot copy … (File exists: …)", with no advice."""
    import shutil
    from datetime import datetime

    answer = tmp_path / "answer.wav"
    sf.write(answer, np.zeros(16000, dtype=np.float32), 16000)
    day = home / "recordings" / datetime.now().strftime("%Y-%m-%d")
    before = snapshot()
    day.mkdir(exist_ok=True)
    day.chmod(0o555)  # a root-owned folder to the unprivileged process
    try:
        done = _as_unprivileged(home, "import", str(answer))
    finally:
        day.chmod(0o755)
    assert done.returncode == 1, done.stderr
    assert done.stderr == (f"starcoach: the folder cannot be written ({day}): make it writable, or point [paths] in "
                           "config.toml elsewhere; nothing was stored\n"), done.stderr
    shutil.move(day, tmp_path / "day")
    for in_the_way in ("file", "broken link"):
        if in_the_way == "file":
            day.write_text("not a folder")
        else:
            day.unlink()
            day.symlink_to(tmp_path / "nowhere")
        line = one_line(run("import", answer), 1)
        assert line == (f"starcoach: {day} is in the way: a day's takes go in a folder by that name, and a file or "
                        "a broken link has it; move it elsewhere and try again (nothing was stored)"), line
    day.unlink()
    shutil.move(tmp_path / "day", day)
    assert snapshot() == before


def test_answers_to_follow_up_questions_are_no_points_of_progress_nor_stories(home, stored):
    """An answer to a follow-up (practice, key f; stored as "deep-1/follow-up-1") is no story: a trend of
    STAR parts and length over stories would drop at every one. It has a progress of its own when asked for."""
    db = sqlite3.connect(home / "recordings" / "starcoach.db", isolation_level=None)
    doc = json.loads(db.execute("SELECT analysis_json FROM takes WHERE id = 1").fetchone()[0])
    text = "Last spring our checkout service failed during the holiday sale, so I rebuilt the connection pool."
    told = {**doc, "no_speech": False, "words": [{"text": w, "start": i * 0.3, "end": i * 0.3 + 0.25,
                                                  "filler": False} for i, w in enumerate(text.split())],
            "star": _told(doc["star"])}
    db.execute("UPDATE takes SET status = 'complete', analysis_json = ?, wpm = 140, speaking_span_s = 9",
               (json.dumps(told),))
    db.execute("UPDATE takes SET question_id = 'deep-1' WHERE id = 1")
    db.execute("UPDATE takes SET question_id = 'deep-1/follow-up-1', question_text = 'How did you know?' WHERE id = 2")
    db.close()
    assert "Progress over 1 take" in run("progress").stdout
    own = run("progress", "--question", "deep-1/follow-up-1").stdout
    assert "Progress over 1 take" in own and "STAR" not in own, own  # no STAR row, no best length
    assert next(ln for ln in own.splitlines() if "length" in ln).split("│")[4].strip() == "-", own
    covered = {c["principle"]: c for c in json.loads(run("coverage", "--json").stdout)}
    assert [c["story_takes"] for c in covered.values() if c["takes"]] == [[[1]]], covered
    listed = json.loads(run("takes", "--json").stdout)
    assert [t["question_id"] for t in listed] == ["deep-1", "deep-1/follow-up-1"], listed
    # listed under its question's principle, with no STAR parts or rating in the table (a review)
    assert [t["id"] for t in json.loads(run("takes", "--json", "--lp", "dive-deep").stdout)] == [1, 2]
    row = next(ln.split() for ln in run("takes").stdout.splitlines() if ln.split()[:1] == ["2"])
    assert row[-3:-1] == ["-", "-"], row
    # a story beside a follow-up answer: compared without STAR (a review: "rating worse", "Situation: missing now")
    both = run("compare", "1", "2")
    assert both.exit_code == 0 and "STAR parts" not in both.stdout and "rating" not in both.stdout, both.output
    # a short follow-up answer is no false start: it stays (the story rule's 8 words that name things)
    db = sqlite3.connect(home / "recordings" / "starcoach.db", isolation_level=None)
    short = {**told, "words": [{"text": w, "start": i * 0.3, "end": i * 0.3 + 0.25, "filler": False}
                               for i, w in enumerate("I read the logs first.".split())]}
    db.execute("UPDATE takes SET analysis_json = ? WHERE id = 2", (json.dumps(short),))
    db.execute("UPDATE takes SET question_id = 'deep-2' WHERE id = 1")
    db.close()
    assert "Progress over 1 take" in run("progress", "--question", "deep-1/follow-up-1").stdout
    only = run("progress", "--question", "deep-1")
    assert "No analysed takes with speech match" in only.stdout, only.output
    db = sqlite3.connect(home / "recordings" / "starcoach.db", isolation_level=None)
    db.execute("DELETE FROM takes WHERE id = 1")
    db.close()
    none = run("progress").stdout  # only a follow-up answer: said so, not "no takes with speech"
    assert "No stories yet, only 1 answer to follow-up questions" in " ".join(none.split()), none
