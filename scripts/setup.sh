#!/usr/bin/env bash
# Set up starcoach on a Debian/Ubuntu machine: system packages (only the missing
# ones), then a virtual environment in .venv with starcoach and its test tools.
# Safe to run again; it does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# libportaudio2: sounddevice's PortAudio. pulseaudio, pulseaudio-utils and
# libasound2-plugins: the sound server and the ALSA->Pulse route the tests' virtual
# microphone uses. espeak-ng and sox: speech fixtures for tests.
APT_PACKAGES=(python3-venv libportaudio2 libsndfile1 pulseaudio pulseaudio-utils libasound2-plugins
              alsa-utils espeak-ng sox)
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
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import starcoach, pytest" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.starcoach-installed ]; then
  echo "setup: installing starcoach into .venv (first time: about 300 MB of packages)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test]"
  touch .venv/.starcoach-installed
fi
