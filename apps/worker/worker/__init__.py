"""The worker: drains the vote stream into PostgreSQL in batches, without losing or doubling a vote."""
