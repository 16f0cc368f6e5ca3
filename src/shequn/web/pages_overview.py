"""The Overview page (`/`): every visible group with its tier, size, activity and open tasks,
filtered, sorted and paged, above the program's totals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from shequn.web import i18n
from shequn.web import views_groups as views
from shequn.web.auth import CurrentUser, Store, scope
from shequn.web.insights import InsightsDep
from shequn.web.render import page
from shequn.web.views_groups import OverviewQuery

router = APIRouter(include_in_schema=False)

i18n.add(
    {
        "overview.title": ("社群总览", "Groups overview"),
        "overview.totals": ("项目总计", "Program totals"),
        "overview.groups": ("群数", "Groups"),
        "overview.members": ("成员", "Members"),
        "overview.active_members": ("近 7 天活跃成员", "Active (last 7 days)"),
        "overview.messages": ("消息数", "Messages"),
        "overview.new_members": ("新进", "Joined"),
        "overview.departed": ("退出", "Left"),
        "overview.open_tasks": ("待办", "Open tasks"),
        "overview.period": ("统计区间 {since} – {until}", "Period {since} – {until}"),
        "overview.concentration": (
            "前 {top}% 的群贡献了 {share} 的内容",
            "The top {top}% of groups produce {share} of the content",
        ),
        "overview.concentration_scoped": (
            "内容集中度按整个项目计算，仅对可查看全部群的用户显示。",
            "Content concentration covers the whole program; shown to users who see every group.",
        ),
        "overview.tiers_count": (
            "初建 {new} · 成长 {growing} · 核心 {core}",
            "new {new} · growing {growing} · core {core}",
        ),
        "overview.name": ("群名", "Group"),
        "overview.platform": ("平台", "Platform"),
        "overview.tier": ("分级", "Tier"),
        "overview.size": ("规模", "Size"),
        "overview.active_ratio": ("活跃率", "Active ratio"),
        "overview.trend": ("趋势（周）", "Trend (week)"),
        "overview.trend_help": (
            "上一个完整周与再前一周的周活跃率之差（百分点）",
            "Weekly active ratio of the last complete week minus the week before (points)",
        ),
        "overview.name_contains": ("群名包含", "Name contains"),
        "overview.no_tasks_module": (
            "待办模块尚未安装：待办数显示为 —",
            "The inbox is not installed yet: open tasks show as —",
        ),
        "overview.empty": ("没有符合条件的群", "No group matches"),
        "overview.count": ("共 {n} 个群", "{n} groups"),
        "tier.new": ("初建", "new"),
        "tier.growing": ("成长", "growing"),
        "tier.core": ("核心", "core"),
        "size.small": ("偏小", "small"),
        "size.ideal": ("理想", "ideal"),
        "size.large": ("偏大", "large"),
        "size.over": ("超限 ⚑", "over limit ⚑"),
        "size.policy": (
            "规模标准：{min}–{ideal} 人为理想，超过 {max} 人标记",
            "Size policy: {min}–{ideal} ideal, over {max} flagged",
        ),
    }
)


@router.get("/")
def overview_page(
    request: Request,
    store: Store,
    user: CurrentUser,
    insights: InsightsDep,
    platform: str | None = None,
    tier: str | None = None,
    size: str | None = None,
    q: str | None = None,
    sort: str = "members",
    desc: bool = True,
    page_no: Annotated[int, Query(alias="page", ge=1)] = 1,
) -> Response:
    number = page_no
    query = OverviewQuery(
        platform or None, tier or None, size or None, q or None, sort, desc,
        views.PER_PAGE, (number - 1) * views.PER_PAGE,
    )  # fmt: skip
    values: dict[str, Any] = {"rows": [], "total": 0, "has_more": False, "totals": None}
    if insights is not None:
        result = views.overview(store, insights, scope=scope(user), query=query, lang=user.lang)
        values.update(rows=result.rows, total=result.total, has_more=result.has_more)
        values["totals"] = views.program_totals(store, insights, scope=scope(user), lang=user.lang)
        values["platforms"] = views.platforms(insights, scope(user))
    return page(
        request,
        user,
        "overview.html.j2",
        active="overview",
        insights=insights,
        query=query,
        page_no=number,
        tiers=views.TIERS,
        sizes=views.SIZES,
        tasks_installed=views.TASKS_INSTALLED,
        **values,
    )
