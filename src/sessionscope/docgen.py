"""Generates the attribute and operator tables of docs/api.md from the catalogue (one source of truth)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from .catalog import OPERATORS, RESOURCES

BEGIN = "<!-- generated:attributes -->"
END = "<!-- /generated:attributes -->"


def tables() -> str:
    out: list[str] = []
    for resource in RESOURCES.values():
        out += [
            f"### `/v2/{resource.name}` attributes",
            "",
            "| attribute | type | filter operators | group_by | aggregation | description |",
            "|---|---|---|---|---|---|",
        ]
        for a in resource.attributes.values():
            ops = ", ".join(f"`{o}`" for o in a.operators) or "—"
            if a.type == "Count":
                ops = "— (a count metric)"
            prop = " (`property_name`)" if a.needs_property_name else ""
            out.append(
                f"| `{a.name}`{prop} | {a.type} | {ops} | {'yes' if a.groupable else ''} | "
                f"{'yes' if a.aggregatable or a.type == 'Count' else ''} | {a.description} |"
            )
        out.append("")
    out += ["### Operators", "", "| operator | value | meaning |", "|---|---|---|"]
    for op in OPERATORS.values():
        out.append(f"| `{op.name}` | {op.value.replace('_', ' ')} | {op.description} |")
    return "\n".join(out) + "\n"


def render(doc: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    return pattern.sub(lambda _: f"{BEGIN}\n{tables()}{END}", doc)


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/api.md")
    path.write_text(render(path.read_text()))


if __name__ == "__main__":
    main()
