"""The voter id: server-issued, random, kept in a signed HttpOnly cookie, never trusted unsigned."""

from __future__ import annotations

import hashlib
import secrets

from flask import Request, Response
from itsdangerous import BadSignature, Signer
from votingcommon.votes import is_valid_voter_id
from werkzeug.exceptions import BadRequest
from werkzeug.http import parse_cookie

COOKIE_NAME = "voter_id"
COOKIE_MAX_AGE = 365 * 24 * 3600


class VoterCookies:
    def __init__(self, secret_key: str, secure: bool) -> None:
        # One HMAC per request: cheaper than a timed serializer, and the id itself needs no expiry.
        self._signer = Signer(secret_key, salt="voter-id", digest_method=hashlib.sha256)
        self._secure = secure

    def voter(self, request: Request) -> tuple[str, bool]:
        """The voter id and whether it is new; a forged or tampered cookie is a 400."""
        # Only the Cookie header is parsed: `request.cookies` first walks every header of the request,
        # a few µs on each vote.
        raw = parse_cookie(request.environ.get("HTTP_COOKIE")).get(COOKIE_NAME)
        if raw is None:
            return secrets.token_urlsafe(16), True
        try:
            voter = self._signer.unsign(raw).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            raise BadRequest("invalid voter cookie") from None
        if not is_valid_voter_id(voter):
            raise BadRequest("invalid voter cookie")
        return voter, False

    def issue(self, response: Response, voter: str) -> None:
        response.set_cookie(
            COOKIE_NAME,
            self._signer.sign(voter).decode("ascii"),
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            secure=self._secure,
            samesite="Lax",
        )

    def clear(self, response: Response) -> None:
        """Drop a rejected cookie so the next request starts as a new voter instead of failing forever."""
        response.delete_cookie(COOKIE_NAME, httponly=True, secure=self._secure, samesite="Lax")
