"""`import_attributes`: the operator's product data CSV into `product_attribute`.

Runs on SQLite and PostgreSQL (the `engine` fixture; PostgreSQL skips without
SHEQUN_TEST_DATABASE_URL). Fixture files are in tests/fixtures/attributes/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from analytics_builder import StoreBuilder
from shequn.analytics.attributes import AttributesResult, import_attributes
from shequn.errors import InputError
from shequn.store import schema as t

FILES = Path(__file__).resolve().parents[1] / "fixtures" / "attributes"


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    """alice and bob on Telegram, wxid_abc on WeChat, carol with no row in any file:
    name -> person id."""
    s = StoreBuilder(engine)
    alice = s.person("alice")
    bob = s.person("bob")
    abc = s.person("wxid_abc", platform="wechat")
    carol = s.person("carol")
    return {
        n: s.person_of(a)
        for n, a in [("alice", alice), ("bob", bob), ("abc", abc), ("carol", carol)]
    }


def table(engine: Engine) -> list[tuple]:
    """Every stored row: (person_id, usage_frequency, usage_minutes, payments, orders, source)."""
    pa = t.product_attribute
    cols = (pa.c.person_id, pa.c.usage_frequency, pa.c.usage_minutes, pa.c.payments)
    q = select(*cols, pa.c.orders, pa.c.source).order_by(pa.c.person_id)
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(q)]


def stamps(engine: Engine) -> list:
    pa = t.product_attribute
    with engine.connect() as c:
        return list(c.execute(select(pa.c.updated_at).order_by(pa.c.person_id)).scalars())


def test_a_file_is_imported_and_reimporting_it_changes_nothing(engine, people):
    got = import_attributes(engine, FILES / "good.csv")
    # three data lines, three new people; 'email' is not ours and is reported, not an error
    assert got == AttributesResult(
        rows=3,
        inserted=3,
        updated=0,
        unchanged=0,
        columns=("usage_frequency", "usage_minutes", "payments", "orders"),
        ignored_columns=("email",),
    )
    a, b, w = people["alice"], people["bob"], people["abc"]
    expected = sorted(
        [
            (a, 5.0, 120.0, 399.0, 2, "good.csv"),
            (w, 1.5, 30.0, 0.0, 0, "good.csv"),
            (b, None, None, 99.5, 1, "good.csv"),  # empty cells: no value
        ]
    )
    assert table(engine) == expected
    before = stamps(engine)
    again = import_attributes(engine, FILES / "good.csv")
    assert (again.rows, again.inserted, again.updated, again.unchanged) == (3, 0, 0, 3)
    assert table(engine) == expected
    assert stamps(engine) == before  # not even updated_at moves


def test_a_later_file_updates_only_its_own_columns(engine, people):
    import_attributes(engine, FILES / "good.csv")
    got = import_attributes(engine, FILES / "later.csv")
    # alice's payments/orders change; wxid_abc's 0/0 are the same; the blank line is skipped
    assert (got.rows, got.inserted, got.updated, got.unchanged) == (2, 0, 1, 1)
    a, b, w = people["alice"], people["bob"], people["abc"]
    assert table(engine) == sorted(
        [
            (a, 5.0, 120.0, 599.0, 3, "later.csv"),  # usage columns kept: not in later.csv
            (w, 1.5, 30.0, 0.0, 0, "good.csv"),  # unchanged rows keep their source
            (b, None, None, 99.5, 1, "good.csv"),
        ]
    )


def test_chinese_headers_with_units_and_a_bom(store):
    alice, abc = store.person("alice"), store.person("wxid_abc", platform="wechat")
    got = import_attributes(store.engine, FILES / "good_zh.csv")
    assert got.columns == ("usage_frequency", "usage_minutes", "payments", "orders")
    assert (got.inserted, got.ignored_columns) == (2, ())
    a, w = store.person_of(alice), store.person_of(abc)
    assert table(store.engine) == sorted(
        [(a, 5.0, 120.0, 399.0, 2, "good_zh.csv"), (w, 1.5, 30.0, 0.0, 0, "good_zh.csv")]
    )


def test_person_id_key_and_an_empty_cell_clears_a_value(store, tmp_path):
    alice = store.person_of(store.person("alice"))
    f = tmp_path / "by_person.csv"
    f.write_text(f"person_id,payments,orders\n{alice},10,1\n", encoding="utf-8")
    import_attributes(store.engine, f)
    f.write_text(f"person_id,payments,orders\n{alice},,1\n", encoding="utf-8")
    got = import_attributes(store.engine, f)
    assert (got.inserted, got.updated) == (0, 1)
    assert table(store.engine) == [(alice, None, None, None, 1, "by_person.csv")]


@pytest.mark.parametrize(
    ("name", "line", "field", "words"),
    [
        ("bad_unknown_account.csv", 3, "account", "unknown account 'telegram:nobody'"),
        ("bad_number.csv", 3, "payments", "expected a number ≥ 0, got '¥99'"),
        ("bad_orders.csv", 2, "orders", "expected a whole number ≥ 0, got '2.5'"),
        ("bad_negative.csv", 3, "payments", "got '-5'"),
        ("bad_no_key.csv", 1, "account", "no member key column"),
        ("bad_empty_key.csv", 3, "account", "no member key"),
        ("bad_twice.csv", 3, "account", "already given on line 2"),
        ("bad_encoding.csv", 3, None, "not UTF-8"),
    ],
)
def test_a_bad_file_names_line_and_field_and_writes_nothing(
    engine, people, name, line, field, words
):
    import_attributes(engine, FILES / "good.csv")
    before, before_stamps = table(engine), stamps(engine)
    with pytest.raises(InputError) as err:
        import_attributes(engine, FILES / name)
    e = err.value
    assert (Path(e.file or "").name, e.line, e.field) == (name, line, field)
    assert words in e.message
    assert table(engine) == before  # the good first lines of the bad file were not written
    assert stamps(engine) == before_stamps


def test_linked_accounts_are_one_person(store, tmp_path):
    tg, wx = store.person("alice"), store.person("alice_wx", platform="wechat")
    store.link(tg, wx)
    f = tmp_path / "linked.csv"
    f.write_text("account,orders\ntelegram:alice,1\nwechat:alice_wx,2\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        import_attributes(store.engine, f)
    assert (err.value.line, err.value.field) == (3, "account")
    assert "linked accounts are one person" in err.value.message
    assert table(store.engine) == []


def test_account_and_person_id_must_agree(store, tmp_path):
    alice, bob = store.person("alice"), store.person("bob")
    f = tmp_path / "both.csv"
    f.write_text(
        f"account,person_id,orders\ntelegram:alice,{store.person_of(bob)},1\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as err:
        import_attributes(store.engine, f)
    assert (err.value.line, err.value.field) == (2, "person_id")
    assert f"belongs to person {store.person_of(alice)}" in err.value.message


def test_header_problems(store, tmp_path):
    store.person("alice")
    cases = {
        "": ("empty file", 1, None),
        "account,email\ntelegram:alice,a@b.c\n": ("no attribute column", 1, None),
        "account,payments,付费金额\ntelegram:alice,1,1\n": ("column given twice", 1, "付费金额"),
        "person_id,orders\nabc,1\n": ("expected a person id", 2, "person_id"),
        "person_id,orders\n999,1\n": ("unknown person 999", 2, "person_id"),
        "account,orders\ntelegram:alice,1,2\n": ("3 fields but the header has 2", 2, None),
        "账号,订单数\ntelegram:alice,1\nalice,1\n": ("unknown account 'alice'", 3, "账号"),
        "账号,订单数\ntelegram:alice,x\n": ("expected a whole number", 2, "订单数"),
    }
    for text, (words, line, field) in cases.items():
        f = tmp_path / "h.csv"
        f.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as err:
            import_attributes(store.engine, f)
        assert (words in err.value.message, err.value.line, err.value.field) == (True, line, field)
        assert str(f) in str(err.value)
