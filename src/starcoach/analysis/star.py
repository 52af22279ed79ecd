"""The STAR checker: Situation, Task, Action, Result and Learning in an answer.

Two labellers: the learned sentence tagger (``star_learned.py``) and the hand-written rules
(``star_rules.py``). ``[star] tagger`` chooses: "hybrid" (the default: the learned tagger, the
rules settling the parts it is unsure of), "learned" or "rules"; docs/star.md. Each gives a
:class:`StarReport` (``star_report.py``) with the same coach's notes (``star_coach.py``).
"""

from __future__ import annotations

import re

from ..domain.transcript import Word
from ..domain.vocab import PARTS
from .answer_text import export_pace
from .star_coach import coach
from .star_report import (Feedback, PartReport, Sentence, StarOptions, StarReport, _not_a_story, no_story,
                          unless_too_short)
from .star_rules import _hypothetical, label_sentences, split_spoken, split_text

__all__ = ["PARTS", "Feedback", "PartReport", "Sentence", "StarOptions", "StarReport", "check_spoken",
           "check_text", "label_sentences", "split_text"]


# --- the report -----------------------------------------------------------------

def check_text(text: str, *, options: StarOptions | None = None) -> StarReport:
    """Run the STAR checker on a written answer (no part is judged in one too short to tell a
    story: :func:`.star_report.unless_too_short`)."""
    opts = options or StarOptions()
    if opts.tagger in ("learned", "hybrid"):
        from .star_learned import check_text_learned

        return _unless_too_short_read(check_text_learned(text, options=opts))
    sentences = split_text(text)
    return _unless_too_short_read(_report([(s, None, None, len(s.split())) for s in sentences], spoken=False,
                                          duration_s=None, quantified=None, i_we=None, options=opts,
                                          written_wpm=export_pace(text)))


def _unless_too_short_read(report: StarReport) -> StarReport:
    """:func:`.star_report.unless_too_short` on the sentences read as the answer: a title, headings,
    labels and an export's own lines are not its words (a five-word answer under a title was
    judged, the same answer alone was too short to tell)."""
    return unless_too_short(report, " ".join(s.text for s in report.sentences))


def check_spoken(
    words: tuple[Word, ...] | list[Word],
    *,
    duration_s: float,
    filler_word_indexes: set[int] | frozenset[int] = frozenset(),
    options: StarOptions | None = None,
) -> StarReport:
    """Run the STAR checker on a transcribed answer.

    Args:
        words: the recognised words.
        duration_s: the speaking time judged against the target length.
        filler_word_indexes: indexes of words that are fillers; left out of the text
            the checker reads.
        options: settings; defaults if None.
    """
    opts = options or StarOptions()
    said = " ".join(w.text for i, w in enumerate(words) if i not in filler_word_indexes)
    if opts.tagger in ("learned", "hybrid"):
        from .star_learned import check_spoken_learned

        return unless_too_short(check_spoken_learned(words, duration_s=duration_s,
                                                     filler_word_indexes=filler_word_indexes, options=opts), said)
    pieces = split_spoken(words, skip=filler_word_indexes, pause_s=opts.split_pause_s)
    return unless_too_short(_report(pieces, spoken=True, duration_s=duration_s, quantified=None, i_we=None,
                                    options=opts), said)


def _report(pieces, *, spoken, duration_s, quantified, i_we, options: StarOptions,
            written_wpm: float | None = None) -> StarReport:
    labels = label_sentences([p[0] for p in pieces])
    sentences = tuple(
        Sentence(text=text, label=label, start=start, end=end, words=n, cues=cues, hypothetical=_hypothetical(text))
        for (text, start, end, n), (label, cues) in zip(pieces, labels)
    )
    total_words = sum(s.words for s in sentences) or 1
    total_time = sum(s.duration for s in sentences) if spoken else 0.0
    parts = {}
    for p in PARTS:
        idx = tuple(i for i, s in enumerate(sentences) if s.label == p)
        words = sum(sentences[i].words for i in idx)
        time = sum(sentences[i].duration for i in idx) if spoken else None
        parts[p] = PartReport(
            present=bool(idx),
            sentences=idx,
            share_words=round(words / total_words, 3),
            share_time=round(time / total_time, 3) if time is not None and total_time else None,
        )
    not_story = _not_a_story(sentences, options)
    if not_story:
        sentences, parts = no_story(sentences, parts)
    feedback, strengths, improvements, rating = coach(sentences, parts, spoken, duration_s, options,
                                                      not_story=not_story, written_wpm=written_wpm)
    return StarReport(sentences=sentences, parts=parts, feedback=feedback, rating=rating,
                      strengths=strengths, improvements=improvements, spoken=spoken,
                      duration_s=duration_s, options=options, not_a_story=not_story)


# Words that are common in other languages' prose and rare in English: a written answer full of them
# is not English, and both STAR taggers read English only (an audit: a Spanish answer got "No Task",
# "No Action" and a Situation quoted as the closest lesson). Function words only, so a few quoted names
# do not count; measured in docs/star.md ("Another language").
_OTHER_LANGUAGE_WORDS = frozenset("""
    el los las del y que por para una con es fue mi nuestro nuestra pero como más este esta al se lo su sus
    le les des et est je nous pour dans avec qui pas sur ce cette mon notre été aux une de la à un du au en avons
    sont ont était di ho
    der das und ist nicht ich wir mit ein eine zu den dem auf für von sich auch
    não com foi meu nosso da dos das
    il gli della che non sono mio nostro
""".split())
_ELIDED = re.compile(r"(?:l|j|d|n|qu|c|s|m)['’][^\W\d_]")  # French "l'année", "j'ai", "qu'il"
_ENGLISH_WORDS = frozenset("""the and of to is was that with for it this my we our i he she they have had were been
    from by at which would could because when what""".split())


def other_language(text: str) -> tuple[str, ...]:
    """The other languages' function words of TEXT, when they outnumber its English ones three to one
    and are at least eight (else empty): a written answer in another language."""
    words = [w.strip(".,;:!?¿¡\"'()«»“”").lower() for w in text.split()]
    other = [w for w in words if w in _OTHER_LANGUAGE_WORDS or _ELIDED.match(w)]
    english = sum(w in _ENGLISH_WORDS for w in words)
    return tuple(dict.fromkeys(other)) if len(other) >= 8 and len(other) > 3 * english else ()
