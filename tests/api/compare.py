"""Comparing two answers of the server: equal, with floats equal to the last few bits (an engine may sum the
same values in another order from one query to the next, so the last bits of a float may differ)."""

from __future__ import annotations

import math
from typing import Any


def same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12)
    return a == b and type(a) is type(b)
