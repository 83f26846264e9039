"""Domain errors; the HTML and JSON layers turn each into its status code and a Dutch message."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None, **extra) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = extra


class BadRequest(DomainError):
    status, code = 400, "bad_request"


class NotAuthenticated(DomainError):
    status, code = 401, "unauthenticated"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class InvalidTransition(DomainError):
    status, code = 409, "invalid_transition"


class Conflict(DomainError):
    status, code = 409, "conflict"


class ValidationFailed(DomainError):
    status, code = 422, "validation_failed"


class RateLimited(DomainError):
    status, code = 429, "rate_limited"
