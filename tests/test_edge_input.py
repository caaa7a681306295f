"""Bad input at the gateway, end to end: ids made of any characters, and bodies that are not
JSON, get a problem-details answer (never a 500) and change nothing."""

from urllib.parse import quote

import pytest

from e2e_helpers import authorized_order, ok

ODD_IDS = ["\x08\x03", "ord_\x7f", "ü€𝄞", "a b", "%", "ord_1?x=1"]


@pytest.mark.parametrize("odd", ODD_IDS)
def test_an_id_of_any_characters_is_a_404_problem(buyer, odd):
    sent = quote(odd, safe="")  # as a client library sends it: percent-encoded
    for path in (f"/v1/orders/{sent}", f"/v1/orders/{sent}/messages", f"/v1/tickets/{sent}"):
        answer = buyer.get(path)
        assert answer.status_code == 404, (path, answer.status_code, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_body_that_is_not_json_is_refused_and_changes_nothing(seller, buyer):
    order = authorized_order(seller, buyer)
    answer = buyer.http.post(
        f"/v1/orders/{order['id']}/cancel",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert ok(buyer.get(f"/v1/orders/{order['id']}"))["status"] == "awaiting_seller"
