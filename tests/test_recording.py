"""Recording and replay through a real audio stack: PulseAudio's virtual microphone.

Every test here runs ``starcoach`` as a real process (so Ctrl+C and ``kill -9`` are
real), speaking into the microphone FIFO at real-time pace.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from starcoach.analysis.quality import NARROWBAND_DB
from starcoach.audio.decode import load_audio
from starcoach.cli import app
from tests.conftest import SAMPLES, mounted, resampled

pytestmark = [pytest.mark.audio, pytest.mark.slow]
runner = CliRunner()


def speech(name="short-answer.flac") -> np.ndarray:
    return load_audio(SAMPLES / name).samples


def spoken_in_a_quiet_room(seconds: int, *, seed: int) -> np.ndarray:
    """The sample answer half a second into SECONDS of a microphone's own hiss (-70 dBFS)."""
    room = np.random.default_rng(seed).normal(0, 10 ** (-70 / 20), 16000 * seconds).astype(np.float32)
    said = speech()
    room[8000:8000 + len(said)] += said
    return room


_started: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_recorder_outlives_its_test():
    """A test that fails half-way must not leave a recorder running: it would hold the
    microphone and two cores' worth of decoding from the tests after it."""
    yield
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _as_from_a_terminal() -> None:
    """Give the child the Ctrl+C a terminal's foreground process has.

    A shell without job control starts a background job (``make test &``, a CI step run in
    the background) with SIGINT ignored, and every process it starts inherits that: Python
    then installs no KeyboardInterrupt handler, and the Ctrl+C test's record never stopped
    (and, left running, took the microphone from the tests after it).
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Run:
    """A ``starcoach`` process; waits for it to say it is recording."""

    def __init__(self, *args, env=None, stdin=subprocess.DEVNULL):
        self.proc = subprocess.Popen([sys.executable, "-m", "starcoach", *args], stdin=stdin,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env or os.environ.copy(), preexec_fn=_as_from_a_terminal)
        _started.append(self.proc)
        self.err_lines: list[str] = []

    def wait_recording(self, timeout=30.0) -> float:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.2)
            if ready:
                line = self.proc.stderr.readline()
                if not line:
                    break
                self.err_lines.append(line)
                if "recording take" in line:
                    return time.monotonic()
        self.proc.kill()
        raise AssertionError(f"never started recording: {''.join(self.err_lines)}")

    def finish(self, timeout=120):
        # Let it exit by itself first: closing its standard input would be a second
        # reason to stop ("input ended"), which a real Ctrl+C does not give.
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # never leave a recorder holding the microphone for the next test
            self.proc.communicate()
            raise
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, "".join(self.err_lines) + err


def record_timed(pulse, seconds: float, *, lead_s: float = 0.5):
    """`starcoach record --seconds N` while the sample answer is spoken into the microphone."""
    run = Run("record", "--question", "deep-1", "--seconds", str(seconds))
    run.wait_recording()
    feeder = pulse.feed(speech(), lead_s=lead_s)
    try:
        return run.finish()
    finally:
        feeder.stop()


def show(take_id: int) -> dict:
    result = runner.invoke(app, ["show", str(take_id), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_spoken_answer_becomes_a_take(pulse):
    code, out, err = record_timed(pulse, 8, lead_s=0.5)
    assert code == 0, err
    take_id = int(out.strip().splitlines()[-1])  # scripts read the id from the last line
    doc = show(take_id)
    text = doc["transcript"].lower()
    assert "reduced" in text and "minutes" in text
    assert doc["duration_s"] == pytest.approx(8.0, abs=0.15)
    take = doc["take"]
    assert take["question_id"] == "deep-1" and take["status"] == "complete"
    assert take["stopped_by"] == "limit"
    assert load_audio(take["audio_path"]).duration_s == pytest.approx(8.0, abs=0.15)
    listed = json.loads(runner.invoke(app, ["takes", "--json"]).stdout)
    assert [t["id"] for t in listed] == [take_id]
    assert {"id", "question_id", "started_at", "duration_s", "audio_path"} <= set(listed[0])


def test_a_microphone_pulled_out_mid_take_is_said_not_taken_for_a_pause(pulse):
    """PulseAudio moves a stream whose microphone goes away to another source, here a silent one:
    the take went on recording pure digital silence and the report showed it as one long pause,
    with nothing to say the input had gone (nor, for a muted microphone, in a take of nothing)."""
    room = spoken_in_a_quiet_room(20, seed=0)
    run = Run("record", "--question", "deep-1", "--seconds", "14", "--json")
    run.wait_recording()
    feeder = pulse.feed(room, lead_s=0.0)
    time.sleep(7.0)
    feeder.stop()
    pulse.unplug_mic()
    try:
        code, out, err = run.finish()
    finally:
        pulse.plug_mic()
    assert code == 0, err
    doc = json.loads(out)
    assert "reduced" in doc["transcript"].lower()
    assert "silent_input" in doc["audio"]["problems"] and doc["audio"]["reliable"] is False
    (cut,) = doc["audio"]["silent_input"]
    assert 6.0 < cut["start"] < 8.5 and cut["end"] == pytest.approx(14.0, abs=0.3), cut
    assert "digital silence" in doc["audio"]["warning"]
    shown = runner.invoke(app, ["show", str(doc["take"]["id"])])
    assert "digital silence" in " ".join(shown.output.split()), shown.output


def test_a_headset_in_hands_free_mode_is_named_narrowband(pulse):
    """A Bluetooth headset's microphone in its hands-free mode gives 8 kHz, which PulseAudio resamples
    for the recorder: the take keeps its words and the report names the narrowband audio."""
    room = spoken_in_a_quiet_room(8, seed=1)
    with pulse.mic_at(8000):
        run = Run("record", "--question", "deep-1", "--seconds", "8", "--json")
        run.wait_recording()
        feeder = pulse.feed(resampled(room, 8000), lead_s=0.0)
        try:
            code, out, err = run.finish()
        finally:
            feeder.stop()
    assert code == 0, err
    doc = json.loads(out)
    assert "reduced" in doc["transcript"].lower()
    assert doc["audio"]["problems"] == ["narrowband"] and doc["audio"]["high_band_db"] < NARROWBAND_DB - 5, doc["audio"]
    shown = runner.invoke(app, ["show", str(doc["take"]["id"])])
    assert "narrowband" in " ".join(shown.output.split()), shown.output


def test_the_recorder_hears_a_headset_in_hands_free_mode_while_it_records(pulse, tmp_path):
    """The live meter's "narrowband input" (output.report.narrowband_input) from the recorder's own
    bands, through PulseAudio: from an 8 kHz microphone yes, once NARROWBAND_MIN_VOICE_S of loud sound
    is in; from the 16 kHz one no. The recorder's bands are those of the file it wrote."""
    from starcoach.analysis.quality import NARROWBAND_MIN_VOICE_S
    from starcoach.audio.recorder import Recorder
    from starcoach.audio.stats import band_power
    from starcoach.output.report import narrowband_input

    answer = np.tile(speech(), 2)
    seen = {}
    for rate, samples in ((8000, resampled(answer, 8000)), (16000, answer)):
        ticks = []
        with pulse.mic_at(rate):
            feeder = pulse.feed(samples, lead_s=0.0)
            try:
                with Recorder(tmp_path / f"take{rate}.wav", max_seconds=9.0) as recorder:
                    while not recorder.wait(0.1):
                        named = narrowband_input(recorder)
                        ticks.append((recorder.loud_s, named))  # read after: at least what the check saw
            finally:
                feeder.stop()
        assert ticks and not any(named for loud, named in ticks if loud < NARROWBAND_MIN_VOICE_S), ticks
        seen[rate] = (narrowband_input(recorder), recorder.bands.high_band_db)
        written = band_power(load_audio(tmp_path / f"take{rate}.wav").samples)
        assert recorder.bands.high_band_db == pytest.approx(written.high_band_db, abs=0.01)
    assert seen[8000][0] is True and seen[16000][0] is False, seen
    assert seen[8000][1] < NARROWBAND_DB - 5 < NARROWBAND_DB + 20 < seen[16000][1], seen


def test_a_take_of_a_muted_microphone_says_so_and_the_id_comes_last(pulse):
    """A microphone giving nothing but digital silence: the take is kept, exit 3, one line that
    says the microphone looks muted, and the take id last on standard error with --json (it came
    before the line, against the README)."""
    run = Run("record", "--question", "deep-1", "--seconds", "3", "--json")
    run.wait_recording()
    feeder = pulse.feed(np.zeros(16000, np.float32), lead_s=0.0)  # then silence, as Feeder goes on
    try:
        code, out, err = run.finish()
    finally:
        feeder.stop()
    assert code == 3, err
    doc = json.loads(out)
    assert doc["no_speech"] is True and "silent_input" in doc["audio"]["problems"]
    lines = [ln for ln in err.splitlines() if ln.strip() and "recording take" not in ln]
    assert lines[-1] == str(doc["take"]["id"]), err
    said = [ln for ln in lines if ln.startswith("starcoach:")]
    assert len(said) == 1 and "digital silence" in said[0] and "mute" in said[0], err


def test_replay_is_heard_on_the_speakers(pulse, tmp_path):
    imported = runner.invoke(app, ["import", str(SAMPLES / "short-answer.flac"), "--question", "deep-1"])
    assert imported.exit_code == 0, imported.output
    take_id = int(imported.stdout.strip().splitlines()[-1])
    capture = tmp_path / "heard.raw"
    listener = pulse.listen(capture)
    time.sleep(0.5)
    played = subprocess.run([sys.executable, "-m", "starcoach", "play", str(take_id), "--from", "0.5"],
                            capture_output=True, text=True, timeout=60)
    time.sleep(0.5)
    listener.terminate()
    listener.wait()
    assert played.returncode == 0, played.stderr
    heard = np.frombuffer(capture.read_bytes(), dtype="<i2").astype(np.float32) / 32768
    sent = load_audio(SAMPLES / "short-answer.flac").samples[8000:]
    # Compare loudness envelopes (10 ms frames), aligned by cross-correlation.
    def env(x):
        n = len(x) // 160
        return np.sqrt((x[: n * 160].reshape(n, 160) ** 2).mean(axis=1))
    a, b = env(heard), env(sent)
    assert len(a) >= 0.9 * len(b), "less audio captured than was played"
    # The monitor yields nothing while the sink idles, so the capture may start late or early; and
    # it starts before `starcoach play` does, whose start-up took 0.77 s in a failed run (within
    # ±0.5 s it passed most runs: a flaky test, not a fault in play).
    corr = []
    for lag in range(-50, 301):
        x, y = (a[lag:], b) if lag >= 0 else (a, b[-lag:])
        n = min(len(x), len(y))
        corr.append(np.corrcoef(x[:n], y[:n])[0, 1])
    assert max(corr) > 0.95, max(corr)


def test_ctrl_c_keeps_the_audio(pulse):
    run = Run("record", "--question", "deep-1", stdin=subprocess.PIPE)  # no limit: runs until stopped
    started = run.wait_recording()
    feeder = pulse.feed(speech(), lead_s=0.3)
    time.sleep(6.0)
    run.proc.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    code, out, err = run.finish()
    feeder.stop()
    assert code == 0, err
    doc = show(int(out.strip().splitlines()[-1]))
    assert doc["take"]["stopped_by"] == "interrupt"
    assert doc["duration_s"] == pytest.approx(stopped - started, abs=0.6)
    assert "reduced" in doc["transcript"].lower()



def test_signals_while_the_take_is_finished_are_held_until_it_is_stored(pulse):
    """A second Ctrl+C, or a SIGTERM, just after the recording stopped (while the live
    transcriber and the audio stream wind down and the take is analysed) left the take marked
    as recording, and could kill the process in native code (SIGSEGV, a double free). Now the
    take is finished and stored first, then the process stops with the first signal's code."""
    run = Run("record", "--question", "deep-1", stdin=subprocess.PIPE)
    run.wait_recording()
    feeder = pulse.feed(speech(), lead_s=0.3)
    time.sleep(5.0)
    run.proc.send_signal(signal.SIGINT)  # ends the recording, as Enter would
    time.sleep(0.03)  # the finishing takes 0.2 s or more (the live transcriber's last chunk, the store)
    run.proc.send_signal(signal.SIGINT)  # impatient: a second Ctrl+C while it is being finished
    code, out, err = run.finish()
    feeder.stop()
    assert code == 130, err
    line = [ln for ln in err.splitlines() if ln.startswith("starcoach:")]
    assert len(line) == 1 and "is stored" in line[0], err
    take_id = int(line[0].split("take ")[1].split()[0])
    take = show(take_id)["take"]
    assert take["status"] == "complete" and take["stopped_by"] == "interrupt"
    assert "reduced" in show(take_id)["transcript"].lower()


def test_ctrl_c_as_the_microphone_opens_leaves_no_take_recording(pulse, home, monkeypatch):
    """A Ctrl+C between the microphone opening and the wait for a reason to stop (while the cue was
    printed) raised through the take: the recorder ran on, the take stayed marked as recording, and the
    line was a bare "interrupted". Now it stops the take as any Ctrl+C before the first block does."""
    import sqlite3

    import starcoach.cli.record as record

    def cue_then_ctrl_c(take_id, path):
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(record, "_announce", cue_then_ctrl_c)
    # as at a terminal: a suite run in the background starts with SIGINT ignored
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result = runner.invoke(app, ["record", "--question", "deep-1", "--seconds", "20"])
    finally:
        signal.signal(signal.SIGINT, old)
    with sqlite3.connect(home / "recordings" / "starcoach.db") as db:
        takes = db.execute("SELECT status, stopped_by FROM takes").fetchall()
    if result.exit_code == 1:  # as a Ctrl+C at any moment before the first block of audio
        assert result.stderr.strip() == ("starcoach: nothing was recorded (stopped before the first sound arrived); "
                                         "try again"), result.stderr
        assert takes == [] and not list((home / "recordings").glob("*/*.part")), "the partial recording is left"
    else:  # a block came first (a loaded machine): a take of it, stopped as any Ctrl+C stops one
        assert result.exit_code == 3, result.output  # no speech in it
        assert takes == [("complete", "interrupt")], takes


def test_a_line_piped_in_that_stops_the_take_at_once_says_to_give_seconds(pulse, home):
    """An audit (session 53): `printf 'f\\nq\\n' | starcoach practice -q deep-1` stopped the take on the first
    line before any audio came, and said "stopped before the first sound arrived; try again", which would
    only fail the same way: a line on standard input that is no terminal stops a take; --seconds is the way."""
    result = runner.invoke(app, ["record", "--question", "deep-1"], input="f\nq\n")
    if result.exit_code == 1:  # the line came before the first block of audio, as it did in the audit
        assert result.stderr.strip().endswith(
            "starcoach: nothing was recorded: a line on standard input (not a terminal) stopped the take before "
            "the first sound arrived; give --seconds N to record from a script"), result.stderr
    else:  # a block came first (a loaded machine): a take of it, stopped by the line
        assert result.exit_code == 3, result.output


def test_a_cue_that_fails_closes_the_microphone_and_leaves_no_take_recording(pulse, home, monkeypatch):
    """An error from the cue (a terminal gone) left the stream and its writer running to the end of the
    process and the take marked as recording (a review)."""
    import sqlite3
    import threading

    import starcoach.cli.record as record

    def cue_fails(take_id, path):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(record, "_announce", cue_fails)
    result = runner.invoke(app, ["record", "--question", "deep-1", "--seconds", "20"])
    assert result.exit_code != 0 and result.stderr.startswith("starcoach:"), result.output
    assert not [t.name for t in threading.enumerate() if t.name == "starcoach-writer"], "the recorder runs on"
    with sqlite3.connect(home / "recordings" / "starcoach.db") as db:
        assert db.execute("SELECT status FROM takes WHERE status = 'recording'").fetchall() == []


def _practice_at_a_terminal(*args: str) -> tuple[subprocess.Popen, int]:
    """`starcoach practice --question deep-1 ARGS` with a terminal (a pty) as its standard input;
    returns the process and the pty's master side, to type into."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "starcoach", "practice", "--question", "deep-1", *args],
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy(), preexec_fn=_as_from_a_terminal)
    _started.append(proc)
    os.close(slave)
    return proc, master


def _read_until(proc: subprocess.Popen, seen: str, marker: str, timeout: float = 90.0) -> str:
    """What the process printed until MARKER shows (or it ends, or TIMEOUT passes)."""
    end = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < end and proc.poll() is None:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 65536).decode(errors="replace")
            if not chunk:
                break
            seen += chunk
    return seen


@contextmanager
def _practice_session(pulse, *args: str, times: int = 4) -> Iterator[tuple[subprocess.Popen, int]]:
    """`practice` at a terminal (see :func:`_practice_at_a_terminal`) with a spoken answer fed to
    the virtual microphone from the start; the feeder, the process and the pty go on the way out.
    The answer is said four times over (about 20 s): once (5 s), it could end before a slow
    start-up began to record, and the take held only the feeder's silence (exit 3, "no speech")."""
    proc, master = _practice_at_a_terminal(*args)
    feeder = pulse.feed(np.tile(speech(), times), lead_s=0.0)
    try:
        yield proc, master
    finally:
        feeder.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_after_a_timed_take_at_a_terminal_the_first_answer_to_the_prompt_counts(pulse):
    """At a terminal, a take's Enter-watcher was left reading standard input when the take
    stopped at its --seconds limit, and ate the first answer to "(r)etake, (n)ext or (q)uit":
    the "q" was echoed and the prompt waited for another."""
    with _practice_session(pulse, "--seconds", "3") as (proc, master):
        seen = _read_until(proc, "", "(q)uit")  # the report, then the prompt
        assert "(q)uit" in seen, seen[-2000:]
        os.write(master, b"q\n")
        proc.wait(timeout=20)  # the first "q" ends the session
        assert proc.returncode == 0, proc.stderr.read()

def test_a_take_stopped_before_the_first_sound_asks_what_next_and_ends_no_session(pulse):
    """Enter at the cue, before the microphone had sent anything (a device slow to start; here
    nobody feeds the virtual one): "nothing was recorded …; try again", exit 1, and the practice
    session was over, where the README says Enter and Ctrl+C in `practice` ask what next."""
    proc, master = _practice_at_a_terminal()
    try:
        seen = _read_until(proc, "", "Recording.")
        assert "Recording." in seen, seen[-2000:]
        os.write(master, b"\n")
        seen = _read_until(proc, seen, "(q)uit")
        assert "Nothing was recorded: the take stopped before the microphone's first sound arrived" in \
            " ".join(seen.split()), \
            (seen[-2000:], proc.stderr.read() if proc.poll() is not None else "")
        os.write(master, b"q\n")
        proc.wait(timeout=30)
        assert proc.returncode == 0, proc.stderr.read()
        assert runner.invoke(app, ["takes", "--json"]).stdout.strip() == "[]"  # no take, none half-made
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_at_a_terminal_the_take_starts_with_its_cue_and_keys_typed_before_it_do_not_stop_it(pulse):
    """"Recording." was printed 0.7-1.1 s before the microphone opened (the device looked up and the
    live transcriber made after it): an answer begun at the cue lost its first second. And an Enter
    typed before the start (twice at the retake prompt, or in the countdown) was read as the stop:
    the take ended at 0:00 and the practice session with it. (And the echo of the Enter that stops
    a take moved the cursor, so the live meter left a stale line above the report.)"""
    proc, master = _practice_at_a_terminal("--seconds", "5")
    said = 0.3 * np.sin(2 * np.pi * 220 * np.arange(int(2.5 * 16000)) / 16000)  # 2.5 s from the cue on
    feeder, seen = None, ""
    try:
        end = time.monotonic() + 90
        while "(q)uit" not in seen and time.monotonic() < end:
            ready, _, _ = select.select([proc.stdout], [], [], 0.05)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536).decode(errors="replace")
                if not chunk:
                    break
                if "recording in" in chunk and "recording in" not in seen:
                    os.write(master, b"\n")  # in the countdown
                seen += chunk
                if feeder is None and "Recording." in seen:
                    feeder = pulse.feed(said.astype(np.float32), lead_s=0.0)
                    echo_while_recording = termios.tcgetattr(master)[3] & termios.ECHO
        assert "(q)uit" in seen, seen[-2000:] + proc.stderr.read()
        # keys are not echoed while recording (the echo of Enter left a stale meter line), and are again after
        assert echo_while_recording == 0 and termios.tcgetattr(master)[3] & termios.ECHO
        os.write(master, b"q\n")
        proc.wait(timeout=20)
        assert proc.returncode == 0, proc.stderr.read()
    finally:
        if feeder is not None:
            feeder.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    take = json.loads(runner.invoke(app, ["takes", "--json"]).stdout)[-1]
    assert take["stopped_by"] == "limit" and take["duration_s"] == pytest.approx(5.0, abs=0.15)
    x = load_audio(take["audio_path"]).samples
    loud = np.abs(x[: len(x) // 160 * 160]).reshape(-1, 160).max(axis=1) > 0.1  # 10 ms frames
    assert loud.sum() / 100 >= 2.3, loud.sum() / 100  # of the 2.5 s said from the cue on


def test_kill_9_then_recover_keeps_all_but_the_last_second(pulse):
    run = Run("record", "--question", "deep-1", stdin=subprocess.PIPE)
    started = run.wait_recording()
    feeder = pulse.feed(speech(), lead_s=0.3)
    time.sleep(5.0)
    run.proc.kill()
    killed = time.monotonic()
    run.proc.wait()
    feeder.stop()
    elapsed = killed - started
    result = subprocess.run([sys.executable, "-m", "starcoach", "recover"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "recovered take" in result.stdout
    take = json.loads(runner.invoke(app, ["takes", "--json"]).stdout)[-1]
    assert take["status"] == "recovered" and take["stopped_by"] == "crash"
    assert elapsed - 1.0 <= take["duration_s"] <= elapsed + 0.2
    assert "reduced" in show(take["id"])["transcript"].lower()


def test_full_disk_stops_cleanly_and_keeps_what_was_written(pulse, home, tmp_path):
    with mounted(home / "recordings", "-t", "tmpfs", "-o", "size=160k", "tmpfs", what="a small disk"):
        cfg = home / "config.toml"
        cfg.write_text(cfg.read_text().replace('database = "recordings/starcoach.db"', 'database = "db/starcoach.db"'))
        code, out, err = record_timed(pulse, 20, lead_s=0.3)
        assert code == 1
        assert "disk is full" in err and "kept in" in err and "Traceback" not in err, err
        take = json.loads(runner.invoke(app, ["takes", "--json"]).stdout)[-1]
        wav = Path(take["audio_path"])
        kept = load_audio(wav).duration_s
        assert 3.0 < kept < 5.5  # 160 kB of 16-bit mono at 16 kHz is 5 s, less the header
        assert take["duration_s"] == pytest.approx(kept, abs=0.1)


def test_no_input_device_is_one_clear_line(tmp_path):
    # ALSA's own configuration without the hooks that add the PulseAudio devices: what a
    # machine with no sound card and no sound server shows (these test machines have no card).
    system = Path("/usr/share/alsa/alsa.conf").read_text()
    start = system.index("@hooks")
    end = system.index("]\n\n", system.index("errors false", start)) + 2
    conf = tmp_path / "alsa.conf"
    conf.write_text(system[:start] + system[end:])
    env = dict(os.environ, ALSA_CONFIG_PATH=str(conf))
    env.pop("XDG_RUNTIME_DIR", None)
    for command in (["record", "--seconds", "1"], ["practice"]):
        r = subprocess.run([sys.executable, "-m", "starcoach", *command], env=env, capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        assert r.returncode == 1, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "no audio input device found" in lines[0], r.stderr
        assert "starcoach import" in lines[0]


def test_practice_shows_what_changed_since_the_last_take_of_the_question(pulse, tmp_path):
    """A retake is judged against the last take of its question that tells a story: the figures
    side by side. A false start between them ("Um, so, I", then Enter) is passed over: against it,
    the retake read "better" on every row."""
    import soundfile as sf

    from tests.conftest import espeak

    answer = espeak("Last spring our checkout service failed during the holiday sale. I rebuilt the connection "
                    "pool and added an alert, and errors fell by ninety percent.", tmp_path, name="answer")
    sf.write(tmp_path / "answer.wav", answer, 16000)
    sf.write(tmp_path / "false-start.wav", espeak("Um, so, I", tmp_path, name="start"), 16000)
    for name in ("answer.wav", "false-start.wav"):
        stored = runner.invoke(app, ["import", str(tmp_path / name), "--question", "deep-1"])
        assert stored.exit_code == 0, stored.output
    run = Run("practice", "--question", "deep-1", "--seconds", f"{len(answer) / 16000 + 2:.1f}")
    run.wait_recording()
    feeder = pulse.feed(answer, lead_s=0.5)
    try:
        code, out, err = run.finish()
    finally:
        feeder.stop()
    assert code == 0, err
    assert "Against your last take of this question (take 1)" in out, out
    assert "fillers per minute" in out and "starcoach compare 1 3" in out
    assert out.strip().splitlines()[-1] == "3", out  # the id last, as `record` prints it (it came before the table)


def test_unknown_device_index_lists_what_exists(pulse):
    r = subprocess.run([sys.executable, "-m", "starcoach", "record", "--seconds", "1", "--device", "99"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no input device with index 99" in lines[0] and "default" in lines[0]


def test_devices_lists_the_virtual_microphone(pulse):
    from starcoach.audio.recorder import list_devices

    inputs = [d for d in list_devices() if d.inputs > 0]
    assert inputs and any(d.is_default_input for d in inputs)
    result = runner.invoke(app, ["devices"])
    assert result.exit_code == 0, result.output
    assert "No input device" not in result.stdout
    assert any(d.name[:8] in result.stdout for d in inputs)


def test_recorded_take_works_with_compare_progress_and_export(pulse, tmp_path):
    code, out, err = record_timed(pulse, 7, lead_s=0.5)
    assert code == 0, err
    recorded = int(out.strip().splitlines()[-1])
    imported = runner.invoke(app, ["import", str(SAMPLES / "short-answer.flac"), "--question", "deep-1"])
    assert imported.exit_code == 0, imported.output
    # one sentence each tells no story, so `compare --question` leaves both out (as coverage does): by ids
    other = json.loads(runner.invoke(app, ["takes", "--json"]).stdout)[-1]["id"]
    pairs = json.loads(runner.invoke(app, ["compare", str(recorded), str(other), "--json"]).stdout)
    assert len(pairs) == 1 and pairs[0]["a"] == recorded and pairs[0]["b"] == other
    # the same sentence recorded and imported: the word diff is mostly shared words
    equal = sum(len(d["text"].split()) for d in pairs[0]["diff"] if d["op"] == "equal")
    assert equal >= 6
    for fmt in ("md", "srt", "vtt", "html", "json", "txt"):
        result = runner.invoke(app, ["export", str(recorded), "--format", fmt, "-o", str(tmp_path / f"t.{fmt}")])
        assert result.exit_code == 0, result.output
    assert "reduced" in (tmp_path / "t.txt").read_text().lower()
    assert runner.invoke(app, ["progress"]).exit_code == 0


def test_live_and_file_analysis_of_a_recorded_take_agree(pulse):
    """The figures of a take transcribed while it was recorded, and `analyze` of its saved audio:
    the same filled pauses within one per two minutes, the same long pauses (issue 14)."""
    answer = speech("demo-answer.flac")  # 44 s: two filled pauses, one long pause
    run = Run("record", "--question", "deep-1", "--seconds", f"{len(answer) / 16000 + 2:.1f}")
    run.wait_recording()
    feeder = pulse.feed(answer, lead_s=0.5)
    try:
        code, out, err = run.finish()
    finally:
        feeder.stop()
    assert code == 0, err
    live = show(int(out.strip().splitlines()[-1]))
    result = runner.invoke(app, ["analyze", live["take"]["audio_path"], "--json"])
    assert result.exit_code == 0, result.output
    whole = json.loads(result.stdout)

    def filled(doc):
        return [f["start"] for f in doc["fillers"] if f["kind"] == "filled_pause"]

    assert len(filled(whole)) >= 1, "the sample's filled pauses were not found at all"
    allowed = max(1, round(whole["duration_s"] / 120))
    assert abs(len(filled(live)) - len(filled(whole))) <= allowed, (filled(live), filled(whole))
    long_live = [p for p in live["pauses"] if p["long"]]
    long_whole = [p for p in whole["pauses"] if p["long"]]
    assert len(long_whole) >= 1 and len(long_live) == len(long_whole), (long_live, long_whole)
    for a, b in zip(long_live, long_whole):
        assert a["start"] == pytest.approx(b["start"], abs=0.5) and a["end"] == pytest.approx(b["end"], abs=0.5)
    assert live["audio"] is not None and live["audio"]["reliable"] is True
    assert live["audio"]["high_band_db"] == pytest.approx(whole["audio"]["high_band_db"], abs=1.0)


def test_keys_typed_while_recording_do_not_answer_the_question_after_the_take(pulse):
    """A live audit: a "q" typed while a take ran (not echoed, so not seen) was read with the Enter
    given at the prompt as "q": the session quit where the user asked for a retake. And the
    prompt's "[r]" (Enter retakes) was eaten by rich as markup."""
    with _practice_session(pulse, "--seconds", "3") as (proc, master):
        seen = _read_until(proc, "", "Recording.")
        os.write(master, b"q")  # no Enter: typed by mistake while recording
        seen = _read_until(proc, seen, "(q)uit")
        assert "(q)uit [r]:" in seen, seen[-500:]
        os.write(master, b"\n")  # Enter: retake
        seen = _read_until(proc, seen, "recording in", timeout=30)  # the retake's countdown
        assert proc.poll() is None and seen.count("recording in") >= 2, seen[-1500:]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_during_a_practice_take_stores_it_and_ends_the_session(pulse, sig):
    """A live audit: SIGTERM during a `practice` take kept the take but left the process waiting at
    "(r)etake, (n)ext or (q)uit"; only a second SIGTERM ended it. The README: the take is kept and
    analysed, and the exit is that of the take. SIGHUP (the terminal closed) killed the process outright,
    the take left for `recover` (another audit): it ends the take as SIGTERM does."""
    before = {t["id"] for t in json.loads(runner.invoke(app, ["takes", "--json"]).stdout)}
    with _practice_session(pulse) as (proc, _):
        _read_until(proc, "", "Recording.")
        time.sleep(4.0)
        proc.send_signal(sig)
        proc.wait(timeout=60)
        rest = proc.stdout.read()
        assert proc.returncode == 0, proc.stderr.read()  # the take's exit: it has speech
        assert "(q)uit" not in rest
    new = [t for t in json.loads(runner.invoke(app, ["takes", "--json"]).stdout) if t["id"] not in before]
    assert len(new) == 1 and new[0]["status"] == "complete" and new[0]["stopped_by"] == "interrupt", new


@pytest.mark.parametrize("sig, said", [(signal.SIGTERM, "stopped by SIGTERM"),
                                       (signal.SIGHUP, "stopped by SIGHUP")])
def test_sigterm_before_the_first_block_of_a_practice_take_ends_the_session(pulse, sig, said):
    """With no audio yet the take is "nothing recorded", which practice at a terminal answers by asking
    what next: a SIGTERM there was swallowed and the session went on (a review)."""
    proc, master = _practice_at_a_terminal()
    try:
        seen = _read_until(proc, "", "Recording.")
        proc.send_signal(sig)  # no audio fed yet: the take has no frames
        seen = _read_until(proc, seen, "(q)uit", timeout=30)
        assert proc.wait(timeout=30) == 128 + sig, f"practice went on after {sig!r}:\n" + seen[-400:]
        err = proc.stderr.read()
        assert f"starcoach: {said} before any audio came" in err, err
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_interrupt_while_the_report_is_shown_names_the_take_it_kept(pulse, monkeypatch):
    """Ctrl+C as the report began printed "starcoach: interrupted" alone: with the report cut off
    before its title, the take read as lost, though it was stored and complete."""
    import starcoach.output.report as report

    def cut_short(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(report, "render_take_result", cut_short)
    feeder = pulse.feed(speech(), lead_s=0.5)
    try:
        result = runner.invoke(app, ["record", "--question", "deep-1", "--seconds", "4"])
    finally:
        feeder.stop()
    assert result.exit_code == 130, result.output
    said = [ln for ln in result.stderr.splitlines() if ln.startswith("starcoach:")]
    assert said == ["starcoach: interrupted while the report was shown; take 1 is stored (`starcoach show 1`)"], \
        result.stderr
    assert show(1)["take"]["status"] == "complete"


def test_a_live_transcriber_that_fails_mid_take_costs_no_audio_and_the_file_is_analysed(pulse, monkeypatch):
    """The recorder hands each block to the live transcriber from its writer thread: an error there
    ended the thread, so the rest of the answer was never written. Now the listener is dropped, the
    audio is all kept, and the take is analysed from its file (the live transcript lacks blocks)."""
    from starcoach.asr.live import LiveTranscriber

    fed = []
    real_feed = LiveTranscriber.feed

    def feed_then_fail(self, block):
        fed.append(len(block))
        if len(fed) > 10:  # about a second in
            raise MemoryError("the live worker's queue could not grow")
        real_feed(self, block)

    def too_long(signum, frame):
        raise TimeoutError("the take never reached its 8 s: the writer thread had stopped")
    monkeypatch.setattr(LiveTranscriber, "feed", feed_then_fail)
    feeder = pulse.feed(speech(), lead_s=0.5)
    before = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(120)
    try:
        result = runner.invoke(app, ["record", "--question", "deep-1", "--seconds", "8"])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
        feeder.stop()
    assert result.exit_code == 0, result.output
    assert len(fed) == 11  # dropped at its first failure
    doc = show(1)
    assert load_audio(doc["take"]["audio_path"]).duration_s == pytest.approx(8.0, abs=0.15)
    assert doc["duration_s"] == pytest.approx(8.0, abs=0.15)
    late = [w["text"] for w in doc["words"] if w["start"] > 1.5]  # said after the live feed failed (1.1 s)
    assert len(late) >= 4 and "minutes" in " ".join(late).lower(), (late, doc["transcript"])


def test_a_take_that_ends_with_no_audio_leaves_no_live_worker_running(pulse):
    """An audit saw `record` end in a crash (SIGSEGV) once, after "the input device gave no audio for 5 s":
    a thread still ran at the interpreter's exit. The live transcriber's worker was left running on that
    path (and after Ctrl+C in the countdown); it is stopped with the take now."""
    import threading

    result = runner.invoke(app, ["record", "--question", "deep-1", "--seconds", "30"])  # nothing fed
    assert result.exit_code == 1 and "gave no audio for 5 s" in result.stderr, result.output
    assert [t.name for t in threading.enumerate() if t.name == "starcoach-live"] == []


def test_ctrl_c_in_the_countdown_leaves_no_live_worker_running(pulse, monkeypatch):
    """The same for a take ended before it began: Ctrl+C in the countdown (a review)."""
    import threading

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("starcoach.cli.record.interactive", lambda: True)  # the countdown is a terminal's
    monkeypatch.setattr("starcoach.output.report.countdown", interrupted)
    result = runner.invoke(app, ["record", "--question", "deep-1"])
    assert result.exit_code == 130 and "interrupted" in result.stderr, result.output
    assert [t.name for t in threading.enumerate() if t.name == "starcoach-live"] == []
    assert json.loads(runner.invoke(app, ["takes", "--json"]).stdout) == []


@pytest.mark.parametrize("trace", ["", "1"])
def test_closing_the_terminal_during_a_take_stores_it_analysed(pulse, trace):
    """A live audit: closing the terminal window (its pty's master side) while `record` recorded killed
    the process by SIGHUP: nothing analysed or stored, the take left "recording" until `recover`. The
    terminal here is the process's controlling one, and its output goes there too, as in a shell."""
    import fcntl
    import pty

    def own_terminal() -> None:
        _as_from_a_terminal()
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "starcoach", "record", "--question", "deep-1"], stdin=slave,
                            stdout=slave, stderr=slave, env={**os.environ, "STARCOACH_TRACE": trace},
                            preexec_fn=own_terminal)  # traced: its marks went to the closed terminal (a review)
    _started.append(proc)
    os.close(slave)
    feeder = pulse.feed(np.tile(speech(), 4), lead_s=0.0)
    try:
        seen, end = b"", time.monotonic() + 90
        while b"Recording." not in seen and time.monotonic() < end and proc.poll() is None:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        assert b"Recording." in seen, seen[-2000:]
        time.sleep(4.0)
        os.close(master)  # the window closed
        master = -1
        code = proc.wait(timeout=90)
    finally:
        feeder.stop()
        if master >= 0:
            os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    takes = json.loads(runner.invoke(app, ["takes", "--json"]).stdout)
    assert len(takes) == 1 and takes[0]["status"] == "complete" and takes[0]["stopped_by"] == "interrupt", takes
    assert show(takes[0]["id"])["words"], "the take was stored without its analysis"
    assert code == 129, code  # the report had nowhere to go: ended as the hang-up would (a review: 1, "I/O error")


def test_practice_asks_a_follow_up_aloud_and_keeps_the_answer_as_a_take_of_its_own(pulse):
    """`f` after a take: the story's next follow-up is asked and answered aloud, stored as
    "deep-1/follow-up-1" with its text, and reported as a follow-up answer (no STAR judgement)."""
    from starcoach.domain.document import FOLLOW_UP_NOTE
    from starcoach.takes.questions import load_bank

    follow_ups = load_bank().get("deep-1").follow_ups
    with _practice_session(pulse, "--seconds", "4", times=10) as (proc, master):  # two answers' worth
        seen = _read_until(proc, "", "(q)uit")
        assert "(f)ollow-up" in seen and follow_ups[0] not in seen, seen[-2000:]  # offered, not told
        os.write(master, b"f\n")
        asked = _read_until(proc, "", "(q)uit")  # the follow-up, its answer's report, the prompt again
        flat = " ".join(asked.split())
        assert f"Follow-up: {follow_ups[0]}" in flat and FOLLOW_UP_NOTE[:30] in flat, asked[-3000:]
        assert "STAR structure" not in asked, asked[-3000:]
        os.write(master, b"q\n")
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
    takes = json.loads(runner.invoke(app, ["takes", "--json"]).stdout)
    assert [(t["question_id"], t["question_text"]) for t in takes][-2:] == [
        ("deep-1", load_bank().get("deep-1").text), ("deep-1/follow-up-1", follow_ups[0])], takes
    assert show(takes[-1]["id"])["words"], "the follow-up answer has no words"


def test_a_follow_up_answered_with_no_speech_is_asked_again_not_passed_over(home, monkeypatch):
    """A review (session 52): `f` counted follow-ups asked, not answered: after a silent answer to
    follow-up 1 (or a take stopped at the cue), `f` asked follow-up 2, and follow-up 1 was never asked
    again unless one knew to retake. The loop's own logic, each take's recording left out."""
    import typer

    from starcoach.domain.errors import NothingRecorded
    from starcoach.takes.questions import load_bank

    takes: list[str] = []

    def record_one(cfg, analyzer, q, **kw):
        takes.append(q.id)
        if takes.count(q.id) == 1 and q.id == "deep-1/follow-up-1":
            raise typer.Exit(3)  # no speech found: the take is kept, the loop asks what next
        if takes.count(q.id) == 1 and q.id == "deep-1/follow-up-2":
            raise NothingRecorded("stopped at the cue")

    choices = iter(["follow-up", "follow-up", "follow-up", "follow-up", "follow-up", "quit"])
    monkeypatch.setattr("starcoach.cli.record._record_one", record_one)
    monkeypatch.setattr("starcoach.cli.record.interactive", lambda: True)
    monkeypatch.setattr("starcoach.cli.record.drop_typed_ahead", lambda: None)
    monkeypatch.setattr("starcoach.audio.recorder.find_device", lambda *a, **kw: None)
    monkeypatch.setattr("starcoach.output.report.ask_next", lambda question, console: next(choices))
    result = runner.invoke(app, ["practice", "--question", "deep-1"])
    assert result.exit_code == 0, result.output
    assert len(load_bank().get("deep-1").follow_ups) == 2
    assert takes == ["deep-1", "deep-1/follow-up-1", "deep-1/follow-up-1", "deep-1/follow-up-2",
                     "deep-1/follow-up-2", "deep-1/follow-up-1"], takes  # each asked again until answered; then round
