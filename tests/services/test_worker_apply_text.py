"""Any option text a vote may carry survives the worker's JSON batch into PostgreSQL unchanged."""

from __future__ import annotations

from servicetools import tallies
from votingcommon.connections import PgPool
from votingcommon.votes import Vote
from worker.apply import Entry, apply_batch

OPTIONS = (
    'say "yes"',
    "back\\slash",
    "it's",
    "tab\tand\nnewline",
    "Crème brûlée",
    "猫",
    "🐱 emoji",
    "{braces}, [brackets]",
    "x" * 64,
)


def test_option_text_round_trips(migrated: PgPool) -> None:
    batch = [
        Entry(f"1-{seq}", (1, seq), Vote("default", f"voter-{seq:04d}", option, 1))
        for seq, option in enumerate(OPTIONS)
    ]
    with migrated.connection() as conn:
        assert apply_batch(conn, batch) == len(OPTIONS)
    stored = dict(migrated.query("SELECT voter_id, option FROM votes"))
    assert stored == {entry.vote.voter: entry.vote.option for entry in batch}
    assert tallies(migrated) == dict.fromkeys(OPTIONS, 1)
