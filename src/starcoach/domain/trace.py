"""Stage marks for the latency benchmark.

With ``STARCOACH_TRACE=1`` in the environment, :func:`mark` writes
``starcoach-trace MONOTONIC_SECONDS LABEL`` to stderr; the monotonic clock is the
system's, so ``bench/bench.py`` can subtract its own timestamps from these.
Otherwise (unset, empty, or ``0``, ``false``, ``no``, ``off``) it does nothing.
"""

from __future__ import annotations

import os
import sys
import time

_OFF = ("", "0", "false", "no", "off")
_ON = os.environ.get("STARCOACH_TRACE", "").strip().lower() not in _OFF


def mark(label: str) -> None:
    if _ON:
        try:
            print(f"starcoach-trace {time.monotonic():.4f} {label}", file=sys.stderr, flush=True)
        except OSError:  # a terminal closed mid-take (a review): the take is finished and stored all the same
            pass
