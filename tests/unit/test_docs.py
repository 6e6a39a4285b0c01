"""Reference tables in docs/api.md and README.md are generated from their definitions and must be current."""

from pathlib import Path

from sessionscope.docgen import render

ROOT = Path(__file__).resolve().parents[2]


def test_generated_reference_tables_are_current():
    for doc in (ROOT / "docs" / "api.md", ROOT / "README.md"):
        text = doc.read_text()
        assert render(text) == text, "run: python -m sessionscope.docgen docs/api.md README.md"
