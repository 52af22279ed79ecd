from starcoach.domain.transcript import Word, join_words, merge_fragments


def test_number_pieces_become_one_word_with_the_whole_span():
    pieces = [Word("within", 0.0, 0.3, 0.9), Word("0", 0.3, 0.5, 0.8), Word(".2", 0.5, 0.7, 0.7),
              Word("%.", 0.7, 0.9, 0.95)]
    words = merge_fragments(pieces)
    assert [w.text for w in words] == ["within", "0.2%."]
    assert (words[1].start, words[1].end, words[1].probability) == (0.3, 0.9, 0.7)


def test_hyphenated_pieces_join_and_separate_words_stay_apart():
    words = merge_fragments([Word(" out-", 0, 1), Word("of-", 1, 2), Word("date", 2, 3), Word(" data", 3, 4),
                             Word(" ", 4, 4)])
    assert [w.text for w in words] == ["out-of-date", "data"]


def test_an_ampersand_inside_a_name_joins_it_and_one_between_words_does_not():
    """Whisper times "AT&T" as "AT" and "&T,": exports and the STAR sentences read "AT &T", and the
    pace counted two words."""
    words = merge_fragments([Word(" at", 0, 1), Word(" AT", 1, 2), Word("&T,", 2, 3), Word(" R&", 3, 4),
                             Word("D", 4, 5), Word(" rock", 5, 6), Word(" &", 6, 7), Word(" roll", 7, 8)])
    assert [w.text for w in words] == ["at", "AT&T,", "R&D", "rock", "&", "roll"]
    assert join_words(["at", "AT", "&T,", "rock", "&", "roll"]) == "at AT&T, rock & roll"


def test_join_words_glues_the_same_pieces():
    assert join_words(["3", "%", "of", "out", "-of", "0", ".2%"]) == "3% of out-of 0.2%"


def test_a_transcript_without_some_words_rewrites_the_segments_that_lost_them():
    from starcoach.domain.transcript import Segment, Transcript, Word

    a = (Word("We", 0.0, 0.2), Word("shipped", 0.2, 0.5), Word("it.", 0.5, 0.8), Word("Um,", 0.9, 0.9))
    b = (Word("Uh,", 1.5, 1.5), Word("er.", 1.5, 1.5))
    t = Transcript(segments=(Segment(0.0, 0.9, " We shipped it. Um,", a), Segment(1.5, 1.5, " Uh, er.", b)),
                   duration_s=2.0)
    kept = t.without({3, 4, 5})
    assert [w.text for w in kept.words] == ["We", "shipped", "it."] and kept.text == "We shipped it."
    assert len(kept.segments) == 1 and kept.segments[0].end == 0.8 and kept.duration_s == 2.0
    assert t.without(set()) == t and t.without({1}).text == "We it. Um, Uh, er."
