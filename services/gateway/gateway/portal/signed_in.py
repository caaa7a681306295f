"""Who is at the browser: the portal's state (the public API in-process, the session store,
its cookies), the signed-in `Session` every page depends on, and the CSRF check of a form.

A page without a live session answers with the sign-in form (`SignInFirst`); a form whose CSRF
token is not this session's is refused (`StaleForm`)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from gateway.portal.sessions import OpenSession, PortalSessions, csrf_token
from gateway.portal.settings import PORTAL, SESSION_COOKIE


class Portal:
    """What the portal's routes share: the app whose public API they call, and the sessions."""

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


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


PortalDep = Annotated[Portal, Depends(portal_of)]


class SignInFirst(Exception):
    """No valid session: the page answers with the sign-in form instead."""


class StaleForm(Exception):
    """A form whose CSRF token is not this session's (forged, or from an older session)."""


@dataclass(frozen=True)
class Session:
    session_id: str
    token: str
    me: dict[str, Any]


def answer_json(answer: httpx.Response) -> dict[str, Any]:
    """The API's answer as an object; empty when it is not one."""
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def live_session(portal: Portal, request: Request, session_id: str | None) -> Session | None:
    """The session with this id while it lasts and its principal's token still works."""
    if not session_id:
        return None
    opened: OpenSession | None = await portal.sessions.open(session_id)
    if opened is None:
        return None
    async with portal.api(opened.token, request) as api:
        answer = await api.get("/v1/me")
    me = answer_json(answer)
    if answer.status_code != 200 or me.get("id") != opened.principal_id:
        await portal.sessions.end(session_id)  # the token was revoked or expired
        return None
    return Session(session_id, opened.token, me)


async def session_of(request: Request, portal: PortalDep) -> Session:
    session = await live_session(portal, request, request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise SignInFirst
    return session


SessionDep = Annotated[Session, Depends(session_of)]


async def form_of(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def is_csrf_token_of(session_id: str, form: dict[str, str]) -> bool:
    return hmac.compare_digest(form.get("csrf", ""), csrf_token(session_id))


async def posted_form(request: Request, session: SessionDep) -> dict[str, str]:
    form = await form_of(request)
    if not is_csrf_token_of(session.session_id, form):
        raise StaleForm
    return form


FormDep = Annotated[dict[str, str], Depends(posted_form)]
