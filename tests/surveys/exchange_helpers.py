"""A small survey with every question type, and responses written straight into the store."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.surveys.models import answers, responses, surveys
from cxo.surveys.service import create_survey

SPEC = """\
code: branch_visit
title: {en: "After your branch visit", zh_CN: "网点服务回访"}
pages:
  - questions:
      - use: servqual
        items: [sq01, sq05, sq11, sq14, sq18]
      - use: nps
      - use: loyalty
  - questions:
      - code: reason
        type: single
        text: {en: "Main reason?", zh_CN: "主要原因？"}
        options:
          - {value: 1, label: {en: "Wait", zh_CN: "等待"}}
          - {value: 2, label: {en: "Staff", zh_CN: "员工"}}
          - {value: -1, label: {en: "Other", zh_CN: "其他"}}
      - code: channels
        type: multiple
        text: {en: "Channels used", zh_CN: "使用的渠道"}
        options:
          - {value: 1, label: {en: "Branch", zh_CN: "网点"}}
          - {value: 3, label: {en: "App", zh_CN: "手机银行"}}
      - code: effort
        type: slider
        text: {en: "Effort", zh_CN: "费力程度"}
        min: 0
        max: 10
        step: 0.5
      - use: comment
"""

CODE = "branch_visit"
T0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
SQ = ["sq01", "sq05", "sq11", "sq14", "sq18"]
LOY = ["loy_repurchase", "loy_recommend", "loy_wallet", "loy_switch"]


def make_survey(settings: Settings, spec: str = SPEC) -> int:
    with connect(settings, write=True) as conn:
        create_survey(conn, text=spec, actor="test")
        return int(conn.execute(sa.select(surveys.c.id).where(surveys.c.code == CODE)).scalar_one())


def answer_set(i: int) -> dict[tuple[str, str], Any]:
    """Deterministic, varied answers for response number ``i``."""
    got: dict[tuple[str, str], Any] = {}
    for j, code in enumerate(SQ):
        got[(code, "importance")] = float(1 + (i + j) % 7)
        got[(code, "performance")] = float(1 + (i * 3 + j) % 7)
    got[("nps", "single")] = float(i % 11)
    for j, code in enumerate(LOY):
        got[(code, "single")] = float(1 + (i + 2 * j) % 7)
    got[("reason", "single")] = [1.0, 2.0, -1.0][i % 3]
    got[("channels.1", "single")] = float(i % 2)
    got[("channels.3", "single")] = float((i + 1) % 2)
    got[("effort", "single")] = (i % 21) / 2
    if i % 4 == 0:
        got[("comment", "single")] = ["=1+1 公式", '很好, "quoted"', "line\nbreak", "-x"][i % 3]
    if i % 5 == 1:
        del got[("sq05", "performance")]
    return got


def add_responses(
    settings: Settings, survey_id: int, n: int, *, start: int = 0, **extra: Any
) -> list[int]:
    """Insert ``n`` responses (with their answers) directly; return their ids."""
    ids = []
    with connect(settings, write=True) as conn:
        for i in range(start, start + n):
            values = {
                "survey_id": survey_id,
                "source_system": "web",
                "source_record_id": f"R{i:04d}",
                "customer_record_id": f"C{i:04d}",
                "locale": "zh_CN" if i % 2 else "en",
                "started_at": T0 + dt.timedelta(hours=i),
                "completed_at": T0 + dt.timedelta(hours=i, seconds=300 + i),
                "state": "completed",
                "channel": "link",
                "quality_flags": {},
                "created_at": T0,
            } | extra
            rid = int(
                conn.execute(
                    responses.insert().values(**values).returning(responses.c.id)
                ).scalar_one()
            )
            rows = [
                {
                    "response_id": rid,
                    "item_code": item,
                    "scale": scale,
                    "value_num": None if isinstance(v, str) else v,
                    "value_text": v if isinstance(v, str) else None,
                    "created_at": T0,
                }
                for (item, scale), v in answer_set(i).items()
            ]
            conn.execute(answers.insert(), rows)
            ids.append(rid)
    return ids


def stored_answers(
    settings: Settings, source: str | None = None
) -> dict[str, dict[tuple[str, str], Any]]:
    """source_record_id → {(item, scale): value} of the stored answers."""
    r, a = responses.c, answers.c
    query = sa.select(r.source_record_id, a.item_code, a.scale, a.value_num, a.value_text).join(
        answers, a.response_id == r.id
    )
    if source is not None:
        query = query.where(r.source_system == source)
    out: dict[str, dict[tuple[str, str], Any]] = {}
    with connect(settings) as conn:
        for row in conn.execute(query):
            value = row.value_text if row.value_text is not None else row.value_num
            out.setdefault(row.source_record_id, {})[(row.item_code, row.scale)] = value
    return out
