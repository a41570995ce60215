"""`cxo synth` as a whole: same seed, same bytes; chunking bounds memory; bad input is refused."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cxo.errors import CxoError
from cxo.synth.world import SynthConfig, chunks, synthesize


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    config = SynthConfig(customers=1500, seed=7, chunk_size=500)
    synthesize(config, tmp_path / "a")
    synthesize(config, tmp_path / "b")
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    part = "truth/persons/part-00000.parquet"
    assert a == b and part in a and "truth.json" in a
    synthesize(SynthConfig(customers=1500, seed=8, chunk_size=500), tmp_path / "c")
    assert _digest(tmp_path / "c")[part] != a[part]


def test_chunks_cover_every_person_once(tmp_path: Path) -> None:
    config = SynthConfig(customers=1234, seed=1, chunk_size=500)
    assert [(c.offset, c.n) for c in chunks(config)] == [(0, 500), (500, 500), (1000, 234)]
    rows = synthesize(config, tmp_path / "w")
    ids = pq.read_table(tmp_path / "w" / "truth" / "persons")["person_id"].to_pylist()
    assert ids == list(range(1, 1235)) and rows["truth/persons"] == 1234
    assert sorted(p.name for p in (tmp_path / "w" / "truth" / "persons").iterdir()) == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]


def test_every_table_reads_as_one_across_chunks(tmp_path: Path) -> None:
    """Parts of a table share one schema, so readers see each folder as a single table."""
    rows = synthesize(SynthConfig(customers=2000, seed=4, chunk_size=500), tmp_path / "w")
    for name, n in rows.items():
        assert pq.read_table(tmp_path / "w" / name).num_rows == n, name


def test_truth_json_records_every_parameter(tmp_path: Path) -> None:
    synthesize(SynthConfig(customers=200, seed=3, chunk_size=100), tmp_path / "w")
    truth = json.loads((tmp_path / "w" / "truth.json").read_text(encoding="utf-8"))
    assert truth["config"]["seed"] == 3 and truth["config"]["customers"] == 200
    for block in ("people", "systems", "identity", "behaviour", "voice"):
        assert block in truth["config"]
    assert truth["rows"]["truth/persons"] == 200


def test_csv_on_request(tmp_path: Path) -> None:
    synthesize(SynthConfig(customers=300, seed=3, chunk_size=100), tmp_path / "w", csv=True)
    parts = sorted((tmp_path / "w" / "truth" / "persons").glob("*.csv"))
    lines = [ln for p in parts for ln in p.read_text(encoding="utf-8").splitlines()[1:]]
    assert len(parts) == 3 and len(lines) == 300
    assert parts[0].read_text(encoding="utf-8").startswith('"person_id"')


def test_existing_folder_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "w"
    config = SynthConfig(customers=100, seed=1, chunk_size=100)
    synthesize(config, out)
    (out / "keep-me.txt").write_text("x")
    with pytest.raises(CxoError, match="not empty"):
        synthesize(config, out)
    assert (out / "keep-me.txt").exists()
    synthesize(config, out, force=True)
    assert not (out / "keep-me.txt").exists()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "cxo.cli", "synth", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "0"], "--customers"),
        (["--customers", "-5"], "--customers"),
        (["--customers", "20000000"], "--customers"),
        (["--customers", "ten"], "Invalid value"),
        (["--customers", "10", "--seed", "-1"], "--seed"),
        (["--customers", "10", "--bogus"], "No such option"),
    ],
)
def test_nonsense_input_is_one_clear_line(tmp_path: Path, args: list[str], message: str) -> None:
    r = _cli(*args, "--out", str(tmp_path / "w"))
    assert r.returncode != 0 and message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "w").exists() or not any((tmp_path / "w").iterdir())


def test_unwritable_folder(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("not a folder")
    r = _cli("--customers", "10", "--out", str(target))
    assert r.returncode != 0 and "not a folder" in r.stderr
    r = _cli("--customers", "10", "--out", "/proc/cxo-cannot-write")
    assert r.returncode != 0 and "Cannot write" in r.stderr and "Traceback" not in r.stderr


def test_cli_writes_the_world(tmp_path: Path) -> None:
    r = _cli("--customers", "300", "--seed", "5", "--out", str(tmp_path / "w"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "w" / "truth.json").exists()
    r = _cli("--customers", "300", "--out", str(tmp_path / "w"))
    assert r.returncode == 2 and "--force" in r.stderr


def test_parallel_generation_gives_the_same_bytes(tmp_path: Path) -> None:
    config = SynthConfig(customers=1200, seed=11, chunk_size=300)
    synthesize(config, tmp_path / "one", workers=1)
    synthesize(config, tmp_path / "two", workers=2)
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")
