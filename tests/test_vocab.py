"""Each word list starcoach listens for is defined once, in ``domain/vocab.py``.

A copy elsewhere drifts (the filled-pause list of the STAR checker once differed from
the filler finder's). This looks at every string, set, list and tuple literal in the
package and flags one that repeats three or more words of a vocabulary, or spells a
filled pause the way the regex does.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from starcoach.domain import vocab

SRC = Path(__file__).resolve().parents[1] / "src" / "starcoach"
VOCABULARIES = {
    "I_WORDS": vocab.I_WORDS,
    "WE_WORDS": vocab.WE_WORDS,
    "PARTS": frozenset(vocab.PARTS),
    "NUMBER_WORDS": vocab.NUMBER_WORDS,
    "filled pauses": frozenset("um umm uh uhh er erm ah hmm mm".split()),
}
REGEX_SPELLING = re.compile(r"u\+m|u\+h|e\+r\+")


def _literals(tree: ast.AST):
    """(line, words, raw text) of each string, and each set/list/tuple of strings."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Set, ast.List, ast.Tuple)):
            items = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(items) >= 3:
                yield node.lineno, set(items), " ".join(items)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, set(re.findall(r"[a-z']+", node.value.lower())), node.value


def _copies(path: Path) -> list[str]:
    found = []
    for node_line, words, raw in _literals(ast.parse(path.read_text())):
        for name, words_of in VOCABULARIES.items():
            if len(words & words_of) >= 3 and not _prose(raw):
                found.append(f"{path.relative_to(SRC)}:{node_line} repeats {name}")
        if REGEX_SPELLING.search(raw):
            found.append(f"{path.relative_to(SRC)}:{node_line} spells the filled-pause regex")
    return found


def _prose(text: str) -> bool:
    """Messages and docstrings are sentences, not lists: many words, few from any list."""
    return len(text.split()) > 12


@pytest.mark.parametrize("path", [p for p in sorted(SRC.rglob("*.py")) if p.name != "vocab.py"],
                         ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_keeps_its_own_copy_of_a_vocabulary(path):
    assert _copies(path) == []


def test_the_check_finds_a_copy(tmp_path, monkeypatch):
    copy = tmp_path / "copy.py"
    copy.write_text('WE = frozenset("we us our".split())\nRX = r"\\b(?:u+m+|u+h+)\\b"\n')
    monkeypatch.setattr(__import__(__name__), "SRC", tmp_path)
    assert len(_copies(copy)) == 2


def test_the_vocabulary_itself():
    assert all(vocab.is_filled_pause(t) for t in ("um", "ummm", "uh", "er", "erm", "ah", "hmm", "mm"))
    assert not any(vocab.is_filled_pause(t) for t in ("us", "are", "her", "umbrella", "oh", "a"))
    assert vocab.FILLED_PAUSE_IN_TEXT.sub("", "so um, i uh fixed it") == "so i fixed it"
    # a hum in two beats, as Whisper writes one ("Right, mm-mm, our release...")
    assert all(vocab.is_filled_pause(t) for t in ("mm-mm", "mm-hmm", "hmm-mm", "m-hm", "mhm"))
    assert not any(vocab.is_filled_pause(t) for t in ("uh-huh", "uh-uh", "mm-yes", "hmm-", "-mm", "him-him"))
    assert vocab.FILLED_PAUSE_IN_TEXT.sub("", "right mm-mm, our release took a day") == "right our release took a day"
    assert vocab.words_rx(vocab.WE_WORDS).findall("we're sure our team, not us, did it") == ["we're", "our", "us"]
