"""The review views: two takes compared, progress over takes, stories per principle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..domain.transcript import plural

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console


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


def render_comparison(pairs: list, docs: list, console: "Console", show_words: bool = True) -> None:
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    ids = [i for i, _ in docs]
    table = Table(title=f"Takes {', '.join(map(str, ids))}", header_style="bold")
    table.add_column("metric")
    for i in ids:
        table.add_column(f"take {i}", justify="right")
    table.add_column("last change")
    last = pairs[-1]
    from ..takes.compare import metric_values

    values = [metric_values(doc) for _, doc in docs]
    for ch in last.changes:
        row = [ch.label] + [_fmt(v[ch.key], ch.unit, ch.key) for v in values]
        if ch.better is None:
            verdict = "[dim]same[/dim]" if ch.a == ch.b else "[dim]changed[/dim]"
        else:
            verdict = f"[green]better[/green] ({_change(ch)})" if ch.better else f"[red]worse[/red] ({_change(ch)})"
        table.add_row(*row, verdict)
    console.print(table)
    parts = [p for p in last.star_b if last.star_a[p] != last.star_b[p]]
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
                    left_out: int = 0) -> None:
    """FILTERED: only some takes were asked for (a question, a principle); LEFT_OUT: takes too
    short to tell a story, not points."""
    from rich.table import Table

    if not points:
        console.print(f"No analysed takes long enough to tell a story{' match' if filtered else ''} "
                      f"({plural(left_out, 'shorter one')} left out; `starcoach takes` lists them all)."
                      if left_out else "No analysed takes with speech match (`starcoach takes` lists them all)."
                      if filtered else "No analysed takes with speech yet.")
        return
    table = Table(title=f"Progress over {plural(len(points), 'take')}", header_style="bold")
    for col in ("metric", "first", "latest", "best", "trend"):
        table.add_column(col)
    rows = [("fillers per minute", "fillers_per_min", min), ("pace (wpm)", "wpm", None),
            ("length (s)", "length_s", None), ("STAR parts (of 4)", "star_parts", max)]
    for label, key, best_fn in rows:
        vals = [getattr(p, key) for p in points]
        known = [v for v in vals if v is not None]
        if key == "wpm":
            best = min(known, key=lambda v: 0 if target_wpm[0] <= v <= target_wpm[1] else
                       min(abs(v - target_wpm[0]), abs(v - target_wpm[1])))
        elif key == "length_s":
            best = min(known, key=lambda v: 0 if target_length[0] <= v <= target_length[1] else
                       min(abs(v - target_length[0]), abs(v - target_length[1])))
        else:
            best = best_fn(known) if best_fn else None
        table.add_row(label, _fmt(known[0], key=key), _fmt(known[-1], key=key), _fmt(best, key=key), _spark(vals))
    console.print(table)


def render_coverage(stories: dict[str, list[list[int]]], names: dict[str, str], console: "Console", *,
                    short: dict[str, list[int]] | None = None) -> None:
    """SHORT: per principle, the takes too short to tell a story (not counted as one)."""
    from rich.table import Table

    from .report import plain

    table = Table(title="Stories practised per Leadership Principle (aim for 2–3)", header_style="bold")
    for col in ("principle", "stories", "takes", ""):
        table.add_column(col)
    for key, groups in stories.items():
        n = len(groups)
        mark = "[green]✓[/green]" if n >= 2 else ("[yellow]one more[/yellow]" if n == 1 else "[red]none yet[/red]")
        few = len((short or {}).get(key, ()))
        if few:
            mark += f" [dim](+{plural(few, 'take')} too short to count)[/dim]"
        table.add_row(plain(names.get(key, key)), str(n), str(sum(len(g) for g in groups)), mark)
    console.print(table)
