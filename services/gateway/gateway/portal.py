"""The web portal: pages for buyers, sellers, support agents and operators, served by the
gateway under `/portal`.

Every page and every action goes through the public API (`/v1/...`) in-process, with the
signed-in principal's own token, so the portal shows and does exactly what the API allows that
principal: the same authentication, authorization, idempotency and problem details. Pages are
plain server-rendered HTML (readable without JavaScript); actions are ordinary forms that
post, then redirect back to the page (post/redirect/get).

The token is kept in an HttpOnly cookie. Each form carries a CSRF token (an HMAC of the
session token) and an `Idempotency-Key` made when the form was drawn, so a form sent twice
acts once.
"""

from __future__ import annotations

import hashlib
import hmac
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

PORTAL = "/portal"
SESSION_COOKIE = "mkt_session"
HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")


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
        body[field.name] = int(value) if field.name == "rating" and value.isdigit() else value
    return body


def money(value: dict[str, Any] | None) -> str:
    if not value:
        return "-"
    minor, currency = int(value["amount_minor"]), value["currency"]
    return f"{minor // 100:,}.{minor % 100:02d} {currency}"


def when(value: str | None) -> str:
    if not value:
        return "-"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
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
    def __init__(self, app: FastAPI, secret: str) -> None:
        self.app = app
        self.secret = (secret or "portal").encode()

    def csrf(self, token: str) -> str:
        return hmac.new(self.secret, token.encode(), hashlib.sha256).hexdigest()

    def api(self, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://gateway",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    async def page(
        self, request: Request, template: str, token: str, me: dict[str, Any], **context: Any
    ) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            f"portal/{template}",
            {
                "me": me,
                "csrf": self.csrf(token),
                "form_key": str(uuid.uuid4()),
                "notice": request.query_params.get("notice"),
                "error": request.query_params.get("error"),
                **context,
            },
        )


def back(to: str, answer: httpx.Response | None = None, done: str = "Done.") -> RedirectResponse:
    """Post/redirect/get: back to the page, with the API's verdict to show there."""
    if answer is not None and answer.status_code >= 400:
        problem = _json(answer)
        message = problem.get("detail") or problem.get("title") or f"Refused ({answer.status_code})"
        query = urlencode({"error": message})
    else:
        query = urlencode({"notice": done})
    return RedirectResponse(f"{to}?{query}", status_code=303)


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
    token: str
    me: dict[str, Any]


def to_sign_in() -> RedirectResponse:
    return RedirectResponse(f"{PORTAL}/sign-in", status_code=303)


async def session_of(request: Request) -> Session:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInFirst
    async with request.app.state.portal.api(token) as api:
        answer = await api.get("/v1/me")
    if answer.status_code != 200:
        raise SignInFirst
    return Session(token, answer.json())


SessionDep = Annotated[Session, Depends(session_of)]


async def posted_form(request: Request, session: SessionDep) -> dict[str, str]:
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not hmac.compare_digest(form.get("csrf", ""), request.app.state.portal.csrf(session.token)):
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
        return templates.TemplateResponse(
            request, "portal/sign_in.html.j2", {"error": request.query_params.get("error")}
        )

    @router.post("/sign-in", response_model=None)
    async def sign_in(request: Request) -> Response:
        token = str((await request.form()).get("token", "")).strip()
        async with portal.api(token) as api:
            answer = await api.get("/v1/me")
        if not token or answer.status_code != 200:
            query = urlencode({"error": "That token is not valid."})
            return RedirectResponse(f"{PORTAL}/sign-in?{query}", status_code=303)
        response = RedirectResponse(PORTAL, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path=PORTAL,
        )
        return response

    @router.post("/sign-out", response_model=None)
    async def sign_out() -> Response:
        response = to_sign_in()
        response.delete_cookie(SESSION_COOKIE, path=PORTAL)
        return response

    @router.get("/orders", response_model=None)
    async def orders(request: Request, session: SessionDep) -> Response:
        token, me = session.token, session.me
        role = "seller" if me["role"] == "seller" else "buyer"
        async with portal.api(token) as api:
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
            request, "orders.html.j2", token, me, orders=items, groups=groups, role=role
        )

    @router.get("/orders/{order_id}", response_model=None)
    async def order_page(request: Request, order_id: str, session: SessionDep) -> Response:
        token, me = session.token, session.me
        async with portal.api(token) as api:
            answer = await api.get(f"/v1/orders/{quote(order_id)}")
            if answer.status_code != 200:
                return HTMLResponse("No such order.", status_code=404)
            messages = _json(await api.get(f"/v1/orders/{quote(order_id)}/messages"))
            payment = _json(await api.get(f"/v1/orders/{quote(order_id)}/payment"))
        order = answer.json()
        actions = [ORDER_ACTIONS[a] for a in order.get("allowed_actions", []) if a in ORDER_ACTIONS]
        return await portal.page(
            request,
            "order.html.j2",
            token,
            me,
            order=order,
            actions=actions,
            messages=messages.get("items", []),
            payment_detail=payment,
        )

    @router.post("/orders/{order_id}/{action}", response_model=None)
    async def order_action(
        request: Request, order_id: str, action: str, session: SessionDep, form: FormDep
    ) -> Response:
        token = session.token
        page = f"{PORTAL}/orders/{quote(order_id)}"
        chosen = ORDER_ACTIONS.get(action)
        if chosen is None:
            return back(page, httpx.Response(404, json={"detail": "No such action"}))
        async with portal.api(token) as api:
            answer = await api.request(
                chosen.method,
                f"/v1/orders/{quote(order_id)}{chosen.path}",
                json=body_of(chosen.fields, form),
                headers={"Idempotency-Key": form.get("idempotency_key") or str(uuid.uuid4())},
            )
        return back(page, answer, f"{chosen.label}: done.")

    @router.get("/notifications", response_model=None)
    async def notifications(request: Request, session: SessionDep) -> Response:
        token, me = session.token, session.me
        async with portal.api(token) as api:
            inbox = _json(await api.get("/v1/me/notifications", params={"limit": 100}))
        return await portal.page(
            request, "notifications.html.j2", token, me, notifications=inbox.get("items", [])
        )

    @router.post("/notifications/{notification_id}/read", response_model=None)
    async def mark_read(
        request: Request, notification_id: str, session: SessionDep, _: FormDep
    ) -> Response:
        token = session.token
        async with portal.api(token) as api:
            answer = await api.post(f"/v1/me/notifications/{quote(notification_id)}/read")
        return back(f"{PORTAL}/notifications", answer, "Marked as read.")

    @router.get("/credits", response_model=None)
    async def credits(request: Request, session: SessionDep) -> Response:
        token, me = session.token, session.me
        async with portal.api(token) as api:
            found = _json(await api.get("/v1/me/credits"))
        return await portal.page(request, "credits.html.j2", token, me, credits=found)

    @router.get("/standards", response_model=None)
    async def standards(request: Request, session: SessionDep) -> Response:
        token, me = session.token, session.me
        seller_id = request.query_params.get("seller_id") or me["id"]
        async with portal.api(token) as api:
            answer = await api.get(f"/v1/sellers/{quote(seller_id)}/standards")
        if answer.status_code != 200:
            return HTMLResponse("No standards to show.", status_code=answer.status_code)
        shown = answer.json()
        return await portal.page(
            request,
            "standards.html.j2",
            token,
            me,
            standards=shown,
            metrics=metric_rows(shown.get("metrics", {})),
            seller_id=seller_id,
        )

    @router.get("/tickets", response_model=None)
    async def tickets(request: Request, session: SessionDep) -> Response:
        token, me = session.token, session.me
        async with portal.api(token) as api:
            queue = _json(await api.get("/v1/tickets", params={"limit": 200}))
        return await portal.page(
            request, "tickets.html.j2", token, me, tickets=queue.get("items", [])
        )

    @router.get("/tickets/{ticket_id}", response_model=None)
    async def ticket_page(request: Request, ticket_id: str, session: SessionDep) -> Response:
        token, me = session.token, session.me
        async with portal.api(token) as api:
            answer = await api.get(f"/v1/tickets/{quote(ticket_id)}")
            if answer.status_code != 200:
                return HTMLResponse("No such ticket.", status_code=404)
            ticket = answer.json()
            order = None
            if ticket.get("order_id"):
                order = _json(await api.get(f"/v1/orders/{quote(ticket['order_id'])}"))
        return await portal.page(
            request, "ticket.html.j2", token, me, ticket=ticket, order=order, actions=RESOLUTIONS
        )

    @router.post("/tickets/{ticket_id}/{step}", response_model=None)
    async def ticket_action(
        request: Request, ticket_id: str, step: str, session: SessionDep, form: FormDep
    ) -> Response:
        token = session.token
        page = f"{PORTAL}/tickets/{quote(ticket_id)}"
        if step == "reply":
            path, body = "/messages", {"body": form.get("body", ""), "internal": "internal" in form}
        elif step == "resolve":
            path, body = "/resolve", {"action": form.get("action"), "note": form.get("note", "")}
            if form.get("amount_minor"):
                body["amount"] = {
                    "amount_minor": int(form["amount_minor"]),
                    "currency": form.get("currency", "EUR"),
                }
        else:
            return back(page, httpx.Response(404, json={"detail": "No such step"}))
        async with portal.api(token) as api:
            answer = await api.post(
                f"/v1/tickets/{quote(ticket_id)}{path}",
                json=body,
                headers={"Idempotency-Key": form.get("idempotency_key") or str(uuid.uuid4())},
            )
        return back(page, answer, "Sent." if step == "reply" else "Resolved.")

    @router.get("/ops", response_model=None)
    async def ops(request: Request, session: SessionDep) -> Response:
        token, me = session.token, session.me
        async with portal.api(token) as api:
            consumers = await api.get("/v1/ops/consumers")
            if consumers.status_code != 200:
                return HTMLResponse("Operators only.", status_code=consumers.status_code)
            letters = _json(await api.get("/v1/ops/dead-letters"))
        return await portal.page(
            request,
            "ops.html.j2",
            token,
            me,
            lags=lag_rows(consumers.json()),
            letters=letters.get("items", []),
            standings=STANDINGS,
        )

    @router.post("/ops/{step}", response_model=None)
    async def ops_action(
        request: Request, step: str, session: SessionDep, form: FormDep
    ) -> Response:
        token = session.token
        async with portal.api(token) as api:
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
                answer = httpx.Response(404, json={"detail": "No such step"})
        return back(f"{PORTAL}/ops", answer)

    return router


async def _sign_in_first(_: Request, __: Exception) -> Response:
    return to_sign_in()


async def _stale_form(_: Request, __: Exception) -> Response:
    return HTMLResponse("The form has expired; reload the page and try again.", 403)


def install(app: FastAPI, secret: str) -> None:
    """Serve the portal (and its stylesheet) from `app`."""
    app.state.portal = Portal(app, secret)
    app.include_router(build_router(app.state.portal))
    app.add_exception_handler(SignInFirst, _sign_in_first)
    app.add_exception_handler(StaleForm, _stale_form)
    app.mount(f"{PORTAL}/static", StaticFiles(directory=HERE / "static"), name="portal-static")
