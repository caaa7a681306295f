"""Storing a `Decision`: the payment, its operations, its ledger entries, the credit balances
they move, and its events, in the caller's unit of work. Nothing here decides."""

from __future__ import annotations

from payments import ledger
from payments.db import PaymentsUnit
from payments.domain import Decision, OperationState, Payment


async def store_new(uow: PaymentsUnit, decision: Decision) -> bool:
    """Store a decision about a new payment; False (and nothing stored) when the order has
    one already: a replay."""
    if not await uow.payments.add_if_new(decision.payment):
        return False
    await _store_consequences(uow, decision)
    return True


async def store(uow: PaymentsUnit, before: Payment, decision: Decision) -> Payment:
    """Store a decision about the payment read as `before`; answers the payment as saved."""
    saved = before
    if decision.payment != before:
        saved = await uow.payments.save(decision.payment)
    await _store_consequences(uow, decision)
    return saved


def has_work_queued(decision: Decision) -> bool:
    return any(operation.state is OperationState.PENDING for operation in decision.operations)


async def _store_consequences(uow: PaymentsUnit, decision: Decision) -> None:
    operations = uow.operations
    for operation in decision.operations:
        if operation.state is OperationState.SKIPPED:
            await operations.save(operation, was=OperationState.PENDING)
        else:
            await operations.add_if_new(operation)
    await uow.ledger.write(decision.entries)
    await _move_credit(uow, decision.entries)
    if decision.waiting_refunds_made:
        await uow.waiting_refunds.made(decision.payment.order_id)
    for event in decision.events:
        uow.emit(event)


async def _move_credit(uow: PaymentsUnit, entries: tuple[ledger.Entry, ...]) -> None:
    """Keep each buyer's spendable balance in step with the ledger's credit lines."""
    prefix = ledger.buyer_credit("")
    for entry in entries:
        for line in entry.lines:
            if line.account.startswith(prefix):
                buyer_id = line.account.removeprefix(prefix)
                await uow.credit_balances.change(buyer_id, entry.currency, line.amount_minor)
