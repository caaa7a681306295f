"""A seller's money: what is held, available and paid out per currency, the payout account
(and the link to finish setting it up), and the payouts made. Stripe sends a seller back here
after onboarding."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.portal.responses import page
from gateway.portal.settings import PORTAL
from gateway.portal.signed_in import PortalDep, SessionDep
from gateway.portal.views import plain_page

router = APIRouter(prefix=PORTAL, include_in_schema=False)


@router.get("/payouts", response_model=None)
async def payouts(request: Request, portal: PortalDep, session: SessionDep) -> Response:
    if session.me.get("role") != "seller":
        return plain_page("Only sellers are paid out.", 404)
    async with portal.api(session.token, request) as api:
        account = await api.get("/v1/sellers/me/payout-account")
        balance = await api.get("/v1/sellers/me/balance")
        made = await api.get("/v1/sellers/me/payouts")
    if balance.status_code != 200 or made.status_code != 200:
        return plain_page("Your payouts cannot be shown right now; try again shortly.", 503)
    return page(
        request,
        "payouts.html",
        session,
        account=_json_or_none(account.status_code, account.json),
        balances=balance.json().get("balances", []),
        payouts=made.json().get("items", []),
    )


def _json_or_none(status: int, read: Any) -> dict[str, Any] | None:
    """The payout account, or None while the seller has none (404)."""
    return read() if status == 200 else None
