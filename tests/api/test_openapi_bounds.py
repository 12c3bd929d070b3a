"""Every input the API takes is bounded in its OpenAPI, and so in its validation: each string
(body field, list item, path, query and header parameter) has a length limit or a closed set of
values, each list a size limit, each integer parameter a range; each request string refuses
control characters. Without the app running: the schema is built from the code."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from api import ops_schemas, procedure_schemas, schemas
from api.app import create_app
from api.fields import printable_line, printable_text
from api.routes import auth, payroll, policy, standard_changes
from dibao.settings import Settings


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return create_app(Settings(_env_file=None)).openapi()


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = spec["components"]["schemas"][name]
    return node


def unbounded(spec: dict[str, Any], node: dict[str, Any], where: str) -> Iterator[str]:
    node = _resolve(spec, node)
    for key in ("anyOf", "oneOf", "allOf"):
        subs = [_resolve(spec, s) for s in node.get(key, [])]
        # A decimal is a number or its string; max_digits bounds both.
        decimal = any(s.get("type") == "number" for s in subs)
        for sub in subs:
            if not (decimal and sub.get("type") == "string"):
                yield from unbounded(spec, sub, where)
    kind = node.get("type")
    if kind == "string" and not _closed(node):
        yield f"{where}: string without maxLength"
    elif kind == "array":
        if "maxItems" not in node:
            yield f"{where}: array without maxItems"
        yield from unbounded(spec, node.get("items", {}), f"{where}[]")
    elif kind == "object":
        for name, sub in node.get("properties", {}).items():
            yield from unbounded(spec, sub, f"{where}.{name}")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            if "maxProperties" not in node:
                yield f"{where}: object without maxProperties"
            yield from unbounded(spec, extra, f"{where}{{}}")
    elif kind == "integer" and where.startswith("param") and "maximum" not in node:
        yield f"{where}: integer without maximum"


def _closed(node: dict[str, Any]) -> bool:
    """A string with a length limit, a closed set of values or a fixed-length pattern."""
    pattern = node.get("pattern", "")
    fixed = pattern.startswith("^") and pattern.endswith("$") and not {"*", "+"} & set(pattern)
    return (
        "maxLength" in node
        or "enum" in node
        or "const" in node
        or fixed
        or node.get("format") in ("date", "date-time")
    )


# The codec endpoint takes Temporal's payload JSON as the Web UI sends it (bounded by the body
# limit); the sign-in form's password is compared, never stored.
EXEMPT = {
    "POST /codec/decode body",
    "POST /codec/encode body",
    "POST /auth/token body",
    # File uploads (a ledger, a bank's return): bounded by BodyLimit's upload limit instead.
    "POST /ledger/check body",
    "POST /ledger/imports body",
    "POST /payroll/runs/{run_id}/bank-return body",
}


def test_every_parameter_and_body_field_is_bounded(openapi: dict[str, Any]) -> None:
    problems: list[str] = []
    for path, item in openapi["paths"].items():
        for method, op in item.items():
            name = f"{method.upper()} {path}"
            for param in op.get("parameters", []):
                where = f"param {name} {param['in']}.{param['name']}"
                problems += unbounded(openapi, param.get("schema", {}), where)
            for media in op.get("requestBody", {}).get("content", {}).values():
                if f"{name} body" not in EXEMPT:
                    problems += unbounded(openapi, media.get("schema", {}), f"{name} body")
    assert problems == []


def _string_fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, field in model.model_fields.items():
        yield from _strings_in(field.annotation, field.metadata, f"{prefix}{name}")


def _strings_in(annotation: Any, metadata: list[Any], where: str) -> Iterator[tuple[str, Any]]:
    if annotation is str:
        yield where, metadata
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from _string_fields(annotation, f"{where}.")
        return
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        yield from _strings_in(base, [*metadata, *extra], where)
        return
    for arg in typing.get_args(annotation):
        yield from _strings_in(
            arg, metadata if origin is not None and origin is not dict else [], where
        )


def request_models() -> Iterator[type[BaseModel]]:
    for module in (
        schemas,
        procedure_schemas,
        ops_schemas,
        auth,
        payroll,
        policy,
        standard_changes,
    ):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
                and value.__name__.endswith("In")
            ):
                yield value


# Compared with a hash as typed, never stored or shown.
UNSTORED = {"TokenIn.password"}


def test_every_request_string_refuses_control_characters() -> None:
    checks = {printable_line, printable_text}
    models = list(request_models())
    assert len(models) > 20
    unchecked = [
        f"{model.__name__}.{where}"
        for model in models
        for where, metadata in _string_fields(model)
        if f"{model.__name__}.{where}" not in UNSTORED
        and not any(getattr(m, "func", None) in checks for m in metadata)
    ]
    assert unchecked == []
