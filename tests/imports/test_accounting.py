"""Property: every row of a file is accepted, a duplicate or quarantined (with its row number),
and importing the same file again changes nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxo.imports.mapping import parse_mapping
from cxo.imports.service import quarantine_rows, run_import
from cxo.settings import Settings
from tests.imports.conftest import snapshot
from tests.imports.helpers import write_csv

PROPERTY = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

interaction_rows = st.lists(
    st.tuples(
        st.sampled_from(["I0", "I1", "I2", "I3"]),
        st.sampled_from(["phone", "Web", "fax"]),
        st.sampled_from(["2025-01-01 10:00", "2025-01-01T10:00:00Z", "2025-13-01", ""]),
        st.sampled_from(["", "1.5", "x"]),
    ),
    min_size=1,
    max_size=25,
)


def _interaction_oracle(rows: list[tuple[str, str, str, str]]) -> tuple[int, int, set[int]]:
    """(accepted, duplicates, quarantined row numbers) for a fresh source."""
    first: dict[str, tuple[str, str, str]] = {}
    accepted = duplicates = 0
    quarantined: set[int] = set()
    for number, (key, channel, started, wait) in enumerate(rows, start=1):
        if channel == "fax" or started in ("", "2025-13-01") or wait == "x":
            quarantined.add(number)
            continue
        # Both timestamp spellings are the same instant; channels compare case-insensitively.
        content = (channel.lower(), "2025-01-01T10:00", wait)
        if key not in first:
            first[key] = content
            accepted += 1
        elif first[key] == content:
            duplicates += 1
        else:
            quarantined.add(number)
    return accepted, duplicates, quarantined


@PROPERTY
@given(rows=interaction_rows)
def test_interaction_rows_are_all_accounted_for(
    any_store: Settings, tmp_path: Path, rows: list[tuple[str, str, str, str]]
) -> None:
    source = f"s{uuid.uuid4().hex[:8]}"
    path = write_csv(
        tmp_path / f"{source}.csv",
        ["source_record_id", "channel", "started_at", "wait_seconds"],
        [[k, c, t, w] for k, c, t, w in rows],
    )
    mapping = parse_mapping({"columns": {"stage": {"value": "service"}}})
    accepted, duplicates, quarantined = _interaction_oracle(rows)
    s = run_import(
        any_store, kind="interactions", path=path, source=source, actor="t", mapping=mapping
    )
    assert s.read == s.accepted + s.quarantined + s.duplicates == len(rows)
    assert (s.accepted, s.duplicates) == (accepted, duplicates)
    assert {q.row_number for q in quarantine_rows(any_store, s.import_id)} == quarantined
    assert s.quarantined == len(quarantined)
    before = snapshot(any_store)
    again = run_import(
        any_store, kind="interactions", path=path, source=source, actor="t", mapping=mapping
    )
    assert again.accepted == 0
    assert again.read == again.quarantined + again.duplicates
    assert {q.row_number for q in quarantine_rows(any_store, again.import_id)} == quarantined
    assert snapshot(any_store) == before


customer_rows = st.lists(
    st.tuples(
        st.sampled_from(["C0", "C1", "C2", " C2 ", ""]),
        st.sampled_from(["a@x.cn", "B@x.cn", "bad", ""]),
        st.sampled_from(["+8613812345678", "13812345678", "tel-abc", ""]),
    ),
    min_size=1,
    max_size=25,
)


@PROPERTY
@given(rows=customer_rows)
def test_customer_rows_are_all_accounted_for(
    any_store: Settings, tmp_path: Path, rows: list[tuple[str, str, str]]
) -> None:
    source = f"s{uuid.uuid4().hex[:8]}"
    path = write_csv(
        tmp_path / f"{source}.csv",
        ["source_record_id", "email", "phone", "country"],
        [[k, e, p, "CN"] for k, e, p in rows],
    )
    quarantined = {
        n
        for n, (key, email, phone) in enumerate(rows, start=1)
        if not key.strip() or email == "bad" or phone == "tel-abc"
    }
    good = [r for n, r in enumerate(rows, start=1) if n not in quarantined]
    keys = {k.strip() for k, _, _ in good}
    s = run_import(any_store, kind="customers", path=path, source=source, actor="t")
    assert s.read == s.accepted + s.quarantined + s.duplicates == len(rows)
    assert (s.accepted, s.updated, s.duplicates) == (len(keys), 0, len(good) - len(keys))
    assert {q.row_number for q in quarantine_rows(any_store, s.import_id)} == quarantined
    before = snapshot(any_store)
    again = run_import(any_store, kind="customers", path=path, source=source, actor="t")
    assert (again.accepted, again.duplicates, again.quarantined) == (0, len(good), len(quarantined))
    assert snapshot(any_store) == before
