"""The words starcoach listens for, each list defined here and nowhere else.

``tests/test_vocab.py`` checks that no other module keeps a copy of one of these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Filled pauses: um, uh, er, ah, hmm, erm and their stretched spellings ("ummm", "uhh"), and a
# hum in two beats written with a hyphen ("mm-mm", "mm-hmm", "hmm-mm"). (Not "uh-huh" or
# "uh-uh": those are a yes and a no.)
_HUMS = r"h*m+h*m*(?:-h*m+h*m*)+"
FILLED_PAUSE = re.compile(rf"^(?:{_HUMS}|u+m+|u+h+m*|e+r+m*|e+r+|a+h+|a+h+m+|h+m+|m+h*m+|hm+)$")
# The same, found inside running text (a word on its own, optionally followed by a comma).
FILLED_PAUSE_IN_TEXT = re.compile(rf"\b(?:{_HUMS}|u+m+|u+h+m*|e+r+m*|e+r+|a+h+m*|h+m+|m+h*m+)\b,?\s*")

# Given to Whisper as the "previous text", it makes the model write the filled pauses
# it otherwise cleans away (see TranscribeOptions.initial_prompt).
FILLER_PROMPT = "Um, uh, hmm, er, ah."

# The common written spellings of a filled pause, for code that looks tokens up in a set.
FILLED_PAUSE_SPELLINGS = frozenset("um umm uh uhh er erm ah hmm mm mhm".split())

# The discourse fillers the filler finder can mark (analysis/fillers.py decides when a word is
# one: "I like" is not), lower case; for code that reads words it marked, as an export's *like*.
SENTENCE_ADVERB_FILLERS = frozenset({"basically", "actually", "literally"})
DISCOURSE_FILLERS = SENTENCE_ADVERB_FILLERS | {"like", "you know", "i mean", "sort of", "kind of", "so"}

# The two kinds of filler.
FILLED = "filled_pause"
DISCOURSE = "discourse"

# Numbers said as words. Whisper writes most small numbers this way ("from four a quarter to
# zero"), written answers mostly as figures; both STAR checkers read the two alike. "one" is not
# here: it is as often a pronoun ("no one", "the one who").
NUMBER_WORDS = frozenset(
    "zero two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands "
    "million millions billion billions dozen dozens half".split())

# A quantity said as a multiple ("halved", "doubled", "tenfold"): a figure as much as "50%" is.
MULTIPLE_WORDS = frozenset(
    "halved halve doubled double tripled triple quadrupled twice twofold threefold fourfold fivefold sixfold "
    "sevenfold eightfold ninefold tenfold twentyfold fiftyfold hundredfold thousandfold".split())
# Time saved said with "a": "a day earlier", "an hour faster".
SOONER_WORDS = frozenset("earlier sooner faster quicker ahead early".split())

# Who did it: the speaker, or the team.
I_WORDS = frozenset("i i'm i've i'd i'll me my mine myself".split())
WE_WORDS = frozenset("we we're we've we'd we'll us our ours ourselves".split())
# Who did it: the subjects alone ("I migrated our database" is said in the first person).
I_SUBJECTS = frozenset("i i'm i've i'd i'll".split())
WE_SUBJECTS = frozenset("we we're we've we'd we'll".split())

# The parts of a STAR answer, in the order a story tells them (the fifth is the lesson).
PARTS = ("situation", "task", "action", "result", "learning")
CORE_PARTS = PARTS[:4]
PART_TITLES = {"situation": "Situation", "task": "Task", "action": "Action", "result": "Result",
               "learning": "Learning"}


# Words that name nothing in particular, lower case: a story is told apart by its other words.
STORY_STOP_WORDS = frozenset(
    """the a an and or but so to of in on at for with from by as is was were be been it its this that these those
    we our us i my me you your they them their he she his her had have has did do does not no then than there
    which who what when where how about into over under after before also just very really um uh like know
    mean""".split()
)
# A text with fewer identifying words than this is too short to be told apart as a story (a
# false start, a test): coverage counts it as no story, compare and progress leave it out. The
# 229 written stories of ../shared/star-corpus have 12 to several hundred (5th percentile 37); a
# one-sentence summary of a story has about ten. (The STAR checker's own, lower bound, under which
# it judges no part: star_report.TOO_SHORT_WORDS.)
MIN_STORY_WORDS = 8
_NOT_WORD = re.compile(r"[^\w%]")


def identifying_words(words: Iterable[str]) -> frozenset[str]:
    """The WORDS that identify a story (names, numbers, nouns): lower case without punctuation,
    longer than three letters and not in :data:`STORY_STOP_WORDS`, or holding a digit."""
    bare = {_NOT_WORD.sub("", w.lower()) for w in words}
    return frozenset(w for w in bare if len(w) > 3 and w not in STORY_STOP_WORDS or any(c.isdigit() for c in w))


def is_filled_pause(token: str) -> bool:
    """True for um, uh, er, ah, hmm, erm and their stretched spellings."""
    return bool(FILLED_PAUSE.match(token))


def alternatives(words: frozenset[str]) -> str:
    """``words`` as a regex alternation, longest first (so "hundreds" is tried before "hundred")."""
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


def words_rx(words: frozenset[str]) -> re.Pattern[str]:
    """A regex finding any of ``words`` as a whole word in lower-case text."""
    return re.compile(r"(?<![\w'])(?:" + alternatives(words) + r")(?![\w'])")
