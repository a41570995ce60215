"""Surveys in the store: versions, the life cycle, responses keeping their version (DuckDB and
PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from cxo.errors import Conflict, NotFound
from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.store.tables import audit_log, invitations
from cxo.surveys import respond, service
from cxo.surveys.states import STATES, TRANSITIONS, plan_transition
from tests.surveys.test_definition import GOOD

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def _actions(conn: sa.Connection) -> list[str]:
    return list(conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.id)).scalars())


def test_versions_and_life_cycle(any_store: Settings) -> None:
    with connect(any_store, write=True) as conn:
        s = service.create_survey(conn, text=GOOD, actor="lin", now=T0)
        assert (s.version, s.state, s.created_by) == (1, "draft", "lin")
        with pytest.raises(Conflict, match="exists already"):
            service.create_survey(conn, text=GOOD, actor="lin")
        # Editing a draft replaces it.
        s = service.update_survey(conn, text=GOOD.replace("Why?", "Why not?"), actor="lin")
        assert s.version == 1 and "Why not?" in str(s.compiled)
        s = service.set_state(conn, code="branch_visit", state="live", actor="lin", now=T0)
        assert s.state == "live" and s.published_at is not None
        # Editing a live survey makes a new draft; v1 stays live until v2 is published.
        s2 = service.update_survey(conn, text=GOOD, actor="lin")
        assert (s2.version, s2.state) == (2, "draft")
        assert service.get_survey(conn, "branch_visit", 1).state == "live"
        service.set_state(conn, code="branch_visit", state="live", actor="lin")
        assert service.get_survey(conn, "branch_visit", 1).state == "closed"
        assert service.get_survey(conn, "branch_visit").state == "live"
        with pytest.raises(Conflict, match="replaced by version 2"):
            service.set_state(conn, code="branch_visit", state="live", version=1, actor="lin")
        with pytest.raises(Conflict, match="cannot become"):
            service.set_state(conn, code="branch_visit", state="draft", actor="lin")
        listed = service.list_surveys(conn)
        assert [(x.code, x.version, x.versions) for x in listed] == [("branch_visit", 2, 2)]
        with pytest.raises(NotFound):
            service.get_survey(conn, "nope")
        assert _actions(conn) == [
            "survey.create",
            "survey.edit_draft",
            "survey.publish",
            "survey.new_version",
            "survey.publish",
        ]


def test_answers_keep_the_version_they_were_given_on(any_store: Settings) -> None:
    with connect(any_store, write=True) as conn:
        service.create_survey(conn, text=GOOD, actor="lin")
        service.set_state(conn, code="branch_visit", state="live", actor="lin")
        v1 = service.get_survey(conn, "branch_visit").id
        token = respond.new_token()
        conn.execute(
            invitations.insert().values(
                survey_id=v1,
                token_hash=respond.token_hash(token),
                channel="email",
                sent_at=T0,
                expires_at=T0 + dt.timedelta(days=3650),
                status="sent",
                created_at=T0,
            )
        )
        s = respond.open_invitation(conn, token)
        assert s.survey_version == 1 and not s.stored  # opening alone stores no response
        page0 = {f"servqual_importance.sq{c}": ["6"] for c in ("01", "05", "11")}
        page0 |= {f"servqual_performance.sq{c}": ["4"] for c in ("01", "05", "11")}
        r = respond.save_page(conn, s, page=0, form=page0, action="save")
        assert r.session.stored and r.session.page == 0
        # v2 goes live while the respondent is on page 1 of v1
        service.update_survey(conn, text=GOOD.replace("Why?", "Why, v2?"), actor="lin")
        service.set_state(conn, code="branch_visit", state="live", actor="lin")
        s = respond.open_invitation(conn, token)
        assert s.survey_version == 1 and s.answers[("sq05", "performance")] == 4.0
        page0["nps"] = ["3"]
        r = respond.save_page(conn, s, page=0, form=page0)
        assert not r.errors and r.session.page == 1
        r = respond.save_page(conn, r.session, page=1, form={"reason": ["2"], "comment": ["慢"]})
        assert r.session.done
        assert r.session.answers[("reason", "single")] == 2.0
        assert r.session.answers[("comment", "single")] == "慢"
        assert service.get_survey(conn, "branch_visit", 1).completed == 1
        assert service.get_survey(conn, "branch_visit", 2).completed == 0
        used = conn.execute(sa.select(invitations.c.used_at, invitations.c.opened_at)).one()
        assert used.used_at is not None and used.opened_at is not None


def test_export_round_trips_through_update(store: Settings) -> None:
    with connect(store, write=True) as conn:
        service.create_survey(conn, text=GOOD, actor="lin")
        for fmt in ("yaml", "json"):
            text = service.export_survey(conn, "branch_visit", fmt=fmt)
            again = service.update_survey(conn, text=text, actor="lin")
            assert again.spec == service.get_survey(conn, "branch_visit", 1).spec
        compiled = service.export_survey(conn, "branch_visit", fmt="json", compiled_form=True)
        assert '"servqual_importance"' in compiled


@given(st.sampled_from(STATES), st.sampled_from(STATES))
def test_the_life_cycle_only_allows_declared_transitions(prev: str, new: str) -> None:
    if (prev, new) in TRANSITIONS:
        assert plan_transition(prev, new) == TRANSITIONS[(prev, new)]
    else:
        with pytest.raises(Conflict):
            plan_transition(prev, new)
