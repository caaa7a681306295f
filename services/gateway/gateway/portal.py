"""The web portal: pages for buyers, sellers, support agents and operators, served by the
gateway under `/portal`.

Every page and every action goes through the public API (`/v1/...`) in-process, with the
signed-in principal's own token, so the portal shows and does exactly what the API allows that
principal: the same authentication, authorization, idempotency and problem details. Pages are
plain server-rendered HTML (readable without JavaScript); actions are ordinary forms that
post, then redirect back to the page (post/redirect/get).

The browser holds only a random session id (HttpOnly, SameSite=Lax, Path=/portal, Secure over
TLS); the session itself is kept on the server (`portal_sessions`), with idle and absolute
expiry, a new id on every sign-in, and an end on sign-out. Each form carries the session's CSRF
token (sign-in too, before any session: a double-submitted random value) and an
`Idempotency-Key` made when the form was drawn, so a form sent twice acts once.

Everything shown is escaped (autoescape on for every template, whatever its name); flash
messages are shown only when the portal signed them for this session, so a link cannot put
words on a page. Every portal page is sent with a strict Content-Security-Policy (no script at
all) and the other security headers (`SecurityHeaders`).
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.portal_sessions import (
    OpenSession,
    PortalSessions,
    PortalSettings,
    csrf_token,
    flash_signature,
)
from servicekit.clock import Clock, SystemClock
from servicekit.uow import Database

PORTAL = "/portal"
SESSION_COOKIE = "mkt_session"
SIGN_IN_COOKIE = "mkt_sign_in"  # the pre-session CSRF value, double-submitted by the form
HERE = Path(__file__).resolve().parent
# autoescape=True for every template, whatever its file name (select_autoescape() goes by the
# extension, and left `*.html.j2` unescaped).
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
)
SIGN_IN_ERRORS = {
    "invalid": "That token is not valid.",
    "expired": "Your session has ended; sign in again.",
}
SIGN_IN_NOTICES = {"signed_out": "You are signed out."}
FLASH_MAX_CHARS = 500
TOKEN_SHAPE = re.compile(r"[\x21-\x7e]{1,512}")
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")
AMOUNT_ACTIONS = ("partial_refund", "credit")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text, textarea, select, date, number
    options: tuple[str, ...] = ()
    required: bool = True


@dataclass(frozen=True)
class Action:
    """An order action as a form: its API call, and the fields its body is made of."""

    name: str
    label: str
    method: str
    path: str  # under /v1/orders/{id}
    fields: tuple[Field, ...] = ()
    style: str = "secondary"


REASONS = ("not_received", "not_as_described", "damaged", "other")
ORDER_ACTIONS = {
    action.name: action
    for action in (
        Action("accept", "Accept the order", "POST", "/accept", style="primary"),
        Action("decline", "Decline", "POST", "/decline", (Field("reason", "Why"),)),
        Action(
            "ship",
            "Mark as shipped",
            "POST",
            "/ship",
            (
                Field("carrier", "Carrier", required=False),
                Field("tracking_number", "Tracking number", required=False),
                Field(
                    "transfer_reference", "Transfer reference (tickets, bookings)", required=False
                ),
            ),
            style="primary",
        ),
        Action("cancel", "Cancel the order", "POST", "/cancel", (Field("reason", "Why"),)),
        Action(
            "change_address",
            "Change the delivery address",
            "PUT",
            "/shipping-address",
            (
                Field("name", "Name"),
                Field("line1", "Street and number"),
                Field("city", "City"),
                Field("postal_code", "Postal code"),
                Field("country", "Country (2 letters)"),
            ),
        ),
        Action(
            "redeliver",
            "Ask for another delivery",
            "POST",
            "/redeliver",
            (Field("preferred_date", "Preferred date", "date"),),
        ),
        Action(
            "confirm_receipt",
            "I received it as described",
            "POST",
            "/confirm-receipt",
            style="primary",
        ),
        Action(
            "report_problem",
            "Report a problem",
            "POST",
            "/report-problem",
            (
                Field("reason", "What is wrong", "select", REASONS),
                Field("details", "Details", "textarea"),
            ),
        ),
        Action("return", "Return it", "POST", "/return", (Field("reason", "Why"),)),
        Action(
            "exchange",
            "Ask for an exchange",
            "POST",
            "/exchange",
            (Field("reason", "Why"), Field("note", "Note", "textarea", required=False)),
        ),
        Action(
            "review",
            "Review the seller",
            "POST",
            "/review",
            (
                Field("rating", "Rating", "select", ("5", "4", "3", "2", "1")),
                Field("text", "Your review", "textarea", required=False),
            ),
        ),
        Action(
            "message",
            "Send a message",
            "POST",
            "/messages",
            (Field("body", "Message", "textarea"),),
        ),
    )
}
RESOLUTIONS = ("refund", "partial_refund", "credit", "reship", "return", "rebook", "no_action")
STANDINGS = ("good", "at_risk", "under_review", "suspended", "revoked")


def body_of(fields: tuple[Field, ...], form: dict[str, str]) -> dict[str, Any]:
    """The JSON body from a form: blank optional fields left out, numbers as numbers."""
    body: dict[str, Any] = {}
    for field in fields:
        value = form.get(field.name, "").strip()
        if not value and not field.required:
            continue
        is_rating = field.name == "rating" and WHOLE_NUMBER.fullmatch(value)
        body[field.name] = int(value) if is_rating else value
    return body


def money(value: dict[str, Any] | None) -> str:
    if not value:
        return "-"
    try:
        minor, currency = int(value["amount_minor"]), str(value["currency"])
    except (KeyError, TypeError, ValueError):
        return "-"
    sign, minor = ("-" if minor < 0 else ""), abs(minor)
    return f"{sign}{minor // 100:,}.{minor % 100:02d} {currency}"


def when(value: str | None) -> str:
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return moment.strftime("%a %d %b %Y, %H:%M UTC")


def utc(local: str) -> str:
    """A `datetime-local` field's value, which carries no zone, read as UTC."""
    return f"{local}:00Z" if len(local) == len("2026-01-31T10:00") else local


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def metric_rows(metrics: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each metric as the seller reads it: value and target in its own unit, and whether it
    misses the target (only once the sample is large enough to judge)."""
    rows = []
    for name, metric in metrics.items():
        value, target, direction = (
            metric.get("value"),
            metric.get("threshold"),
            metric.get("direction"),
        )
        shown = (
            (lambda v: "-" if v is None else f"{v:.1f}") if name == "average_rating" else percent
        )
        missed = (
            bool(metric.get("judged"))
            and value is not None
            and target is not None
            and (value < target if direction == "at_least" else value > target)
        )
        sign = {"at_least": "≥ ", "at_most": "≤ "}.get(direction or "", "")
        rows.append(
            {
                "name": name.replace("_", " "),
                "value": shown(value),
                "target": f"{sign}{shown(target)}" if target is not None else "-",
                "sample": metric.get("sample_size", 0),
                "missed": missed,
                "orders": metric.get("orders", []),
            }
        )
    return rows


def lag_rows(consumers: dict[str, Any]) -> list[dict[str, Any]]:
    """Lag per consumer group and topic (the API gives it per partition)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for group in consumers.get("groups", []):
        for partition in group.get("partitions", []):
            row = rows.setdefault(
                (group["group"], partition["topic"]),
                {"group": group["group"], "topic": partition["topic"], "lag": 0, "partitions": 0},
            )
            row["lag"] += partition["lag"]
            row["partitions"] += 1
    return list(rows.values())


templates.env.filters |= {"money": money, "when": when, "percent": percent}


class Portal:
    def __init__(self, app: FastAPI, sessions: PortalSessions) -> None:
        self.app = app
        self.sessions = sessions

    def api(self, token: str, request: Request) -> httpx.AsyncClient:
        """The public API in-process, as the principal of `token`, from the browser's address
        (so the API's limits per client address count the browser, not the portal)."""
        client = (request.client.host, request.client.port) if request.client else ("portal", 0)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, client=client),
            base_url="http://gateway",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def over_tls(self, request: Request) -> bool:
        settings = self.sessions.settings
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return (
            settings.force_secure_cookie
            or request.url.scheme == "https"
            or (settings.trust_forwarded_proto and forwarded == "https")
        )

    def set_cookie(self, request: Request, response: Response, name: str, value: str) -> None:
        response.set_cookie(
            name,
            value,
            httponly=True,
            samesite="lax",
            secure=self.over_tls(request),
            path=PORTAL,
        )

    async def page(
        self, request: Request, template: str, session: Session, **context: Any
    ) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            f"portal/{template}",
            {
                "me": session.me,
                "csrf": csrf_token(session.session_id),
                "form_key": str(uuid.uuid4()),
                "notice": signed_flash(request, session, "notice"),
                "error": signed_flash(request, session, "error"),
                **context,
            },
        )


def signed_flash(request: Request, session: Session, kind: str) -> str | None:
    """The flash message in the query, if this session's portal wrote it (see `back`)."""
    text = request.query_params.get(kind)
    signature = request.query_params.get("sig", "")
    if not text or not hmac.compare_digest(
        signature, flash_signature(session.session_id, kind, text)
    ):
        return None
    return text


def back(
    session: Session, to: str, answer: httpx.Response | None = None, done: str = "Done."
) -> RedirectResponse:
    """Post/redirect/get: back to the page, with the API's verdict to show there (signed for
    this session, so only the portal can choose what a page says)."""
    if answer is not None and answer.status_code >= 400:
        problem = _json(answer)
        message = problem.get("detail") or problem.get("title") or f"Refused ({answer.status_code})"
        kind, text = "error", str(message)[:FLASH_MAX_CHARS]
    else:
        kind, text = "notice", done
    query = urlencode({kind: text, "sig": flash_signature(session.session_id, kind, text)})
    return RedirectResponse(f"{to}?{query}", status_code=303)


def refused(session: Session, to: str, detail: str, status: int = 422) -> RedirectResponse:
    """Back to the page with a refusal the portal itself made (bad form input)."""
    return back(session, to, httpx.Response(status, json={"detail": detail}))


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class SignInFirst(Exception):
    """No valid session: the page answers with the sign-in form instead."""


class StaleForm(Exception):
    """A form whose CSRF token is not this session's (forged, or from an older session)."""


@dataclass(frozen=True)
class Session:
    session_id: str
    token: str
    me: dict[str, Any]


def to_sign_in(error: str | None = None) -> RedirectResponse:
    query = f"?{urlencode({'error': error})}" if error else ""
    return RedirectResponse(f"{PORTAL}/sign-in{query}", status_code=303)


async def live_session(portal: Portal, request: Request, session_id: str | None) -> Session | None:
    """The session with this id while it lasts and its principal's token still works."""
    if not session_id:
        return None
    opened: OpenSession | None = await portal.sessions.open(session_id)
    if opened is None:
        return None
    async with portal.api(opened.token, request) as api:
        answer = await api.get("/v1/me")
    me = _json(answer)
    if answer.status_code != 200 or me.get("id") != opened.principal_id:
        await portal.sessions.end(session_id)  # the token was revoked or expired
        return None
    return Session(session_id, opened.token, me)


async def session_of(request: Request) -> Session:
    session = await live_session(
        request.app.state.portal, request, request.cookies.get(SESSION_COOKIE)
    )
    if session is None:
        raise SignInFirst
    return session


SessionDep = Annotated[Session, Depends(session_of)]


async def form_of(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


async def posted_form(request: Request, session: SessionDep) -> dict[str, str]:
    form = await form_of(request)
    if not hmac.compare_digest(form.get("csrf", ""), csrf_token(session.session_id)):
        raise StaleForm
    return form


FormDep = Annotated[dict[str, str], Depends(posted_form)]


def build_router(portal: Portal) -> APIRouter:
    router = APIRouter(prefix=PORTAL, include_in_schema=False)

    @router.get("", response_model=None)
    async def home(session: SessionDep) -> Response:
        role = session.me["role"]
        target = {"agent": "/tickets", "operator": "/ops"}.get(role, "/orders")
        return RedirectResponse(f"{PORTAL}{target}", status_code=303)

    @router.get("/sign-in", response_model=None)
    async def sign_in_page(request: Request) -> Response:
        # Only fixed messages, chosen by a short code: a link cannot put words on this page.
        pre_session = request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)
        response = templates.TemplateResponse(
            request,
            "portal/sign_in.html",
            {
                "error": SIGN_IN_ERRORS.get(request.query_params.get("error", "")),
                "notice": SIGN_IN_NOTICES.get(request.query_params.get("notice", "")),
                "csrf": pre_session,
            },
        )
        portal.set_cookie(request, response, SIGN_IN_COOKIE, pre_session)
        return response

    @router.post("/sign-in", response_model=None)
    async def sign_in(request: Request) -> Response:
        form = await form_of(request)
        pre_session = request.cookies.get(SIGN_IN_COOKIE, "")
        if not pre_session or not hmac.compare_digest(form.get("csrf", ""), pre_session):
            raise StaleForm  # login CSRF: a form this browser was not given
        token = form.get("token", "").strip()
        if not TOKEN_SHAPE.fullmatch(token):
            return to_sign_in("invalid")
        async with portal.api(token, request) as api:
            answer = await api.get("/v1/me")
        me = _json(answer)
        if answer.status_code != 200 or not me.get("id"):
            return to_sign_in("invalid")
        previous = request.cookies.get(SESSION_COOKIE)
        if previous:
            await portal.sessions.end(previous)
        session_id = await portal.sessions.start(str(me["id"]), token)
        response = RedirectResponse(PORTAL, status_code=303)
        portal.set_cookie(request, response, SESSION_COOKIE, session_id)
        response.delete_cookie(SIGN_IN_COOKIE, path=PORTAL)
        return response

    @router.post("/sign-out", response_model=None)
    async def sign_out(request: Request) -> Response:
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            form = await form_of(request)
            if not hmac.compare_digest(form.get("csrf", ""), csrf_token(session_id)):
                raise StaleForm
            await portal.sessions.end(session_id)
        response = RedirectResponse(f"{PORTAL}/sign-in?notice=signed_out", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PORTAL)
        return response

    @router.get("/orders", response_model=None)
    async def orders(request: Request, session: SessionDep) -> Response:
        role = "seller" if session.me["role"] == "seller" else "buyer"
        async with portal.api(session.token, request) as api:
            listed = _json(await api.get("/v1/orders", params={"role": role, "limit": 200}))
        items = listed.get("items", [])
        groups = (
            {
                "To accept": [o for o in items if "accept" in o.get("allowed_actions", [])],
                "To ship": [o for o in items if "ship" in o.get("allowed_actions", [])],
            }
            if role == "seller"
            else {}
        )
        return await portal.page(
            request, "orders.html", session, orders=items, groups=groups, role=role
        )

    @router.get("/orders/{order_id}", response_model=None)
    async def order_page(request: Request, order_id: str, session: SessionDep) -> Response:
        async with portal.api(session.token, request) as api:
            answer = await api.get(f"/v1/orders/{quote(order_id)}")
            if answer.status_code != 200:
                return not_found("No such order.")
            messages = _json(await api.get(f"/v1/orders/{quote(order_id)}/messages"))
            payment = _json(await api.get(f"/v1/orders/{quote(order_id)}/payment"))
        order = answer.json()
        actions = [ORDER_ACTIONS[a] for a in order.get("allowed_actions", []) if a in ORDER_ACTIONS]
        return await portal.page(
            request,
            "order.html",
            session,
            order=order,
            actions=actions,
            messages=messages.get("items", []),
            payment_detail=payment,
        )

    @router.post("/orders/{order_id}/{action}", response_model=None)
    async def order_action(
        request: Request, order_id: str, action: str, session: SessionDep, form: FormDep
    ) -> Response:
        page = f"{PORTAL}/orders/{quote(order_id)}"
        chosen = ORDER_ACTIONS.get(action)
        if chosen is None:
            return refused(session, page, "No such action.", 404)
        async with portal.api(session.token, request) as api:
            answer = await api.request(
                chosen.method,
                f"/v1/orders/{quote(order_id)}{chosen.path}",
                json=body_of(chosen.fields, form),
                headers={"Idempotency-Key": idempotency_key(form)},
            )
        return back(session, page, answer, f"{chosen.label}: done.")

    @router.get("/notifications", response_model=None)
    async def notifications(request: Request, session: SessionDep) -> Response:
        async with portal.api(session.token, request) as api:
            inbox = _json(await api.get("/v1/me/notifications", params={"limit": 100}))
        return await portal.page(
            request, "notifications.html", session, notifications=inbox.get("items", [])
        )

    @router.post("/notifications/{notification_id}/read", response_model=None)
    async def mark_read(
        request: Request, notification_id: str, session: SessionDep, _: FormDep
    ) -> Response:
        async with portal.api(session.token, request) as api:
            answer = await api.post(f"/v1/me/notifications/{quote(notification_id)}/read")
        return back(session, f"{PORTAL}/notifications", answer, "Marked as read.")

    @router.get("/credits", response_model=None)
    async def credits(request: Request, session: SessionDep) -> Response:
        async with portal.api(session.token, request) as api:
            found = _json(await api.get("/v1/me/credits"))
        return await portal.page(request, "credits.html", session, credits=found)

    @router.get("/standards", response_model=None)
    async def standards(request: Request, session: SessionDep) -> Response:
        seller_id = request.query_params.get("seller_id") or session.me["id"]
        async with portal.api(session.token, request) as api:
            answer = await api.get(f"/v1/sellers/{quote(seller_id)}/standards")
        if answer.status_code != 200:
            return plain_page(
                "No standards to show.", 404 if answer.status_code >= 500 else answer.status_code
            )
        shown = answer.json()
        return await portal.page(
            request,
            "standards.html",
            session,
            standards=shown,
            metrics=metric_rows(shown.get("metrics", {})),
            seller_id=seller_id,
        )

    @router.get("/tickets", response_model=None)
    async def tickets(request: Request, session: SessionDep) -> Response:
        async with portal.api(session.token, request) as api:
            queue = _json(await api.get("/v1/tickets", params={"limit": 200}))
        return await portal.page(request, "tickets.html", session, tickets=queue.get("items", []))

    @router.get("/tickets/{ticket_id}", response_model=None)
    async def ticket_page(request: Request, ticket_id: str, session: SessionDep) -> Response:
        async with portal.api(session.token, request) as api:
            answer = await api.get(f"/v1/tickets/{quote(ticket_id)}")
            if answer.status_code != 200:
                return not_found("No such ticket.")
            ticket = answer.json()
            order = None
            if ticket.get("order_id"):
                order = _json(await api.get(f"/v1/orders/{quote(str(ticket['order_id']))}"))
        return await portal.page(
            request, "ticket.html", session, ticket=ticket, order=order, actions=RESOLUTIONS
        )

    @router.post("/tickets/{ticket_id}/{step}", response_model=None)
    async def ticket_action(
        request: Request, ticket_id: str, step: str, session: SessionDep, form: FormDep
    ) -> Response:
        page = f"{PORTAL}/tickets/{quote(ticket_id)}"
        if step == "reply":
            path, body = "/messages", {"body": form.get("body", ""), "internal": "internal" in form}
        elif step == "resolve":
            decided = resolution_of(form)
            if isinstance(decided, str):
                return refused(session, page, decided)
            path, body = "/resolve", decided
        else:
            return refused(session, page, "No such step.", 404)
        async with portal.api(session.token, request) as api:
            answer = await api.post(
                f"/v1/tickets/{quote(ticket_id)}{path}",
                json=body,
                headers={"Idempotency-Key": idempotency_key(form)},
            )
        return back(session, page, answer, "Sent." if step == "reply" else "Resolved.")

    @router.get("/ops", response_model=None)
    async def ops(request: Request, session: SessionDep) -> Response:
        async with portal.api(session.token, request) as api:
            consumers = await api.get("/v1/ops/consumers")
            if consumers.status_code != 200:
                return plain_page("Operators only.", 403)
            letters = _json(await api.get("/v1/ops/dead-letters"))
        return await portal.page(
            request,
            "ops.html",
            session,
            lags=lag_rows(consumers.json()),
            letters=letters.get("items", []),
            standings=STANDINGS,
        )

    @router.post("/ops/{step}", response_model=None)
    async def ops_action(
        request: Request, step: str, session: SessionDep, form: FormDep
    ) -> Response:
        async with portal.api(session.token, request) as api:
            if step == "replay":
                answer = await api.post(
                    f"/v1/ops/dead-letters/{quote(form.get('letter_id', ''), safe='')}/replay"
                )
            elif step == "standing":
                answer = await api.put(
                    f"/v1/sellers/{quote(form.get('seller_id', ''))}/standing",
                    json={"standing": form.get("standing"), "reason": form.get("reason")},
                )
            elif step == "exemption":
                answer = await api.post(
                    f"/v1/sellers/{quote(form.get('seller_id', ''))}/exemptions",
                    json={
                        "from": utc(form.get("from", "")),
                        "to": utc(form.get("to", "")),
                        "reason": form.get("reason"),
                    },
                )
            else:
                answer = httpx.Response(404, json={"detail": "No such step."})
        return back(session, f"{PORTAL}/ops", answer)

    return router


def idempotency_key(form: dict[str, str]) -> str:
    return form.get("idempotency_key", "")[:200] or str(uuid.uuid4())


def resolution_of(form: dict[str, str]) -> dict[str, Any] | str:
    """The resolve form as the API's body, or what is wrong with it. No action is assumed:
    the agent must choose one (an empty form used to mean a full refund)."""
    action = form.get("action", "")
    if action not in RESOLUTIONS:
        return "Choose what to do: the resolution has no default."
    body: dict[str, Any] = {"action": action, "note": form.get("note", "")}
    amount = form.get("amount_minor", "").strip()
    if amount:
        if not WHOLE_NUMBER.fullmatch(amount) or int(amount) == 0:
            return "The amount must be a positive whole number of minor units (cents)."
        body["amount"] = {"amount_minor": int(amount), "currency": form.get("currency", "EUR")}
    elif action in AMOUNT_ACTIONS:
        return f"A {action.replace('_', ' ')} needs an amount."
    return body


def plain_page(message: str, status: int) -> HTMLResponse:
    """A refusal as a page (escaped like every other; the portal's own words only)."""
    page = templates.get_template("portal/message.html").render(message=message, me=None)
    return HTMLResponse(page, status_code=status)


def not_found(message: str) -> HTMLResponse:
    return plain_page(message, 404)


async def _sign_in_first(_: Request, __: Exception) -> Response:
    response = to_sign_in()
    response.delete_cookie(SESSION_COOKIE, path=PORTAL)
    return response


async def _stale_form(_: Request, __: Exception) -> Response:
    return plain_page("The form has expired; reload the page and try again.", 403)


PORTAL_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
EVERY_RESPONSE = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """Security headers on every answer: the harmless ones on the API, and on portal pages a
    Content-Security-Policy that allows no script at all, and no caching of what a signed-in
    principal sees. Pure ASGI: it only adds headers as the response starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        portal = path == PORTAL or path.startswith(f"{PORTAL}/")
        static = path.startswith(f"{PORTAL}/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if not (portal and not static and name.lower() == b"cache-control")
                ]
                present = {name.lower() for name, _ in headers}
                added = list(EVERY_RESPONSE)
                added.append(
                    (b"content-security-policy", PORTAL_CSP.encode())
                    if portal
                    else (b"content-security-policy", b"frame-ancestors 'none'")
                )
                if portal and not static:
                    added.append((b"cache-control", b"no-store"))
                headers += [(name, value) for name, value in added if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def install(
    app: FastAPI,
    db: Database,
    *,
    settings: PortalSettings | None = None,
    clock: Clock | None = None,
) -> None:
    """Serve the portal (and its stylesheet) from `app`. Sessions age on the wall clock (not
    the platform's business clock, which the dev stack lets an operator move)."""
    sessions = PortalSessions(db, clock or SystemClock(), settings or PortalSettings())
    app.state.portal = Portal(app, sessions)
    app.include_router(build_router(app.state.portal))
    app.add_exception_handler(SignInFirst, _sign_in_first)
    app.add_exception_handler(StaleForm, _stale_form)
    app.mount(f"{PORTAL}/static", StaticFiles(directory=HERE / "static"), name="portal-static")
