"""The Stripe Connect endpoints localstripe lacks, served as Stripe documents them.

Seller payouts need connected accounts, account links, transfers and transfer reversals;
localstripe has none of them. This small server answers those endpoints itself, in Stripe's
form-encoded request / JSON response style with Stripe's error shape, and forwards every
other request unchanged (method, path, query, body, headers) to the localstripe base URL it
is given. The official SDK therefore keeps one `api_base` for all of Stripe, and payments
never knows which server it talks to.

What differs from Stripe, on purpose, for development:

- Onboarding completes at once: creating an account link for an account enables it
  (`details_submitted`, `charges_enabled`, `payouts_enabled` true, the `transfers` capability
  `active`, nothing due), and an `account.updated` event is sent. The link's URL (served
  here) only redirects to `return_url`.
- There is no platform balance: a transfer to an enabled account never fails for funds.
- State is kept in memory; a restart starts empty.

Rules of Stripe's that localstripe does not keep are kept here before forwarding:
`setup_future_usage` and reusing a card (PaymentIntents), and a refund larger than what the
charge has left unrefunded is refused (`charge_already_refunded`), as Stripe refuses it (#18:
payments' handling of a refund refused for good is tested against it).

`Idempotency-Key` works as on Stripe: the same key on the same endpoint with the same
parameters returns the first answer (`Idempotent-Replayed: true`) rather than creating a
second object; the same key with another endpoint or other parameters is an
`idempotency_error`. Only successful answers are kept, as Stripe keeps no result for a
request refused by validation. If a webhook URL and signing secret are configured, the events
this server generates (`account.updated`, `transfer.created`, `transfer.reversed`) are POSTed
there signed as Stripe signs them, so `stripe.Webhook.construct_event` accepts them.

Run: `python -m uvicorn devstack.stripe_connect:app_from_environment --factory` with
`STRIPE_CONNECT_UPSTREAM` (the localstripe base URL) and optionally
`STRIPE_CONNECT_WEBHOOK_URL` and `STRIPE_CONNECT_WEBHOOK_SECRET`; see
`devstack.components.stripe_connect`.

The package: `wire` (Stripe's request and answer formats: form decoding, parameter checks,
errors, list pages, API keys, webhook signatures), `state` (the accounts, links, transfers and
reversals kept in memory, and the events they send) and `app` (the Starlette app: the
endpoints, `Idempotency-Key`, onboarding links and forwarding to localstripe).
"""

from devstack.stripe_connect.app import app_from_environment, create_app
from devstack.stripe_connect.state import Connect
from devstack.stripe_connect.wire import StripeError, decode_form, sign

__all__ = ["Connect", "StripeError", "app_from_environment", "create_app", "decode_form", "sign"]
