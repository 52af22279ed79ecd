"""Compare, progress, coverage and export: parsed back, and the HTML page in a real Chromium."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from starcoach.cli import app
from starcoach.takes.compare import (compare_documents, group_stories, is_a_story, metric_values, story_signature,
                                     word_diff)
from tests.conftest import SAMPLES, SHARED, needs_shared

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def takes_home(tmp_path_factory, models_dir):
    """A home with three imported takes: the demo answer twice-told and a different story."""
    import os

    home = tmp_path_factory.mktemp("takes-home")
    text = (Path(__file__).resolve().parents[1] / "config.toml").read_text()
    (home / "config.toml").write_text(text.replace('models = "models"', f'models = "{models_dir}"'))
    old = os.environ.get("STARCOACH_HOME")
    os.environ["STARCOACH_HOME"] = str(home)
    try:
        invoke("import", SAMPLES / "demo-answer.flac", "--question", "deep-1")
        invoke("import", SAMPLES / "demo-answer.flac", "--question", "deep-1")
        other = needs_shared(SHARED / "corpus" / "dev" / "seed001-Q91-full.flac")
        invoke("import", other, "--question", "deep-2")
    finally:
        if old is None:
            os.environ.pop("STARCOACH_HOME", None)
        else:
            os.environ["STARCOACH_HOME"] = old
    return home


@pytest.fixture
def in_takes_home(takes_home, monkeypatch):
    monkeypatch.setenv("STARCOACH_HOME", str(takes_home))
    return takes_home


def doc(**kw):
    base = {"wpm": 140.0, "speaking_span_s": 100.0, "words": [],
            "metrics": {"fillers_per_min": 4.0, "long_pause_count": 2, "quantities": [], "action_i_count": 2,
                        "action_we_count": 2},
            "star": {"rating": 6, **{p: {"present": p != "result"} for p in
                                     ("situation", "task", "action", "result", "learning")}}}
    base.update(kw)
    return base


@pytest.mark.parametrize("changes, key, better", [
    ({"metrics": {"fillers_per_min": 2.0, "long_pause_count": 2, "quantities": []}}, "fillers_per_min", True),
    ({"metrics": {"fillers_per_min": 6.0, "long_pause_count": 2, "quantities": []}}, "fillers_per_min", False),
    ({"wpm": 180.0}, "wpm", False),           # further from 120-160
    ({"wpm": 150.0}, "wpm", None),            # both inside the band: no better, no worse
    ({"speaking_span_s": 200.0}, "length_s", False),
    ({"speaking_span_s": 110.0}, "length_s", None),  # both inside 90-120
    ({"star": {"rating": 8, **{p: {"present": True} for p in ("situation", "task", "action", "result",
                                                              "learning")}}}, "star_parts", True),
    ({"metrics": {"fillers_per_min": 4.0, "long_pause_count": 1, "quantities": []}}, "long_pauses", True),
    ({"metrics": {"fillers_per_min": 4.0, "long_pause_count": 5, "quantities": []}}, "long_pauses", False),
    ({"star": {"rating": 4, **{p: {"present": p not in ("result", "learning")} for p in
                               ("situation", "task", "action", "result", "learning")}}}, "learning", False),
    ({"star": {"rating": 4, **{p: {"present": p != "result"} for p in
                               ("situation", "task", "action", "result", "learning")}}}, "rating", False),
    ({"star": {"rating": 9, **{p: {"present": p != "result"} for p in
                               ("situation", "task", "action", "result", "learning")}}}, "rating", True),
    ({"metrics": {"fillers_per_min": 4.0, "long_pause_count": 2, "quantities": [{"text": "40%"}],
                  "action_i_count": 2, "action_we_count": 2}}, "numbers", True),
    ({"metrics": {"fillers_per_min": 4.0, "long_pause_count": 2, "quantities": [], "action_i_count": 3,
                  "action_we_count": 1}}, "i_share_action", True),
    ({"metrics": {"fillers_per_min": 4.0, "long_pause_count": 2, "quantities": [], "action_i_count": 1,
                  "action_we_count": 3}}, "i_share_action", False),
])
def test_compare_says_what_is_better(changes, key, better):
    a = doc()
    b = doc(**changes)
    c = compare_documents(1, a, 2, b, target_wpm=(120, 160), target_length_s=(90, 120))
    change = next(ch for ch in c.changes if ch.key == key)
    assert change.better is better


def test_a_change_is_shown_with_the_decimals_of_its_values():
    """11.42 fillers a minute showed as "11" beside a change of "+6.29"; a length as "1.51"."""
    from rich.console import Console

    from starcoach.output.review import render_comparison, render_progress
    from starcoach.takes.compare import Point

    a = doc(metrics={"fillers_per_min": 5.13, "long_pause_count": 2, "quantities": []})
    b = doc(metrics={"fillers_per_min": 11.42, "long_pause_count": 2, "quantities": []}, wpm=131.6)
    c = compare_documents(1, a, 2, b, target_wpm=(120, 160), target_length_s=(90, 120))
    console = Console(record=True, width=150, color_system=None)
    render_comparison([c], [(1, metric_values(a)), (2, metric_values(b))], console, show_words=False)
    row = next(ln for ln in console.export_text().splitlines() if "fillers per minute" in ln)
    assert "5.1" in row and "11.4" in row and "(+6.3)" in row, row
    b["wpm"], b["speaking_span_s"] = 186.4, 100.4  # 140 -> 186 shows +46 (not +46.4 rounded up or down alone)
    a["wpm"], a["speaking_span_s"] = 140.0, 100.0
    c = compare_documents(1, a, 2, b, target_wpm=(120, 160), target_length_s=(90, 120))
    console = Console(record=True, width=150, color_system=None)
    render_comparison([c], [(1, metric_values(a)), (2, metric_values(b))], console, show_words=False)
    rows = console.export_text().splitlines()
    pace = next(ln for ln in rows if "pace" in ln)
    assert "140" in pace and "186" in pace and "(+46)" in pace, pace
    a["wpm"], b["wpm"] = 136.4, 186.6  # shown 136 and 187: +51, where the raw change rounds to +50
    c = compare_documents(1, a, 2, b, target_wpm=(120, 160), target_length_s=(90, 120))
    console = Console(record=True, width=150, color_system=None)
    render_comparison([c], [(1, metric_values(a)), (2, metric_values(b))], console, show_words=False)
    pace = next(ln for ln in console.export_text().splitlines() if "pace" in ln)
    assert "136" in pace and "187" in pace and "(+51)" in pace, pace
    render_progress([Point(1, "", 5.13, 131.6, 1.51, 4.0), Point(2, "", 11.42, 140.2, 76.4, 3.0)], (120, 160),
                    (90, 120), console)
    text = console.export_text()
    assert "1.51" not in text and "131.6" not in text and "5.1 " in text, text


def test_progress_shows_a_figure_no_take_has_as_unknown():
    """An audit: a figure unknown for every take shown (a value the store could not read) failed
    `progress` with "unexpected error (ValueError: min() arg is an empty sequence)"; `takes` shows it as "-"."""
    from rich.console import Console

    from starcoach.output.review import render_progress
    from starcoach.takes.compare import Point

    console = Console(record=True, width=150, color_system=None)
    render_progress([Point(1, "", None, None, None, None), Point(2, "", None, 140.2, None, 3.0)], (120, 160),
                    (90, 120), console)
    rows = {ln.split("│")[1].strip(): [c.strip() for c in ln.split("│")[2:5]]
            for ln in console.export_text().splitlines() if ln.count("│") >= 5}
    assert rows["fillers per minute"] == ["-", "-", "-"] and rows["length (s)"] == ["-", "-", "-"], rows
    assert rows["pace (wpm)"] == ["140", "140", "140"] and rows["STAR parts (of 4)"] == ["3", "3", "3"], rows



def test_many_takes_of_a_question_show_the_latest_that_fit_and_the_change_whole():
    """An audit: `compare --question` of 7 takes on 80 columns cut the last change to "bett…", of 16
    every cell to "…"; `progress` past 31 takes cut the trend at its end, so the newest takes were not drawn."""
    from rich.console import Console

    from starcoach.output.review import render_comparison, render_progress
    from starcoach.takes.compare import Point

    docs = [doc(metrics={"fillers_per_min": 19.1 if k % 2 else 0.0, "long_pause_count": k % 2, "quantities": []})
            for k in range(16)]
    pairs = [compare_documents(k + 1, a, k + 2, b, target_wpm=(120, 160), target_length_s=(90, 120))
             for k, (a, b) in enumerate(zip(docs, docs[1:]))]
    figures = [(k + 1, metric_values(d)) for k, d in enumerate(docs)]
    console = Console(record=True, width=80, color_system=None)
    render_comparison(pairs, figures, console, show_words=False)
    text = console.export_text()
    table = text.split("earlier takes not shown")[0]
    assert "…" not in table and max(map(len, text.splitlines())) <= 80, text  # no cell cut
    row = next(ln for ln in text.splitlines() if "fillers per minute" in ln)
    assert row.rstrip(" │").endswith("worse (+19.1)") and "19.1" in row, row
    header = next(ln for ln in text.splitlines() if "last change" in ln)
    shown = [int(w) for w in header.replace("┃", " ").split()[1:] if w.isdigit()]
    assert 2 <= len(shown) < 16 and shown == list(range(17 - len(shown), 17)), header
    hidden = 16 - len(shown)  # named, not as a range of ids (a review: "(1 to 30)" took in other questions' takes)
    assert f"{hidden} earlier takes not shown, to fit the width (takes 1, 2, …, {hidden})" in " ".join(text.split())
    wide = Console(record=True, width=300, color_system=None)
    render_comparison(pairs, figures, wide, show_words=False)
    assert "take 1 " in wide.export_text() and "not shown" not in wide.export_text()

    points = [Point(k, "", float(k), 120.0 + k, 60.0, 4.0) for k in range(1, 41)]  # fillers rise take by take
    console = Console(record=True, width=80, color_system=None)
    render_progress(points, (120, 160), (90, 120), console)
    row = next(ln for ln in console.export_text().splitlines() if "fillers per minute" in ln)
    trend = row.split("│")[5].strip()
    assert trend.startswith("…") and trend.endswith("█") and len(row) <= 80, row  # the newest take is drawn

def test_word_diff_marks_what_changed():
    ops = word_diff("I fixed the bug quickly".split(), "I fixed the flaky bug".split())
    assert ops == [("equal", "I fixed the"), ("insert", "flaky"), ("equal", "bug"), ("delete", "quickly")]


def test_word_diff_shows_a_changed_number():
    """"4.8%" and "48%", "2.5" and "25" were one word to the diff (the point was stripped with the
    punctuation): a retake's Result off by a factor of ten showed as unchanged."""
    ops = word_diff("It fell by 4.8%, which saved 2.5 million by 9:30.".split(),
                    "It fell by 48%, which saved 25 million by 930.".split())
    assert [op for op in ops if op[0] != "equal"] == [("delete", "4.8%,"), ("insert", "48%,"), ("delete", "2.5"),
                                                       ("insert", "25"), ("delete", "9:30."), ("insert", "930.")]
    # a sign or a currency before a figure counts too
    assert [op for op in word_diff("moved -5% and €2.5".split(), "moved +5% and 2.5".split()) if op[0] != "equal"] == \
        [("delete", "-5%"), ("insert", "+5%"), ("delete", "€2.5"), ("insert", "2.5")]
    # case and punctuation elsewhere still do not count, nor a thousands comma
    assert word_diff('"Costs fell 1,200 dollars."'.split(), "costs fell 1200 dollars".split()) == \
        [("equal", "costs fell 1200 dollars")]
    assert word_diff("We hired 1,000s in the U.S. by e-mail".split(), "We hired 1000s in the US by email".split()) == \
        [("equal", "We hired 1000s in the US by email")]


def test_group_stories_tells_retellings_from_new_stories():
    def told(text):
        return {"words": [{"text": w, "filler": False} for w in text.split()]}
    a = told("our checkout service timed out during peak sales so I added an index to the orders table")
    b = told("checkout latency: during peak sales the orders table lacked an index, which I added")
    c = told("I mentored a junior engineer through her first production launch and code reviews")
    assert group_stories([(1, a), (2, b), (3, c)]) == [[1, 2], [3]]


def test_a_take_too_short_to_tell_a_story_joins_none_and_links_none():
    """A two-second take ("We shipped it on time.") has one or two identifying words: sharing one
    made it the same story as anything, and single-linked, it merged two different stories."""
    def told(text):
        return {"words": [{"text": w, "filler": False} for w in text.split()]}
    shipped = told("our billing migration shipped three weeks late because vendor contracts blocked the "
                   "cutover so I renegotiated deadlines with procurement and finance")
    short = told("We shipped it on time.")
    timing = told("I mentored a junior engineer on time management through her first production launch "
                  "using weekly reviews and pairing sessions")
    assert group_stories([(1, shipped), (2, short), (3, timing)]) == [[1], [3]]
    assert not is_a_story(story_signature(short)) and is_a_story(story_signature(timing))


def test_stories_are_grouped_by_same_story_whatever_the_takes():
    """`coverage` groups by same_story's rule written inline (a call per pair took most of its
    time): over random takes, in any order, the groups are the rule's single-link clusters (two
    takes in one group when a chain of same-story pairs links them), each in the takes' order."""
    import random

    from starcoach.takes.compare import same_story, story_groups

    rng = random.Random(0)
    vocabulary = [f"word{k}" for k in range(150)]
    merged = 0  # runs in which a take linked two groups
    for _ in range(30):
        takes = [(i, frozenset(rng.sample(vocabulary, rng.randint(5, 25)))) for i in range(60)]
        rng.shuffle(takes)
        stories = [(tid, sig) for tid, sig in takes if is_a_story(sig)]
        root = {tid: tid for tid, _ in stories}

        def find(t: int) -> int:
            while root[t] != t:
                t = root[t]
            return t
        for k, (a, sa) in enumerate(stories):
            for b, sb in stories[:k]:
                if same_story(sa, sb):
                    root[find(a)] = find(b)
        clusters: dict[int, list[int]] = {}
        for tid, _ in stories:
            clusters.setdefault(find(tid), []).append(tid)
        groups, short = story_groups(takes)
        assert groups == sorted(clusters.values(), key=lambda g: [t for t, _ in stories].index(g[0]))
        assert short == [tid for tid, sig in takes if not is_a_story(sig)]
        first_match: list[list[int]] = []  # each take joining the first group it matches: not this
        for tid, sig in stories:
            joined = next((g for g in first_match if any(same_story(sig, dict(stories)[o]) for o in g)), None)
            first_match.append([tid]) if joined is None else joined.append(tid)
        merged += len(first_match) > len(groups)
    assert merged >= 10 and len(groups) > 5  # (groups joined by a later take in many runs)


def test_a_whole_answer_after_its_two_halves_joins_them_into_one_story():
    """Single link whatever the order: the halves of a story share few words with each other, the
    whole answer many with each; recorded halves first, the whole made them one story only when
    it came first (the audit's case)."""
    from starcoach.takes.compare import story_groups

    def told(text):
        return story_signature({"words": [{"text": w, "filler": False} for w in text.split()]})
    first = ("Last spring at Initech our billing platform sent duplicate invoices to three hundred customers. "
             "My manager asked me to stop the duplicates before the quarterly close.")
    second = ("I traced the problem to a retry loop in the payment queue, I wrote a deduplication key, and I "
              "added an alert on the ledger. After the release, refunds fell by ninety percent.")
    halves = [(1, told(first)), (2, told(second))]
    assert story_groups(halves)[0] == [[1], [2]]
    whole = (3, told(first + " " + second))
    assert story_groups(halves + [whole])[0] == [[1, 2, 3]]
    assert story_groups([whole] + halves)[0] == [[3, 1, 2]]


@pytest.mark.slow
def test_compare_progress_coverage_on_takes(in_takes_home, tmp_path):
    pairs = json.loads(invoke("compare", "1", "2", "--json").stdout)
    assert len(pairs) == 1 and all(ch["better"] is None for ch in pairs[0]["changes"])  # same audio twice
    counts = {ch["key"]: ch for ch in pairs[0]["changes"] if ch["key"] in ("star_parts", "learning", "numbers",
                                                                          "long_pauses", "rating")}
    assert len(counts) == 5 and all(type(ch[k]) is int for ch in counts.values() for k in ("a", "b", "delta")), counts
    assert all(op["op"] == "equal" for op in pairs[0]["diff"])
    both = json.loads(invoke("compare", "--question", "deep-1", "--json").stdout)
    assert [(p["a"], p["b"]) for p in both] == [(1, 2)]
    other = invoke("compare", "2", "3")
    assert "fillers per minute" in other.stdout and "Words, take 2 → take 3" in other.stdout
    assert "these takes answer different questions (deep-1, deep-2)" in other.stderr
    assert "different questions" not in invoke("compare", "1", "2").stderr
    db = sqlite3.connect(in_takes_home / "recordings" / "starcoach.db", isolation_level=None)
    db.execute("UPDATE takes SET question_id = NULL WHERE id = 3")  # an answer to no question: no note was given
    try:
        assert "different questions (deep-1, no question)" in invoke("compare", "2", "3").stderr
    finally:
        db.execute("UPDATE takes SET question_id = 'deep-2' WHERE id = 3")
        db.close()

    chart = tmp_path / "progress.svg"
    out = invoke("progress", "--chart", chart)
    assert "Progress over 3 takes" in out.stdout
    takes = json.loads(invoke("takes", "--json").stdout)
    root = ET.parse(chart).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    panels = {g.get("data-metric"): g for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert set(panels) == {"fillers_per_min", "wpm", "length_s", "star_parts"}
    dots = panels["wpm"].findall("s:circle", ns)
    assert [int(c.get("data-take")) for c in dots] == [t["id"] for t in takes]
    assert [float(c.get("data-value")) for c in dots] == pytest.approx([t["wpm"] for t in takes], abs=0.01)
    lengths = [float(c.get("data-value")) for c in panels["length_s"].findall("s:circle", ns)]
    assert lengths == pytest.approx([t["speaking_span_s"] for t in takes], abs=0.01)
    # points go down the page as values go up
    ys = [float(c.get("cy")) for c in panels["length_s"].findall("s:circle", ns)]
    assert (lengths[0] < lengths[2]) == (ys[0] > ys[2])
    again = runner.invoke(app, ["progress", "--chart", str(chart)])
    assert again.exit_code == 1 and "exists" in again.stderr

    cov = {c["principle"]: c for c in json.loads(invoke("coverage", "--json").stdout)}
    assert cov["dive-deep"]["stories"] == 2 and cov["dive-deep"]["takes"] == 3
    assert cov["ownership"]["stories"] == 0


@pytest.mark.slow
def test_export_formats_parse_back(in_takes_home, tmp_path):
    take = json.loads(invoke("show", "1", "--json").stdout)
    words = take["words"]

    srt = tmp_path / "a.srt"
    invoke("export", "1", "--format", "srt", "-o", srt)
    blocks = [b.splitlines() for b in srt.read_text().strip().split("\n\n")]
    stamp = r"(\d\d):(\d\d):(\d\d),(\d\d\d)"
    times = []
    for n, block in enumerate(blocks, 1):
        assert block[0] == str(n)
        m = re.fullmatch(f"{stamp} --> {stamp}", block[1])
        g = list(map(int, m.groups()))
        times.append((g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000, g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000))
    assert times == sorted(times) and all(a < b for a, b in times)
    assert times[0][0] == pytest.approx(words[0]["start"], abs=0.002)
    assert times[-1][1] == pytest.approx(words[-1]["end"], abs=0.002)

    vtt = tmp_path / "a.vtt"
    invoke("export", "1", "--format", "vtt", "-o", vtt)
    text = vtt.read_text()
    assert text.startswith("WEBVTT\n")
    inline = [float(h) * 3600 + float(m) * 60 + float(s) for h, m, s in re.findall(r"<(\d\d):(\d\d):(\d\d\.\d\d\d)>", text)]
    cue_starts = len(re.findall(r"^\d\d:\d\d:\d\d\.\d\d\d --> ", text, flags=re.M))
    assert len(inline) + cue_starts == len(words)  # every word's start is in the file
    assert inline == sorted(inline)

    md = tmp_path / "a.md"
    invoke("export", "1", "--format", "md", "-o", md)
    body = md.read_text()
    headings = re.findall(r"^## (.+)$", body, flags=re.M)
    assert headings[:5] == ["Situation", "Task", "Action", "Result", "Learning"]
    assert "*um*," in body and "- [ ] " in body
    clean = tmp_path / "clean.md"
    invoke("export", "1", "--format", "md", "--clean", "-o", clean)
    assert "*um*" not in clean.read_text()
    checked = json.loads(invoke("check", md, "--json").stdout)  # the rewriting loop closes
    assert all(checked["star"][p]["present"] for p in ("situation", "task", "action", "result", "learning"))

    txt = tmp_path / "a.text"  # the format from the suffix; the same words to standard output
    invoke("export", "1", "-o", txt)
    assert txt.read_text() == invoke("export", "1", "-f", "txt", "-o", "-").stdout
    assert "".join(txt.read_text().split()) == "".join("".join(w["text"].split()) for w in words)  # every word

    js = tmp_path / "a.json"
    invoke("export", "1", "--format", "json", "-o", js)
    assert json.loads(js.read_text())["words"] == words

    refused = runner.invoke(app, ["export", "1", "--format", "json", "-o", str(js)])
    assert refused.exit_code == 1 and "--force" in refused.stderr
    invoke("export", "1", "--format", "json", "-o", js, "--force")
    bad = runner.invoke(app, ["export", "1", "--format", "docx"])
    assert bad.exit_code == 2 and "unknown format" in bad.stderr


@pytest.mark.slow
def test_html_page_in_headless_chromium(in_takes_home, tmp_path):
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("chromium and chromium-driver are not installed (scripts/setup.sh --test installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    take = json.loads(invoke("show", "1", "--json").stdout)
    page = tmp_path / "take.html"
    invoke("export", "1", "--format", "html", "-o", page)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(page.as_uri())
        assert driver.execute_script("return document.readyState") == "complete"
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == []
        # the audio is embedded and decodable
        driver.execute_script("const p = document.getElementById('player'); if (p.readyState < 1) p.load();")
        duration = 0.0
        for _ in range(50):
            duration = driver.execute_script("return document.getElementById('player').duration") or 0.0
            if duration:
                break
            time.sleep(0.1)  # the page loads the audio asynchronously
        assert duration == pytest.approx(take["duration_s"], abs=0.1)
        # the timeline: a band per sentence, a mark per filler, a waveform
        bands = driver.find_elements(By.CSS_SELECTOR, "#timeline rect.band")
        assert len(bands) == len([s for s in take["star"]["sentences"] if s["start"] is not None])
        assert {b.get_attribute("class").split()[-1] for b in bands} == {
            f"band-{p}" for p in ("situation", "task", "action", "result", "learning")}
        assert len(driver.find_elements(By.CSS_SELECTOR, "#timeline .filler-mark")) == len(take["fillers"])
        assert len(driver.find_elements(By.CSS_SELECTOR, "#timeline rect.pause")) == take["metrics"]["long_pause_count"]
        assert driver.find_element(By.CSS_SELECTOR, "#timeline path.wave").size["width"] > 500
        # the transcript: a span per word; clicking one plays from there
        spans = driver.find_elements(By.CSS_SELECTOR, "#transcript .w")
        assert len(spans) == len(take["words"])
        assert [s.text for s in spans[:3]] == [w["text"] for w in take["words"][:3]]
        target = spans[len(spans) // 2]
        start = float(target.get_attribute("data-start"))
        driver.execute_script("arguments[0].scrollIntoView()", target)
        target.click()
        now = driver.execute_script("return document.getElementById('player').currentTime")
        assert now == pytest.approx(start, abs=0.3)
        driver.save_screenshot(str(tmp_path / "page.png"))
        # a word longer than the column (a pasted address) wraps: it ran past it, with a scrollbar
        long = tmp_path / "long.html"
        long.write_text(to_html_of(spoken_doc(), **{"words.6.text": "https://example.com/" + "x" * 150}))
        driver.get(long.as_uri())
        assert driver.execute_script("const e = document.documentElement; return e.scrollWidth <= e.clientWidth")
    finally:
        driver.quit()


def spoken_doc():
    """A take as the analysis stores it: the leading "Um," lies outside its sentence's span,
    and the answer has no Task and no lesson."""
    def w(text, start, end, filler=False):
        return {"text": text, "start": start, "end": end, "prob": 0.9, "filler": filler}
    words = [w("Last", 0.0, 0.3), w("year", 0.3, 0.6), w("checkout", 0.6, 1.0), w("failed.", 1.0, 1.5),
             w("Um,", 2.0, 2.4, True), w("I", 2.6, 2.7), w("rewrote", 2.7, 3.1), w("the", 3.1, 3.2),
             w("pool.", 3.2, 3.6), w("Errors", 4.0, 4.4), w("fell", 4.4, 4.7), w("90%.", 4.7, 5.3)]
    sentences = [{"text": "Last year checkout failed.", "label": "situation", "start": 0.0, "end": 1.5},
                 {"text": "I rewrote the pool.", "label": "action", "start": 2.6, "end": 3.6},
                 {"text": "Errors fell 90%.", "label": "result", "start": 4.0, "end": 5.3}]
    present = {"situation", "action", "result"}
    star = {"sentences": sentences, "feedback": [{"message": "No Task: say what you were responsible for."}],
            "strengths": [], "rating": 6, **{p: {"present": p in present} for p in
                                                ("situation", "task", "action", "result", "learning")}}
    return {"take": {"id": 7, "started_at": "2026-12-03T10:00:00+00:00"}, "speaking_span_s": 5.3, "wpm": 124.0,
            "metrics": {"filler_count": 1, "long_pause_count": 0}, "words": words, "star": star}


def with_fillers(doc):
    """DOC with its fillers found by the analysis' own stage and written as the document holds them:
    each word's ``filler`` flag, and the ``fillers`` spans that say which words each filler is."""
    from starcoach.analysis.fillers import filler_word_indexes, find_fillers
    from starcoach.domain.transcript import Word

    found = find_fillers([Word(w["text"], w["start"], w["end"], w["prob"]) for w in doc["words"]])
    marked = filler_word_indexes(found)
    doc["words"] = [{**w, "filler": i in marked} for i, w in enumerate(doc["words"])]
    doc["fillers"] = [{"text": f.text, "start": f.start, "end": f.end, "kind": f.kind, "source": f.source}
                      for f in found]
    return doc


def to_html_of(d, **changes):
    """The HTML page of a document made by spoken_doc(), with CHANGES ("words.6.text": value) made."""
    from starcoach.output.html_page import to_html

    d.update(file="/home/me/recordings/take-1.wav", wpm=124.0, duration_s=5.3, fillers=[], pauses=[],
             metrics={"filler_count": 1, "long_pause_count": 0})
    for path, value in changes.items():
        *keys, last = path.split(".")
        at = d
        for k in keys:
            at = at[int(k)] if k.isdigit() else at[k]
        at[int(last) if last.isdigit() else last] = value
    return to_html(d, np.zeros(16000, np.float32), 16000)


def test_the_page_and_the_markdown_say_what_the_report_says_of_no_speech_and_of_poor_audio():
    """A take with no speech got a page with "rating 1/10" and five "No Situation…" notes where
    `show` says no speech was found; the report's audio warning (the counts may be off) was in
    neither the page nor the Markdown."""
    from starcoach.analysis.star import check_text
    from starcoach.output.export import to_markdown

    silent = spoken_doc()
    silent.update(no_speech=True, words=[])
    silent["star"]["sentences"] = []
    page = to_html_of(silent)
    assert "No speech found in this take (5.3 s of audio)" in page and "rating" not in page
    warned = "Background noise is high (SNR 8 dB): filler and pause counts may be off."
    page = to_html_of(spoken_doc(), **{"audio": {"warning": warned, "problems": ["noisy"]}})
    assert f'<p class="warning">Audio: {warned}</p>' in page and "rating 6/10" in page
    doc = spoken_doc()
    doc["audio"] = {"warning": warned, "problems": ["noisy"]}
    md = to_markdown(doc)
    assert f"- [ ] Audio: {warned}" in md.split("## Coach's checklist")[1]
    assert not any("SNR" in s.text for s in check_text(md).sentences)


def test_a_question_s_markup_is_shown_in_the_markdown_not_run():
    """An audit: a question from someone's question file, `Tell me <script>…</script><img src=x onerror=…>`,
    went into the Markdown export's heading as it was, and a viewer that renders inline HTML ran it (the
    page escapes it). Now a Markdown viewer shows the text; the heading still counts for nothing in `check`."""
    from markdown_it import MarkdownIt

    from starcoach.analysis.star import check_text
    from starcoach.output.export import to_markdown

    asked = 'Tell me <script>alert(1)</script></title><img src=x onerror=alert(2)> & more'
    doc = spoken_doc()
    plain = to_markdown(doc)
    doc["take"] = {**doc.get("take", {}), "question_text": asked}
    md = to_markdown(doc)
    page = MarkdownIt("commonmark").render(md)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;/title&gt;&lt;img src=x onerror=alert(2)&gt; &amp; more" in page
    assert [s.label for s in check_text(md).sentences] == [s.label for s in check_text(plain).sentences]
    for asked in ("Tell me \\<img src=x onerror=alert(2)> about it", "Tell me `<b>x</b>` \\\\<i>"):  # a review's
        doc["take"] = {**doc["take"], "question_text": asked}
        heading = MarkdownIt("commonmark").render(to_markdown(doc)).split("</h1>")[0]
        assert "<img" not in heading and "<b>" not in heading and "<i>" not in heading, heading
        assert ("onerror=alert(2)&gt; about it" in heading) or ("`&lt;b&gt;x&lt;/b&gt;`" in heading), heading


def test_every_word_is_exported_once_a_filler_before_its_sentence_too():
    from starcoach.output.export import to_markdown, to_srt, to_vtt

    d = spoken_doc()
    srt = to_srt(d)
    cue_words = [ln for b in srt.strip().split("\n\n") for ln in b.splitlines()[2:]]
    assert " ".join(cue_words).split() == [w["text"] for w in d["words"]]
    assert "00:00:02,000 --> 00:00:03,600\nUm, I rewrote the pool." in srt
    assert "00:00:02.000 --> 00:00:03.600\nUm, <00:00:02.600>I" in to_vtt(d)
    assert "*Um*, I rewrote the pool." in to_markdown(d)
    assert "· 1 filler_" in to_markdown(d)  # not "1 fillers"
    from starcoach.output.html_page import to_html

    d.update(file="/home/me/recordings/take-1.wav", wpm=124.0, duration_s=5.3, fillers=[], pauses=[],
             metrics={"filler_count": 1, "long_pause_count": 0})
    page = to_html(d, np.zeros(16000, np.float32), 16000)
    assert "<h1>My answer</h1>" in page and "take-1.wav</h1>" not in page  # a take with no question, as in md
    assert "· 1 filler ·" in page and "1 fillers" not in page
    assert "Um" not in to_srt(d, clean=True) and "I rewrote" in to_srt(d, clean=True)
    # a word of no length at a sentence's end stays in its sentence, and is not written twice
    d["words"][3] = {**d["words"][3], "start": 1.5, "end": 1.5}
    assert "Last year checkout failed.\n\n## Task" in to_markdown(d)
    assert to_markdown(d).count("failed.") == 1
    assert "00:00:00,000 --> 00:00:01,500\nLast year checkout failed." in to_srt(d)
    vtt = to_vtt(d)  # its stamp is the cue's end: none, the word goes with the one before
    assert "00:00:00.000 --> 00:00:01.500\nLast <00:00:00.300>year <00:00:00.600>checkout failed." in vtt, vtt
    # a timed sentence that holds no word is left out, not written from its text a second time
    d["star"]["sentences"].insert(2, {"text": "Errors fell.", "label": "result", "start": 3.7, "end": 3.9})
    assert to_markdown(d).count("Errors fell") == 1


def test_a_missing_part_s_placeholder_sits_where_the_part_belongs():
    from starcoach.output.export import to_markdown

    md = to_markdown(spoken_doc())
    assert re.findall(r"^## (.+)$", md, flags=re.M) == ["Situation", "Task", "Action", "Result", "Learning",
                                                        "Coach's checklist"]


@pytest.mark.parametrize("tagger, fillers", [("rules", 3), ("learned", 3), ("rules", 1), ("rules", 0)])
def test_an_export_filled_in_where_it_says_checks_complete_and_its_figures_line_is_not_read(tagger, fillers):
    """Also with one filler: the line reads "1 filler_", which the shape did not match, so once the
    checklist was deleted the figures line was read as the answer's first sentence."""
    from starcoach.analysis.star import StarOptions, check_text
    from starcoach.output.export import to_markdown

    doc = spoken_doc()
    doc["metrics"]["filler_count"] = fillers
    md = to_markdown(doc)
    assert "_take 7 · " in md
    edited = md.replace("<!-- missing: add your task here -->",
                        "My task was to get checkout working again before the weekend sale.")
    report = check_text(edited, options=StarOptions(tagger=tagger))
    texts = [s.text for s in report.sentences]
    assert not any("take 7" in t or "wpm" in t for t in texts), texts
    assert [s.label for s in report.sentences][:2] == ["situation", "task"], texts
    # the checklist deleted (a natural edit): the figures line is still not part of the story
    cut = edited.split("## Coach's checklist")[0]
    texts = [s.text for s in check_text(cut, options=StarOptions(tagger=tagger)).sentences]
    assert not any("take 7" in t or "wpm" in t for t in texts), texts
    # and the placeholders left empty or deleted too: the figures line is all that says "export"
    cut = re.sub(r"<!-- missing: [^>]*-->", "", cut)
    texts = [s.text for s in check_text(cut, options=StarOptions(tagger=tagger)).sentences]
    assert not any("take 7" in t or "wpm" in t for t in texts), texts


def test_clean_exports_mend_the_text_where_a_filler_stood():
    from starcoach.output.export import to_text, without_fillers

    def words(*spec):
        return [{"text": t, "start": i * 0.5, "end": i * 0.5 + 0.4, "prob": 0.9, "filler": t.lower().strip(",.") in
                 ("um", "uh")} for i, t in enumerate(spec)]
    said = words("Um,", "my", "task", "was", "hard.", "I,", "um,", "ran", "it,", "and", "uh,", "it", "held,", "uh.")
    assert [w["text"] for w in without_fillers(said)] == \
        ["My", "task", "was", "hard.", "I", "ran", "it,", "and", "it", "held."]
    assert to_text({"words": said}, clean=True) == "My task was hard. I ran it, and it held.\n"
    # a filler in lower case opening the answer, or a sentence, gives the capital too
    lower = words("um,", "last", "year", "it", "broke.", "uh", "then", "I", "fixed", "it.")
    assert to_text({"words": lower}, clean=True) == "Last year it broke. Then I fixed it.\n"
    assert to_text({"words": said}) == "Um, my task was hard. I, um, ran it, and uh, it held, uh.\n"
    # between two clauses the comma stays ("replica I added" ran them together)
    two = words("I", "restarted", "the", "replica,", "um,", "um,", "I", "added", "an", "index.", "Yeah,", "uh,",
                "is", "it.")
    assert to_text({"words": two}, clean=True) == "I restarted the replica, I added an index. Yeah is it.\n"


def test_a_long_sentence_is_cut_into_cues_of_two_short_lines_and_cue_text_is_escaped():
    """A 44-word sentence was one 11 s cue on one 220-character line; "AT&T" or "<" in a cue was
    raw markup to WebVTT, and "-->" in an SRT cue's text made it invalid."""
    from starcoach.output.export import CUE_LINE_CHARS, CUE_MAX_S, to_srt, to_vtt

    said = ("so we had this really big outage and I was on call and the pager went off at three in the morning "
            "and I had to figure out what was going on with the database which was slow and the AT&T link "
            "a-->b down").split()
    words = [{"text": t, "start": i * 0.25, "end": i * 0.25 + 0.2, "prob": 0.9, "filler": False}
             for i, t in enumerate(said)]
    words[-1]["text"] = "down."
    doc = {"words": words, "star": {"sentences": [{"text": " ".join(said), "label": "situation", "start": 0.0,
                                                   "end": words[-1]["end"]}]}}
    stamp = r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d)"

    def seconds(g):
        return int(g[0]) * 3600 + int(g[1]) * 60 + int(g[2]) + int(g[3]) / 1000

    srt_cues = [b.splitlines() for b in to_srt(doc).strip().split("\n\n")]
    assert len(srt_cues) >= 3
    times = []
    for n, cue in enumerate(srt_cues, 1):
        assert cue[0] == str(n) and 1 <= len(cue[2:]) <= 2
        m = re.fullmatch(f"{stamp} --> {stamp}", cue[1])
        start, end = seconds(m.groups()[:4]), seconds(m.groups()[4:])
        assert start < end and end - start <= CUE_MAX_S + 0.01
        times.append((start, end))
        assert all(len(line) <= CUE_LINE_CHARS for line in cue[2:]), cue  # the README's two lines of 42
        assert "-->" not in "".join(cue[2:])
    assert all(a[1] <= b[0] for a, b in zip(times, times[1:]))  # in order, no overlap
    assert " ".join(" ".join(c[2:]) for c in srt_cues).split() == [w["text"].replace("-->", "->") for w in words]
    vtt = to_vtt(doc)
    assert "AT&amp;T" in vtt and "a--&gt;b" in vtt and "AT&T" not in vtt
    texts = [b.split("\n", 1)[1] for b in vtt.split("\n\n")[1:] if b.strip()]
    assert len(texts) == len(srt_cues) and all(1 <= len(t.splitlines()) <= 2 for t in texts)


def test_a_sentence_is_not_cut_into_a_cue_of_its_last_word_alone():
    """An audit: the greedy fill packed a cue to its limits and left the sentence's last word alone
    ("you." for 0.3 s, too short to read); the last cue now takes words from the one before until
    the two are about even, each still within two lines and seven seconds."""
    from starcoach.output.export import CUE_MAX_S, _cues

    # 23 words within the seven seconds, and two lines, of the first cue: the 24th was a cue alone
    said = ("so I did it and it was not bad at all and we did it too and it was fine for all of").split() + ["you."]
    words = [{"text": t, "start": i * 0.3, "end": i * 0.3 + 0.25, "filler": False} for i, t in enumerate(said)]
    doc = {"words": words, "star": {"sentences": [{"text": " ".join(said), "label": "situation", "start": 0.0,
                                                   "end": words[-1]["end"]}]}}
    cues = _cues(doc, clean=False)
    assert len(cues) == 2 and [w["text"] for c in cues for w in c[2]] == said
    lengths = [end - start for start, end, _ in cues]
    assert min(lengths) >= 0.4 * max(lengths) and max(lengths) <= CUE_MAX_S, lengths


def test_the_progress_chart_reads_on_its_own_at_any_number_of_takes():
    """A helper's look at the chart in a browser: fillers per minute rounded to whole numbers
    (8.21 and 8.44 both "8", where the table says 8.2 and 8.4), no scale and no word for the green
    bands, black text on no ground (gone on a dark page), a single take drawn on the left edge,
    past about fifteen takes the ids run together, and an empty chart that did not say why."""
    from types import SimpleNamespace

    from starcoach.output.chart import progress_svg

    ns = {"s": "http://www.w3.org/2000/svg"}

    def chart(n):
        pts = [SimpleNamespace(take_id=i + 1, fillers_per_min=8.21 + 0.23 * (i % 2), wpm=120.0 + i, length_s=95.0,
                               star_parts=3) for i in range(n)]
        return ET.fromstring(progress_svg(pts, target_wpm=(120, 160), target_length_s=(90, 120)))

    def panel(root, key):
        return next(g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-metric") == key)

    many = chart(30)
    ground = many.find("s:rect", ns)
    assert ground.get("fill") == "#ffffff" and ground.get("width") == many.get("width")
    texts = [t.text for t in many.iter("{http://www.w3.org/2000/svg}text")]
    assert "target 120–160" in texts and "target 90–120" in texts and "target 4" in texts
    fillers = panel(many, "fillers_per_min")
    shown = [t.text for t in fillers.findall("s:text", ns) if t.text and t.text[0].isdigit()]
    assert "8.2" in shown and "8.4" in shown and "8" not in shown, shown  # as precise as the table
    ids = [t for t in fillers.findall("s:text", ns) if (t.text or "").startswith("#")]
    assert ids[0].text == "#1" and ids[-1].text == "#30" and len(ids) <= 13
    xs = [float(t.get("x")) for t in ids]
    assert min(b - a for a, b in zip(xs, xs[1:])) >= 24  # "#30" is about 20 px wide at 11 px
    assert len(fillers.findall("s:circle", ns)) == 30  # every take still drawn, and titled
    scale = [t.text for t in fillers.findall("s:text", ns) if t.get("class") == "scale"]
    assert scale == ["0.0", "8.4"], scale
    for key in ("fillers_per_min", "wpm"):  # the first value is not read as one number with the scale's ("197180")
        texts = panel(many, key).findall("s:text", ns)
        scale_end = max(float(t.get("x")) for t in texts if t.get("class") == "scale")  # anchored at their end
        first = next(t for t in texts if t.get("text-anchor") == "start" and t.get("class") != "scale")
        assert float(first.get("x")) >= scale_end + 8, (key, first.get("x"), scale_end)

    one = chart(1)
    dot = panel(one, "wpm").find("s:circle", ns)
    axis = panel(one, "wpm").find("s:line", ns)
    assert float(dot.get("cx")) == pytest.approx((float(axis.get("x1")) + float(axis.get("x2"))) / 2)

    none = chart(0)
    assert "No analysed takes with speech yet." in [t.text for t in none.iter("{http://www.w3.org/2000/svg}text")]


def test_the_page_names_its_marks_in_page_text_and_says_no_speech_once():
    """A helper's look at the page in a browser: the timeline's legend was text inside the drawing
    (5 px high at a phone's width), listed all five parts whatever the answer had, and had no entry
    for the filler and pause marks, nor any time marks; a silent take's page said "0 s · 0 wpm",
    "Audio: Audio quality: …", the same advice twice, and backticks; the strengths `show` lists
    were missing; the red of a filler on the playing word's highlight was under 4.5:1."""
    import re as re_

    doc = spoken_doc()
    doc["star"]["strengths"] = ["The Result is quantified."]
    page = to_html_of(doc, **{"fillers": [{"text": "um", "start": 2.0, "end": 2.4, "kind": "filled_pause",
                                          "source": "transcript"}],
                             "pauses": [{"start": 1.5, "end": 4.0, "duration_s": 2.5, "long": True}]})
    legend = re_.search(r'<div class="legend">(.*?)</div>', page).group(1)
    assert re_.findall(r"</i>([^<]+)</span>", legend) == ["Situation", "Action", "Result", "filler", "long pause"]
    svg = page.split('<svg id="timeline"')[1].split("</svg>")[0]
    assert "<text" not in svg  # nothing in the drawing to shrink out of sight
    ticks = re_.findall(r'<span style="left:([\d.]+)%">(\d+:\d\d)</span>', page)
    assert [t for _, t in ticks] == [f"0:0{k}" for k in range(6)]  # a 5.3 s take: a mark a second, not only 0:00
    assert float(ticks[-1][0]) == pytest.approx(100 * 5 / 5.3, abs=0.01)
    assert '<li class="strength">✓ The Result is quantified.</li>' in page

    silent = spoken_doc()
    silent.update(no_speech=True, words=[], audio={"problems": ["silent_input"], "warning": (
        "Audio quality: pure digital silence for 5 s (0:00–0:05), as from a microphone muted, unplugged or "
        "switched: anything said then is lost, and it counts as a pause. Check the input (`starcoach devices`, "
        "the system's mute) and retake.")})
    silent["star"].update(sentences=[], **{p: {"present": False} for p in ("situation", "action", "result")})
    page = to_html_of(silent, **{"metrics.filler_count": 0, "wpm": 0.0})
    meta = re_.search(r'<p class="meta">(.*?)</p>', page).group(1)
    assert "no speech · 5.3 s of audio" in meta and "wpm" not in meta, meta
    assert "Audio: Audio quality" not in page and page.count("Audio quality:") == 1
    assert page.count("the system's mute") == 1 and "speak closer" not in page  # the muted input's advice, once
    older = to_html_of(silent, **{"audio": {"problems": ["silent_input"]}})  # stored before the warning was
    assert older.count("Check the system's mute") == 1
    assert "`" not in page.split("<script>")[0] and "<code>starcoach devices</code>" in page
    quoted = to_html_of(spoken_doc(), **{"star.feedback": [{"message": "Setup too long: \"we ran `make` and `npm`\""}]})
    assert "we ran `make` and `npm`" in quoted and "<code>make</code>" not in quoted  # the words, as said
    assert re_.search(r'<div class="legend"></div>', page)  # no parts, no marks: nothing to name

    css = page.split("<style>")[1]
    filler = re_.search(r"\.w\.filler \{ color: (#\w{6})", css).group(1)
    now = re_.search(r"\.w\.now \{ background: (#\w{6})", css).group(1)

    def luminance(hex_):
        c = [int(hex_[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    lighter, darker = sorted((luminance(filler), luminance(now)), reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5


def test_an_untouched_export_reads_as_its_take_its_marked_fillers_left_out():
    """`check` of an untouched Markdown export read the fillers the export marks ("*So*, *um*,
    deliver…") as words, and two of seven takes tried came back with another verdict than their
    own (a Task opening "So, um, deliver" read as Action: "No Task" under a Task heading)."""
    from starcoach.analysis.star import check_text
    from starcoach.output.export import to_markdown

    doc = spoken_doc()
    doc["words"][4:5] = [{"text": "So,", "start": 1.8, "end": 2.0, "prob": 0.9, "filler": True},
                         {"text": "um,", "start": 2.0, "end": 2.4, "prob": 0.9, "filler": True},
                         {"text": "I", "start": 2.4, "end": 2.5, "prob": 0.9, "filler": True},
                         {"text": "mean,", "start": 2.5, "end": 2.6, "prob": 0.9, "filler": True}]
    doc["words"][-1] = {**doc["words"][-1], "text": "90%,"}
    doc["words"].append({"text": "uh.", "start": 5.3, "end": 5.6, "prob": 0.9, "filler": True})
    md = to_markdown(with_fillers(doc))
    assert "*So*, *um*, *I mean*, I rewrote the pool." in md and "90%, *uh*." in md, md
    texts = [s.text for s in check_text(md).sentences]
    assert texts == ["Last year checkout failed.", "I rewrote the pool.", "Errors fell 90%."], texts
    # an export written before a two-word filler was one mark reads the same
    assert [s.text for s in check_text(md.replace("*I mean*", "*I* *mean*")).sentences] == texts
    # the checklist ticked off and deleted (and no placeholder left): its figures line still says export
    cut = re.sub(r"<!-- missing: [^>]*-->", "", md.split("## Coach's checklist")[0])
    assert [s.text for s in check_text(cut).sentences] == texts
    # the same words in a file the export did not write are the writer's own: kept
    own = "Last year checkout failed. *So* I rewrote the pool. Errors fell 90%."
    assert "So I rewrote the pool." in [s.text for s in check_text(own).sentences]
    # in an export, the user's own words in asterisks or bold, labels and bullets stay as written
    edited = md.replace("*So*, *um*, *I mean*, I rewrote the pool.",
                        "I would *never* skip tests, so **now** I rewrote the pool.\n"
                        "- We *finally* added load tests - *before* the sale, *um*, ran.")
    edited = edited.replace("<!-- missing: add your task here -->", "*Task:* My job was to get checkout back up.")
    got = [(s.text, s.label) for s in check_text(edited).sentences]
    said = [t for t, _ in got]
    assert "I would *never* skip tests, so **now** I rewrote the pool." not in said  # markup goes, words stay:
    assert "I would never skip tests, so now I rewrote the pool." in said, got
    assert "We finally added load tests - before the sale ran." in said, got  # mended as --clean mends
    assert ("My job was to get checkout back up.", "task") in got, got


def test_a_level_trend_is_drawn_level_not_at_the_floor():
    """Four answers with every STAR part drew "▁▁▁▁", the same as four with none."""
    from starcoach.output.review import _spark

    assert _spark([4.0, 4.0, 4.0, 4.0]) == "▄▄▄▄" and _spark([4.0]) == "▄"
    assert _spark([0.0, None, 4.0]) == "▁ █"


def test_a_two_word_filler_is_one_mark_and_check_still_leaves_it_out():
    """An audit: "I mean" and "you know" came out as `*I* *mean*`, two marks for one filler. One
    mark now spans it (`*I mean*`); `check` of the export still reads it as the take's filler,
    and a phrase the user puts in asterisks, an export's or not, stays their words."""
    from starcoach.analysis.star import check_text
    from starcoach.output.export import to_markdown

    doc = spoken_doc()
    doc["words"][4:5] = [{"text": t, "start": 2.0 + i * 0.1, "end": 2.1 + i * 0.1, "prob": 0.9, "filler": True}
                         for i, t in enumerate(["I", "mean,", "you", "know,", "um,", "kind", "of"])]
    md = to_markdown(with_fillers(doc))
    assert "*I mean*, *you know*, *um*, *kind of* I rewrote the pool." in md, md
    assert "*I*" not in md and "*you*" not in md and "*kind*" not in md, md
    assert "I rewrote the pool." in to_markdown(doc, clean=True)
    texts = [s.text for s in check_text(md).sentences]
    assert texts == ["Last year checkout failed.", "I rewrote the pool.", "Errors fell 90%."], texts
    edited = md.replace("*I mean*, *you know*, *um*, *kind of* I rewrote the pool.",
                        "I was *really proud* when I, *um*, rewrote the pool.")
    assert "I was really proud when I rewrote the pool." in [s.text for s in check_text(edited).sentences]
    own = "Last year checkout failed. *You know* I rewrote the pool. Errors fell 90%."  # no export: all kept
    assert "You know I rewrote the pool." in [s.text for s in check_text(own).sentences]


def test_the_fillers_spans_say_which_filler_words_are_one_filler():
    """The export told a two-word filler from its words' text ("I" then "mean" is "I mean"), where
    the document's `fillers` say which words each filler is: those decide. A document without them
    (none the analysis wrote) marks each filler word alone, as exports did before, and `check` of it
    still leaves them out."""
    from starcoach.analysis.star import check_text
    from starcoach.output.export import to_markdown

    doc = spoken_doc()
    doc["words"][4:5] = [{"text": t, "start": 2.0 + i * 0.1, "end": 2.1 + i * 0.1, "prob": 0.9, "filler": True}
                         for i, t in enumerate(["I", "mean,", "you", "know"])]
    with_fillers(doc)
    assert "*I mean*, *you know* I rewrote the pool." in to_markdown(doc)
    you_know = doc["fillers"][1]  # said to be two fillers, a word each: two marks
    doc["fillers"][1:2] = [{**you_know, "text": "you", "end": 2.3}, {**you_know, "text": "know", "start": 2.3}]
    assert "*I mean*, *you* *know* I rewrote the pool." in to_markdown(doc)
    del doc["fillers"]
    md = to_markdown(doc)
    assert "*I* *mean*, *you* *know* I rewrote the pool." in md, md
    assert [s.text for s in check_text(md).sentences] == ["Last year checkout failed.", "I rewrote the pool.",
                                                           "Errors fell 90%."]


@pytest.mark.parametrize("said", ["x --> y", "x ---> y", "x ----> y", "-->-->"])
def test_no_arrow_of_any_length_is_left_in_an_srt_cue(said):
    """An arrow would end an SRT cue's timing line: one replace of "-->" left "--->" as "-->" (audit 2
    of session 41, finding 6)."""
    from starcoach.output.export import _cue_text

    assert "-->" not in _cue_text(said, vtt=False)


@pytest.mark.parametrize("t, srt, vtt", [
    (2.9996, "00:00:03,000", "00:00:03.000"),  # to the nearest millisecond, not cut down to 2.999
    (0.0004, "00:00:00,000", "00:00:00.000"),
    (3725.0126, "01:02:05,013", "01:02:05.013"),  # hours and minutes carried
    (-0.2, "00:00:00,000", "00:00:00.000"),   # a word stamped before the start
])
def test_a_cue_time_is_rounded_to_the_millisecond(t, srt, vtt):
    from starcoach.output.export import _stamp

    assert (_stamp(t, ","), _stamp(t, ".")) == (srt, vtt)


@pytest.mark.parametrize("story", ["deep-1", "mine_1"])
def test_check_of_a_follow_up_answer_s_export_gives_the_follow_up_note_not_a_story_s_verdict(tmp_path, story):
    """Left from session 52: `check` of a follow-up answer's Markdown export rated it as a story ("Rating
    1/10", "describes what you would do"), which its report, page and export do not. And an id with "_"
    ("mine_1") kept the export's line of figures from being known as one: it was read as the answer's
    first sentence."""
    from starcoach.domain.document import FOLLOW_UP_NOTE
    from starcoach.output.export import to_markdown

    answer = spoken_doc()
    answer["take"].update(id=4, question_id=f"{story}/follow-up-1", question_text="What would you change?")
    md = tmp_path / "fu.md"
    md.write_text(to_markdown(answer))
    said = runner.invoke(app, ["check", str(md)])
    assert said.exit_code == 0, said.output
    flat = " ".join(said.stdout.replace("│", " ").split())
    assert f"follow-up question of the story {story}" in flat and " ".join(FOLLOW_UP_NOTE.split()) in flat, flat
    assert "Rating" not in flat and "STAR structure" not in flat and f"“_take 4 · a follow-up to {story} …”" in flat
    doc = json.loads(runner.invoke(app, ["check", str(md), "--json"]).stdout)
    assert doc["follow_up_to"] == story
    assert not [s for s in doc["star"]["sentences"] if "wpm" in s["text"] or "follow-up" in s["text"]], doc
    # the line deleted, or made a comment (a review): judged as any text; a story's export names no follow-up
    exported = md.read_text()
    md.write_text("\n".join(f"<!--\n{ln}\n-->" if "a follow-up to" in ln else ln for ln in exported.splitlines()))
    assert "STAR structure" in runner.invoke(app, ["check", str(md)]).stdout
    md.write_text("\n".join(ln for ln in exported.splitlines() if "a follow-up to" not in ln))
    assert "STAR structure" in runner.invoke(app, ["check", str(md)]).stdout
    md.write_text(to_markdown(spoken_doc()))
    assert json.loads(runner.invoke(app, ["check", str(md), "--json"]).stdout)["follow_up_to"] is None


def test_a_follow_up_answer_is_exported_and_compared_without_star():
    """An answer to a follow-up question (practice, key f) is no story: its Markdown asked to "add your
    situation here", its page rated it, and a comparison of two such answers judged STAR parts and a
    story's length."""
    from rich.console import Console

    from starcoach.domain.document import FOLLOW_UP_NOTE
    from starcoach.output.export import to_markdown
    from starcoach.output.review import render_comparison

    story, answer = spoken_doc(), spoken_doc()
    answer["take"].update(question_id="deep-1/follow-up-1", question_text="How did you find the root cause?")
    md = to_markdown(answer)
    assert "<!-- missing" not in md and "## Answer" in md and "## Situation" not in md, md
    assert "· a follow-up to deep-1 ·" in md.splitlines()[2], md
    assert md.split("## Coach's checklist")[1].strip() == f"- [ ] {FOLLOW_UP_NOTE}", md
    assert "<!-- missing" in to_markdown(story) or "## Situation" in to_markdown(story)
    page = to_html_of(answer)
    assert FOLLOW_UP_NOTE[:40] in page and "rating" not in page
    assert "· a follow-up to deep-1 ·" in page  # as the Markdown says (the page never did: an audit, session 53)
    assert 'class="band' not in page and 'class="label"' not in page  # no STAR bands or part labels (a review)
    assert "rating 6/10" in to_html_of(spoken_doc())

    a = doc(metrics={"fillers_per_min": 3.0, "long_pause_count": 1, "quantities": []})
    b = doc(metrics={"fillers_per_min": 1.0, "long_pause_count": 0, "quantities": []})
    b["speaking_span_s"] = 30.0
    pair = compare_documents(1, a, 2, b, target_wpm=(120, 160), target_length_s=(90, 120))
    figures = [(1, metric_values(a)), (2, metric_values(b))]
    for stories in (True, False):
        console = Console(record=True, width=120, color_system=None)
        render_comparison([pair], figures, console, show_words=False, stories=stories)
        text = console.export_text()
        assert ("STAR parts" in text and "rating (of 10)" in text) == stories, text
        assert "fillers per minute" in text and "better (-2.0)" in text
        length = next(ln for ln in text.splitlines() if ln.startswith("│ length"))
        assert ("better" in length or "worse" in length) == stories, length


@pytest.mark.parametrize("figures, said, short", [
    ("_take 1 · 2026-12-07T22:53:35+00:00 · 97 s · 126 wpm · 0 fillers_", "about 97 s spoken at the take's 126 words",
     False),
    ("", "about 87 s spoken,", True),  # no pace stated: 140 words a minute
    ("_take 1 · 2026-12-07T22:53:35+00:00 · 97 s · 0 wpm · 0 fillers_", "about 87 s spoken,", True),
    ("<!--\n_take 1 · 2026-12-07T22:53:35+00:00 · 97 s · 126 wpm · 0 fillers_\n-->", "about 87 s spoken,", True),
])
def test_an_export_s_length_is_judged_at_the_take_s_own_pace(tmp_path, figures, said, short):
    """An audit (session 53): a take rated 10/10 at 97 s (an espeak-ng answer imported, the default model)
    checked from its untouched export (tests/data/export_97s.md) as 9/10, "about 87 s spoken, short of the
    90–120 s target": written text was timed at 140 words a minute; the export's own line says the pace."""
    exported = (Path(__file__).parent / "data" / "export_97s.md").read_text()
    md = tmp_path / "answer.md"
    md.write_text(exported.replace(exported.splitlines()[2], figures))
    doc = json.loads(runner.invoke(app, ["check", str(md), "--json"]).stdout)
    notes = " ".join(f["message"] for f in doc["star"]["feedback"]) + " ".join(doc["star"]["strengths"])
    assert said in notes, notes
    assert any(f["code"] == "too_short" for f in doc["star"]["feedback"]) == short, notes


def test_a_word_timed_at_no_length_gets_a_cue_a_player_shows():
    """An audit (session 53): Whisper times some words at no length ("last." 21.64-21.64), and a sentence of
    one such word gave the cue "00:00:10,507 --> 00:00:10,507", which no player shows. A cue lasts at least
    half a second where the next one leaves room, and never runs into it."""
    from starcoach.output.export import to_srt, to_vtt

    answer = spoken_doc()
    answer["words"] += [{"text": "Thanks.", "start": 10.507, "end": 10.507, "prob": 0.9, "filler": False},
                        {"text": "Bye.", "start": 10.707, "end": 10.9, "prob": 0.9, "filler": False}]
    answer["star"]["sentences"] += [{"text": "Thanks.", "label": "other", "start": 10.507, "end": 10.507},
                                    {"text": "Bye.", "label": "other", "start": 10.707, "end": 10.9}]
    srt = to_srt(answer)
    assert "00:00:10,507 --> 00:00:10,707\nThanks." in srt, srt  # up to the next cue, not into it
    assert "00:00:10,707 --> 00:00:11,207\nBye." in srt, srt  # the last one its half second
    assert "00:00:04.000 --> 00:00:05.300" in to_vtt(answer)  # a cue long enough is as it was
