"""STARCOACH_TRACE: the benchmark's stage marks, on only when asked for."""

from __future__ import annotations

import importlib

import pytest

from starcoach.domain import trace


@pytest.mark.parametrize("value, on", [
    ("1", True), ("yes", True), ("true", True), ("on", True), ("2", True),
    ("0", False), ("false", False), ("FALSE", False), ("no", False), ("off", False), (" Off ", False), ("", False),
    (None, False),
])
def test_trace_is_on_only_for_a_value_that_says_on(monkeypatch, capsys, value, on):
    """`STARCOACH_TRACE=0` turned tracing on: any value that was not empty did."""
    if value is None:
        monkeypatch.delenv("STARCOACH_TRACE", raising=False)
    else:
        monkeypatch.setenv("STARCOACH_TRACE", value)
    try:
        importlib.reload(trace).mark("analysed")
        assert ("starcoach-trace" in capsys.readouterr().err) == on
    finally:
        monkeypatch.undo()
        importlib.reload(trace)
