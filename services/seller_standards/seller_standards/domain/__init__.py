"""Seller standards' rules, pure (facts and time come in as arguments; the same facts always
give the same result, so a replay rebuilds the same standing):

- `policy`: the published thresholds, windows and margins, and operators' exemptions;
- `facts`: what each order and ticket event changes in an order's facts;
- `metrics`: a seller's metrics over the window, and the score;
- `standing`: the standing they lead to, operators' decisions, and the change each causes."""
