"""Error answers in each provider's own shape, status and wording.

OpenAI: ``{"error": {"message", "type", "param", "code"}}``, all four present (OpenAPI document
``ErrorResponse``/``Error``, openai/openai-openapi openapi.json 2.3.0); types and codes as listed
at https://platform.openai.com/docs/guides/error-codes (401 ``invalid_api_key``, 429
``rate_limit_exceeded`` with type ``requests``/``tokens``, 429 ``insufficient_quota``, 500
``server_error``, 503 overloaded, 400 ``invalid_request_error``).

Anthropic: ``{"type": "error", "error": {"type", "message"[, "details"]}, "request_id"}``
(anthropic 2.10.0 ``types/shared/error_response.py``, ``error_type.py``); statuses at
https://platform.claude.com/docs/en/api/errors (400 invalid_request_error, 401
authentication_error, 402 billing_error, 404 not_found_error, 429 rate_limit_error, 500
api_error, 529 overloaded_error), spend limits as 429 with ``details.error_code``
(``types/shared/enforced_spend_limit_reached_error.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SimError:
    status: int
    type: str
    message: str
    param: str | None = None
    code: str | None = None
    details: dict[str, Any] | None = None  # Anthropic's error.details
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, protocol: str, request_id: str) -> dict[str, Any]:
        if protocol == "openai":
            return {
                "error": {
                    "message": self.message,
                    "type": self.type,
                    "param": self.param,
                    "code": self.code,
                }
            }
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"type": "error", "error": error, "request_id": request_id}


def invalid(message: str, param: str | None = None, code: str | None = None) -> SimError:
    return SimError(400, "invalid_request_error", message, param=param, code=code)


def by_status(protocol: str, status: int, model: str, sent_key: str) -> SimError:
    """The error a fault of this status stands for, as the provider words it."""
    if protocol == "openai":
        openai = {
            400: SimError(400, "invalid_request_error", "simulated 400: the request was refused"),
            401: SimError(
                401,
                "invalid_request_error",
                # As the real one does: the key that was sent, quoted back.
                f"Incorrect API key provided: {sent_key}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            ),
            408: SimError(408, "server_error", "simulated 408: request timed out"),
            409: SimError(409, "server_error", "simulated 409: conflict, try again"),
            500: SimError(
                500,
                "server_error",
                "The server had an error while processing your request. Sorry about that!",
            ),
            503: SimError(
                503, "server_error", "The engine is currently overloaded, please try again later."
            ),
        }
        return openai.get(status, SimError(status, "server_error", f"simulated {status}"))
    anthropic = {
        400: SimError(400, "invalid_request_error", "simulated 400: the request was refused"),
        401: SimError(
            401, "authentication_error", f"invalid x-api-key (simulated 401, sent {sent_key})"
        ),
        408: SimError(408, "timeout_error", "simulated 408: request timed out"),
        409: SimError(409, "api_error", "simulated 409: conflict, try again"),
        500: SimError(500, "api_error", "Internal server error"),
        503: SimError(503, "api_error", "simulated 503: service unavailable"),
        529: SimError(529, "overloaded_error", "Overloaded"),
    }
    return anthropic.get(status, SimError(status, "api_error", f"simulated {status}"))


def rate_limited(protocol: str, model: str, kind: str, limit: int, wait_s: float) -> SimError:
    if protocol == "openai":
        unit = "requests per min (RPM)" if kind == "requests" else "tokens per min (TPM)"
        return SimError(
            429,
            kind,
            f"Rate limit reached for {model} in organization org-sim on {unit}: Limit {limit}. "
            f"Please try again in {wait_s:.3f}s.",
            code="rate_limit_exceeded",
        )
    return SimError(
        429,
        "rate_limit_error",
        f"This request would exceed your organization's rate limit of {limit} {kind} per "
        "minute. Please reduce the prompt length or the maximum tokens requested, or try again "
        "later.",
        # Anthropic's 429 says when to come back (platform.claude.com/docs/en/api/rate-limits).
        headers={"retry-after": str(max(1, round(wait_s + 0.499)))},
    )


def out_of_quota(protocol: str) -> SimError:
    if protocol == "openai":
        return SimError(
            429,
            "insufficient_quota",
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
            code="insufficient_quota",
        )
    return SimError(
        429,
        "rate_limit_error",
        "Your organization has reached the monthly usage limit of its API tier.",
        details={"error_code": "enforced_spend_limit_reached"},
    )


def model_missing(protocol: str, model: str) -> SimError:
    if protocol == "openai":
        return SimError(
            404,
            "invalid_request_error",
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )
    return SimError(404, "not_found_error", f"model: {model}")
