"""Write the generated projects' accepted OpenAPI document as one Jinja template.

    uv run python -m tests.openapi_template

Every generated project ships `tests/integration/api/openapi.yaml`, the
document its contract test compares the app with. It depends on the answers
that change the API (`event_bus`, `http_recording`) and on `project_name` (the
title). This renders one project per combination of those answers, asks each
app for its document, and merges the documents into one YAML template whose
`{% if %}` blocks stand where they differ. Run it after changing the API; the
generated suites fail until the template's document matches every variant.
"""

import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from tests.render import render_variant, snapshot_template
from tests.variants import ROOT, default_variant

TARGET = ROOT / "template" / "tests" / "integration" / "api" / "openapi.yaml.jinja"
TITLE = "__PROJECT_NAME__"
DUMP = "import json; from my_service import app; print(json.dumps(app.create_app({}).openapi()))"


def variant_documents() -> dict[tuple[bool, bool], Any]:
    """The OpenAPI document of each (with_redis, http_recording) combination."""
    documents = {}
    with tempfile.TemporaryDirectory() as work:
        template = snapshot_template(ROOT, Path(work) / "template")
        for with_redis, recording in itertools.product((True, False), repeat=2):
            data = {
                **default_variant().data,
                "event_bus": "redis" if with_redis else "none",
                "http_recording": recording,
                "project_name": TITLE,
                "package_name": "my_service",
            }
            project = render_variant(template, Path(work) / f"p-{with_redis}-{recording}", data)
            args = "database_url='sqlite://', testing=True"
            if with_redis:
                args += ", redis_url='redis://127.0.0.1:9/0'"
            dumped = subprocess.run(
                ["uv", "run", "--quiet", "python", "-c", DUMP.format(args)],
                cwd=project,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            documents[with_redis, recording] = json.loads(dumped)
    return documents


CONDITIONS = {
    frozenset({(True, True), (True, False)}): "with_redis",
    frozenset({(False, True), (False, False)}): "not with_redis",
    frozenset({(True, True), (False, True)}): "http_recording",
    frozenset({(True, False), (False, False)}): "not http_recording",
    frozenset({(True, True)}): "with_redis and http_recording",
    frozenset({(True, False)}): "with_redis and not http_recording",
    frozenset({(False, True)}): "not with_redis and http_recording",
    frozenset({(False, False)}): "not with_redis and not http_recording",
    frozenset({(True, True), (True, False), (False, True)}): "with_redis or http_recording",
}


def scalar(value: Any) -> str:
    """`value` as a YAML scalar (or empty collection), quoted only where YAML needs it."""
    if value == TITLE:
        # Quoted as PyYAML quotes it, as `--accept-api` writes it (PyYAML in copier's to_yaml).
        return '{{ project_name | to_yaml(width=1000000000) | trim | replace("\\n...", "") }}'
    dumped = yaml.safe_dump(value, allow_unicode=True, width=10**9, default_flow_style=True)
    return dumped.removesuffix("\n").removesuffix("\n...")


def key_of(key: str) -> str:
    return scalar(key)


def lines_of(value: Any, indent: int) -> list[str]:
    """`value` as block YAML lines at `indent`, for a node that is the same in every variant."""
    pad = " " * indent
    if isinstance(value, dict) and value:
        out = []
        for key in sorted(value):
            child = value[key]
            if isinstance(child, dict | list) and child:
                out.append(f"{pad}{key_of(key)}:")
                out += lines_of(child, indent + 2)
            else:
                out.append(f"{pad}{key_of(key)}: {scalar(child)}")
        return out
    if isinstance(value, list) and value:
        out = []
        for item in value:
            if isinstance(item, dict | list) and item:
                inner = lines_of(item, indent + 2)
                out.append(f"{pad}- {inner[0].lstrip()}")
                out += inner[1:]
            else:
                out.append(f"{pad}- {scalar(item)}")
        return out
    return [f"{pad}{scalar(value)}"]


def merged(nodes: dict[tuple[bool, bool], Any], indent: int) -> list[str]:
    """YAML lines of a mapping the variants in `nodes` all have, with `if`s where they differ."""
    pad = " " * indent
    out = []
    keys = sorted({key for node in nodes.values() for key in node})
    for key in keys:
        having = {variant: node[key] for variant, node in nodes.items() if key in node}
        condition = CONDITIONS.get(frozenset(having)) if len(having) < len(nodes) else None
        if len(having) < len(nodes) and condition is None:
            raise ValueError(f"no condition for {sorted(having)} at {key!r}")
        body = []
        values = list(having.values())
        if all(isinstance(value, dict) and value for value in values) and any(
            value != values[0] for value in values
        ):
            body = [f"{pad}{key_of(key)}:", *merged(having, indent + 2)]
        elif all(value == values[0] for value in values):
            value = values[0]
            if isinstance(value, dict | list) and value:
                body = [f"{pad}{key_of(key)}:", *lines_of(value, indent + 2)]
            else:
                body = [f"{pad}{key_of(key)}: {scalar(value)}"]
        else:
            for variants in alternatives(having):
                alternative = CONDITIONS[frozenset(variants)]
                value = having[variants[0]]
                lines = (
                    [f"{pad}{key_of(key)}:", *lines_of(value, indent + 2)]
                    if isinstance(value, dict | list) and value
                    else [f"{pad}{key_of(key)}: {scalar(value)}"]
                )
                body += [f"{{%- if {alternative} %}}", *lines, "{%- endif %}"]
        if condition:
            out += [f"{{%- if {condition} %}}", *body, "{%- endif %}"]
        else:
            out += body
    return out


def alternatives(having: dict[tuple[bool, bool], Any]) -> list[list[tuple[bool, bool]]]:
    """The variants grouped by the value they have."""
    groups: list[list[tuple[bool, bool]]] = []
    for variant, value in having.items():
        for group in groups:
            if having[group[0]] == value:
                group.append(variant)
                break
        else:
            groups.append([variant])
    return groups


def main() -> None:
    documents = variant_documents()
    header = [
        "{#- The API as the team accepted it: tests/integration/api/test_contract.py",
        "    compares the app with it. The template's `python -m tests.openapi_template`",
        "    writes this file. -#}",
    ]
    text = "\n".join([*header, *merged(documents, 0)]) + "\n"
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
