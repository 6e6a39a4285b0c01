"""Spec -> plan: what every query is confined to (the tenant, the window) and what it selects."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ..catalog import Resource
from .spec import Filter, ListSpec, Window


@dataclass(frozen=True)
class Scope:
    """The rows a query may see. `app_id` is mandatory: no plan exists without a tenant."""

    app_id: str
    resource: Resource
    window: Window
    filters: tuple[Filter, ...]

    def __post_init__(self) -> None:
        if not self.app_id:
            raise ValueError("a query scope needs an app_id")


@dataclass(frozen=True)
class ListPlan:
    scope: Scope
    columns: tuple[str, ...]
    limit: int | None  # None: every row, unordered (export)
    offset: int
    # the page's keys all lie at or after this time (query/deep.py): they are read from there on, while a
    # user's totals still count the whole window
    keys_from: datetime | None = None

    def keys_scope(self) -> Scope:
        """The scope the page's keys are read in."""
        if self.keys_from is None:
            return self.scope
        return replace(self.scope, window=replace(self.scope.window, lo=self.keys_from))


def plan_list(app_id: str, spec: ListSpec, columns: tuple[str, ...]) -> ListPlan:
    """One page of rows, newest first; one extra row is fetched to know whether a next page exists."""
    scope = Scope(app_id, spec.resource, spec.window, spec.filters)
    return ListPlan(scope, columns, spec.page_size + 1, (spec.page - 1) * spec.page_size)


def plan_export(app_id: str, spec: ListSpec, columns: tuple[str, ...]) -> ListPlan:
    """Every matching row, in no particular order (sorting would hold the whole result)."""
    return ListPlan(Scope(app_id, spec.resource, spec.window, spec.filters), columns, None, 0)
