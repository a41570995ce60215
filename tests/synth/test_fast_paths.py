"""The generator's fast paths give exactly what the general (slower) way gives.

Fixed-width strings from numpy bytes without a copy, sequential record ids by digit pairs,
``_select`` by one take, the writer's fixed dictionary columns, worker processes started
with ``spawn`` as well as ``fork``, and the identity code's customer numbers, hex record ids,
national-id hashes, comparisons on Arrow strings and one-take picks of record columns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from cxo.synth import contacts, identity, names, people, systems, writer
from cxo.synth.contacts import _select, fixed_width_strings
from cxo.synth.context import ChunkContext
from cxo.synth.interactions_sim import _ids
from cxo.synth.world import SynthConfig, _start_method, synthesize


@pytest.mark.parametrize(
    "values",
    [
        np.array([b"0123", b"9876", b"5555"], dtype="S4"),
        np.array([b"ab", b"a", b""], dtype="S2"),  # NUL-padded: numpy strips trailing NULs
        np.array(["é".encode(), b"xy"], dtype="S2"),  # not ASCII: validated the general way
        np.array([], dtype="S3"),
        np.array([b"IX-1", b"IX-2"], dtype="S4")[::-1],  # not contiguous
    ],
)
def test_fixed_width_strings_match_arrow_cast(values: np.ndarray) -> None:
    fast = fixed_width_strings(values)
    fast.validate(full=True)
    assert fast.equals(pa.array(values).cast(pa.string()))


def test_fixed_width_strings_from_random_digits() -> None:
    rng = np.random.default_rng(3)
    digits = rng.integers(48, 58, size=(10_000, 9), dtype=np.uint8).view("S9").ravel()
    fast = fixed_width_strings(digits)
    assert fast.equals(pa.array(digits).cast(pa.string()))
    assert fast[0].as_py() == digits[0].decode()


@pytest.mark.parametrize("n", [0, 1, 9, 10, 99, 100, 101, 9_999, 123_457])
def test_sequential_ids(n: int) -> None:
    nums = pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string())
    general = pc.binary_join_element_wise("IX-00003-", pc.utf8_lpad(nums, width=7, padding="0"), "")
    assert _ids("IX-00003-", n).equals(general)
    if n:
        assert _ids("TX-00000-", n)[n - 1].as_py() == f"TX-00000-{n:07d}"


def test_select_by_take_equals_if_else_chain() -> None:
    rng = np.random.default_rng(5)
    n = 2_000

    def arr(prefix: str) -> pa.Array:
        values = [f"{prefix}{i}" if rng.random() > 0.1 else None for i in range(n)]
        return pa.array(values, pa.string())

    conds = [rng.random(n) < 0.3, rng.random(n) < 0.5, rng.random(n) < 0.2]
    values = [arr("a"), arr("bb"), arr("ccc")]
    default = arr("d")
    expected = default
    for cond, value in zip(reversed(conds), reversed(values), strict=True):
        expected = pc.if_else(pa.array(cond), value, expected)
    got = _select(conds, values, default)
    assert got.equals(expected)
    # one condition, and a chunked value: the if_else path, same result
    chunked = pa.chunked_array([values[0]])
    assert _select(conds[:1], [values[0]], default).equals(pc.if_else(conds[0], values[0], default))
    assert _select(conds[:2], [chunked, values[1]], default).to_pylist() == (
        _select(conds[:2], values[:2], default).to_pylist()
    )


def test_listed_dictionary_columns_exist_and_unknown_tables_are_sampled() -> None:
    config = SynthConfig(customers=400, seed=2, chunk_size=400)
    from cxo.synth.world import chunks, generate_chunk

    tables = generate_chunk(config, chunks(config)[0])
    for name, columns in writer._DICTIONARY.items():
        if name in tables:
            strings = {f.name for f in tables[name].schema if pa.types.is_string(f.type)}
            assert set(columns) <= strings, name
    t = pa.table({"few": ["a", "b"] * 500, "many": [str(i) for i in range(1000)]})
    assert writer._dictionary_columns("not/listed", t) == ["few"]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_spawned_workers_write_the_same_bytes_as_forked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = SynthConfig(customers=1200, seed=13, chunk_size=300)
    monkeypatch.setenv("CXO_SYNTH_START_METHOD", "spawn")
    assert _start_method() == "spawn"
    synthesize(config, tmp_path / "spawn", workers=2)
    monkeypatch.delenv("CXO_SYNTH_START_METHOD")
    synthesize(config, tmp_path / "default", workers=2)
    assert _digest(tmp_path / "spawn") == _digest(tmp_path / "default")
    meta = pq.ParquetFile(tmp_path / "default" / "interactions" / "part-00000.parquet").metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


# --- identity fast paths (customer numbers, record ids, Arrow comparisons, one-take picks) ------


def _customer_number_reference(seed: int, person_id: int, k: int) -> str:
    """The customer number computed per value with Python integers (the general way)."""
    key = [int(v) for v in systems._mix64(np.array([seed, 0x43494621], dtype=np.uint64))]
    a = key[0] % 10**9 | 1
    if a % 5 == 0:
        a += 2
    body = f"{(a * (2 * person_id + k) + key[1] % 10**9) % 10**9:09d}"
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


@pytest.mark.parametrize("seed", [0, 7, 2**63 + 5])
def test_customer_numbers_match_a_per_value_reference(seed: int) -> None:
    rng = np.random.default_rng(seed % 97)
    pid = np.concatenate([[0, 1, 499_999_999], rng.integers(0, 500_000_000, 3_000)])
    k = rng.integers(0, 2, pid.size).astype(np.uint64)
    got = systems.customer_number(seed, pid, k)
    got.validate(full=True)
    assert got.to_pylist() == [
        _customer_number_reference(seed, int(p), int(j)) for p, j in zip(pid, k, strict=True)
    ]
    assert systems.customer_number(seed, pid[:0]).to_pylist() == []


@pytest.mark.parametrize("digits", [1, 9, 16])
def test_hex_strings_match_python_formatting(digits: int) -> None:
    rng = np.random.default_rng(digits)
    values = np.concatenate(
        [np.array([0, 2**64 - 1], dtype=np.uint64), rng.integers(0, 2**64, 2_000, np.uint64)]
    )
    got = systems.hex_strings("CB-", values, digits)
    got.validate(full=True)
    mask = 16**digits - 1
    assert got.to_pylist() == [f"CB-{int(v) & mask:0{digits}x}" for v in values]


def test_arrow_equal_matches_numpy_comparison() -> None:
    values = ["HK", None, "CN", "EN", "HK", ""]
    expected = np.array([v == "HK" for v in values])
    for column in (
        np.array(values, dtype=object),
        pa.array(values, pa.string()),
        pa.chunked_array([values[:2], values[2:]], pa.string()),
    ):
        got = names.equal(column, "HK")
        assert got.dtype == bool
        assert (got == expected).all()


def _person_columns() -> pa.Table:
    ctx = ChunkContext(
        seed=3, chunk_index=0, offset=0, n=3_000, start=dt.date(2025, 1, 6), weeks=78
    )
    return systems.assign(people.generate(ctx, people.PeopleParams()), ctx, systems.SystemsParams())


def test_names_emails_and_cities_same_from_arrow_and_numpy_columns() -> None:
    persons = _person_columns()
    n = persons.num_rows
    female = persons["gender"].to_numpy(zero_copy_only=False) == "F"
    age = persons["age"].to_numpy().astype(np.int64)
    head = persons["household_id"].to_numpy() - 1
    arrow = {c: persons[c].combine_chunks() for c in ("market", "city")}
    numpy = {c: persons[c].to_numpy(zero_copy_only=False) for c in ("market", "city")}
    out = []
    for cols in (numpy, arrow):
        rng = np.random.default_rng(11)
        nm = names.build_names(rng, cols["market"], cols["city"], female, age, head)
        year = np.full(n, 1990)
        keys = (nm["family_key"], nm["given_key"], nm["english_key"])
        email = contacts._emails(rng, cols["market"], *keys, year)
        code = contacts._ByCity(cols["city"]).code
        out.append((nm, email, code))
    (nm_np, email_np, code_np), (nm_pa, email_pa, code_pa) = out
    assert nm_np.keys() == nm_pa.keys()
    for key, value in nm_np.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, nm_pa[key]), key
        else:
            assert value.equals(nm_pa[key]), key
    assert email_np.equals(email_pa)
    assert np.array_equal(code_np, code_pa)


def test_national_id_hashes_match_hexdigest_per_value(monkeypatch: pytest.MonkeyPatch) -> None:
    persons = _person_columns()
    n = persons.num_rows
    groups = contacts._ByCity(persons["city"])
    built: list[pa.Array] = []
    build = contacts._ByCity.build

    def keep(self: contacts._ByCity, make: Callable[[str, int], pa.Array]) -> pa.Array:
        built.append(build(self, make))
        return built[-1]

    monkeypatch.setattr(contacts._ByCity, "build", keep)
    rng = np.random.default_rng(2)
    birth = np.datetime64("1980-01-01") + rng.integers(0, 15_000, n).astype("timedelta64[D]")
    got = contacts._national_ids(rng, groups, birth, rng.random(n) < 0.5)
    got.validate(full=True)
    expected = [hashlib.sha256(v.encode()).hexdigest() if v else None for v in built[0].to_pylist()]
    assert None in expected and expected.count(None) < n  # Sydney holds none
    assert got.to_pylist() == expected


def test_rows_pick_equals_select_of_taken_columns() -> None:
    ctx = ChunkContext(
        seed=4, chunk_index=0, offset=0, n=3_000, start=dt.date(2025, 1, 6), weeks=78
    )
    params = identity.IdentityParams()
    persons = systems.assign(
        people.generate(ctx, people.PeopleParams()), ctx, systems.SystemsParams()
    )
    persons = identity.add_identity(persons, ctx, params)
    shared: dict[tuple[str, ...], pa.Array] = {}
    rng = np.random.default_rng(9)
    for system in ("crm", "web", "cti"):
        rows = identity._Rows(system, persons, ctx, params, rng, shared)
        columns = tuple(f"family_name_{s}" for s in identity._SCRIPTS)
        conds = [rng.random(rows.size) < p for p in (0.3, 0.2, 0.4, 0.1)]
        expected = _select(conds, [rows.get(c) for c in columns[1:]], rows.get(columns[0]))
        assert rows.pick(conds, columns).equals(expected)
        old = rng.random(rows.size) < 0.2
        expected = pc.if_else(pa.array(old), rows.get("previous_email"), rows.get("email"))
        assert rows.pick([old], ("email", "previous_email")).equals(expected)
        for column in ("market", "name_romanisation"):
            value = rows.get(column)[0].as_py()
            got = rows.eq(column, value)
            assert np.array_equal(got, np.asarray(pc.equal(rows.get(column), value)))
        assert np.array_equal(
            rows.valid("family_name_zh"), rows.get("family_name_zh").is_valid().to_numpy(False)
        )
    assert len(shared) == 2  # laid end to end once, reused by the later systems
