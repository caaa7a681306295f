"""What "nothing lost, nothing twice" means for a set of orders, checked against the real
parts after a fault: the topics, Stripe, the support queue, the notifications sent, the
seller's order facts, the ledger, and the platform at rest.

`problems()` answers every breach it finds, in words; a test asserts the list is empty (and
the negative control asserts it is not)."""

from __future__ import annotations

import asyncio
import mailbox
import time
from collections import Counter, defaultdict
from typing import Any

import httpx
import stripe
from sqlalchemy import Select, select

from devstack.stack import Stack
from notifications.db import deliveries, notifications
from payments.cards import metadata_of
from seller_standards.db import seller_orders
from servicekit.messaging.db import make_engine
from servicekit.operations import ops

from reliability_journeys import Crowd, Journey, read

ORDER_STEPS = ["placed", "accepted", "shipped", "delivered"]
PAYMENT_STEPS = {
    "released": ["authorized", "captured", "released"],
    "refunded": ["authorized", "captured", "refunded"],
}
NEVER = {"payment.voided", "payment.capture_failed", "payment.authorization_failed"}


def problems(stack: Stack, crowd: Crowd, journeys: list[Journey]) -> list[str]:
    found = at_rest(stack)
    by_order = {journey.order_id: journey for journey in journeys}
    events = asyncio.run(events_of(stack.bootstrap, set(by_order)))
    for order_id, journey in by_order.items():
        found += [f"{order_id}: {p}" for p in order_events(journey, events.get(order_id, []))]
        found += [f"{order_id}: {p}" for p in tickets(crowd, journey)]
        found += [f"{order_id}: {p}" for p in ledger(crowd, journey)]
    found += card_payments(stack, by_order)
    found += asyncio.run(notified(stack, by_order))
    found += asyncio.run(order_facts(stack, by_order))
    found += asyncio.run(dead_letters_of(stack, set(by_order)))
    return found


def at_rest(stack: Stack, timeout: float = 90.0) -> list[str]:
    """Every outbox drained and every consumer group caught up (lag 0)."""
    deadline = time.monotonic() + timeout
    while True:
        busy = []
        for name, url in stack.service_urls.items():
            try:
                text = httpx.get(f"{url}/metrics", timeout=10).text
            except httpx.TransportError:
                busy.append(f"{name} does not answer")
                continue
            for line in text.splitlines():
                watched = line.startswith(
                    ("marketplace_outbox_backlog ", "marketplace_consumer_lag{")
                )
                if watched and float(line.rsplit(" ", 1)[1]) > 0:
                    busy.append(f"{name}: {line}")
        if not busy or time.monotonic() > deadline:
            return [f"not at rest after {timeout:.0f} s: {b}" for b in busy]
        time.sleep(0.5)


async def events_of(bootstrap: str, order_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Each order's events in the order they were published, each event id once (a relay
    may publish twice; consumers deduplicate, so a repeat of the same id is not a duplicate)."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    seen: set[str] = set()
    for topic in ("orders.events", "payments.events"):
        async for record in ops.read(bootstrap, topic, idle_ms=500):
            shown = ops.describe(record)
            if shown["key"] in order_ids and shown.get("id") not in seen:
                seen.add(shown["id"])
                found[shown["key"]].append(shown)
    return found


def order_events(journey: Journey, events: list[dict[str, Any]]) -> list[str]:
    names = [e["type"].removeprefix("marketplace.").removesuffix(".v1") for e in events]
    found = []
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        found.append(f"the same step happened twice (distinct events): {repeated}")
    orders = [n.removeprefix("order.") for n in names if n.startswith("order.")]
    expected = [*ORDER_STEPS, "problem_reported" if journey.disputed else "completed"]
    if orders[: len(expected)] != expected:
        found.append(f"order events {orders}, expected {expected} in that order")
    payments = [n.removeprefix("payment.") for n in names if n.startswith("payment.")]
    if payments != PAYMENT_STEPS[journey.ending]:
        found.append(f"payment events {payments}, expected {PAYMENT_STEPS[journey.ending]}")
    if unwanted := NEVER & set(names):
        found.append(f"unexpected {sorted(unwanted)}")
    return found


def tickets(crowd: Crowd, journey: Journey) -> list[str]:
    opened = read(crowd.agent, f"/v1/orders/{journey.order_id}/tickets")["items"]
    reasons = sorted(ticket["reason"] for ticket in opened)
    expected = ["not_as_described"] if journey.disputed else []
    return [] if reasons == expected else [f"tickets {reasons}, expected {expected}"]


def ledger(crowd: Crowd, journey: Journey) -> list[str]:
    found = read(crowd.operator, f"/v1/ledger/orders/{journey.order_id}")
    if not found.get("balanced"):
        return [f"the ledger does not balance: {found}"]
    held = [
        f"{account} holds {amount} {currency}"
        for currency, balances in found["balances"].items()
        for account, amount in balances.items()
        if account in ("escrow", "authorization_hold", "credit_reserved", "refunds_pending")
        and amount != 0
    ]
    return [f"money left behind: {held}"] if held else []


def card_payments(stack: Stack, by_order: dict[str, Journey]) -> list[str]:
    """One charge per order at Stripe; refunded once when disputed; no hold left behind."""
    client = stripe.StripeClient("sk_test_development", base_addresses={"api": stack.stripe_base})
    intents: dict[str, list[Any]] = defaultdict(list)
    for intent in client.v1.payment_intents.list({"limit": 100}).auto_paging_iter():
        order_id = metadata_of(intent).get("order_id")
        if order_id in by_order:
            intents[order_id].append(intent)
    found = []
    for order_id, journey in by_order.items():
        statuses = sorted(intent.status for intent in intents[order_id])
        charged = [intent for intent in intents[order_id] if intent.status == "succeeded"]
        if len(charged) != 1 or set(statuses) - {"succeeded", "canceled"}:
            found.append(f"{order_id}: PaymentIntents {statuses}, expected one charged")
            continue
        refunds = client.v1.refunds.list({"payment_intent": charged[0].id, "limit": 100}).data
        if len(refunds) != (1 if journey.disputed else 0):
            found.append(f"{order_id}: {len(refunds)} refunds at Stripe")
    return found


async def notified(stack: Stack, by_order: dict[str, Journey]) -> list[str]:
    """Each message told once per person, every e-mail of it sent, and received once."""
    rows = await _rows_of(
        stack,
        "notifications",
        select(notifications.c.id, notifications.c.order_id, notifications.c.message)
        .add_columns(notifications.c.recipient_id, deliveries.c.state)
        .join(deliveries, deliveries.c.notification_id == notifications.c.id)
        .where(deliveries.c.channel == "email")
        .where(notifications.c.order_id.in_(list(by_order))),
    )
    # A message resent because an attempt was in doubt (its sender died before it could
    # record the SMTP server's answer) says so and keeps its Message-ID. Each e-mail must
    # arrive; at most one copy may arrive without that mark.
    plain: Counter[str] = Counter()
    resent: Counter[str] = Counter()
    for message in mailbox.Maildir(stack.maildir, create=False):
        in_doubt = message["X-Resent-In-Doubt"] == "yes"
        (resent if in_doubt else plain)[message["X-Notification-Id"]] += 1
    found = []
    told = Counter((row.order_id, row.recipient_id, row.message) for row in rows)
    found += [f"{o}: {m} told twice to {r}" for (o, r, m), n in told.items() if n > 1]
    for order_id in by_order:
        mine = [row for row in rows if row.order_id == order_id]
        if not mine:
            found.append(f"{order_id}: nobody was e-mailed about it")
        for row in mine:
            copies = f"received {plain[row.id]}x (and {resent[row.id]}x resent in doubt)"
            if row.state != "sent" or plain[row.id] > 1 or plain[row.id] + resent[row.id] == 0:
                found.append(f"{order_id}: {row.message} e-mail {row.state}, {copies}")
    return found


async def order_facts(stack: Stack, by_order: dict[str, Journey]) -> list[str]:
    """The seller's standards counted each order once, with its shipment."""
    rows = await _rows_of(
        stack,
        "seller_standards",
        select(seller_orders).where(seller_orders.c.order_id.in_(list(by_order))),
    )
    facts = {row.order_id: row for row in rows}
    found = []
    for order_id in by_order:
        row = facts.get(order_id)
        if row is None or row.shipped_at is None or not row.has_tracking:
            found.append(f"{order_id}: the seller's standards lack its shipment ({row})")
        elif len(row.defects) != len(set(map(str, row.defects))):
            found.append(f"{order_id}: a defect counted twice: {row.defects}")
    return found


async def _rows_of(stack: Stack, service: str, query: Select[Any]) -> list[Any]:
    """Read `service`'s own database directly (what its API does not show)."""
    engine = make_engine(stack.config.database_url(service))
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(query)).all())
    finally:
        await engine.dispose()


async def dead_letters_of(stack: Stack, order_ids: set[str]) -> list[str]:
    return [
        f"{letter.key}: dead-lettered by {letter.group}: {letter.reason} {letter.error[:200]}"
        for letter in await ops.dead_letters(stack.bootstrap)
        if letter.key in order_ids
    ]
