"""Filter validation: every bad input is a 400 naming the filter index, the field and what is allowed."""

from datetime import datetime

import orjson
import pytest

from sessionscope.catalog import EVENTS, SESSIONS
from sessionscope.errors import ApiError
from sessionscope.query.validate import parse_list

NOW = datetime(2023, 1, 30)


def parse(filters, **params):
    raw = filters if isinstance(filters, str) else orjson.dumps(filters).decode()
    return parse_list(SESSIONS, {"filters": raw, **params}, NOW)


def error(filters, **params) -> ApiError:
    with pytest.raises(ApiError) as err:
        parse(filters, **params)
    assert err.value.status == 400
    return err.value


def test_not_json():
    e = error("[{bad")
    assert e.param == "filters" and "not valid JSON" in e.message


def test_not_an_array_of_objects():
    assert error('{"attribute": "x"}').message == "filters must be a JSON array of objects, got an object"
    e = error("[1]")
    assert e.path == "[0]" and e.message == "filters[0] must be an object, got a number"
    # kinds are named as JSON names them, never as Python types
    for text, kind in [("[null]", "null"), ('["x"]', "a string"), ("[[]]", "an array"), ("[true]", "a boolean")]:
        assert error(text).message == f"filters[0] must be an object, got {kind}"


def test_unknown_attribute_lists_the_allowed_ones():
    e = error([{"attribute": "device_colour", "operator": "equal", "value": "red"}])
    assert e.path == "[0].attribute"
    assert "device_colour" in e.message and "device_model" in e.message and "session_duration" in e.message


def test_operator_not_fitting_the_type():
    e = error([{"attribute": "device_country", "operator": "equal", "value": "USA"},
               {"attribute": "session_duration", "operator": "contains", "value": "1"}])
    assert e.path == "[1].operator"
    assert "greater, less, greater_or_equal, less_or_equal, equal, not_equal" in e.message


def test_wrong_value_shapes():
    assert error([{"attribute": "device_model", "operator": "in", "value": "SM-G"}]).path == "[0].value"
    assert "array of strings" in error([{"attribute": "device_model", "operator": "in", "value": "SM-G"}]).message
    assert error([{"attribute": "session_duration", "operator": "greater", "value": "ten"}]).path == "[0].value"
    assert error([{"attribute": "session_crashed", "operator": "equal", "value": "yes"}]).path == "[0].value"
    assert error([{"attribute": "device_model", "operator": "equal", "value": {"a": 1}}]).path == "[0].value"
    assert error([{"attribute": "device_model", "operator": "equal"}]).path == "[0].value"


def test_missing_property_name():
    e = error([{"attribute": "user_custom_property", "operator": "equal", "value": "x"}])
    assert e.path == "[0].property_name" and "property_name is required for user_custom_property" in e.message


def test_property_name_of_another_kind_is_named():
    e = error([{"attribute": "user_custom_property", "property_name": 7, "operator": "equal", "value": "x"}])
    assert e.path == "[0].property_name"
    assert e.message == "filters[0].property_name must be a string (the custom property's name), got a number"


def test_platform_values():
    for v, want in [(1, "android"), ("1", "android"), ("android", "android"), ("Android", "android"),
                    (2, "ios"), ("2", "ios"), ("ios", "ios")]:
        spec = parse([{"attribute": "device_platform", "operator": "equal", "value": v}])
        assert spec.filters[0].value == want
    e = error([{"attribute": "device_platform", "operator": "equal", "value": "3"}])
    assert "'android'" in e.message and "'1'" in e.message


def test_numeric_strings_and_bool_spellings():
    spec = parse([{"attribute": "session_rage_gesture_count", "operator": "greater", "value": "5"},
                  {"attribute": "session_crashed", "operator": "equal", "value": "True"},
                  {"attribute": "session_has_video", "operator": "equal", "value": 0}])
    assert [f.value for f in spec.filters] == [5, True, False]


def test_pagination_bounds():
    assert parse([], page="2", page_size="500").page_size == 500
    assert parse([], page=3, page_size=7).page_size == 7  # a JSON body's numbers
    spellings = [{"page": "1_0"}, {"page": "\uff11\uff10"}, {"page": "\u0661"}, {"page_size": "1e1"}, {"page_size": "0x10"},
                 {"page": " 3 "}, {"page_size": "+7"}, {"page_size": " 7"}]  # decimal digits only (SPEC §3)
    for bad in [{"page": "0"}, {"page": "x"}, {"page_size": "501"}, {"page_size": "0"}, {"page_size": "1.5"}, *spellings]:
        e = error([], **bad)
        assert e.param in bad
        assert "integer" in e.message
    # values are quoted as JSON spells them
    assert error([], page_size=True).message == "page_size must be an integer from 1 to 500, got true"
    assert error([], page=2.5).message.endswith("got 2.5")


def test_event_property_condition():
    spec = parse([{"attribute": "event_name", "operator": "in", "value": ["Add to cart"],
                   "property": {"name": "price", "operator": "greater", "value": "10"}}])
    f = spec.filters[0]
    assert f.event_property is not None and f.event_property.value == 10 and f.event_property.property_name == "price"
    e = error([{"attribute": "event_name", "operator": "in", "value": ["A"], "property": {"name": "p", "operator": "has_any", "value": 1}}])
    assert e.path == "[0].property.operator"


def test_a_missing_operator_is_called_missing() -> None:
    e = error([{"attribute": "device_model", "value": "x"}])
    assert e.path == "[0].operator" and "None" not in e.message
    assert e.message.startswith("filters[0].operator is required; allowed for device_model: equal, "), e.message
    e = error([{"attribute": "device_model", "operator": "bigger", "value": "x"}])
    assert e.message.startswith("filters[0].operator: 'bigger' does not apply to device_model (String); allowed: ")


@pytest.mark.parametrize("text", ["1_0", "\uff11\uff10", "inf", "nan", "0x10", "1..2", "e5", ""])
def test_a_numeric_value_is_plain_decimal_text(text: str) -> None:
    e = error([{"attribute": "session_rage_gesture_count", "operator": "greater", "value": text}])
    assert e.path == "[0].value" and "expected a number" in e.message


@pytest.mark.parametrize(("text", "value"), [("10", 10), (" -2 ", -2), ("2.5", 2.5), (".5", 0.5), ("1e3", 1000.0), ("+4", 4)])
def test_numeric_text_reads_as_its_number(text: str, value: float) -> None:
    (f,) = parse([{"attribute": "session_rage_gesture_count", "operator": "greater", "value": text}]).filters
    assert f.value == value and type(f.value) is type(value)


def test_a_negative_event_name_with_a_property_condition_on_events_names_the_operator():
    item = {"attribute": "event_name", "operator": "not_in", "value": ["A"], "property": {"name": "p", "operator": "equal", "value": "1"}}
    with pytest.raises(ApiError) as err:
        parse_list(EVENTS, {"filters": orjson.dumps([item]).decode()}, NOW)
    assert err.value.path == "[0].operator"
    assert err.value.message == "filters[0].operator: with a property condition, event_name takes equal or in, not not_in"
