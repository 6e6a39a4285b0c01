"""SPEC §4.1: the date window for every date_range operator, with "now" passed in."""

from datetime import datetime

import pytest

from sessionscope.catalog import SESSIONS
from sessionscope.errors import ApiError
from sessionscope.query.validate import parse_list
from sessionscope.query.window import parse_time

NOW = datetime(2023, 1, 30, 10, 51, 9)


def window(filters: str):
    spec = parse_list(SESSIONS, {"filters": filters}, NOW)
    return spec.window


def dr(op: str, value: str) -> str:
    return f'[{{"attribute": "date_range", "operator": "{op}", "value": {value}}}]'


def test_default_is_last_30_days():
    w = window("")
    assert (w.lo, w.hi, w.excluded) == (datetime(2022, 12, 31, 10, 51, 9), NOW, ())


def test_on_is_the_whole_day():
    w = window(dr("on", '"2023-01-19"'))
    assert (w.lo, w.hi) == (datetime(2023, 1, 19), datetime(2023, 1, 19, 23, 59, 59))


def test_on_with_a_datetime_still_means_that_day():
    w = window(dr("on", '"2023-01-19T11:23:12Z"'))
    assert (w.lo, w.hi) == (datetime(2023, 1, 19), datetime(2023, 1, 19, 23, 59, 59))


def test_before_is_30_days_up_to_but_excluding():
    w = window(dr("before", '"2023-01-19"'))
    assert (w.lo, w.hi) == (datetime(2022, 12, 20), datetime(2023, 1, 18, 23, 59, 59))


def test_after_excludes_the_instant_and_runs_to_now():
    w = window(dr("after", '"2023-01-01"'))
    assert (w.lo, w.hi) == (datetime(2023, 1, 1, 0, 0, 1), NOW)
    w = window(dr("after", '"2023-01-01T11:23:12Z"'))
    assert w.lo == datetime(2023, 1, 1, 11, 23, 13)


def test_between_dates_date_only_upper_is_end_of_day():
    w = window(dr("between_dates", '{"lower": "2023-01-01", "upper": "2023-01-19"}'))
    assert (w.lo, w.hi) == (datetime(2023, 1, 1), datetime(2023, 1, 19, 23, 59, 59))


def test_between_dates_datetimes_used_to_the_second():
    w = window(dr("between_dates", '{"lower": "2023-01-01T05:00:08Z", "upper": "2023-01-19T10:00:00+02:00"}'))
    assert (w.lo, w.hi) == (datetime(2023, 1, 1, 5, 0, 8), datetime(2023, 1, 19, 8, 0, 0))


def test_not_on_is_default_window_minus_the_day():
    w = window(dr("not_on", '"2023-01-20"'))
    assert (w.lo, w.hi) == (datetime(2022, 12, 31, 10, 51, 9), NOW)
    assert w.excluded == ((datetime(2023, 1, 20), datetime(2023, 1, 20, 23, 59, 59)),)


def test_several_date_filters_intersect():
    f = (
        '[{"attribute": "date_range", "operator": "after", "value": "2023-01-10"},'
        ' {"attribute": "date_range", "operator": "before", "value": "2023-01-20"}]'
    )
    w = window(f)
    assert (w.lo, w.hi) == (datetime(2023, 1, 10, 0, 0, 1), datetime(2023, 1, 19, 23, 59, 59))


@pytest.mark.parametrize(
    "value, fragment",
    [
        ('"yesterday"', "is not a date"),
        ('"20230119"', "is not a date"),
        ('"2023-W03-4"', "is not a date"),
        ('"\uff12\uff10\uff12\uff13-01-19"', "is not a date"),
        ('"2023-01-19T1123"', "is not a date"),
        ('{"lower": "2023-01-02", "upper": "20230119"}', "is not a date"),
        ("19", "expected a date string like \"2023-01-19\" or \"2023-01-19T11:23:12Z\", got a number"),
        ("null", "got null"),
        ('{"lower": "2023-01-02"}', "between_dates takes"),
        ('{"lower": "2023-01-20", "upper": "2023-01-02"}', "lower must not be after upper"),
    ],
)
def test_bad_dates_are_400_naming_the_path(value, fragment):
    op = "between_dates" if value.startswith("{") else "on"
    with pytest.raises(ApiError) as err:
        window(dr(op, value))
    assert err.value.status == 400
    assert fragment in err.value.message
    assert err.value.param == "filters"
    assert err.value.path.startswith("[0].value")
    # the message names where, as every filter error does: filters[0].value...
    assert err.value.message.startswith("filters" + err.value.path), err.value.message


def test_not_on_with_another_date_filter_only_removes_its_day():
    f = (
        '[{"attribute": "date_range", "operator": "between_dates", "value": {"lower": "2022-11-01", "upper": "2022-11-30"}},'
        ' {"attribute": "date_range", "operator": "not_on", "value": "2022-11-15"}]'
    )
    w = window(f)
    assert (w.lo, w.hi) == (datetime(2022, 11, 1), datetime(2022, 11, 30, 23, 59, 59))
    assert w.excluded == ((datetime(2022, 11, 15), datetime(2022, 11, 15, 23, 59, 59)),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-01-19 11:23", datetime(2023, 1, 19, 11, 23)),
        ("2023-01-19t11:23:12.75z", datetime(2023, 1, 19, 11, 23, 12)),
        ("2023-01-19T11:23:12+05:30", datetime(2023, 1, 19, 5, 53, 12)),
        ("2023-01-19T01:00:00-0200", datetime(2023, 1, 19, 3, 0, 0)),
        (" 2023-01-19 ", datetime(2023, 1, 19)),
    ],
)
def test_iso_spellings_clients_send_are_read(text, expected):
    assert parse_time(text, param="filters", path="[0].value")[0] == expected


def _days_by_definition(w):  # noqa: ANN001, ANN202 - every day, every excluded span tested on it
    from datetime import timedelta

    day, out = w.lo.date(), []
    while day <= w.hi.date():
        start = datetime(day.year, day.month, day.day)
        end = start + timedelta(days=1) - timedelta(seconds=1)
        if not any(lo <= max(start, w.lo) and min(end, w.hi) <= hi for lo, hi in w.excluded):
            out.append(day)
        day += timedelta(days=1)
    return out


def test_window_days_skip_the_days_not_on_takes_out() -> None:
    """window_days (the buckets a time series walks) against its definition: windows cut mid-day, not_on
    days inside, outside and at the ends of the window, repeated, and a day excluded twice."""
    from sessionscope.analytics import window_days

    def one(op: str, value: str) -> str:
        return dr(op, value)[1:-1]

    cases = [
        [one("between_dates", '{"lower": "2023-01-01T12:00:00Z", "upper": "2023-01-20T06:00:00Z"}')],
        [one("between_dates", '{"lower": "2023-01-01", "upper": "2023-01-20"}')],
        [],
    ]
    outs = ["2023-01-01", "2023-01-05", "2023-01-05", "2023-01-20", "2022-12-31", "2023-01-21", "2023-01-29"]
    for base in cases:
        for n in range(len(outs) + 1):
            filters = "[" + ", ".join([*base, *(one("not_on", f'"{d}"') for d in outs[:n])]) + "]"
            w = window(filters)
            assert list(window_days(w)) == _days_by_definition(w), filters
    w = window(dr("not_on", '"2023-01-10"'))
    assert len(w.excluded) == 1 and datetime(2023, 1, 10).date() not in set(window_days(w))


def test_series_days_step_by_bucket_and_meet_the_same_buckets() -> None:
    """A week or month series steps from bucket to bucket; the buckets it meets are those a walk over every
    day meets, in the same order (windows cut mid-bucket, across years, with and without not_on)."""
    from sessionscope.analytics import bucket_start, series_days, window_days

    def one(op: str, value: str) -> str:
        return dr(op, value)[1:-1]

    spans = ['{"lower": "2021-12-15T08:00:00Z", "upper": "2023-02-03"}', '{"lower": "2023-01-02", "upper": "2023-01-02"}',
             '{"lower": "2020-02-29", "upper": "2021-03-01T01:00:00Z"}']
    for span in spans:
        for extra in ("", ", " + one("not_on", '"2022-03-01"')):
            w = window("[" + one("between_dates", span) + extra + "]")
            for units in (["week"], ["month"], ["day"], ["week", "month"]):
                def starts(days, units=units):  # noqa: ANN001, ANN202
                    out: list = []
                    for d in days:
                        combo = tuple(bucket_start(u, d) for u in units)
                        if not out or out[-1] != combo:
                            out.append(combo)
                    return out

                assert starts(series_days(units, w)) == starts(window_days(w)), (span, extra, units)
    all_time = window("[" + one("between_dates", '{"lower": "1900-01-01", "upper": "2999-12-31"}') + "]")
    assert sum(1 for _ in series_days(["month"], all_time)) == 1100 * 12


@pytest.mark.parametrize("text", ["2999-12-31", "2999-12-31T00:00:01Z", "2999-12-31T23:59:59Z", "2999-12-31T20:00:00-03:59"])
def test_every_instant_of_the_last_day_is_in_range(text: str) -> None:
    """The message says dates run to 2999-12-31: every second of that day is taken, not its midnight alone."""
    assert parse_time(text, param="filters", path="")[0].date() == datetime(2999, 12, 31).date()


@pytest.mark.parametrize("text", ["3000-01-01", "2999-12-31T20:00:00-04:00", "1899-12-31T23:59:59Z"])
def test_instants_past_either_end_are_refused(text: str) -> None:
    with pytest.raises(ApiError, match="dates run from 1900-01-01 to 2999-12-31"):
        parse_time(text, param="filters", path="")
