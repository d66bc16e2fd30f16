"""votectl: one CLI for the voting platform.

Local stack, verify, promote, status, history, rollback, analyze and rehearse, and the delivery checks
(lint, smoke).
"""
