"""votectl: one CLI for the voting platform (local stack, verify, promote, status, rollback, analyze, rehearse)."""
