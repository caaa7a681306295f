"""Every service process SIGKILLed at the worst moments, while orders flow: with a batch
handled but its transaction not committed (the consumer dies mid-batch), with the transaction
committed but the offsets not, and with its relay's events published but not yet marked.

Each service walks through its faults in turn: it is started armed with the first; when it
dies the orchestrator (the supervisor) restarts it armed with the next, then as configured.
Each fault is tied to an event that makes the service's most visible effect (the order
moving on, the capture, the ticket, the standards fact, the e-mail). Afterwards every order
has every effect exactly once."""

from reliability_audit import problems
from reliability_journeys import run

ORDER = "marketplace.order"
FAULTS = {
    "orders": [
        "consumer.before_commit=kill@marketplace.payment.authorized.v1",
        "consumer.after_commit=kill@marketplace.payment.captured.v1",
        "relay.after_publish=kill",
    ],
    "payments": [
        f"consumer.before_commit=kill@{ORDER}.placed.v1",
        f"consumer.after_commit=kill@{ORDER}.shipped.v1",
        "relay.after_publish=kill",
    ],
    "support": [
        f"consumer.before_commit=kill@{ORDER}.placed.v1",
        f"consumer.after_commit=kill@{ORDER}.problem_reported.v1",
        "relay.after_publish=kill",
    ],
    "seller_standards": [  # it publishes only when a standing changes
        f"consumer.before_commit=kill@{ORDER}.accepted.v1",
        f"consumer.after_commit=kill@{ORDER}.delivered.v1",
    ],
    "notifications": [  # it publishes nothing
        f"consumer.before_commit=kill@{ORDER}.shipped.v1",
        f"consumer.after_commit=kill@{ORDER}.delivered.v1",
    ],
}


def test_every_service_killed_at_each_worst_moment_loses_and_repeats_nothing(
    fault_stack, crowd, supervisor
):
    for name, specs in FAULTS.items():
        supervisor.arm_in_turn(name, specs)
    # several orders at once, so that the batches killed hold more than one event
    journeys = crowd.journeys(6, disputed_every=2)

    run(crowd, journeys)

    fired = sorted(supervisor.faults_fired)
    assert fired == sorted((name, spec) for name, specs in FAULTS.items() for spec in specs)
    assert problems(fault_stack, crowd, journeys) == []
