"""One results snapshot, the shape every results endpoint answers with, and its export forms."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from votingcommon.connections import PgPool
from votingcommon.polls import Poll
from votingcommon.store import read_tallies


def read_snapshot(pool: PgPool, poll: Poll) -> dict[str, Any]:
    """Configured options in order, those without votes at 0; tallies of unknown options are not shown."""
    counts = read_tallies(pool, poll.id)
    total = sum(counts.get(option, 0) for option in poll.options)
    options = [
        {"option": option, "votes": votes, "percent": round(100 * votes / total, 1) if total else 0.0}
        for option, votes in ((option, counts.get(option, 0)) for option in poll.options)
    ]
    return {
        "options": options,
        "total": total,
        "as_of": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def same_counts(a: dict[str, Any] | None, b: dict[str, Any]) -> bool:
    return a is not None and a["options"] == b["options"]


def as_csv(snapshot: dict[str, Any]) -> str:
    """The default poll's `option,votes` table (the original design's export)."""
    return _csv(["option", "votes"], ((item["option"], item["votes"]) for item in snapshot["options"]))


def export_csv(poll: Poll, snapshot: dict[str, Any]) -> str:
    """One row per option, each carrying the poll id and snapshot time so rows keep their meaning when
    files are concatenated or filtered in a spreadsheet."""
    rows = (
        (poll.id, snapshot["as_of"], item["option"], item["votes"], item["percent"])
        for item in snapshot["options"]
    )
    return _csv(["poll", "as_of", "option", "votes", "percent"], rows)


def export_json(poll: Poll, snapshot: dict[str, Any]) -> dict[str, Any]:
    return {"poll": poll.id, "question": poll.question, **snapshot}


def export_filename(poll: Poll, snapshot: dict[str, Any], extension: str) -> str:
    stamp = snapshot["as_of"].replace(":", "").replace("-", "").split(".")[0]
    return f"{poll.id}-results-{stamp}Z.{extension}"


def _csv(header: list[str], rows: Any) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
