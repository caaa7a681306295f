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

from gateway.portal.next_page import safe_next
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
    session: Session,
    to: str,
    answer: httpx.Response | None = None,
    done: str = "Done.",
    query: dict[str, str] | None = None,
) -> RedirectResponse:
    """Post/redirect/get: back to the page, with the API's verdict to show there (signed for
    this session, so only the portal can choose what a page says)."""
    if answer is not None and answer.status_code >= 400:
        problem = answer_json(answer)
        message = problem.get("detail") or problem.get("title") or f"Refused ({answer.status_code})"
        kind, text = "error", str(message)[:FLASH_MAX_CHARS]
    else:
        kind, text = "notice", done
    flash = {kind: text, "sig": flash_signature(session.session_id, kind, text)}
    return RedirectResponse(f"{to}?{urlencode((query or {}) | flash)}", status_code=303)


def api_refusal(answer: httpx.Response, what: str, session: Session) -> HTMLResponse:
    """A page the API would not give, inside the layout with its status kept: what is not
    the reader's is not found (404, like the API); a conflict or a refused input says why in
    the API's words; anything else is a passing fault (502)."""
    if answer.status_code in (401, 403, 404):
        return plain_page(f"No such {what}.", 404, me=session.me)
    if answer.status_code in (409, 422):
        problem = answer_json(answer)
        detail = problem.get("detail") or problem.get("title") or "Refused."
        return plain_page(str(detail)[:FLASH_MAX_CHARS], answer.status_code, me=session.me)
    return plain_page(
        f"The {what} cannot be shown just now; try again in a moment.", 502, me=session.me
    )


def refused(
    session: Session,
    to: str,
    detail: str,
    status: int = 422,
    query: dict[str, str] | None = None,
) -> RedirectResponse:
    """Back to the page with a refusal the portal itself made (bad form input)."""
    return back(session, to, httpx.Response(status, json={"detail": detail}), query=query)


def to_sign_in(error: str | None = None, next_page: str | None = None) -> RedirectResponse:
    """The sign-in form, saying why (a fixed code) and keeping the page to return to."""
    params = {"error": error, "next": safe_next(next_page)}
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{PORTAL}/sign-in{'?' + query if query else ''}", status_code=303)


async def sign_in_first(request: Request, __: Exception) -> Response:
    """Sign in first, then back to the page asked for (an e-mail's link, a bookmark)."""
    asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = to_sign_in(next_page=asked if request.method == "GET" else None)
    response.delete_cookie(SESSION_COOKIE, path=PORTAL)
    return response


async def stale_form(_: Request, __: Exception) -> Response:
    return plain_page(
        "The form has expired (it was drawn for an earlier session). Go back, reload the page "
        "and send it again.",
        403,
        title="Form expired",
    )
