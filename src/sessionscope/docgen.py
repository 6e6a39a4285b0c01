"""Generates the reference tables of docs/api.md (catalogue) and README.md (settings) from their definitions."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from .catalog import OPERATORS, RESOURCES


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


def settings_table() -> str:
    from .settings import Settings

    out = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = f"`{default}`" if default not in ("", None) else "—"
        out.append(f"| `SESSIONSCOPE_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(out) + "\n"


SECTIONS = {"attributes": tables, "settings": settings_table}


def render(doc: str) -> str:
    for name, make in SECTIONS.items():
        begin, end = f"<!-- generated:{name} -->", f"<!-- /generated:{name} -->"
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
        doc = pattern.sub(lambda _, b=begin, e=end, m=make: f"{b}\n{m()}{e}", doc)
    return doc


USAGE = "python -m sessionscope.docgen [FILE ...]: rewrite the generated tables in FILEs (default: docs/api.md README.md)"


def main() -> None:
    if any(arg.startswith("-") for arg in sys.argv[1:]):
        print(USAGE)
        raise SystemExit(0 if sys.argv[1:] in (["-h"], ["--help"]) else 2)
    for arg in sys.argv[1:] or ["docs/api.md", "README.md"]:
        path = Path(arg)
        path.write_text(render(path.read_text()))


if __name__ == "__main__":
    main()
