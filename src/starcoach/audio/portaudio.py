"""Starting PortAudio (through sounddevice) without letting a broken sound system kill us.

Only :mod:`.recorder` uses this; every command that needs no device never imports
sounddevice at all.
"""

from __future__ import annotations

from typing import Any

from ..domain.errors import DeviceError

_PROBED: list[bool] = []


def sounddevice() -> Any:
    """sounddevice, once a child process has shown that PortAudio starts here.

    Importing sounddevice starts PortAudio, and a broken ALSA configuration
    (``ALSA_CONFIG_PATH=/dev/null``, say) makes that abort the whole process with
    SIGABRT, where no handler runs. So the first start happens in a child: if it dies,
    we say so in one line; if it lives, starting here is safe.

    Raises:
        DeviceError: PortAudio is missing, or cannot start here.
    """
    if not _PROBED:
        _probe_portaudio()
        _PROBED.append(True)
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio library missing
        raise DeviceError(f"PortAudio is not available ({exc}); install libportaudio2") from None
    return sd


_PROBE = "import sounddevice as sd; sd.query_devices()"


def _probe_portaudio(timeout_s: float = 20.0) -> None:
    import signal
    import subprocess
    import sys

    try:
        child = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=timeout_s,
                               stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise DeviceError(f"the sound system did not start within {timeout_s:.0f} s (PortAudio hangs); check that "
                          "PulseAudio or PipeWire is running (`pactl info`)") from None
    except OSError as exc:
        raise DeviceError(f"cannot check the sound system ({exc.strerror})") from None
    if child.returncode == 0:
        return
    lines = [ln.strip() for ln in child.stderr.splitlines() if ln.strip()]
    if child.returncode < 0:
        try:
            name = signal.Signals(-child.returncode).name
        except ValueError:
            name = f"signal {-child.returncode}"
        said = f": {lines[-1]}" if lines else ""
        raise DeviceError(f"the sound system crashed while starting ({name}{said}); check the ALSA "
                          "configuration (ALSA_CONFIG_PATH, ~/.asoundrc, /etc/asound.conf)")
    last = lines[-1] if lines else f"exit status {child.returncode}"
    if "OSError" in last or "PortAudio library not found" in last:
        raise DeviceError(f"PortAudio is not available ({last}); install libportaudio2")
    raise DeviceError(f"the sound system cannot start ({last}); check the audio setup with `pactl info`")


def skip_portaudio_exit() -> None:
    """A stream that would not stop also hangs PortAudio's shutdown, which sounddevice
    runs at exit: leave that to the operating system, or the process never ends."""
    import atexit
    import sys

    sd = sys.modules.get("sounddevice")
    handler = getattr(sd, "_exit_handler", None)
    if handler is not None:
        atexit.unregister(handler)
