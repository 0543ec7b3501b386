"""The provider contract: one call, messages in, a raw answer (or ProviderError) out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Protocol

from autofill.kinds import ErrorCode
from autofill.llm.errors import ProviderError
from autofill.llm.plan import CallPlan
from autofill.llm.providers.headers import wait_for
from autofill.llm.types import LLMRequest, RawAnswer

# Errors that name the account, not the call: no retry can succeed until a person acts.
# OpenAI: 429 with error code/type `insufficient_quota`
# (https://platform.openai.com/docs/guides/error-codes: "You exceeded your current quota").
# Anthropic: 402 `billing_error`, and 429s whose `error.details.error_code` is a spend limit
# (anthropic 2.10.0 src/anthropic/types/shared/enforced_spend_limit_reached_error.py,
# contract_spend_limit_reached_error.py, linked_organization_spend_limit_reached_error.py).
_QUOTA_CODES = {
    "insufficient_quota",
    "billing_error",
    "enforced_spend_limit_reached",
    "contract_spend_limit_reached",
    "linked_organization_spend_limit_reached",
    "linked_organization_billing_unavailable",
}


class Provider(Protocol):
    name: str

    def call(self, request: LLMRequest, model: str, plan: CallPlan, timeout: float) -> RawAnswer:
        """One HTTP call with no retry of its own (retries live in autofill.llm.retry)."""
        ...


@contextmanager
def sdk_errors(sdk: ModuleType, provider: str, timeout: float) -> Iterator[None]:
    """Turn an official SDK's exceptions into ProviderError. The OpenAI and Anthropic SDKs are
    generated from one template and name their exceptions alike, so ``sdk`` is either module."""
    try:
        yield
    except sdk.APIStatusError as exc:
        headers = {k.lower(): v for k, v in exc.response.headers.items()}
        detail, codes = _detail(exc)
        if codes & _QUOTA_CODES or exc.status_code == 402:
            raise ProviderError(
                f"{provider} refused the call because of the account, not the request "
                f"(HTTP {exc.status_code}, {', '.join(sorted(codes)) or 'billing'}): {detail}. "
                "Add credit or raise the spending limit in the provider's console, then fill "
                "again",
                status=exc.status_code,
                code=ErrorCode.QUOTA_EXHAUSTED,
            ) from None
        raise ProviderError.from_status(
            provider, exc.status_code, detail, wait_for(headers, exc.status_code)
        ) from None
    except sdk.APITimeoutError:
        raise ProviderError(
            f"{provider} did not answer within {timeout:.0f} s", retryable=True
        ) from None
    except sdk.APIConnectionError as exc:
        # The simulator is a separate process: say so where people look (a cell's error).
        hint = (
            " (sim: models need the simulator running: start it with `autofill llm-sim`, or "
            "point AUTOFILL_SIM_URL at one)"
            if provider == "simulator"
            else ""
        )
        raise ProviderError(f"{provider} connection failed: {exc}{hint}", retryable=True) from None
    except (ValueError, sdk.APIResponseValidationError) as exc:
        # A truncated or garbled body: the provider's fault, worth another try.
        raise ProviderError(
            f"{provider} sent a malformed response: {exc}", retryable=True
        ) from None


def _detail(exc: Any) -> tuple[str, set[str]]:
    """The error's message, and every code it names (OpenAI ``type``/``code``; Anthropic
    ``type`` and ``details.error_code``)."""
    body = exc.body
    codes: set[str] = set()
    message = str(exc.message)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            for key in ("type", "code"):
                if isinstance(error.get(key), str):
                    codes.add(error[key])
            details = error.get("details")
            if isinstance(details, dict) and isinstance(details.get("error_code"), str):
                codes.add(details["error_code"])
            if error.get("message"):
                message = str(error["message"])
    return message, codes
