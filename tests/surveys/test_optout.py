"""Opting out of survey e-mail: the unsubscribe link and RFC 8058 headers in every e-mail, the
confirmation page (GET changes nothing, POST opts out), one-click POST without cookies, bad tokens,
analysts' opt-outs and opt-ins, and waves, triggers and reminders leaving opted-out customers out
(a real SMTP server: aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from cxo.errors import NotFound
from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.store.tables import audit_log, customers, interactions, invitations, survey_optouts
from cxo.surveys.distribute import (
    TriggerCreate,
    bounce_ref,
    create_trigger,
    invitation_token,
    open_sealed,
    opted_out_ids,
    optout_token,
    run_triggers,
)
from cxo.surveys.fieldwork import fieldwork
from cxo.surveys.mailer import send_invitations
from cxo.surveys.optout import add_optout, list_optouts, opt_out_by_link, remove_optout
from cxo.web.app import create_app
from tests.surveys.conftest import Sink
from tests.surveys.test_distribute import SECRET, T0, _mail_settings, _seed, _wave
from tests.web.conftest import CSRF_RE, token_for, web_store, web_template  # noqa: F401

UNSUB = re.compile(r"https://cx\.example\.com/s/u/([A-Za-z0-9_-]{27})")


def _invitation(settings: Settings, customer_id: int) -> int:
    with connect(settings) as conn:
        return int(
            conn.execute(
                sa.select(sa.func.max(invitations.c.id)).where(
                    invitations.c.customer_id == customer_id
                )
            ).scalar_one()
        )


def _statuses(settings: Settings) -> dict[int, str]:
    with connect(settings) as conn:
        rows = conn.execute(sa.select(invitations.c.customer_id, invitations.c.status)).all()
    return {int(r.customer_id): r.status for r in rows}


def _check_headers(msg: Message, settings: Settings, invitation_id: int) -> str:
    """The unsubscribe link in the headers and both bodies; returns its token."""
    header = str(msg["List-Unsubscribe"])
    m = re.fullmatch(r"<(https://cx\.example\.com/s/u/([A-Za-z0-9_-]{27}))>", header)
    assert m, header
    url, token = m.group(1), m.group(2)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert url in plain and f'href="{url}"' in html
    # The token names the invitation, sealed: neither its id nor the customer's shows.
    assert open_sealed(SECRET, "optout", token) == invitation_id
    assert open_sealed(SECRET, "bounce", token) is None
    assert token != invitation_token(SECRET, invitation_id)
    ref = bounce_ref(SECRET, invitation_id)
    assert msg["X-Cxo-Invitation"] == ref and f".{ref}@" in str(msg["Message-ID"])
    return token


def test_every_e_mail_carries_the_unsubscribe_link_and_headers(
    any_store: Settings, smtp_sink: Sink
) -> None:
    settings = _mail_settings(any_store, smtp_sink)
    ids = _seed(settings)
    _wave(settings, now=T0)
    assert send_invitations(settings, now=T0).sent == 3
    english = smtp_sink.to("peter@example.hk")[0]
    chinese = smtp_sink.to("xm@example.cn")[0]
    assert english["Content-Language"] == "en" and chinese["Content-Language"] == "zh-CN"
    peter = _check_headers(english, settings, _invitation(settings, ids["Peter Chan"]))
    _check_headers(chinese, settings, _invitation(settings, ids["陈小明"]))
    # Reminders carry the same link.
    assert send_invitations(settings, now=T0 + dt.timedelta(days=4)).reminders == 3
    reminder = smtp_sink.to("peter@example.hk")[1]
    assert _check_headers(reminder, settings, _invitation(settings, ids["Peter Chan"])) == peter
    assert _check_headers(
        smtp_sink.to("xm@example.cn")[1], settings, _invitation(settings, ids["陈小明"])
    )


# --- the page ------------------------------------------------------------------------------------


@pytest.fixture
def web(web_store: Settings) -> Iterator[tuple[Settings, dict[str, int]]]:  # noqa: F811
    ids = _seed(web_store)
    _wave(web_store, now=dt.datetime.now(dt.UTC))
    yield web_store, ids


def _link(settings: Settings, customer_id: int) -> str:
    return f"/s/u/{optout_token(SECRET, _invitation(settings, customer_id))}"


def _optouts(settings: Settings) -> list[sa.Row[object]]:
    with connect(settings) as conn:
        return list(conn.execute(sa.select(survey_optouts)))


def test_get_asks_and_changes_nothing_post_opts_out(
    web: tuple[Settings, dict[str, int]],
) -> None:
    settings, ids = web
    path = _link(settings, ids["Peter Chan"])
    with TestClient(create_app(settings)) as client:
        page = client.get(path)
        assert page.status_code == 200
        assert 'lang="en"' in page.text and "Unsubscribe" in page.text
        assert f'action="{path}"' in page.text
        client.get(path)  # a link scanner fetching it again
        assert _optouts(settings) == []
        assert _statuses(settings)[ids["Peter Chan"]] == "queued"
        # Without the form's CSRF token a plain POST is refused and changes nothing.
        refused = client.post(path, data={"reason": "too_many"})
        assert refused.status_code == 403 and _optouts(settings) == []
        token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
        done = client.post(path, data={"csrf_token": token, "reason": "too_many", "lang": "en"})
        assert done.status_code == 200 and "You are unsubscribed" in done.text
        after = client.get(path)
        assert "You are unsubscribed" in after.text and f'action="{path}"' not in after.text
        # The page speaks the customer's language; ?lang= switches it.
        zh = client.get(_link(settings, ids["陈小明"]))
        assert zh.status_code == 200 and '<html lang="zh-CN">' in zh.text
        assert '<html lang="en">' in client.get(_link(settings, ids["陈小明"]) + "?lang=en").text
    (row,) = _optouts(settings)
    assert row.customer_id == ids["Peter Chan"] and row.source == "link"
    assert row.reason == "too_many"
    assert row.invitation_id == _invitation(settings, ids["Peter Chan"])
    # The queued invitation is withheld at once; the others are untouched.
    statuses = _statuses(settings)
    assert statuses[ids["Peter Chan"]] == "opted_out" and statuses[ids["陈小明"]] == "queued"


def test_one_click_post_needs_no_cookie(web: tuple[Settings, dict[str, int]]) -> None:
    settings, ids = web
    with TestClient(create_app(settings)) as client:
        # RFC 8058: the mail provider POSTs the form body alone, without cookies.
        assert not client.cookies
        r = client.post(_link(settings, ids["Peter Chan"]), data={"List-Unsubscribe": "One-Click"})
        assert r.status_code == 200, r.text
        client.cookies.clear()
        again = client.post(
            _link(settings, ids["Peter Chan"]), data={"List-Unsubscribe": "One-Click"}
        )
        assert again.status_code == 200
        multipart = client.post(
            _link(settings, ids["陈小明"]), files={"List-Unsubscribe": (None, "One-Click")}
        )
        assert multipart.status_code == 200, multipart.text
        # Anything else without a CSRF token is refused.
        other = client.post(_link(settings, ids["王伟"]), data={"List-Unsubscribe": "Yes"})
        assert other.status_code == 403
    rows = {r.customer_id: r for r in _optouts(settings)}
    assert set(rows) == {ids["Peter Chan"], ids["陈小明"]}
    assert {r.source for r in rows.values()} == {"one_click"}


def test_bad_tokens_get_a_clear_404_page(web: tuple[Settings, dict[str, int]]) -> None:
    settings, ids = web
    good = _link(settings, ids["Peter Chan"])
    at = len("/s/u/") + 10
    tampered = good[:at] + ("A" if good[at] != "A" else "B") + good[at + 1 :]
    non_canonical = good[:-1] + chr(ord(good[-1]) ^ 1)  # the last character's spare bits
    inv = _invitation(settings, ids["Peter Chan"])
    bad = [
        tampered,
        non_canonical,
        "/s/u/" + "A" * 27,
        "/s/u/short",
        "/s/u/" + "x" * 400,
        "/s/u/" + "%E4%BD%A0%E5%A5%BD" * 3,
        "/s/u/" + bounce_ref(SECRET, inv),  # sealed for another purpose
        "/s/u/" + invitation_token(SECRET, inv),  # the survey link's token
        "/s/u/" + optout_token(b"another-secret-key-0123456789abc", inv),
        "/s/u/" + optout_token(SECRET, 10**12),  # sealed right, no such invitation
    ]
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for path in bad:
            r = client.get(path)
            assert r.status_code == 404, path
            assert "not valid" in r.text and "<form" not in r.text, path
            one_click = client.post(path, data={"List-Unsubscribe": "One-Click"})
            assert one_click.status_code == 404, path
    assert _optouts(settings) == []


def test_waves_triggers_and_reminders_leave_opted_out_customers_out(
    any_store: Settings, smtp_sink: Sink
) -> None:
    settings = _mail_settings(any_store, smtp_sink)
    ids = _seed(settings)
    with connect(settings, write=True) as conn:
        entry, created = add_optout(
            conn, customer_id=ids["王伟"], reason="asked by phone", actor="lin", now=T0
        )
        assert created and entry.source == "analyst"
        assert add_optout(conn, customer_id=ids["王伟"], reason=None, actor="lin")[1] is False
    wave = _wave(settings, now=T0)
    assert (wave.selected, wave.queued, wave.opted_out, wave.no_email) == (4, 2, 1, 1)  # type: ignore[attr-defined]
    # Peter opts out after being queued, recorded by another process between two reads: the
    # mailer checks again and withholds his invitation.
    with connect(settings, write=True) as conn:
        conn.execute(
            survey_optouts.insert().values(
                customer_id=ids["Peter Chan"], since=T0, source="analyst"
            )
        )
    sent = send_invitations(settings, now=T0)
    assert (sent.sent, sent.opted_out) == (1, 1)
    assert smtp_sink.to("peter@example.hk") == [] and len(smtp_sink.to("xm@example.cn")) == 1
    assert _statuses(settings)[ids["Peter Chan"]] == "opted_out"
    # 陈小明 unsubscribes with one click from the invitation: no reminder.
    body = smtp_sink.to("xm@example.cn")[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    token = UNSUB.search(body).group(1)  # type: ignore[union-attr]
    with connect(settings, write=True) as conn:
        opt_out_by_link(conn, secret=SECRET, token=token, one_click=True, now=T0)
    later = send_invitations(settings, now=T0 + dt.timedelta(days=4))
    assert (later.reminders, later.opted_out) == (0, 1)
    assert len(smtp_sink.to("xm@example.cn")) == 1
    with connect(settings) as conn:
        fw = fieldwork(conn, "branch_visit")
        assert opted_out_ids(conn) == {ids["王伟"], ids["Peter Chan"], ids["陈小明"]}
    t = fw.total
    assert (t.invited, t.sent, t.delivered, t.opted_out) == (2, 1, 1, 2)
    # Triggers: Mass Person is merged into Peter (opted out), so an alias's call is left out too.
    with connect(settings, write=True) as conn:
        create_trigger(
            conn,
            data=TriggerCreate(survey_code="branch_visit", channel="phone"),
            actor="lin",
            now=T0,
        )
        conn.execute(
            customers.update()
            .where(customers.c.id == ids["Mass Person"])
            .values(merged_into_id=ids["Peter Chan"])
        )
        for who in ("Mass Person", "陈小明"):
            conn.execute(
                interactions.insert().values(
                    customer_id=ids[who],
                    channel="phone",
                    stage="service",
                    started_at=T0 + dt.timedelta(hours=1),
                    created_at=T0,
                )
            )
        runs = run_triggers(
            conn, secret=SECRET, cap_days=0, expiry_days=7, now=T0 + dt.timedelta(hours=2)
        )
    assert (runs[0].matched, runs[0].queued, runs[0].opted_out) == (2, 0, 2)
    # An analyst opts 陈小明 and Peter back in (audited).
    with connect(settings, write=True) as conn:
        before = remove_optout(conn, customer_id=ids["陈小明"], actor="lin", now=T0)
        assert before is not None and before.source == "one_click"
        assert remove_optout(conn, customer_id=ids["陈小明"], actor="lin") is None
        assert remove_optout(conn, customer_id=ids["Peter Chan"], actor="lin") is not None
        with pytest.raises(NotFound):
            remove_optout(conn, customer_id=10**9, actor="lin")
        actions = list(
            conn.execute(
                sa.select(audit_log.c.action, audit_log.c.object_id).where(
                    audit_log.c.action.in_(["survey.opt_out", "survey.opt_in"])
                )
            )
        )
        total, listed = list_optouts(conn)
    assert sorted(a for a, _ in actions) == ["survey.opt_in", "survey.opt_in", "survey.opt_out"]
    assert total == 1 and [e.customer_id for e in listed] == [ids["王伟"]]
    # Peter's withheld invitation reached nobody, so the contact cap does not hold him back;
    # 陈小明 got hers at T0 and is capped.
    soon = _wave(settings, now=T0 + dt.timedelta(days=2))
    assert (soon.queued, soon.capped, soon.opted_out) == (1, 1, 1)  # type: ignore[attr-defined]


def test_the_opt_out_api(web_store: Settings, token_for) -> None:  # noqa: F811
    ids = _seed(web_store)
    analyst = {"Authorization": f"Bearer {token_for('analyst', 'surveys:write')}"}
    viewer = {"Authorization": f"Bearer {token_for('viewer', 'surveys:read')}"}
    with TestClient(create_app(web_store)) as client:
        url = "/api/v1/survey-optouts"
        body = {"customer_id": ids["Peter Chan"], "reason": "complained"}
        assert client.post(url, json=body, headers=viewer).status_code == 403
        assert client.post(url, json=body).status_code == 401
        first = client.post(url, json=body, headers=analyst)
        assert first.status_code == 201, first.text
        assert first.json()["source"] == "analyst" and first.json()["reason"] == "complained"
        assert client.post(url, json=body, headers=analyst).status_code == 200
        missing = client.post(url, json={"customer_id": 10**9}, headers=analyst)
        assert missing.status_code == 404
        listed = client.get(url, headers=analyst).json()
        assert listed["total"] == 1 and listed["items"][0]["customer_id"] == ids["Peter Chan"]
        assert client.get(url, headers=viewer).status_code == 403
        gone = client.delete(f"{url}/{ids['Peter Chan']}", headers=analyst)
        assert gone.status_code == 204
        assert client.delete(f"{url}/{ids['Peter Chan']}", headers=analyst).status_code == 404
    assert _optouts(web_store) == []


def test_opt_out_cli(store: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cxo.surveys import cli

    ids = _seed(store)
    monkeypatch.setattr(cli, "get_settings", lambda: store)
    runner = CliRunner()
    out = runner.invoke(cli.app, ["opt-out", str(ids["Peter Chan"]), "--reason", "by letter"])
    assert out.exit_code == 0, out.output
    assert "is opted out" in " ".join(out.output.split())
    again = runner.invoke(cli.app, ["opt-out", str(ids["Peter Chan"])])
    assert "since" in " ".join(again.output.split())
    listed = runner.invoke(cli.app, ["opt-outs"])
    assert listed.exit_code == 0 and "by letter" in listed.output
    back = runner.invoke(cli.app, ["opt-in", str(ids["Peter Chan"])])
    assert back.exit_code == 0 and "again" in " ".join(back.output.split())
    assert _optouts(store) == []


def test_the_fast_header_writer_changes_no_byte() -> None:
    from cxo.surveys.mailer import FAST_COMPAT32, compose
    from tests.conftest import make_settings

    s = make_settings(Path("/nonexistent"), smtp_sender="Bank Surveys <surveys@bank.example>")
    names = ["陈小明", "Peter Chan", None, "A very long customer name " * 4, "O'Brien,  Jr."]
    titles = [{"en": "After your branch visit", "zh_CN": "网点服务回访"}, {"en": "x" * 120}]
    for i, name in enumerate(names * 2):
        for title in titles:
            msg = compose(
                settings=s,
                to="someone.with.a.long.address@example-bank.com.hk",
                name=name,
                title=title,
                url=f"https://cx.example.com/s/{invitation_token(SECRET, i + 1)}",
                locale="zh_CN" if i % 2 else "en",
                expires_at=T0,
                reminder=bool(i % 3),
                unsubscribe_url=f"https://cx.example.com/s/u/{optout_token(SECRET, i + 1)}",
                ref=bounce_ref(SECRET, i + 1),
            )
            assert msg.as_string() == msg.as_string(policy=FAST_COMPAT32)
