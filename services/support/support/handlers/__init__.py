"""Support's use cases, each in one unit of work that persists what the domain decided and
emits the events it recorded:

- `context`: what every use case is given, and opening a ticket by itself (or counting the
  slip on the one already open);
- `events`: the platform's events (tickets they open, what support learns of orders' money,
  the buyers' messages that start the seller's clock);
- `clocks`: SLA breaches and unanswered messages, on the timer;
- `commands`: what buyers, sellers and agents ask over HTTP."""

from support.handlers.events import event_router

# The service's event router, where the platform's tooling looks for it (the AsyncAPI document
# and the topology test read `<service>.handlers.event_router`).
__all__ = ["event_router"]
