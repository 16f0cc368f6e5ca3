"""People for the demo program: realistic Chinese and English names and platform-style ids.

A Person is one human; each platform they use gives them one account (DemoUser), so a person in
two WeChat groups has the same wxid in both, and a person on WeChat and Telegram has two accounts
with the same name (the case the operator merges by hand).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field

from shequn.demo.generate_text import CITIES, COMPANIES, ROLES
from shequn.demo.model import DemoUser


def _b(text: str) -> list[str]:
    return text.split("|")


SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
GIVEN = _b(
    "伟|芳|娜|敏|静|磊|洋|勇|杰|涛|明|超|霞|刚|华|萍|娟|鹏|宇|晨|雪|琳|欣怡|佳琪|子轩|梓涵|思雨|一诺|"
    "家豪|俊杰|晓雯|婷婷|志强|海燕|丹丹|慧敏|建国|建华|文博|浩然|雨桐|诗涵|可馨|嘉怡|晓东|立新|永强|"
    "春梅|秀英|玉兰|桂芳|海涛|小龙|天佑|思远|若曦|明轩|博文|梦琪|雅静|子涵|欣然|晓峰|志伟|丽娟|红梅|"
    "凤霞|宏伟|国庆|亚楠|晓丽|静怡|佳慧|雨欣|浩宇|宇航|晨曦|欣悦"
)
NICKNAMES = _b(
    "晴天|一只小鹿|柠檬不萌|大白|木子|Momo|安安妈妈|阿布|小太阳|橙子|慢慢来|向日葵|奔跑的蜗牛|Sunny|"
    "Coco|果果|老猫|山有木兮|糖糖|七七|西瓜太郎|追风少年|米粒|豆豆爸爸|北极星|一叶知秋"
)
EMOJI = _b("🌸|🍀|☀️|🌈|🐱|🍊|🌙")
EN_FIRST = _b(
    "Lily|Kevin|Amy|Jason|Grace|Eric|Cindy|Tony|Vivian|Leo|Emma|David|Sophia|Jack|Olivia|Ryan|"
    "Chloe|Alex|Mia|Daniel|Sarah|James|Hannah|Michael|Zoe|Ben|Lucy|Sam|Nina|Tom|Anna|Chris|Ella|"
    "Max|Isla|Noah|Ava|Liam|Maya|Owen|Ruby|Ethan|Priya|Arjun|Carlos|Sofia|Yuki|Lena|Omar|Fatima"
)
EN_LAST = _b(
    "Smith|Johnson|Brown|Taylor|Wilson|Davies|Evans|Thomas|Roberts|Walker|Wright|Thompson|White|"
    "Hughes|Edwards|Green|Hall|Wood|Harris|Martin|Jackson|Clarke|Turner|Hill|Scott|Cooper|Morris|"
    "Ward|King|Baker|Patel|Khan|Garcia|Martinez|Lopez|Nguyen|Kim|Müller|Rossi|Dubois|Silva|"
    "O'Brien|Murphy|Anderson|Moore|Lee|Young|Allen|Bell"
)
SYLLABLES = _b(
    "xiao|wang|chen|li|ming|hao|yu|jie|lin|wen|tian|le|an|bai|mo|zhi|fei|yun|qing|ran|kai|xin"
)
_LOWER_ALNUM = string.ascii_lowercase + string.digits
_UPPER_ALNUM = string.ascii_uppercase + string.digits


@dataclass(slots=True, eq=False)
class Person:
    """One human in the program, with what they say about themselves when they introduce."""

    name: str  # display name, unique in the program
    real: str  # the name they give in a self-introduction
    lang: str  # "zh" or "en"
    city: str
    company: str
    role: str
    groups: int = 0  # how many groups they were placed in
    accounts: dict[str, DemoUser] = field(default_factory=dict)


class People:
    """Makes persons with unique names and their per-platform accounts with unique ids."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._names: set[str] = set()
        self._ids: set[str] = set()
        self._handles: set[str] = set()
        self._named: dict[str, Person] = {}
        self.count = 0

    def new(self, lang: str, name: str | None = None) -> Person:
        """A new person speaking `lang`, with a fresh display name unless one is given."""
        rng = self.rng
        if lang == "zh":
            real = rng.choice(SURNAMES) + rng.choice(GIVEN)
            make = self._zh_display
        else:
            real = f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"
            make = self._en_display
        display = name or self._unique(lambda: make(real))
        self._names.add(display)
        self.count += 1
        return Person(
            name=display,
            real=real,
            lang=lang,
            city=rng.choice(CITIES[lang]),
            company=rng.choice(COMPANIES[lang]),
            role=rng.choice(ROLES[lang]),
        )

    def named(self, name: str, lang: str) -> Person:
        """The one person with a fixed name (a bot, the program's operator), made on first use."""
        if name not in self._named:
            self._named[name] = self.new(lang, name=name)
        return self._named[name]

    def account(self, person: Person, platform: str, *, is_bot: bool = False) -> DemoUser:
        """The person's account on `platform` (created on first use, then always the same)."""
        user = person.accounts.get(platform)
        if user is None:
            user = DemoUser(
                id=self._unique_id(platform),
                name=person.name,
                username=self._username(person, platform, is_bot),
                is_bot=is_bot,
            )
            person.accounts[platform] = user
        return user

    def _unique(self, make: Callable[[], str]) -> str:
        for _ in range(12):
            name = make()
            if name not in self._names:
                return name
        base = make()
        k = 2
        while f"{base}{k}" in self._names:
            k += 1
        return f"{base}{k}"

    def _zh_display(self, real: str) -> str:
        rng = self.rng
        surname, given = real[0], real[1:]
        r = rng.random()
        if r < 0.38:
            return real
        if r < 0.45:
            return "小" + surname
        if r < 0.49:
            return "阿" + given[-1]
        if r < 0.52:
            return "老" + surname
        if r < 0.64:
            return rng.choice(EN_FIRST) + rng.choice(["", " "]) + surname
        if r < 0.78:
            prefix = rng.choice(EMOJI) if rng.random() < 0.3 else ""
            return prefix + rng.choice(NICKNAMES)
        if r < 0.86:
            return f"{rng.choice(CITIES['zh'])}-{real}"
        if r < 0.93:
            return f"{real}｜{rng.choice(ROLES['zh'])}"
        return given if len(given) == 2 else real

    def _en_display(self, real: str) -> str:
        rng = self.rng
        first, last = real.split(" ", 1)
        r = rng.random()
        if r < 0.55:
            return real
        if r < 0.70:
            return f"{first} {last[0]}."
        if r < 0.82:
            return (first + last[:3]).lower().replace("'", "")
        if r < 0.90:
            return first
        if r < 0.95:
            return f"{first} ({rng.choice(['PM', 'eng', 'design', 'founder'])})"
        return f"{real} 🚀"

    def _unique_id(self, platform: str) -> str:
        rng = self.rng
        while True:
            if platform == "telegram":
                uid = f"user{rng.randrange(10**8, 7 * 10**9)}"
            elif platform == "slack":
                uid = "U0" + "".join(rng.choice(_UPPER_ALNUM) for _ in range(rng.randint(7, 9)))
            else:
                uid = "wxid_" + "".join(rng.choice(_LOWER_ALNUM) for _ in range(14))
            if uid not in self._ids:
                self._ids.add(uid)
                return uid

    def _username(self, person: Person, platform: str, is_bot: bool) -> str | None:
        rng = self.rng
        if platform == "wechat" or (platform == "telegram" and not is_bot and rng.random() < 0.4):
            return None
        if person.lang == "en" and " " in person.real:
            first, last = person.real.lower().replace("'", "").split(" ", 1)
            base = f"{first}.{last}" if platform == "slack" else f"{first}_{last[:3]}"
        else:
            base = "".join(rng.choice(SYLLABLES) for _ in range(2))
        if is_bot:
            base = "".join(c for c in person.name.lower() if c.isascii() and c.isalnum())
            base = (base or "helper") + ("_bot" if platform == "telegram" else "")
        handle = base
        while handle in self._handles:
            handle = f"{base}{rng.randint(1, 999)}"
        self._handles.add(handle)
        return handle
