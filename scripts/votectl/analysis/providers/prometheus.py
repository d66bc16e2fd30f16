"""The Prometheus provider: one instant query per measurement, turned into `result` as the controller does.

scalar -> a float; vector -> a list of floats in Prometheus order with labels dropped (no series -> `[]`,
never nil); matrix -> every sample of every series in one list; string -> Error. The query is evaluated
at the measurement's time (`time=`), which is what lets `--replay` re-judge a past release from history.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import requests

from votectl.analysis.errors import ProviderError
from votectl.analysis.goformat import format_float, format_values
from votectl.analysis.providers import QueryResult
from votectl.analysis.spec import MetricSpec

DEFAULT_TIMEOUT_SECONDS = 30


class PrometheusProvider:
    """Queries the template's `address`, or `address_override` (votectl's --prometheus) when given."""

    def __init__(self, address_override: str | None = None) -> None:
        self.address_override = address_override
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def query(self, metric: MetricSpec, at: float) -> QueryResult:
        settings = metric.prometheus
        address = self._address(settings)
        timeout = self._timeout(settings)
        query = str(settings.get("query") or "")
        if not query:
            raise ProviderError("prometheus query is empty")
        url = f"{address.rstrip('/')}/api/v1/query"
        data = self._post(url, {"query": query, "time": f"{at:.3f}"}, _headers(settings), timeout)
        return _to_result(data)

    def _address(self, settings: dict[str, Any]) -> str:
        """--prometheus, else the metric's address, else the controller's ARGO_ROLLOUTS_PROMETHEUS_ADDRESS."""
        address = (
            self.address_override
            or str(settings.get("address") or "")
            or os.environ.get("ARGO_ROLLOUTS_PROMETHEUS_ADDRESS", "")
        )
        if not address:
            raise ProviderError("prometheus address is not configured")
        parts = urlsplit(address)
        if not parts.scheme or not parts.netloc:
            raise ProviderError(f"prometheus address {address!r} is not in url format")
        return address

    @staticmethod
    def _timeout(settings: dict[str, Any]) -> float:
        raw = settings.get("timeout", DEFAULT_TIMEOUT_SECONDS)
        try:
            timeout = float(raw)
        except (TypeError, ValueError):
            raise ProviderError(f"prometheus timeout must be a number of seconds, got {raw!r}") from None
        if timeout < 0:
            raise ProviderError("prometheus timeout should not be negative")
        if timeout == 0:
            # The controller builds a context with a zero deadline: every query fails.
            raise ProviderError("prometheus timeout is 0: context deadline exceeded")
        return timeout

    def _post(
        self, url: str, form: dict[str, str], headers: dict[str, str], timeout: float
    ) -> dict[str, Any]:
        try:
            response = self.session.post(url, data=form, headers=headers, timeout=timeout)
        except requests.Timeout:
            raise ProviderError(f"query to {url} timed out after {timeout:g}s") from None
        except requests.RequestException as err:
            raise ProviderError(f"query to {url} failed: {err}") from None
        try:
            body = response.json()
        except ValueError:
            raise ProviderError(f"{url}: server returned HTTP status {response.status_code}") from None
        if not isinstance(body, dict):
            raise ProviderError(f"{url}: unexpected response body")
        if body.get("status") != "success":
            kind = body.get("errorType") or f"HTTP {response.status_code}"
            raise ProviderError(f"{kind}: {body.get('error') or 'query failed'}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise ProviderError(f"{url}: response has no data")
        return data


def _headers(settings: dict[str, Any]) -> dict[str, str]:
    """The metric's `headers: [{key, value}]`, sent with every query (e.g. a tenant or auth header)."""
    headers = settings.get("headers") or []
    if not isinstance(headers, list) or not all(isinstance(h, dict) and h.get("key") for h in headers):
        raise ProviderError("prometheus headers must be a list of {key, value}")
    return {str(h["key"]): str(h.get("value", "")) for h in headers}


def _to_result(data: dict[str, Any]) -> QueryResult:
    kind = data.get("resultType")
    result = data.get("result")
    try:
        if kind == "scalar":
            value = float(result[1])  # type: ignore[index]
            return QueryResult(format_float(value), value)
        if kind == "vector":
            values = [float(series["value"][1]) for series in result]  # type: ignore[union-attr]
            return QueryResult(format_values(values), values)
        if kind == "matrix":
            values = [float(sample[1]) for series in result for sample in series["values"]]  # type: ignore[union-attr]
            return QueryResult(format_values(values), values)
    except (TypeError, KeyError, IndexError, ValueError):
        raise ProviderError(f"malformed {kind} in Prometheus response") from None
    raise ProviderError("Prometheus metric type not supported")
