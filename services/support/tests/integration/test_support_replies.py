"""An agent's public reply on a ticket is published (`ticket_replied`) in the same transaction
as the message, for notifications to tell the buyer and seller; an internal note and a party's
own message are not."""

from contracts.orders import OrderProblemReported
from support.handlers import commands

from support_test_helpers import BUYER, SELLER, deliver, fact, new_order_id, placed, published


async def replies(engine) -> list[dict]:
    return [data for kind, data in await published(engine) if kind == "ticket_replied.v1"]


async def test_only_an_agents_public_reply_is_published(ctx, engine):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await deliver(ctx, OrderProblemReported(**fact(order_id), reason="damaged", details="cracked"))
    [ticket_id] = [d["ticket_id"] for k, d in await published(engine) if k == "ticket_opened.v1"]

    def write(principal_id, role, body, internal=False):
        return commands.post_message(
            ctx, ticket_id, principal_id=principal_id, role=role, body=body, internal=internal
        )

    await write("usr_agent", "agent", "looks like transport damage", internal=True)
    await write(BUYER, "buyer", "Here are photos")
    await write(SELLER, "seller", "I packed it well")
    assert await replies(engine) == []

    await write("usr_agent", "agent", "Could you send a photo of the box?")

    [reply] = await replies(engine)
    assert (reply["ticket_id"], reply["order_id"], reply["buyer_id"], reply["seller_id"]) == (
        ticket_id,
        order_id,
        BUYER,
        SELLER,
    )
    assert (reply["author_role"], reply["waiting_for"], reply["excerpt"]) == (
        "agent",
        "buyer",
        "Could you send a photo of the box?",
    )


async def test_a_reply_to_one_party_is_seen_by_and_told_to_that_party_only(ctx, engine):
    order_id = new_order_id()
    await deliver(ctx, placed(order_id))
    await deliver(ctx, OrderProblemReported(**fact(order_id), reason="damaged", details="cracked"))
    [ticket_id] = [d["ticket_id"] for k, d in await published(engine) if k == "ticket_opened.v1"]

    async def write(body, to):
        return await commands.post_message(
            ctx, ticket_id, principal_id="usr_agent", role="agent", body=body, internal=False, to=to
        )

    to_seller = await write("Did you insure the parcel?", "seller")
    assert to_seller.status.value == "pending_seller"
    await write("We are asking the seller.", "buyer")
    await write("Thank you both.", None)

    assert [(r["to"], r["waiting_for"]) for r in await replies(engine)] == [
        ("seller", "seller"),
        ("buyer", "buyer"),
        (None, "buyer"),
    ]
    async with ctx.db.unit_of_work() as uow:
        seen = {
            party: [
                m.body
                for m in await uow.messages.of_ticket(ticket_id, with_internal=False, party=party)
            ]
            for party in ("buyer", "seller")
        }
        staff = await uow.messages.of_ticket(ticket_id, with_internal=True)
    assert "Did you insure the parcel?" not in seen["buyer"]
    assert "We are asking the seller." in seen["buyer"] and "Thank you both." in seen["buyer"]
    assert "We are asking the seller." not in seen["seller"]
    assert len(staff) == len({m.body for m in staff}) >= 3
