"""Batch application against a real PostgreSQL: latest vote wins, tallies always equal a recount."""

from __future__ import annotations

import random
import select
import threading

import psycopg2
from servicetools import recount, tallies
from votingcommon.connections import PgPool
from votingcommon.store import MIGRATIONS, TALLIES_CHANNEL, migrate
from votingcommon.votes import Vote
from worker.apply import Entry, apply_batch, latest_per_voter


def entry(ms: int, voter: str, option: str, seq: int = 0, poll: str = "default") -> Entry:
    return Entry(f"{ms}-{seq}", (ms, seq), Vote(poll=poll, voter=voter, option=option, accepted_ms=ms))


def apply(pool: PgPool, entries: list[Entry]) -> int:
    with pool.connection() as conn:
        return apply_batch(conn, entries)


def stored(pool: PgPool) -> dict[str, tuple[str, int, int]]:
    rows = pool.query("SELECT voter_id, option, stream_ms, stream_seq FROM votes")
    return {voter: (option, ms, seq) for voter, option, ms, seq in rows}


def test_migration_is_idempotent(pool: PgPool) -> None:
    with pool.connection() as conn:
        first = migrate(conn)
    with pool.connection() as conn:
        second = migrate(conn)
    assert first == second == MIGRATIONS[-1][0]
    assert pool.query("SELECT count(*) FROM schema_version") == [(len(MIGRATIONS),)]


def test_dedupe_keeps_the_highest_stream_id_per_voter() -> None:
    batch = [
        entry(3, "voter-aaaa", "Dogs"),
        entry(1, "voter-aaaa", "Cats"),
        entry(3, "voter-aaaa", "Cats", seq=1),
    ]
    assert [e.entry_id for e in latest_per_voter(batch)] == ["3-1"]


def test_batch_applies_the_last_vote_of_each_voter(migrated: PgPool) -> None:
    changed = apply(
        migrated,
        [entry(1, "voter-aaaa", "Cats"), entry(2, "voter-bbbb", "Dogs"), entry(3, "voter-aaaa", "Dogs")],
    )
    assert changed == 2
    assert stored(migrated) == {"voter-aaaa": ("Dogs", 3, 0), "voter-bbbb": ("Dogs", 2, 0)}
    assert tallies(migrated) == {"Dogs": 2}


def test_a_changed_vote_moves_the_tally(migrated: PgPool) -> None:
    apply(migrated, [entry(1, "voter-aaaa", "Cats"), entry(1, "voter-bbbb", "Cats", seq=1)])
    apply(migrated, [entry(2, "voter-aaaa", "Dogs")])
    assert tallies(migrated) == {"Cats": 1, "Dogs": 1}


def test_an_older_entry_never_overwrites_a_newer_vote(migrated: PgPool) -> None:
    apply(migrated, [entry(5, "voter-aaaa", "Dogs")])
    assert apply(migrated, [entry(4, "voter-aaaa", "Cats"), entry(5, "voter-aaaa", "Cats")]) == 0
    assert stored(migrated) == {"voter-aaaa": ("Dogs", 5, 0)}
    assert tallies(migrated) == {"Dogs": 1}


def test_a_redelivered_batch_changes_nothing(migrated: PgPool) -> None:
    batch = [entry(1, "voter-aaaa", "Cats"), entry(2, "voter-bbbb", "Dogs")]
    apply(migrated, batch)
    assert apply(migrated, batch) == 0
    assert tallies(migrated) == {"Cats": 1, "Dogs": 1}


def test_polls_are_counted_apart(migrated: PgPool) -> None:
    apply(migrated, [entry(1, "voter-aaaa", "Cats"), entry(2, "voter-aaaa", "Tea", poll="drinks")])
    assert tallies(migrated) == {"Cats": 1}
    assert tallies(migrated, "drinks") == {"Tea": 1}


def test_commit_notifies_listeners(migrated: PgPool, database_url: str) -> None:
    listener = psycopg2.connect(database_url)
    listener.autocommit = True
    try:
        listener.cursor().execute(f"LISTEN {TALLIES_CHANNEL}")
        apply(migrated, [entry(1, "voter-aaaa", "Cats")])
        assert select.select([listener], [], [], 5)[0], "no notification within 5 s"
        listener.poll()
        assert [n.payload for n in listener.notifies] == ["default"]
    finally:
        listener.close()


def shuffled_history(seed: int, votes: int, voters: int) -> tuple[list[Entry], dict[str, str]]:
    """Votes with increasing stream ids, then shuffled and partly duplicated as redeliveries would be."""
    rng = random.Random(seed)
    history = [
        entry(1000 + i, f"voter-{rng.randrange(voters):04d}", rng.choice("ABCD")) for i in range(votes)
    ]
    expected = {e.vote.voter: e.vote.option for e in history}  # later ids overwrite earlier ones
    deliveries = history + rng.sample(history, votes // 5)
    rng.shuffle(deliveries)
    return deliveries, expected


def test_random_out_of_order_batches_equal_the_recount(migrated: PgPool) -> None:
    deliveries, expected = shuffled_history(seed=7, votes=3000, voters=400)
    for start in range(0, len(deliveries), 250):
        apply(migrated, deliveries[start : start + 250])
    want = {option: list(expected.values()).count(option) for option in set(expected.values())}
    assert {voter: option for voter, (option, _ms, _seq) in stored(migrated).items()} == expected
    assert tallies(migrated) == recount(migrated) == want


def test_concurrent_workers_keep_tallies_exact(migrated: PgPool) -> None:
    deliveries, expected = shuffled_history(seed=11, votes=4000, voters=300)
    halves = [deliveries[0::2], deliveries[1::2]]
    errors: list[BaseException] = []

    def run(batches: list[Entry]) -> None:
        try:
            for start in range(0, len(batches), 200):
                chunk = batches[start : start + 200]
                while True:  # a deadlock victim is retried, as the worker does
                    try:
                        apply(migrated, chunk)
                        break
                    except psycopg2.errors.DeadlockDetected:
                        continue
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=run, args=(half,)) for half in halves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    want = {option: list(expected.values()).count(option) for option in set(expected.values())}
    assert tallies(migrated) == recount(migrated) == want
