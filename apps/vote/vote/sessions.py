"""Flask's session cookie only where a form is: it exists to hold the CSRF token of the poll pages."""

from __future__ import annotations

import re

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

_FORM_PAGE = re.compile(r"^/(polls/[^/]+)?$")


def is_form_page(path: str) -> bool:
    """`/` (the default poll) and `/polls/<id>`: the pages that carry a vote form (vote.pages). A pattern,
    not the matched blueprint: Flask opens the session before it matches the request's route."""
    return bool(_FORM_PAGE.match(path))


class FormPageSessions(SecureCookieSessionInterface):
    """The JSON API and the probes skip opening and saving a signed session (a serializer per request)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not is_form_page(request.path):
            return self.make_null_session(app)
        return super().open_session(app, request)
