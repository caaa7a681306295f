"""Signing in and out, the home page, and what every signed-in principal has: notifications,
and a buyer's credits."""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.portal.next_page import safe_next
from gateway.portal.responses import back, page, to_sign_in
from gateway.portal.settings import PORTAL, SESSION_COOKIE, SIGN_IN_COOKIE
from gateway.portal.signed_in import (
    FormDep,
    PortalDep,
    SessionDep,
    StaleForm,
    answer_json,
    form_of,
    is_csrf_token_of,
)
from gateway.portal.views import templates

router = APIRouter(prefix=PORTAL, include_in_schema=False)

SIGN_IN_ERRORS = {
    "invalid": "That token is not valid.",
    "expired": "Your session has ended; sign in again.",
}
SIGN_IN_NOTICES = {"signed_out": "You are signed out."}
TOKEN_SHAPE = re.compile(r"[\x21-\x7e]{1,512}")


@router.get("", response_model=None)
async def home(session: SessionDep) -> Response:
    role = session.me["role"]
    target = {"agent": "/tickets", "operator": "/ops"}.get(role, "/orders")
    return RedirectResponse(f"{PORTAL}{target}", status_code=303)


@router.get("/sign-in", response_model=None)
async def sign_in_page(request: Request, portal: PortalDep) -> Response:
    # Only fixed messages, chosen by a short code: a link cannot put words on this page.
    pre_session = request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request,
        "portal/sign_in.html",
        {
            "error": SIGN_IN_ERRORS.get(request.query_params.get("error", "")),
            "notice": SIGN_IN_NOTICES.get(request.query_params.get("notice", "")),
            "csrf": pre_session,
            "next_page": safe_next(request.query_params.get("next")),
        },
    )
    portal.set_cookie(request, response, SIGN_IN_COOKIE, pre_session)
    return response


@router.post("/sign-in", response_model=None)
async def sign_in(request: Request, portal: PortalDep) -> Response:
    form = await form_of(request)
    pre_session = request.cookies.get(SIGN_IN_COOKIE, "")
    if not pre_session or not hmac.compare_digest(form.get("csrf", ""), pre_session):
        raise StaleForm  # login CSRF: a form this browser was not given
    token = form.get("token", "").strip()
    next_page = safe_next(form.get("next"))
    if not TOKEN_SHAPE.fullmatch(token):
        return to_sign_in("invalid", next_page)
    async with portal.api(token, request) as api:
        answer = await api.get("/v1/me")
    me = answer_json(answer)
    if answer.status_code != 200 or not me.get("id"):
        return to_sign_in("invalid", next_page)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        await portal.sessions.end(previous)
    session_id = await portal.sessions.start(str(me["id"]), token)
    response = RedirectResponse(next_page or PORTAL, status_code=303)
    portal.set_cookie(request, response, SESSION_COOKIE, session_id)
    response.delete_cookie(SIGN_IN_COOKIE, path=PORTAL)
    return response


@router.post("/sign-out", response_model=None)
async def sign_out(request: Request, portal: PortalDep) -> Response:
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        if not is_csrf_token_of(session_id, await form_of(request)):
            raise StaleForm
        await portal.sessions.end(session_id)
    response = RedirectResponse(f"{PORTAL}/sign-in?notice=signed_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PORTAL)
    return response


@router.get("/notifications", response_model=None)
async def notifications(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    async with portal.api(session.token, request) as api:
        inbox = answer_json(await api.get("/v1/me/notifications", params={"limit": 100}))
    return page(request, "notifications.html", session, notifications=inbox.get("items", []))


@router.post("/notifications/{notification_id}/read", response_model=None)
async def mark_read(
    request: Request, notification_id: str, portal: PortalDep, session: SessionDep, _: FormDep
) -> Response:
    async with portal.api(session.token, request) as api:
        answer = await api.post(f"/v1/me/notifications/{quote(notification_id)}/read")
    return back(session, f"{PORTAL}/notifications", answer, "Marked as read.")


@router.get("/credits", response_model=None)
async def credits(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    async with portal.api(session.token, request) as api:
        found = answer_json(await api.get("/v1/me/credits"))
    return page(request, "credits.html", session, credits=found)
