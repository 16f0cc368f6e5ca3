"""Every registered metric is defined in docs/metrics, with its parameters."""

from __future__ import annotations

from pathlib import Path

from shequn.analytics.registry import all_metrics

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics"


def test_every_metric_and_parameter_is_documented():
    text = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    for metric in all_metrics():
        assert f"`{metric.name}`" in text, f"metric {metric.name} is not in docs/metrics"
        for param in metric.params:
            assert f"`{param.name}`" in text, f"{metric.name} parameter {param.name} undocumented"
