"""The failpoint spec the reliability suite arms services with is read strictly: a typo
would silently inject nothing and the test would prove nothing."""

import pytest

from servicekit.messaging import failpoints
from servicekit.messaging.failpoints import Failpoint


def test_a_spec_names_each_failpoint_with_its_action_and_event_type():
    spec = "consumer.before_commit=kill@marketplace.order.shipped.v1; consumer.handling=sleep:2.5"
    assert failpoints.parse(spec) == {
        "consumer.before_commit": Failpoint("kill", 0.0, "marketplace.order.shipped.v1"),
        "consumer.handling": Failpoint("sleep", 2.5, None),
    }
    assert failpoints.parse("") == {}


@pytest.mark.parametrize(
    "spec",
    ["consumer.before_comit=kill", "relay.after_publish=explode", "relay.after_publish=drop"],
)
def test_an_unknown_failpoint_or_action_is_refused(spec):
    with pytest.raises(ValueError):
        failpoints.parse(spec)


async def test_an_armed_failpoint_fires_only_for_its_event_type():
    failpoints.arm("consumer.before_commit=drop@marketplace.order.shipped.v1")
    try:
        assert await failpoints.reached("consumer.before_commit", ["x"]) is None
        assert await failpoints.reached("consumer.after_commit", ["x"]) is None
        fired = await failpoints.reached("consumer.before_commit", ["marketplace.order.shipped.v1"])
        assert fired == "drop"
    finally:
        failpoints.arm("")
