#!/usr/bin/env bash
# Set up starcoach on a Debian/Ubuntu machine: system packages (only the missing
# ones), then a virtual environment in .venv. Safe to run again: it does only what
# is missing. `scripts/setup.sh --test` adds what the tests need.
set -euo pipefail
cd "$(dirname "$0")/.."

# Runtime: sounddevice's PortAudio, libsndfile, and ALSA's plugins (the route to a
# PulseAudio/PipeWire sound server).
APT_PACKAGES=(python3-venv libportaudio2 libsndfile1 libasound2-plugins)
EXTRAS=""
if [ "${1:-}" = "--test" ]; then
  # Tests: a PulseAudio server for the virtual microphone, espeak-ng and sox for speech
  # fixtures, flite and Festival (three voices) for the held-out voices of `make eval-voices`,
  # and a real headless Chromium for the HTML export. gcc, libc and Python's headers build the
  # ttspico package (SVOX Pico's voices, also held out; it has no wheel).
  APT_PACKAGES+=(pulseaudio pulseaudio-utils alsa-utils espeak-ng flite sox chromium chromium-driver
                 festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts gcc libc6-dev python3-dev)
  EXTRAS="[test]"
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: starcoach needs Python 3.11 or later, and $PY is $("$PY" -V 2>&1 || echo "not found"): install a" \
       "newer one (apt-get install python3.11 python3.11-venv, say) and run again with PYTHON=python3.11" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=".venv/.starcoach-installed${EXTRAS:+-test}"
if [ -z "$EXTRAS" ] && [ -f .venv/.starcoach-installed-test ]; then
  stamp=".venv/.starcoach-installed-test"  # the test install holds the runtime one
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  echo "setup: installing starcoach${EXTRAS} into .venv (first time: about 300 MB of packages)"
  .venv/bin/python -m pip install -q --upgrade pip
  # constraints.txt pins the libraries whose versions change the numbers.
  .venv/bin/python -m pip install -q -c constraints.txt -e ".${EXTRAS}"
  touch "$stamp"
fi
