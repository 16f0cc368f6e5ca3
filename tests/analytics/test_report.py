"""`build_report` and its three renderers (HTML, JSON, terminal) over a small hand-built store.

Two groups in March 2026: "Alpha" (UTC) and a group whose name is hostile HTML; a member whose
display name tries to close the page's <script> element. The known message for the heatmap is
Wednesday 4 March 2026 21:15 UTC in Alpha: weekday 2 (Mon=0), hour 21, and the only message in
that hour of that weekday. Every metric runs for each report, which takes seconds even on this
store, so the module builds one store and one report per language (`world`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from rich.console import Console

from analytics_builder import StoreBuilder, at, day
from shequn.analytics import report as rp
from shequn.analytics.base import Base
from shequn.analytics.engines import DuckDBEngine
from shequn.analytics.registry import get_metric
from shequn.analytics.report_html import (
    CohortRow,
    cohort_table,
    echarts_js,
    heatmap_grid,
    level_series,
)
from shequn.errors import NotFound
from shequn.store.db import make_engine, upgrade

HOSTILE = "</script><script>alert(1)</script>"
HOSTILE_GROUP = '<img src=x onerror="alert(2)">'


def build(store: StoreBuilder, lang: str = "en", ids: list[int] | None = None) -> rp.Report:
    engine = DuckDBEngine(store.engine, default_tz="UTC")
    engine.refresh()
    base = Base(engine.raw(), since_day=day("2026-03-01"), until_day=day("2026-03-31"))
    return rp.build_report(base, engine, community_ids=ids, lang=lang)


def fill(store: StoreBuilder) -> tuple[int, int]:
    alpha = store.group("Alpha")
    beta = store.group(HOSTILE_GROUP, platform="wechat", tz="Asia/Shanghai")
    ann, bob, eve = store.person("Ann"), store.person("Bob"), store.person(HOSTILE)
    store.member(alpha, ann, joined=at("2026-03-02 09:00"))
    store.member(alpha, bob, joined=at("2026-03-02 09:00"))
    # eve speaks in Beta, then leaves: she is on the follow-up list with her hostile name
    store.member(beta, eve, joined=at("2026-03-02 10:00"), left=at("2026-03-20 10:00"))
    for d in range(2, 20):
        store.say(alpha, ann, at(f"2026-03-{d:02d} 09:30"))
    store.say(alpha, bob, at("2026-03-04 21:15"))  # the known heatmap cell: Wed, 21h
    store.say(alpha, bob, at("2026-03-05 10:00"))
    store.say(beta, eve, at("2026-03-03 02:00"), "hello")  # 10:00 in Shanghai, Tuesday
    store.say(beta, eve, at("2026-03-10 02:00"), "bye")
    return alpha, beta


@dataclass
class World:
    store: StoreBuilder
    alpha: int
    beta: int
    reports: dict[str, rp.Report] = field(default_factory=dict)

    def report(self, lang: str = "en") -> rp.Report:
        # every metric runs for each report: build each language once for the whole module
        if lang not in self.reports:
            self.reports[lang] = build(self.store, lang)
        return self.reports[lang]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('report') / 'store.db'}")
    upgrade(eng)
    store = StoreBuilder(eng)
    yield World(store, *fill(store))
    eng.dispose()


@pytest.fixture
def few_sections(monkeypatch):
    """Only these sections in reports built by the test (every metric is slow to plan)."""
    keep = {"group_summary", "activity_heatmap", "leavers"}
    monkeypatch.setattr(rp, "SECTIONS", tuple(s for s in rp.SECTIONS if s[0] in keep))


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html)
    assert found, "chart data block missing"
    return json.loads(found.group(1))


def registered(name: str) -> bool:
    try:
        get_metric(name)
    except NotFound:
        return False
    return True


def page_html_without_library(html: str) -> str:
    return html.replace(echarts_js(), "")


def test_json_has_every_section(world):
    out = rp.render_json(world.report())
    json.dumps(out, ensure_ascii=False)  # JSON-ready as it is
    assert list(out["sections"]) == [key for key, _ in rp.SECTIONS]
    assert [g["community_id"] for g in out["groups"]] == [world.alpha, world.beta]
    assert (out["since"], out["until"]) == ("2026-03-01", "2026-03-31")
    for key, section in out["sections"].items():
        # whether each metric itself is right is for its own tests; here: the report has it
        assert section["missing"] == (not registered(key)), key
        if not section["missing"] and section["error"] is None:
            assert section["title"] == get_metric(key).en
            assert all(set(row) <= set(section["columns"]) for row in section["rows"])


def test_heatmap_cell_of_the_known_message(world):
    html = rp.render_html(world.report())
    cells = page_data(html)["heatmap"]["cells"]
    by_cell = {(wd, h): n for h, wd, n in cells}
    assert len(cells) == 7 * 24
    # Alpha: Ann at 09:30 every day 2–19 March (Mon 2 … Thu 19); Bob Wed 4 21:15, Thu 5 10:00.
    # Beta (Shanghai): eve Tue 3 and Tue 10 at 10:00 local.
    assert by_cell[(2, 21)] == 1
    # Ann's days by weekday: Mon 2,9,16; Tue 3,10,17; Wed 4,11,18; Thu 5,12,19; Fri 6,13; Sat 7,14;
    # Sun 8,15
    assert [by_cell[(wd, 9)] for wd in range(7)] == [3, 3, 3, 3, 2, 2, 2]
    assert (by_cell[(3, 10)], by_cell[(1, 10)]) == (1, 2)
    assert sum(by_cell.values()) == 18 + 2 + 2
    assert page_data(html)["heatmap"]["max"] == 3


def test_html_is_one_offline_file_with_the_inlined_library(world):
    html = rp.render_html(world.report())
    assert echarts_js() in html
    assert not re.search(r"<script[^>]+src=", html, re.I)
    assert not re.search(r"<link\b", html, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?https?:", html)
    assert html.count("<script") == 3 and html.count("</script>") == 3


def test_user_text_is_escaped_in_tables_and_chart_data(world):
    html = rp.render_html(world.report())
    own = page_html_without_library(html)  # the library's own code has an "<img" string
    assert HOSTILE not in html and "<script>alert" not in html
    assert HOSTILE_GROUP not in html and "<img" not in own
    # shown, escaped, in the page header (group name) …
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in html
    # … and in the chart data as JSON whose <, > are \u escapes
    assert '"\\u003cimg src=x onerror=\\"alert(2)\\"\\u003e"' in html
    if registered("group_daily"):
        names = [s["name"] for s in page_data(html)["daily"]["series"]]
        assert names == ["Alpha", HOSTILE_GROUP]  # Alpha has more daily actives
    if registered("leavers"):
        assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_both_languages(world):
    en = rp.render_html(world.report("en"))
    zh = rp.render_html(world.report("zh"))
    assert '<html lang="en">' in en and '<html lang="zh-CN">' in zh
    assert "Community report" in en and "社群运营报告" in zh
    assert "Follow-up: leavers and slipping members" in en and "跟进名单" in zh
    assert page_data(en)["heatmap"]["weekdays"][0] == "Mon"
    assert page_data(zh)["heatmap"]["weekdays"][0] == "周一"
    for key, _ in rp.SECTIONS:
        if key != "member_levels" and registered(key):
            assert get_metric(key).en in en, key
            assert get_metric(key).zh in zh, key


def test_one_group_only(world, few_sections):
    report = build(world.store, ids=[world.alpha])
    assert [g["name"] for g in report.groups] == ["Alpha"]
    assert [s.key for s in report.sections] == ["group_summary", "activity_heatmap", "leavers"]
    for s in report.sections:
        assert all(r.get("community_id", world.alpha) == world.alpha for r in s.rows), s.key
    assert "onerror" not in page_html_without_library(rp.render_html(report))


def test_terminal_tables(world):
    console = Console(record=True, width=200, force_terminal=False)
    rp.render_tables(world.report(), console)
    text = console.export_text()
    assert "Community report" in text and "Period: 2026-03-01 – 2026-03-31" in text
    assert HOSTILE_GROUP in text  # printed as typed, never read as markup
    if registered("activity_heatmap"):
        wed = next(line for line in text.splitlines() if line.startswith("Wed "))
        assert wed.endswith(" 4")  # Ann 4, 11, 18 at 09:30 and Bob 4 at 21:15 (Alpha)
    if registered("leavers"):
        assert HOSTILE in text


def test_missing_or_failing_metric_shows_a_dash(world, few_sections, monkeypatch):
    real = rp.get_metric

    def fake(name):
        if name == "activity_heatmap":
            raise NotFound("no metric")
        if name == "group_summary":

            def boom(b, p):
                raise ValueError("broken")

            return replace(real(name), compute=boom)
        return real(name)

    monkeypatch.setattr(rp, "get_metric", fake)
    report = build(world.store)
    assert report.section("activity_heatmap").missing
    assert report.section("group_summary").error == "ValueError: broken"
    assert report.section("no_such_section").missing
    html = rp.render_html(report)
    assert "— This metric is not available" in html
    assert "— This metric could not be computed (ValueError: broken)" in html
    assert 'id="chart-heatmap"' not in html
    console = Console(record=True, width=200)
    rp.render_tables(report, console)
    assert "This metric could not be computed" in console.export_text()


def test_empty_store(store):
    report = build(store)
    assert report.groups == []
    html = rp.render_html(report)
    assert "Community report" in html and 'id="chart-heatmap"' not in html
    rp.render_tables(report, Console(record=True))
    for key, s in rp.render_json(report)["sections"].items():
        # only program-wide sections (no group column) may have a row of zeros
        assert not s["rows"] or "community_id" not in s["columns"], key


# -- the report's own arithmetic, on rows made by hand ----------------------------------------
def hand_report(**rows: list[dict]) -> rp.Report:
    sections = [
        rp.Section(key=k, kind="table", title=k, columns=list(v[0]) if v else [], rows=v)
        for k, v in rows.items()
    ]
    groups = [{"community_id": 1, "name": "A", "timezone": "UTC"}]
    return rp.Report("en", day("2026-03-01"), day("2026-03-31"), groups, sections)


def test_cohort_table_pools_groups():
    w = (day("2026-03-02") + 3) // 7

    def row(cid, week, size, after, kept):
        start = rp.week_start(week)
        return dict(
            community_id=cid,
            cohort_week=week,
            cohort_week_start=start,
            size=size,
            weeks_after=after,
            retained=kept,
            retention=kept / size,
        )

    rows = [
        row(1, w, 4, 0, 4),
        row(1, w, 4, 1, 2),
        row(2, w, 6, 0, 6),
        row(2, w, 6, 1, 1),
        row(1, w + 1, 5, 0, 5),
    ]
    got = cohort_table(hand_report(join_cohorts=rows))
    # week w: 4 + 6 joined; week 1 after: (2 + 1) / 10; week w+1 has no week 1 yet
    assert got == [
        CohortRow("2026-03-02", 10, [1.0, 0.3]),
        CohortRow("2026-03-09", 5, [1.0, None]),
    ]


def test_level_series_sums_groups_and_orders_levels():
    w = (day("2026-03-02") + 3) // 7
    rows = [
        {"community_id": 1, "week": w, "level": "core", "members": 1},
        {"community_id": 2, "week": w, "level": "core", "members": 2},
        {"community_id": 1, "week": w, "level": "lurker", "members": 5},
        {"community_id": 1, "week": w + 1, "level": "odd", "members": 1},
        {"community_id": 1, "week": w + 1, "level": None, "members": 9},  # skipped
    ]
    weeks, series = level_series(hand_report(level_counts=rows))
    assert weeks == ["2026-03-02", "2026-03-09"]
    assert series == {"lurker": [5, 0], "core": [3, 0], "odd": [0, 1]}


def test_heatmap_grid_skips_rows_without_the_columns():
    rows = [
        {"community_id": 1, "weekday": 6, "hour": 23, "messages": 2},
        {"community_id": 2, "weekday": 6, "hour": 23, "messages": 3},
        {"community_id": 2, "weekday": 6, "messages": 3},  # no hour: skipped, no crash
    ]
    grid = heatmap_grid(hand_report(activity_heatmap=rows))
    assert grid[6][23] == 5 and sum(map(sum, grid)) == 5


def test_visible_columns_and_latest_week_rows():
    s = rp.Section(
        key="group_health",
        kind="table",
        title="",
        columns=["community_id", "name", "week", "week_start", "score", "size_max", "why"],
        rows=[
            {"community_id": 1, "week": 3},
            {"community_id": 1, "week": 4},
            {"community_id": 2, "week": 2},
        ],
    )
    assert rp.visible_columns(s) == ["name", "why", "week_start", "score"]
    assert rp.shown_rows(s) == [{"community_id": 1, "week": 4}, {"community_id": 2, "week": 2}]
    members = rp.Section(
        key="leavers",
        kind="table",
        title="",
        columns=["community_id", "account_id", "left_day", "display_name"],
    )
    assert rp.visible_columns(members) == ["group", "display_name", "left_day"]


@pytest.mark.parametrize(
    ("value", "column", "lang", "text"),
    [
        (None, "messages", "en", "—"),
        (day("2026-03-04"), "last_day", "en", "2026-03-04"),
        (day("2026-03-04"), "day", "zh", "2026-03-04"),
        ((day("2026-03-04") + 3) // 7, "week", "en", "2026-03-02"),  # its Monday
        (0.4567, "active_ratio", "en", "45.7%"),
        (2.5, "score", "en", "2.5"),
        (2, "weekday", "zh", "周三"),
        (2, "weekday", "en", "Wed"),
        ("growing", "tier", "zh", "成长"),
        ("core", "to_tier", "en", "core"),
        ("remove", "left_reason", "zh", "被移出"),
        (1772661600, "left_epoch", "en", "2026-03-04 22:00"),  # 2026-03-04 22:00 UTC
        (True, "is_bot", "zh", "是"),
        (212, "messages", "en", "212"),
    ],
)
def test_format_value(value, column, lang, text):
    assert rp.format_value(value, column, lang) == text


def test_epoch_shown_in_the_group_zone(world):
    report = world.report()
    row = {
        "community_id": world.beta,
        "left_epoch": 1772661600,
    }  # 22:00 UTC is 06:00 next day there
    assert rp.cell(report, row, "left_epoch") == "2026-03-05 06:00"
    assert rp.cell(report, row, "group") == HOSTILE_GROUP
    assert rp.cell(report, row, "no_such_column") == "—"


def test_vendored_library_and_its_license_ship_with_the_package():
    from importlib.resources import files

    folder = files("shequn.analytics") / "static" / "vendor" / "echarts"
    assert "Apache License" in (folder / "LICENSE").read_text(encoding="utf-8")
    assert "5.6.0" in (folder / "README.txt").read_text(encoding="utf-8")
    assert len(echarts_js()) > 500_000


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")
def test_charts_render_in_a_browser(world, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(rp.render_html(world.report()), encoding="utf-8")
    done = subprocess.run(
        [
            shutil.which("chromium") or "/usr/bin/chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    dom = done.stdout
    # ECharts' SVG renderer puts an <svg> into each chart's container
    assert re.search(r'id="chart-heatmap"[^>]*>.*?<svg', dom, re.S), done.stderr[-2000:]
