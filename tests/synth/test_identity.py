"""Identity generator: determinism, truth integrity, noise rates, hard non-matches and formats."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from cxo.synth import identity, names, people, systems, typos
from cxo.synth.context import ChunkContext
from cxo.synth.identity import IdentityParams

SYSTEM_TABLES = {
    "crm": "crm_customers",
    "web": "web_accounts",
    "cti": "cti_callers",
    "branch": "branch_members",
}
E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def _ctx(n: int, seed: int = 11, chunk: int = 0) -> ChunkContext:
    return ChunkContext(
        seed=seed, chunk_index=chunk, offset=chunk * n, n=n, start=dt.date(2025, 1, 6), weeks=78
    )


def _world(ctx: ChunkContext, params: IdentityParams) -> tuple[pa.Table, dict[str, pa.Table]]:
    persons = systems.assign(
        people.generate(ctx, people.PeopleParams()), ctx, systems.SystemsParams()
    )
    persons = identity.add_identity(persons, ctx, params)
    return persons, identity.generate(persons, ctx, params)


@cache
def _big() -> tuple[pa.Table, dict[str, pa.Table]]:
    return _world(_ctx(20_000), IdentityParams())


def _noise(system: str | None = None) -> dict[str, np.ndarray]:
    t = _big()[1]["truth/record_noise"]
    if system is not None:
        t = t.filter(pc.equal(t["source_system"], system))
    t = t.sort_by("source_record_id")
    return {
        c: t[c].to_numpy() for c in t.column_names if c not in ("source_system", "source_record_id")
    }


def _record_persons(system: str) -> pa.Table:
    persons, out = _big()
    truth = out["truth/record_person"]
    truth = truth.filter(pc.equal(truth["source_system"], system))
    return truth.join(persons, "person_id", join_type="left outer").sort_by("source_record_id")


def _assert_rate(flags: np.ndarray, rate: float) -> None:
    n = flags.size
    assert n > 500
    tol = 4 * np.sqrt(rate * (1 - rate) / n) + 1e-9
    assert abs(flags.mean() - rate) < tol, (flags.mean(), rate, n)


def test_same_context_same_tables_and_other_seed_differs() -> None:
    p = IdentityParams()
    a_persons, a = _world(_ctx(2_000, seed=5, chunk=1), p)
    b_persons, b = _world(_ctx(2_000, seed=5, chunk=1), p)
    assert a_persons.equals(b_persons)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].equals(b[name]), name
    c_persons, c = _world(_ctx(2_000, seed=6, chunk=1), p)
    assert not c_persons["email"].equals(a_persons["email"])
    assert not c["crm_customers"].equals(a["crm_customers"])


def test_every_record_maps_to_exactly_one_person() -> None:
    persons, out = _big()
    truth = out["truth/record_person"]
    keys = pc.binary_join_element_wise(truth["source_system"], truth["source_record_id"], ":")
    assert pc.count_distinct(keys).as_py() == truth.num_rows
    assert truth["person_id"].null_count == 0
    assert pc.all(pc.is_in(truth["person_id"], persons["person_id"])).as_py()
    total = sum(out[t].num_rows for t in SYSTEM_TABLES.values())
    assert truth.num_rows == total == out["truth/record_noise"].num_rows
    for system, table in SYSTEM_TABLES.items():
        ids = set(out[table]["source_record_id"].to_pylist())
        sub = truth.filter(pc.equal(truth["source_system"], system))
        assert ids == set(sub["source_record_id"].to_pylist())


def test_every_system_member_has_its_primary_record() -> None:
    persons, out = _big()
    for system, table in SYSTEM_TABLES.items():
        primary = set(persons[f"{system}_id"].drop_null().to_pylist())
        assert primary, system
        assert primary <= set(out[table]["source_record_id"].to_pylist())
    assert persons["crm_id"].null_count == 0


@pytest.mark.parametrize("system", list(SYSTEM_TABLES))
def test_noise_rates_match_settings(system: str) -> None:
    p = IdentityParams()
    noise = _noise(system)  # both sorted by source_record_id, so rows align
    rp = _record_persons(system)
    chinese = rp["family_name_zh"].is_valid().to_numpy(zero_copy_only=False)
    hk = pc.equal(rp["name_romanisation"], "hk").to_numpy(zero_copy_only=False)
    western = pc.equal(rp["name_romanisation"], "western").to_numpy(zero_copy_only=False)
    with_nick = rp["nickname"].is_valid().to_numpy(zero_copy_only=False)
    hh = rp["household_id"].to_numpy()
    size = np.bincount(_big()[0]["household_id"].to_numpy())
    shared_ok = size[hh] > 1

    _assert_rate(noise["duplicate"][~noise["duplicate"]], 0.0)
    dup_share = noise["duplicate"].mean()
    assert abs(dup_share / (1 - dup_share) - p.duplicate_rate) < 0.01
    cti = system == "cti"
    _assert_rate(noise["typo"], p.cti_typo_rate if cti else p.typo_rate)
    _assert_rate(noise["pinyin"][chinese], p.cti_pinyin_rate if cti else p.pinyin_rate)
    assert not noise["pinyin"][~chinese].any()
    _assert_rate(noise["cantonese"][hk], p.cti_cantonese_rate if cti else p.cantonese_rate)
    assert not noise["cantonese"][~hk].any()
    hok = pc.equal(rp["name_romanisation"], "hokkien").to_numpy(zero_copy_only=False)
    assert not noise["hokkien"][~hok].any()
    assert not (noise["hokkien"] & (noise["cantonese"] | noise["pinyin"])).any()
    _assert_rate(noise["nickname"][western & with_nick], p.nickname_rate)
    assert not noise["nickname"][~with_nick].any()
    latin = ~chinese | noise["pinyin"] | noise["cantonese"] | noise["hokkien"]
    _assert_rate(noise["name_order"][latin], p.name_order_rate)
    assert not noise["name_order"][~latin].any()
    _assert_rate(noise["old_phone"], p.old_phone_rate)
    _assert_rate(noise["shared_phone"][shared_ok], p.shared_phone_rate)
    assert not noise["shared_phone"][~shared_ok].any()
    _assert_rate(noise["missing_phone"], p.missing_rate)
    if system in ("crm", "web"):
        _assert_rate(noise["old_email"], p.old_email_rate)
        _assert_rate(noise["missing_email"], p.missing_rate)
        _assert_rate(noise["email_typo"][~noise["missing_email"]], p.email_typo_rate)
        assert not noise["email_typo"][noise["missing_email"]].any()
    else:
        assert not noise["email_typo"].any()
    if system in ("crm", "branch"):
        _assert_rate(noise["missing_address"], p.missing_rate)
        _assert_rate(noise["missing_birth_date"], p.missing_rate)
        _assert_rate(noise["address_typo"][~noise["missing_address"]], p.address_typo_rate)
        assert not noise["address_typo"][noise["missing_address"]].any()
    else:
        assert not noise["address_typo"].any()
    if system == "crm":
        _assert_rate(noise["missing_id"], p.missing_rate)


def test_noise_flags_describe_the_records() -> None:
    out = _big()[1]
    rp = _record_persons("crm")
    crm = out["crm_customers"].sort_by("source_record_id")
    t = out["truth/record_noise"]
    t = t.filter(pc.equal(t["source_system"], "crm")).sort_by("source_record_id")
    assert crm["source_record_id"].equals(rp["source_record_id"])
    mobile = crm["mobile"].to_numpy(zero_copy_only=False)
    missing = t["missing_phone"].to_numpy()
    assert (mobile[missing] == None).all()  # noqa: E711
    old = t["old_phone"].to_numpy() & ~missing
    prev = rp["previous_mobile_e164"].to_numpy(zero_copy_only=False)
    assert (mobile[old] == prev[old]).all()
    clean = ~(t["old_phone"].to_numpy() | t["shared_phone"].to_numpy() | missing)
    assert (mobile[clean] == rp["mobile_e164"].to_numpy(zero_copy_only=False)[clean]).all()
    email = crm["email"].to_numpy(zero_copy_only=False)
    typo = t["email_typo"].to_numpy()
    ok = ~(t["old_email"].to_numpy() | t["missing_email"].to_numpy() | typo)
    assert (email[ok] == rp["email"].to_numpy(zero_copy_only=False)[ok]).all()
    # An e-mail typo changes the address (current or previous) but keeps one "@".
    held = np.where(t["old_email"].to_numpy(), rp["previous_email"], rp["email"])
    assert (email[typo] != held[typo]).all() and typo.sum() > 300
    assert all(v.count("@") == 1 for v in email[typo])
    address = crm["address"].to_numpy(zero_copy_only=False)
    a_typo = t["address_typo"].to_numpy()
    a_ok = ~(a_typo | t["missing_address"].to_numpy())
    true_address = rp["address"].to_numpy(zero_copy_only=False)
    assert (address[a_ok] == true_address[a_ok]).all()
    assert (address[a_typo] != true_address[a_typo]).all() and a_typo.sum() > 300
    # Clean Chinese-script CRM names are the truth's characters.
    chars = (
        rp["family_name_zh"].is_valid().to_numpy(zero_copy_only=False)
        & ~t["pinyin"].to_numpy()
        & ~t["cantonese"].to_numpy()
        & ~t["hokkien"].to_numpy()
        & ~t["typo"].to_numpy()
    )
    assert (
        crm["given_name"].to_numpy(zero_copy_only=False)[chars]
        == rp["given_name_zh"].to_numpy(zero_copy_only=False)[chars]
    ).all()


def test_households_share_addresses_and_landlines() -> None:
    persons = _big()[0]
    df = persons.select(["household_id", "address", "home_phone_e164", "person_id"]).to_pandas()
    per_hh = df.groupby("household_id").agg(
        n=("person_id", "size"),
        addresses=("address", "nunique"),
        phones=("home_phone_e164", "nunique"),
    )
    multi = per_hh[per_hh.n > 1]
    assert len(multi) > 500
    assert (multi.addresses == 1).all() and (multi.phones == 1).all()
    # Hard non-matches: different persons in one household also share a record's phone.
    crm = _record_persons("crm")
    noise = _noise("crm")
    assert noise["shared_phone"].sum() > 100
    assert crm.num_rows > 0


def test_namesakes_present() -> None:
    persons = _big()[0]
    df = persons.select(["person_id", "family_name_zh", "given_name_zh"]).to_pandas().dropna()
    full = df.family_name_zh + df.given_name_zh
    counts = full.value_counts()
    assert (counts >= 2).sum() > 100  # e.g. several 王伟 and 张静
    latin = persons.select(["family_name_latin", "given_name_latin"]).to_pandas()
    assert latin.duplicated().sum() > 100


def test_cantonese_romanisation_for_hong_kong() -> None:
    persons = _big()[0]
    hk = persons.filter(pc.equal(persons["market"], "HK")).to_pandas()
    cn = persons.filter(pc.equal(persons["market"], "CN")).to_pandas()
    assert (hk.name_romanisation == "hk").all()
    assert (hk.family_name_latin == hk.family_name_hk).all()
    chan = hk[hk.family_name_zh == "陈"]
    assert len(chan) > 50 and (chan.family_name_latin == "Chan").all()
    assert set(cn[cn.family_name_zh == "陈"].family_name_latin) == {"Chen"}
    assert hk.english_name.notna().mean() > 0.5
    # The Cantonese rendering shows up in the source records, e.g. "Chan Tai Man, Peter".
    branch = _big()[1]["branch_members"]["member_name"].to_pylist()
    assert any(re.fullmatch(r"Chan [A-Z][a-z]+( [A-Z][a-z]+)?, [A-Z][a-z]+", s) for s in branch)


def test_formats_are_valid() -> None:
    persons, out = _big()
    for col in ("mobile_e164", "previous_mobile_e164", "home_phone_e164"):
        assert all(E164.match(v) for v in persons[col].to_pylist()), col
    mobile = persons.select(["city", "mobile_e164"]).to_pandas()
    pattern = {
        "Hong Kong": r"\+852[5-9]\d{7}",
        "London": r"\+447\d{9}",
        "Singapore": r"\+65[89]\d{7}",
        "Sydney": r"\+614\d{8}",
    }
    for city, phone in zip(mobile.city, mobile.mobile_e164, strict=True):
        assert re.fullmatch(pattern.get(city, r"\+861[3-9]\d{9}"), phone), (city, phone)
    assert all("@" in e for e in persons["email"].to_pylist())
    assert all(
        re.fullmatch(r"[0-9a-f]{64}", h)
        for h in persons["national_id_hash"].drop_null().to_pylist()
    )
    for table in ("crm_customers", "web_accounts"):
        assert all(E164.match(v) for v in out[table]["mobile"].drop_null().to_pylist())
        assert all("@" in v for v in out[table]["email"].drop_null().to_pylist())
    assert all(
        re.fullmatch(r"[1-9]\d{7,14}", v)
        for v in out["cti_callers"]["caller_number"].drop_null().to_pylist()
    )
    assert all(
        re.fullmatch(r"88\d{10}", v) for v in out["branch_members"]["loyalty_no"].to_pylist()
    )
    for name, table in out.items():
        if not name.startswith("truth/"):
            assert table["source_record_id"].null_count == 0
            assert table["updated_at"].null_count == 0


def test_birth_date_consistent_with_age() -> None:
    persons = _big()[0]
    start = dt.date(2025, 1, 6)
    for b, age in zip(
        persons["birth_date"].to_pylist()[:3000], persons["age"].to_pylist()[:3000], strict=True
    ):
        years = start.year - b.year - ((start.month, start.day) < (b.month, b.day))
        assert years == age


def test_name_tables() -> None:
    assert len(names.FAMILY_ZH) >= 100
    assert len(names.GIVEN_ZH) >= 200
    assert sum(1 for n in names.NICKNAMES if n) >= 60
    fam = dict(
        zip(names.FAMILY_ZH, zip(names.FAMILY_PINYIN, names.FAMILY_HK, strict=True), strict=True)
    )
    assert fam["陈"] == ("Chen", "Chan") and fam["黄"] == ("Huang", "Wong")
    assert (
        fam["张"] == ("Zhang", "Cheung")
        and fam["吴"] == ("Wu", "Ng")
        and fam["林"] == ("Lin", "Lam")
    )
    # Frequency skew: the five most common surnames cover roughly a third of mainland persons.
    assert 0.25 < np.sort(names.FAMILY_P_CN)[-5:].sum() < 0.4


def test_params_are_documented() -> None:
    for name, field in IdentityParams.model_fields.items():
        assert field.description, name
    with pytest.raises(ValueError):
        IdentityParams(pinyin_rate=0.8, cantonese_rate=0.5)


def test_typos_change_one_thing() -> None:
    rng = np.random.default_rng(3)
    names_ = pa.array(["王伟", "陈大文", "Chan Tai Man, Peter", "William Smith", "Li"] * 200)
    mask = np.ones(len(names_), bool)
    out = typos.apply("name", names_, mask, rng).to_pylist()
    assert all(a != b for a, b in zip(out, names_.to_pylist(), strict=True))
    for before, after in zip(names_.to_pylist(), out, strict=True):
        if before[0] in "王陈":  # a homophone: same length, one character different
            assert len(after) == len(before)
            assert sum(x != y for x, y in zip(before, after, strict=True)) == 1
        else:
            assert abs(len(after) - len(before)) <= 1
    emails = pa.array(["wang.wei@163.com", "12345678@qq.com", None] * 300)
    out = typos.apply("email", emails, np.ones(len(emails), bool), rng).to_pylist()
    for before, after in zip(emails.to_pylist(), out, strict=True):
        if before is None:
            assert after is None
        else:
            assert after != before and after.count("@") == 1
            assert after.count(".") == before.count(".")
    addresses = pa.array(
        ["上海市徐汇区文化路820号12栋603室", "Flat 3, 12 Baker Street, London NW1 6XE"]
    )
    out = typos.apply("address", addresses, np.array([True, False]), rng).to_pylist()
    assert out[0] != addresses[0].as_py() and out[1] == addresses[1].as_py()
    assert out[0].startswith("上海市") and len(out[0]) in (18, 19, 20)


def test_hokkien_romanisation_for_singapore() -> None:
    persons, out = _big()
    sg = persons.filter(pc.equal(persons["city"], "Singapore")).to_pandas()
    hok = sg[sg.name_romanisation == "hokkien"]
    chinese = sg[sg.family_name_zh.notna()]
    assert 0.45 < len(hok) / len(chinese) < 0.75  # 60 % of Singapore's Chinese
    tan = hok[hok.family_name_zh == "陈"]
    assert len(tan) > 20 and (tan.family_name_latin == "Tan").all()
    assert (tan.family_name_pinyin == "Chen").all() and (tan.family_name_hk == "Chan").all()
    assert set(hok.family_name_latin) >= {"Tan", "Lim", "Lee", "Ng", "Goh", "Ong", "Teo", "Koh"}
    assert (hok.family_name_hokkien == hok.family_name_latin).all()
    assert persons["family_name_hokkien"].null_count == persons.num_rows - len(hok)
    # Given names in spaced pinyin syllables ("Wei Ming").
    two = hok[hok.given_name_zh.str.len() == 2]
    assert two.given_name_latin.str.fullmatch(r"[A-Z]\S* [A-Z]\S*").all()
    # The rendering is flagged, at the Cantonese rate, only for these persons' records.
    truth = out["truth/record_noise"].join(
        out["truth/record_person"], ["source_system", "source_record_id"]
    )
    df = truth.to_pandas().merge(
        persons.select(["person_id", "name_romanisation"]).to_pandas(), on="person_id"
    )
    mine = df[(df.name_romanisation == "hokkien") & (df.source_system != "cti")]
    _assert_rate(mine["hokkien"].to_numpy(), IdentityParams().cantonese_rate)
    crm = out["crm_customers"].to_pandas().merge(df, on="source_record_id")
    shown = crm[crm.hokkien]
    assert (shown.family_name.isin(set(hok.family_name_latin)) | shown.name_order).all()


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def test_crm_customer_numbers_are_distinct_and_check_digited() -> None:
    persons, out = _big()
    crm = out["crm_customers"]
    numbers = crm["customer_no"].to_pylist()
    assert crm["customer_no"].null_count == 0
    assert len(set(numbers)) == len(numbers)  # a duplicate CRM record has its own number
    assert all(re.fullmatch(r"\d{10}", v) and _luhn_ok(v) for v in numbers)
    # the truth holds each person's first CRM record's number
    rp = _record_persons("crm")
    first = ~_noise("crm")["duplicate"]
    own = crm.sort_by("source_record_id")["customer_no"].to_numpy(zero_copy_only=False)
    assert (own[first] == rp["customer_no"].to_numpy(zero_copy_only=False)[first]).all()
    # and numbers of other chunks and seeds never collide with these
    other = systems.customer_number(11, persons["person_id"].to_numpy() + persons.num_rows)
    assert not set(other.to_pylist()) & set(numbers)
    assert not _luhn_ok(numbers[0][:-1] + str((int(numbers[0][-1]) + 1) % 10))


def test_verified_callers_carry_a_crm_customer_number() -> None:
    p = IdentityParams()
    persons, out = _big()
    noise = _noise("cti")
    rp = _record_persons("cti")
    cti = out["cti_callers"].sort_by("source_record_id")
    assert cti["source_record_id"].equals(rp["source_record_id"])
    verified, other = noise["verified"], noise["other_holder"]
    _assert_rate(verified, p.cti_verified_rate)
    hh = rp["household_id"].to_numpy()
    with_others = np.bincount(persons["household_id"].to_numpy())[hh] > 1
    _assert_rate(other[verified & with_others], p.cti_other_holder_rate)
    assert not other[~(verified & with_others)].any()
    number = cti["customer_no"].to_numpy(zero_copy_only=False)
    assert (number[~verified] == None).all()  # noqa: E711
    # each verified number is a CRM record's: the caller's own, or a household member's
    crm = out["crm_customers"].join(
        out["truth/record_person"].filter(
            pc.equal(out["truth/record_person"]["source_system"], "crm")
        ),
        "source_record_id",
    )
    holder = dict(zip(crm["customer_no"].to_pylist(), crm["person_id"].to_pylist(), strict=True))
    household = dict(
        zip(persons["person_id"].to_pylist(), persons["household_id"].to_pylist(), strict=True)
    )
    pid = rp["person_id"].to_pylist()
    for i in np.flatnonzero(verified):
        owner = holder[number[i]]
        if other[i]:
            assert owner != pid[i] and household[owner] == household[pid[i]]
        else:
            assert owner == pid[i]
    # persons with two CRM records are verified on either
    noise_all = out["truth/record_noise"]
    second = set(noise_all.filter(noise_all["duplicate"])["source_record_id"].to_pylist())
    on_second = [
        n
        for n, r in zip(
            crm["customer_no"].to_pylist(), crm["source_record_id"].to_pylist(), strict=True
        )
        if r in second
    ]
    assert len(set(on_second) & set(number[verified & ~other].tolist())) > 20
    for system in ("crm", "branch"):
        assert not (_noise(system)["verified"] | _noise(system)["other_holder"]).any()


def test_online_banking_profiles_carry_the_customer_number_they_were_registered_on() -> None:
    p = IdentityParams()
    persons, out = _big()
    noise = _noise("web")
    rp = _record_persons("web")
    web = out["web_accounts"].sort_by("source_record_id")
    assert web["source_record_id"].equals(rp["source_record_id"])
    linked, other = noise["verified"], noise["other_holder"]
    crm = out["crm_customers"].join(
        out["truth/record_person"].filter(
            pc.equal(out["truth/record_person"]["source_system"], "crm")
        ),
        "source_record_id",
    )
    in_crm = set(crm["person_id"].to_pylist())
    pid = rp["person_id"].to_pylist()
    customer = np.array([x in in_crm for x in pid])
    assert not linked[~customer].any()  # only customers have online banking
    _assert_rate(linked[customer], p.web_linked_rate)
    hh = rp["household_id"].to_numpy()
    with_others = np.bincount(persons["household_id"].to_numpy())[hh] > 1
    _assert_rate(other[linked & with_others], p.web_other_holder_rate)
    assert not other[~(linked & with_others)].any()
    number = web["customer_no"].to_numpy(zero_copy_only=False)
    assert (number[~linked] == None).all()  # noqa: E711
    holder = dict(zip(crm["customer_no"].to_pylist(), crm["person_id"].to_pylist(), strict=True))
    household = dict(
        zip(persons["person_id"].to_pylist(), persons["household_id"].to_pylist(), strict=True)
    )
    for i in np.flatnonzero(linked):
        owner = holder[number[i]]  # every number is a CRM record's
        if other[i]:
            assert owner != pid[i] and household[owner] == household[pid[i]]
        else:
            assert owner == pid[i]


def test_verification_rates_change_nothing_else() -> None:
    """The customer numbers draw from their own stream: with no verified callers every other
    column is as before, and the rate is deterministic per (seed, chunk)."""
    ctx = _ctx(3_000, seed=5, chunk=2)
    _, base = _world(ctx, IdentityParams())
    _, again = _world(ctx, IdentityParams())
    assert base["cti_callers"].equals(again["cti_callers"])
    _, none = _world(ctx, IdentityParams(cti_verified_rate=0.0, web_linked_rate=0.0))
    _, more = _world(
        ctx,
        IdentityParams(
            cti_verified_rate=1.0,
            cti_other_holder_rate=0.0,
            web_linked_rate=1.0,
            web_other_holder_rate=0.0,
        ),
    )
    for system in ("cti_callers", "web_accounts"):
        assert none[system]["customer_no"].null_count == none[system].num_rows
    assert more["cti_callers"]["customer_no"].null_count == 0
    assert (
        more["web_accounts"]["customer_no"].null_count
        < base["web_accounts"]["customer_no"].null_count
    )
    for name, table in base.items():
        keep = [
            c for c in table.column_names if c not in ("customer_no", "verified", "other_holder")
        ]
        assert table.select(keep).equals(none[name].select(keep)), name
        assert table.select(keep).equals(more[name].select(keep)), name
