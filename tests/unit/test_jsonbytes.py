"""jsonbytes.dumps: orjson's bytes, with other keys than strings encoded as their JSON text."""

import orjson
import pytest

from sessionscope.jsonbytes import dumps


def test_string_keys_are_orjsons_bytes():
    doc = {"a": [1, 2.5, None, True], "b": {"c": "ü", "d": orjson.Fragment(b"[3]")}}
    assert dumps(doc) == b'{"a":[1,2.5,null,true],"b":{"c":"\xc3\xbc","d":[3]}}'
    assert dumps(doc, option=orjson.OPT_APPEND_NEWLINE).endswith(b"]}}\n")


def test_other_keys_become_their_json_text():
    doc = {"data": [{1: "one", None: "none", 2.5: "x", False: "f"}]}
    assert orjson.loads(dumps(doc)) == {"data": [{"1": "one", "null": "none", "2.5": "x", "false": "f"}]}
    assert dumps(doc, option=orjson.OPT_APPEND_NEWLINE).endswith(b"}]}\n")


def test_what_cannot_be_encoded_still_raises():
    with pytest.raises(orjson.JSONEncodeError):
        dumps({"a": object()})
    with pytest.raises(orjson.JSONEncodeError):
        dumps({1: object()})
