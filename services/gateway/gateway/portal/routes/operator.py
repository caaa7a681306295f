"""The operators' payouts (run one now, after a confirmation step, and see what it paid) and
resale events (create one; find one by id and cancel or postpone it, each after a
confirmation step that says what it will do)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from gateway.portal import operator
from gateway.portal.forms import idempotency_key
from gateway.portal.responses import api_refusal, back, page, refused
from gateway.portal.settings import PORTAL
from gateway.portal.signed_in import FormDep, PortalDep, SessionDep, answer_json
from gateway.portal.views import plain_page

router = APIRouter(prefix=PORTAL, include_in_schema=False)
OPERATORS_ONLY = "These pages are for operators."


def confirm(request: Request, session: Any, form: dict[str, str], **what: Any) -> Response:
    """The confirmation step: the consequence, and the same form again with confirmed=yes."""
    fields = {k: v for k, v in form.items() if k not in ("csrf", "confirmed", "idempotency_key")}
    return page(request, "confirm.html", session, fields=fields, key=idempotency_key(form), **what)


@router.get("/ops/payouts", response_model=None)
async def payouts(request: Request, session: SessionDep) -> Response:
    if session.me.get("role") != "operator":
        return plain_page(OPERATORS_ONLY, 403, me=session.me)
    return page(request, "ops_payouts.html", session, made=None)


@router.post("/ops/payouts/run", response_model=None)
async def run_payouts(
    request: Request, portal: PortalDep, session: SessionDep, form: FormDep
) -> Response:
    if form.get("confirmed") != "yes":
        return confirm(
            request,
            session,
            form,
            heading="Run a payout now?",
            consequence=operator.PAYOUT_RUN_CONSEQUENCE,
            action=f"{PORTAL}/ops/payouts/run",
            yes="Yes, pay the sellers now",
            back_to=f"{PORTAL}/ops/payouts",
        )
    async with portal.api(session.token, request) as api:
        answer = await api.post(
            "/v1/ops/payouts/run", json={}, headers={"Idempotency-Key": idempotency_key(form)}
        )
    if answer.status_code != 200:
        return back(session, f"{PORTAL}/ops/payouts", answer)
    made = answer_json(answer)
    return page(
        request,
        "ops_payouts.html",
        session,
        made=made.get("payouts", []),
        notice=operator.payouts_paid(made),
    )


@router.get("/ops/events", response_model=None)
async def events(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    if session.me.get("role") != "operator":
        return plain_page(OPERATORS_ONLY, 403, me=session.me)
    event_id = request.query_params.get("id", "").strip()
    event = None
    if event_id:
        async with portal.api(session.token, request) as api:
            answer = await api.get(f"/v1/events/{quote(event_id, safe='')}")
        if answer.status_code != 200:
            return api_refusal(answer, "event", session)
        event = answer_json(answer)
    if event is not None:
        event |= {
            "starts": operator.venue_time(event.get("local_starts_at")),
            "ends": operator.venue_time(event.get("local_ends_at")),
        }
    return page(request, "ops_events.html", session, event=event, kinds=operator.KINDS)


@router.post("/ops/events/new", response_model=None)
async def create_event(
    request: Request, portal: PortalDep, session: SessionDep, form: FormDep
) -> Response:
    body = operator.new_event(form)
    if isinstance(body, str):
        return refused(session, f"{PORTAL}/ops/events", body)
    async with portal.api(session.token, request) as api:
        answer = await api.post(
            "/v1/events", json=body, headers={"Idempotency-Key": idempotency_key(form)}
        )
    if answer.status_code != 201:
        return back(session, f"{PORTAL}/ops/events", answer)
    made = answer_json(answer)
    return back(
        session,
        f"{PORTAL}/ops/events",
        done=f"Event created: {made.get('name')} ({made.get('id')}).",
        query={"id": str(made.get("id", ""))},
    )


@router.post("/ops/events/{event_id}/{step}", response_model=None)
async def event_step(
    request: Request,
    event_id: str,
    step: str,
    portal: PortalDep,
    session: SessionDep,
    form: FormDep,
) -> Response:
    here = f"{PORTAL}/ops/events"
    if step not in ("cancel", "postpone"):
        return RedirectResponse(here, status_code=303)
    body = operator.event_step(step, form)
    if isinstance(body, str):
        return refused(session, here, body, query={"id": event_id})
    path = f"/v1/events/{quote(event_id, safe='')}"
    async with portal.api(session.token, request) as api:
        if form.get("confirmed") != "yes":
            found = await api.get(path)
            if found.status_code != 200:
                return api_refusal(found, "event", session)
            event = answer_json(found)
            return confirm(
                request,
                session,
                form,
                heading=f"{'Cancel' if step == 'cancel' else 'Postpone'} {event.get('name')}?",
                consequence=operator.event_consequence(step, event, body),
                action=f"{here}/{quote(event_id, safe='')}/{step}",
                yes=f"Yes, {step} it",
                back_to=f"{here}?id={quote(event_id, safe='')}",
            )
        answer = await api.post(
            f"{path}/{step}", json=body, headers={"Idempotency-Key": idempotency_key(form)}
        )
    done = "Cancelled: the buyers are being refunded." if step == "cancel" else "Postponed."
    return back(session, here, answer, done, query={"id": event_id})
