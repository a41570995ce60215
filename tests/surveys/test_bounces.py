"""Bounce processing: realistic bounces (Postfix, Exchange, qmail, Exim, Gmail, a Chinese provider
in base64) built around the e-mails cxo really sent through a local SMTP server, in an mbox and a
Maildir; hard bounces mark invitations, soft ones are counted, a second run changes nothing, and no
input — random bytes included — stops a run or breaks the counts."""

from __future__ import annotations

import base64
import datetime as dt
import io
from email.message import Message
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cxo.errors import CxoError
from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.store.tables import audit_log, customers, invitations
from cxo.surveys import service
from cxo.surveys.bounces import (
    MAX_MESSAGE_BYTES,
    MAX_UPLOAD_BYTES,
    BounceReport,
    MailboxTooLarge,
    apply,
    classify,
    process,
    read_mailbox,
    read_stream,
    sort_messages,
    sort_upload,
)
from cxo.surveys.distribute import Audience, WaveCreate, WaveSummary, create_wave
from cxo.surveys.fieldwork import fieldwork
from cxo.surveys.mailer import SUPPRESSED, send_invitations
from cxo.surveys.suppress import add_suppression, list_suppressions, remove_suppression
from cxo.web.app import create_app
from tests.surveys.conftest import Sink
from tests.surveys.test_definition import GOOD
from tests.surveys.test_distribute import SECRET, T0, _mail_settings
from tests.web.conftest import (  # noqa: F401
    client,
    csrf_of,
    login_as,
    token_for,
    web_store,
    web_template,
)

DATA = Path(__file__).parent / "data" / "bounces"
PEOPLE = {  # who gets which bounce
    "postfix": "ada@example.hk",
    "delayed": "bo@corp.example.com",
    "qmail": "cy@mail.example.net",
    "exim": "di@example.org",
    "gmail": "ed@gmail.example",
    "qq": "fang@qq.example",
    "fine": "gu@example.cn",
}


def _send(settings: Settings, sink: Sink) -> dict[str, tuple[int, Message]]:
    """Seven customers invited by e-mail at T0; their invitation ids and the messages sent."""
    with connect(settings, write=True) as conn:
        service.create_survey(conn, text=GOOD, actor="t", now=T0)
        service.set_state(conn, code="branch_visit", state="live", actor="t", now=T0)
        for n, email in enumerate(PEOPLE.values()):
            conn.execute(
                customers.insert().values(
                    display_name=f"Customer {n}",
                    email=email,
                    locale="zh_CN" if email.endswith((".cn", "qq.example")) else "en",
                    segment="bt",
                    created_at=T0,
                    updated_at=T0,
                )
            )
        create_wave(
            conn,
            data=WaveCreate(survey_code="branch_visit", name="Q4", audience=Audience(segment="bt")),
            secret=SECRET,
            cap_days=30,
            default_expiry_days=14,
            actor="lin",
            now=T0,
        )
    assert send_invitations(settings, now=T0, reminders=False).sent == len(PEOPLE)
    with connect(settings) as conn:
        ids = dict(
            conn.execute(
                sa.select(customers.c.email, invitations.c.id).join(
                    customers, customers.c.id == invitations.c.customer_id
                )
            ).all()
        )
    return {key: (int(ids[email]), sink.to(email)[0]) for key, email in PEOPLE.items()}


def _render(name: str, to: str, original: Message | None) -> bytes:
    text = (DATA / name).read_text(encoding="utf-8")
    raw = original.as_bytes().decode("utf-8") if original is not None else ""
    headers = raw.split("\n\n", 1)[0]
    values = {
        "{{TO}}": to,
        "{{MSGID}}": str(original["Message-ID"]) if original is not None else "",
        "{{HEADERS}}": headers + "\n",
        "{{ORIGINAL}}": raw,
    }
    if "{{BODY}}" in text:
        body = _render(name.replace(".eml", ".txt"), to, original)
        encoded = base64.encodebytes(body).decode("ascii")
        text = text.replace("{{BODY}}", encoded)
    for key, value in values.items():
        text = text.replace(key, value)
    return text.encode("utf-8")


GARBAGE = b"\x00\x9f\x92\x96 not an e-mail \xff\xfe\x00\x01\n\x89PNG\r\n\x1a\n" * 20


def _messages(sent: dict[str, tuple[int, Message]]) -> list[bytes]:
    def r(name: str, key: str) -> bytes:
        return _render(name, PEOPLE[key], sent[key][1])

    return [
        r("postfix_hard.eml", "postfix"),  # hard, marked
        r("exchange_delayed.eml", "delayed"),  # soft
        r("qmail_failure.eml", "qmail"),  # hard, marked (reference in the quoted original)
        _render("exim_no_reference.eml", PEOPLE["exim"], None),  # hard, matched by address
        _render("unknown_recipient.eml", "stranger@example.org", None),  # unmatched
        r("out_of_office.eml", "fine"),  # not a bounce (quotes our Message-ID)
        r("delivered_report.eml", "fine"),  # not a bounce
        GARBAGE,  # unreadable
        r("postfix_hard.eml", "postfix"),  # the same bounce again: already marked
        r("gmail_hard.eml", "gmail"),  # hard, but the link was opened: left alone
        r("qq_style_base64.eml", "qq"),  # hard, marked (reference inside base64)
        r("arf_complaint.eml", "fine"),  # a spam complaint (RFC 5965 feedback report)
    ]


def _mbox(messages: list[bytes]) -> bytes:
    out = io.BytesIO()
    for m in messages:
        out.write(b"From MAILER-DAEMON Mon Nov  2 09:30:00 2026\n")
        for line in m.rstrip(b"\n").split(b"\n"):
            # mboxrd: quote body lines that would look like a separator
            out.write((b">" + line if line.lstrip(b">").startswith(b"From ") else line) + b"\n")
        out.write(b"\n")
    return out.getvalue()


EXPECTED = {
    "read": 12,
    "hard": 6,
    "marked": 4,
    "already": 1,
    "kept": 1,
    "soft": 1,
    "complaints": 1,
    "unmatched": 1,
    "not_bounce": 2,
    "unreadable": 1,
    "suppressed": 5,  # the four hard-bounced addresses and the complaint's
}


def _counts(report: BounceReport) -> dict[str, int]:
    assert report.reconciles()
    return {k: getattr(report, k) for k in EXPECTED}


def _snapshot(settings: Settings) -> list[tuple[object, ...]]:
    with connect(settings) as conn:
        rows = conn.execute(
            sa.select(
                invitations.c.id,
                invitations.c.status,
                invitations.c.error,
                invitations.c.bounced_at,
                invitations.c.delivered_at,
            ).order_by(invitations.c.id)
        )
        return [tuple(r) for r in rows]


@pytest.fixture
def mailed(any_store: Settings, smtp_sink: Sink) -> tuple[Settings, dict[str, tuple[int, Message]]]:
    s = _mail_settings(any_store, smtp_sink)
    sent = _send(s, smtp_sink)
    with connect(s, write=True) as conn:  # the gmail customer opened the link before it bounced
        conn.execute(
            invitations.update()
            .where(invitations.c.id == sent["gmail"][0])
            .values(opened_at=T0 + dt.timedelta(minutes=1))
        )
    return s, sent


def test_an_mbox_of_realistic_bounces(
    mailed: tuple[Settings, dict[str, tuple[int, Message]]], tmp_path: Path
) -> None:
    settings, sent = mailed
    path = tmp_path / "bounces.mbox"
    path.write_bytes(_mbox(_messages(sent)))
    now = T0 + dt.timedelta(hours=2)
    with connect(settings, write=True) as conn:
        report = process(conn, read_mailbox(path), secret=SECRET, actor="lin", now=now)
    assert _counts(report) == EXPECTED
    assert report.problems and report.problems[0][0] == "#8"
    with connect(settings) as conn:
        rows = {
            int(r.id): r
            for r in conn.execute(
                sa.select(
                    invitations.c.id,
                    invitations.c.status,
                    invitations.c.error,
                    invitations.c.bounced_at,
                )
            )
        }
        fw = fieldwork(conn, "branch_visit")
    status = {key: rows[inv].status for key, (inv, _msg) in sent.items()}
    assert status == {
        "postfix": "bounced",
        "delayed": "sent",
        "qmail": "bounced",
        "exim": "bounced",
        "gmail": "sent",
        "qq": "bounced",
        "fine": "sent",
    }
    postfix = rows[sent["postfix"][0]]
    assert postfix.error.startswith("5.1.1 550 5.1.1") and "User unknown" in postfix.error
    assert "disabled" in rows[sent["exim"][0]].error
    bounced_at = postfix.bounced_at
    bounced_at = bounced_at if bounced_at.tzinfo else bounced_at.replace(tzinfo=dt.UTC)
    assert bounced_at == dt.datetime(2026, 11, 2, 9, 0, 5, tzinfo=dt.UTC)  # the report's date
    t = fw.total
    assert (t.invited, t.sent, t.bounced, t.delivered, t.failed) == (7, 7, 4, 3, 0)
    # The same mailbox again changes nothing (and audits nothing).
    before = _snapshot(settings)
    with connect(settings) as conn:
        audits = conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one()
    with connect(settings, write=True) as conn:
        again = process(conn, read_mailbox(path), secret=SECRET, actor="lin", now=now)
    assert _counts(again) == {**EXPECTED, "marked": 0, "already": 5, "suppressed": 0}
    assert _snapshot(settings) == before
    with connect(settings) as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one() == audits
        )


def test_a_maildir_and_a_single_message(store: Settings, smtp_sink: Sink, tmp_path: Path) -> None:
    settings = _mail_settings(store, smtp_sink)
    sent = _send(settings, smtp_sink)
    with connect(settings, write=True) as conn:
        conn.execute(
            invitations.update()
            .where(invitations.c.id == sent["gmail"][0])
            .values(opened_at=T0 + dt.timedelta(minutes=1))
        )
    maildir = tmp_path / "Bounces"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for n, m in enumerate(_messages(sent)):
        folder = "new" if n % 2 else "cur"
        (maildir / folder / f"17936{n:05d}.M{n}P1.mx:2,S").write_bytes(m)
    (maildir / "tmp" / "being-written").write_bytes(b"From: half")  # ignored
    (maildir / "cur" / ".hidden").write_bytes(b"ignored")
    (maildir / "new" / "empty").write_bytes(b"")
    with connect(settings, write=True) as conn:
        report = process(conn, read_mailbox(maildir), secret=SECRET, actor="lin")
    assert _counts(report) == {**EXPECTED, "read": 13, "unreadable": 2}
    assert ("empty", "empty message") in report.problems
    # One exported message on its own (not an mbox): the duplicate is already marked.
    single = tmp_path / "bounce.eml"
    single.write_bytes(_messages(sent)[0])
    with connect(settings, write=True) as conn:
        one = process(conn, read_mailbox(single), secret=SECRET, actor="lin")
    assert (one.read, one.hard, one.already, one.marked) == (1, 1, 1, 0)


def test_the_mbox_reader(tmp_path: Path) -> None:
    def split(data: bytes) -> list[bytes | None]:
        return [m.data for m in read_stream(io.BytesIO(data))]

    two = (
        b"From a@b Mon Nov  2 09:00:00 2026\nSubject: one\n\nHello,\nFrom what we can tell\n"
        b">From the top\n\nFrom b@c Mon Nov  2 09:01:00 2026\nSubject: two\n\nbody\n"
    )
    first, second = split(two)
    assert first is not None and b"From what we can tell" in first
    assert b"\nFrom the top" in first  # mboxrd quoting undone
    assert second is not None and second.startswith(b"Subject: two")
    assert split(b"") == []
    huge = b"From x Mon Nov  2 09:00:00 2026\nSubject: big\n\n" + b"y" * (MAX_MESSAGE_BYTES + 10)
    assert [m.problem for m in read_stream(io.BytesIO(huge + b"\n\n" + two))] == [
        "larger than 10 MB",
        None,
        None,
    ]
    assert split(b"no newline at all " * 10_000)[0] is not None  # one message, not an mbox
    assert sort_upload(two).report.read == 2
    with pytest.raises(MailboxTooLarge, match="larger than"):
        sort_upload(b"y" * (MAX_UPLOAD_BYTES + 1))
    with pytest.raises(Exception, match="No file or folder"):
        list(read_mailbox(tmp_path / "missing"))


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "unreadable"),
        (b"   \n\n", "unreadable"),
        (b"\x00" * 100, "unreadable"),
        (b"Subject: hi\n\nhello", "none"),
        (b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x", "none"),
        (
            b"From: MAILER-DAEMON@x\nSubject: failure notice\n\n<a@b.c>:\nSorry, no mailbox here.\n",
            "soft",  # no code and no permanent wording: counted, nothing changes
        ),
        (
            b"From: MAILER-DAEMON@x\nSubject: Returned mail\nContent-Type: multipart/mixed; "
            b"boundary=b\n\n"
            + b"--b\nContent-Type: multipart/mixed; boundary=b\n\n" * 3000
            + b"--b--\n",
            None,  # a nesting bomb: any verdict, but no exception
        ),
        (
            b"Content-Type: multipart/report; report-type=feedback-report; boundary=x\n\n--x--",
            "none",
        ),
        (
            b"Subject: =?utf-8?B?!!!?=\nFrom: =?x-unknown?Q?a?= <postmaster@x>\n\n550 5.1.1 gone",
            "hard",
        ),
    ],
)
def test_classify_never_raises(data: bytes, kind: str | None) -> None:
    notice = classify(data)
    assert notice.kind in ("hard", "soft", "complaint", "none", "unreadable")
    if kind is not None:
        assert notice.kind == kind


# Pieces that make random input look like mail, so the parser's deeper paths get exercised.
PIECES = [
    b"From MAILER-DAEMON Mon Nov  2 09:00:00 2026\n",
    b"From ",
    b"\n",
    b"\r\n",
    b"Subject: Undelivered Mail Returned to Sender\n",
    b"From: MAILER-DAEMON@x\n",
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n',
    b"Content-Type: message/delivery-status\n",
    b"Content-Transfer-Encoding: base64\n",
    b"--b\n",
    b"--b--\n",
    b"Final-Recipient: rfc822; a@example.com\n",
    b"Action: failed\n",
    b"Status: 5.1.1\n",
    b"Status: 4.4.7\n",
    b"X-Cxo-Invitation: AAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
    b"X-Failed-Recipients: a@example.com\n",
    b"=?utf-8?b?5L2g5aW9?=",
    b"\xff\xfe\x00",
]


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=200)), max_size=60),
)
def test_random_mailboxes_never_crash_and_counts_reconcile(
    store: Settings, parts: list[bytes]
) -> None:
    data = b"".join(parts)
    found = sort_messages(read_stream(io.BytesIO(data)))
    kinds = found.report.unreadable + found.report.not_bounce + len(found.bounces)
    assert kinds == found.report.read
    with connect(store, write=True) as conn:
        report = apply(conn, found, secret=SECRET, actor="fuzz")
    assert report.reconciles()
    assert report.marked == 0  # no invitation exists in this store


def test_bounces_over_the_api(
    web_store: Settings,  # noqa: F811
    smtp_sink: Sink,
    token_for,  # noqa: F811
) -> None:
    settings = _mail_settings(web_store, smtp_sink)
    sent = _send(settings, smtp_sink)
    body = _mbox(_messages(sent))
    analyst = {"Authorization": f"Bearer {token_for('analyst', 'surveys:write')}"}
    viewer = {"Authorization": f"Bearer {token_for('viewer', 'surveys:read')}"}
    mbox = {"content-type": "application/mbox"}
    with TestClient(create_app(web_store)) as client:  # noqa: F811
        url = "/api/v1/survey-bounces"
        assert client.post(url, content=body, headers={**viewer, **mbox}).status_code == 403
        r = client.post(url, content=body, headers={**analyst, **mbox})
        assert r.status_code == 200, r.text
        result = r.json()
        # Nobody opened a link in this store, so the gmail bounce marks its invitation too.
        assert {k: result[k] for k in EXPECTED} == {
            **EXPECTED,
            "marked": 5,
            "kept": 0,
            "suppressed": 6,
        }
        assert result["problems"] == [{"message": "#8", "reason": "no e-mail headers"}]
        again = client.post(url, content=body, headers={**analyst, **mbox}).json()
        assert (again["marked"], again["already"]) == (0, 6)
        big = client.post(url, content=b"x" * (10 * 1024 * 1024 + 1), headers={**analyst, **mbox})
        assert big.status_code == 413
        listed = client.get("/api/v1/survey-suppressions", headers=analyst).json()
        assert listed["total"] == 6
        assert {i["reason"] for i in listed["items"]} == {"hard_bounce", "complaint"}
        supp = "/api/v1/survey-suppressions"
        assert client.get(supp, headers=viewer).status_code == 403
        assert client.post(supp, json={"email": "x@y.z"}, headers=viewer).status_code == 403
        added = client.post(supp, json={"email": " X@Y.Z "}, headers=analyst)
        assert added.status_code == 201 and added.json()["email"] == "x@y.z"
        assert added.json()["reason"] == "analyst"
        assert client.post(supp, json={"email": "x@y.z"}, headers=analyst).status_code == 200
        assert client.post(supp, json={"email": "x y"}, headers=analyst).status_code == 400
        assert client.delete(f"{supp}/x@y.z", headers=viewer).status_code == 403
        assert client.delete(f"{supp}/x@y.z", headers=analyst).status_code == 204
        assert client.delete(f"{supp}/x@y.z", headers=analyst).status_code == 404


def test_bounces_cli(store: Settings, smtp_sink: Sink, tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from cxo.surveys import cli

    settings = _mail_settings(store, smtp_sink)
    sent = _send(settings, smtp_sink)
    path = tmp_path / "bounces.mbox"
    path.write_bytes(_mbox(_messages(sent)))
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    result = CliRunner().invoke(cli.app, ["bounces", str(path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Read 12 messages: 6 hard bounces (5 invitations marked bounced" in text
    assert "1 spam complaints" in text and "6 addresses added to the suppression list" in text
    assert "#8: no e-mail headers" in text
    missing = CliRunner().invoke(cli.app, ["bounces", str(tmp_path / "nope")])
    assert missing.exit_code != 0
    listed = " ".join(CliRunner().invoke(cli.app, ["suppressions"]).output.split())
    assert "Suppressed addresses: 6" in listed and PEOPLE["fine"] in listed
    assert "spam complaint" in listed
    added = CliRunner().invoke(cli.app, ["suppress", "Someone@Example.com"])
    assert "someone@example.com is on the suppression list" in added.output
    again = CliRunner().invoke(cli.app, ["suppress", "someone@example.com"])
    assert "already on the suppression list" in again.output
    gone = CliRunner().invoke(cli.app, ["unsuppress", "someone@example.com"])
    assert "off the suppression list" in gone.output
    bad = CliRunner().invoke(cli.app, ["suppress", "nope"])
    assert bad.exit_code != 0 and "not an e-mail address" in str(bad.exception)


def test_suppressed_addresses_are_not_mailed_again(
    mailed: tuple[Settings, dict[str, tuple[int, Message]]], tmp_path: Path
) -> None:
    settings, sent = mailed

    def wave(name: str) -> WaveSummary:
        with connect(settings, write=True) as conn:
            return create_wave(
                conn,
                data=WaveCreate(
                    survey_code="branch_visit", name=name, audience=Audience(segment="bt")
                ),
                secret=SECRET,
                cap_days=0,
                default_expiry_days=14,
                actor="lin",
                now=T0 + dt.timedelta(days=1),
            )

    queued_before = wave("queued before the bounces came back")
    assert queued_before.queued == 7
    path = tmp_path / "bounces.mbox"
    path.write_bytes(_mbox(_messages(sent)))
    with connect(settings, write=True) as conn:
        process(
            conn, read_mailbox(path), secret=SECRET, actor="lin", now=T0 + dt.timedelta(hours=2)
        )
        total, listed = list_suppressions(conn)
    assert total == 5
    reasons = {e.email: e.reason for e in listed}
    assert reasons[PEOPLE["fine"]] == "complaint" and reasons[PEOPLE["postfix"]] == "hard_bounce"
    assert PEOPLE["gmail"] not in reasons  # its link was opened: delivered somewhere after all
    after = wave("after the bounces")
    assert (after.queued, after.undeliverable) == (2, 5)
    # The queued invitations of suppressed addresses are withheld, not sent.
    mail = send_invitations(settings, now=T0 + dt.timedelta(days=1), reminders=False)
    assert (mail.sent, mail.undeliverable, mail.failed) == (4, 5, 0)
    with connect(settings) as conn:
        errors = (
            conn.execute(
                sa.select(invitations.c.error).where(
                    invitations.c.wave_id == queued_before.wave_id, invitations.c.status == "failed"
                )
            )
            .scalars()
            .all()
        )
    assert errors == [SUPPRESSED] * 5
    # A new address, or an analyst taking the address off the list, makes a customer mailable.
    with connect(settings, write=True) as conn:
        conn.execute(
            customers.update()
            .where(customers.c.email == PEOPLE["fine"])
            .values(email="gu.new@example.cn")
        )
        assert remove_suppression(conn, email=" ADA@example.hk ", actor="lin") is not None
        assert remove_suppression(conn, email="nobody@example.hk", actor="lin") is None
        with pytest.raises(CxoError, match="not an e-mail address"):
            add_suppression(conn, email="not an address", actor="lin")
        actions = conn.execute(sa.select(audit_log.c.action)).scalars().all()
    assert "survey.unsuppress" in actions
    assert wave("later").undeliverable == 3


def test_the_deliverability_page(
    web_store: Settings,  # noqa: F811
    smtp_sink: Sink,
    login_as,  # noqa: F811
) -> None:
    settings = _mail_settings(web_store, smtp_sink)
    sent = _send(settings, smtp_sink)
    page = "/surveys/deliverability"
    v = login_as("viewer")
    assert v.get(page).status_code == 403
    v.cookies.clear()
    c = login_as("analyst")
    first = c.get(page)
    assert first.status_code == 200 and "No address is on the suppression list" in first.text
    assert "/surveys/deliverability" in c.get("/surveys").text
    r = c.post(
        f"{page}/bounces",
        files={"file": ("bounces.mbox", _mbox(_messages(sent)), "application/mbox")},
        data={"csrf_token": csrf_of(c, page)},
    )
    assert r.status_code == 200, r.text
    text = " ".join(r.text.split())
    assert "Read 12 messages: 6 hard bounces" in text and "1 spam complaints" in text
    assert PEOPLE["qmail"] in text and "#8: no e-mail headers" in text
    c.cookies.set("cxo_lang", "zh_CN")
    zh = c.get(page).text
    assert "邮件送达" in zh and "屏蔽名单" in zh and "硬退信" in zh and "垃圾邮件投诉" in zh
    c.cookies.delete("cxo_lang")
    # no CSRF token: refused
    assert c.post(f"{page}/suppress", data={"email": "a@b.c"}).status_code == 403

    def form(path: str, **data: object) -> int:
        data["csrf_token"] = csrf_of(c, page)
        return c.post(f"{page}/{path}", data=data, follow_redirects=False).status_code

    assert form("suppress", email="Someone@Example.com") == 303
    assert "someone@example.com" in c.get(page).text
    assert form("unsuppress", email="someone@example.com") == 303
    assert "someone@example.com" not in c.get(page).text
    bad = c.post(f"{page}/suppress", data={"email": "nope", "csrf_token": csrf_of(c, page)})
    assert bad.status_code == 400 and "not an e-mail address" in bad.text
    with connect(settings) as conn:
        someone = int(conn.execute(sa.select(sa.func.min(customers.c.id))).scalar_one())
    assert form("opt-out", customer_id=someone, reason="asked by phone") == 303
    assert "asked by phone" in c.get(page).text
    assert form("opt-in", customer_id=someone) == 303
    assert "asked by phone" not in c.get(page).text
    assert form("opt-out", customer_id=10**9) == 404
    with connect(settings) as conn:
        actions = conn.execute(sa.select(audit_log.c.action)).scalars().all()
    assert {"survey.suppress", "survey.unsuppress", "survey.opt_out", "survey.opt_in"} <= set(
        actions
    )
