"""What the portal answers: a page for the signed-in session, and after a form the redirect
back to the page with the verdict to show there (post/redirect/get), signed for the session
so that only the portal chooses what a page says."""

from __future__ import annotations

import hmac
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.portal.sessions import csrf_token, flash_signature
from gateway.portal.settings import PORTAL, SESSION_COOKIE
from gateway.portal.signed_in import Session, answer_json
from gateway.portal.views import plain_page, templates

FLASH_MAX_CHARS = 500


def page(request: Request, template: str, session: Session, **context: Any) -> HTMLResponse:
    """A portal page; each of its forms carries the CSRF token and an `Idempotency-Key`."""
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
        problem = answer_json(answer)
        message = problem.get("detail") or problem.get("title") or f"Refused ({answer.status_code})"
        kind, text = "error", str(message)[:FLASH_MAX_CHARS]
    else:
        kind, text = "notice", done
    query = urlencode({kind: text, "sig": flash_signature(session.session_id, kind, text)})
    return RedirectResponse(f"{to}?{query}", status_code=303)


def refused(session: Session, to: str, detail: str, status: int = 422) -> RedirectResponse:
    """Back to the page with a refusal the portal itself made (bad form input)."""
    return back(session, to, httpx.Response(status, json={"detail": detail}))


def to_sign_in(error: str | None = None) -> RedirectResponse:
    query = f"?{urlencode({'error': error})}" if error else ""
    return RedirectResponse(f"{PORTAL}/sign-in{query}", status_code=303)


async def sign_in_first(_: Request, __: Exception) -> Response:
    response = to_sign_in()
    response.delete_cookie(SESSION_COOKIE, path=PORTAL)
    return response


async def stale_form(_: Request, __: Exception) -> Response:
    return plain_page("The form has expired; reload the page and try again.", 403)
