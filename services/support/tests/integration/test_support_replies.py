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
