"""Benchmark `cxo import`: a 1M-row customers CSV and 1M interactions into a DuckDB store.

Generates realistic files (deterministic, seeded) in a temporary folder, then imports each into a
fresh DuckDB store in a child process of its own, so the peak RSS reported is the import's alone
(plus the interpreter and libraries). Each child first imports a 1,000-row file of the same layout
(warm-up: module imports and first-call costs, reported separately), then times the real import,
then imports the same file again (every row a duplicate).

    uv run python benchmarks/imports.py                       # 1,000,000 rows per layout
    uv run python benchmarks/imports.py --rows 200000 --layouts crm
    uv run python benchmarks/imports.py --formats --rows 100000  # crm as CSV, GB18030 CSV,
                                                                 # Parquet, JSON Lines, .xlsx

Layouts:

crm
    A CRM export: E.164 mobiles, ISO dates and timestamps, columns named like cxo fields except
    two (a two-line mapping). The plainest input.
branch
    A branch/loyalty export as clerks type it: whole names to split (陈大文, Chan Tai Man, Peter,
    William Smith), national-format mobiles whose country comes from the home branch (a ``map``),
    dd/mm/yyyy birthdays, mixed-case e-mails; about 1% of rows have a bad phone or date.
interactions
    Contact-centre and digital interactions: channel and stage enums, zoned timestamps, numbers.

Prints one markdown table row per layout for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

MAPPINGS = {
    "crm": """\
kind: customers
source: crm
columns:
  national_id_hash: id_number_hash
  phone: mobile
""",
    "branch": """\
kind: customers
source: branch
columns:
  source_record_id: member_no
  full_name: member_name
  family_name: {split: member_name, part: family}
  given_name: {split: member_name, part: given}
  english_name: {split: member_name, part: english}
  gender: sex
  birth_date: {column: birthday, format: "%d/%m/%Y"}
  city: home_branch
  country:
    column: home_branch
    map: {Shanghai: CN, Beijing: CN, Shenzhen: CN, Hong Kong: HK, London: GB, Singapore: SG}
  phone: mobile
  email: Email
  loyalty_no: card_no
  updated_at: last_update
""",
    "interactions": """\
kind: interactions
source: contact   # the default; each row names its own system in source_system
columns:
  customer_record_id: customer_ref
""",
}
KINDS = {"crm": "customers", "branch": "customers", "interactions": "interactions"}

FAMILY = [*"陈李王张刘杨黄赵吴周徐孙马朱胡郭何林罗高", "欧阳", "司徒"]
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华文大小")
LATIN_FAMILY = ["Chan", "Wong", "Lee", "Cheung", "Lau", "Smith", "Brown", "Taylor", "Wilson", "Ng"]
LATIN_GIVEN = ["Tai Man", "Ka Wing", "Siu Ming", "William", "Emma", "Oliver", "Grace", "Peter"]
ENGLISH = ["Peter", "Mary", "John", "Grace", "Tom", "Amy"]
BRANCHES = ["Shanghai", "Beijing", "Shenzhen", "Hong Kong", "London", "Singapore"]
CHANNELS = ["branch", "phone", "web", "app", "email", "chat"]
STAGES = ["engage", "transact", "fulfil", "service"]


def _pick(rng: Any, items: list[str], n: int) -> Any:
    import numpy as np

    return np.array(items, dtype=object)[rng.integers(0, len(items), n)]


def generate(layout: str, n: int, path: Path, seed: int = 7, first_id: int = 0) -> None:
    """Write ``n`` rows of ``layout`` to ``path`` (CSV, UTF-8), in chunks; ids from ``first_id``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    chunk = 200_000
    with pacsv.CSVWriter(path, _schema(layout)) as writer:
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            ids = np.arange(first_id + start, first_id + start + m)
            cols = _columns(layout, rng, ids, m)
            writer.write_table(pa.table(cols, schema=_schema(layout)))


def _schema(layout: str) -> Any:
    import pyarrow as pa

    names = {
        "crm": [
            "source_record_id",
            "family_name",
            "given_name",
            "english_name",
            "gender",
            "birth_date",
            "id_type",
            "id_number_hash",
            "mobile",
            "email",
            "address",
            "updated_at",
        ],
        "branch": [
            "member_no",
            "member_name",
            "sex",
            "birthday",
            "home_branch",
            "mobile",
            "Email",
            "card_no",
            "last_update",
        ],
        "interactions": [
            "source_system",
            "source_record_id",
            "customer_ref",
            "channel",
            "touchpoint",
            "stage",
            "started_at",
            "ended_at",
            "wait_seconds",
            "handle_seconds",
            "outcome",
            "team",
        ],
    }[layout]
    return pa.schema([(name, pa.string()) for name in names])


def _columns(layout: str, rng: Any, ids: Any, m: int) -> dict[str, Any]:
    import hashlib

    import numpy as np

    def fmt(template: str, values: Any) -> list[str]:
        return [template.format(v) for v in values.tolist()]

    days = rng.integers(-20_000, 12_000, m)
    births = [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in days]
    stamps = rng.integers(1_600_000_000, 1_760_000_000, m)
    cn = _pick(rng, FAMILY, m) + _pick(rng, GIVEN, m) + _pick(rng, GIVEN, m)
    latin = _pick(rng, LATIN_FAMILY, m) + " " + _pick(rng, LATIN_GIVEN, m)
    mobiles = fmt("13{:09d}", rng.integers(0, 10**9, m))
    if layout == "crm":
        return {
            "source_record_id": fmt("CB-{:012x}", ids * 7919 + 12345),
            "family_name": _pick(rng, FAMILY, m).tolist(),
            "given_name": (_pick(rng, GIVEN, m) + _pick(rng, GIVEN, m)).tolist(),
            "english_name": np.where(rng.random(m) < 0.3, _pick(rng, ENGLISH, m), "").tolist(),
            "gender": _pick(rng, ["M", "F"], m).tolist(),
            "birth_date": [b.isoformat() for b in births],
            "id_type": _pick(rng, ["resident_id", "hkid", "passport"], m).tolist(),
            "id_number_hash": [hashlib.sha256(str(i).encode()).hexdigest() for i in ids.tolist()],
            "mobile": ["+86" + x for x in mobiles],
            "email": fmt("user{}@example.cn", ids),
            "address": fmt("上海市浦东新区世纪大道{}号", ids % 2000),
            "updated_at": [
                dt.datetime.fromtimestamp(int(s), dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
                for s in stamps
            ],
        }
    if layout == "branch":
        branch = _pick(rng, BRANCHES, m)
        kind = rng.random(m)
        names = np.where(kind < 0.6, cn, latin)
        names = np.where(
            (kind >= 0.6) & (kind < 0.75), names + ", " + _pick(rng, ENGLISH, m), names
        )
        hk = fmt("9{:07d}", rng.integers(0, 10**7, m))
        gb = fmt("07700 {:06d}", rng.integers(0, 10**6, m))
        sg = fmt("8{:07d}", rng.integers(0, 10**7, m))
        phone = np.where(branch == "Hong Kong", hk, mobiles)
        phone = np.where(branch == "London", gb, phone)
        phone = np.where(branch == "Singapore", sg, phone)
        phone = np.where(rng.random(m) < 0.005, "138-CALL-NOW", phone)
        birthday = [b.strftime("%d/%m/%Y") for b in births]
        bad_day = rng.random(m) < 0.005
        birthday = np.where(bad_day, "31/02/1990", np.array(birthday, dtype=object))
        return {
            "member_no": fmt("BL-{:010d}", ids),
            "member_name": names.tolist(),
            "sex": _pick(rng, ["M", "F"], m).tolist(),
            "birthday": birthday.tolist(),
            "home_branch": branch.tolist(),
            "mobile": phone.tolist(),
            "Email": fmt("Member.{}@Example.COM", ids),
            "card_no": fmt("88{:010d}", ids),
            "last_update": [
                dt.datetime.fromtimestamp(int(s), dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
                for s in stamps
            ],
        }
    started = [dt.datetime.fromtimestamp(int(s), dt.UTC) for s in stamps]
    handle = rng.gamma(2.0, 200.0, m).round(1)
    return {
        "source_system": _pick(rng, ["web", "cti", "branch"], m).tolist(),
        "source_record_id": fmt("IX-{:010d}", ids),
        "customer_ref": fmt("CB-{:012x}", rng.integers(0, 10**6, m) * 7919 + 12345),
        "channel": _pick(rng, CHANNELS, m).tolist(),
        "touchpoint": _pick(rng, ["balance enquiry", "card dispute", "address change"], m).tolist(),
        "stage": _pick(rng, STAGES, m).tolist(),
        "started_at": [s.strftime("%Y-%m-%d %H:%M:%S.%fZ") for s in started],
        "ended_at": [
            (s + dt.timedelta(seconds=float(h))).strftime("%Y-%m-%d %H:%M:%S.%fZ")
            for s, h in zip(started, handle.tolist(), strict=True)
        ],
        "wait_seconds": [str(x) for x in rng.exponential(40.0, m).round(1).tolist()],
        "handle_seconds": [str(x) for x in handle.tolist()],
        "outcome": _pick(rng, ["resolved", "unresolved", "transferred"], m).tolist(),
        "team": _pick(rng, ["Digital chat (CN)", "Contact centre (HK)", "Branch (SH)"], m).tolist(),
    }


def _child(layout: str, home: str, warm: str, path: str, mapping: str, out: Any) -> None:
    """Warm up, then time an import and a re-import; send the figures to the parent."""
    from cxo.imports.mapping import load_mapping
    from cxo.imports.service import run_import
    from cxo.settings import Settings
    from cxo.store.bootstrap import init_store

    settings = Settings(
        home=Path(home),
        database_url=None,
        secret_key="benchmark-secret-key-0123456789",
        _env_file=None,  # type: ignore[call-arg]
    )
    init_store(settings)
    m = load_mapping(Path(mapping))
    kind = KINDS[layout]
    t0 = time.perf_counter()
    run_import(settings, kind=kind, path=Path(warm), source="warm", actor="bench", mapping=m)
    warm_s = time.perf_counter() - t0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    first = run_import(settings, kind=kind, path=Path(path), source=None, actor="bench", mapping=m)
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = run_import(settings, kind=kind, path=Path(path), source=None, actor="bench", mapping=m)
    again_s = time.perf_counter() - t0
    out.send(
        {
            "warm_s": warm_s,
            "first_s": first_s,
            "again_s": again_s,
            "read": first.read,
            "accepted": first.accepted,
            "quarantined": first.quarantined,
            "duplicates_again": again.duplicates,
            "rss_mib_before": rss_before / 1024,
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def run(layout: str, rows: int, folder: Path) -> dict[str, Any]:
    data, warm = folder / f"{layout}.csv", folder / f"{layout}-warm.csv"
    mapping = folder / f"{layout}.yaml"
    mapping.write_text(MAPPINGS[layout], encoding="utf-8")
    t0 = time.perf_counter()
    generate(layout, rows, data)
    generate(layout, 1000, warm, seed=1, first_id=10**9)
    print(
        f"{layout}: generated {rows:,} rows ({data.stat().st_size / 2**20:,.0f} MiB) in "
        f"{time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    home = folder / f"home-{layout}"
    proc = ctx.Process(
        target=_child, args=(layout, str(home), str(warm), str(data), str(mapping), child)
    )
    proc.start()
    while not parent.poll(1):
        if not proc.is_alive():
            raise SystemExit(f"{layout}: the import process failed (exit code {proc.exitcode})")
    result = parent.recv()
    proc.join()
    result["mib"] = data.stat().st_size / 2**20
    return result


def formats(rows: int, folder: Path) -> None:
    """The crm layout in every format, imported in this process after a warm-up."""
    import json

    import openpyxl
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from cxo.imports.mapping import load_mapping
    from cxo.imports.service import run_import
    from cxo.settings import Settings
    from cxo.store.bootstrap import init_store

    generate("crm", rows, folder / "crm.csv")
    generate("crm", 1000, folder / "warm.csv", seed=1, first_id=10**9)
    table = pacsv.read_csv(
        folder / "crm.csv",
        convert_options=pacsv.ConvertOptions(
            column_types={f.name: pa.string() for f in _schema("crm")}
        ),
    )
    pq.write_table(table, folder / "crm.parquet")
    records = table.to_pylist()
    with (folder / "crm.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(table.column_names)
    for r in records:
        sheet.append(list(r.values()))
    book.save(folder / "crm.xlsx")
    text = (folder / "crm.csv").read_bytes().decode("utf-8")
    (folder / "crm-gb18030.csv").write_bytes(text.encode("gb18030"))
    (folder / "crm.yaml").write_text(MAPPINGS["crm"], encoding="utf-8")
    settings = Settings(
        home=folder / "home-formats",
        database_url=None,
        secret_key="benchmark-secret-key-0123456789",
        _env_file=None,  # type: ignore[call-arg]
    )
    init_store(settings)
    m = load_mapping(folder / "crm.yaml")
    run_import(
        settings, kind="customers", path=folder / "warm.csv", source="w", actor="b", mapping=m
    )
    print("| format | rows | seconds | rows/s |")
    print("|---|---|---|---|")
    names = ["crm.csv", "crm-gb18030.csv", "crm.parquet", "crm.jsonl", "crm.xlsx"]
    for i, name in enumerate(names):
        t0 = time.perf_counter()
        r = run_import(
            settings, kind="customers", path=folder / name, source=f"s{i}", actor="b", mapping=m
        )
        seconds = time.perf_counter() - t0
        print(
            f"| {name} ({r.encoding or r.file_format}) | {r.read:,} | {seconds:.1f} | "
            f"{r.read / seconds:,.0f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--layouts", nargs="+", default=["crm", "branch", "interactions"], choices=list(MAPPINGS)
    )
    parser.add_argument("--formats", action="store_true", help="Compare the file formats instead.")
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    if args.formats:
        with tempfile.TemporaryDirectory(prefix="cxo-bench-formats-") as tmp:
            formats(args.rows, Path(tmp))
        return
    results = {}
    with tempfile.TemporaryDirectory(prefix="cxo-bench-imports-") as tmp:
        for layout in args.layouts:
            results[layout] = r = run(layout, args.rows, Path(tmp))
            print(
                f"{layout}: import {r['first_s']:.1f} s ({r['read'] / r['first_s']:,.0f} rows/s), "
                f"re-import {r['again_s']:.1f} s, warm-up {r['warm_s']:.1f} s, "
                f"peak RSS {r['rss_mib']:,.0f} MiB (after warm-up {r['rss_mib_before']:,.0f})",
                flush=True,
            )
    print()
    print(
        "| date | layout | rows | MiB | import s | rows/s | re-import s | quarantined | peak RSS MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    today = dt.date.today().isoformat()
    for layout, r in results.items():
        print(
            f"| {today} | {layout} | {r['read']:,} | {r['mib']:,.0f} | {r['first_s']:.1f} | "
            f"{r['read'] / r['first_s']:,.0f} | {r['again_s']:.1f} | {r['quarantined']:,} | "
            f"{r['rss_mib']:,.0f} |"
        )


if __name__ == "__main__":
    main()
