"""Send survey invitations and reminders over SMTP, in the customer's language.

One SMTP connection serves a whole run; invitations are read and marked in batches, so 100k
invitations never sit in memory, and while one batch is sent the next is composed in a second
process. "Delivered" means the SMTP server accepted the message and no
hard bounce came back for it (:mod:`cxo.surveys.bounces`); a refused recipient marks the invitation
``failed`` with the server's reason. "Opened" is recorded when the link is opened (no tracking
pixel). Secrets (the SMTP password, tokens) are never logged.

Every message carries an unsubscribe link in its body and in the RFC 2369 / RFC 8058 headers
(``List-Unsubscribe``, ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``), and a sealed
reference to its invitation (``X-Cxo-Invitation`` and inside the ``Message-ID``) that bounces are
matched on. Customers on the opt-out list get nothing: their queued invitations are withheld
(status ``opted_out``) and their reminders skipped.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import smtplib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import formataddr, make_msgid, parseaddr
from html import escape
from typing import Any

import sqlalchemy as sa

from cxo.customers.models import customers
from cxo.errors import CxoError
from cxo.i18n import translator
from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.store.metadata import utcnow
from cxo.surveys.distribute import bounce_ref, invitation_token, opted_out_ids, optout_token
from cxo.surveys.models import invitations, responses, survey_waves, surveys
from cxo.surveys.suppress import listed, normalise

log = logging.getLogger("cxo.surveys.mailer")
BATCH = 2000
SUPPRESSED = "Not sent: the address is on the suppression list (it bounced, or a complaint)."


@dataclass
class SendSummary:
    sent: int = 0
    failed: int = 0
    reminders: int = 0
    opted_out: int = 0  # invitations withheld and reminders skipped: the customer opted out
    undeliverable: int = 0  # withheld or skipped: the address is on the suppression list

    def add(self, other: SendSummary) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.reminders += other.reminders
        self.opted_out += other.opted_out
        self.undeliverable += other.undeliverable


@contextmanager
def smtp_connection(settings: Settings) -> Iterator[smtplib.SMTP]:
    """One SMTP session (STARTTLS and login when configured); a clear error when unreachable."""
    try:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    except OSError as exc:
        raise CxoError(
            f"Cannot reach the SMTP server {settings.smtp_host}:{settings.smtp_port} ({exc}).",
            hint="Check CXO_SMTP_HOST and CXO_SMTP_PORT.",
        ) from None
    try:
        if settings.smtp_starttls:
            server.starttls()
        if settings.smtp_user and settings.smtp_password:
            server.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        yield server
    except smtplib.SMTPAuthenticationError:
        raise CxoError(
            "The SMTP server refused the user name or password.",
            hint="Check CXO_SMTP_USER and CXO_SMTP_PASSWORD.",
        ) from None
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()


class _Compat32Fast(Compat32):
    """compat32 that writes short plain-ASCII headers as they are: folding would not change them,
    and building a ``Header`` object for each costs about 30 µs a header (a message has ~15)."""

    def fold(self, name: str, value: Any) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + len(value) + 2 <= (self.max_line_length or 78)
            and not any(c in value for c in "\r\n\t")
            and "  " not in value
            and value == value.strip()
        ):
            return f"{name}: {value}{self.linesep}"
        return super().fold(name, value)


FAST_COMPAT32 = _Compat32Fast()


def compose(
    *,
    settings: Settings,
    to: str,
    name: str | None,
    title: dict[str, Any],
    url: str,
    locale: str,
    expires_at: dt.datetime | None,
    reminder: bool,
    unsubscribe_url: str | None = None,
    ref: str | None = None,
) -> MIMEMultipart:
    """The invitation (or reminder) e-mail: plain text and HTML, in ``locale``, with the
    unsubscribe link and headers, and the bounce reference ``ref``."""
    _ = translator(locale if locale in ("en", "zh_CN") else "en")
    survey_title = title.get(locale) or title.get("en") or title.get("zh_CN") or ""
    subject = (
        _("Reminder: %(title)s", title=survey_title)
        if reminder
        else _("Tell us about your experience: %(title)s", title=survey_title)
    )
    greeting = _("Dear %(name)s,", name=name) if name else _("Dear customer,")
    ask = _(
        "We would value your view. The survey takes a few minutes; your answers are saved as you "
        "go, so you can stop and come back."
    )
    until = (
        _("The link works until %(date)s.", date=expires_at.strftime("%Y-%m-%d"))
        if expires_at
        else ""
    )
    thanks = _("Thank you.")
    leave = (
        _("To stop receiving survey e-mails from us: %(url)s", url=unsubscribe_url)
        if unsubscribe_url
        else ""
    )
    # The compat32 MIME classes: the modern EmailMessage API parses every header it sets and
    # costs ~4 ms a message, which alone would take 100k invitations past the 5-minute target.
    msg = MIMEMultipart("alternative")
    msg["Subject"] = Header(subject, "utf-8").encode()
    msg["From"] = settings.smtp_sender
    msg["To"] = formataddr((name, to)) if name else to  # encodes a non-ASCII name
    domain = parseaddr(settings.smtp_sender)[1].rpartition("@")[2] or "cxo.local"
    # The reference inside the Message-ID survives bounces that quote only a few headers.
    msg["Message-ID"] = make_msgid(idstring=ref, domain=domain)
    if ref:
        msg["X-Cxo-Invitation"] = ref
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    language = "zh-CN" if locale == "zh_CN" else "en"
    msg["Content-Language"] = language
    footer = f"\n-- \n{leave}\n" if leave else ""
    msg.attach(
        MIMEText(f"{greeting}\n\n{ask}\n\n{url}\n\n{until}\n\n{thanks}\n{footer}", "plain", "utf-8")
    )
    unsubscribe_html = ""
    if unsubscribe_url:
        question, label = _("Do not want survey e-mails from us?"), _("Unsubscribe")
        unsubscribe_html = (
            f'<p style="font-size:small;color:#555">{escape(question)} '
            f'<a href="{escape(unsubscribe_url)}">{escape(label)}</a></p>'
        )
    msg.attach(
        MIMEText(
            f'<!doctype html><html lang="{language}"><body>'
            f"<p>{escape(greeting)}</p><p>{escape(ask)}</p>"
            f'<p><a href="{escape(url)}">{escape(_("Start the survey"))}</a></p>'
            f"<p>{escape(until)}</p><p>{escape(thanks)}</p>{unsubscribe_html}</body></html>",
            "html",
            "utf-8",
        )
    )
    return msg


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _select(*, reminders: bool, now: dt.datetime, after_id: int) -> sa.Select[Any]:
    query = (
        sa.select(
            invitations.c.id,
            invitations.c.customer_id,
            invitations.c.locale,
            invitations.c.expires_at,
            invitations.c.reminders_sent,
            customers.c.email,
            customers.c.display_name,
            customers.c.locale.label("customer_locale"),
            surveys.c.title,
        )
        .join(customers, customers.c.id == invitations.c.customer_id)
        .join(surveys, surveys.c.id == invitations.c.survey_id)
        .where(invitations.c.id > after_id, customers.c.email.is_not(None))
        .order_by(invitations.c.id)
        .limit(BATCH)
    )
    if not reminders:
        return query.where(invitations.c.status == "queued")
    answered = sa.select(responses.c.invitation_id).where(
        responses.c.invitation_id == invitations.c.id,
        sa.func.coalesce(responses.c.state, "completed") == "completed",
    )
    last = sa.func.coalesce(invitations.c.last_reminder_at, invitations.c.sent_at)
    return (
        query.join(survey_waves, survey_waves.c.id == invitations.c.wave_id)
        .where(
            invitations.c.status == "sent",
            invitations.c.used_at.is_(None),
            ~sa.exists(answered),
            sa.func.coalesce(invitations.c.reminders_sent, 0) < survey_waves.c.max_reminders,
            invitations.c.expires_at > now,
        )
        .where(
            survey_waves.c.reminder_days.is_not(None),
            # reminder due: last contact + reminder_days <= now (computed in Python below for
            # portability; here only a cheap pre-filter)
            last <= now,
        )
        .add_columns(last.label("last_contact"), survey_waves.c.reminder_days)
    )


# An invitation to compose: id, address, name, survey title, language, link expiry.
Letter = tuple[int, str, "str | None", dict[str, Any], str, "dt.datetime | None"]


def _letters(settings: Settings, rows: list[sa.Row[Any]]) -> list[Letter]:
    return [
        (
            int(r.id),
            r.email,
            r.display_name,
            r.title or {},
            r.locale or r.customer_locale or settings.default_locale,
            _aware(r.expires_at),
        )
        for r in rows
    ]


def _compose_batch(
    settings: Settings, secret: bytes, reminder: bool, letters: list[Letter]
) -> list[str]:
    """The messages of a batch, flattened (also run in the composer process: see
    :func:`send_invitations`)."""
    base = settings.public_url.rstrip("/")
    out = []
    for inv_id, email, name, title, locale, expires_at in letters:
        msg = compose(
            settings=settings,
            to=email,
            name=name,
            title=title,
            url=f"{base}/s/{invitation_token(secret, inv_id)}",
            locale=locale,
            expires_at=expires_at,
            reminder=reminder,
            unsubscribe_url=f"{base}/s/u/{optout_token(secret, inv_id)}",
            ref=bounce_ref(secret, inv_id),
        )
        out.append(msg.as_string(policy=FAST_COMPAT32))
    return out


def _deliver(
    settings: Settings, server: smtplib.SMTP, letters: list[Letter], messages: list[str]
) -> tuple[list[int], list[tuple[int, str]]]:
    ok: list[int] = []
    failed: list[tuple[int, str]] = []
    for letter, message in zip(letters, messages, strict=True):
        try:
            server.sendmail(settings.smtp_sender, [letter[1]], message)
        except smtplib.SMTPRecipientsRefused as exc:
            reason = "; ".join(
                f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
                for code, text in exc.recipients.values()
            )
            failed.append((letter[0], reason[:300]))
            continue
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            failed.append((letter[0], f"{exc.smtp_code} {exc.smtp_error!r}"[:300]))
            continue
        ok.append(letter[0])
    return ok, failed


def _mark(
    settings: Settings,
    ok: list[int],
    failed: list[tuple[int, str]],
    *,
    reminder: bool,
    now: dt.datetime,
    withheld: list[int] | None = None,
) -> None:
    with connect(settings, write=True) as conn:
        if withheld and not reminder:
            for i in range(0, len(withheld), 1000):
                conn.execute(
                    invitations.update()
                    .where(
                        invitations.c.id.in_(withheld[i : i + 1000]),
                        invitations.c.status == "queued",
                    )
                    .values(status="opted_out")
                )
        for i in range(0, len(ok), 1000):
            chunk = ok[i : i + 1000]
            if reminder:
                conn.execute(
                    invitations.update()
                    .where(invitations.c.id.in_(chunk))
                    .values(
                        reminders_sent=sa.func.coalesce(invitations.c.reminders_sent, 0) + 1,
                        last_reminder_at=now,
                    )
                )
            else:
                conn.execute(
                    invitations.update()
                    .where(invitations.c.id.in_(chunk))
                    .values(status="sent", sent_at=now, delivered_at=now)
                )
        for inv_id, reason in failed:
            if reminder:
                continue  # a failed reminder leaves the invitation as it was
            conn.execute(
                invitations.update()
                .where(invitations.c.id == inv_id)
                .values(status="failed", error=reason)
            )


@dataclass
class _Batch:
    reminder: bool
    letters: list[Letter]
    blocked: list[int]  # left out: the address is on the suppression list
    withheld: list[int]  # left out: the customer opted out


def _batches(settings: Settings, *, reminder: bool, now: dt.datetime) -> Iterator[_Batch]:
    """The batches to send, read one at a time (someone may opt out, or an address bounce, while
    a long run is under way)."""
    after = 0
    while True:
        with connect(settings) as conn:
            rows = list(conn.execute(_select(reminders=reminder, now=now, after_id=after)))
            opted_out = opted_out_ids(conn) if rows else set()
            addresses = {r.id: normalise(r.email) for r in rows}
            suppressed = listed(conn, sorted({a for a in addresses.values() if a}))
        if not rows:
            return
        after = int(rows[-1].id)
        if reminder:
            rows = [
                r
                for r in rows
                if (_aware(r.last_contact) or now) + dt.timedelta(days=int(r.reminder_days)) <= now
            ]
        withheld = [int(r.id) for r in rows if r.customer_id in opted_out]
        rows = [r for r in rows if r.customer_id not in opted_out]
        blocked = [int(r.id) for r in rows if addresses[r.id] in suppressed]
        rows = [r for r in rows if addresses[r.id] not in suppressed]
        yield _Batch(reminder, _letters(settings, rows), blocked, withheld)


def send_invitations(
    settings: Settings,
    *,
    now: dt.datetime | None = None,
    reminders: bool = True,
    progress: Callable[[int], None] | None = None,
) -> SendSummary:
    """Send every queued invitation, then every reminder that is due.

    A run of more than one batch composes the next batch's messages in a second process while
    this one sends the current batch: composing (MIME, encodings) and the SMTP exchange then use
    both CPUs instead of taking turns. Threads would not: composing holds the GIL, and the
    sending thread would wait for it after every reply from the server.
    """
    now = now or utcnow()
    secret = settings.get_secret_key().encode("utf-8")
    summary = SendSummary()
    with ExitStack() as stack:
        server = stack.enter_context(smtp_connection(settings))
        composer: ProcessPoolExecutor | None = None
        for reminder in (False, True) if reminders else (False,):
            batches = _batches(settings, reminder=reminder, now=now)
            current = next(batches, None)
            composing: Future[list[str]] | None = None
            while current is not None:
                following = next(batches, None)  # read ahead: the composer needs work
                if following is not None and composer is None:
                    composer = stack.enter_context(
                        ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
                    )
                messages = (
                    composing.result()
                    if composing is not None
                    else _compose_batch(settings, secret, reminder, current.letters)
                )
                composing = (
                    composer.submit(_compose_batch, settings, secret, reminder, following.letters)
                    if following is not None and composer is not None
                    else None
                )
                ok, failed = _deliver(settings, server, current.letters, messages)
                failed += [(i, SUPPRESSED) for i in current.blocked]
                _mark(settings, ok, failed, reminder=reminder, now=now, withheld=current.withheld)
                summary.opted_out += len(current.withheld)
                summary.undeliverable += len(current.blocked)
                if reminder:
                    summary.reminders += len(ok)
                else:
                    summary.sent += len(ok)
                    summary.failed += len(failed) - len(current.blocked)
                if progress:
                    progress(len(ok) + len(failed))
                current = following
    log.info(
        "survey e-mail: %s sent, %s failed, %s reminders, %s left out (opted out), "
        "%s left out (suppressed address)",
        summary.sent,
        summary.failed,
        summary.reminders,
        summary.opted_out,
        summary.undeliverable,
    )
    return summary


class MailJobs:
    """Sends survey e-mail on one worker thread, so web requests return at once."""

    def __init__(self, settings: Settings) -> None:
        import threading
        from concurrent.futures import ThreadPoolExecutor

        self.settings = settings
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxo-mail")
        self._lock = threading.Lock()
        self._pending = False
        self.last: SendSummary | None = None
        self.last_error: str | None = None

    def kick(self) -> bool:
        """Start a send run unless one is waiting to start already; True if one was queued."""
        with self._lock:
            if self._pending:
                return False
            self._pending = True
        self._pool.submit(self._run)
        return True

    def _run(self) -> None:
        with self._lock:
            self._pending = False
        try:
            self.last = send_invitations(self.settings)
            self.last_error = None
        except CxoError as exc:
            self.last_error = exc.message
            log.warning("survey e-mail failed: %s", exc.message)
        except Exception:  # the worker must survive; the error is logged
            log.exception("survey e-mail failed")
            self.last_error = "unexpected error (see the server log)"

    def wait(self, timeout: float = 60.0) -> None:
        """Wait for queued runs to finish (tests)."""
        self._pool.submit(lambda: None).result(timeout=timeout)
