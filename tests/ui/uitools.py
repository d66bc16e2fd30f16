"""Constants the UI tests share with their fixtures."""

from __future__ import annotations

from pathlib import Path

POLLS_FILE = Path(__file__).with_name("polls.yaml")
SECRET = "ui-test-secret-0123456789abcdef"
