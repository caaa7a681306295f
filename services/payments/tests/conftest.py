from datetime import timedelta

import pytest

from payments.app import MIGRATIONS
from payments.cards import StripeCards
from payments.context import PaymentsContext
from payments.db import PaymentsUnit
from payments.payouts import StripeConnect
from payments.worker import CardOperationWorker
from servicekit.domain.clock import ManualClock
from servicekit.messaging.db import make_engine
from servicekit.messaging.uow import Database

from payments_test_helpers import NOW


@pytest.fixture
def clock():
    return ManualClock(NOW)


@pytest.fixture
async def engine(migrated_database):
    engine = make_engine(await migrated_database(MIGRATIONS))
    yield engine
    await engine.dispose()


@pytest.fixture
def db(engine, clock):
    return Database(engine, source="payments", clock=clock, unit=PaymentsUnit)


@pytest.fixture
def stripe_cards(stripe_connect_base):
    # One Stripe base, as in the dev stack: the Connect endpoints in front of localstripe.
    return StripeCards("sk_test_x", stripe_connect_base)


@pytest.fixture
def ctx(db, clock, stripe_cards):
    return PaymentsContext(
        db=db,
        clock=clock,
        cards=stripe_cards,
        connect=StripeConnect(stripe_cards.client),
        authorization_hold=timedelta(days=7),
        renew_before=timedelta(days=1),
        fee_bps=500,
    )


@pytest.fixture
def worker(ctx, clock):
    # Backoff measured on the test's clock, so a test moves past it instead of sleeping.
    return CardOperationWorker(ctx, ticks=lambda: clock.now().timestamp())


@pytest.fixture
def payout_runner(ctx, clock):
    from payments.payout_run import PayoutRunner

    return PayoutRunner(ctx, ticks=lambda: clock.now().timestamp())
