"""Sellers' payouts: their Stripe Connect payout account, their balances (from the ledger),
their payouts; and the operators' payout run."""

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from contracts import Money
from contracts.money import Currency
from payments.api.dependencies import Context
from payments.cards import TransientCardError
from payments.domain import payouts as rules
from payments.domain.payouts import Payout, PayoutAccount, PayoutStatus
from servicekit.hosting.http import CallerDep, Problem, not_found, require_role
from servicekit.hosting.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1")


class PayoutAccountRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    currency: Currency


class PayoutRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _account_view(account: PayoutAccount) -> dict[str, Any]:
    return {
        "account_id": account.account_id,
        "status": account.status.value,
        "onboarding_url": account.onboarding_url
        if account.status is not rules.AccountStatus.ACTIVE
        else None,
        "country": account.country,
        "currency": account.currency,
        "activated_at": account.activated_at.isoformat() if account.activated_at else None,
    }


def _money(amount_minor: int, currency: str) -> dict[str, Any]:
    return Money(amount_minor=amount_minor, currency=currency).model_dump()


def payout_view(payout: Payout, reversed_minor: int = 0) -> dict[str, Any]:
    return {
        "id": payout.id,
        "seller_id": payout.seller_id,
        "amount": payout.money().model_dump(),
        "status": payout.status.value,
        "order_ids": payout.order_ids,
        "lines": [
            {"order_id": line.order_id, "amount": _money(line.amount_minor, payout.currency)}
            for line in payout.lines
        ],
        "reversed": _money(reversed_minor, payout.currency),
        "transfer_id": payout.transfer_id,
        "failure": payout.failure,
        "created_at": payout.created_at.isoformat(),
        "paid_at": payout.paid_at.isoformat() if payout.paid_at else None,
    }


def _unreachable(error: TransientCardError) -> Problem:
    return Problem(
        503,
        "Stripe unavailable",
        f"Stripe could not be reached: {error}",
        slug="stripe-unavailable",
    )


@router.put("/sellers/me/payout-account")
async def put_payout_account(
    body: PayoutAccountRequest, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    """Create the seller's Express account (once; the idempotency key is the seller's id) and
    a fresh onboarding link while it is not active."""
    require_role(who, "seller")
    now = ctx.clock.now()
    async with ctx.db.unit_of_work() as uow:
        account = await uow.payout_accounts.get(who.id)
    try:
        if account is None:
            created = await ctx.connect.create_account(who.id, body.country, body.currency)
            account = PayoutAccount(
                seller_id=who.id,
                account_id=created.account_id,
                country=body.country,
                currency=body.currency,
                status=created.status,
                created_at=now,
            )
        if account.status is not rules.AccountStatus.ACTIVE:
            url = await ctx.connect.onboarding_link(
                account.account_id,
                key=f"seller:{who.id}:payout-account:link:{int(now.timestamp())}",
                refresh_url=ctx.onboarding_return_url + "?refresh=1",
                return_url=ctx.onboarding_return_url,
            )
            # Stripe's word on the account now (a test server completes onboarding at once;
            # `account.updated` webhooks tell us later otherwise).
            status = (await ctx.connect.account(account.account_id)).status
            account = rules.account_updated(account, status, now)
            account = replace(account, onboarding_url=url)
    except TransientCardError as error:
        raise _unreachable(error) from error
    async with ctx.db.unit_of_work() as uow:
        known = await uow.payout_accounts.get(who.id)
        if known is not None and known.account_id != account.account_id:
            account = known  # a concurrent request created it first (same idempotency key)
        elif known is not None and known.status is rules.AccountStatus.ACTIVE:
            account = replace(account, status=known.status, activated_at=known.activated_at)
        await uow.payout_accounts.put(account)
        await uow.commit()
    return _account_view(account)


@router.get("/sellers/me/payout-account")
async def get_payout_account(who: CallerDep, ctx: Context) -> dict[str, Any]:
    require_role(who, "seller")
    async with ctx.db.unit_of_work() as uow:
        account = await uow.payout_accounts.get(who.id)
    if account is None:
        raise not_found("payout account")
    return _account_view(account)


@router.get("/sellers/me/balance")
async def seller_balance(who: CallerDep, ctx: Context) -> dict[str, Any]:
    """Per currency: captured and not yet released (`in_escrow`), released and not yet paid
    out (`available`; negative while a claw-back is owed), and `paid_out`, all from the
    ledger."""
    require_role(who, "seller")
    async with ctx.db.unit_of_work() as uow:
        escrow, payable, paid_out = await uow.payout_books.seller_sums(who.id)
    return {
        "balances": [
            {
                "currency": b.currency,
                "in_escrow": _money(b.in_escrow_minor, b.currency),
                "available": _money(b.available_minor, b.currency),
                "paid_out": _money(b.paid_out_minor, b.currency),
            }
            for b in rules.balances(escrow, payable, paid_out)
        ]
    }


@router.get("/sellers/me/payouts")
async def seller_payouts(
    who: CallerDep,
    ctx: Context,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> dict[str, Any]:
    require_role(who, "seller")
    after = None
    if cursor:
        at, ident = decode_cursor(cursor, 2)
        try:
            after = (datetime.fromisoformat(at), ident)
        except ValueError as error:
            raise Problem(
                422,
                "Invalid request",
                "The cursor is not one this list gave out",
                slug="validation-error",
            ) from error
    async with ctx.db.unit_of_work() as uow:
        page = await uow.payouts.of_seller(who.id, limit + 1, after)
        more, page = len(page) > limit, page[:limit]
        reversals = await uow.payout_reversals.of_payouts([p.id for p in page])
    reversed_by: dict[str, int] = {}
    for reversal in reversals:
        if reversal.status is rules.ReversalStatus.DONE:
            reversed_by[reversal.payout_id] = (
                reversed_by.get(reversal.payout_id, 0) + reversal.amount_minor
            )
    return {
        "items": [payout_view(p, reversed_by.get(p.id, 0)) for p in page],
        "next_cursor": encode_cursor(page[-1].created_at.isoformat(), page[-1].id)
        if more
        else None,
    }


@router.post("/ops/payouts/run")
async def run_payouts(
    body: PayoutRunRequest, request: Request, who: CallerDep, ctx: Context
) -> dict[str, Any]:
    """Run a payout now: what it paid (a payout Stripe could not be reached for is still
    `pending` and is made by the worker)."""
    require_role(who, "operator")
    made = await request.app.state.run_payouts()
    return {
        "payouts": [payout_view(p) for p in made],
        "paid": sum(1 for p in made if p.status is PayoutStatus.PAID),
    }
