"""Theme fit: keyword suggestions by TF-IDF against other groups, and per-message theme scores."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shequn.errors import InputError
from shequn.text.segment import terms
from shequn.text.theme import ThemeModel, stem, suggest_keywords

RUNNING = [
    "今天跑步十公里，膝盖有点酸",
    "周末西湖跑步，有人一起吗",
    "马拉松报名开始了，抢到名额没",
    "跑鞋推荐哪款？亚瑟士还是耐克",
    "马拉松前一周要减量训练",
    "晨跑打卡，跑步五公里",
    "杭州马拉松今年几月",
    "跑步后拉伸很重要",
    "大家好，吃饭了吗",
    "Anyone running the Lisbon marathon this year?",
    "Long run on Sunday, 20km at easy pace",
    "My marathon pace dropped after the hills",
    "New running shoes arrived, trying them tomorrow",
    "Is interval training worth it before a marathon?",
    "haha",
    "ok",
]
PARENTS = [
    "孩子上幼儿园总是哭怎么办",
    "宝宝晚上不睡觉，好累",
    "幼儿园报名需要什么材料",
    "孩子挑食，不吃蔬菜",
    "给孩子买什么绘本好",
    "宝宝发烧了，要不要去医院",
    "孩子第一天上幼儿园",
    "绘本推荐：好饿的毛毛虫",
    "大家好，吃饭了吗",
    "My kid refuses to eat vegetables",
    "Toddler sleep regression tips? Our kid wakes at 3am",
    "Which picture books do your kids love?",
    "Daycare pickup is chaos, kids everywhere",
    "School starts next week, kids are nervous",
    "haha",
    "ok",
]


def test_suggested_keywords_of_a_running_group_vs_a_parents_group() -> None:
    suggested = suggest_keywords({"running": RUNNING, "parents": PARENTS}, top=6)
    running = [term for term, _ in suggested["running"]]
    parents = [term for term, _ in suggested["parents"]]
    assert {"跑步", "马拉松", "marathon", "running"} <= set(running)
    assert {"孩子", "幼儿园", "kids", "宝宝"} <= set(parents)
    assert "kid" not in parents  # kid and kids are one term, shown in the more frequent form
    assert not set(running) & set(parents)
    assert suggested["running"][0][1] == 1.0  # scaled so the best term is 1.0
    assert all(0 < score <= 1 for _, score in suggested["running"])


def test_a_term_both_groups_use_is_not_distinctive() -> None:
    # "吃饭" appears once per group: below min_count and shared, so neither group gets it
    suggested = suggest_keywords({"running": RUNNING, "parents": PARENTS}, top=50, min_count=1)
    running = dict(suggested["running"])
    assert running.get("吃饭", 0) < running["马拉松"]


def test_suggestions_are_deterministic_and_ties_alphabetical() -> None:
    docs = {"a": ["alpha beta", "alpha beta", "gamma"], "b": ["delta", "delta"]}
    first = suggest_keywords(docs)
    assert first == suggest_keywords(dict(reversed(list(docs.items()))))
    assert [term for term, _ in first["a"]] == ["alpha", "beta"]  # gamma is below min_count


def test_single_group_ranks_by_frequency_and_empty_group_gets_nothing() -> None:
    suggested = suggest_keywords({"only": ["马拉松 训练", "马拉松", "训练 马拉松"], "empty": []})
    assert [term for term, _ in suggested["only"]] == ["马拉松", "训练"]
    assert suggested["empty"] == []


@pytest.fixture
def running_theme() -> ThemeModel:
    return ThemeModel(
        description="跑步爱好者交流训练、比赛和装备",
        keywords=["跑步", "马拉松", "配速", "marathon", "run", "long run"],
        suggested=[("跑鞋", 1.0), ("拉伸", 0.3)],
    )


@pytest.mark.parametrize(
    "text",
    [
        "周末西湖跑步，有人一起吗",
        "半程马拉松终于跑进两小时",  # 马拉松 inside 半程马拉松
        "配速一直提不上去",  # 配速 is not a jieba word: matched as a keyword phrase
        "I ran my first marathon!",
        "Running in the rain was fun",  # running ~ run
        "Great runners here, see you at the long run",
        "跑鞋该换了",  # a suggested term
    ],
)
def test_on_theme_messages(running_theme: ThemeModel, text: str) -> None:
    result = running_theme.score(text)
    assert result.label == "on_theme"
    assert result.score >= 0.5
    assert result.matched
    assert result.reason_zh.startswith("含主题词")
    assert result.reason_en.startswith("theme terms")


@pytest.mark.parametrize(
    "text",
    [
        "孩子上幼儿园总是哭怎么办",
        "今天吃了火锅，太爽了",
        "Anyone selling concert tickets tonight?",
        "Brunch plans this weekend anyone?",  # "run" is not in "brunch"
    ],
)
def test_off_theme_messages(running_theme: ThemeModel, text: str) -> None:
    result = running_theme.score(text)
    assert result.label == "off_theme"
    assert result.score == 0.0
    assert result.reason_zh == "没有提到本群主题"


@pytest.mark.parametrize("text", ["ok", "哈哈", "👍", "收到", "谢谢！", "lol", "好的", "吃饭"])
def test_very_short_messages_are_too_short_to_tell_not_off_theme(
    running_theme: ThemeModel, text: str
) -> None:
    result = running_theme.score(text)
    assert result.label == "too_short"
    assert result.score == 0.5
    assert result.reason_en == "too short to tell"


def test_a_short_message_with_a_theme_word_is_on_theme(running_theme: ThemeModel) -> None:
    assert running_theme.score("跑步！").label == "on_theme"
    assert running_theme.score("marathon?").label == "on_theme"


def test_score_grows_with_evidence(running_theme: ThemeModel) -> None:
    one = running_theme.score("明天去跑步，有人吗")
    two = running_theme.score("明天去跑步练马拉松配速")
    description_only = running_theme.score("周末有比赛，大家报名")
    assert one.score == pytest.approx(1.0 / 1.5, abs=1e-3)
    assert two.score > one.score > description_only.score >= 0.5
    assert two.matched == ("跑步", "配速", "马拉松")  # heaviest first, then alphabetical


def test_weak_suggested_term_alone_is_off_theme_with_reason(running_theme: ThemeModel) -> None:
    result = running_theme.score("瑜伽后拉伸十分钟就好")
    assert result.label == "off_theme"
    assert 0 < result.score < 0.5
    assert result.matched == ("拉伸",)
    assert "弱相关" in result.reason_zh


def test_precomputed_terms_give_the_same_score(running_theme: ThemeModel) -> None:
    text = "周末西湖跑步，marathon training"
    assert running_theme.score(text, terms=terms(text)) == running_theme.score(text)


def test_full_width_and_upper_case_keywords_match() -> None:
    model = ThemeModel(keywords=["ＧＰＴ", "Python"])
    assert model.score("gpt 写 PYTHON 代码").matched == ("Python", "ＧＰＴ")
    assert model.score("用ＧＰＴ写代码").matched == ("ＧＰＴ",)


def test_theme_terms_lists_weights_and_a_theme_needs_something() -> None:
    model = ThemeModel(description="亲子阅读", keywords=["绘本"], suggested=[("孩子", 0.5)])
    assert model.theme_terms == {"绘本": 1.0, "亲子": 0.6, "阅读": 0.6, "孩子": 0.3}
    with pytest.raises(InputError):
        ThemeModel(description="的 了 and the")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("run", "running"),
        ("run", "runner"),
        ("race", "racing"),
        ("kid", "kids"),
        ("baby", "babies"),
    ],
)
def test_light_stemmer_brings_word_forms_together(a: str, b: str) -> None:
    assert stem(a) == stem(b)
    assert stem("跑步") == "跑步"
    assert stem("class") == "class"


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_scores_stay_in_range_on_arbitrary_text(text: str) -> None:
    model = ThemeModel(description="跑步训练", keywords=["跑步", "run", "İstanbul", "Straße"])
    result = model.score(text)
    assert 0.0 <= result.score <= 1.0
    assert result.label in ("on_theme", "off_theme", "too_short")
