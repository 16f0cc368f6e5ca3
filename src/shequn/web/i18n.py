"""Interface text in Chinese and English.

Each page module adds its own phrases with `add({key: (zh, en)})` at import, so no module edits
another's text. Templates call `_("key", name=…)`; a missing key shows the key itself.
"""

from __future__ import annotations

from typing import Any

LANGS = ("zh", "en")
_TEXT: dict[str, tuple[str, str]] = {}


def add(phrases: dict[str, tuple[str, str]]) -> None:
    """Register phrases; a key registered twice with other words is a programming error."""
    for key, pair in phrases.items():
        old = _TEXT.get(key)
        if old is not None and old != pair:
            raise ValueError(f"phrase {key!r} registered twice with different text")
        _TEXT[key] = pair


def text(lang: str, key: str, **values: Any) -> str:
    """The phrase in `lang` (zh or en), with {placeholders} filled."""
    pair = _TEXT.get(key)
    if pair is None:
        return key
    phrase = pair[0] if lang == "zh" else pair[1]
    return phrase.format(**values) if values else phrase


def all_keys() -> dict[str, tuple[str, str]]:
    return dict(_TEXT)


add(
    {
        "app.name": ("社群 shequn", "shequn 社群"),
        "nav.overview": ("总览", "Overview"),
        "nav.inbox": ("待办", "Inbox"),
        "nav.archive": ("消息归档", "Archive"),
        "nav.import": ("导入", "Import"),
        "nav.users": ("用户", "Users"),
        "nav.api": ("API 文档", "API docs"),
        "nav.logout": ("退出", "Sign out"),
        "nav.lang": ("English", "中文"),
        "login.title": ("登录", "Sign in"),
        "login.username": ("用户名", "User name"),
        "login.password": ("密码", "Password"),
        "login.submit": ("登录", "Sign in"),
        "login.failed": ("用户名或密码错误", "Wrong user name or password"),
        "login.limited": (
            "尝试次数过多，请一分钟后再试",
            "Too many attempts; try again in a minute",
        ),
        "setup.title": ("创建管理员", "Create the administrator"),
        "setup.intro": (
            "首次使用：为第一位管理员设置用户名和密码（至少 10 位）。",
            "First run: choose the first administrator's name and password (10+ characters).",
        ),
        "setup.submit": ("创建并登录", "Create and sign in"),
        "setup.invalid": (
            "此设置链接无效（已使用或已过期）。运行 `shequn user setup-link` 获取新链接。",
            "This setup link is used or expired. `shequn user setup-link` makes a new one.",
        ),
        "error.title": ("出错了", "Something went wrong"),
        "error.forbidden": ("无权访问", "Not allowed"),
        "error.not_found": ("未找到", "Not found"),
        "common.none": ("暂无", "None yet"),
        "common.csv": ("导出 CSV", "Export CSV"),
        "common.more": ("更多", "More"),
        "common.prev": ("上一页", "Previous"),
        "common.next": ("下一页", "Next"),
        "common.save": ("保存", "Save"),
        "common.search": ("搜索", "Search"),
        "common.filter": ("筛选", "Filter"),
        "common.all": ("全部", "All"),
        "common.group": ("群", "Group"),
        "common.member": ("成员", "Member"),
        "common.why": ("原因", "Why"),
        "snapshot.missing": (
            "还没有分析结果：运行 `shequn refresh`（导入后会自动运行）。",
            "No insights yet: run `shequn refresh` (it runs after every import).",
        ),
        "snapshot.age": ("数据更新于 {when}", "Insights from {when}"),
        "me.title": ("我的账号", "My account"),
        "me.lang": ("界面语言", "Language"),
        "me.zone": ("时区（留空为默认）", "Time zone (empty: the default)"),
        "me.tokens": ("API 令牌", "API tokens"),
        "me.token_name": ("用途", "Purpose"),
        "me.token_new": ("生成令牌", "Make a token"),
        "me.token_once": (
            "请立即复制，此令牌只显示这一次：",
            "Copy it now; this token is shown only once:",
        ),
        "me.revoke": ("撤销", "Revoke"),
        "me.revoked": ("已撤销", "revoked"),
        "me.last_used": ("最近使用", "Last used"),
    }
)
