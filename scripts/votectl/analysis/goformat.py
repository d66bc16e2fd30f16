"""The two Go formats the controller exposes: a measurement's stored value and duration strings."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from votectl.analysis.errors import SpecError

_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def format_float(value: float) -> str:
    """Go's FormatFloat(v, 'f', -1, 64) as Prometheus SampleValue.String(): "0.01", "NaN", "+Inf"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    text = format(Decimal(repr(float(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_values(values: list[float]) -> str:
    """The provider's stored value for a vector or matrix: "[0.01,0.02]", "[]"."""
    return "[" + ",".join(format_float(v) for v in values) + "]"


def parse_duration(text: str, field: str) -> float:
    """Seconds in a Go duration string ("30s", "1m30s", "1.5h"); bare numbers are rejected like Go does."""
    text = str(text).strip()
    if text == "0":
        return 0.0
    position = 0
    total = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise SpecError(f'invalid {field} string: time: invalid duration "{text}"')
    return total
