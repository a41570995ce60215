"""Distribution: waves, single-use expiring tokens, SMTP e-mail with reminders, the contact cap,
triggered surveys and the fieldwork monitor (a real SMTP server: aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from cxo.errors import Conflict, CxoError
from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.store.tables import customers, interactions, invitations
from cxo.surveys import respond, service
from cxo.surveys.distribute import (
    Audience,
    TriggerCreate,
    WaveCreate,
    create_trigger,
    create_wave,
    run_triggers,
)
from cxo.surveys.fieldwork import fieldwork
from cxo.surveys.mailer import send_invitations
from tests.conftest import make_settings
from tests.surveys.conftest import Sink
from tests.surveys.test_definition import GOOD

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
SECRET = b"test-secret-key-0123456789abcdef"  # as tests.conftest.make_settings
LINK = re.compile(r"(/s/[A-Za-z0-9_-]{16,64})")


def _seed(settings: Settings) -> dict[str, int]:
    people = [
        ("陈小明", "xm@example.cn", "zh_CN", "affluent"),
        ("Peter Chan", "peter@example.hk", "en", "affluent"),
        ("No Mail", None, "en", "affluent"),
        ("王伟", "bounce@example.cn", "zh_CN", "affluent"),
        ("Mass Person", "mass@example.com", "en", "mass"),
    ]
    ids = {}
    with connect(settings, write=True) as conn:
        service.create_survey(conn, text=GOOD, actor="t", now=T0)
        service.set_state(conn, code="branch_visit", state="live", actor="t", now=T0)
        for name, email, locale, segment in people:
            ids[name] = conn.execute(
                customers.insert()
                .values(
                    display_name=name,
                    email=email,
                    locale=locale,
                    segment=segment,
                    created_at=T0,
                    updated_at=T0,
                )
                .returning(customers.c.id)
            ).scalar_one()
    return ids


def _mail_settings(store: Settings, sink: Sink, **kw: object) -> Settings:
    return make_settings(
        store.home,
        store.database_url,
        smtp_host=sink.host,
        smtp_port=sink.port,
        public_url="https://cx.example.com",
        **kw,
    )


def _wave(
    settings: Settings, *, now: dt.datetime, segment: str = "affluent", **kw: object
) -> object:
    with connect(settings, write=True) as conn:
        return create_wave(
            conn,
            data=WaveCreate(
                survey_code="branch_visit",
                name="Q4",
                audience=Audience(segment=segment),
                reminder_days=3,
                max_reminders=1,
                **kw,  # type: ignore[arg-type]
            ),
            secret=SECRET,
            cap_days=30,
            default_expiry_days=14,
            actor="lin",
            now=now,
        )


def test_wave_e_mail_reminder_cap_and_fieldwork(any_store: Settings, smtp_sink: Sink) -> None:
    settings = _mail_settings(any_store, smtp_sink)
    ids = _seed(settings)
    smtp_sink.refuse.add("bounce@example.cn")
    wave = _wave(settings, now=T0)
    assert (wave.selected, wave.queued, wave.no_email, wave.capped) == (4, 3, 1, 0)  # type: ignore[attr-defined]
    sent = send_invitations(settings, now=T0)
    assert (sent.sent, sent.failed, sent.reminders) == (2, 1, 0)
    chinese = smtp_sink.to("xm@example.cn")[0]
    assert "请告诉我们" in str(chinese["Subject"]) or "体验" in str(chinese["Subject"])
    english = smtp_sink.to("peter@example.hk")[0]
    body = english.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "https://cx.example.com/s/" in body and "Dear Peter Chan" in body
    token = LINK.search(body).group(1).split("/")[-1]  # type: ignore[union-attr]
    # The contact cap: a second wave a week later leaves everyone contacted out.
    again = _wave(settings, now=T0 + dt.timedelta(days=7))
    assert (again.queued, again.capped) == (0, 3)  # type: ignore[attr-defined]
    # Nothing is sent twice.
    assert send_invitations(settings, now=T0 + dt.timedelta(days=1)).sent == 0
    # Peter opens and answers; 陈小明 does not and gets exactly one reminder after three days.
    with connect(settings, write=True) as conn:
        s = respond.open_invitation(conn, token, now=T0 + dt.timedelta(days=1))
        form = {
            f"servqual_{sc}.sq{c}": ["5"]
            for sc in ("importance", "performance")
            for c in ("01", "05", "11")
        }
        form["nps"] = ["9"]
        s = respond.save_page(conn, s, page=0, form=form, now=T0 + dt.timedelta(days=1)).session
        respond.save_page(conn, s, page=1, form={}, now=T0 + dt.timedelta(days=1))
    assert send_invitations(settings, now=T0 + dt.timedelta(days=2)).reminders == 0
    r = send_invitations(settings, now=T0 + dt.timedelta(days=4))
    assert r.reminders == 1 and len(smtp_sink.to("xm@example.cn")) == 2
    assert "提醒" in str(smtp_sink.to("xm@example.cn")[1]["Subject"])
    assert send_invitations(settings, now=T0 + dt.timedelta(days=9)).reminders == 0  # max 1
    assert smtp_sink.to("peter@example.hk").__len__() == 1
    # The same link twice: the respondent sees the thank-you, nothing new is stored.
    with connect(settings, write=True) as conn:
        assert respond.open_invitation(conn, token).done
        fw = fieldwork(conn, "branch_visit", by="segment")
        failed = conn.execute(
            sa.select(invitations.c.status, invitations.c.error).where(
                invitations.c.customer_id == ids["王伟"]
            )
        ).one()
    assert failed.status == "failed" and "550" in failed.error
    t = fw.total
    assert (t.invited, t.sent, t.delivered, t.failed, t.opened, t.started, t.completed) == (
        3,
        2,
        2,
        1,
        1,
        1,
        1,
    )
    assert t.response_rate == pytest.approx(0.5)
    assert [d.completed for d in fw.days if d.completed] == [1]
    # Expired links refuse new starts.
    with connect(settings, write=True) as conn:
        from cxo.surveys.distribute import invitation_token

        inv = conn.execute(
            sa.select(invitations.c.id).where(invitations.c.customer_id == ids["陈小明"])
        ).scalar_one()
        with pytest.raises(respond.LinkGone):
            respond.open_invitation(
                conn, invitation_token(SECRET, inv), now=T0 + dt.timedelta(days=15)
            )


def test_a_long_run_composes_ahead_in_a_second_process(
    store: Settings, smtp_sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run of several batches composes the next batch in a composer process while it sends
    the current one: every invitation goes out once, with the message the run would have
    composed itself (same links, headers and language), refused and suppressed addresses are
    told apart, and opted-out customers are left out."""
    from cxo.surveys import mailer

    monkeypatch.setattr(mailer, "BATCH", 4)
    pools: list[object] = []
    real = mailer.ProcessPoolExecutor

    def counted(*args: object, **kw: object) -> object:
        pools.append(real(*args, **kw))  # type: ignore[arg-type]
        return pools[-1]

    monkeypatch.setattr(mailer, "ProcessPoolExecutor", counted)
    settings = _mail_settings(store, smtp_sink)
    with connect(settings, write=True) as conn:
        service.create_survey(conn, text=GOOD, actor="t", now=T0)
        service.set_state(conn, code="branch_visit", state="live", actor="t", now=T0)
        for i in range(11):
            conn.execute(
                customers.insert().values(
                    display_name=f"客户{i}" if i % 2 else f"C{i}",
                    email=f"c{i}@example.com",
                    locale="zh_CN" if i % 2 else "en",
                    segment="affluent",
                    created_at=T0,
                    updated_at=T0,
                )
            )
    smtp_sink.refuse.add("c7@example.com")
    _wave(settings, now=T0)
    summary = send_invitations(settings, now=T0, reminders=False)
    assert (summary.sent, summary.failed) == (10, 1)
    assert len(smtp_sink.messages) == 10
    assert len(pools) == 1  # three batches: the second and third composed in the other process
    with connect(settings) as conn:
        rows = conn.execute(
            sa.select(invitations.c.id, customers.c.email, invitations.c.status).join(
                customers, invitations.c.customer_id == customers.c.id
            )
        ).all()
    assert {r.email: r.status for r in rows}["c7@example.com"] == "failed"
    assert sum(r.status == "sent" for r in rows) == 10
    for r in rows:
        if r.status != "sent":
            continue
        (got,) = smtp_sink.to(r.email)
        body = got.get_body(("plain",)).get_content()
        assert f"/s/{mailer.invitation_token(SECRET, int(r.id))}" in body
        assert got["X-Cxo-Invitation"] == mailer.bounce_ref(SECRET, int(r.id))
        odd = int(r.email[1:].split("@")[0]) % 2
        assert ("您好" in body) == bool(odd)  # each customer's own language


def test_waves_need_a_live_survey_and_an_audience(store: Settings) -> None:
    _seed(store)
    with connect(store, write=True) as conn:
        service.set_state(conn, code="branch_visit", state="closed", actor="t")
    with pytest.raises(Conflict, match="not live"):
        _wave(store, now=T0)
    with connect(store, write=True) as conn:
        service.set_state(conn, code="branch_visit", state="live", actor="t")
        with pytest.raises(CxoError, match="segment or a list"):
            create_wave(
                conn,
                data=WaveCreate(survey_code="branch_visit", name="x", audience=Audience()),
                secret=SECRET,
                cap_days=0,
                default_expiry_days=14,
                actor="t",
            )
        wave = create_wave(
            conn,
            data=WaveCreate(
                survey_code="branch_visit",
                name="list",
                audience=Audience(customer_ids=[1, 2, 999_999]),
            ),
            secret=SECRET,
            cap_days=0,
            default_expiry_days=14,
            actor="t",
        )
    assert wave.unknown == 1


def test_unreachable_smtp_is_one_clear_error(store: Settings) -> None:
    settings = make_settings(store.home, smtp_host="127.0.0.1", smtp_port=1)
    with pytest.raises(CxoError, match="Cannot reach the SMTP server"):
        send_invitations(settings)


def test_triggered_survey_after_a_resolved_call(store: Settings, smtp_sink: Sink) -> None:
    settings = _mail_settings(store, smtp_sink)
    ids = _seed(settings)

    def call(cid: int, at: dt.datetime, outcome: str = "resolved", channel: str = "phone") -> None:
        with connect(settings, write=True) as conn:
            conn.execute(
                interactions.insert().values(
                    customer_id=cid,
                    channel=channel,
                    stage="service",
                    started_at=at,
                    outcome=outcome,
                    created_at=at,
                )
            )

    call(ids["陈小明"], T0 - dt.timedelta(days=1))  # before the trigger: never surveyed
    with connect(settings, write=True) as conn:
        create_trigger(
            conn,
            data=TriggerCreate(
                survey_code="branch_visit", channel="phone", outcome="resolved", delay_hours=2
            ),
            actor="lin",
            now=T0,
        )
    call(ids["Peter Chan"], T0 + dt.timedelta(hours=1))
    call(ids["Mass Person"], T0 + dt.timedelta(hours=1), outcome="abandoned")
    call(ids["Peter Chan"], T0 + dt.timedelta(hours=1, minutes=5))  # same customer again
    call(ids["陈小明"], T0 + dt.timedelta(hours=5))  # not yet due at T0+4h
    with connect(settings, write=True) as conn:
        runs = run_triggers(
            conn, secret=SECRET, cap_days=30, expiry_days=7, now=T0 + dt.timedelta(hours=4)
        )
    assert (runs[0].matched, runs[0].queued, runs[0].capped, runs[0].waiting) == (2, 1, 1, 1)
    with connect(settings, write=True) as conn:
        runs = run_triggers(
            conn, secret=SECRET, cap_days=30, expiry_days=7, now=T0 + dt.timedelta(hours=8)
        )
    assert (runs[0].matched, runs[0].queued) == (1, 1)
    assert send_invitations(settings, now=T0 + dt.timedelta(hours=8)).sent == 2
    with connect(settings) as conn:
        fw = fieldwork(conn, "branch_visit", by="channel")
    assert [(r.key, r.sent) for r in fw.rows] == [("trigger", 2)]


def test_triggered_survey_after_a_resolved_case(store: Settings, smtp_sink: Sink) -> None:
    from cxo.store.tables import cases

    settings = _mail_settings(store, smtp_sink)
    ids = _seed(settings)
    with connect(settings, write=True) as conn:
        create_trigger(
            conn,
            data=TriggerCreate(
                survey_code="branch_visit", source="case", outcome="resolved", delay_hours=1
            ),
            actor="lin",
            now=T0,
        )

    def case(cid: int, closed: dt.datetime | None, status: str) -> None:
        with connect(settings, write=True) as conn:
            conn.execute(
                cases.insert().values(
                    customer_id=cid,
                    title="Card blocked",
                    status=status,
                    closed_at=closed,
                    created_at=T0 - dt.timedelta(days=2),
                    updated_at=T0,
                )
            )

    case(ids["Peter Chan"], T0 + dt.timedelta(hours=2), "resolved")
    case(ids["陈小明"], None, "open")  # still open: no survey
    case(ids["Mass Person"], T0 + dt.timedelta(hours=2), "rejected")  # other status
    case(ids["王伟"], T0 - dt.timedelta(hours=5), "resolved")  # closed before the trigger
    with connect(settings, write=True) as conn:
        first = run_triggers(
            conn,
            secret=SECRET,
            cap_days=30,
            expiry_days=7,
            now=T0 + dt.timedelta(hours=2, minutes=30),
        )
        second = run_triggers(
            conn, secret=SECRET, cap_days=30, expiry_days=7, now=T0 + dt.timedelta(hours=4)
        )
        third = run_triggers(
            conn, secret=SECRET, cap_days=30, expiry_days=7, now=T0 + dt.timedelta(hours=6)
        )
    assert (first[0].queued, first[0].waiting) == (0, 1)  # the one-hour delay has not passed
    assert (second[0].matched, second[0].queued) == (1, 1)
    assert third[0].matched == 0  # nothing twice
    with connect(settings) as conn:
        invited = conn.execute(sa.select(invitations.c.customer_id, invitations.c.channel)).all()
    assert [(r.customer_id, r.channel) for r in invited] == [(ids["Peter Chan"], "trigger")]
