"""Merge staged survey answers (long format) into surveys, responses and answers.

A response is identified by (source system, response id); its header fields (customer, survey,
locale, started and completed times) come from its first row in the file. Every row is one answer:

- rows of a response whose header fields differ from the response's first row, or whose response
  is already stored with different header fields: ``conflict``;
- a survey code not in the store yet: the survey is created (version 1, closed, no definition);
- an answer (item, scale) equal to a stored one or to an earlier row of the file: duplicate;
  with a different value: ``conflict``; otherwise inserted (accepted).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cxo.imports.writers import (
    ANSWER_VALUE,
    KEY,
    NOW,
    RESPONSE_HEADER,
    MergeCounts,
    Stage,
    _exec,
    _scalar,
    conflict_rows,
    differs_sql,
    same_sql,
)
from cxo.surveys.models import surveys


def _ensure_surveys(stage: Stage, now: dt.datetime) -> None:
    conn = stage.conn
    codes = [
        row[0]
        for row in conn.execute(sa.text(f"SELECT DISTINCT survey FROM {stage.name}"))  # noqa: S608
        if row[0] is not None
    ]
    known = set(conn.execute(sa.select(surveys.c.code).where(surveys.c.code.in_(codes))).scalars())
    for code in sorted(set(codes) - known):
        conn.execute(
            surveys.insert().values(
                code=code,
                version=1,
                title={"en": code, "zh_CN": code},
                definition={},
                state="closed",
                created_at=now,
                updated_at=now,
            )
        )


def merge_responses(stage: Stage, *, import_id: int, now: dt.datetime) -> MergeCounts:
    conn, s = stage.conn, stage.name
    _ensure_surveys(stage, now)
    key = " AND ".join(f"{{a}}.{k} = {{b}}.{k}" for k in KEY)
    # The latest version of each survey code.
    survey = stage.temp(
        "survey",
        "SELECT code, id FROM surveys s WHERE version = "
        "(SELECT max(version) FROM surveys v WHERE v.code = s.code)",
    )
    head = stage.temp(
        "head",
        f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY source_system, "  # noqa: S608
        f"source_record_id ORDER BY src_row) AS k FROM {s}) r WHERE k = 1",
    )
    stored = stage.temp(
        "stored",
        f"SELECT p.id, p.source_system, p.source_record_id, p.customer_record_id, "  # noqa: S608
        f"v.code AS survey, p.locale, p.started_at, p.completed_at "
        f"FROM responses p JOIN surveys v ON v.id = p.survey_id "
        f"JOIN {head} h ON {key.format(a='p', b='h')}",
    )
    header = RESPONSE_HEADER
    checked = stage.temp(
        "checked",
        f"SELECT x.src_row, h.src_row AS head_row, t.id AS stored_id, "  # noqa: S608
        f"{differs_sql('x', 'h', header)} AS head_diff, "
        f"CASE WHEN t.id IS NOT NULL THEN {differs_sql('h', 't', header)} ELSE '' END "
        f"AS stored_diff FROM {s} x JOIN {head} h ON {key.format(a='h', b='x')} "
        f"LEFT JOIN {stored} t ON {key.format(a='t', b='h')}",
    )
    cols = "source_system, source_record_id, customer_record_id, locale, started_at, completed_at"
    _exec(
        conn,
        f"INSERT INTO responses (survey_id, {cols}, created_at) "  # noqa: S608
        f"SELECT sv.id, {', '.join('h.' + c.strip() for c in cols.split(','))}, {NOW} "
        f"FROM {head} h JOIN {survey} sv ON sv.code = h.survey "
        f"WHERE NOT EXISTS (SELECT 1 FROM {stored} t WHERE {key.format(a='t', b='h')})",
        now=now,
    )
    answer_key = "r.response_id = {b}.response_id AND r.item_code = {b}.item_code " \
        "AND r.scale IS NOT DISTINCT FROM {b}.scale"  # fmt: skip
    outcome = stage.temp(
        "outcome",
        f"WITH r AS (SELECT x.src_row, x.item_code, x.scale, x.value_num, x.value_text, "  # noqa: S608
        f"p.id AS response_id, c.head_row, c.head_diff, c.stored_diff, "
        f"row_number() OVER (PARTITION BY p.id, x.item_code, x.scale "
        f"ORDER BY CASE WHEN c.head_diff = '' AND c.stored_diff = '' THEN 0 ELSE 1 END, "
        f"x.src_row) AS k "
        f"FROM {s} x JOIN {checked} c ON c.src_row = x.src_row "
        f"JOIN responses p ON {key.format(a='p', b='x')}) "
        f"SELECT r.src_row, r.k, r.head_row, r.head_diff, r.stored_diff, f.src_row AS first_row, "
        f"CASE WHEN r.stored_diff <> '' OR r.head_diff <> '' THEN 'conflict' "
        f"WHEN EXISTS (SELECT 1 FROM answers a WHERE {answer_key.format(b='a')} "
        f"AND {same_sql('r', 'a', ANSWER_VALUE)}) THEN 'duplicate' "
        f"WHEN EXISTS (SELECT 1 FROM answers a WHERE {answer_key.format(b='a')}) THEN 'conflict' "
        f"WHEN r.k = 1 THEN 'new' "
        f"WHEN {same_sql('r', 'f', ANSWER_VALUE)} THEN 'duplicate' ELSE 'conflict' END "
        f"AS outcome "
        f"FROM r LEFT JOIN r f ON {answer_key.format(b='f')} AND f.k = 1 AND r.k > 1",
    )
    accepted = _exec(
        conn,
        "INSERT INTO answers (response_id, item_code, scale, value_num, value_text, created_at) "  # noqa: S608
        f"SELECT p.id, x.item_code, x.scale, x.value_num, x.value_text, {NOW} FROM {s} x "
        f"JOIN {outcome} o ON o.src_row = x.src_row "
        f"JOIN responses p ON {key.format(a='p', b='x')} WHERE o.outcome = 'new'",
        now=now,
    )
    detail = (
        "'response ' || s.source_record_id || CASE "
        "WHEN o.stored_diff <> '' THEN ' is already stored with a different ' || o.stored_diff "
        "WHEN o.head_diff <> '' THEN ' differs from its row ' || CAST(o.head_row AS VARCHAR) "
        "|| ' in ' || o.head_diff "
        "WHEN o.first_row IS NOT NULL THEN ', item ' || s.item_code || ': a different answer "
        "than row ' || CAST(o.first_row AS VARCHAR) "
        "ELSE ', item ' || s.item_code || ': a different answer is already stored' END"
    )
    conflicts = conflict_rows(stage, outcome, detail)
    duplicates = int(
        _scalar(conn, f"SELECT count(*) FROM {outcome} WHERE outcome = 'duplicate'")  # noqa: S608
    )
    in_file = int(
        _scalar(
            conn,
            f"SELECT count(*) FROM {outcome} WHERE outcome = 'duplicate' AND k > 1",  # noqa: S608
        )
    )
    return MergeCounts(
        accepted=accepted, duplicates=duplicates, duplicates_in_file=in_file, conflicts=conflicts
    )
