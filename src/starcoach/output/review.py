"""The review views: the list of takes, two takes compared, progress over takes, stories per principle."""

from __future__ import annotations

from typing import TYPE_CHECKING, AbstractSet, Any

from ..domain.document import follow_up_of
from ..domain.transcript import plural

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from ..takes.take import Take


# --- the list of takes ------------------------------------------------------------------

def _local_time(stamp: str) -> str:
    """A take's start, stored with the UTC offset of where it was made, as this machine's clock
    reads it now: one clock down the list (a take made under another offset, after travelling or
    a change of summer time, read "03:18" below an earlier "11:18"). Unreadable: as stored."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(stamp)
        return (moment.astimezone() if moment.tzinfo else moment).isoformat(sep=" ", timespec="minutes")
    except (TypeError, ValueError, OverflowError, OSError):  # year 1 or 9999 moved out of range
        return str(stamp).replace("T", " ")


def render_takes(takes: list["Take"], console: "Console", unlisted: int = 0, *, among: int | None = None) -> None:
    """AMONG: how many takes there are in all, when TAKES are those a filter (--question, --lp) chose."""
    from rich.table import Table

    if not takes:
        # With recordings the database does not list, "no takes yet" would be untrue; so with takes a
        # filter left out.
        if among:
            console.print(f"No takes match (of {plural(among, 'take')} in all; `starcoach takes` lists them).")
        else:
            console.print("No takes listed." if unlisted else
                          "No takes yet. Record one with `starcoach practice` or `starcoach record`.")
        return
    from datetime import datetime

    from rich import box
    from rich.cells import cell_len
    from rich.text import Text

    from .report import plain

    # Fits 80 columns: no frame, the year only when it is not this one, and only the question id
    # may fold onto a second line. "spoke" is the speaking time, the length the report, compare
    # and progress give (not the file's).
    this_year = str(datetime.now().year)
    rows: list[list[Any]] = []
    for t in takes:
        when = _local_time(t.started_at)
        when = when[5 if when.startswith(this_year) else 0:16]
        row = [str(t.id), when, plain(t.question_id or "-")]
        if t.wpm is not None and not t.spoke:  # analysed, nothing said: not a poor answer (0 wpm, rating 1)
            rows.append([*row, Text("no speech", style="dim"), "-", "-", "-", "-", t.status])
            continue
        story = not follow_up_of(t.question_id)  # an answer to a follow-up: no STAR parts, no rating
        rows.append([
            *row, f"{t.speaking_span_s:.0f} s" if t.speaking_span_s is not None else "-",
            f"{t.wpm:.0f}" if t.wpm is not None else "-",
            f"{t.fillers_per_min:.1f}" if t.fillers_per_min is not None else "-",
            f"{t.star_parts_present}/4" if t.star_parts_present is not None and story else "-",
            str(t.star_rating) if t.star_rating is not None and story else "-",
            t.status + (f" ({t.overflows} overflows)" if t.overflows else ""),
        ])
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for k, col in enumerate(("id", "when", "question", "spoke", "wpm", "fillers/min", "STAR", "rating", "status")):
        if col == "question":
            table.add_column(col, overflow="fold")
        else:  # its width as Rich would measure it, cell by cell (that took half of `takes` at 2000 takes)
            table.add_column(col, no_wrap=True, width=max(cell_len(col), *(cell_len(str(r[k])) for r in rows)))
    for cells in rows:
        table.add_row(*cells)
    console.print(table)


# --- comparisons, progress, coverage ----------------------------------------------------

def comparison_document(c) -> dict[str, Any]:
    return {
        "a": c.a_id, "b": c.b_id,
        "changes": [{"key": ch.key, "label": ch.label, "a": ch.a, "b": ch.b,
                     "delta": None if ch.delta is None else round(ch.delta, 4),  # not 27.900000000000006
                     "better": ch.better} for ch in c.changes],
        "star_a": c.star_a, "star_b": c.star_b,
        "diff": [{"op": op, "text": text} for op, text in c.diff],
    }


# Decimals per metric, the same for a value and its change (11 fillers a minute beside a change of
# +6.29 read as a wrong sum): pace, length and STAR parts are whole numbers.
_DECIMALS = {"fillers_per_min": 1}


def _fmt(v: float | None, unit: str = "", key: str = "", more: int = 0) -> str:
    if v is None:
        return "-"
    if unit == "s":
        return f"{v:.{more}f} s"
    if unit == "%":
        return f"{v:.{more}%}"
    return f"{v:.{_DECIMALS.get(key, 0) + more}f}"


def _change(ch) -> str:
    """The change as the difference of the two figures shown (136 → 186 is +50, not the +51 of the
    unrounded values); one decimal more when they show the same but differ."""
    if ch.unit == "%":
        shown = round(ch.b * 100) / 100 - round(ch.a * 100) / 100
    else:
        digits = 0 if ch.unit == "s" else _DECIMALS.get(ch.key, 0)
        shown = round(ch.b, digits) - round(ch.a, digits)
    if abs(shown) < 1e-9 and ch.delta:
        return ("+" if ch.delta > 0 else "") + _fmt(ch.delta, ch.unit, ch.key, more=1)
    return ("+" if shown > 0 else "") + _fmt(shown, ch.unit, ch.key)


# What only a story is judged by: answers to a follow-up question are compared without them.
_STORY_ONLY = {"star_parts", "learning", "rating", "i_share_action"}


def render_comparison(pairs: list, figures: list[tuple[int, dict[str, float | None]]], console: "Console",
                      show_words: bool = True, stories: bool = True) -> None:
    """PAIRS: the takes compared, the last pair's change and words shown; FIGURES: each take's id and
    :func:`~starcoach.takes.compare.metric_values`, in order, a column each. STORIES false: answers to a
    follow-up question, shown without the STAR rows, and their length not judged against a story's."""
    from dataclasses import replace

    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    last = pairs[-1]
    changes = [ch if stories or ch.key != "length_s" else replace(ch, better=None)
               for ch in last.changes if stories or ch.key not in _STORY_ONLY]
    cells = {i: [_fmt(v[ch.key], ch.unit, ch.key) for ch in changes] for i, v in figures}
    verdicts = []
    for ch in changes:
        if ch.better is None:
            verdicts.append(("same" if ch.a == ch.b else "changed", "dim", ""))
        else:
            verdicts.append(("better" if ch.better else "worse", "green" if ch.better else "red", f" ({_change(ch)})"))
    # A column a take: as many of the latest as the width holds beside the metric and the last change
    # (an audit: 7 takes on 80 columns cut the change to "bett…", 16 every cell to "…").
    fixed = _width(["metric", *(ch.label for ch in changes)]) + \
        _width(["last change", *(w + more for w, _, more in verdicts)]) + 1
    ids = [i for i, _ in figures]
    while len(ids) > 2 and fixed + sum(_width([f"take {i}", *cells[i]]) for i in ids) > console.width:
        ids = ids[1:]
    hidden = len(figures) - len(ids)
    table = Table(title=f"Takes {', '.join(map(str, ids))}", header_style="bold")
    table.add_column("metric")
    for i in ids:
        table.add_column(f"take {i}", justify="right")
    table.add_column("last change")
    for k, ch in enumerate(changes):
        word, style, more = verdicts[k]
        table.add_row(ch.label, *(cells[i][k] for i in ids), f"[{style}]{word}[/{style}]{more}")
    console.print(table)
    if hidden:
        left = [str(i) for i, _ in figures[:hidden]]
        named = ", ".join(left if hidden <= 4 else [*left[:2], "…", left[-1]])
        console.print(f"[dim]{plural(hidden, 'earlier take')} not shown, to fit the width "
                      f"({'take' if hidden == 1 else 'takes'} {named}); `--json` has them all.[/dim]")
    parts = [p for p in last.star_b if last.star_a[p] != last.star_b[p]] if stories else []
    for p in parts:
        console.print(f"  {p.title()}: {'now there' if last.star_b[p] else 'missing now'}")
    if not show_words:
        return
    text = Text()
    if console.color_system is None or console.no_color:  # piped, or NO_COLOR: marks plain text keeps
        for op, words in last.diff:
            text.append({"insert": f"{{+{words}+}} ", "delete": f"[-{words}-] "}.get(op, words + " "))
        legend = escape("([-removed-], {+added+})")
    else:
        for op, words in last.diff:
            text.append(words + " ", style={"insert": "bold green", "delete": "red strike"}.get(op))
        legend = "([red strike]removed[/red strike], [bold green]added[/bold green])"
    console.print(f"\n[bold]Words, take {last.a_id} → take {last.b_id}[/bold] " + legend)
    console.print(text)


def _width(cells: list[str]) -> int:
    """The width a table column of CELLS takes: the widest cell, a space each side and a rule."""
    from rich.cells import cell_len

    return max(cell_len(c) for c in cells) + 3


def _spark(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    ticks = "▁▂▃▄▅▆▇█"
    if hi == lo:  # a level line: drawn at the floor, four answers with every STAR part looked like none
        return "".join(" " if v is None else ticks[len(ticks) // 2 - 1] for v in values)
    return "".join(" " if v is None else ticks[int((v - lo) / (hi - lo) * (len(ticks) - 1))] for v in values)


def render_progress(points: list, target_wpm, target_length, console: "Console", *, filtered: bool = False,
                    left_out: int = 0, stories: bool = True, follow_ups: int = 0) -> None:
    """FILTERED: only some takes were asked for (a question, a principle); LEFT_OUT: takes too
    short to tell a story or with no STAR part, not points. STORIES false: answers to a follow-up
    question, shown without STAR and with no best length (a story's 90-120 s); FOLLOW_UPS: answers
    to follow-ups left out."""
    from rich.table import Table

    if not points:
        console.print(f"No analysed takes telling a story{' match' if filtered else ''} "
                      f"({plural(left_out, 'other')} left out: too short, or no STAR part; `starcoach takes` lists "
                      "them all)."
                      if left_out else "No analysed takes with speech match (`starcoach takes` lists them all)."
                      if filtered else f"No stories yet, only {plural(follow_ups, 'answer')} to follow-up questions "
                      "(`starcoach progress --question ID/follow-up-N` follows one)." if follow_ups
                      else "No analysed takes with speech yet.")
        return
    table = Table(title=f"Progress over {plural(len(points), 'take')}", header_style="bold")
    for col in ("metric", "first", "latest", "best", "trend"):
        table.add_column(col)
    rows = [("fillers per minute", "fillers_per_min", min), ("pace (wpm)", "wpm", None),
            ("length (s)", "length_s", None), ("STAR parts (of 4)", "star_parts", max)][:None if stories else 3]
    table_rows: list[tuple[list[str], list[float | None]]] = []  # the cells, and the values for the trend
    for label, key, best_fn in rows:
        vals = [getattr(p, key) for p in points]
        known = [v for v in vals if v is not None]
        if not known:  # a figure no take shown has (a value the store could not read is unknown)
            table_rows.append(([label, "-", "-", "-"], vals))
            continue
        if key == "wpm":
            best = min(known, key=lambda v: 0 if target_wpm[0] <= v <= target_wpm[1] else
                       min(abs(v - target_wpm[0]), abs(v - target_wpm[1])))
        elif key == "length_s" and not stories:  # a follow-up answer has no target length to be nearest
            best = None
        elif key == "length_s":
            best = min(known, key=lambda v: 0 if target_length[0] <= v <= target_length[1] else
                       min(abs(v - target_length[0]), abs(v - target_length[1])))
        else:
            best = best_fn(known) if best_fn else None
        table_rows.append(([label, _fmt(known[0], key=key), _fmt(known[-1], key=key), _fmt(best, key=key)], vals))
    # The trend: a mark a take, the latest kept when they do not all fit (an audit: past 31 takes on 80
    # columns the line was cut at its end, so the newest takes, the ones wanted, were not drawn).
    room = console.width - 3 - 1 - sum(_width([col, *(cells[k] for cells, _ in table_rows)])
                                       for k, col in enumerate(("metric", "first", "latest", "best")))
    room = max(room, len("trend"))  # a narrow terminal wraps the other columns: a few marks still fit
    for cells, vals in table_rows:
        trend = _spark(vals)  # scaled over every take, so a mark reads the same however many are shown
        table.add_row(*cells, trend if len(trend) <= room else "…" + trend[len(trend) - max(room - 1, 1):])
    console.print(table)


def render_coverage(stories: dict[str, list[list[int]]], names: dict[str, str], console: "Console", *,
                    short: dict[str, list[int]] | None = None, told: "AbstractSet[int]" = frozenset()) -> None:
    """SHORT: per principle, the takes too short to tell a story or, those in TOLD, long enough but telling
    none (no STAR part); neither is counted as one."""
    from rich.table import Table

    from .report import plain

    table = Table(title="Stories practised per Leadership Principle (aim for 2–3)", header_style="bold")
    for col in ("principle", "stories", "takes", ""):
        table.add_column(col)
    for key, groups in stories.items():
        n = len(groups)
        mark = "[green]✓[/green]" if n >= 2 else ("[yellow]one more[/yellow]" if n == 1 else "[red]none yet[/red]")
        left = (short or {}).get(key, [])
        few, none = sum(t not in told for t in left), sum(t in told for t in left)
        if few:
            mark += f" [dim](+{plural(few, 'take')} too short to count)[/dim]"
        if none:
            mark += f" [dim](+{plural(none, 'take')} telling no story)[/dim]"
        table.add_row(plain(names.get(key, key)), str(n), str(sum(len(g) for g in groups)), mark)
    console.print(table)
