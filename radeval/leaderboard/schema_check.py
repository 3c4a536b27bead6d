"""Validate a JSON document against a JSON Schema: with ``jsonschema`` when installed, else with a small
checker of the subset ``leaderboard.schema.json`` uses.

The subset: ``type`` (one name or a list), ``const``, ``enum``, ``required``, ``properties``,
``additionalProperties`` (``false`` or a schema), ``items``, ``minimum``, ``oneOf`` and local ``$ref``
(``#/$defs/…``). Any other keyword in a schema is an error, so the checker never silently passes a
schema it does not understand.

Example:
    >>> schema_errors({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}, {"a": "x"})
    ["$.a: expected integer, got 'x'"]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from radeval.errors import InputError

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
_KNOWN = {"$schema", "$id", "$defs", "title", "description", "type", "const", "enum", "required", "properties",
          "additionalProperties", "items", "minimum", "oneOf", "$ref"}


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name not in _TYPES:
        raise InputError(f"schema: unknown type {name!r}")
    return isinstance(value, _TYPES[name])


def _check(schema: dict[str, Any], value: Any, path: str, root: dict[str, Any], errors: list[str]) -> None:
    unknown = set(schema) - _KNOWN
    if unknown:
        raise InputError(f"schema at {path}: keyword(s) {sorted(unknown)} are not supported by the small checker")
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/$defs/"):
            raise InputError(f"schema at {path}: only local #/$defs/ references are supported, got {ref!r}")
        _check(root["$defs"][ref.split("/")[-1]], value, path, root, errors)
        return
    if "oneOf" in schema:
        matches = 0
        for sub in schema["oneOf"]:
            sub_errors: list[str] = []
            _check(sub, value, path, root, sub_errors)
            matches += not sub_errors
        if matches != 1:
            errors.append(f"{path}: matches {matches} of the oneOf alternatives (expected exactly 1)")
        return
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: expected {schema['const']!r}, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, n) for n in names):
            errors.append(f"{path}: expected {' or '.join(names)}, got {value!r}"[:300])
            return
    if "minimum" in schema and _is_type(value, "number") and value < schema["minimum"]:
        errors.append(f"{path}: {value!r} is below the minimum {schema['minimum']}")
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                errors.append(f"{path}: missing required key {key!r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                _check(props[key], item, f"{path}.{key}", root, errors)
            elif extra is False:
                errors.append(f"{path}: unexpected key {key!r}")
            elif isinstance(extra, dict):
                _check(extra, item, f"{path}.{key}", root, errors)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check(schema["items"], item, f"{path}[{i}]", root, errors)


def schema_errors(schema: dict[str, Any], document: Any) -> list[str]:
    """Every violation of ``schema`` by ``document`` (empty = valid), with JSON paths (``$.systems[0].rank``).

    Uses the small checker; :func:`validate_document` prefers ``jsonschema`` when it is installed.
    """
    errors: list[str] = []
    _check(schema, document, "$", schema, errors)
    return errors


def validate_document(document: Any, schema_path: str | Path) -> None:
    """Raise :class:`~radeval.errors.InputError` listing the violations of the schema at ``schema_path``.

    Args:
        document: the parsed JSON.
        schema_path: a JSON Schema file.

    Raises:
        InputError: the document does not conform (every violation named by its JSON path).
    """
    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    try:
        import jsonschema  # type: ignore[import-not-found]
    except ImportError:
        errors = schema_errors(schema, document)
    else:
        validator = jsonschema.Draft202012Validator(schema)
        errors = [f"$.{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
    if errors:
        raise InputError(f"{len(errors)} schema violation(s) ({Path(schema_path).name}):\n  - " + "\n  - ".join(errors))


__all__ = ["schema_errors", "validate_document"]
