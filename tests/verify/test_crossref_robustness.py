"""Cross-checks run on objects that failed the schema too: no malformed field may crash them."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from votectl.verify.crossref import cross_check

WRONG_VALUES: tuple[Any, ...] = ("x", 5, [], {}, None, ["x"], [5])


def paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path to a value inside a nested dict/list structure."""
    children = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    )
    for key, child in children:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def replaced(obj: dict, path: tuple, value: Any) -> dict:
    broken = copy.deepcopy(obj)
    parent = broken
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return broken


def test_every_field_of_the_base_fixture_can_be_malformed(rendered_fixtures: dict[str, list[dict]]) -> None:
    objects = rendered_fixtures["base"]
    runs = 0
    for position, obj in enumerate(objects):
        for path in paths(obj):
            for value in WRONG_VALUES:
                mutated = [*objects[:position], replaced(obj, path, value), *objects[position + 1 :]]
                list(cross_check(mutated))
                runs += 1
    assert runs > 1000  # the base has a few hundred fields: each one was broken seven ways
