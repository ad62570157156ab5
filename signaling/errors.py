"""Typed errors. Each carries an HTTP status and a human title.

The JSON API renders them as application/problem+json, the WebSocket as
{"type": "error", ...} and the pages as an error page.
"""

from __future__ import annotations

from typing import Any


class GiaobanError(Exception):
    status: int = 400
    title: str = "Bad request"
    code: str = "bad_request"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    def as_problem(self) -> dict[str, Any]:
        return {
            "type": f"about:blank#{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }


class BadRequest(GiaobanError):
    status, title, code = 400, "Bad request", "bad_request"


class InvalidMessage(GiaobanError):
    status, title, code = 400, "Invalid message", "invalid_message"


class TooManyTracks(GiaobanError):
    status, title, code = 400, "Too many tracks", "too_many_tracks"


class InvalidSdp(GiaobanError):
    status, title, code = 400, "Invalid session description", "invalid_sdp"


class Unauthorized(GiaobanError):
    status, title, code = 401, "Sign-in required", "unauthorized"


class SessionExpired(Unauthorized):
    title, code = "Session expired", "session_expired"


class Forbidden(GiaobanError):
    status, title, code = 403, "Not allowed", "forbidden"


class AccessRevoked(Forbidden):
    """The account may no longer take part in a meeting it is in (uninvited, new role)."""

    title, code = "No longer in this meeting", "access_revoked"


class NotFound(GiaobanError):
    status, title, code = 404, "Not found", "not_found"


class Conflict(GiaobanError):
    status, title, code = 409, "Conflict", "conflict"


class LicenceExhausted(Conflict):
    title, code = "No licence seat left", "licence_exhausted"


class InsufficientStorage(GiaobanError):
    status, title, code = 507, "Not enough disk space", "low_disk"


class ServiceUnavailable(GiaobanError):
    """The media plane cannot take the request now (its workers are restarting)."""

    status, title, code = 503, "Media server unavailable", "media_unavailable"


class TooManyRequests(GiaobanError):
    status, title, code = 429, "Too many requests", "too_many_requests"


class ConfigError(Exception):
    """A configuration file or override is invalid; the message names the key."""


class ChatRefused(BadRequest):
    status, title, code = 400, "Message not sent", "chat_refused"


class GuestLinkInvalid(NotFound):
    """A guest link or pass that does not hold (unknown, expired or revoked): to whoever
    holds it, the link leads nowhere."""

    status, title, code = 404, "Guest link not valid", "guest_link_invalid"


class LobbyDenied(Forbidden):
    status, title, code = 403, "Not admitted", "lobby_denied"
