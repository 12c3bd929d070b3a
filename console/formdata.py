"""From an HTML form to the API's request body, and the API's errors back to the form's fields.

Fields are named by their path in the body: `members.0.id_number`, `hukou.village_code`,
`assets.deposits`. A numeric segment is a row of a list; rows left wholly blank (the spare rows
of a plain form) are dropped, and the rows kept remember their place on the page, so an error
of the body's `members[1]` is shown at the row the user filled in as the third.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Fields the console itself adds to every form, never part of a body.
FRAMEWORK_FIELDS = frozenset({"csrf", "request_id", "op"})

_SPLIT = re.compile(r"[\s,，、;；]+")


@dataclass
class Parsed:
    """The body as nested dicts and lists; `rows[list path]` gives, for each kept row, its
    index on the page."""

    body: dict[str, Any]
    rows: dict[str, list[int]] = field(default_factory=dict)

    def page_name(self, loc: Sequence[str | int]) -> str:
        """A body location as the form field that holds it."""
        parts: list[str] = []
        for part in loc:
            if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
                index = int(part)
                kept = self.rows.get(".".join(parts))
                parts.append(str(kept[index] if kept is not None and index < len(kept) else index))
            else:
                parts.append(str(part))
        return ".".join(parts)


def parse(
    items: Iterable[tuple[str, Any]],
    *,
    multi: frozenset[str] = frozenset(),
    split: frozenset[str] = frozenset(),
    lines: frozenset[str] = frozenset(),
) -> Parsed:
    """Form items (name, value) as a body.

    `multi`: names sent once per ticked box (materials, vehicles) → a list of the values;
    `split`: one text of several staff IDs → a list split at spaces and commas;
    `lines`: a text area → a list of its non-blank lines. Blank values are left out, so the
    model's defaults apply and a required field left blank is "missing"."""
    tree: dict[str, Any] = {}
    lists: dict[str, list[str]] = {}
    for name, raw in items:
        if name in FRAMEWORK_FIELDS or not isinstance(raw, str):
            continue
        value = raw.strip()
        if name in multi:
            if value:
                lists.setdefault(name, []).append(value)
            continue
        if name in split:
            lists[name] = [v for v in _SPLIT.split(value) if v]
            continue
        if name in lines:
            lists[name] = [v.strip() for v in raw.splitlines() if v.strip()]
            continue
        if not value:
            continue
        _put(tree, name.split("."), value)
    for name, values in lists.items():
        _put(tree, name.split("."), values)
    rows: dict[str, list[int]] = {}
    body = _compact(tree, "", rows)
    return Parsed(body=body if isinstance(body, dict) else {}, rows=rows)


def _put(tree: dict[str, Any], path: list[str], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return  # a name used both as a value and as a group: ignore the later one
    node[path[-1]] = value


def _compact(node: Any, path: str, rows: dict[str, list[int]]) -> Any:
    """Dicts keyed by row numbers become lists, in page order, without blank rows."""
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        kept = sorted(int(k) for k in node if node[k] not in ({}, "", []))
        rows[path] = kept
        return [_compact(node[str(i)], f"{path}.{i}" if path else str(i), rows) for i in kept]
    return {k: _compact(v, f"{path}.{k}" if path else k, rows) for k, v in node.items()}


def flatten(body: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A body (or a case's stored application) as form values by field name, to fill a form."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            for i, item in enumerate(value):
                out.update(flatten(item, f"{name}.{i}."))
        elif isinstance(value, bool):
            if value:
                out[name] = "true"  # what a ticked checkbox sends
        elif isinstance(value, list):
            out[name] = [str(v) for v in value]
        elif value is not None:
            out[name] = str(value)
    return out


def values_of(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """What the user sent, by field name (lists for repeated names), to fill the form again."""
    out: dict[str, Any] = {}
    for name, raw in items:
        if name in FRAMEWORK_FIELDS or not isinstance(raw, str):
            continue
        if name in out:
            previous = out[name]
            out[name] = [*previous, raw] if isinstance(previous, list) else [previous, raw]
        else:
            out[name] = raw
    return out


def row_count(values: Mapping[str, Any], list_name: str, minimum: int) -> int:
    """How many rows of a list the form shows: every row filled in, at least `minimum`."""
    highest = -1
    prefix = list_name + "."
    for name in values:
        if name.startswith(prefix):
            head = name[len(prefix) :].split(".", 1)[0]
            if head.isdigit():
                highest = max(highest, int(head))
    return max(minimum, highest + 1)
