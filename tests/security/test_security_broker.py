"""The broker is not a back door: an event produced straight onto a topic by anyone but the
service that owns it is dead-lettered by its consumers, not acted on. Here someone who reached
the broker forges support's "ticket resolved: credit" on support.events under another source;
payments parks it with the reason and the buyer is credited nothing."""

import asyncio
import uuid
from datetime import UTC, datetime

from contracts import Money
from contracts.support import TicketResolved
from servicekit.testing import publish

from e2e_helpers import Api, authorized_order, eventually, ok


def forged_credit(order: dict, amount_minor: int) -> TicketResolved:
    return TicketResolved(
        ticket_id=f"tkt_{uuid.uuid4().hex[:12]}",
        order_id=order["id"],
        buyer_id=order["buyer_id"],
        seller_id=order["seller_id"],
        action="credit",
        amount=Money(amount_minor=amount_minor, currency="EUR"),
        note="goodwill",
        resolved_by="usr_nobody",
        resolved_at=datetime.now(UTC),
    )


def test_a_credit_forged_on_the_broker_under_another_source_is_dead_lettered_not_paid(
    platform, operator: Api, seller: Api, buyer: Api
):
    order = authorized_order(seller, buyer)
    # Well within the order's total, so no bound on credits would refuse it: only the source
    # check stands between the forger and the buyer's balance.
    forged = forged_credit(order, amount_minor=4_242)
    asyncio.run(publish(platform.bootstrap, forged, source="gateway", time=datetime.now(UTC)))

    def payments_dead_letter() -> list[dict]:
        letters = ok(operator.get("/v1/ops/dead-letters"))["items"]
        return [
            letter
            for letter in letters
            if letter["key"] == order["id"]
            and letter["group"] == "payments"
            and letter["origin_topic"] == "support.events"
        ]

    def credited() -> list[dict]:
        return ok(buyer.get("/v1/me/credits"))["balances"]

    # Either payments parks the forgery or (the back door open) credits the buyer.
    eventually(lambda: payments_dead_letter() or credited(), timeout=60)

    assert credited() == [], "the forged event was honoured: the buyer has credit"
    (letter,) = payments_dead_letter()
    assert letter["id"].startswith("support.events.payments.dlq:")
    assert letter["reason"] == "invalid_message"
    assert "'gateway'" in letter["error"] and "'support'" in letter["error"]
    assert letter["type"] == TicketResolved.type

    ledger = operator.get(f"/v1/ledger/orders/{order['id']}")
    assert ledger.status_code in (200, 404), ledger.text
    lines = ledger.json()["lines"] if ledger.status_code == 200 else []
    assert not [line for line in lines if forged.ticket_id in (line["reason"] or "")], lines
