"""The alerting rules point at metrics the services really export, and each alert has its
entry in the operator runbook."""

import re

import yaml
from prometheus_client.metrics import MetricWrapperBase

from devstack.deployment import REPO_ROOT
from servicekit.messaging import metrics

RULES = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "alerts.yaml").read_text())
ALERTS = [rule for group in RULES["groups"] for rule in group["rules"]]
RUNBOOK = (REPO_ROOT / "deploy" / "RUNBOOK.md").read_text()


# name -> label names, of every metric the kit defines
METRICS = {
    metric._name: set(metric._labelnames)
    for metric in vars(metrics).values()
    if isinstance(metric, MetricWrapperBase)
}
SUFFIXES = ("", "_total", "_bucket", "_count", "_sum")


def metric_of(series: str) -> str | None:
    return next((m for m in METRICS for suffix in SUFFIXES if series == m + suffix), None)


def test_every_alert_uses_only_metrics_the_services_export():
    for alert in ALERTS:
        used = set(re.findall(r"marketplace_\w+", alert["expr"]))
        assert used, alert["alert"]
        assert all(metric_of(series) for series in used), (alert["alert"], used)


def test_every_alert_has_a_runbook_entry_and_a_severity():
    for alert in ALERTS:
        name = alert["alert"]
        assert f"### {name}\n" in RUNBOOK, name
        assert alert["annotations"]["runbook"] == f"deploy/RUNBOOK.md#{name.lower()}"
        assert alert["labels"]["severity"] in {"warning", "critical"}


def test_every_label_an_alert_groups_by_is_one_its_metrics_carry():
    for alert in ALERTS:
        carried = set().union(
            *(METRICS[metric_of(s)] for s in re.findall(r"marketplace_\w+", alert["expr"]))
        )
        for grouped in re.findall(r"by \(([^)]*)\)", alert["expr"]):
            for label in (part.strip() for part in grouped.split(",")):
                if label not in {"le", "job"}:  # histogram buckets; Prometheus adds `job`
                    assert label in carried, (alert["alert"], label)
