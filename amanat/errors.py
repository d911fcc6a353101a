"""One catalogue of errors. The domain raises, the edges (web, CLI) render.

A message here is shown to users and written to logs, so it names the problem (file, line, field,
code) and never carries a record's values.
"""

from __future__ import annotations


class AmanatError(Exception):
    """Base error: a stable machine code, an HTTP status and a message safe to show anyone."""

    code: str = "amanat_error"
    status: int = 400

    def __init__(self, public_message: str, *, code: str | None = None, status: int | None = None,
                 field: str | None = None) -> None:
        super().__init__(public_message)
        self.public_message = public_message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.field = field

    def __str__(self) -> str:
        return self.public_message


class InvalidInput(AmanatError):
    code = "invalid_input"
    status = 422


class NotFound(AmanatError):
    code = "not_found"
    status = 404


class PermissionDenied(AmanatError):
    code = "permission_denied"
    status = 403


class NotAuthenticated(AmanatError):
    code = "not_authenticated"
    status = 401


class Conflict(AmanatError):
    code = "conflict"
    status = 409


class TooManyRequests(AmanatError):
    code = "too_many_requests"
    status = 429

    def __init__(self, public_message: str, *, retry_after: int) -> None:
        super().__init__(public_message)
        self.retry_after = retry_after


class CryptoError(AmanatError):
    """A key is locked or wrong, or a ciphertext failed authentication."""

    code = "crypto_error"
    status = 500


class PayloadTooLarge(AmanatError):
    code = "payload_too_large"
    status = 413
