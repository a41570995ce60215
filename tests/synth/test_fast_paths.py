"""The generator's fast paths give exactly what the general (slower) way gives.

Fixed-width strings from numpy bytes without a copy, sequential record ids by digit pairs,
``_select`` by one take, the writer's fixed dictionary columns, and worker processes started
with ``spawn`` as well as ``fork``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from cxo.synth import writer
from cxo.synth.contacts import _select, fixed_width_strings
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
