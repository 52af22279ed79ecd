"""Filler rules: a table of filler and non-filler uses of each word."""

import pytest

from starcoach.analysis.fillers import find_fillers, find_repetitions, only_filled_pauses, unsaid_filled_pauses
from starcoach.domain.vocab import DISCOURSE, FILLED, is_filled_pause
from starcoach.domain.transcript import Word


def words_of(text: str) -> list[Word]:
    return [Word(t, i * 0.3, i * 0.3 + 0.25) for i, t in enumerate(text.split())]


def found(text: str) -> list[str]:
    return [f.text for f in find_fillers(words_of(text))]


@pytest.mark.parametrize("token, expected", [
    ("um", True), ("umm", True), ("uh", True), ("uhh", True), ("er", True), ("erm", True), ("ah", True),
    ("hmm", True), ("mm", True), ("uhm", True),
    ("a", False), ("mum", False), ("her", False), ("m", False), ("umbrella", False), ("ahead", False),
])
def test_filled_pause_spellings(token, expected):
    assert is_filled_pause(token) is expected


@pytest.mark.parametrize("text, expected", [
    # filled pauses are fillers everywhere, punctuation or not
    ("So, um, our pipeline failed.", ["so", "um"]),
    ("I restarted the uh job manually.", ["uh"]),
    ("Uhh, I think so.", ["uhh"]),
    # like: filler uses
    ("It was, like, a huge mess.", ["like"]),
    ("It looked like, like, a simple bug.", ["like"]),
    ("They migrated within like two months.", ["like"]),
    ("It took like 45 minutes.", ["like"]),
    ("Produced engagement, like metrics with lag.", ["like"]),
    ("I presented results and, like risks.", ["like"]),
    ("Like, nobody owned the pipeline.", ["like"]),
    # like: content uses
    ("I like working with data.", []),
    ("It looks like a capacity problem.", []),
    ("I would like to lead it.", []),
    ("It felt like a, uh, capacity problem.", ["uh"]),
    ("We used tools like Kafka and Flink.", []),
    ("We used tools, like the profiler.", []),
    ("Things like that happen.", []),
    ("I'd like to add.", []),
    # you know
    ("Under, you know, five minutes.", ["you know"]),
    ("You know, our numbers were off.", ["you know"]),
    ("Do you know what happened?", []),
    ("You know the drill.", []),
    ("As you know, we ship weekly.", []),
    # I mean
    ("So, I mean, users can analyze both.", ["so", "I mean"]),
    ("I mean, it worked.", ["I mean"]),
    ("That is what I mean by ownership.", []),
    ("I mean it.", []),
    # sort of / kind of
    ("We kind of rushed the launch.", ["kind of"]),
    ("It was sort of slow.", ["sort of"]),
    ("What kind of tool is it?", []),
    ("A kind of tool for tracing.", []),
    # sentence adverbs set off by commas
    ("Basically, the job ran out of memory.", ["basically"]),
    ("It actually improved by 40%.", []),
    ("We were, literally, out of disk.", ["literally"]),
    # clause-initial so
    ("So, we rolled back.", ["so"]),
    ("So we rolled back.", []),
    ("I did it so that we could ship.", []),
])
def test_filler_rules(text, expected):
    assert found(text) == expected


def test_kinds_and_times():
    fillers = find_fillers(words_of("So, um, it was, you know, late."))
    kinds = {f.text: f.kind for f in fillers}
    assert kinds == {"so": DISCOURSE, "um": FILLED, "you know": DISCOURSE}
    you_know = next(f for f in fillers if f.text == "you know")
    assert you_know.start == pytest.approx(0.3 * 4) and you_know.end == pytest.approx(0.3 * 5 + 0.25)


@pytest.mark.parametrize("text, expected", [
    ("I I decided to roll back.", ["i"]),
    ("We we decided, um, we we shipped.", ["we", "we"]),
    ("I was, I was the owner.", ["i was"]),
    ("It was very very slow.", []),
    ("We had had enough of the outages.", []),
    ("We cut it from 10 10 minutes.", []),
    ("The team shipped it.", []),
])
def test_repetitions(text, expected):
    words = words_of(text)
    reps = find_repetitions(words, find_fillers(words))
    assert [r.text for r in reps] == expected


@pytest.mark.parametrize("text, expected", [
    ("Um, uh.", True),  # noise that came back as filled pauses alone: no answer
    ("Um.", True),
    ("Um, we shipped it.", False),  # one filled pause in an answer is an answer with a filler
    ("We shipped it.", False),
    ("", False),
])
def test_only_filled_pauses_is_an_answer_of_nothing_else(text, expected):
    assert only_filled_pauses(words_of(text)) is expected


def test_unsaid_filled_pauses_are_the_filled_pause_words_no_counted_filler_stands_for():
    words = words_of("So, um, we shipped. Um, uh, um.")
    counted = [f for f in find_fillers(words) if f.start < 1.0]  # the prompt read back at the end is not counted
    assert [words[i].text for i in sorted(unsaid_filled_pauses(words, counted))] == ["Um,", "uh,", "um."]
    assert unsaid_filled_pauses(words, find_fillers(words)) == set()
