"""Every word the report prints itself, in Chinese and English: one dict of labels, one of column
headers, and the codes metrics return (tiers, levels, size status) in the operator's words."""

from __future__ import annotations

from typing import Any

LABELS: dict[str, tuple[str, str]] = {
    "report_title": ("社群运营报告", "Community report"),
    "period": ("时段", "Period"),
    "groups": ("群", "Groups"),
    "generated": ("生成于", "Generated"),
    "all_groups": ("全部群", "All groups"),
    "part_groups": ("群概况", "Groups"),
    "part_levels": ("成员等级", "Member levels"),
    "part_program": ("群健康与分层", "Group health and tiers"),
    "part_core": ("核心成员", "Core members"),
    "part_followup": ("跟进名单：离开与沉默下来的成员", "Follow-up: leavers and slipping members"),
    "part_prune": ("清理名单与讨论出勤", "Prune list and attendance"),
    "missing": ("暂无此项指标", "This metric is not available"),
    "failed": ("此项计算失败", "This metric could not be computed"),
    "no_rows": ("无", "None"),
    "see_html": ("（图表见 HTML 报告）", "(a chart in the HTML report)"),
    "more_rows": (
        "另有 {n} 行未显示（完整数据见 --format json）",
        "{n} more rows (see --format json)",
    ),
    "messages": ("消息", "Messages"),
    "weekday_hour": (
        "按星期和小时的消息数（群所在时区）",
        "Messages by weekday and hour (group's zone)",
    ),
    "cohort": ("入群周", "Joined in week"),
    "size": ("人数", "Size"),
    "week_n": ("第 {n} 周", "Week {n}"),
    "week_of": ("周", "Week of"),
    "dau": ("每日活跃成员数（按群堆叠）", "Daily active members (stacked by group)"),
    "others": ("其他", "Others"),
    "group": ("群", "Group"),
    "name": ("群", "Group"),
    "display_name": ("成员", "Member"),
    "why": ("原因", "Why"),
    "platform": ("平台", "Platform"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
}
# Column headers; a column not listed shows its name with spaces for underscores.
COLUMNS: dict[str, tuple[str, str]] = {
    "day": ("日期", "Day"),
    "date": ("日期", "Date"),
    "week": ("周", "Week"),
    "week_start": ("周", "Week of"),
    "month": ("月份", "Month"),
    "ugc": ("UGC", "UGC"),
    "active_days": ("活跃天数", "Active days"),
    "members": ("成员数", "Members"),
    "new_members": ("新成员", "New"),
    "departed": ("离开", "Departed"),
    "avg_dau": ("平均日活", "Avg DAU"),
    "wau": ("周活", "WAU"),
    "mau": ("月活", "MAU"),
    "active_ratio": ("活跃率", "Active ratio"),
    "active_members": ("活跃成员", "Active members"),
    "d1_retention": ("次日留存", "Next-day retention"),
    "w1_retention": ("次周留存", "Next-week retention"),
    "size_status": ("规模", "Size"),
    "retention": ("留存率", "Retention"),
    "retained": ("留存人数", "Retained"),
    "joiners": ("入群人数", "Joiners"),
    "ugc_per_member": ("人均 UGC", "UGC per member"),
    "growth": ("增长", "Growth"),
    "level": ("等级", "Level"),
    "previous_level": ("原等级", "Previous level"),
    "tier": ("层级", "Tier"),
    "previous_tier": ("原层级", "Previous tier"),
    "changed": ("有变化", "Changed"),
    "since_week": ("起始周", "Since week"),
    "since_date": ("起始日期", "Since"),
    "score": ("得分", "Score"),
    "share_of_group": ("占本群", "Share of group"),
    "cumulative_share": ("累计占比", "Cumulative share"),
    "rank": ("排名", "Rank"),
    "joined_day": ("入群日期", "Joined"),
    "left_day": ("离开日期", "Left"),
    "left_reason": ("离开方式", "How"),
    "days_in_group": ("在群天数", "Days in group"),
    "messages_in_spell": ("在群期间消息", "Messages while member"),
    "last_active_day": ("最后发言", "Last spoke"),
    "days_quiet": ("沉默天数", "Days quiet"),
    "days_since_last_message": ("未发言天数", "Days since last message"),
    "prune_day": ("清理日", "Prune day"),
    "participation": ("参与单位", "Participation"),
    "opportunities": ("应参与", "Opportunities"),
    "attended": ("参与", "Attended"),
    "missed": ("缺席", "Missed"),
    "present": ("在群人数", "Members present"),
    "attendance_rate": ("出勤率", "Attendance"),
    "start": ("开始", "Start"),
    "end": ("结束", "End"),
    "license": (
        "图表由 Apache ECharts {v}（Apache-2.0）绘制，已内嵌于本文件。",
        "Charts drawn by Apache ECharts {v} (Apache-2.0), embedded in this file.",
    ),
}
WEEKDAYS = {
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
# Values a metric returns as codes, shown in the operator's words.
VALUE_LABELS: dict[str, tuple[str, str]] = {
    "new": ("初建", "new"),
    "small": ("偏小", "small"),
    "ideal": ("理想", "ideal"),
    "large": ("偏大", "large"),
    "over": ("超限", "over the limit"),
    "week": ("周", "week"),
    "window": ("讨论时段", "window"),
    "growing": ("成长", "growing"),
    "core": ("核心", "core"),
    "lurker": ("潜水", "lurker"),
    "newcomer": ("新人", "newcomer"),
    "participant": ("参与", "participant"),
    "contributor": ("贡献", "contributor"),
    "leave": ("主动退出", "left"),
    "remove": ("被移出", "removed"),
}


def label(key: str, lang: str, **values: Any) -> str:
    """The report's own word for `key` in `lang` ("zh", else English); the key when unknown."""
    pair = LABELS.get(key) or COLUMNS.get(key)
    text = (pair[0] if lang == "zh" else pair[1]) if pair else key.replace("_", " ")
    return text.format(**values) if values else text
