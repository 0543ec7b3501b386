"""Domain exceptions. Each maps to one HTTP status and one stable ``code`` in the API envelope.

AutofillError
├── InvalidInput          422  a value or definition breaks a rule; ``fields`` names each one
│   └── PayloadTooLarge   413  a field is over its documented size limit
├── NotFound              404  absent, or in another workspace (the two look the same)
├── Conflict              409  valid on its own but clashes with existing data
├── Unauthorized          401  missing, unknown or revoked token
├── Forbidden             403  a cookie-authenticated change without its CSRF token
└── RateLimited           429  the token's request limit is reached; ``retry_after_s`` says when
"""

from __future__ import annotations


class AutofillError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class InvalidInput(AutofillError):
    status = 422
    code = "validation_error"

    @classmethod
    def field(cls, path: str, message: str) -> InvalidInput:
        return cls(message, {path: message})


class PayloadTooLarge(InvalidInput):
    status = 413
    code = "payload_too_large"


class NotFound(AutofillError):
    status = 404
    code = "not_found"


class Conflict(AutofillError):
    status = 409
    code = "conflict"


class Unauthorized(AutofillError):
    status = 401
    code = "unauthorized"


class Forbidden(AutofillError):
    status = 403
    code = "forbidden"


class RateLimited(AutofillError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
