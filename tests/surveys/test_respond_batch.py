"""The respondents' batched path: many respondents' page views and submits in one transaction
give exactly what the same jobs give one at a time; errors stay with their job; the web server's
intake groups concurrent jobs and falls back to one at a time when a batch fails."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cxo.errors import NotFound
from cxo.settings import Settings
from cxo.store import engine as store_engine
from cxo.store.bootstrap import init_store
from cxo.store.engine import connect
from cxo.store.tables import answers, invitations, responses
from cxo.surveys import intake, respond, service
from tests.surveys.test_definition import GOOD

NOW = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
PAGE0_OK = {"nps": ["3"]} | {
    f"servqual_{scale}.sq{c}": [v]
    for scale, v in (("importance", "6"), ("performance", "4"))
    for c in ("01", "05", "11")
}
PAGE0_PROMOTER = PAGE0_OK | {"nps": ["9"]}  # hides page 1's "reason" question (not "comment")
PAGE0_BAD = PAGE0_OK | {"nps": ["11"], "servqual_importance.sq05": ["x"]}
PAGE1 = {"reason": ["2"], "comment": ["慢 <script>"]}
FORMS = (PAGE0_OK, PAGE0_PROMOTER, PAGE0_BAD, PAGE1, {})


def _survey(conn: sa.Connection) -> int:
    if not conn.execute(sa.text("SELECT count(*) FROM surveys")).scalar():
        service.create_survey(conn, text=GOOD, actor="lin")
        service.set_state(conn, code="branch_visit", state="live", actor="lin")
    return service.get_survey(conn, "branch_visit").id


def _invite(conn: sa.Connection, n: int, *, expires: dt.datetime | None = None) -> list[str]:
    survey_id = _survey(conn)
    tokens = [respond.new_token() for _ in range(n)]
    for token in tokens:
        conn.execute(
            invitations.insert().values(
                survey_id=survey_id,
                token_hash=respond.token_hash(token),
                channel="email",
                locale="en",
                sent_at=NOW - dt.timedelta(days=1),
                expires_at=expires or NOW + dt.timedelta(days=30),
                status="sent",
                created_at=NOW - dt.timedelta(days=1),
            )
        )
    return tokens


def _state(conn: sa.Connection, token: str) -> dict[str, Any]:
    """What the store holds for one invitation (ids and seeds left out)."""
    inv = conn.execute(
        sa.select(invitations).where(invitations.c.token_hash == respond.token_hash(token))
    ).one()
    rows = conn.execute(sa.select(responses).where(responses.c.invitation_id == inv.id)).all()
    out: dict[str, Any] = {
        "opened": inv.opened_at is not None,
        "started": inv.started_at is not None,
        "used": inv.used_at is not None,
        "responses": len(rows),
    }
    if rows:
        r = rows[0]
        given_answers = conn.execute(
            sa.select(
                answers.c.item_code, answers.c.scale, answers.c.value_num, answers.c.value_text
            )
            .where(answers.c.response_id == r.id)
            .order_by(answers.c.item_code, answers.c.scale)
        ).all()
        out |= {
            "state": r.state,
            "page": r.page,
            "locale": r.locale,
            "completed": r.completed_at is not None,
            "flags": r.quality_flags,
            "answers": [tuple(a) for a in given_answers],
        }
    return out


def _describe(out: respond.Outcome) -> Any:
    if isinstance(out, respond.SaveResult):
        s = out.session
        return ("saved", s.state, s.page, s.locale, sorted(out.errors), sorted(s.answers.items()))
    if isinstance(out, respond.Session):
        return ("session", out.state, out.page, out.locale, sorted(out.answers.items()))
    return ("error", type(out).__name__)


job_specs = st.lists(
    st.tuples(
        st.integers(0, 2),  # which respondent
        st.sampled_from(["open", "submit"]),
        st.integers(0, 1),  # page
        st.integers(0, len(FORMS) - 1),
        st.sampled_from(["next", "next", "back", "save"]),
        st.sampled_from([None, None, "zh_CN", "en"]),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(specs=job_specs)
def test_a_batch_gives_what_the_jobs_give_one_at_a_time(
    any_store: Settings, specs: list[tuple[int, str, int, int, str, str | None]]
) -> None:
    store = any_store  # PostgreSQL reads and writes with its own statements
    with connect(store, write=True) as conn:
        one_by_one = _invite(conn, 3)
        batched = _invite(conn, 3)

    def jobs(tokens: list[str]) -> list[respond.Job]:
        out: list[respond.Job] = []
        for who, kind, page, form, action, lang in specs:
            where: respond.Where = ("token", tokens[who])
            if kind == "open":
                out.append(respond.Open(where, lang))
            else:
                out.append(respond.Submit(where, page, FORMS[form], action, lang=lang))
        return out

    singles = []
    for job in jobs(one_by_one):
        with connect(store, write=True) as conn:
            singles += respond.handle(conn, [job], now=NOW)
    with connect(store, write=True) as conn:
        together = respond.handle(conn, jobs(batched), now=NOW)
    assert [_describe(o) for o in together] == [_describe(o) for o in singles]
    with connect(store) as conn:
        for a, b in zip(one_by_one, batched, strict=True):
            assert _state(conn, b) == _state(conn, a)


@pytest.mark.postgres
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(specs=job_specs, split=st.integers(0, 12))
# a page with problems, then the same page again in the next batch (answers replaced), then on
# to page 1, back, and a language switch
@example(
    specs=[
        (0, "submit", 0, 2, "next", None),
        (1, "submit", 0, 0, "save", "zh_CN"),
        (0, "submit", 0, 0, "next", None),
        (0, "submit", 1, 3, "back", None),
        (1, "open", 0, 0, "next", "en"),
        (1, "submit", 0, 1, "next", None),
        (1, "submit", 1, 3, "next", None),
    ],
    split=2,
)
def test_postgresql_statements_give_what_duckdb_gives(
    store: Settings,
    pg_url: str,
    specs: list[tuple[int, str, int, int, str, str | None]],
    split: int,
) -> None:
    """PostgreSQL reads and writes a batch with its own constant statements (arrays and JSON
    records, writable CTEs); DuckDB with its own. The same jobs, in two batches (so the second meets
    stored responses, answers to replace and responses to move on), leave the same outcomes and
    rows on both; so does opening each stored response by id."""
    pg = store.model_copy(update={"database_url": pg_url})
    init_store(pg)
    results = []
    for db in (store, pg):
        with connect(db, write=True) as conn:
            tokens = _invite(conn, 3)
        jobs: list[respond.Job] = []
        for who, kind, page, form, action, lang in specs:
            where: respond.Where = ("token", tokens[who])
            if kind == "open":
                jobs.append(respond.Open(where, lang))
            else:
                jobs.append(respond.Submit(where, page, FORMS[form], action, lang=lang))
        outcomes = []
        for part in (jobs[:split], jobs[split:]):
            if part:
                with connect(db, write=True) as conn:
                    outcomes += respond.handle(conn, part, now=NOW)
        with connect(db, write=True) as conn:
            states = [_state(conn, t) for t in tokens]
            stored = conn.execute(
                sa.select(responses.c.id)
                .join(invitations, invitations.c.id == responses.c.invitation_id)
                .where(invitations.c.token_hash.in_([respond.token_hash(t) for t in tokens]))
                .order_by(invitations.c.id)
            ).scalars()
            by_id = respond.handle(conn, [respond.Open(("response", int(r))) for r in stored])
        results.append(([_describe(o) for o in outcomes], states, [_describe(o) for o in by_id]))
    assert results[1] == results[0]


@pytest.mark.postgres
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    comment=st.text(max_size=300),
    when=st.datetimes(
        min_value=NOW.replace(tzinfo=None) - dt.timedelta(days=1),
        max_value=NOW.replace(tzinfo=None) + dt.timedelta(days=2),
        timezones=st.timezones(),
    ),
)
def test_postgresql_stores_what_the_respondent_wrote_through_json_records(
    pg_url: str, tmp_path_factory: pytest.TempPathFactory, comment: str, when: dt.datetime
) -> None:
    """The batch write sends its values as JSON: any text (quotes, backslashes, escapes, CJK,
    emoji, control characters) and a completion time in any time zone arrive as they were."""
    from tests.conftest import make_settings

    pg = make_settings(tmp_path_factory.mktemp("home"), pg_url)  # one database for all examples
    init_store(pg)
    with connect(pg, write=True) as conn:
        (token,) = _invite(conn, 1)
        respond.handle(conn, [respond.Submit(("token", token), 0, PAGE0_OK)], now=when)
    with connect(pg, write=True) as conn:
        (out,) = respond.handle(
            conn, [respond.Submit(("token", token), 1, {**PAGE1, "comment": [comment]})], now=when
        )
    assert isinstance(out, respond.SaveResult) and out.session.done
    with connect(pg) as conn:
        rid, completed = conn.execute(
            sa.select(responses.c.id, responses.c.completed_at)
            .join(invitations, invitations.c.id == responses.c.invitation_id)
            .where(invitations.c.token_hash == respond.token_hash(token))
        ).one()
        text = conn.execute(
            sa.select(answers.c.value_text).where(
                answers.c.response_id == rid, answers.c.item_code == "comment"
            )
        ).scalar()
    assert text == out.session.answers.get(("comment", "single"))
    assert completed == when


def test_a_multi_page_answer_in_one_batch_with_others(any_store: Settings) -> None:
    with connect(any_store, write=True) as conn:
        a, b, c = _invite(conn, 3)
        expired = _invite(conn, 1, expires=NOW - dt.timedelta(hours=1))[0]
        # a answered page 0 earlier; b and c are new
        respond.handle(conn, [respond.Submit(("token", a), 0, PAGE0_OK)], now=NOW)
    with connect(any_store, write=True) as conn:
        out = respond.handle(
            conn,
            [
                respond.Open(("token", b)),
                respond.Submit(("token", a), 1, PAGE1),  # completes a
                respond.Submit(("token", b), 0, PAGE0_PROMOTER),  # b goes on to page 1
                respond.Submit(("token", b), 0, PAGE0_OK),  # a double submit: changes nothing
                respond.Submit(("token", "no-such-token-0123456789"), 0, PAGE0_OK),
                respond.Submit(("token", expired), 0, PAGE0_OK),
                respond.Submit(("token", c), 0, PAGE0_BAD),  # errors; valid answers kept
                respond.Submit(("token", c), 0, PAGE0_OK, action="save"),
            ],
            now=NOW,
        )
    kinds = [_describe(o)[0:2] for o in out]
    assert kinds[:4] == [
        ("session", "new"),
        ("saved", "completed"),
        ("saved", "in_progress"),
        ("saved", "in_progress"),
    ]
    assert isinstance(out[4], NotFound) and isinstance(out[5], respond.LinkGone)
    assert isinstance(out[6], respond.SaveResult) and set(out[6].errors) == {
        "nps",
        "servqual_importance.sq05",
    }
    assert isinstance(out[7], respond.SaveResult) and not out[7].errors
    for o in (out[1], out[2], out[7]):
        assert isinstance(o, respond.SaveResult) and o.session.response_id > 0
    with connect(any_store) as conn:
        sa_ = _state(conn, a)
        assert (sa_["state"], sa_["used"], sa_["responses"]) == ("completed", True, 1)
        assert ("comment", "single", None, "慢 <script>") in sa_["answers"]
        assert ("reason", "single", 2.0, None) in sa_["answers"]
        sb = _state(conn, b)
        assert (sb["state"], sb["page"], sb["responses"]) == ("in_progress", 1, 1)
        assert ("nps", "single", 9.0, None) in sb["answers"]  # the double submit changed nothing
        sc = _state(conn, c)
        assert (sc["state"], sc["page"], sc["completed"]) == ("in_progress", 0, False)
        assert ("nps", "single", 3.0, None) in sc["answers"]
        assert _state(conn, expired) == {
            "opened": False,
            "started": False,
            "used": False,
            "responses": 0,
        }


def test_the_intake_groups_concurrent_respondents(store: Settings) -> None:
    with connect(store, write=True) as conn:
        tokens = _invite(conn, 30)
    queue = intake.Intake(store)
    # Hold the store's write lock while the respondents queue up, as a busy writer would.
    hold, release = threading.Event(), threading.Event()

    def busy() -> None:
        with connect(store, write=True):
            hold.set()
            release.wait(10)

    blocker = threading.Thread(target=busy)
    blocker.start()
    hold.wait(5)

    async def run() -> list[respond.Outcome]:
        tasks = [
            asyncio.ensure_future(queue.run(respond.Submit(("token", t), 0, PAGE0_PROMOTER)))
            for t in tokens
        ]
        for _ in range(500):
            await asyncio.sleep(0.01)
            if queue._queue.qsize() >= len(tokens) - 1:  # the writer holds at most one
                break
        release.set()
        return list(await asyncio.gather(*tasks))

    outcomes = asyncio.run(run())
    blocker.join()
    assert all(
        isinstance(o, respond.SaveResult) and not o.errors and o.session.page == 1 for o in outcomes
    )
    assert queue.jobs == 30 and queue.largest >= 29 and queue.batches <= 2
    for _ in range(200):  # the queue ran dry: the writer gives its connection back
        if queue._conn is None:
            break
        threading.Event().wait(0.01)
    assert queue._conn is None
    with connect(store) as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM responses")).scalar() == 30


def test_a_batch_waits_a_little_for_more_jobs(
    store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer lingers after a batch's first job, so a job that arrives just after it joins
    the same batch (and a full batch goes at once: here two jobs, with a linger that would
    otherwise outlast the test)."""
    with connect(store, write=True) as conn:
        tokens = _invite(conn, 2)
    monkeypatch.setattr(intake, "LINGER", 60.0)
    monkeypatch.setattr(intake, "MAX_BATCH", 2)
    queue = intake.Intake(store)

    async def run() -> list[respond.Outcome]:
        first = asyncio.ensure_future(queue.run(respond.Open(("token", tokens[0]))))
        for _ in range(500):  # the writer has taken the first job and waits for more
            await asyncio.sleep(0.01)
            if queue._queue.empty() and queue._thread is not None:
                break
        second = asyncio.ensure_future(queue.run(respond.Open(("token", tokens[1]))))
        return list(await asyncio.wait_for(asyncio.gather(first, second), 30))

    outcomes = asyncio.run(run())
    assert all(isinstance(o, respond.Session) for o in outcomes)
    assert queue.batches == 1 and queue.largest == 2


def test_a_failed_batch_is_retried_one_job_at_a_time(
    store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect(store, write=True) as conn:
        tokens = _invite(conn, 3)
    real = respond.handle

    def fussy(conn: sa.Connection, jobs: Any, **kw: Any) -> list[respond.Outcome]:
        if len(jobs) > 1:
            raise sa.exc.OperationalError("batch", {}, Exception("deadlock detected"))
        return real(conn, jobs, **kw)

    monkeypatch.setattr(intake, "handle", fussy)
    queue = intake.Intake(store)
    pending = [
        intake._Pending(respond.Submit(("token", t), 0, PAGE0_PROMOTER), loop, loop.create_future())
        for loop in [asyncio.new_event_loop()]
        for t in [*tokens, "not-a-real-token-000000"]
    ]
    queue._write(pending)
    loop = pending[0].loop
    loop.run_until_complete(asyncio.sleep(0))  # let the results land
    results = [p.future.result() for p in pending]
    loop.close()
    assert [type(r).__name__ for r in results] == ["SaveResult"] * 3 + ["NotFound"]
    assert queue.batches == 5  # the failed batch, then one per job
    store_engine.dispose_engines()


@pytest.mark.postgres
def test_the_postgresql_writer_keeps_its_connection_and_survives_losing_it(
    pg_url: str, tmp_path: Any
) -> None:
    from tests.conftest import make_settings

    pg = make_settings(tmp_path / "home", pg_url)
    init_store(pg)
    with connect(pg, write=True) as conn:
        tokens = _invite(conn, 3)
    queue = intake.Intake(pg)
    loop = asyncio.new_event_loop()

    def submit(token: str) -> respond.Outcome:
        p = intake._Pending(
            respond.Submit(("token", token), 0, PAGE0_OK), loop, loop.create_future()
        )
        queue._write([p])
        loop.run_until_complete(asyncio.sleep(0))
        return p.future.result()

    def backend() -> int:
        assert queue._conn is not None
        return int(queue._conn.connection.driver_connection.info.backend_pid)

    assert isinstance(submit(tokens[0]), respond.SaveResult)
    first = backend()
    assert isinstance(submit(tokens[1]), respond.SaveResult)
    assert backend() == first  # held between batches: no check-out, no ping
    with connect(pg) as conn:  # the server ends the writer's session
        conn.execute(sa.text(f"SELECT pg_terminate_backend({first})"))
    out = submit(tokens[2])
    assert isinstance(out, respond.SaveResult) and not out.errors
    assert backend() != first
    queue._release(broken=False)
    loop.close()
    with connect(pg) as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM responses")).scalar() == 3


@pytest.mark.postgres
def test_one_respondent_in_two_server_processes_gets_one_response(
    pg_url: str, tmp_path: Any
) -> None:
    """A page submitted twice at once (a double click that two server processes took): the
    second batch waits for the first one's rows, then reads what it committed, so the second
    submit is a double submit and the invitation keeps one response."""
    from tests.conftest import make_settings

    pg = make_settings(tmp_path / "home", pg_url)
    init_store(pg)
    with connect(pg, write=True) as conn:
        (token,) = _invite(conn, 1)
    engine = store_engine.get_engine(pg)
    first, second = engine.connect(), engine.connect()
    pending = first.begin()
    respond.handle(first, [respond.Submit(("token", token), 0, PAGE0_PROMOTER)], now=NOW)
    out: list[respond.Outcome] = []

    def other_process() -> None:
        with second.begin():
            out.extend(
                respond.handle(
                    second, [respond.Submit(("token", token), 0, PAGE0_PROMOTER)], now=NOW
                )
            )

    waiting = threading.Thread(target=other_process)
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive()  # it waits for the first batch's rows
    pending.commit()
    waiting.join(10)
    first.close()
    second.close()
    assert isinstance(out[0], respond.SaveResult) and out[0].session.page == 1  # moved on
    with connect(pg) as conn:
        state = _state(conn, token)
    assert state["responses"] == 1
    assert len(state["answers"]) == len({(a[0], a[1]) for a in state["answers"]})  # no doubles


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan] + [n for child in plan.get("Plans", []) for n in _plan_nodes(child)]


@pytest.mark.postgres
def test_batch_statements_reach_rows_by_key_whatever_the_statistics_say(
    pg_url: str, tmp_path: Any
) -> None:
    """Statistics taken when the survey went live (few responses), then thousands of responses
    before autovacuum analyses again: the plans of every statement a batch runs still reach the
    responses, answers and invitations by key (no scan of a whole table, no hash or merge join
    that reads one). Without the batch's plan settings PostgreSQL scanned all responses in each
    batch."""
    from tests.conftest import make_settings

    pg = make_settings(tmp_path / "home", pg_url)
    init_store(pg)
    with connect(pg, write=True) as conn:
        tokens = _invite(conn, 4)
        respond.handle(conn, [respond.Submit(("token", tokens[0]), 0, PAGE0_OK)], now=NOW)
        conn.execute(sa.text("ANALYZE invitations, responses, answers"))
    with connect(pg, write=True) as conn:
        last = conn.execute(sa.select(sa.func.max(invitations.c.id))).scalar()
        conn.execute(
            sa.text(
                "INSERT INTO invitations (survey_id, token_hash, channel, status, created_at) "
                "SELECT survey_id, md5(g::text) || md5(g::text), 'email', 'sent', now() "
                "FROM invitations, generate_series(1, 8000) AS g WHERE id = :last"
            ),
            {"last": last},
        )
        conn.execute(
            sa.text(
                "INSERT INTO responses (survey_id, invitation_id, state, channel, resume_hash, "
                "page, created_at) SELECT survey_id, id, 'in_progress', 'email', "
                "md5(token_hash), 0, now() FROM invitations WHERE id > :last"
            ),
            {"last": last},
        )
        conn.execute(
            sa.text(
                "INSERT INTO answers (response_id, item_code, scale, value_num, created_at) "
                "SELECT r.id, 'q' || g, 'single', 7, now() FROM responses r, "
                "generate_series(1, 4) AS g"
            )
        )
    engine = store_engine.get_engine(pg)
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with connect(pg, write=True) as conn:
            outs = respond.handle(
                conn,
                [
                    respond.Open(("token", tokens[1]), None),
                    respond.Submit(("token", tokens[2]), 0, PAGE0_OK),
                    respond.Submit(("token", tokens[0]), 1, PAGE1),
                ],
                now=NOW,
            )
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert not any(isinstance(o, Exception) for o in outs)
    batch = [(s, p) for s, p in seen if "set_config" not in s]
    assert len(batch) >= 3  # the lock, the read and the write
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql(respond._PG_KEYED_PLANS)
        for statement, parameters in batch:
            plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
            nodes = _plan_nodes(plan[0]["Plan"])
            scanned = {
                n.get("Relation Name")
                for n in nodes
                if n["Node Type"] == "Seq Scan"
                and n.get("Relation Name") in {"invitations", "responses", "answers"}
            }
            joins = {n["Node Type"] for n in nodes} & {"Hash Join", "Merge Join"}
            assert not scanned and not joins, (statement.split()[:6], scanned, joins)
