"""Argument resolution and the controller's textual `{{args.NAME}}` substitution over a whole metric.

Because substitution is textual, any field can be templated (`count: "{{args.count}}"`); values land
inside strings and are converted to numbers later, as the controller's JSON round-trip does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from votectl.analysis.errors import SpecError

_ARG_TAG = re.compile(r"\{\{\s*args\.([^{}\s]+)\s*\}\}")
_ANY_TAG = re.compile(r"\{\{(.*?)\}\}")


def resolve_args(declared: list[dict[str, Any]], supplied: Mapping[str, str]) -> dict[str, str]:
    """Merge the template's args with supplied values (which win); every arg must end up with a value."""
    names = [str(arg.get("name", "")) for arg in declared]
    unknown = sorted(set(supplied) - set(names))
    if unknown:
        raise SpecError(
            f"args.{unknown[0]} is not declared by the template (it declares: {', '.join(names)})"
        )
    values: dict[str, str] = {}
    for arg in declared:
        name = str(arg.get("name", ""))
        if name in supplied:
            values[name] = str(supplied[name])
        elif arg.get("value") is not None:
            values[name] = str(arg["value"])
        elif arg.get("valueFrom"):
            raise SpecError(
                f"args.{name} was not resolved: its valueFrom is only readable in the cluster, "
                f"pass --arg {name}=VALUE"
            )
        else:
            raise SpecError(f"args.{name} was not resolved")
    return values


def substitute(value: Any, args: Mapping[str, str]) -> Any:
    """Replace every `{{ args.NAME }}` in every string of `value`; any tag left over is an error."""
    if isinstance(value, dict):
        return {key: substitute(item, args) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, args) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(1) not in args:
            raise SpecError(f"failed to resolve {match.group(0)}")
        return args[match.group(1)]

    resolved = _ARG_TAG.sub(replace, value)
    leftover = _ANY_TAG.search(resolved)
    if leftover:
        raise SpecError(f"failed to resolve {leftover.group(0)}")
    return resolved
