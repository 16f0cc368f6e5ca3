"""QQ 【群主】/【管理员】 titles become roles: parsed as MemberRole, stored on import."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from shequn.importing import import_path
from shequn.model.records import AccountRef, MemberRole
from shequn.platforms.base import ParseContext, Source, get_parser
from shequn.platforms.qq import TITLE
from shequn.store import schema as t

SEP = "=" * 64
# Two groups in one file, in the message manager's layout (FORMATS.md §5, as in qq_groups.txt).
# In 产品交流群: 老王 is 群主 throughout; 小美 is 管理员, then writes without a title (she lost it:
# the latest header wins -> member); 地瓜 has a level title first and later becomes 管理员;
# 土豆 never has a title (no row). In 周末徒步 老王 writes with no title (no row there).
BODY = f"""\ufeff{TITLE}

{SEP}
消息分组:我的QQ群
{SEP}
消息对象:产品交流群
{SEP}

2019-07-16 18:15:05 【群主】老王(10001234)
欢迎新朋友！

2019-07-16 18:16:02 【活跃】地瓜(23333233)
大家好~

2019-07-16 18:16:40 【管理员】小美(88886666)
[图片]

2019-07-16 18:17:11 土豆<tudou@example.com>
欢迎！

2019-07-17 09:00:00 小美(88886666)
我不做管理员啦

2019-07-18 09:00:00 【管理员】【活跃】地瓜(23333233)
新管理员报到

{SEP}
消息对象:周末徒步(735201984)
{SEP}

2019-07-20 08:00:00 老王(10001234)
周六爬山吗

"""


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "qq.txt"
    path.write_text(BODY, encoding="utf-8")
    return path


def test_titles_become_member_roles(tmp_path):
    ctx = ParseContext()
    source = Source(_file(tmp_path))
    records = list(get_parser("qq")().parse(source, ctx))
    source.close()
    roles = [r for r in records if isinstance(r, MemberRole)]
    # in the order each first had a title, with the latest header's role
    assert roles == [
        MemberRole("qq:产品交流群", AccountRef("10001234", name="老王"), "owner"),
        MemberRole("qq:产品交流群", AccountRef("88886666", name="小美"), "member"),
        MemberRole("qq:产品交流群", AccountRef("23333233", name="地瓜"), "admin"),
    ]
    assert records.index(roles[0]) > 0  # after the groups they name


def _stored(engine) -> list[tuple[str, str, str, str]]:
    c, a, r = t.community.c, t.account.c, t.member_role.c
    query = (
        select(c.platform_id, a.platform_id, r.role, r.source)
        .join_from(t.member_role, t.account, a.id == r.account_id)
        .join(t.community, c.id == r.community_id)
    )
    with engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(query))


def _spell_roles(engine) -> list[tuple[str, str, str]]:
    c, a, m = t.community.c, t.account.c, t.membership.c
    query = (
        select(c.platform_id, a.platform_id, m.role)
        .join_from(t.membership, t.account, a.id == m.account_id)
        .join(t.community, c.id == m.community_id)
    )
    with engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(query))


def test_import_stores_them_and_reimport_changes_nothing(tmp_path, engine):
    path = _file(tmp_path)
    import_path(engine, path, fmt="qq", tz="Asia/Shanghai", index=False)
    expected = [
        ("qq:产品交流群", "10001234", "owner", "import"),
        ("qq:产品交流群", "23333233", "admin", "import"),
        ("qq:产品交流群", "88886666", "member", "import"),
    ]
    assert _stored(engine) == expected
    assert _spell_roles(engine) == [
        ("735201984", "10001234", "member"),  # no title in this group
        ("qq:产品交流群", "10001234", "owner"),
        ("qq:产品交流群", "23333233", "admin"),
        ("qq:产品交流群", "88886666", "member"),
        ("qq:产品交流群", "tudou@example.com", "member"),
    ]
    with engine.connect() as conn:
        before = conn.execute(select(t.member_role)).all()
    import_path(engine, path, fmt="qq", tz="Asia/Shanghai", index=False, force=True)
    with engine.connect() as conn:
        assert conn.execute(select(t.member_role)).all() == before
