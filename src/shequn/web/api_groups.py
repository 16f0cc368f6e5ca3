"""`/api/v1` routes for groups: the overview rows, the program's totals, one group's summary and
its tables (JSON, or CSV with `format=csv`), and its settings (docs/groups.md). Leaders get only
their own groups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from shequn.errors import NotFound
from shequn.group_settings import group_settings, update_group_settings
from shequn.web import views_groups as views
from shequn.web.auth import Actor, CurrentUser, Store, check_group, scope
from shequn.web.insights import InsightsDep
from shequn.web.views_groups import OverviewQuery

router = APIRouter(prefix="/api/v1", tags=["groups"])
Format = Literal["json", "csv"]
OVERVIEW_COLUMNS = [
    "community_id", "name", "platform", "tier", "members", "size_status", "active_ratio",
    "trend", "messages", "new_members", "departed", "open_tasks", "why",
]  # fmt: skip


class OverviewRow(BaseModel):
    community_id: int
    name: str
    platform: str
    tier: str | None = None
    tier_why: str | None = None
    members: int
    size_status: str
    active_ratio: float
    trend: float | None = None
    messages: int
    new_members: int
    departed: int
    open_tasks: int | None = None
    why: str | None = None


class OverviewPage(BaseModel):
    generated_at: datetime | None
    total: int
    limit: int
    offset: int
    rows: list[OverviewRow]


class ProgramTotals(BaseModel):
    generated_at: datetime | None
    groups: int = 0
    members: int = 0
    active_members: int = 0
    active_ratio: float = 0.0
    messages: int = 0
    new_members: int = 0
    open_tasks: int | None = None
    since: date | None = None
    until: date | None = None
    concentration: dict[str, Any] | None = None


class GroupDetail(BaseModel):
    generated_at: datetime | None
    group: dict[str, Any]
    summary: dict[str, Any] | None = None
    tier: dict[str, Any] | None = None
    retention: dict[str, Any] | None = None
    questions: dict[str, Any] | None = None
    concentration: dict[str, Any] | None = None
    connections: dict[str, Any] | None = None
    trend: float | None = None
    open_tasks: int | None = None


class TablePage(BaseModel):
    generated_at: datetime | None
    table: str
    total: int
    limit: int
    offset: int
    rows: list[dict[str, Any]]


@router.get(
    "/groups",
    response_model=OverviewPage,
    summary="Groups overview (filter, sort, page; format=csv) · 群总览",
)
def list_groups(
    store: Store,
    user: CurrentUser,
    insights: InsightsDep,
    platform: str | None = None,
    tier: str | None = None,
    size: str | None = None,
    q: str | None = None,
    sort: str = "members",
    desc: bool = True,
    limit: int = views.PER_PAGE,
    offset: int = 0,
    format: Format = "json",
) -> Any:
    query = OverviewQuery(platform, tier, size, q, sort, desc, limit, offset)
    query.check()
    if format == "csv":
        query.limit, query.offset = views.MAX_LIMIT, 0
        rows = _all_overview(store, insights, user, query)
        return views.csv_response(rows, columns=OVERVIEW_COLUMNS, filename="groups.csv")
    if insights is None:
        return OverviewPage(generated_at=None, total=0, limit=limit, offset=offset, rows=[])
    page = views.overview(store, insights, scope=scope(user), query=query, lang=user.lang)
    return OverviewPage(
        generated_at=insights.generated_at,
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        rows=[OverviewRow.model_validate(r) for r in page.rows],
    )


def _all_overview(
    store: Store, insights: Any, user: CurrentUser, query: OverviewQuery
) -> list[dict[str, Any]]:
    """Every matching overview row, a thousand at a time."""
    rows: list[dict[str, Any]] = []
    while insights is not None:
        page = views.overview(store, insights, scope=scope(user), query=query, lang=user.lang)
        rows += page.rows
        if not page.has_more or not page.rows:
            break
        query.offset += query.limit
    return rows


@router.get("/program", response_model=ProgramTotals, summary="Program totals · 社群项目总计")
def program(store: Store, user: CurrentUser, insights: InsightsDep) -> ProgramTotals:
    if insights is None:
        return ProgramTotals(generated_at=None)
    totals = views.program_totals(store, insights, scope=scope(user), lang=user.lang)
    return ProgramTotals(generated_at=insights.generated_at, **totals)


@router.get(
    "/groups/{community_id}",
    response_model=GroupDetail,
    summary="One group's summary · 单个群概况",
)
def group(community_id: int, store: Store, user: CurrentUser, insights: InsightsDep) -> GroupDetail:
    check_group(user, community_id)
    detail = views.group_summary(store, insights, community_id, lang=user.lang)
    generated = None if insights is None else insights.generated_at
    return GroupDetail(generated_at=generated, **detail)


class GroupSettingsOut(BaseModel):
    id: int
    platform: str
    name: str
    kind: str | None
    theme: str | None
    keywords: list[str]
    rules: str | None
    timezone: str | None
    answer_window: int | None = Field(description="minutes; null: the default")
    effective_answer_window: int
    messages: int
    labelled: int


class GroupSettingsIn(BaseModel):
    """Only the fields given are set; `answer_window: null` clears it. Checked by the same
    function as `shequn group set` (shequn.group_settings.validate_settings); an unknown field
    is refused with 400, naming it."""

    model_config = ConfigDict(extra="allow")

    kind: str | None = Field(None, description="interest, brand, knowledge, product, learning")
    theme: str | None = Field(None, description='theme description; "" clears')
    keywords: str | list[str] | None = Field(None, description='a list, or "a,b,c" / "a，b，c"')
    rules: str | None = Field(None, description='group rules; "" clears')
    timezone: str | None = Field(None, description="Area/City, e.g. Asia/Shanghai")
    answer_window: int | None = Field(None, description="minutes, 0 to 10080; null clears")


class GroupSettingsChange(BaseModel):
    settings: GroupSettingsOut
    changed: list[str]
    rescored: bool
    rescored_messages: int


@router.get(
    "/groups/{community_id}/settings",
    response_model=GroupSettingsOut,
    summary="A group's settings · 群设置",
)
def get_group_settings(community_id: int, store: Store, user: CurrentUser) -> Any:
    check_group(user, community_id)
    return group_settings(store, community_id)


@router.put(
    "/groups/{community_id}/settings",
    response_model=GroupSettingsChange,
    summary="Set a group's settings; a theme or keywords given re-scores its messages · 设置群",
)
def put_group_settings(
    community_id: int, store: Store, user: Actor, body: GroupSettingsIn
) -> GroupSettingsChange:
    """Everyone who may act (not viewers) on the groups they see, as the inbox and notes."""
    check_group(user, community_id)
    result = update_group_settings(store, community_id, body.model_dump(exclude_unset=True))
    return GroupSettingsChange(
        settings=GroupSettingsOut.model_validate(result.settings, from_attributes=True),
        changed=result.changed,
        rescored=result.rescored,
        rescored_messages=result.rescored_messages,
    )


# after /settings: "settings" would otherwise be read as a table name
@router.get(
    "/groups/{community_id}/{table}",
    response_model=TablePage,
    summary="A table of one group (daily, members, funnel, kols, connections, theme_fit, …; "
    "format=csv) · 群数据表",
)
def group_table(
    community_id: int,
    table: str,
    store: Store,
    user: CurrentUser,
    insights: InsightsDep,
    sort: str | None = None,
    desc: bool | None = None,
    limit: int = views.PER_PAGE,
    offset: int = 0,
    level: str | None = None,
    name: str | None = None,
    format: Format = "json",
) -> Any:
    """`table` is one of GROUP_TABLES; `level` and `name` filter the members table."""
    check_group(user, community_id)
    views.community(store, community_id)
    if table not in views.GROUP_TABLES:
        raise NotFound(f"no group table {table!r}; one of {', '.join(views.GROUP_TABLES)}")
    where = (
        views.members_where(store, community_id, level=level, name=name)
        if table == "members"
        else None
    )
    csv = format == "csv"
    if insights is None:
        if csv:
            return views.csv_response([], columns=[], filename=f"{table}.csv")
        return TablePage(
            generated_at=None, table=table, total=0, limit=limit, offset=offset, rows=[]
        )
    page = views.group_table(
        insights,
        community_id,
        table,
        where=where,
        sort=sort,
        desc=desc,
        limit=None if csv else limit,
        offset=0 if csv else offset,
        lang=user.lang,
    )
    if csv:
        columns = views.table_columns(insights, table)
        return views.csv_response(
            page.rows, columns=columns, filename=f"group-{community_id}-{table}.csv"
        )
    return TablePage(
        generated_at=insights.generated_at,
        table=table,
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        rows=page.rows,
    )
