"""The reference is generated from the schema, and the schema explains every key it accepts."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from orchestrator.cli.docs_gen import REGENERATE, generate, main
from orchestrator.plan.schema import plan_schema

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "docs" / "reference.md"


def properties(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (path, schema) of a named property, anywhere in the schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, prop in value.items():
                    yield f"{path}/{name}", prop
                    yield from properties(prop, f"{path}/{name}")
            elif key != "properties":
                yield from properties(value, f"{path}/{key}" if key not in ("anyOf", "oneOf", "items") else path)
    elif isinstance(node, list):
        for item in node:
            yield from properties(item, path)


def test_reference_is_the_generated_text_byte_for_byte() -> None:
    assert REFERENCE.read_bytes() == generate().encode("utf-8"), (
        f"docs/reference.md is stale: run `{REGENERATE}` (or `orchestrator schema --markdown -o docs/reference.md`)")


def test_every_property_of_the_schema_has_a_description() -> None:
    missing = [path for path, prop in properties(plan_schema()) if not str(prop.get("description", "")).strip()]
    assert not missing, f"add a description in orchestrator/schema/plan-v1.json to: {', '.join(missing)}"


def test_every_property_is_in_the_reference_with_its_description() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    for path, prop in properties(plan_schema()):
        name = path.rsplit("/", 1)[-1]
        assert f"| `{name}` |" in text, path
        first_words = " ".join(str(prop["description"]).split()[:4])
        assert first_words in text, f"{path}: {first_words!r}"


def test_enums_and_defaults_are_shown() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    assert "| `priority` | `P0` \\| `P1` \\| `P2` \\| `P3` | `P2` |" in text
    assert "| `mode` | `persistent` \\| `ephemeral` | `persistent` |" in text


def test_check_mode_says_how_to_regenerate(tmp_path: Path, capsys: Any) -> None:
    stale = tmp_path / "reference.md"
    stale.write_text("old\n", encoding="utf-8")
    assert main([str(stale), "--check"]) == 1
    assert REGENERATE in capsys.readouterr().err
    assert main([str(stale)]) == 0
    assert main([str(stale), "--check"]) == 0
    assert stale.read_text(encoding="utf-8") == generate()


def test_the_schema_file_is_valid_json_with_examples_for_completion() -> None:
    schema = json.loads((ROOT / "orchestrator" / "schema" / "plan-v1.json").read_text(encoding="utf-8"))
    with_examples = [p for _, p in properties(schema) if p.get("examples") or p.get("enum") or "default" in p]
    assert len(with_examples) >= 40
