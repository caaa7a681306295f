"""E-mail that cannot go never stops the e-mail that can: headers are built so that nothing a
person wrote can add a header or a recipient; an e-mail that fails for good (an unusable
address, a header that cannot be built, a 5xx refusal) is set aside as `failed` with its
reason and listed for operators, and the worker goes on; passing failures are retried until
a deadline. Principal events with control characters are stored as plain text."""

from datetime import timedelta
from typing import Any

import aiosmtplib
import httpx
import pytest
from fastapi import FastAPI

from contracts.principals import PrincipalRegistered
from notifications import domain
from notifications.api import install_api
from notifications.domain import Intent, UnusableContact
from notifications.handlers import event_router, notify
from notifications.mail import MailError, Undeliverable, _refusal, recipient
from notifications.mail_worker import send_emails
from servicekit.hosting.http import install_problem_handlers
from servicekit.hosting.pagination import encode_cursor
from servicekit.testing import received

from notifications_test_helpers import NOW, RecordingMailer

INJECTION = "Mallory\r\nBcc: everyone@example.com"


async def register(ctx, principal_id: str, name: str, email: str, locale: str = "en") -> None:
    event = PrincipalRegistered.model_construct(
        principal_id=principal_id,
        role="seller",
        name=name,
        email=email,
        locale=locale,
        registered_at=NOW,
    )
    route = event_router(ctx).route(PrincipalRegistered.type)
    async with ctx.db.unit_of_work() as uow:
        await route.handle([received(event, source="gateway", time=NOW)], uow)
        await uow.commit()


async def tell(ctx, recipient_id: str) -> None:
    """A message every seller must get (so it goes by e-mail whatever they chose)."""
    async with ctx.db.unit_of_work() as uow:
        await notify(
            ctx,
            uow,
            Intent(recipient_id, "standing_at_risk.seller", None, must=True),
            f"evt-{recipient_id}",
            {"reason": "late", "previous": "good", "standing": "at_risk"},
            None,  # about the seller, no order
        )
        await uow.commit()


async def email_of(ctx, recipient_id: str) -> dict[str, Any]:
    async with ctx.db.unit_of_work() as uow:
        page = await uow.inbox.page(recipient_id, None, 10)
    return next(c for c in page[0]["channels"] if c["channel"] == "email")


# --- headers -------------------------------------------------------------------------------


def test_a_display_name_with_line_breaks_is_dropped_and_adds_no_header():
    to = recipient("mallory@example.com", INJECTION)
    assert (to.display_name, to.addr_spec) == ("", "mallory@example.com")
    message = RecordingMailer().message(
        to=("mallory@example.com", INJECTION),
        subject="Your seller standing\r\nBcc: all@example.com",
        text=f"Hello {INJECTION},\n",
        html="<p>Hello</p>",
        message_id="ntf_1",
    )
    header_block = bytes(message).split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":")[0] for line in header_block.split(b"\r\n") if line[:1] != b" "]
    assert b"Bcc" not in names
    assert message.get_all("To") == ["mallory@example.com"]
    assert message["Subject"] == "Your seller standing Bcc: all@example.com"


@pytest.mark.parametrize(
    "address",
    [
        "mallory@example.com\r\nBcc: everyone@example.com",
        "mallory@example.com, everyone@example.com",
        "no-domain",
        "",
        "\x1b[31m@example.com",
    ],
)
def test_an_address_that_is_not_one_is_undeliverable(address):
    with pytest.raises(Undeliverable, match="address is not usable"):
        recipient(address, "Mallory")


def test_a_permanent_refusal_is_undeliverable_and_a_passing_one_is_retried():
    refused = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, "no such user", "x@example.com")]
    )
    assert isinstance(_refusal(refused), Undeliverable)
    assert isinstance(_refusal(aiosmtplib.SMTPDataError(554, "spam")), Undeliverable)
    busy = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(451, "try later", "x@example.com")]
    )
    assert isinstance(_refusal(busy), MailError)
    assert isinstance(_refusal(aiosmtplib.SMTPConnectError("refused")), MailError)
    # a server refusing to talk at all refuses everyone: not this message's fault
    assert isinstance(_refusal(aiosmtplib.SMTPHeloError(554, "go away")), MailError)


def test_passing_failures_are_retried_until_the_deadline_then_set_aside():
    soon = domain.after_failure("refused", permanent=False, attempts=1, written_at=NOW, now=NOW)
    assert soon.retry_at == NOW + timedelta(seconds=30)
    late = NOW + domain.GIVE_UP_AFTER - timedelta(minutes=10)
    final = domain.after_failure("refused", permanent=False, attempts=30, written_at=NOW, now=late)
    assert final.retry_at is None
    assert final.reason == "gave up after 30 attempts: refused"
    bad = domain.after_failure("no such user", permanent=True, attempts=1, written_at=NOW, now=NOW)
    assert (bad.retry_at, bad.reason) == (None, "undeliverable: no such user")


def test_a_principal_is_kept_as_plain_text():
    kept = domain.contact(INJECTION, "m@example.com", "../../etc")
    assert (kept.name, kept.email, kept.locale) == (
        "Mallory Bcc: everyone@example.com",
        "m@example.com",
        "en",
    )
    assert domain.contact("\u202e\x1b", "m@example.com", "fr").name == "there"
    with pytest.raises(UnusableContact):
        domain.contact("Long", "a" * 400 + "@example.com", "en")


# --- the worker ----------------------------------------------------------------------------


async def test_one_poisoned_email_is_set_aside_and_everyone_else_is_mailed(ctx):
    await register(ctx, "usr_mallory", INJECTION, "mallory@example.com\r\nBcc: all@example.com")
    await register(ctx, "usr_nameless", INJECTION, "nameless@example.com")
    await register(ctx, "usr_bea", "Bea", "bea@example.com")
    for principal in ("usr_mallory", "usr_nameless", "usr_bea"):  # the poisoned one first
        await tell(ctx, principal)

    await send_emails(ctx)

    # the name was kept as one line of text: a quoted display name, not a header
    nameless = '"Mallory Bcc: everyone@example.com" <nameless@example.com>'
    sent = {m["To"]: m for m in ctx.mailer.sent}
    assert sorted(sent) == [nameless, "Bea <bea@example.com>"]
    assert all(m["Bcc"] is None for m in ctx.mailer.sent)
    assert "Hello Mallory Bcc: everyone@example.com," in sent[nameless].as_string()
    mallory = await email_of(ctx, "usr_mallory")
    assert mallory["state"] == "failed"
    assert mallory["last_error"].startswith("undeliverable: the recipient's e-mail address")
    assert "U+000D" in mallory["last_error"]
    assert (await email_of(ctx, "usr_bea"))["state"] == "sent"

    ctx.clock.advance(2 * 3600)
    await send_emails(ctx)  # set aside: never tried again
    assert len(ctx.mailer.sent) == 2
    assert (await email_of(ctx, "usr_mallory"))["attempts"] == 1


async def test_an_email_waiting_for_its_address_goes_as_soon_as_the_address_arrives(ctx):
    # The message overtook the principal's record (they travel on different topics).
    await tell(ctx, "usr_late")
    await send_emails(ctx)
    waiting = await email_of(ctx, "usr_late")
    assert (waiting["state"], waiting["last_error"]) == (
        "pending",
        "the recipient's address is not known yet",
    )

    await register(ctx, "usr_late", "Lea", "lea@example.com")
    await send_emails(ctx)  # the same moment: no wait for the retry's back-off

    assert [m["To"] for m in ctx.mailer.sent] == ["Lea <lea@example.com>"]
    assert (await email_of(ctx, "usr_late"))["state"] == "sent"


async def test_a_failure_nobody_foresaw_is_retried_and_does_not_stop_the_pass(ctx):
    await register(ctx, "usr_odd", "Odd", "odd@example.com")
    await register(ctx, "usr_bea", "Bea", "bea@example.com")
    ctx.mailer.refuse["odd@example.com"] = RuntimeError("a bug")
    await tell(ctx, "usr_odd")
    await tell(ctx, "usr_bea")

    await send_emails(ctx)

    assert [m["To"] for m in ctx.mailer.sent] == ["Bea <bea@example.com>"]
    odd = await email_of(ctx, "usr_odd")
    assert (odd["state"], odd["attempts"], odd["last_error"]) == ("pending", 1, "a bug")


async def test_an_unreachable_server_is_retried_until_the_deadline(ctx):
    await register(ctx, "usr_bea", "Bea", "bea@example.com")
    ctx.mailer.refuse["bea@example.com"] = MailError("Connection refused")
    await tell(ctx, "usr_bea")
    while (await email_of(ctx, "usr_bea"))["state"] != "failed":
        await send_emails(ctx)
        ctx.clock.advance(3600)
        assert ctx.clock.now() < NOW + domain.GIVE_UP_AFTER + timedelta(hours=2)
    bea = await email_of(ctx, "usr_bea")
    assert bea["last_error"].startswith("gave up after")
    assert bea["last_error"].endswith("Connection refused")


# --- the API --------------------------------------------------------------------------------


@pytest.fixture
def api(ctx):
    app = FastAPI()
    install_problem_handlers(app)
    app.state.internal_token = ""
    install_api(app, ctx)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


def as_(principal_id: str, role: str) -> dict[str, str]:
    return {"X-Principal-Id": principal_id, "X-Principal-Role": role}


async def test_operators_list_the_emails_set_aside_with_their_reasons(ctx, api):
    await register(ctx, "usr_mallory", "Mallory", "mallory@example.com\nBcc: all@example.com")
    await register(ctx, "usr_bea", "Bea", "bea@example.com")
    await tell(ctx, "usr_mallory")
    await tell(ctx, "usr_bea")
    await send_emails(ctx)

    listed = (await api.get("/v1/ops/failed-emails", headers=as_("usr_op", "operator"))).json()
    assert [(i["recipient_id"], i["kind"]) for i in listed["items"]] == [
        ("usr_mallory", "standing_at_risk.seller")
    ]
    assert "U+000A" in listed["items"][0]["reason"]
    refused = await api.get("/v1/ops/failed-emails", headers=as_("usr_bea", "seller"))
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "values",
    [
        ("not a date", "ntf_1"),
        ("2026-11-24T10:00:00", "ntf_1"),  # no offset
        ("2026-11-24T10:00:00+00:00", "ntf\x00"),
        ("99999-01-01", "ntf_1"),
    ],
)
async def test_a_cursor_that_is_not_ours_is_a_422(api, values):
    for path, who in (
        ("/v1/me/notifications", as_("usr_bea", "buyer")),
        ("/v1/ops/failed-emails", as_("usr_op", "operator")),
    ):
        answer = await api.get(path, params={"cursor": encode_cursor(*values)}, headers=who)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"


async def test_a_principal_event_with_an_impossible_address_is_refused(ctx):
    with pytest.raises(UnusableContact):
        await register(ctx, "usr_long", "Long", "a" * 400 + "@example.com")
    async with ctx.db.unit_of_work() as uow:
        assert await uow.directory.principal("usr_long") is None
