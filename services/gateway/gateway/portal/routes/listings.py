"""A seller's listings (the list, a new listing, price, quantity and status changed in place)
and vacation mode. Prices are typed in the currency's units ("145.00"), as people write them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.money import ISO_4217_CURRENCIES, parse_money
from gateway.portal.forms import idempotency_key
from gateway.portal.responses import back, page, refused
from gateway.portal.settings import PORTAL
from gateway.portal.signed_in import FormDep, PortalDep, SessionDep, answer_json
from gateway.portal.views import plain_page

router = APIRouter(include_in_schema=False)  # under /portal: served by orders.router
LISTINGS = f"{PORTAL}/listings"
FULFILMENTS = {
    "seller_ships": "I ship it",
    "warehouse": "My warehouse (3PL) ships it",
    "transfer": "A ticket or booking I transfer",
}
CURRENCIES = ("EUR", "USD", "GBP", "JPY", "CHF", "SEK", "PLN")


@router.get("/listings", response_model=None)
async def listings(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    if session.me.get("role") != "seller":
        return plain_page("Only sellers have listings.", 404)
    async with portal.api(session.token, request) as api:
        found = await api.get("/v1/listings", params={"seller_id": session.me["id"], "limit": 200})
    if found.status_code != 200:
        return plain_page("Your listings cannot be shown right now; try again shortly.", 503)
    return page(
        request,
        "listings.html",
        session,
        listings=answer_json(found).get("items", []),
        fulfilments=FULFILMENTS,
        currencies=CURRENCIES,
    )


def price_of(form: dict[str, str]) -> dict[str, Any] | str:
    """The typed price as the API's Money, or what is wrong with it."""
    currency = form.get("currency", "")
    if currency not in ISO_4217_CURRENCIES:
        return "Choose a currency."
    minor = parse_money(form.get("price", ""), currency)
    if minor is None:
        return f"The price must be a positive amount in {currency}, such as 145.00."
    return {"amount_minor": minor, "currency": currency}


def whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) <= 6 else None


@router.post("/listings", response_model=None)
async def new_listing(
    request: Request, portal: PortalDep, session: SessionDep, form: FormDep
) -> Response:
    price = price_of(form)
    if isinstance(price, str):
        return refused(session, LISTINGS, price)
    body: dict[str, Any] = {
        "title": form.get("title", "").strip(),
        "price": price,
        "quantity_available": whole(form.get("quantity_available", "")),
        "fulfilment": form.get("fulfilment", ""),
        "handling_days": whole(form.get("handling_days", "")),
    }
    if form.get("event_date"):
        body["event_date"] = form["event_date"]
    async with portal.api(session.token, request) as api:
        answer = await api.post(
            "/v1/listings", json=body, headers={"Idempotency-Key": idempotency_key(form)}
        )
    return back(session, LISTINGS, with_errors(answer), "Listed: it is on sale now.")


@router.post("/listings/{listing_id}", response_model=None)
async def change_listing(
    request: Request, listing_id: str, portal: PortalDep, session: SessionDep, form: FormDep
) -> Response:
    changes: dict[str, Any] = {}
    if form.get("price", "").strip():
        price = price_of(form)
        if isinstance(price, str):
            return refused(session, LISTINGS, price)
        changes["price"] = price
    if form.get("quantity_available", "").strip():
        changes["quantity_available"] = whole(form["quantity_available"])
    if form.get("status") in ("active", "paused"):
        changes["status"] = form["status"]
    async with portal.api(session.token, request) as api:
        answer = await api.patch(f"/v1/listings/{quote(listing_id)}", json=changes)
    return back(session, LISTINGS, with_errors(answer), "Listing saved.")


@router.post("/vacation", response_model=None)
async def vacation(
    request: Request, portal: PortalDep, session: SessionDep, form: FormDep
) -> Response:
    until = form.get("until", "").strip() or None
    if form.get("step") == "back":
        until = None
    async with portal.api(session.token, request) as api:
        answer = await api.put("/v1/sellers/me/vacation", json={"until": until})
    done = (
        f"On vacation until {until}: your listings are hidden, open orders go on."
        if until
        else "Back from vacation: your listings are shown again."
    )
    return back(session, LISTINGS, with_errors(answer), done)


def with_errors(answer: httpx.Response) -> httpx.Response:
    """A refusal whose detail names the fields the API refused (`errors[]`), for the notice."""
    if answer.status_code != 422:
        return answer
    problem = answer_json(answer)
    fields = [
        f"{'.'.join(str(p) for p in (e.get('loc') or [])[1:]) or 'form'}: {e.get('msg')}"
        for e in problem.get("errors") or []
        if isinstance(e, dict)
    ]
    detail = "; ".join(fields) or problem.get("detail") or "Not accepted."
    return httpx.Response(422, json={"detail": f"Not saved. {detail}"})
