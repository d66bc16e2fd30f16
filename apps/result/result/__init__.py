"""The result service: live tallies from PostgreSQL as JSON, CSV, Server-Sent Events and a page."""
