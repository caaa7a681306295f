"""A chargeback from a stolen card is not the seller's defect (#18): support opens its ticket
marked `fault: fraud` (payments says so from Stripe's reason `fraudulent`), and the seller's
facts leave it out; any other chargeback still counts."""

import pytest

from contracts.support import TicketOpened
from seller_standards.domain.facts import tells_about_facts

from standards_test_helpers import NOW, SELLER


def chargeback_ticket(fault):
    return TicketOpened(
        ticket_id="tkt_1",
        order_id="ord_1",
        buyer_id="usr_buyer",
        seller_id=SELLER,
        reason="chargeback",
        priority="urgent",
        title="The buyer's bank opened a chargeback",
        opened_by="system",
        first_response_due=NOW,
        resolution_due=NOW,
        opened_at=NOW,
        fault=fault,
    )


def test_a_stolen_cards_chargeback_is_not_the_sellers_defect():
    assert not tells_about_facts(chargeback_ticket("fraud"))


@pytest.mark.parametrize("fault", [None, "seller"])
def test_any_other_chargeback_is(fault):
    assert tells_about_facts(chargeback_ticket(fault))
