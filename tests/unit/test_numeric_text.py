"""Both engines read a stored text as a number exactly when the documented rule does (docs/api.md, Filters):
plain decimal notation (the pattern a filter's value must match), surrounding whitespace aside, and a finite
value. The engines' expressions are cheaper stand-ins for that pattern (DuckDB: a cast minus what it reads
beyond the pattern; ClickHouse: its cast reads nothing more), so they are held to it here over random texts
made of every character that matters to a number parser, and over the texts known to differ."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sessionscope.query.render import bound
from sessionscope.store.chdb import ChdbStore
from sessionscope.store.duckdb import DuckDBStore

# written out here, not imported: the documented rule
_PLAIN = re.compile(r"[ \t\n\r\f\v]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\n\r\f\v]*")
KNOWN = ["10", " 5", "10 ", "\t5\n", "5.0", "1e3", "1E3", "+5", "-5", ".5", "5.", "5e-400", "1e300",
         "1_000", "+-5", "-+5", "NaN", "nan", "inf", "-inf", "Infinity", "0x10", "1e999", "-1e999", "１０", "٣",
         "1,000", "", " ", "e3", "1e", "--5", "1.5.5", "0b101", "1.5f", "1d", "0x1p3", "9007199254740993"]
ALPHABET = "0123456789+-.eE_ xXnaifNIFtybopdDlL\t\n\r\f\v,'"


def reads(text: str) -> float | None:
    if not _PLAIN.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def texts() -> list[str]:
    rnd = random.Random(20261129)
    made = {"".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 6))) for _ in range(40_000)}
    return sorted(made | set(KNOWN))


@pytest.fixture(params=["duckdb", "chdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    s = DuckDBStore(str(tmp_path / "s.duckdb")) if request.param == "duckdb" else ChdbStore(str(tmp_path / "ch"))
    yield s
    s.close()


def test_a_text_reads_as_a_number_exactly_when_the_documented_rule_says(store: Any) -> None:
    d = store.dialect
    number = d.expressions["to_number"].format(x="v")
    sql, params = bound(d, f"SELECT v, {number} FROM ({d.expressions['unnest_strings']})", v=(texts(), "Array(String)"))
    got = {v: (None if n is None else float(n)) for v, n in store.query(sql, params)}
    assert len(got) == len(texts())
    wrong = [(v, n, reads(v)) for v, n in got.items() if n != reads(v)]
    assert wrong == [], wrong[:20]
