"""/metrics text: every family announced by HELP and TYPE before its samples; declared counters start at 0."""

from __future__ import annotations

import re

import pytest

from sessionscope.api.metrics import COUNTERS, Metrics

SAMPLE = re.compile(r"^([a-z_]+)(\{[^}]*\})? (\S+)$")


def families(text: str) -> dict[str, dict]:
    """Parse the exposition text; fail on a sample whose family was not announced before it."""
    seen: dict[str, dict] = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, name, rest = line[2:6], *line[7:].split(" ", 1)
            seen.setdefault(name, {"samples": []})[kind] = rest
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        family = re.sub(r"_(bucket|count|sum)$", "", m.group(1)) if m.group(1) not in seen else m.group(1)
        assert {"HELP", "TYPE"} <= set(seen.get(family, {})), f"{m.group(1)} sampled before its HELP and TYPE"
        seen[family]["samples"].append((m.group(1), m.group(2) or "", float(m.group(3))))
    return seen


def test_every_family_has_help_and_type_and_counters_start_at_zero() -> None:
    metrics = Metrics()
    fresh = families(metrics.render())
    for name, help_text in COUNTERS.items():
        assert fresh[f"sessionscope_{name}"] == {"HELP": help_text, "TYPE": "counter", "samples": [(f"sessionscope_{name}", "", 0.0)]}

    metrics.observe("GET", "/v2/session", 200, 0.003)
    metrics.observe("GET", "/v2/session", 200, 0.2)
    metrics.add("ingested_sessions_total", 7)
    metrics.add("ingested_sessions_total", 5)
    got = families(metrics.render())
    assert got["sessionscope_ingested_sessions_total"]["samples"] == [("sessionscope_ingested_sessions_total", "", 12.0)]
    assert got["sessionscope_http_requests_total"]["samples"] == [
        ("sessionscope_http_requests_total", '{method="GET",route="/v2/session",status="200"}', 2.0)
    ]
    hist = {labels: v for name, labels, v in got["sessionscope_http_request_seconds"]["samples"] if name.endswith("_bucket")}
    assert hist['{method="GET",route="/v2/session",le="0.0025"}'] == 0
    assert hist['{method="GET",route="/v2/session",le="0.005"}'] == 1
    assert hist['{method="GET",route="/v2/session",le="0.25"}'] == 2 == hist['{method="GET",route="/v2/session",le="+Inf"}']


def test_an_undeclared_counter_is_refused() -> None:
    with pytest.raises(KeyError, match="undeclared counter 'typo_total'"):
        Metrics().add("typo_total")
