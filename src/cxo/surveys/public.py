"""The respondent's pages: ``/s/<token>`` (invitation), ``/s/l/<key>`` (public link) and
``/s/r/<token>`` (an anonymous response's resume address).

No login: the token is the key. Pages are server-rendered, work without JavaScript, and speak the
respondent's language (the survey's locales only). Forms carry the CSRF token, a honeypot field, and
anonymous starts are rate-limited per client address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import time
import urllib.parse
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from cxo.errors import CxoError
from cxo.governance.ratelimit import FailureLimiter
from cxo.i18n import LANGUAGE_NAMES, normalise_locale, translator
from cxo.store.engine import connect
from cxo.surveys import flow, respond
from cxo.surveys.definition import Question, Text
from cxo.surveys.intake import Intake
from cxo.vocabulary import N_
from cxo.web import csrf
from cxo.web.deps import get_settings
from cxo.web.render import csrf_token, env, page_response, render, resolve_locale
from cxo.web.routing import page_router, verify_csrf

router = page_router()
RESUME_COOKIE = "cxo_resume"


def _keyed(request: Request, message: str) -> str:
    """HMAC-SHA-256 of ``message`` under the app's secret key (hex)."""
    key = request.app.state.secret_key
    secret = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def _client_hash(request: Request) -> str:
    host = request.client.host if request.client else "?"
    return _keyed(request, f"{host}|{request.headers.get('user-agent', '')[:300]}")


def _stamp(request: Request) -> str:
    """When the page was shown, signed, so the first submit can date the response's start."""
    now = int(time.time())
    return f"{now}.{_sign(request, str(now))}"


def _sign(request: Request, value: str) -> str:
    return _keyed(request, f"shown:{value}")[:16]


def _shown_at(request: Request, stamp: str | None) -> dt.datetime | None:
    if not stamp or "." not in stamp or len(stamp) > 40:
        return None
    value, signature = stamp.split(".", 1)
    if not value.isdigit() or not hmac.compare_digest(signature, _sign(request, value)):
        return None
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)


def _pick_locale(request: Request, locales: list[str], preferred: str | None) -> str:
    """The language asked for (``?lang=``), else the response's, else the browser's, else the
    survey's first (looked at in that order: the later ones cost more)."""
    if request.scope.get("query_string"):
        asked = normalise_locale(request.query_params.get("lang"))
        if asked in locales:
            return asked
    if preferred in locales:
        return preferred
    browser = resolve_locale(request)
    return browser if browser in locales else locales[0]


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x) == int(x) else str(x)


def _points(q: Question) -> list[int]:
    assert q.min is not None and q.max is not None
    return list(range(int(q.min), int(q.max) + 1))


def _context(
    request: Request | None, locale: str, title: Text, path: str, locales: list[str]
) -> dict[str, Any]:
    _ = translator(locale)
    links = (
        [(code, LANGUAGE_NAMES[code], f"{path}?lang={code}") for code in locales]
        if len(locales) > 1
        else []
    )
    return {
        "_": _,
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh_CN" else "en",
        "title": title.get(locale),
        "lang_links": links,
        "t": lambda text: text.get(locale) if text is not None else "",
        "fmt": _fmt,
        "points": _points,
    }


def _message(
    request: Request,
    *,
    locale: str,
    heading: str,
    message: str | None = None,
    hint: str | None = None,
    status: int = 200,
    title: str = "cxo",
) -> HTMLResponse:
    _ = translator(locale)
    return render(
        request,
        "respond/message.html",
        {
            "_": _,
            "locale": locale,
            "html_lang": "zh-CN" if locale == "zh_CN" else "en",
            "title": title,
            "heading": _(heading),
            "message": _(message) if message else None,
            "hint": _(hint) if hint else None,
            "alert": status >= 400,
            "lang_links": [],
        },
        status_code=status,
    )


def _error(request: Request, exc: CxoError) -> HTMLResponse:
    locale = resolve_locale(request)
    heading = {
        404: N_("Link not found"),
        410: N_("Survey unavailable"),
        409: N_("Already answered"),
    }.get(exc.http_status, N_("Something went wrong"))
    return _message(
        request,
        locale=locale,
        heading=heading,
        message=exc.message,
        hint=exc.hint,
        status=exc.http_status,
    )


def _questions_html(context: dict[str, Any]) -> Markup:
    # The output of an autoescaping template: every value in it was escaped.
    return Markup(env.get_template("respond/questions.html").render(context))  # noqa: S704


def _show(
    request: Request,
    s: respond.Session,
    path: str,
    *,
    errors: dict[str, tuple[str, dict[str, object]]] | None = None,
    resume_url: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    survey = s.survey
    locale = _pick_locale(request, list(survey.locales), s.locale)
    if s.done:
        ctx = _context(request, locale, survey.title, path, list(survey.locales))
        _ = ctx["_"]
        thanks = survey.thanks.get(locale) if survey.thanks else _("Thank you for your answers!")
        return render(
            request,
            "respond/message.html",
            {**ctx, "heading": _("Thank you"), "message": thanks, "alert": False},
        )
    shown = flow.page_questions(survey, s.page, seed=s.seed, answers=s.answers)
    slots = {"path": path, "csrf": csrf_token(request), "stamp": _stamp(request)}
    if resume_url:
        slots["resume"] = resume_url
    if errors or any(k in s.answers for k in flow.page_keys(survey, s.page)):
        return page_response(request, _page_html(s, shown, locale, errors, slots), status)
    # Unanswered and without errors, the page depends only on the survey version, page, language
    # and this respondent's order and path through it: rendered once with placeholders, then
    # filled in per respondent (their address, CSRF token and time stamp).
    first = flow.first_page(survey, seed=s.seed, answers=s.answers) or 0
    last = flow.next_page(survey, s.page, seed=s.seed, answers=s.answers) is None
    key = (
        get_settings(request).effective_database_url,
        s.survey_id,
        s.page,
        locale,
        tuple((sq.code, tuple(r.code for r in sq.rows)) for sq in shown),
        first,
        last,
        "resume" in slots,
    )
    parts = _PAGES.get(key)
    if parts is None:
        if len(_PAGES) >= 2000:
            _PAGES.clear()
        placeholders = {name: f"cxoslot{name}x" for name in slots}
        parts = _PAGES[key] = _SLOT.split(_page_html(s, shown, locale, None, placeholders))
    filled = list(parts)
    for i in range(1, len(filled), 2):
        filled[i] = escape(slots[filled[i]])  # as the template would have escaped it
    return page_response(request, "".join(filled), status)


_PAGES: dict[tuple[object, ...], list[str]] = {}
_SLOT = re.compile(r"cxoslot(path|csrf|stamp|resume)x")


def _page_html(
    s: respond.Session,
    shown: list[flow.ShownQuestion],
    locale: str,
    errors: dict[str, tuple[str, dict[str, object]]] | None,
    slots: dict[str, str],
) -> str:
    """The page of ``s`` in ``locale``; ``slots`` holds the address, CSRF token, time stamp and
    (for anonymous responses) resume address."""
    survey, values = s.survey, s.answers
    path = slots["path"]
    ctx = _context(None, locale, survey.title, path, list(survey.locales))
    _ = ctx["_"]
    number, total = flow.progress(survey, s.page)
    page = survey.pages[s.page]

    def value(item: str, scale: str) -> Any:
        v = values.get((item, scale))
        if isinstance(v, float) and v == int(v):
            return int(v)
        return v

    shown_errors = {k: _(msg, **params) for k, (msg, params) in (errors or {}).items()}
    # The error summary names the question (or matrix row) each problem belongs to.
    labels: dict[str, str] = {}
    for sq in shown:
        labels[sq.code] = sq.question.text.get(locale)
        for row in sq.rows:
            labels[f"{sq.code}.{row.code}"] = row.text.get(locale)
    summary = {k: f"{labels.get(k, k)} — {v}" for k, v in shown_errors.items()}
    questions_html = _questions_html(
        {**ctx, "questions": shown, "errors": shown_errors, "value": value}
    )
    resume = slots.get("resume")
    return env.get_template("respond/page.html").render(
        {
            **ctx,
            "action": path,
            "csrf_token": slots["csrf"],
            "questions_html": questions_html,
            "errors": shown_errors,
            "error_summary": summary,
            "page_index": s.page,
            "first_page": flow.first_page(survey, seed=s.seed, answers=values) or 0,
            "page_number": number,
            "page_count": total,
            "last_page": flow.next_page(survey, s.page, seed=s.seed, answers=values) is None,
            "page_title": page.title.get(locale) if page.title else None,
            "intro": survey.intro.get(locale) if survey.intro else None,
            "resume_url": resume,
            "stamp": slots["stamp"],
        }
    )


async def _form(request: Request, *, raw: bool = False) -> dict[str, list[str]]:
    """The submitted form's text fields. With ``raw`` (the fast path, before anything read the
    body) a URL-encoded form is parsed straight from the body: what browsers send, and several
    times cheaper than the general form parser."""
    out: dict[str, list[str]] = {}
    if raw and request.headers.get("content-type", "").startswith(URLENCODED):
        body = await request.body()
        try:
            pairs = urllib.parse.parse_qsl(
                body.decode("latin-1"),
                keep_blank_values=True,
                encoding="utf-8",
                errors="replace",
                max_num_fields=MAX_FIELDS,
            )
        except ValueError:
            raise _too_many_fields() from None
        for key, text in pairs:
            if len(key) <= 120:
                out.setdefault(key, []).append(text)
        return out
    try:
        form = await request.form(max_fields=MAX_FIELDS)
    except HTTPException:  # python-multipart's limits
        raise _too_many_fields() from None
    for key, value in form.multi_items():
        if isinstance(value, str) and len(key) <= 120:
            out.setdefault(key, []).append(value)
    return out


URLENCODED = "application/x-www-form-urlencoded"
MAX_FIELDS = 1000


def _too_many_fields() -> CxoError:
    return CxoError(N_("The form has too many fields."), hint=N_("Reload the page and try again."))


def _intake(request: Request) -> Intake:
    intake: Intake = request.app.state.survey_intake
    return intake


async def _submit(
    request: Request,
    where: respond.Where,
    path: str,
    resume_url: str | None,
    form: dict[str, list[str]] | None = None,
) -> Response:
    form = form if form is not None else await _form(request)
    if form.get("website", [""])[0].strip():
        # A bot filled the honeypot: pretend all is well, store nothing.
        return RedirectResponse(path, status_code=303)
    try:
        page = int(form.get("page", ["-1"])[0])
    except ValueError:
        page = -1
    action = form.get("action", ["next"])[0]
    if action not in ("next", "back", "save"):
        action = "next"
    job = respond.Submit(
        where,
        page,
        form,
        action,
        lang=normalise_locale(form.get("lang", [""])[0] or request.query_params.get("lang")),
        shown_at=_shown_at(request, form.get("t", [""])[0]),
    )
    result = await _intake(request).run(job)
    if isinstance(result, CxoError):
        return _error(request, result)
    assert isinstance(result, respond.SaveResult)
    if result.errors:
        return _show(request, result.session, path, errors=result.errors, resume_url=resume_url)
    if action == "save":
        return _show(request, result.session, path, resume_url=resume_url or _abs(request, path))
    return RedirectResponse(path, status_code=303)


async def _page(request: Request, job: respond.Open, path: str, resume_url: str | None) -> Response:
    s = await _intake(request).run(job)
    if isinstance(s, CxoError):
        return _error(request, s)
    assert isinstance(s, respond.Session)
    return _show(request, s, path, resume_url=resume_url)


def _abs(request: Request, path: str) -> str:
    return get_settings(request).public_url.rstrip("/") + path


# --- invitation tokens ------------------------------------------------------------------------


async def _by_token(
    request: Request, *, resume: bool, token: str, form: dict[str, list[str]] | None = None
) -> Response:
    """Open (GET) or submit (POST) a page by invitation token or, with ``resume``, by the resume
    token of an anonymous response; the CSRF check is the caller's (``form``: the submitted form,
    when the caller read it)."""
    if resume:
        path = f"/s/r/{token}"
        if request.method == "POST":
            return await _submit(request, ("resume", token), path, _abs(request, path), form)
        return await _page(request, respond.Open(("resume", token)), path, _abs(request, path))
    path = f"/s/{token}"
    if request.method == "POST":
        return await _submit(request, ("token", token), path, None, form)
    lang = normalise_locale(request.query_params.get("lang"))
    return await _page(request, respond.Open(("token", token), lang), path, None)


@router.get("/s/{token}", response_class=HTMLResponse)
async def invitation_page(request: Request, token: str) -> Response:
    return await _by_token(request, resume=False, token=token)


@router.post("/s/{token}", response_class=HTMLResponse)
async def invitation_submit(request: Request, token: str) -> Response:
    return await _by_token(request, resume=False, token=token)


# --- public links -----------------------------------------------------------------------------


@router.get("/s/l/{key}", response_class=HTMLResponse)
def link_page(request: Request, key: str) -> Response:
    settings = get_settings(request)
    resume = request.cookies.get(RESUME_COOKIE)
    with connect(settings) as conn:
        try:
            _link_id, code = respond.link_survey(conn, key)
            if resume:
                try:
                    s = respond.open_resume(conn, resume)
                    if s.survey_code == code and not s.done:
                        return RedirectResponse(f"/s/r/{resume}", status_code=303)
                except CxoError:
                    pass
            from cxo.surveys.service import live_version

            _sid, survey = live_version(conn, code)
        except CxoError as exc:
            return _error(request, exc)
    locale = _pick_locale(request, list(survey.locales), None)
    ctx = _context(request, locale, survey.title, f"/s/l/{key}", list(survey.locales))
    _ = ctx["_"]
    return render(
        request,
        "respond/message.html",
        {
            **ctx,
            "heading": survey.title.get(locale),
            "message": survey.intro.get(locale) if survey.intro else None,
            "hint": _("Your answers are saved page by page; you can come back to finish."),
            "alert": False,
            "start_action": f"/s/l/{key}",
        },
    )


@router.post("/s/l/{key}", response_class=HTMLResponse)
async def link_start(request: Request, key: str) -> Response:
    form = await _form(request)
    if form.get("website", [""])[0].strip():
        return RedirectResponse(f"/s/l/{key}", status_code=303)
    client = request.client.host if request.client else "?"
    # Anonymous starts per client address: a bot fills the honeypot or hits this limit.
    limiter: FailureLimiter = request.app.state.survey_start_limiter
    if limiter.blocked(client):
        locale = resolve_locale(request)
        return _message(
            request,
            locale=locale,
            heading=N_("Too many attempts"),
            message=N_("Too many surveys were started from your address. Please try again later."),
            status=429,
        )
    limiter.fail(client)
    lang = normalise_locale(form.get("lang", [""])[0])
    with connect(get_settings(request), write=True) as conn:
        try:
            _s, resume = respond.start_anonymous(
                conn, key, locale=lang, client_hash=_client_hash(request)
            )
        except CxoError as exc:
            return _error(request, exc)
    response = RedirectResponse(f"/s/r/{resume}", status_code=303)
    response.set_cookie(
        RESUME_COOKIE,
        resume,
        max_age=30 * 86400,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/s",
    )
    return response


# --- anonymous responses (resume tokens) ------------------------------------------------------


@router.get("/s/r/{token}", response_class=HTMLResponse)
async def resume_page(request: Request, token: str) -> Response:
    return await _by_token(request, resume=True, token=token)


@router.post("/s/r/{token}", response_class=HTMLResponse)
async def resume_submit(request: Request, token: str) -> Response:
    return await _by_token(request, resume=True, token=token)


# --- the fast path ----------------------------------------------------------------------------
# The routes above are what the app documents and tests; the busiest two (a respondent opening and
# submitting a page by invitation or resume token) are also served by this ASGI middleware, which
# answers them before FastAPI's per-request machinery (routing over every route, dependency
# solving, exception and exit-stack middleware: most of the CPU a respondent's request cost). The
# same handlers run, with the same CSRF check; errors end as the same pages, and anything
# unexpected goes on to the app's error handler.

_FAST_PATH = re.compile(r"^/s/(?:(r)/)?([^/]+)$")


class RespondentFastPath:
    """Serve ``GET``/``POST`` ``/s/<token>`` and ``/s/r/<token>`` directly; pass the rest on."""

    def __init__(self, app: ASGIApp, *, owner: Any) -> None:
        self.app = app
        self.owner = owner  # the FastAPI app: request.app.state as on any route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "POST"):
            match = _FAST_PATH.match(scope["path"])
            if match is not None:
                scope["app"] = self.owner
                request = Request(scope, receive, send)
                response = await _fast(request, resume=bool(match.group(1)), token=match.group(2))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _fast(request: Request, *, resume: bool, token: str) -> Response:
    try:
        form = None
        if request.method == "POST":  # the page router's CSRF check, on the form read once
            form = await _form(request, raw=True)
            submitted = request.headers.get(csrf.CSRF_HEADER)
            if submitted is None:
                submitted = form.get(csrf.CSRF_FIELD, [None])[0]
            verify_csrf(request, submitted)
        return await _by_token(request, resume=resume, token=token, form=form)
    except CxoError as exc:
        return _error(request, exc)
