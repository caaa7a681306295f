"""A buyer's orders, a seller's orders by urgency, one order as its reader sees it, and its
actions (those that cannot be undone only from their confirmation step; a refused form shown
again, filled, with the API's errors by its fields)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.portal.forms import (
    ORDER_ACTIONS,
    REPLACE_CARD,
    Action,
    body_of,
    field_errors,
    idempotency_key,
)
from gateway.portal.reading import (
    headline,
    is_late,
    money_sentences,
    seller_groups,
    tracking_url,
)
from gateway.portal.responses import back, page, refused
from gateway.portal.routes import listings, preferences
from gateway.portal.settings import PORTAL
from gateway.portal.signed_in import FormDep, Portal, PortalDep, Session, SessionDep, answer_json
from gateway.portal.views import not_found

router = APIRouter(prefix=PORTAL, include_in_schema=False)
# The seller's listings and the reader's settings are served beside the orders.
router.include_router(listings.router)
router.include_router(preferences.router)


def reader_of(me: dict[str, Any], order: dict[str, Any] | None = None) -> str:
    """Whom the page speaks to: the order's seller reads the seller's copy, anyone else the
    buyer's (agents and operators see what the buyer sees)."""
    if order is not None:
        return "seller" if order.get("seller_id") == me.get("id") else "buyer"
    return "seller" if me.get("role") == "seller" else "buyer"


def actions_for(order: dict[str, Any], reader: str) -> list[Action]:
    """The forms for what the reader may do now: the order view's allowed actions, and
    another card for a buyer whose hold lapsed."""
    actions = [ORDER_ACTIONS[a] for a in order.get("allowed_actions", []) if a in ORDER_ACTIONS]
    lapsed = (order.get("payment") or {}).get("state") == "hold_lapsed"
    return [REPLACE_CARD, *actions] if lapsed and reader == "buyer" else actions


def order_context(
    order: dict[str, Any],
    me: dict[str, Any],
    names: dict[str, str],
    payment: dict[str, Any],
    messages: list[dict[str, Any]],
    failed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the order page shows its reader (`me`), from what the API answered."""
    reader = reader_of(me, order)
    shipment = order.get("shipment") or {}
    return {
        "order": order,
        "reader": reader,
        "names": names,
        "headline": headline(order, reader),
        "money_lines": money_sentences(order, reader, payment),
        "track_url": tracking_url(shipment.get("carrier"), shipment.get("tracking_number")),
        "actions": actions_for(order, reader),
        "messages": messages,
        "failed": failed or {},
    }


async def party_names(portal: Portal, orders: list[dict[str, Any]]) -> dict[str, str]:
    """The names of the buyers and sellers of orders the API has already shown the reader."""
    ids = {o.get(k) for o in orders for k in ("buyer_id", "seller_id")}
    async with portal.sessions.db.unit_of_work() as uow:
        return await uow.principals.names(sorted(i for i in ids if isinstance(i, str)))


@router.get("/orders", response_model=None)
async def orders(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    role = reader_of(session.me)
    async with portal.api(session.token, request) as api:
        listed = answer_json(await api.get("/v1/orders", params={"role": role, "limit": 200}))
    items = listed.get("items", [])
    groups = seller_groups(items) if role == "seller" else [("Your orders", items)]
    return page(
        request,
        "orders.html",
        session,
        groups=groups,
        role=role,
        names=await party_names(portal, items),
        late={o.get("id") for o in items if is_late(o)},
        ship=ORDER_ACTIONS["ship"],
    )


async def order_page(
    request: Request,
    portal: Portal,
    session: Session,
    order_id: str,
    failed: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    async with portal.api(session.token, request) as api:
        answer = await api.get(f"/v1/orders/{quote(order_id)}")
        if answer.status_code != 200:
            return not_found("No such order.")
        messages = answer_json(await api.get(f"/v1/orders/{quote(order_id)}/messages"))
        payment = answer_json(await api.get(f"/v1/orders/{quote(order_id)}/payment"))
    order = answer.json()
    context = order_context(
        order,
        session.me,
        await party_names(portal, [order]),
        payment,
        messages.get("items", []),
        failed,
    )
    shown = page(request, "order.html", session, **context)
    shown.status_code = status
    return shown


@router.get("/orders/{order_id}", response_model=None)
async def order_view(
    request: Request, order_id: str, portal: PortalDep, session: SessionDep
) -> Response:
    return await order_page(request, portal, session, order_id)


@router.post("/orders/{order_id}/{action}", response_model=None)
async def order_action(
    request: Request,
    order_id: str,
    action: str,
    portal: PortalDep,
    session: SessionDep,
    form: FormDep,
) -> Response:
    to = f"{PORTAL}/orders" if form.get("from") == "queue" else f"{PORTAL}/orders/{quote(order_id)}"
    chosen = REPLACE_CARD if action == REPLACE_CARD.name else ORDER_ACTIONS.get(action)
    if chosen is None:
        return refused(session, to, "No such action.", 404)
    if chosen.consequence and form.get("confirmed") != "yes":
        return refused(session, to, f"{chosen.label}: confirm it first (it cannot be undone).")
    async with portal.api(session.token, request) as api:
        answer = await api.request(
            chosen.method,
            f"/v1/orders/{quote(order_id)}{chosen.path}",
            json=body_of(chosen.fields, form),
            headers={"Idempotency-Key": idempotency_key(form)},
        )
    errors = field_errors(chosen.fields, answer_json(answer)) if answer.status_code == 422 else {}
    if errors:  # shown again, as it was filled, with each error by its field
        failed = {"action": chosen.name, "values": form, "errors": errors}
        return await order_page(request, portal, session, order_id, failed, 422)
    return back(session, to, answer, f"{chosen.label}: done.")
