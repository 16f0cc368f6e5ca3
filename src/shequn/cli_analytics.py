"""The analytics commands of `shequn`: metrics, one metric, reports, product data, windows.

Registered on the main Typer app by `shequn.cli`; each parses arguments, calls one core function
and renders its result.
"""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from shequn.errors import InputError

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts. 输出 JSON。")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV. 输出 CSV。")]
GroupsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Groups by name, platform id or id (default: all). 群名称或编号。"),
]
SinceOpt = Annotated[str | None, typer.Option("--since", help="First day, YYYY-MM-DD. 开始日期。")]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", help="Last day, YYYY-MM-DD (default: newest message). 结束日期。"),
]
EngineOpt = Annotated[
    str,
    typer.Option("--engine", help="auto, duckdb, postgres or spark. 计算引擎。", show_default=True),
]
LangOpt = Annotated[str, typer.Option("--lang", help="zh or en for reasons. 说明语言。")]

windows_app = typer.Typer(
    help="Discussion windows of a group (R14). 群的固定讨论时段。", no_args_is_help=True
)


def _store() -> Any:
    from shequn.store.db import open_store

    return open_store()


def _day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"expected YYYY-MM-DD, got {value!r}", field=field) from None


def _params(values: list[str] | None) -> dict[str, str]:
    out = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"expected NAME=VALUE, got {item!r}", field="--param")
        out[key.strip()] = value.strip()
    return out


def _print_json(data: Any) -> None:
    from shequn.cli import _print_json as print_json

    print_json(data)


def metrics_cmd(as_json: JsonOpt = False) -> None:
    """Every metric, with its parameters and defaults. 所有指标及参数。"""
    from shequn.analytics.registry import all_metrics

    metrics = all_metrics()
    if as_json:
        _print_json(
            [
                {
                    "name": m.name,
                    "subject": m.subject,
                    "zh": m.zh,
                    "en": m.en,
                    "description_zh": m.description_zh,
                    "description_en": m.description_en,
                    "params": {p.name: p.default for p in m.params},
                }
                for m in metrics
            ]
        )
        return
    table = Table("metric / 指标", "about / 说明", "parameters / 参数", box=box.SIMPLE_HEAD)
    for m in metrics:
        params = ", ".join(f"{p.name}={p.default}" for p in m.params)
        table.add_row(m.name, f"{m.zh} — {m.en}", params)
    (console if console.is_terminal else Console(width=200)).print(table)


def metric_cmd(
    name: Annotated[str, typer.Argument(help="Metric name (see `shequn metrics`). 指标名。")],
    groups: GroupsArg = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="NAME=VALUE, repeatable. 参数，可重复。"),
    ] = None,
    engine: EngineOpt = "auto",
    lang: LangOpt = "en",
    limit: Annotated[
        int, typer.Option("--limit", help="Rows shown in the table (JSON/CSV: all). 显示行数。")
    ] = 50,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """One metric as a table, JSON or CSV, with the reason per row. 计算一个指标。"""
    from shequn.analytics.run import compute_metric

    result = compute_metric(
        _store(),
        name,
        groups=groups or [],
        since=_day(since, "--since"),
        until=_day(until, "--until"),
        params=_params(param),
        engine_kind=engine,
        lang=lang,
    )
    rows = result.rows()
    if as_json:
        _print_json(rows)
    elif as_csv:
        write_csv(rows, list(result.table.column_names) + (["why"] if result.whys else []))
    else:
        _rows_table(result.metric.title("zh") + " / " + result.metric.title("en"), rows, limit)


def write_csv(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Rows as CSV on standard output (UTF-8, header first)."""
    writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)


def _rows_table(title: str, rows: list[dict[str, Any]], limit: int) -> None:
    if not rows:
        console.print(f"{title}: no rows / 无数据")
        return
    table = Table(*rows[0].keys(), title=title, box=box.SIMPLE_HEAD)
    for row in rows[:limit]:
        table.add_row(*(_cell(v) for v in row.values()))
    (console if console.is_terminal else Console(width=240)).print(table)
    if len(rows) > limit:
        console.print(f"{len(rows) - limit} more rows: --limit, --json or --csv / 更多行")


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def analytics_refresh_cmd(as_json: JsonOpt = False) -> None:
    """Bring the analytics cache up to the store (only new messages are read). 刷新分析缓存。"""
    from shequn.analytics.engines import DuckDBEngine
    from shequn.analytics.run import cache_path, default_zone

    store = _store()
    if store.dialect.name != "sqlite":
        console.print("PostgreSQL store: metrics are computed in the database; nothing to cache.")
        return
    stats = DuckDBEngine(store, default_tz=default_zone(), cache=cache_path(store)).refresh()
    if as_json:
        _print_json(stats.__dict__)
        return
    console.print(
        f"{stats.new_messages:,} new messages, {stats.days_recomputed:,} group-days recomputed "
        f"in {stats.seconds:.2f} s{' (rebuilt)' if stats.rebuilt else ''} / "
        f"新消息 {stats.new_messages:,} 条"
    )


def analytics_export_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder for the Parquet files. 输出目录。")],
    as_json: JsonOpt = False,
) -> None:
    """Write the store's tables as Parquet, for Spark on a cluster. 导出 Parquet 供 Spark 使用。"""
    from shequn.analytics.spark_io import export_parquet

    files = export_parquet(_store(), folder)
    if as_json:
        _print_json({name: str(path) for name, path in files.items()})
        return
    for name, path in files.items():
        console.print(f"{name}: {path}")


def report_cmd(
    groups: GroupsArg = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table, html or json. 输出格式。")] = "table",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write to this file (html default: report.html). 输出文件。"),
    ] = None,
    engine: EngineOpt = "auto",
    lang: LangOpt = "zh",
) -> None:
    """Report for all or some groups: charts, cohorts, tiers, follow-up and prune lists.
    社群报告。"""
    from shequn.analytics import report
    from shequn.analytics.run import make_base, open_engine, resolve_groups

    if fmt not in ("table", "html", "json"):
        raise InputError(f"unknown format {fmt!r} (table, html or json)", field="--format")
    if lang not in ("zh", "en"):
        raise InputError(f"unknown language {lang!r} (zh or en)", field="--lang")
    store = _store()
    community_ids = resolve_groups(store, groups or [])
    eng = open_engine(store, engine)
    base = make_base(eng, since=_day(since, "--since"), until=_day(until, "--until"))
    built = report.build_report(base, eng, community_ids=community_ids, lang=lang)
    if fmt == "table":
        report.render_tables(built, console if console.is_terminal else Console(width=160))
        return
    if fmt == "json":
        if out is None:
            _print_json(report.render_json(built))
            return
        import orjson

        out.write_bytes(orjson.dumps(report.render_json(built), option=orjson.OPT_INDENT_2))
    else:
        out = out or Path("report.html")
        out.write_text(report.render_html(built), encoding="utf-8")
    console.print(f"report written to / 报告已写入 {out}")


def import_attributes_cmd(
    path: Annotated[Path, typer.Argument(help="CSV of product data per member. 产品数据 CSV。")],
    as_json: JsonOpt = False,
) -> None:
    """Import the operator's product data per member (docs/attributes.md). 导入产品数据。"""
    from shequn.analytics.attributes import import_attributes

    result = import_attributes(_store(), path)
    if as_json:
        _print_json(result.__dict__)
        return
    console.print(
        f"{result.rows} rows: {result.inserted} new, {result.updated} updated, "
        f"{result.unchanged} unchanged / 共 {result.rows} 行：新增 {result.inserted}，"
        f"更新 {result.updated}，未变 {result.unchanged}"
    )
    if result.ignored_columns:
        console.print(f"ignored columns / 忽略的列: {', '.join(result.ignored_columns)}")


def one_group(store: Any, ref: str) -> int:
    from shequn.analytics.run import resolve_groups
    from shequn.errors import Conflict

    ids = resolve_groups(store, [ref]) or []
    if len(ids) != 1:
        raise Conflict(f"{ref!r} names {len(ids)} groups; use the id (see `shequn groups`)")
    return ids[0]


@windows_app.command("set")
def windows_set_cmd(
    group: Annotated[str, typer.Argument(help="Group name, platform id or id. 群。")],
    spec: Annotated[
        str,
        typer.Argument(
            help='e.g. "Mon-Fri 19:20-20:00" or "周一至周五 19:20-20:00"; "none" clears.'
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Set a group's discussion windows, in its own zone. 设置讨论时段。"""
    from shequn.analytics.windows import set_windows

    store = _store()
    windows = set_windows(store, one_group(store, group), spec)
    _show_windows(windows, as_json)


@windows_app.command("list")
def windows_list_cmd(
    group: Annotated[str | None, typer.Argument(help="Group (default: all). 群。")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Discussion windows of one or every group. 查看讨论时段。"""
    from shequn.analytics.windows import list_windows

    store = _store()
    _show_windows(list_windows(store, one_group(store, group) if group else None), as_json)


def _show_windows(windows: list[Any], as_json: bool) -> None:
    if as_json:
        _print_json([{**w.__dict__, "text": w.describe("en")} for w in windows])
        return
    if not windows:
        console.print("no discussion windows / 未设置讨论时段")
    for w in windows:
        console.print(f"group {w.community_id}: {w.describe('en')} / {w.describe('zh')}")


def register(app: typer.Typer) -> None:
    """Add the analytics commands to the main app."""
    app.command("metrics")(metrics_cmd)
    app.command("metric")(metric_cmd)
    app.command("report")(report_cmd)
    app.command("import-attributes")(import_attributes_cmd)
    app.add_typer(windows_app, name="windows")
    analytics_app = typer.Typer(
        help="The analytics cache and exports. 分析缓存与导出。", no_args_is_help=True
    )
    analytics_app.command("refresh")(analytics_refresh_cmd)
    analytics_app.command("export")(analytics_export_cmd)
    app.add_typer(analytics_app, name="analytics")
