"""A buyer's or seller's orders, one order with what can be done to it, and its actions."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.portal.forms import ORDER_ACTIONS, body_of, idempotency_key
from gateway.portal.responses import back, page, refused
from gateway.portal.settings import PORTAL
from gateway.portal.signed_in import FormDep, PortalDep, SessionDep, answer_json
from gateway.portal.views import not_found

router = APIRouter(prefix=PORTAL, include_in_schema=False)


@router.get("/orders", response_model=None)
async def orders(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    role = "seller" if session.me["role"] == "seller" else "buyer"
    async with portal.api(session.token, request) as api:
        listed = answer_json(await api.get("/v1/orders", params={"role": role, "limit": 200}))
    items = listed.get("items", [])
    groups = (
        {
            "To accept": [o for o in items if "accept" in o.get("allowed_actions", [])],
            "To ship": [o for o in items if "ship" in o.get("allowed_actions", [])],
        }
        if role == "seller"
        else {}
    )
    return page(request, "orders.html", session, orders=items, groups=groups, role=role)


@router.get("/orders/{order_id}", response_model=None)
async def order_page(
    request: Request, order_id: str, portal: PortalDep, session: SessionDep
) -> Response:
    async with portal.api(session.token, request) as api:
        answer = await api.get(f"/v1/orders/{quote(order_id)}")
        if answer.status_code != 200:
            return not_found("No such order.")
        messages = answer_json(await api.get(f"/v1/orders/{quote(order_id)}/messages"))
        payment = answer_json(await api.get(f"/v1/orders/{quote(order_id)}/payment"))
    order = answer.json()
    actions = [ORDER_ACTIONS[a] for a in order.get("allowed_actions", []) if a in ORDER_ACTIONS]
    return page(
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
    request: Request,
    order_id: str,
    action: str,
    portal: PortalDep,
    session: SessionDep,
    form: FormDep,
) -> Response:
    to = f"{PORTAL}/orders/{quote(order_id)}"
    chosen = ORDER_ACTIONS.get(action)
    if chosen is None:
        return refused(session, to, "No such action.", 404)
    async with portal.api(session.token, request) as api:
        answer = await api.request(
            chosen.method,
            f"/v1/orders/{quote(order_id)}{chosen.path}",
            json=body_of(chosen.fields, form),
            headers={"Idempotency-Key": idempotency_key(form)},
        )
    return back(session, to, answer, f"{chosen.label}: done.")
