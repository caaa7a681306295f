"""Support's rules, pure (no I/O; time and the business calendar come in as arguments):

- `tickets`: tickets, their SLA clocks, who may write and resolve, and the events each change
  causes (`Ticket.events`);
- `triggers`: which of the platform's events open a ticket by themselves;
- `order_money`: what an order's money allows a resolution to do;
- `errors`: the refusals, each with its problem-details status."""
