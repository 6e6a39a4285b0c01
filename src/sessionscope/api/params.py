"""The documented query parameters of the read endpoints, for OpenAPI only.

The service layer validates every parameter itself (with the SPEC's error messages), so the routes take
the raw query string through `query_params` and declare nothing for FastAPI to validate: declaring them
as `Query()` arguments cost about a millisecond per request. They are listed in the OpenAPI document
through `openapi_extra` instead, so /docs still shows them.
"""

from __future__ import annotations

from typing import Any

HELP = {
    "filters": 'URL-encoded JSON array: [{"attribute": "device_country", "operator": "equal", "value": "USA"}]',
    "group_by": (
        'URL-encoded JSON array, at most two: [{"attribute": "device_model", "max_group_number": 50}]; '
        'custom properties: {"attribute": "user_custom_property", "property_name": "age_group"}'
    ),
    "aggregation": (
        'URL-encoded JSON array: [{"attribute": "session_duration", "operator": "max"}]; operators sum, avg, min, '
        'max, p50, p90, p95, p99; counts take "operator": ""'
    ),
    "comparison": "1 or true: add M_pct_change against the previous window",
    "page": "Page number, from 1",
    "page_size": "Rows per page, 1 to 500 (default 50)",
    "with_video": "true or 1: include a signed video link",
    "format": "ndjson (default; each line a list document), csv or parquet",
}

LIST = ("filters", "page", "page_size")
ANALYTICS = ("filters", "group_by", "aggregation", "comparison", "page", "page_size")


def documented(*names: str) -> dict[str, Any]:
    """`openapi_extra` listing these optional string query parameters with their help texts."""
    return {
        "parameters": [
            {"name": n, "in": "query", "required": False, "schema": {"type": "string"}, "description": HELP[n]}
            for n in names
        ]
    }
