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


def test_join_words_glues_the_same_pieces():
    assert join_words(["3", "%", "of", "out", "-of", "0", ".2%"]) == "3% of out-of 0.2%"
