"""Phrases for the demo generator: slot values, the generic banks and the fill helpers.

A bank is looked up by (theme, language, kind) in THEME_BANKS (generate_banks*) and falls back
to the generic bank of the same language, so a theme only lists what is specific to it. Slots
are filled from SLOTS or from keyword values given by the caller (a name, a day count).
"""

from __future__ import annotations

import random
import re
from functools import cache

from shequn.demo.generate_banks import STUDY_BANKS
from shequn.demo.generate_banks_community import COMMUNITY_BANKS


def _b(text: str) -> list[str]:
    return [x.strip() for x in text.split("|") if x.strip()]


SLOTS: dict[str, list[str]] = {
    "pylib": _b(
        "requests|pandas|numpy|FastAPI|Django|Flask|asyncio|pytest|matplotlib|SQLAlchemy|"
        "Pydantic|Scrapy|openpyxl|Poetry|uv|BeautifulSoup"
    ),
    "pytopic": _b(
        "装饰器|生成器|列表推导式|异步编程|虚拟环境|类型注解|多线程|正则表达式|面向对象|"
        "闭包|上下文管理器|爬虫|数据清洗|单元测试"
    ),
    "pytopic_en": _b(
        "decorators|generators|list comprehensions|async/await|virtual envs|"
        "type hints|threading|regex|dataclasses|closures|context managers|unit tests"
    ),
    "pyerr": _b(
        "ModuleNotFoundError|KeyError|SSL 证书错误|IndentationError|TypeError|RecursionError"
    ),
    "pyerr_en": _b("ModuleNotFoundError|KeyError|an SSL error|TypeError|RecursionError"),
    "aitool": _b(
        "ChatGPT|Claude|Midjourney|Stable Diffusion|Cursor|Copilot|通义千问|Kimi|DeepSeek|Dify"
    ),
    "mrr": _b("500|1k|2k|3.5k|5k|10k"),
    "screen": _b("首页|编辑页|设置页|搜索页|日历页|登录页|同步页面|标签页"),
    "feature": _b("搜索|同步|标签|模板|日历视图|OCR 识别|语音转文字|夜间模式|桌面小组件"),
    "button": _b("保存|分享|导出|发布|插入图片|撤销"),
    "ver": _b("3.2.0|3.2.1|3.3.0-beta|3.3.1-beta|3.4.0-beta|3.4.2-beta"),
    "errcode": _b("E1024|500|timeout|403|E2002"),
    "device": _b("华为 Mate 60|小米 14|iPhone 15|iPad|OPPO Reno|vivo X100|鸿蒙系统|安卓 14"),
    "wish": _b("批量导出|Markdown 表格|多人协作|回收站|本地备份|自定义字体|网页剪藏|双链笔记"),
    "feature_en": _b("search|sync|tagging|calendar|OCR|voice note|dark mode|editor|widget"),
    "action_en": _b(
        "attach a photo|switch workspaces|export to PDF|paste a table|open a shared note|"
        "log in with Google"
    ),
    "status_en": _b("Syncing…|Waiting for network|Uploading 1 of 3"),
    "device_en": _b("iPhone 15|Pixel 8|Galaxy S23|iPad Air|an M2 MacBook|Windows 11"),
    "wish_en": _b(
        "bulk export|Markdown tables|shared folders|a trash bin|local backups|custom fonts|"
        "a web clipper|backlinks"
    ),
    "pos": _b("扫码收银|小票打印|会员积分|对账|库存|外卖接单"),
    "holiday": _b("国庆|中秋|双十一|周末|开学季"),
    "shoe": _b("亚瑟士 Kayano|耐克 Pegasus|李宁赤兔|特步 360|安踏 C202"),
    "race": _b("杭州马拉松|上海半马|城市夜跑|公司运动会|厦门马拉松"),
    "km": _b("3|5|5.2|6|8|10|12|15|21.1"),
    "pace": _b("5'30\"|6'05\"|6'40\"|7'10\"|5'50\""),
    "feel": _b("状态不错|有点累|腿有点酸|很舒服|顶着大风跑完|出了一身汗"),
    "book": _b(
        "人类简史|活着|原则|被讨厌的勇气|置身事内|三体|认知觉醒|非暴力沟通|穷查理宝典|"
        "长安的荔枝|蛤蟆先生去看心理医生"
    ),
    "pages": _b("12|20|30|35|50"),
    "thought": _b("很有启发|有点难读|准备再读一遍|做了三条笔记|想到了自己的工作"),
    "age": _b("1岁半|两岁|18个月|10个月|三岁"),
    "tip": _b("睡前讲同一个故事|开白噪音|洗个温水澡|固定八点上床"),
    "city": _b("杭州|上海|北京|深圳|广州|成都|武汉|南京|苏州|西安|长沙|厦门|重庆|青岛|合肥"),
    "city_en": _b(
        "London|Manchester|Berlin|San Francisco|Austin|Seattle|Toronto|New York|Dublin|"
        "Lisbon|Singapore"
    ),
    "blessing": _b("恭喜发财，大吉大利|恭喜发财，大吉大利|周末快乐|感谢大家支持|新人报到|打卡奖励"),
    "wx": _b("yx6699|ly_520520|v13888|hh_8899|kk2024vip"),
    "code": _b("a8Kd2|x9Lm3|Qw7Rt|3kZpa|Hn2Yq"),
    "n2": _b("2|3|4|5|6|7|8"),
    "dvlib": _b("D3|Observable Plot|Vega-Lite|matplotlib|ggplot2|ECharts|Tableau"),
    "chart": _b("a dot plot|a slope chart|small multiples|a choropleth"),
}
SLOTS["pylib2"] = SLOTS["pylib"]
SLOTS["aitool2"] = SLOTS["aitool"]

THEME_BANKS: dict[str, dict[str, dict[str, str]]] = {**STUDY_BANKS, **COMMUNITY_BANKS}
THEME_BANKS["generic"] = {
    "zh": {
        "q": """
            群文件在哪里看
            > 群文件在右上角，点开就能看到
            > 电脑版在右边栏
            有没有群规
            > 看群公告就有
            > 群公告第一条就是
            这里可以发链接吗
            > 可以的，别发广告就行
            > 和主题相关的可以
            下次活动是什么时候
            > 这周六，群公告里有报名链接
            > 等群主通知
            大家平时几点在线
            > 晚上八点以后人最多
            > 中午和晚上都有人
        """,
        "a": """
            我之前也遇到过，重启一下就好
            这个可以问问群主
            看群公告就有
        """,
        "talk": """
            学到了，谢谢大家
            这个思路不错
            我也这么觉得
            这周好忙，潜水了几天
            群里氛围真好
            又是收获满满的一天
        """,
        "share": """
            分享一篇文章，写得挺好
            这个挺有用的，推荐给大家
            整理了一份资料
        """,
        "file": """
            资料合集.pdf
            活动方案.docx
            第{n2}期分享PPT.pptx
        """,
        "checkin": """
            打卡 第{n}天
            签到 第{n}天 ✅
        """,
        "topic": """
            【今晚话题】最近一周你最大的收获是什么？
        """,
        "announce": """
            【群公告】欢迎大家！本群禁止发广告和无关链接，违者移出群聊
            【群公告】新人入群请按格式自我介绍：姓名+城市+公司+职位+入群原因
            【群公告】每月15日清理当月缺席3次及以上的成员，请大家多多参与
        """,
        "reason": """
            想来学习交流
            朋友拉我进来的
            想认识更多同行
            想来学习社群运营
        """,
    },
    "en": {
        "q": """
            Where can I find the group rules
            > Pinned message at the top
            > Check the channel description
            When is the next meetup
            > Next one is on Thursday
            > Should be in the pinned post
            Is it ok to share links here
            > Sure, just no spam
            > Yep, if it's on topic
            Anyone know where the recordings are
            > They're in the shared drive, link is pinned
        """,
        "a": """
            Check the pinned post
            Same question here, following
            Good question, I think the docs cover it
        """,
        "talk": """
            Learned a lot here this week
            That's a great point
            Busy week, catching up now
            Love the vibe in this group
        """,
        "share": """
            Sharing this, worth a read
            Found this useful
            Wrote this up
        """,
        "file": """
            notes.pdf
            slides-week-{n2}.pdf
            checklist.xlsx
        """,
        "checkin": """
            Day {n} done ✅
            Checking in, day {n}
        """,
        "topic": """
            🗓 Session starts now: what did you learn this week?
        """,
        "announce": """
            📌 Reminder: keep it on topic and be kind. No promos please.
            📌 New here? Say hi with your name, city, what you do and why you joined.
        """,
        "reason": """
            Here to learn
            A friend sent me the link
            Keen to meet peers
        """,
    },
}

SHARE_URLS = _b(
    "https://zhuanlan.zhihu.com/p/{d9}|https://mp.weixin.qq.com/s/{tok}|"
    "https://github.com/{tok}/{tok}|https://www.bilibili.com/video/BV{tok}|"
    "https://medium.com/@{tok}/{tok}|https://www.youtube.com/watch?v={tok}|"
    "https://news.ycombinator.com/item?id={d9}"
)
CHATTER = {
    "zh": _b(
        "哈哈哈|确实|+1|有道理|学到了|厉害👍|赞|666|收到|好的|哈哈哈哈笑死|同意|🤣|👍👍|真不错"
    ),
    "en": _b("lol|agreed|nice!|same here|haha|this 👆|+1|good point|TIL|🔥|makes sense"),
}
STICKERS = _b("😂|👍|🤣|🙏|❤️|🎉|😅|💪|🥳|😭")
MORNING = {
    "zh": _b("早上好☀️|大家早|早安，新的一天加油💪|早～|早上好，今天也要元气满满"),
    "en": _b("Morning all ☀️|Good morning folks|gm|Morning! Coffee first ☕"),
}
NIGHT = {
    "zh": _b("晚安🌙|大家晚安|睡了睡了，晚安|今天就到这，晚安"),
    "en": _b("Night all 👋|Signing off, have a good evening|That's it for me today"),
}
THANKS = {
    "zh": _b("谢谢！解决了|感谢大佬🙏|明白了，谢谢|好的，我试试|谢谢，已经搞定了"),
    "en": _b("Thanks, that worked!|Got it, thanks 🙏|Perfect, thank you|Will try that, thanks"),
}
SHARE_THANKS = {
    "zh": _b("感谢分享👍|收藏了|好文，谢谢|mark一下|干货，谢谢"),
    "en": _b("Thanks for sharing!|Bookmarked 🔖|Great read|Saving this"),
}
GOSSIP = {
    "zh": _b(
        "今天{city}好热啊|今天降温了，大家注意保暖|楼下新开了一家奶茶店，排队好长|"
        "双十一买了一堆东西，吃土了|昨晚的球赛太精彩了|周末去爬山了，腿到现在还酸|"
        "公司楼下的咖啡又涨价了"
    ),
    "en": _b(
        "Weather in {city_en} is wild today|Happy Friday everyone 🎉|"
        "Just got back from vacation, so much to catch up on|"
        "The coffee machine at work broke again ☕"
    ),
}
RP_THANKS = _b("谢谢老板🧧|谢谢红包|手慢了😭|抢到了，谢谢|老板大气|谢谢群主")
ADS = {
    "zh": _b(
        "【兼职】日结200-500，在家就能做，加V了解：{wx}|正品代购，价格美丽，需要的加V：{wx}|"
        "免费领取运营资料包 http://t.cn/{code}|扫码领红包，二维码见图👇 http://dwz.cn/{code}|"
        "招募宝妈兼职，手机就能做，加V了解 {wx}"
    ),
    "en": _b(
        "💰 Earn $500/day from home, DM me or visit http://bit.ly/{code}|"
        "Crypto signals with 300% gains, join http://t.me/{code}|"
        "Free followers for your brand! http://bit.ly/{code}"
    ),
}
WELCOME = {
    "zh": _b(
        "欢迎 @{name} 加入！|欢迎新朋友 @{name} 🎉 先看下群公告，方便的话做个自我介绍～|"
        "热烈欢迎 @{name} 入群👏|欢迎 @{name}，有问题随时在群里问"
    ),
    "en": _b(
        "Welcome @{name}! 👋|Welcome aboard @{name} 🎉 please read the pinned guidelines "
        "and say hi|Hey @{name}, welcome! Tell us a bit about yourself"
    ),
}
INTRO = {
    "zh": _b(
        "大家好，我是{real}，来自{city}，在{company}做{role}，{reason}|"
        "新人报到🙋 {real}，{city}，{role}，{reason}|"
        "大家好，我是{real}，{city}人，目前在{company}做{role}。{reason}，请多关照！|"
        "Hi 大家好～我叫{real}，在{city}做{role}，{reason}"
    ),
    "en": _b(
        "Hi all! I'm {name}, {role} at {company} in {city}. {reason}|"
        "Hello 👋 {name} here, based in {city}, working as {role}. {reason}"
    ),
}
REMOVED = {
    "zh": _b("已移出，群内禁止发广告哦|广告已清理，请大家注意甄别，不要加陌生人微信"),
    "en": _b("Removed a spam account. Please report spam to the admins 🙏"),
}
PRUNED = {
    "zh": "【清理通知】本月缺席讨论3次及以上的成员已移出，欢迎之后再加入",
    "en": "🧹 Monthly tidy-up: removed members who missed 3+ sessions this month.",
}
BOT_DAILY = {
    "zh": "⏰ 今日打卡提醒：记得发送「打卡 第N天」哦～",
    "en": "⏰ Daily reminder: post your progress for today!",
}
BOT_WEEKLY = {
    "zh": "📊 上周活跃榜：{mentions}，感谢大家的分享！",
    "en": "📊 Weekly top contributors: {mentions} 🙌",
}
CITIES = {"zh": SLOTS["city"], "en": SLOTS["city_en"]}
COMPANIES = {
    "zh": _b(
        "一家电商公司|一家教育机构|一家互联网大厂|外企|一家创业公司|银行|医院|自己开的小店|"
        "一家广告公司|国企"
    ),
    "en": _b(
        "a fintech startup|a design agency|a small SaaS|a university|a consulting firm|"
        "a game studio|my own company|a hospital"
    ),
}
ROLES = {
    "zh": _b("运营|产品经理|程序员|设计师|老师|数据分析师|销售|财务|HR|市场|客服"),
    "en": _b(
        "a product manager|an engineer|a designer|a founder|a data analyst|a marketer|"
        "a student|a consultant"
    ),
}

_SLOT = re.compile(r"\{(\w+)\}")
_ALNUM = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def fill(template: str, rng: random.Random, **values: object) -> str:
    """Fill each {slot} from `values`, else from SLOTS (one value per slot name per call)."""
    chosen: dict[str, str] = {k: str(v) for k, v in values.items()}

    def one(m: re.Match[str]) -> str:
        key = m.group(1)
        if key == "d9":
            return str(rng.randrange(10**8, 10**9))
        if key == "tok":
            return "".join(rng.choice(_ALNUM) for _ in range(rng.randint(6, 10)))
        if key not in chosen:
            chosen[key] = rng.choice(SLOTS[key])
        return chosen[key]

    return _SLOT.sub(one, template)


@cache
def bank(theme: str, lang: str, kind: str) -> tuple[str, ...]:
    """The templates of one kind for a theme and language, else the generic ones.

    A question's fitting answers follow it as "question >> answer // answer".
    """
    for key in (theme, "generic"):
        block = THEME_BANKS.get(key, {}).get(lang, {}).get(kind)
        if block:
            items: list[str] = []
            for line in block.strip().splitlines():
                line = line.strip()
                if line.startswith("> ") and items:
                    items[-1] += (" // " if " >> " in items[-1] else " >> ") + line[2:]
                elif line:
                    items.append(line)
            return tuple(items)
    return ()


def phrase(rng: random.Random, theme: str, lang: str, kind: str, **values: object) -> str:
    """One filled phrase of a kind for a theme ('' when neither bank has that kind)."""
    templates = bank(theme, lang, kind)
    return fill(rng.choice(templates), rng, **values) if templates else ""


_Q_PRE = {
    "zh": ["请问", "问一下，", "各位大佬，", "求助：", "", "", "新手提问：", "打扰一下，"],
    "en": ["", "", "Quick question: ", "Hey all, ", "Anyone know: "],
}
_Q_POST = {
    "zh": ["？", "？", "？谢谢", "？求指点🙏", "呢？", "？？"],
    "en": ["?", "?", "? thanks!", "??"],
}


def question(rng: random.Random, theme: str, lang: str, **values: object) -> tuple[str, list[str]]:
    """A question in the group's theme, and the answers that fit it (may be empty)."""
    filled = phrase(rng, theme, lang, "q", **values)
    asked, _, answers = filled.partition(" >> ")
    text = rng.choice(_Q_PRE[lang]) + asked + rng.choice(_Q_POST[lang])
    return text, [a for a in answers.split(" // ") if a]
