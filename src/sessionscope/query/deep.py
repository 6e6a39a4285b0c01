"""Deep pages on an engine that sorts every matching row once a page lies too deep (`Dialect.top_n_rows`).

A page at offset O of limit L holds ranks O+1..O+L of the rows, newest first. Every one of the first N = O+L
rows was uploaded at or after the N-th newest row's time, so any window start T with at least N matching rows
in [T, window end] keeps all of them, in the same order, and leaves out only rows ranked after them. The
engine then sorts the rows of [T, end] alone, which its zone maps find without reading the rest.

T is found by counting the matching rows of the window's last hour, then of longer spans, until one holds
N rows. Each span is the one that would hold N rows at the rate the last count saw, and a quarter more, but
from 2 to 8 times the last: uploads come in daily waves, so an hour's rate says little of a day's. When that
span would reach the window's start, the window stays as it is: the page's rows are most of the window's,
and counting them would cost more than it saves. Each count reads the row groups of its span only, as the
tables are in upload order. The rows are counted where the page's keys are read (render.render_count), under the same
tenant, window and filters. Per-user lists (users) order users over the whole window, whose totals a narrower
window would change: they are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from .plan import ListPlan

FIRST_SPAN = timedelta(hours=1)


def narrowed(plan: ListPlan, top_n_rows: int | None, count: Callable[[ListPlan], int]) -> ListPlan:
    """`plan` with its window starting as late as its page allows, when the page lies deeper than
    `top_n_rows`; `count(plan)` is the number of rows the plan's list orders."""
    if top_n_rows is None or plan.limit is None or plan.scope.resource.per_user:
        return plan
    needed = plan.offset + plan.limit
    if needed <= top_n_rows:
        return plan
    window = plan.scope.window
    span = FIRST_SPAN
    while window.hi - span > window.lo:
        probe = replace(plan, scope=replace(plan.scope, window=replace(window, lo=window.hi - span)))
        found = count(probe)
        if found >= needed:
            return probe
        if not found:
            span *= 8
            continue
        wanted = needed / found * 1.25  # times the span, at the rate just seen
        if window.hi - span * wanted <= window.lo:
            return plan  # the page needs most of the window: counting the rest would cost more than it saves
        span *= min(8.0, max(2.0, wanted))
    return plan
