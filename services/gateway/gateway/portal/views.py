"""How the portal shows things: its templates (autoescaped, whatever their file names), the
filters they use (money, times, percentages), the seller's metrics and the operators' lag as
rows, and pages that only say why nothing else is shown."""

from __future__ import annotations

from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from contracts.dates import as_moment, format_day, format_moment
from contracts.money import format_money
from gateway.portal.zone import reader_zone

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
# autoescape=True for every template, whatever its file name (select_autoescape() goes by the
# extension, and left `*.html.j2` unescaped).
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
)


def money(value: dict[str, Any] | None) -> str:
    """An amount as the API gives it (`{amount_minor, currency}`), shown the platform's one way;
    "-" when there is none or it is not an amount."""
    if not value:
        return "-"
    try:
        minor, currency = int(value["amount_minor"]), str(value["currency"])
    except (KeyError, TypeError, ValueError):
        return "-"
    return format_money(minor, currency)


def when(value: str | None, zone: tzinfo = UTC) -> str:
    """A moment in the platform's one date format (`contracts.dates`), in `zone`."""
    return format_moment(value, zone) if value else "-"


@pass_context
def when_read(context: Context, value: str | None) -> str:
    """`when` in the reader's zone (their preference, UTC by default)."""
    return when(value, reader_zone(context.get("request")))


@pass_context
def moment(context: Context, value: str | None) -> Markup | str:
    """A `<time>` element: the moment for machines, the reader's date for people."""
    at = as_moment(value)
    if at is None:
        return "-" if not value else str(value)
    shown = when(value, reader_zone(context.get("request")))
    return Markup('<time datetime="{}">{}</time>').format(at.isoformat(), shown)


def day(value: str | None) -> str:
    return format_day(value) if value else "-"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


templates.env.filters |= {
    "money": money,
    "when": when_read,
    "moment": moment,
    "day": day,
    "percent": percent,
}


def metric_rows(metrics: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each metric as the seller reads it: value and target in its own unit, and whether it
    misses the target (only once the sample is large enough to judge)."""
    rows = []
    for name, metric in metrics.items():
        value, target, direction = (
            metric.get("value"),
            metric.get("threshold"),
            metric.get("direction"),
        )
        shown = (
            (lambda v: "-" if v is None else f"{v:.1f}") if name == "average_rating" else percent
        )
        missed = (
            bool(metric.get("judged"))
            and value is not None
            and target is not None
            and (value < target if direction == "at_least" else value > target)
        )
        sign = {"at_least": "≥ ", "at_most": "≤ "}.get(direction or "", "")
        rows.append(
            {
                "name": name.replace("_", " "),
                "value": shown(value),
                "target": f"{sign}{shown(target)}" if target is not None else "-",
                "sample": metric.get("sample_size", 0),
                "missed": missed,
                "orders": metric.get("orders", []),
            }
        )
    return rows


def lag_rows(consumers: dict[str, Any]) -> list[dict[str, Any]]:
    """Lag per consumer group and topic (the API gives it per partition)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for group in consumers.get("groups", []):
        for partition in group.get("partitions", []):
            row = rows.setdefault(
                (group["group"], partition["topic"]),
                {"group": group["group"], "topic": partition["topic"], "lag": 0, "partitions": 0},
            )
            row["lag"] += partition["lag"]
            row["partitions"] += 1
    return list(rows.values())


ERROR_TITLES = {
    403: "Not allowed",
    404: "Page not found",
    409: "Not possible now",
    422: "Not accepted",
    502: "Not available just now",
}


def plain_page(
    message: str,
    status: int,
    *,
    title: str | None = None,
    me: dict[str, Any] | None = None,
    back_to: str | None = None,
    back_label: str | None = None,
) -> HTMLResponse:
    """A refusal as a page inside the layout, with a way back and its status code kept
    (escaped like every other; the portal's own words, or the API's problem detail)."""
    page = templates.get_template("portal/error.html").render(
        message=message,
        status=status,
        title=title or ERROR_TITLES.get(status, "Something went wrong"),
        me=me,
        back_to=back_to,
        back_label=back_label,
    )
    return HTMLResponse(page, status_code=status)


def not_found(message: str, me: dict[str, Any] | None = None) -> HTMLResponse:
    return plain_page(message, 404, me=me)
