"""The web portal: pages for buyers, sellers, support agents and operators, served by the
gateway under `/portal`.

Every page and every action goes through the public API (`/v1/...`) in-process, with the
signed-in principal's own token, so the portal shows and does exactly what the API allows that
principal: the same authentication, authorization, idempotency and problem details. Pages are
plain server-rendered HTML (readable without JavaScript); actions are ordinary forms that
post, then redirect back to the page (post/redirect/get).

The browser holds only a random session id (HttpOnly, SameSite=Lax, Path=/portal, Secure over
TLS); the session itself is kept on the server (`sessions`), with idle and absolute expiry, a
new id on every sign-in, and an end on sign-out. Each form carries the session's CSRF token
(sign-in too, before any session: a double-submitted random value) and an `Idempotency-Key`
made when the form was drawn, so a form sent twice acts once.

Everything shown is escaped (autoescape on for every template, whatever its name: `views`);
flash messages are shown only when the portal signed them for this session (`responses`), so a
link cannot put words on a page. Every portal page is sent with a strict
Content-Security-Policy (no script at all) and the other security headers (`security_headers`).

Read in this order: `settings`, `sessions`, `signed_in`, `responses`, `views`, `forms`, then
the pages in `routes/`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from gateway.db import GatewayUnit
from gateway.portal.responses import sign_in_first, stale_form
from gateway.portal.routes import router
from gateway.portal.security_headers import SecurityHeaders
from gateway.portal.sessions import PortalSessions
from gateway.portal.settings import PORTAL, PortalSettings
from gateway.portal.signed_in import Portal, SignInFirst, StaleForm
from servicekit.domain.clock import Clock, SystemClock
from servicekit.messaging.uow import Database

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

__all__ = ["PortalSettings", "SecurityHeaders", "install"]


def install(
    app: FastAPI,
    db: Database[GatewayUnit],
    *,
    settings: PortalSettings | None = None,
    clock: Clock | None = None,
) -> None:
    """Serve the portal (and its stylesheet) from `app`. Sessions age on the wall clock (not
    the platform's business clock, which the dev stack lets an operator move)."""
    sessions = PortalSessions(db, clock or SystemClock(), settings or PortalSettings())
    app.state.portal = Portal(app, sessions)
    # The stylesheet before the pages: the pages end with a catch-all page-not-found.
    app.mount(f"{PORTAL}/static", StaticFiles(directory=STATIC_DIR), name="portal-static")
    app.include_router(router)
    app.add_exception_handler(SignInFirst, sign_in_first)
    app.add_exception_handler(StaleForm, stale_form)
