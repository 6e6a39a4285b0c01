"""Reading a page's keys from the window's newest rows only, when the page lies among them.

A page at offset O of limit L holds ranks O+1..O+L, newest first. Every one of the first N = O+L rows was
uploaded at or after the N-th newest row's time, so any time T with at least N matching rows in [T, window
end] holds all of them, in the same order, and leaves out only rows ranked after them. The same holds for
users, ranked by their latest matching session: a user with a matching session in [T, end] has its latest
there, and every other user ranks after it. So the page's keys can be read from [T, end] alone
(`ListPlan.keys_from`); the rows and a user's totals still come from the whole window. It is worth it:
- for a per-user list (users), on any page: its keys come from a GROUP BY over every user in the window
  (unless a filter tests a user's totals, or that it had none of an event, which need the whole window:
  then the plan is left alone);
- for other lists, on an engine that sorts every matching row once a page lies too deep
  (`Dialect.top_n_rows`: DuckDB), on pages past that depth.

T is found by counting the matching rows (users) of the window's last hour, then of longer spans, until one
holds N. Each span is the one that would hold N at the rate the last count saw, and a quarter more, but from
2 to 8 times the last: uploads come in daily waves, so an hour's rate says little of a day's (after an empty
count, 8 times). When that span would reach the window's start (after an empty count, half the window), the
plan is left alone: the page needs most of the window, and counting it would cost more than it saves. The
counts and the page are separate queries: a write between them can leave fewer than N rows after T, and the
page then comes back short; the caller reads it again from the plan as it was (service._page). Each count
reads the row groups (granules) of its span only, as the tables are in upload order; it counts where the
page's keys are read (render.render_count), under the same tenant, window and filters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from .plan import ListPlan
from .relations import KEYS_FIRST
from .render import reads_whole_window

FIRST_SPAN = timedelta(hours=1)


def _worth_it(plan: ListPlan, top_n_rows: int | None) -> bool:
    if plan.limit is None:  # an export: no page
        return False
    if plan.scope.resource.per_user:
        return not reads_whole_window(plan.scope)
    # a relation without a narrower source of keys (the sessions of users: their totals need the whole
    # window) is paged as it is
    keyed = plan.scope.resource.relation in KEYS_FIRST
    return keyed and top_n_rows is not None and plan.offset + plan.limit > top_n_rows


def narrowed(plan: ListPlan, top_n_rows: int | None, count: Callable[[ListPlan], int]) -> ListPlan:
    """`plan` with its page's keys read from the latest time that holds them, where that is worth it;
    `count(plan)` is the number of rows (users) its list orders from `plan.keys_from` on."""
    if not _worth_it(plan, top_n_rows):
        return plan
    assert plan.limit is not None
    needed = plan.offset + plan.limit
    window = plan.scope.window
    total = window.hi - window.lo
    span = FIRST_SPAN
    while span < total:
        # whole seconds, as stored times are (floored: the count and the page bind the same time)
        probe = replace(plan, keys_from=max(window.lo, (window.hi - span).replace(microsecond=0)))
        found = count(probe)
        if found >= needed:
            return probe
        # the next span, in multiples of this one: at the rate just seen, the span holding `needed` and a
        # quarter more (compared as ratios: a page number in the millions would overflow a date)
        wanted = 8.0 if not found else needed / found * 1.25
        if (not found and 8 * span >= total / 2) or (found and wanted * (span / total) >= 1):
            return plan  # the page needs most of the window: counting the rest would cost more than it saves
        span *= min(8.0, max(2.0, wanted))
    return plan
