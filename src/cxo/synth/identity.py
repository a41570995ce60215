"""Names, contact details and per-system source records with realistic noise.

:func:`add_identity` gives every ground-truth person a name (Chinese characters and/or Latin
script), e-mail, mobile, household address and landline, birth date and a hashed national id.
:func:`generate` writes each touchpoint system's own records of the persons it knows, in that
system's format, with noise drawn per record (rates in :class:`IdentityParams`), and the truth:
which person each record belongs to and which noise was applied.

The contact details themselves are drawn by :mod:`cxo.synth.contacts`.

Everything is vectorised over the chunk (typos too: :mod:`cxo.synth.typos`); the only Python loop
per person is the SHA-256 of the national id.
"""

from __future__ import annotations

import binascii
import datetime as dt
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, model_validator

from cxo.synth import names, typos
from cxo.synth.contacts import (
    _address,
    _ByCity,
    _digits,
    _emails,
    _fixed,
    _flat,
    _join,
    _landlines,
    _mobiles,
    _national_ids,
    _null_where,
    _select,
    _slice,
    _str_np,
)
from cxo.synth.context import ChunkContext, Stream, rate
from cxo.synth.systems import customer_number, record_id

ROMANISATION: Final = ("pinyin", "hk", "western", "hokkien")
NOISE_COLUMNS: Final = (
    "duplicate",
    "typo",
    "pinyin",
    "cantonese",
    "nickname",
    "name_order",
    "old_email",
    "old_phone",
    "shared_phone",
    "missing_phone",
    "missing_email",
    "missing_address",
    "missing_birth_date",
    "missing_id",
    "email_typo",
    "address_typo",
    "hokkien",
    "verified",
    "other_holder",
)


class IdentityParams(BaseModel):
    """Noise rates for the touchpoint systems' records (each a probability per record)."""

    duplicate_rate: float = rate(
        0.04,
        "P(a person known to a system has a second record there)",
    )
    typo_rate: float = rate(
        0.03,
        "P(one typo in the name: adjacent key, transposition or deletion; a homophone "
        "character for Chinese script) in CRM, web and branch records",
    )
    cti_typo_rate: float = rate(
        0.12,
        "P(typo in the caller name typed by a call-centre agent)",
    )
    pinyin_rate: float = rate(
        0.15,
        "P(a Chinese-named person's record holds the name in Mandarin pinyin instead "
        "of characters)",
    )
    cantonese_rate: float = rate(
        0.30,
        "P(a Hong Kong-romanised person's record holds the name in Cantonese "
        "romanisation instead of characters)",
    )
    cti_pinyin_rate: float = rate(
        0.45,
        "As pinyin_rate, for caller names typed by call-centre agents",
    )
    cti_cantonese_rate: float = rate(
        0.50,
        "As cantonese_rate, for caller names typed by call-centre agents",
    )
    nickname_rate: float = rate(
        0.25,
        "P(an English given name shown in a record is replaced by its nickname, "
        "e.g. William → Bill), among records showing a name that has one",
    )
    name_order_rate: float = rate(
        0.10,
        "P(family and given name swapped), among records with a Latin-script name",
    )
    old_email_rate: float = rate(
        0.12,
        "P(a record holds the person's previous e-mail address)",
    )
    old_phone_rate: float = rate(
        0.10,
        "P(a record holds the person's previous mobile number)",
    )
    shared_phone_rate: float = rate(
        0.15,
        "P(a record of a person living with others holds the household landline "
        "instead of the own mobile; a hard non-match)",
    )
    email_typo_rate: float = rate(
        0.03,
        "P(one keyboard typo in the e-mail address: adjacent key, transposition or deletion "
        "of a letter or digit), among CRM and web records holding an e-mail",
    )
    address_typo_rate: float = rate(
        0.04,
        "P(one typo in the postal address: a keyboard slip on a letter or number, or a "
        "homophone character in a Chinese address), among CRM and branch records holding one",
    )
    missing_rate: float = rate(
        0.05,
        "P(an optional field is empty), per field: phone, e-mail, address, birth date, id number",
    )
    cti_verified_rate: float = rate(
        0.60,
        "P(a call-centre caller record holds the customer number the caller was verified "
        "against (identification and verification in the IVR or by the agent); unverified "
        "callers made general enquiries only",
    )
    cti_other_holder_rate: float = rate(
        0.05,
        "P(a verified caller living with others was verified on another household member's "
        "customer number: a joint-account holder or someone calling for a partner), among "
        "verified caller records of persons living with others",
    )

    web_linked_rate: float = rate(
        0.90,
        "P(a web/app account of a person with a CRM record is an online-banking profile "
        "registered against a customer number); the others are logins never linked to an "
        "account (rate alerts, newsletters, an app installed before the account was opened)",
    )
    web_other_holder_rate: float = rate(
        0.05,
        "P(a linked web account of a person living with others was registered on another "
        "household member's customer number: a joint account's profile), among linked web "
        "accounts of persons living with others",
    )

    @model_validator(mode="after")
    def _disjoint(self) -> IdentityParams:
        if self.pinyin_rate + self.cantonese_rate > 1:
            raise ValueError("pinyin_rate + cantonese_rate must not exceed 1")
        if self.cti_pinyin_rate + self.cti_cantonese_rate > 1:
            raise ValueError("cti_pinyin_rate + cti_cantonese_rate must not exceed 1")
        if self.old_phone_rate + self.shared_phone_rate > 1:
            raise ValueError("old_phone_rate + shared_phone_rate must not exceed 1")
        return self


# --- ground truth -------------------------------------------------------------------------------


def add_identity(persons: pa.Table, ctx: ChunkContext, params: IdentityParams) -> pa.Table:
    """Return ``persons`` with name and contact columns added (the ground truth)."""
    rng = ctx.rng(Stream.IDENTITY)
    n = persons.num_rows
    # Arrow strings, compared in Arrow (no Python string per person).
    market = _flat(persons["market"])
    city = _flat(persons["city"])
    age = persons["age"].to_numpy().astype(np.int64)
    female = names.equal(persons["gender"], "F")
    head = persons["household_id"].to_numpy() - ctx.offset - 1
    nm = names.build_names(rng, market, city, female, age, head)

    # Born after the (age+1)th and on or before the age-th birthday anniversary before the start.
    doy = (ctx.start - dt.date(ctx.start.year, 1, 1)).days
    year0 = np.datetime64(str(ctx.start.year), "Y")
    base = (year0 - age).astype("datetime64[D]") + doy
    prev = (year0 - age - 1).astype("datetime64[D]") + doy
    span = (base - prev).astype(np.int64)
    birth = prev + 1 + (rng.random(n) * span).astype(np.int64)
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970

    fam_k, giv_k, eng_k = nm["family_key"], nm["given_key"], nm["english_key"]
    email = _emails(rng, market, fam_k, giv_k, eng_k, birth_year)
    previous = _emails(rng, market, fam_k, giv_k, eng_k, birth_year)
    previous = pc.if_else(pc.equal(previous, email), _join("1", previous), previous)
    groups = _ByCity(city)
    mobile = _mobiles(rng, groups)
    previous_mobile = _mobiles(rng, groups)
    # Households share the head's address and landline (drawn for everyone, then broadcast).
    take_head = pa.array(head)
    address = groups.build(lambda c, k: _address(rng, c, k)).take(take_head)
    landline = _landlines(rng, groups).take(take_head)
    national = _national_ids(rng, groups, birth, female)
    s = pa.string()
    cols: dict[str, pa.Array] = {
        "family_name_zh": nm["family_name_zh"],
        "given_name_zh": nm["given_name_zh"],
        "family_name_latin": nm["family_name_latin"],
        "given_name_latin": nm["given_name_latin"],
        "english_name": nm["english_name"],
        "nickname": nm["nickname"],
        "name_romanisation": pa.array(ROMANISATION, s).take(pa.array(nm["roman"])),
        "family_name_pinyin": nm["family_pinyin"],
        "given_name_pinyin": nm["given_pinyin"],
        "family_name_hk": nm["family_hk"],
        "given_name_hk": nm["given_hk"],
        "family_name_hokkien": nm["family_hokkien"],
        "given_name_hokkien": nm["given_hokkien"],
        "email": email,
        "previous_email": previous,
        "mobile_e164": mobile,
        "previous_mobile_e164": previous_mobile,
        "home_phone_e164": landline,
        "address": address,
        "national_id_hash": national,
        "birth_date": pa.array(birth, pa.date32()),
        "customer_no": customer_number(ctx.seed, persons["person_id"].to_numpy()),
    }
    out = persons
    for name, arr in cols.items():
        out = out.append_column(name, arr)
    return out


# --- source records -----------------------------------------------------------------------------


def _national(e164: pa.Array) -> pa.Array:
    """Phone numbers as a branch clerk writes them (national format with spaces)."""
    s3 = _slice(e164, 3)
    mainland_mobile = _str_np(pc.starts_with(e164, "+861")).astype(bool)
    cn = _select([mainland_mobile], [s3], _join("0", s3))
    hk = _join(_slice(e164, 4, 8), _slice(e164, 8), sep=" ")
    uk = _join("0", _join(_slice(e164, 3, 7), _slice(e164, 7), sep=" "))
    sg = _join(_slice(e164, 3, 7), _slice(e164, 7), sep=" ")
    au = _join("0", _join(_slice(e164, 3, 6), _slice(e164, 6, 9), _slice(e164, 9), sep=" "))
    conds = [
        _str_np(pc.fill_null(pc.starts_with(e164, p), False)).astype(bool)
        for p in ("+86", "+852", "+44", "+65")
    ]
    return _select(conds, [cn, hk, uk, sg], au)


def _hex(rng: np.random.Generator, n: int, nbytes: int) -> pa.Array:
    h = binascii.hexlify(rng.bytes(n * nbytes))
    return _fixed(np.frombuffer(h, dtype=f"S{2 * nbytes}"))


class _Rows:
    """The records of one system: which person (row index) each is, and its record id."""

    def __init__(
        self,
        system: str,
        persons: pa.Table,
        ctx: ChunkContext,
        params: IdentityParams,
        rng: np.random.Generator,
        shared: dict[tuple[str, ...], pa.Array] | None = None,
    ) -> None:
        ids = persons[f"{system}_id"].combine_chunks()
        member = np.flatnonzero(ids.is_valid().to_numpy(zero_copy_only=False))
        dup = member[rng.random(member.size) < params.duplicate_rate]
        pid = persons["person_id"].to_numpy()
        idx = np.concatenate([member, dup])
        rid = pa.concat_arrays(
            [
                ids.take(pa.array(member)),
                record_id(ctx.seed, system, pid[dup], 1),
            ]
        )
        is_dup = np.concatenate([np.zeros(member.size, bool), np.ones(dup.size, bool)])
        order = np.lexsort((is_dup, idx))
        self.persons = persons
        self.shared = {} if shared is None else shared
        self.system = system
        self.idx = idx[order]
        self.take = pa.array(self.idx)
        self.size = self.idx.size
        self.record_id = rid.take(pa.array(order))
        self.person_id = pid[self.idx]
        self.noise = {c: np.zeros(self.size, bool) for c in NOISE_COLUMNS}
        self.noise["duplicate"] = is_dup[order]

    def get(self, name: str) -> pa.Array:
        return self.persons[name].combine_chunks().take(self.take)

    def valid(self, name: str) -> np.ndarray:
        """Whether each record's person has a value in column ``name``."""
        return self.persons[name].is_valid().to_numpy(zero_copy_only=False)[self.idx]

    def pick(self, conds: list[np.ndarray], columns: tuple[str, ...]) -> pa.Array:
        """``_select(conds, [get(c) for c in columns[1:]], get(columns[0]))`` with one take.

        The persons' columns laid end to end (kept in ``shared`` for the other systems) are taken
        from once, instead of taking each column and then choosing among them.
        """
        flat = self.shared.get(columns)
        if flat is None:
            flat = pa.concat_arrays([self.persons[c].combine_chunks() for c in columns])
            self.shared[columns] = flat
        n = self.persons.num_rows
        which = np.select([np.asarray(c, dtype=bool) for c in conds], np.arange(1, len(columns)), 0)
        return flat.take(pa.array(which * n + self.idx))

    def eq(self, name: str, value: str) -> np.ndarray:
        """Whether each record's person has ``value`` in column ``name`` (compared per person)."""
        return names.equal(self.persons[name], value)[self.idx]


_SCRIPTS: Final = ("latin", "zh", "pinyin", "hk", "hokkien")  # default first, as _names picks


def _names(rows: _Rows, params: IdentityParams, rng: np.random.Generator) -> dict[str, pa.Array]:
    """Render each record's name with script, nickname, order and typo noise.

    Returns ``full`` (one string), ``family``/``given`` (split fields) and ``english``.
    """
    g = {c: rows.get(c) for c in ("english_name", "nickname")}
    u = rng.random((4, rows.size))
    chinese = rows.valid("family_name_zh")
    hk = rows.eq("name_romanisation", "hk")
    hok = rows.eq("name_romanisation", "hokkien")
    western = ~chinese
    cti = rows.system == "cti"
    p_pin = params.cti_pinyin_rate if cti else params.pinyin_rate
    p_cant = params.cti_cantonese_rate if cti else params.cantonese_rate
    # One uniform draw, disjoint ranges: both rates hold exactly among eligible records. Singapore's
    # Hokkien-named persons get their dialect rendering ("Tan Wei Ming") at the Cantonese rate.
    dialect = hk | hok
    cant = hk & (u[0] < p_cant)
    hokkien = hok & (u[0] < p_cant)
    pin = chinese & np.where(dialect, (u[0] >= p_cant) & (u[0] < p_cant + p_pin), u[0] < p_pin)
    chars = chinese & ~cant & ~hokkien & ~pin
    script = [chars, pin, cant, hokkien]
    fam = rows.pick(script, tuple(f"family_name_{s}" for s in _SCRIPTS))
    giv = rows.pick(script, tuple(f"given_name_{s}" for s in _SCRIPTS))
    has_eng = g["english_name"].is_valid().to_numpy(zero_copy_only=False)
    has_nick = g["nickname"].is_valid().to_numpy(zero_copy_only=False)
    nick = has_nick & (western | has_eng) & (u[1] < params.nickname_rate)
    giv = _select([western & nick], [g["nickname"]], giv)
    english = _select([has_eng & nick], [g["nickname"]], g["english_name"])
    swap = ~chars & (u[2] < params.name_order_rate)
    first = _select([western != swap], [giv], fam)
    second = _select([western != swap], [fam], giv)
    latin = _join(first, second, sep=" ")
    latin = _select([(cant | hokkien) & has_eng], [_join(latin, english, sep=", ")], latin)
    full = _select([chars], [_join(fam, giv)], latin)
    typo = u[3] < (params.cti_typo_rate if cti else params.typo_rate)
    rows.noise.update(
        typo=typo,
        pinyin=pin,
        cantonese=cant,
        hokkien=hokkien,
        # A nickname counts where the record shows the English name: always for Western names,
        # and for Chinese names only in the Cantonese or Hokkien rendering ("Chan Tai Man, Peter",
        # "Tan Wei Ming, Kevin") or in the CRM's English-name field.
        nickname=nick & (western | cant | hokkien | (rows.system == "crm")),
        name_order=swap,
    )
    return {
        "full": typos.apply("name", full, typo, rng),
        "family": _select([swap], [giv], fam),
        "given": typos.apply("name", _select([swap], [fam], giv), typo, rng),
        "english": english,
    }


def _phone(rows: _Rows, params: IdentityParams, rng: np.random.Generator) -> pa.Array:
    hh = rows.persons["household_id"].to_numpy()
    size = np.bincount(hh - hh.min())[hh - hh.min()]
    u = rng.random((2, rows.size))
    shared = (size[rows.idx] > 1) & (u[0] < params.shared_phone_rate)
    old = u[0] >= 1 - params.old_phone_rate
    missing = u[1] < params.missing_rate
    phone = rows.pick([shared, old], ("mobile_e164", "home_phone_e164", "previous_mobile_e164"))
    rows.noise.update(shared_phone=shared, old_phone=old, missing_phone=missing)
    return _null_where(missing, phone)


def _email(rows: _Rows, params: IdentityParams, rng: np.random.Generator) -> pa.Array:
    u = rng.random((2, rows.size))
    old = u[0] < params.old_email_rate
    missing = u[1] < params.missing_rate
    typo = ~missing & (rng.random(rows.size) < params.email_typo_rate)
    email = rows.pick([old], ("email", "previous_email"))
    rows.noise.update(old_email=old, missing_email=missing, email_typo=typo)
    return _null_where(missing, typos.apply("email", email, typo, rng))


def _record_address(rows: _Rows, params: IdentityParams, rng: np.random.Generator) -> pa.Array:
    missing = rng.random(rows.size) < params.missing_rate
    typo = ~missing & (rng.random(rows.size) < params.address_typo_rate)
    rows.noise.update(missing_address=missing, address_typo=typo)
    return _null_where(missing, typos.apply("address", rows.get("address"), typo, rng))


def _optional(
    rows: _Rows, column: str, noise: str, p: IdentityParams, rng: np.random.Generator
) -> pa.Array:
    missing = rng.random(rows.size) < p.missing_rate
    rows.noise[noise] = missing
    return _null_where(missing, rows.get(column))


def _updated_at(rows: _Rows, ctx: ChunkContext, rng: np.random.Generator) -> pa.Array:
    """Last update: records holding an old e-mail or phone were last touched before the change."""
    start = np.datetime64(ctx.start, "s").astype(np.int64)
    end = np.datetime64(ctx.end, "s").astype(np.int64)
    year = 365 * 86_400
    stale = rows.noise["old_email"] | rows.noise["old_phone"]
    lo = np.where(stale, start - 6 * year, start - 2 * year)
    hi = np.where(stale, start - year, end)
    t = lo + (rng.random(rows.size) * (hi - lo)).astype(np.int64)
    return pa.array(t.astype("datetime64[s]"), pa.timestamp("s"))


def _held_customer_no(
    rows: _Rows,
    crm: _Rows,
    ctx: ChunkContext,
    *,
    holds: float,
    other_holder: float,
    stream: int,
    crm_only: bool = False,
) -> pa.Array:
    """The customer number each record holds (null: none), and the ``verified`` and
    ``other_holder`` truth flags.

    Call-centre records hold the number the caller was verified against, web accounts the one an
    online-banking profile was registered on. Each system draws from its own stream (seed,
    identity, chunk, ``stream``), so the other columns do not depend on these rates. A holder with
    two CRM records holds either (the second half the time); with ``other_holder`` a person living
    with others holds another household member's number (the head's, or the head on the next
    member's). ``crm_only``: only persons with a CRM record can hold one.
    """
    rng = np.random.default_rng(
        np.random.SeedSequence([ctx.seed, int(Stream.IDENTITY), ctx.chunk_index, stream])
    )
    u = rng.random((3, rows.size))
    hh = rows.persons["household_id"].to_numpy()
    n = hh.size
    verified = u[0] < holds
    if crm_only:
        in_crm = np.zeros(n, bool)
        in_crm[crm.idx] = True
        verified &= in_crm[rows.idx]
    head = hh[rows.idx] - ctx.offset - 1
    other = np.where(rows.idx == head, np.minimum(rows.idx + 1, n - 1), head)
    living_with_others = (other != rows.idx) & (hh[other] == hh[rows.idx])
    flagged = verified & living_with_others & (u[1] < other_holder)
    target = np.where(flagged, other, rows.idx)
    has_second = np.zeros(n, bool)
    has_second[crm.idx[crm.noise["duplicate"]]] = True
    k = (has_second[target] & (u[2] < 0.5)).astype(np.uint64)
    pid = rows.persons["person_id"].to_numpy()
    rows.noise.update(verified=verified, other_holder=flagged)
    return _null_where(~verified, customer_number(ctx.seed, pid[target], k))


def generate(persons: pa.Table, ctx: ChunkContext, params: IdentityParams) -> dict[str, pa.Table]:
    """Source records per system, and the truth (record → person, noise applied)."""
    rng = ctx.rng(Stream.IDENTITY)
    rng = np.random.default_rng(rng.integers(0, 2**63, 3)[2])  # apart from add_identity's draws
    out: dict[str, pa.Table] = {}
    done: list[_Rows] = []
    shared: dict[tuple[str, ...], pa.Array] = {}  # persons' columns laid end to end (_Rows.pick)

    rows = _Rows("crm", persons, ctx, params, rng, shared)
    nm = _names(rows, params, rng)
    id_hash = _optional(rows, "national_id_hash", "missing_id", params, rng)
    city = rows.get("city")
    id_type = _select(
        [rows.eq("market", "CN"), rows.eq("market", "HK"), rows.eq("city", "London")],
        [pa.scalar("resident_id"), pa.scalar("hkid"), pa.scalar("ni_number")],
        pc.if_else(pc.equal(city, "Singapore"), "nric", pa.scalar(None, pa.string())),
    )
    out["crm_customers"] = pa.table(
        {
            "source_record_id": rows.record_id,
            "customer_no": customer_number(
                ctx.seed, rows.person_id, rows.noise["duplicate"].astype(np.uint64)
            ),
            "family_name": nm["family"],
            "given_name": nm["given"],
            "english_name": nm["english"],
            "gender": rows.get("gender"),
            "birth_date": _optional(rows, "birth_date", "missing_birth_date", params, rng),
            "id_type": pc.if_else(id_hash.is_valid(), id_type, pa.scalar(None, pa.string())),
            "id_number_hash": id_hash,
            "mobile": _phone(rows, params, rng),
            "email": _email(rows, params, rng),
            "address": _record_address(rows, params, rng),
            "updated_at": _updated_at(rows, ctx, rng),
        }
    )
    done.append(rows)
    crm = rows

    rows = _Rows("web", persons, ctx, params, rng, shared)
    nm = _names(rows, params, rng)
    mobile = _phone(rows, params, rng)
    email = _email(rows, params, rng)
    out["web_accounts"] = pa.table(
        {
            "source_record_id": rows.record_id,
            "login": pc.coalesce(email, mobile, rows.record_id),
            "email": email,
            "display_name": nm["full"],
            "mobile": mobile,
            "device_id": _hex(rng, rows.size, 8),
            "customer_no": _held_customer_no(
                rows,
                crm,
                ctx,
                holds=params.web_linked_rate,
                other_holder=params.web_other_holder_rate,
                stream=2,
                crm_only=True,
            ),
            "updated_at": _updated_at(rows, ctx, rng),
        }
    )
    done.append(rows)

    rows = _Rows("cti", persons, ctx, params, rng, shared)
    nm = _names(rows, params, rng)
    phone = _phone(rows, params, rng)
    lang = _select(
        [rows.eq("market", "CN"), rows.eq("market", "HK")],
        [pa.scalar("Putonghua"), pa.scalar("Cantonese")],
        pa.array(np.full(rows.size, "English", dtype="S7")).cast(pa.string()),
    )
    out["cti_callers"] = pa.table(
        {
            "source_record_id": rows.record_id,
            "caller_number": _slice(phone, 1),  # digits as presented by the network (no "+")
            "caller_name": nm["full"],
            "language": lang,
            "customer_no": _held_customer_no(
                rows,
                crm,
                ctx,
                holds=params.cti_verified_rate,
                other_holder=params.cti_other_holder_rate,
                stream=1,
            ),
            "updated_at": _updated_at(rows, ctx, rng),
        }
    )
    done.append(rows)

    rows = _Rows("branch", persons, ctx, params, rng, shared)
    nm = _names(rows, params, rng)
    phone = _phone(rows, params, rng)
    out["branch_members"] = pa.table(
        {
            "source_record_id": rows.record_id,
            "loyalty_no": _join("88", _digits(rng, rows.size, 10)),
            "member_name": nm["full"],
            "mobile": _national(phone),
            "address": _record_address(rows, params, rng),
            "birthday": _optional(rows, "birth_date", "missing_birth_date", params, rng),
            "home_branch": rows.get("city"),
            "updated_at": _updated_at(rows, ctx, rng),
        }
    )
    done.append(rows)

    system = pa.concat_arrays(
        [
            pa.array(np.full(r.size, r.system, dtype=f"S{len(r.system)}")).cast(pa.string())
            for r in done
        ]
    )
    rid = pa.concat_arrays([r.record_id for r in done])
    out["truth/record_person"] = pa.table(
        {
            "source_system": system,
            "source_record_id": rid,
            "person_id": pa.array(np.concatenate([r.person_id for r in done]), pa.int64()),
        }
    )
    noise = {c: pa.array(np.concatenate([r.noise[c] for r in done])) for c in NOISE_COLUMNS}
    out["truth/record_noise"] = pa.table(
        {"source_system": system, "source_record_id": rid, **noise}
    )
    return out
