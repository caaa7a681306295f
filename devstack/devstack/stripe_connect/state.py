"""The Connect server's state, in memory: connected accounts, account links, transfers and
their reversals as Stripe's objects, the events each change makes, and their delivery to the
webhook URL, signed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request

from devstack.stripe_connect.wire import (
    StripeError,
    metadata_of,
    missing,
    new_id,
    page,
    positive_amount,
    required,
    sign,
)

log = logging.getLogger("devstack.stripe_connect")

API_VERSION = "2025-01-27.acacia"
CURRENCY_BY_COUNTRY = {"US": "usd", "GB": "gbp", "CA": "cad", "AU": "aud", "CH": "chf"}


@dataclass
class PaymentIntents:
    """What localstripe does not keep about PaymentIntents: `setup_future_usage`, the
    parameters each was created with, and the cards confirmed without a Customer (Stripe
    refuses to use those again)."""

    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    used_without_customer: set[str] = field(default_factory=set)

    def reuse_refused(self, method: Any, customer: Any) -> str | None:
        if isinstance(method, str) and method in self.used_without_customer and not customer:
            return (
                f"The provided PaymentMethod {method} was previously used with a PaymentIntent "
                "without Customer attachment, shared with a connected account without Customer "
                "attachment, or was detached from a Customer. It may not be used again. To use "
                "a PaymentMethod multiple times, you must attach it to a Customer first."
            )
        return None

    def created(self, intent_id: str, params: dict[str, Any]) -> None:
        self.requests[intent_id] = params
        method = params.get("payment_method")
        # Stripe's test shorthands (`pm_card_visa`) make a new card each time.
        if (
            isinstance(method, str)
            and not params.get("customer")
            and not method.startswith("pm_card_")
        ):
            self.used_without_customer.add(method)

    def shown(self, intent: dict[str, Any]) -> dict[str, Any]:
        asked = self.requests.get(intent.get("id", ""), {})
        return intent | {"setup_future_usage": asked.get("setup_future_usage")}


@dataclass
class Connect:
    """The in-memory state, and the Stripe objects it answers with."""

    webhook_url: str | None = None
    webhook_secret: str | None = None
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[tuple[str, str], tuple[str, str, dict[str, Any], dict[str, Any]]] = field(
        default_factory=dict
    )
    events: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # account link token -> return_url
    payment_intents: PaymentIntents = field(default_factory=PaymentIntents)

    def account(self, ident: str, param: str = "account", status: int = 400) -> dict[str, Any]:
        if ident not in self.accounts:
            raise missing("account", ident, param, status)
        return self.accounts[ident]

    def transfer(self, ident: str, param: str = "id", status: int = 404) -> dict[str, Any]:
        if ident not in self.transfers:
            raise missing("transfer", ident, param, status)
        return self.transfers[ident]

    def event(self, type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
        data: dict[str, Any] = {"object": json.loads(json.dumps(obj))}
        if previous is not None:
            data["previous_attributes"] = previous
        self.events.append(
            {
                "id": new_id("evt"),
                "object": "event",
                "api_version": API_VERSION,
                "created": int(time.time()),
                "data": data,
                "livemode": False,
                "pending_webhooks": 1 if self.webhook_url else 0,
                "request": {"id": None, "idempotency_key": None},
                "type": type,
            }
        )

    async def deliver(self, events: list[dict[str, Any]]) -> None:
        """POST each event, signed, retrying a few times as Stripe retries."""
        if not (self.webhook_url and self.webhook_secret):
            return
        async with httpx.AsyncClient(timeout=10) as client:
            for event in events:
                payload = json.dumps(event)
                for attempt in range(5):
                    headers = {
                        "Content-Type": "application/json; charset=utf-8",
                        "Stripe-Signature": sign(payload, self.webhook_secret, int(time.time())),
                    }
                    try:
                        answer = await client.post(
                            self.webhook_url, content=payload, headers=headers
                        )
                        if answer.is_success:
                            break
                        log.warning("webhook %s answered %s", event["type"], answer.status_code)
                    except httpx.HTTPError as error:
                        log.warning("webhook %s not delivered: %s", event["type"], error)
                    await asyncio.sleep(0.5 * 2**attempt)

    # --- accounts -------------------------------------------------------------------------

    def create_account(self, params: dict[str, Any]) -> dict[str, Any]:
        kind = params.get("type", "express")
        if kind not in ("express", "standard", "custom"):
            raise StripeError(
                "Invalid type: must be one of custom, express, or standard", param="type"
            )
        country = str(params.get("country") or "US").upper()
        requested = {
            name: str((value or {}).get("requested", "")).lower() == "true"
            for name, value in (params.get("capabilities") or {}).items()
        }
        ident = new_id("acct")
        self.accounts[ident] = {
            "id": ident,
            "object": "account",
            "type": kind,
            "country": country,
            "email": params.get("email"),
            "default_currency": params.get("default_currency")
            or CURRENCY_BY_COUNTRY.get(country, "eur"),
            "business_type": params.get("business_type"),
            "capabilities": {name: "inactive" for name, on in requested.items() if on},
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "requirements": requirements(done=False),
            "future_requirements": requirements(done=True),
            "metadata": metadata_of(params),
            "created": int(time.time()),
            "tos_acceptance": {"date": None},
        }
        return self.accounts[ident]

    def get_account(self, ident: str) -> dict[str, Any]:
        return self.account(ident, param="account", status=404)

    def create_account_link(self, params: dict[str, Any], request: Request) -> dict[str, Any]:
        account = self.account(str(required(params, "account")))
        kind = required(params, "type")
        if kind not in ("account_onboarding", "account_update"):
            raise StripeError(
                "Invalid type: must be one of account_onboarding or account_update", param="type"
            )
        return_url = str(required(params, "return_url"))
        required(params, "refresh_url")
        now = int(time.time())
        token = secrets.token_urlsafe(12)
        self.links[token] = return_url
        if not account["details_submitted"]:
            previous = {
                "charges_enabled": False,
                "payouts_enabled": False,
                "details_submitted": False,
                "capabilities": dict(account["capabilities"]),
                "requirements": account["requirements"],
            }
            account.update(
                charges_enabled=True,
                payouts_enabled=True,
                details_submitted=True,
                requirements=requirements(done=True),
                capabilities={name: "active" for name in account["capabilities"] or ["transfers"]},
                tos_acceptance={"date": now, "ip": "127.0.0.1"},
            )
            self.event("account.updated", account, previous)
        here = str(request.base_url).rstrip("/")
        return {
            "object": "account_link",
            "created": now,
            "expires_at": now + 300,
            "url": f"{here}/_connect/onboarding/{account['id']}/{token}",
        }

    # --- transfers and reversals ----------------------------------------------------------

    def create_transfer(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = positive_amount(required(params, "amount"))
        currency = str(required(params, "currency")).lower()
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise StripeError(f"Invalid currency: {currency}.", param="currency")
        destination = str(required(params, "destination"))
        if destination not in self.accounts:
            raise missing("destination", destination, "destination")
        account = self.accounts[destination]
        if not account["payouts_enabled"]:
            raise StripeError(
                "Your destination account needs to have at least one of the following "
                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                param="destination",
                code="insufficient_capabilities_for_transfer",
            )
        ident = new_id("tr")
        self.transfers[ident] = transfer = {
            "id": ident,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "balance_transaction": new_id("txn"),
            "created": int(time.time()),
            "currency": currency,
            "description": params.get("description"),
            "destination": destination,
            "destination_payment": new_id("py"),
            "livemode": False,
            "metadata": metadata_of(params),
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/transfers/{ident}/reversals",
            },
            "reversed": False,
            "source_transaction": params.get("source_transaction"),
            "source_type": params.get("source_type", "card"),
            "transfer_group": params.get("transfer_group"),
        }
        self.event("transfer.created", transfer)
        return transfer

    def list_transfers(self, query: dict[str, Any]) -> dict[str, Any]:
        found = list(reversed(self.transfers.values()))  # newest first, as Stripe lists
        for name in ("transfer_group", "destination"):
            if query.get(name):
                found = [t for t in found if t[name] == query[name]]
        return page(found, query, "/v1/transfers")

    def reverse(self, ident: str, params: dict[str, Any]) -> dict[str, Any]:
        transfer = self.transfer(ident)
        left = transfer["amount"] - transfer["amount_reversed"]
        if left == 0:
            raise StripeError(f"Transfer {ident} has already been fully reversed.", param="amount")
        amount = positive_amount(params["amount"]) if params.get("amount") else left
        if amount > left:
            raise StripeError(
                f"Amount ({amount}) is greater than the amount left to reverse ({left}) "
                f"on transfer {ident}.",
                param="amount",
            )
        reversal = {
            "id": new_id("trr"),
            "object": "transfer_reversal",
            "amount": amount,
            "balance_transaction": new_id("txn"),
            "created": int(time.time()),
            "currency": transfer["currency"],
            "destination_payment_refund": new_id("pyr"),
            "metadata": metadata_of(params),
            "source_refund": None,
            "transfer": ident,
        }
        previous = {
            "amount_reversed": transfer["amount_reversed"],
            "reversed": transfer["reversed"],
        }
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        reversals = transfer["reversals"]
        reversals["data"].insert(0, reversal)
        reversals["total_count"] += 1
        self.event("transfer.reversed", transfer, previous)
        return reversal

    def list_reversals(self, ident: str, query: dict[str, Any]) -> dict[str, Any]:
        return page(
            self.transfer(ident)["reversals"]["data"], query, f"/v1/transfers/{ident}/reversals"
        )

    def reversal(self, ident: str, reversal_id: str) -> dict[str, Any]:
        for reversal in self.transfer(ident)["reversals"]["data"]:
            if reversal["id"] == reversal_id:
                return reversal
        raise missing("transfer_reversal", reversal_id, "id", 404)


def requirements(*, done: bool) -> dict[str, Any]:
    due = [] if done else ["business_type", "external_account", "tos_acceptance.date"]
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": due,
        "disabled_reason": None if done else "requirements.past_due",
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }
