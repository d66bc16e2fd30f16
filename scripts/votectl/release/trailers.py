"""The structured commit message of a promotion or rollback, and its parser.

One commit carries one promotion; when it moves several services the `Service:`, `Image-Digest:` and
`Previous-Digest:` trailers repeat, one group per service, so `history` can read them back in order. The
parser scans lines rather than only the last paragraph because a squash merge on GitHub may wrap them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from votectl.release.images import Change

_TRAILER_RE = re.compile(
    r"^[\s*-]*(Promoted-From|Rollback-Of|Env|Service|Image-Digest|Previous-Digest):\s*(.+?)\s*$"
)


@dataclass(frozen=True)
class Record:
    """What a commit message says it did to one service."""

    env: str
    service: str
    new: str
    old: str
    source: str | None  # env it was promoted from; None for rollbacks
    rollback_of: str | None


def compose(env: str, changes: list[Change], source: str | None, rollback_of: str | None) -> str:
    """Subject, a readable line, then the trailers (git interpret-trailers can parse them)."""
    what = ", ".join(f"{c.service} {c.new.short()}" for c in changes)
    if rollback_of:
        subject = f"Roll back {what} in {env}"
        intro = f"Restore the image(s) {env} ran before {rollback_of[:12]}."
        head = [f"Rollback-Of: {rollback_of}"]
    else:
        subject = f"Promote {what} to {env}"
        intro = f"Copy the image reference(s) {source} runs into {env}."
        head = [f"Promoted-From: {source}"]
    lines = [*head, f"Env: {env}"]
    for change in changes:
        lines += [
            f"Service: {change.service}",
            f"Image-Digest: {change.new.trailer()}",
            f"Previous-Digest: {change.old.trailer()}",
        ]
    return "\n".join([subject, "", intro, "", *lines]) + "\n"


def parse(message: str) -> list[Record]:
    """The per-service records of a message; empty when it is not a promotion or rollback."""
    common: dict[str, str] = {}
    groups: list[dict[str, str]] = []
    for line in message.splitlines():
        match = _TRAILER_RE.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "Service":
            groups.append({"Service": value})
        elif key in ("Image-Digest", "Previous-Digest") and groups:
            groups[-1][key] = value
        else:
            common[key] = value
    if "Env" not in common:
        return []
    return [
        Record(
            env=common["Env"],
            service=group["Service"],
            new=group.get("Image-Digest", "none"),
            old=group.get("Previous-Digest", "none"),
            source=common.get("Promoted-From"),
            rollback_of=common.get("Rollback-Of"),
        )
        for group in groups
    ]
