"""docs/api.md's attribute tables are generated from the catalogue and must be current."""

from pathlib import Path

from sessionscope.docgen import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_attribute_reference_is_current():
    text = DOC.read_text()
    assert render(text) == text, "run: python -m sessionscope.docgen docs/api.md"
