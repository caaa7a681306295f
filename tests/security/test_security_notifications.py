"""Issue #16 for notifications and seller standards, end to end.

One name with CR/LF stopped all e-mail for everyone: the mail worker failed on that message on
every pass and never moved past it. Here principals with CR/LF in their name or address reach
notifications the way older data or a forged record would, straight onto principals.events;
the others' e-mails still arrive, no header is added, and the poisoned e-mail is set aside as
failed with its reason, listed for operators. Operators cannot decide about a seller who does
not exist, and what they write about sellers is plain text.
"""

import mailbox
import uuid
from datetime import UTC, datetime

import httpx

from contracts.principals import PrincipalRegistered
from contracts.seller_standards import SellerStandingChanged
from servicekit.testing import publish

from e2e_helpers import Api, advance, authorized_order, eventually, ok

INJECTED = "everyone@example.com"


def mailbox_messages(platform) -> list:
    return list(mailbox.Maildir(platform.maildir, create=False))


def arrived_for(platform, address: str, words: str):
    """The first e-mail whose envelope went to `address` with `words` in its subject."""

    def check():
        for message in mailbox_messages(platform):
            if address in (message["X-RcptTo"] or "") and words in (message["Subject"] or ""):
                return message
        return None

    return check


async def register_straight_on_the_broker(platform, *, name: str, email: str) -> str:
    """A principal as an old record or someone with broker access would have it: no edge
    checked the name or the address."""
    principal_id = f"usr_{uuid.uuid4().hex[:12]}"
    event = PrincipalRegistered.model_construct(
        principal_id=principal_id,
        role="seller",
        name=name,
        email=email,
        locale="en",
        registered_at=datetime.now(UTC),
    )
    await publish(platform.bootstrap, event, source="gateway", time=datetime.now(UTC))
    return principal_id


async def tell_standing_at_risk(platform, seller_id: str) -> None:
    """An e-mail the seller must get (whatever their preferences)."""
    event = SellerStandingChanged(
        seller_id=seller_id,
        standing="at_risk",
        previous="good",
        reason="on time shipping rate 90% is below 95% (10 orders)",
        changed_at=datetime.now(UTC),
    )
    await publish(platform.bootstrap, event, source="seller_standards", time=event.changed_at)


def while_the_clock_moves(operator: Api, check):
    """`check`, tried while the platform's manual clock moves a minute at a time: an e-mail that
    overtook its recipient's record waits for the address, retried 30 s later on that clock."""

    def moved_until_true():
        found = check()
        if not found:
            advance(operator, hours=1 / 60)
        return found

    return eventually(moved_until_true, interval=0.5)


def assert_problem(answer: httpx.Response, status: int) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    return answer.json()


async def test_a_name_or_address_with_cr_lf_stops_no_one_elses_email(
    platform, operator, seller, buyer
):
    tag = uuid.uuid4().hex[:8]
    poisoned = await register_straight_on_the_broker(
        platform,
        name=f"Mallory\r\nBcc: {INJECTED}",
        email=f"mallory-{tag}@example.com\r\nBcc: {INJECTED}",
    )
    nameless_address = f"nameless-{tag}@example.com"
    nameless = await register_straight_on_the_broker(
        platform, name=f"Nina\r\nBcc: {INJECTED}", email=nameless_address
    )
    await tell_standing_at_risk(platform, poisoned)
    await tell_standing_at_risk(platform, nameless)

    # Everyone else's e-mail still goes out, after the poisoned one was queued.
    authorized_order(seller, buyer)
    eventually(arrived_for(platform, seller.principal["email"], "New order to accept"))
    eventually(arrived_for(platform, buyer.principal["email"], "Your order is in"))

    # The name could not add a header: the seller whose name held CR/LF gets their e-mail,
    # to their address alone.
    told = while_the_clock_moves(
        operator, arrived_for(platform, nameless_address, "Your seller standing is at risk")
    )
    assert told["X-RcptTo"].strip() == nameless_address
    assert told["Bcc"] is None
    assert not any(INJECTED in (m["X-RcptTo"] or "") for m in mailbox_messages(platform))

    # The e-mail to an address that is not one is set aside with its reason, for operators.
    def set_aside():
        failed = ok(operator.get("/v1/ops/failed-emails", params={"limit": 200}))["items"]
        return next((item for item in failed if item["recipient_id"] == poisoned), None)

    failed = while_the_clock_moves(operator, set_aside)
    assert failed["kind"] == "standing_at_risk.seller"
    assert failed["reason"].startswith("undeliverable: the recipient's e-mail address")
    assert "U+000D" in failed["reason"]
    # Once, or twice when the message overtook the principal's record (another topic) and
    # first waited for an address.
    assert failed["attempts"] in (1, 2)
    assert_problem(seller.get("/v1/ops/failed-emails"), 403)


def test_an_operator_cannot_set_the_standing_of_a_seller_who_does_not_exist(operator: Api):
    nobody = f"usr_{uuid.uuid4().hex[:12]}"
    decision = {"standing": "suspended", "reason": "fraud report"}
    assert_problem(operator.put(f"/v1/sellers/{nobody}/standing", decision), 404)
    exemption = {"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z", "reason": "Flood"}
    assert_problem(operator.post(f"/v1/sellers/{nobody}/exemptions", exemption), 404)
    shown = ok(operator.get(f"/v1/sellers/{nobody}/standards"))
    assert (shown["standing"], shown["history"], shown["exemptions"]) == ("good", [], [])


def test_what_operators_write_about_a_seller_is_plain_text_within_reach(
    operator: Api, seller: Api, buyer: Api
):
    authorized_order(seller, buyer)

    def heard_of_by_standards():  # once it consumed the order placed with them
        checked = {"standing": "good", "reason": "checked"}
        return operator.put(f"/v1/sellers/{seller.id}/standing", checked).status_code == 200

    eventually(heard_of_by_standards)
    before = ok(operator.get(f"/v1/sellers/{seller.id}/standards"))
    for reason in ("fraud\x1b[2J", "txt\u202eexe", "a\x00b"):
        answer = operator.put(
            f"/v1/sellers/{seller.id}/standing", {"standing": "suspended", "reason": reason}
        )
        assert_problem(answer, 422)
    for span in (
        {"from": "2026-11-01T00:00:00Z", "to": "9999-12-31T23:00:00-02:00"},
        {"from": "0001-01-01T00:00:00+01:00", "to": "2026-11-02T00:00:00Z"},
    ):
        assert_problem(
            operator.post(f"/v1/sellers/{seller.id}/exemptions", span | {"reason": "Flood"}), 422
        )
    assert_problem(
        operator.post(
            f"/v1/sellers/{seller.id}/exemptions",
            {"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z", "reason": "Flood\r\n"},
        ),
        422,
    )
    after = ok(operator.get(f"/v1/sellers/{seller.id}/standards"))
    assert (after["standing"], after["history"], after["exemptions"]) == (
        before["standing"],
        before["history"],
        before["exemptions"],
    )
